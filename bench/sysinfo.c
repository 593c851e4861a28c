/*
 * sysinfo.c - the machine and the command, printed above the numbers so
 * that a pasted result says where it came from.
 */
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

/* The value of the first "KEY<spaces>: value" line of /proc/cpuinfo. */
static void cpuinfo(const char *key, char *out, size_t len)
{
	FILE *f = fopen("/proc/cpuinfo", "re");
	char line[512];
	size_t kl = strlen(key);

	snprintf(out, len, "unknown");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (strncmp(line, key, kl) != 0 || !colon)
			continue;
		colon++;
		colon += strspn(colon, " \t");
		colon[strcspn(colon, "\n")] = '\0';
		snprintf(out, len, "%s", colon);
		break;
	}
	fclose(f);
}

/* The selected value of a sysfs "a [b] c" choice file. */
static void sysfs_choice(const char *path, char *out, size_t len)
{
	FILE *f = fopen(path, "re");
	char line[256], *a, *b;

	snprintf(out, len, "?");
	if (!f)
		return;
	if (fgets(line, sizeof(line), f) && (a = strchr(line, '[')) &&
	    (b = strchr(a, ']'))) {
		*b = '\0';
		snprintf(out, len, "%s", a + 1);
	}
	fclose(f);
}

void bench_print_machine(int argc, char **argv)
{
	char model[256], thp[64];
	struct utsname u;
	cpu_set_t set;
	time_t now = time(NULL);
	char when[64];
	int nproc = 0;

	printf("# command:");
	for (int i = 0; i < argc; i++)
		printf(" %s", argv[i]);
	printf("\n");
	if (uname(&u) == 0)
		printf("# kernel:  %s %s (uname -r: %s)\n", u.sysname,
		       u.machine, u.release);
	cpuinfo("model name", model, sizeof(model));
	/* As nproc(1) counts: the CPUs this process may run on. */
	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		nproc = CPU_COUNT(&set);
	printf("# cpu:     %s; nproc %d (online %ld)\n", model, nproc,
	       sysconf(_SC_NPROCESSORS_ONLN));
	sysfs_choice("/sys/kernel/mm/transparent_hugepage/shmem_enabled", thp,
		     sizeof(thp));
	printf("# shmem transparent huge pages: %s\n", thp);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", gmtime(&now));
	printf("# date:    %s\n", when);
}
