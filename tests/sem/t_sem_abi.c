/*
 * t_sem_abi.c - SEMANTICS-SEM.md section 12: the ABI the suite relies on.
 */
#include "semops.h"

#include <stddef.h>

/* 12.1-12.3 sizes and offsets of semid_ds, sembuf, seminfo; flags. */
TEST(sem_s12_1_3_abi)
{
	CHECK_EQ(sizeof(struct semid_ds), 104);
	CHECK_EQ(offsetof(struct semid_ds, sem_perm), 0);
	CHECK_EQ(sizeof(struct ipc_perm), 48);
	CHECK_EQ(offsetof(struct semid_ds, sem_otime), 48);
	CHECK_EQ(offsetof(struct semid_ds, sem_ctime), 64);
	CHECK_EQ(offsetof(struct semid_ds, sem_nsems), 80);
	CHECK_EQ(sizeof(((struct semid_ds *)0)->sem_nsems), 8);
	CHECK_EQ(sizeof(struct sembuf), 6);
	CHECK_EQ(offsetof(struct sembuf, sem_num), 0);
	CHECK_EQ(offsetof(struct sembuf, sem_op), 2);
	CHECK_EQ(offsetof(struct sembuf, sem_flg), 4);
	CHECK_EQ(SEM_UNDO, 010000);
	CHECK_EQ(IPC_NOWAIT, 04000);
	CHECK_EQ(sizeof(struct seminfo), 40);
	CHECK_EQ(offsetof(struct seminfo, semmap), 0);
	CHECK_EQ(offsetof(struct seminfo, semaem), 36);
	CHECK_EQ(offsetof(struct seminfo, semusz), 28);
	CHECK_EQ(GETPID, 11);
	CHECK_EQ(SEM_STAT_ANY, 20);
}
