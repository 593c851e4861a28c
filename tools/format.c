/*
 * format.c - formatting helpers shared by the views (see format.h).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "format.h"

const char *fmt_user(uid_t uid)
{
	struct passwd *pw = getpwuid(uid);

	return pw ? pw->pw_name : NULL;
}

const char *fmt_group(gid_t gid)
{
	struct group *gr = getgrgid(gid);

	return gr ? gr->gr_name : NULL;
}

/* The power of two below which N lies, in steps of 10 (get_exp()). */
static int get_exp(uint64_t n)
{
	int shft;

	for (shft = 10; shft <= 60; shft += 10)
		if (n < (1ULL << shft))
			break;
	return shft - 10;
}

void fmt_human(char *buf, size_t len, uint64_t bytes)
{
	static const char letters[] = "BKMGTPE";
	int exp = get_exp(bytes);
	char c = letters[exp ? exp / 10 : 0];
	uint64_t dec = exp ? bytes / (1ULL << exp) : bytes;
	uint64_t frac = exp ? bytes % (1ULL << exp) : 0;

	if (frac) {
		/* Three digits after the point, then rounded to one. */
		if (frac >= UINT64_MAX / 1000)
			frac = ((frac / 1024) * 1000) / (1ULL << (exp - 10));
		else
			frac = (frac * 1000) / (1ULL << exp);
		frac = ((frac + 50) / 100) * 10;
		if (frac == 100) {
			dec++;
			frac = 0;
		}
	}
	if (frac) {
		int n = snprintf(buf, len, "%d.%02" PRIu64, (int)dec, frac);

		/* "12.10" loses its extraneous zero, as util-linux's does. */
		if (n > 0 && (size_t)n < len && buf[n - 1] == '0')
			n--;
		if (n > 0 && (size_t)n + 1 < len) {
			buf[n] = c;
			buf[n + 1] = '\0';
		}
	} else {
		snprintf(buf, len, "%d%c", (int)dec, c);
	}
}

void fmt_perms(char *buf, unsigned mode)
{
	static const char rwx[] = "rwxrwxrwx";

	for (int i = 0; i < 9; i++)
		buf[i] = (mode & (0400u >> i)) ? rwx[i] : '-';
	buf[9] = '\0';
}

void fmt_status(char *buf, size_t len, unsigned mode)
{
	snprintf(buf, len, "%s%s%s", (mode & 01000) ? "dest" : "",
		 (mode & 01000) && (mode & 02000) ? "," : "",
		 (mode & 02000) ? "locked" : "");
}

void fmt_time(char *buf, size_t len, int64_t t, enum fmt_time how)
{
	time_t tt = (time_t)t, now = time(NULL);
	struct tm tm, tmnow;

	localtime_r(&tt, &tm);
	switch (how) {
	case TIME_FULL: {
		char a[64];
		size_t n;

		asctime_r(&tm, a);
		n = strlen(a);
		if (n && a[n - 1] == '\n')
			a[n - 1] = '\0';
		snprintf(buf, len, "%s", a);
		break;
	}
	case TIME_ISO: {
		long off = tm.tm_gmtoff;
		char sign = off < 0 ? '-' : '+';
		size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);

		if (off < 0)
			off = -off;
		snprintf(buf + n, len - n, "%c%02ld:%02ld", sign, off / 3600,
			 off % 3600 / 60);
		break;
	}
	default:
		/* strtime_short(): the time today, the day this year. */
		localtime_r(&now, &tmnow);
		if (tm.tm_yday == tmnow.tm_yday && tm.tm_year == tmnow.tm_year)
			snprintf(buf, len, "%02d:%02d", tm.tm_hour, tm.tm_min);
		else if (tm.tm_year == tmnow.tm_year)
			strftime(buf, len, "%b%d", &tm);
		else
			strftime(buf, len, "%Y-%b%d", &tm);
		break;
	}
}

char *fmt_cmdline(pid_t pid)
{
	char path[64], *buf;
	size_t cap = 4096, n = 0;
	ssize_t r;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	buf = malloc(cap + 1);
	while (buf && (r = read(fd, buf + n, cap - n)) > 0) {
		n += (size_t)r;
		if (n == cap) {
			char *b = realloc(buf, cap * 2 + 1);

			if (!b) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = b;
			cap *= 2;
		}
	}
	close(fd);
	if (!buf)
		return NULL;
	/* The arguments end with a NUL each: the last one is no space. */
	while (n && buf[n - 1] == '\0')
		n--;
	if (n == 0) {
		free(buf);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	buf[n] = '\0';
	return buf;
}

void fmt_comm(char *buf, size_t len, pid_t pid)
{
	char path[64];
	ssize_t n;
	int fd;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		n = 0;
	buf[n] = '\0';
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
}

int fmt_parse_size(const char *s, uint64_t *out)
{
	static const char suf[] = "KMGTPE", suf2[] = "kmgtpe";
	const char *p, *sp;
	uint64_t x, frac = 0, fdiv = 1, base = 1024, mult = 1;
	char *end;
	int pwr;

	errno = 0;
	if (!s || !*s)
		goto bad;
	for (p = s; isspace((unsigned char)*p); p++)
		;
	if (*p == '-')
		goto bad;
	x = strtoumax(s, &end, 0);
	if (end == s)
		goto bad;
	if (errno == ERANGE)
		return -1;
	if (!*end) {
		*out = x;
		return 0;
	}
	p = end;
	/* A fraction is allowed before a suffix: "1.5G". */
	if (*p == '.') {
		for (p++; isdigit((unsigned char)*p); p++) {
			if (fdiv < 1000000000000ULL) {
				frac = frac * 10 + (uint64_t)(*p - '0');
				fdiv *= 10;
			}
		}
	}
	if (!*p)
		goto bad;
	if (p[1] == 'i' && (p[2] == 'B' || p[2] == 'b') && !p[3])
		base = 1024;
	else if ((p[1] == 'B' || p[1] == 'b') && !p[2])
		base = 1000;
	else if (p[1])
		goto bad;
	sp = strchr(suf, *p);
	if (sp)
		pwr = (int)(sp - suf) + 1;
	else if ((sp = strchr(suf2, *p)))
		pwr = (int)(sp - suf2) + 1;
	else
		goto bad;
	for (int i = 0; i < pwr; i++)
		mult *= base;
	if (x && mult > UINT64_MAX / x) {
		errno = ERANGE;
		return -1;
	}
	*out = x * mult + (frac ? frac * mult / fdiv : 0);
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

int fmt_parse_int(const char *s, int *out)
{
	char *end;
	long long v;

	errno = 0;
	if (!s || !*s) {
		errno = EINVAL;
		return -1;
	}
	v = strtoll(s, &end, 10);
	if (errno == ERANGE || (errno == 0 && (v > INT32_MAX || v < INT32_MIN))) {
		errno = ERANGE;
		return -1;
	}
	if (errno || end == s || *end) {
		errno = EINVAL;
		return -1;
	}
	*out = (int)v;
	return 0;
}
