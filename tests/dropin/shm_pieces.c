/*
 * shm_pieces.c - nattch counts mapping pieces, as the kernel's VMAs
 * (SEMANTICS 4.6, 4.7, 6.1).  Prints "step nattch" after each partial
 * munmap, mprotect, mremap and fork; dropin_basic.sh runs it on the
 * kernel (in a private IPC namespace) and under the shim and compares.
 *
 *   shm_pieces          the steps
 *   shm_pieces maps KEY attach a segment made with KEY, print its
 *                       /proc/self/maps line and its id, detach, remove
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

#define PG 4096

static int id;

static void show(const char *step)
{
	struct shmid_ds ds;

	if (shmctl(id, IPC_STAT, &ds) < 0) {
		printf("%s stat-errno=%d\n", step, errno);
		return;
	}
	printf("%s %lu\n", step, (unsigned long)ds.shm_nattch);
}

static char *attach(void)
{
	char *p = shmat(id, NULL, 0);

	if (p == (void *)-1) {
		perror("shmat");
		exit(1);
	}
	return p;
}

static void detach(const char *step, char *p)
{
	int r = shmdt(p);

	printf("%s shmdt=%d", step, r < 0 ? -errno : r);
	fflush(stdout);
	show("");
}

static int maps(const char *keytext)
{
	key_t key = (key_t)strtol(keytext, NULL, 0);
	char line[512], start[32];
	FILE *f;
	char *p;

	id = shmget(key, 3 * PG, IPC_CREAT | IPC_EXCL | 0600);
	if (id < 0) {
		perror("shmget");
		return 1;
	}
	p = attach();
	snprintf(start, sizeof(start), "%lx-", (unsigned long)p);
	f = fopen("/proc/self/maps", "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, start, strlen(start)))
			fputs(line, stdout);
	if (f)
		fclose(f);
	printf("id=%d\n", id);
	shmdt(p);
	shmctl(id, IPC_RMID, NULL);
	return 0;
}

int main(int argc, char **argv)
{
	char *p, *q;
	pid_t pid;
	int pfd[2], st;

	if (argc == 3 && !strcmp(argv[1], "maps"))
		return maps(argv[2]);
	id = shmget(IPC_PRIVATE, 4 * PG, IPC_CREAT | 0600);
	if (id < 0) {
		perror("shmget");
		return 1;
	}
	p = attach();
	show("attached");
	munmap(p + PG, PG);
	show("munmap-middle");
	detach("detach-split", p);

	p = attach();
	munmap(p + 3 * PG, PG);
	show("munmap-tail");
	detach("detach-tail", p);

	p = attach();
	munmap(p, PG);
	show("munmap-head");
	detach("detach-by-original-addr", p);

	p = attach();
	mprotect(p + PG, PG, PROT_READ);
	show("mprotect-middle");
	mprotect(p + PG, PG, PROT_READ | PROT_WRITE);
	show("mprotect-restored");
	detach("detach-mprotected", p);

	p = attach();
	q = mmap(NULL, 4 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	q = mremap(p, 4 * PG, 4 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, q);
	show("mremap-moved");
	detach("detach-old-addr", p);
	detach("detach-new-addr", q);

	p = attach();
	q = mremap(p, 0, 4 * PG, MREMAP_MAYMOVE);
	show("mremap-copy");
	detach("detach-copy", q);
	detach("detach-orig", p);

	p = attach();
	if (pipe(pfd) < 0)
		return 1;
	pid = fork();
	if (pid == 0) {
		/* Hold the inherited attachment until the parent has looked. */
		char c;

		close(pfd[1]);
		_exit(read(pfd[0], &c, 1) < 0);
	}
	close(pfd[0]);
	show("fork-child-alive");
	close(pfd[1]);
	waitpid(pid, &st, 0);
	show("fork-child-exited");
	detach("detach-parent", p);
	shmctl(id, IPC_RMID, NULL);
	show("removed");
	return 0;
}
