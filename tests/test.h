/*
 * test.h - the ushm test framework.
 *
 * A test is a function declared with TEST(name); the runner (runner.c)
 * forks a child for each, with a time limit, and counts it passed when the
 * child exits 0.  A failed CHECK prints where and why and exits 1, so one
 * test stops at its first failure and never disturbs the next one.
 *
 * Tests leave nothing behind: use test_namespace() for a fresh ushm
 * namespace (removed by the runner when the test ends, whatever happens)
 * and test_kernel_ns() to run in a private kernel IPC namespace.
 */
#ifndef USHM_TEST_H
#define USHM_TEST_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

struct test_case {
	const char *name;
	void (*fn)(void);
	int timeout;		/* seconds */
	struct test_case *next;
};

void test_register(struct test_case *tc);

#define TEST_T(name_, secs_)                                               \
	static void test_##name_(void);                                    \
	static struct test_case tc_##name_ = { #name_, test_##name_,       \
					       (secs_), NULL };            \
	__attribute__((constructor)) static void reg_##name_(void)         \
	{                                                                  \
		test_register(&tc_##name_);                                \
	}                                                                  \
	static void test_##name_(void)

#define TEST(name_) TEST_T(name_, 60)

void test_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 3, 4)));

#define CHECK(cond)                                                        \
	do {                                                               \
		if (!(cond))                                               \
			test_fail(__FILE__, __LINE__, "CHECK(%s) failed "  \
				  "(errno %d %s)", #cond, errno,           \
				  strerror(errno));                        \
	} while (0)

#define CHECK_EQ(a, b)                                                     \
	do {                                                               \
		long long a_ = (long long)(a), b_ = (long long)(b);        \
		if (a_ != b_)                                              \
			test_fail(__FILE__, __LINE__,                      \
				  "%s == %s failed: %lld != %lld", #a, #b, \
				  a_, b_);                                 \
	} while (0)

/* CHECK_ERR(call, err): the call returns -1 (or MAP_FAILED-like (void*)-1)
 * and sets errno to err. */
#define CHECK_ERR(call, err)                                               \
	do {                                                               \
		errno = 0;                                                 \
		long long r_ = (long long)(intptr_t)(call);                \
		int e_ = errno;                                            \
		if (r_ != -1 || e_ != (err))                               \
			test_fail(__FILE__, __LINE__,                      \
				  "%s: want -1/%s, got %lld/%s", #call,    \
				  strerrorname_np(err), r_,                \
				  e_ ? strerrorname_np(e_) : "0");         \
	} while (0)

/* A fresh, empty ushm namespace directory, selected with
 * ushm_namespace_set().  SHARED makes it sticky and world-writable (for
 * tests that drop to nobody).  Removed by the runner after the test.
 * Returns its path. */
const char *test_namespace(int shared);

/* This test's scratch directory, where test_namespace() makes them
 * (removed by the runner after the test). */
const char *test_scratch(void);

/* Move this process into a new, private kernel IPC namespace
 * (unshare(CLONE_NEWIPC)); fails the test if that is impossible. */
void test_kernel_ns(void);

/* Fork a child that runs FN(ARG) and return its exit status as
 * waitpid() reports it. */
int test_in_child(void (*fn)(void *), void *arg);

/* Drop this process to nobody (uid/gid 65534, no supplementary groups). */
void test_become_nobody(void);

#endif
