/*
 * format.h - the small formatting helpers that ipcs, lsipc and the other
 * views share, written to give byte for byte what util-linux 2.38.1
 * prints (ipcutils.c, strutils.c, timeutils.c).
 */
#ifndef USHM_TOOL_FORMAT_H
#define USHM_TOOL_FORMAT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The user or group name, or NULL when there is no such entry. */
const char *fmt_user(uid_t uid);
const char *fmt_group(gid_t gid);

/* util-linux size_to_human_string(SIZE_SUFFIX_1LETTER): "1000B", "64K",
 * "12.1K", "5G", "16E". */
void fmt_human(char *buf, size_t len, uint64_t bytes);

/* "rw-r--r--" from the 0777 bits (xstrmode without the type letter). */
void fmt_perms(char *buf, unsigned mode);

/* "dest", "locked", "dest,locked" or "" from the full mode. */
void fmt_status(char *buf, size_t len, unsigned mode);

enum fmt_time { TIME_SHORT, TIME_FULL, TIME_ISO };

/* lsipc's make_time(): short ("23:45" today, "Nov21" this year,
 * "2025-Nov21" before), full (asctime) or iso (2026-11-21T23:45:16+00:00),
 * in local time. */
void fmt_time(char *buf, size_t len, int64_t t, enum fmt_time how);

/* /proc/PID/cmdline with its NULs as spaces (lsipc's pid_get_cmdline),
 * or NULL if the process is gone or has none. Free the result. */
char *fmt_cmdline(pid_t pid);

/* /proc/PID/comm without its newline, or "" if the process is gone. */
void fmt_comm(char *buf, size_t len, pid_t pid);

/* parse_size() of util-linux: a number with an optional K, M, G, T, P, E
 * suffix (KiB = K = 1024, KB = 1000), as ipcmk -M accepts it.  Returns 0,
 * or -1 with errno (EINVAL malformed, ERANGE too large). */
int fmt_parse_size(const char *s, uint64_t *out);

/* A whole number for an id or a key, as util-linux's strtos32_or_err and
 * strtoul(s, NULL, 0) read them.  Return 0 or -1 (with errno). */
int fmt_parse_int(const char *s, int *out);

#endif
