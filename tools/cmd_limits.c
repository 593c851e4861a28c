/*
 * cmd_limits.c - `ushm limits [NAME=VALUE...]`: show the namespace's five
 * limits (the sysctls of an IPC namespace), or set some.  Every setting
 * is checked before any is made, so a bad one changes nothing; the
 * library applies the kernel's rules (ranges, who may write).
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "seg.h"
#include "ushm.h"

static const char *const names[] = {
	"shmmax", "shmall", "shmmni", "shm_rmid_forced", "shm_next_id",
};
#define NLIMITS (sizeof(names) / sizeof(names[0]))

static int lookup(const char *name, size_t len)
{
	for (size_t i = 0; i < NLIMITS; i++)
		if (strlen(names[i]) == len && !strncmp(names[i], name, len))
			return (int)i;
	return -1;
}

/* The range the kernel accepts for limit L (ipc_sysctl.c), checked here
 * only so that no setting is made when a later one is wrong. */
static int in_range(int l, const char *v)
{
	char *end;
	long long x;
	int neg;

	while (isspace((unsigned char)*v))
		v++;
	neg = *v == '-';
	if (!isdigit((unsigned char)v[neg || *v == '+']))
		return 0;
	errno = 0;
	if (l <= 1) {		/* unsigned long, "-0" only as negative */
		(void)strtoull(v + (neg || *v == '+'), &end, 0);
		if (neg && strtoull(v + 1, NULL, 0) != 0)
			return 0;
	} else {
		x = strtoll(v, &end, 0);
		if (l == 2 && (x < 0 || x > 32768))
			return 0;
		if (l == 3 && x != 0 && x != 1)
			return 0;
		if (l == 4 && (x < 0 || x > INT_MAX))
			return 0;
	}
	while (isspace((unsigned char)*end))
		end++;
	return !errno && !*end;
}

static int show(void)
{
	for (size_t i = 0; i < NLIMITS; i++) {
		char buf[64];

		if (ushm_limit_get(names[i], buf, sizeof(buf)) != 0) {
			cmd_warn("%s: %s", names[i], *ushm_strerror() ?
				 ushm_strerror() : strerror(errno));
			return EXIT_NAMESPACE;
		}
		printf("%-16s %s\n", names[i], buf);
	}
	return 0;
}

static int limits_run(int argc, char **argv)
{
	char old[NLIMITS][64];
	int which[64];

	if (argc > 1 + 64) {
		cmd_warn("limits: too many settings");
		return EXIT_USAGE;
	}
	for (int i = 1; i < argc; i++) {
		const char *eq = strchr(argv[i], '=');

		which[i - 1] = eq ? lookup(argv[i], (size_t)(eq - argv[i])) : -1;
		if (!eq) {
			cmd_warn("limits: %s: not NAME=VALUE", argv[i]);
			return EXIT_USAGE;
		}
		if (which[i - 1] < 0) {
			cmd_warn("limits: no limit named %.*s (shmmax, shmall, "
				 "shmmni, shm_rmid_forced, shm_next_id)",
				 (int)(eq - argv[i]), argv[i]);
			return EXIT_USAGE;
		}
		if (!in_range(which[i - 1], eq + 1)) {
			cmd_warn("limits: %s: invalid value (Invalid argument)",
				 argv[i]);
			return EXIT_USAGE;
		}
	}
	if (!seg_ns())
		return EXIT_NAMESPACE;
	if (argc == 1)
		return show();
	for (size_t i = 0; i < NLIMITS; i++)
		if (ushm_limit_get(names[i], old[i], sizeof(old[i])) != 0)
			old[i][0] = '\0';
	for (int i = 1; i < argc; i++) {
		int l = which[i - 1];

		if (ushm_limit_set(names[l], strchr(argv[i], '=') + 1) == 0)
			continue;
		cmd_warn("limits: %s: %s", argv[i], errno == EACCES ?
			 "permission denied (root or the namespace's owner "
			 "only; shm_next_id needs CAP_SYS_ADMIN)" :
			 *ushm_strerror() ? ushm_strerror() : strerror(errno));
		/* Take back what this command already set. */
		for (int k = i - 1; k >= 1; k--)
			if (*old[which[k - 1]])
				ushm_limit_set(names[which[k - 1]],
					       old[which[k - 1]]);
		return errno == EINVAL ? EXIT_USAGE : EXIT_FAIL;
	}
	return 0;
}

USHM_CMD(limits, "limits", "show or set the namespace's limits",
	 "Usage: ushm limits [NAME=VALUE...]\n"
	 "\n"
	 "Without arguments, show the namespace's limits, the counterparts of\n"
	 "an IPC namespace's /proc/sys/kernel files:\n"
	 "  shmmax           largest size of a new segment, in bytes\n"
	 "  shmall           total of all segments, in pages\n"
	 "  shmmni           number of segments (0 to 32768)\n"
	 "  shm_rmid_forced  1: destroy segments nobody is attached to when\n"
	 "                   their creator is gone (setting 1 does it at once)\n"
	 "  shm_next_id      the id of the next segment, -1 for the usual ones\n"
	 "With NAME=VALUE arguments, set them, with the kernel's rules: root or\n"
	 "the namespace's owner only (shm_next_id: CAP_SYS_ADMIN), values in\n"
	 "the kernel's ranges.  Every setting is checked first; if one is\n"
	 "wrong, nothing is changed.\n"
	 "\n"
	 "Exit status: 0 success, 1 not allowed, 2 bad usage (unknown name,\n"
	 "bad value), 3 the namespace cannot be used.\n",
	 limits_run)
