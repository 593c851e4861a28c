/*
 * shm_common.h - what the demo's writer and reader share.
 *
 * The two programs are the classic SysV shared memory pair and use only
 * <sys/shm.h>.  Built with -DUSE_USHM, they call libushm directly (the
 * four calls are renamed below); built plainly, they run on the kernel,
 * or on ushm under the drop-in shim (`ushm run -- ./shm_writer`).
 */
#ifndef SHM_COMMON_H
#define SHM_COMMON_H

#include <sys/ipc.h>
#include <sys/shm.h>

#ifdef USE_USHM
#include "ushm.h"
#define shmget ushm_shmget
#define shmat ushm_shmat
#define shmdt ushm_shmdt
#define shmctl ushm_shmctl
#endif

#define DEMO_KEY ((key_t)1234)
#define TEXT_SZ 2048

struct shared_use_st {
	int written_by_you;	/* 1: a line waits for the reader */
	char some_text[TEXT_SZ];
};

#endif
