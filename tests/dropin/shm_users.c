/*
 * shm_users.c - segments shared between users, as the permission bits
 * allow.  dropin_basic.sh runs a scenario of these steps as root, nobody
 * and a uid without a name, once on the kernel and once under the shim
 * on a shared namespace, and compares what they print.
 *
 *   shm_users create KEY MODE TEXT   make KEY (4 KiB, octal MODE), write TEXT
 *   shm_users read KEY               attach read-only, print text and owners
 *   shm_users write KEY TEXT         attach read-write, write TEXT
 *   shm_users drop KEY1 KEY2 KEY3    as root: make KEY1 (0600) and KEY2
 *                                    (0644), attached; become nobody; see
 *                                    what is still allowed; make KEY3
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <unistd.h>

static key_t key_arg(const char *s)
{
	return (key_t)strtoul(s, NULL, 0);
}

static int create(key_t key, int mode, const char *text, char **at)
{
	int id = shmget(key, 4096, IPC_CREAT | IPC_EXCL | mode);
	char *p;

	if (id < 0) {
		printf("create %#x: %s\n", (unsigned)key, strerror(errno));
		return -1;
	}
	p = shmat(id, NULL, 0);
	if (p == (void *)-1) {
		printf("create %#x: shmat: %s\n", (unsigned)key,
		       strerror(errno));
		return -1;
	}
	strcpy(p, text);
	if (at)
		*at = p;
	else
		shmdt(p);
	printf("create %#x: ok\n", (unsigned)key);
	return id;
}

static void attach(const char *what, int id, int flg)
{
	char *p = shmat(id, NULL, flg);

	if (p == (void *)-1) {
		printf("%s: %s\n", what, strerror(errno));
		return;
	}
	printf("%s: \"%s\"\n", what, p);
	shmdt(p);
}

static int lookup(key_t key)
{
	int id = shmget(key, 0, 0);

	if (id < 0)
		printf("lookup %#x: %s\n", (unsigned)key, strerror(errno));
	return id;
}

static void owners(int id)
{
	struct shmid_ds ds;

	if (shmctl(id, IPC_STAT, &ds) < 0) {
		printf("  IPC_STAT: %s\n", strerror(errno));
		return;
	}
	printf("  uid=%u gid=%u cuid=%u cgid=%u mode=%o nattch=%lu\n",
	       ds.shm_perm.uid, ds.shm_perm.gid, ds.shm_perm.cuid,
	       ds.shm_perm.cgid, ds.shm_perm.mode,
	       (unsigned long)ds.shm_nattch);
}

static int drop(key_t k1, key_t k2, key_t k3)
{
	char *priv = NULL;
	int id1 = create(k1, 0600, "root-private", &priv);
	int id2 = create(k2, 0644, "root-public", NULL);
	int id3;

	if (id1 < 0 || id2 < 0)
		return 1;
	if (setgroups(0, NULL) || setgid(65534) || setuid(65534)) {
		perror("dropping privileges");
		return 1;
	}
	printf("now uid %u\n", (unsigned)geteuid());
	/* What was attached stays attached, as on the kernel. */
	printf("kept attachment: \"%s\"\n", priv);
	attach("attach own 0600 again", id1, SHM_RDONLY);
	attach("attach 0644 read-only", id2, SHM_RDONLY);
	attach("attach 0644 read-write", id2, 0);
	printf("IPC_RMID of root's: %s\n",
	       shmctl(id1, IPC_RMID, NULL) ? strerror(errno) : "ok");
	owners(id1);
	id3 = create(k3, 0640, "nobody-now", NULL);
	if (id3 >= 0)
		owners(id3);
	return 0;
}

int main(int argc, char **argv)
{
	int id;

	if (argc == 5 && !strcmp(argv[1], "create"))
		return create(key_arg(argv[2]), (int)strtol(argv[3], NULL, 8),
			      argv[4], NULL) < 0;
	if (argc == 3 && !strcmp(argv[1], "read")) {
		if ((id = lookup(key_arg(argv[2]))) < 0)
			return 1;
		attach("read", id, SHM_RDONLY);
		owners(id);
		return 0;
	}
	if (argc == 4 && !strcmp(argv[1], "write")) {
		char *p;

		if ((id = lookup(key_arg(argv[2]))) < 0)
			return 1;
		p = shmat(id, NULL, 0);
		if (p == (void *)-1) {
			printf("write: %s\n", strerror(errno));
			return 1;
		}
		strcpy(p, argv[3]);
		shmdt(p);
		printf("write: ok\n");
		return 0;
	}
	if (argc == 5 && !strcmp(argv[1], "drop"))
		return drop(key_arg(argv[2]), key_arg(argv[3]),
			    key_arg(argv[4]));
	fprintf(stderr, "usage: see shm_users.c\n");
	return 2;
}
