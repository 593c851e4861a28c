/*
 * subreaper.c - run a command as a child subreaper, so that the daemons
 * it starts (a PostgreSQL postmaster, whose starter exits) are reaped as
 * soon as they die.  Otherwise a killed postmaster can stay a zombie for
 * as long as the machine's init takes to reap it, and PostgreSQL, which
 * tests its old postmaster with kill(pid, 0), refuses to start again.
 *
 *   subreaper CMD [ARG...]
 *
 * Exits with CMD's status once CMD has exited and its orphans too (at
 * most 30 s after CMD).
 */
#include <errno.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int st, rc = 127;
	pid_t cmd, p;
	time_t until = 0;

	if (argc < 2 || prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
		fprintf(stderr, "usage: subreaper CMD [ARG...]\n");
		return 2;
	}
	cmd = fork();
	if (cmd == 0) {
		execvp(argv[1], argv + 1);
		perror(argv[1]);
		_exit(127);
	}
	if (cmd < 0)
		return 2;
	for (;;) {
		p = waitpid(-1, &st, until ? WNOHANG : 0);
		if (p < 0 && errno == EINTR)
			continue;
		if (p < 0)
			break;		/* no children left */
		if (p == cmd) {
			rc = WIFEXITED(st) ? WEXITSTATUS(st)
					   : 128 + WTERMSIG(st);
			until = time(NULL) + 30;
		}
		if (p == 0) {
			if (time(NULL) >= until)
				break;
			usleep(20000);
		}
	}
	return rc;
}
