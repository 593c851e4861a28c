/*
 * shm_reader.c - prints each line the writer puts into the shared
 * segment, and removes the segment after "end".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shm_common.h"

int main(void)
{
	struct shared_use_st *shared;
	int running = 1;
	int shmid;

	shmid = shmget(DEMO_KEY, sizeof(struct shared_use_st),
		       0666 | IPC_CREAT);
	if (shmid == -1) {
		perror("shmget");
		return EXIT_FAILURE;
	}
	shared = shmat(shmid, NULL, 0);
	if (shared == (void *)-1) {
		perror("shmat");
		return EXIT_FAILURE;
	}
	printf("Memory attached at %p\n", (void *)shared);
	while (running) {
		if (__atomic_load_n(&shared->written_by_you,
				    __ATOMIC_ACQUIRE)) {
			printf("You wrote: %s", shared->some_text);
			fflush(stdout);
			if (strncmp(shared->some_text, "end", 3) == 0)
				running = 0;
			__atomic_store_n(&shared->written_by_you, 0,
					 __ATOMIC_RELEASE);
		} else {
			usleep(20000);
		}
	}
	if (shmdt(shared) == -1) {
		perror("shmdt");
		return EXIT_FAILURE;
	}
	if (shmctl(shmid, IPC_RMID, NULL) == -1) {
		perror("shmctl(IPC_RMID)");
		return EXIT_FAILURE;
	}
	return EXIT_SUCCESS;
}
