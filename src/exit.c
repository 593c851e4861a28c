/*
 * exit.c - a process's own end: its attachments are detached in the
 * registry as it ends, in the order processes really end, rather than
 * when somebody later finds it dead (task.c's reaping, which cannot tell
 * in which order two dead processes died).
 *
 * Three ways out run through here:
 *   exit() and a return from main: vma.c's destructor, run after the
 *            program's atexit handlers and (by its priority) after the
 *            other destructors of the object that links the library
 *            (it is in vma.c, which every program using the library
 *            links, so that a static link never leaves it out);
 *   _exit() and _Exit(): the library exports both (as it exports
 *            munmap and the rest, vma.c); the shim has them too, since
 *            it links the library's objects.  They detach, then end the
 *            process with exit_group, which is all the C library's
 *            _exit does.
 * A fatal signal (SIGKILL) leaves the detach to reaping.
 *
 * Not in a vfork child: it shares its parent's memory, so the piece
 * list and the registry lock's bookkeeping are the parent's, and its
 * exit ends none of the parent's mappings (getpid() differs from the
 * pid the library knows: a vfork child runs no atfork handler).  Nor
 * when this thread already holds the registry lock (_exit from a signal
 * handler that interrupted a ushm call): waiting for it would never end,
 * and the state under the lock may be half-changed; reaping does it.
 */
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

#define EXPORT __attribute__((visibility("default")))


void ushm__exit_detach(void)
{
	struct ushm_ns *ns;

	if (!__atomic_load_n(&ushm__p.nlocals, __ATOMIC_ACQUIRE))
		return;
	ns = __atomic_load_n(&ushm__p.ns, __ATOMIC_ACQUIRE);
	/* This thread inside a ushm call (a signal handler's _exit): the
	 * lock is ours.  In the few instructions between taking the mutex
	 * and counting it, the count still says no; ushm__lock then finds
	 * the lock held by no known thread and gives up after two waits
	 * (registry.c), and reaping does the detach. */
	if (!ns || getpid() != ushm__p.pid || ushm__lock_held_here())
		return;
	if (ushm__lock(ns) != 0)
		return;
	ushm__pieces_exit_locked(ns);
	ushm__unlock(ns);
}

EXPORT void _exit(int status)
{
	ushm__exit_detach();
	for (;;)
		ushm__os_raw(SYS_exit_group, status, 0, 0, 0, 0, 0);
}

EXPORT void _Exit(int status) __attribute__((alias("_exit")));
