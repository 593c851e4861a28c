/*
 * crashpoint.c - the test hook behind CRASH_POINT() (internal.h).
 *
 * A crash test arms it with ushm__crash_arm(NAME, N): the Nth time this
 * process passes the crash point NAME (or any point, for NAME "*") it
 * kills itself with SIGKILL, as a crash would, wherever it is: holding
 * the registry lock, with hdr->gen odd, between two stores.  With N = 0
 * it only counts the points passed (ushm__crash_count), so a test can
 * enumerate the steps of an operation and then crash at each one.
 */
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

static char armed[64];
static long countdown;
static long passed;

void ushm__crash_arm(const char *name, long n)
{
	strncpy(armed, name ? name : "", sizeof(armed) - 1);
	countdown = n;
	passed = 0;
}

long ushm__crash_count(void)
{
	return passed;
}

void ushm__crash_point(const char *name)
{
	if (!armed[0] || (strcmp(armed, "*") && strcmp(armed, name)))
		return;
	passed++;
	if (countdown > 0 && --countdown == 0)
		kill(getpid(), SIGKILL);
}
