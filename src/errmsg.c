/*
 * errmsg.c - one line explaining the last environment failure of this
 * thread (ushm_strerror()).  Kernel-style errors need no message: the
 * errno is the whole answer.
 */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "internal.h"
#include "ushm.h"

static __thread char msg[512];

void ushm__seterr(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
}

void ushm__clearerr(void)
{
	msg[0] = '\0';
}

const char *ushm_strerror(void)
{
	return msg;
}

/* CLOCK_REALTIME in whole seconds, as the kernel's ktime_get_real_seconds();
 * served by the vDSO, no system call. */
/*
 * Now, in seconds, for the objects' times: what the kernel's IPC code
 * stores is ktime_get_real_seconds(), the realtime seconds as of the last
 * tick, which is CLOCK_REALTIME_COARSE (and time(2)).  Cheaper too: no
 * clock read, where CLOCK_REALTIME was a fifth of an uncontended semop.
 */
int64_t ushm__now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME_COARSE, &t);
	return t.tv_sec;
}
