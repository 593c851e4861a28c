/*
 * main.c - ushm-crash: shows (or refutes) that a process killed at any
 * instant of any ushm call costs the other processes nothing.
 *
 *   ushm-crash points [NAME...]       die at each crash point of each
 *                                     operation (those whose names
 *                                     contain a NAME); see points.c
 *   ushm-crash torture N              random SIGKILLs until N kills
 *   ushm-crash torture --seconds S    ... for S seconds; see torture.c
 *   ushm-crash waiters [--seconds S]  no one waits forever on a free
 *                                     registry lock; see waiters.c
 *
 * Each prints TAP-like lines and ends with "N passed, N failed"; torture
 * also prints "kills: N, recoveries: R, violations: V".  Exit status 0
 * only if nothing was wrong.
 */
#include <stdio.h>
#include <string.h>

#include "crash.h"

static int usage(void)
{
	fprintf(stderr, "usage: ushm-crash points [NAME...]\n"
			"       ushm-crash torture N | --seconds S "
			"[--workers W] [--seed X]\n"
			"       ushm-crash waiters [--seconds S]\n");
	return 2;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2)
		return usage();
	if (!strcmp(argv[1], "points"))
		return cmd_points(argc - 1, argv + 1);
	if (!strcmp(argv[1], "torture"))
		return cmd_torture(argc - 1, argv + 1);
	if (!strcmp(argv[1], "waiters"))
		return cmd_waiters(argc - 1, argv + 1);
	return usage();
}
