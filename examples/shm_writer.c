/*
 * shm_writer.c - reads lines from standard input into a shared segment,
 * one at a time, until "end".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shm_common.h"

int main(void)
{
	struct shared_use_st *shared;
	char buffer[BUFSIZ];
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
		/* The reader clears the flag when it has taken the line. */
		while (__atomic_load_n(&shared->written_by_you,
				       __ATOMIC_ACQUIRE) == 1)
			usleep(20000);
		printf("Enter some text: ");
		fflush(stdout);
		if (!fgets(buffer, sizeof(buffer), stdin))
			strcpy(buffer, "end\n");
		snprintf(shared->some_text, TEXT_SZ, "%s", buffer);
		__atomic_store_n(&shared->written_by_you, 1, __ATOMIC_RELEASE);
		if (strncmp(buffer, "end", 3) == 0)
			running = 0;
	}
	putchar('\n');
	if (shmdt(shared) == -1) {
		perror("shmdt");
		return EXIT_FAILURE;
	}
	return EXIT_SUCCESS;
}
