/*
 * sem_exec.c - a plain <sys/sem.h> program: SEM_UNDO kept across exec
 * (S-SEM 7.3), for tests/sh/dropin_sem_programs.sh.
 *
 *   sem_exec execve|execvp   a child takes +1 with SEM_UNDO and execs
 *                            this program again (by that call), which
 *                            reports the value (1: the undo waits) and
 *                            exits; then the parent reports it again
 *                            (0: applied at the new program's exit)
 *   sem_exec report ID       (the exec'd image)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv)
{
	struct sembuf up = { 0, 1, SEM_UNDO };
	char idbuf[32];
	int id, st;
	pid_t pid;

	if (argc == 3 && !strcmp(argv[1], "report")) {
		printf("after exec: %d\n", semctl(atoi(argv[2]), 0, GETVAL));
		return 0;
	}
	if (argc != 2)
		return 2;
	id = semget(IPC_PRIVATE, 1, IPC_CREAT | 0600);
	if (id < 0) {
		perror("semget");
		return 1;
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		char *args[] = { argv[0], "report", idbuf, NULL };

		if (semop(id, &up, 1) < 0)
			_exit(1);
		snprintf(idbuf, sizeof(idbuf), "%d", id);
		if (!strcmp(argv[1], "execve"))
			execve("/proc/self/exe", args, environ);
		else
			execvp(argv[0], args);
		_exit(1);
	}
	waitpid(pid, &st, 0);
	printf("child: %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	printf("after its end: %d\n", semctl(id, 0, GETVAL));
	semctl(id, 0, IPC_RMID);
	return 0;
}
