/*
 * An SMB client for the samba broker's tests, on libsmbclient: it uses a binding's login the way
 * an application does, over SMB2/3.
 *
 * Usage: OSB_SMB_USER=... OSB_SMB_PASSWORD=... osb-samba-smb-client COMMAND HOST PORT SHARE FILE [ARG]
 *   put FILE VALUE          write VALUE into FILE (created or truncated)
 *   get FILE                print FILE's content
 *   hold FILE SECONDS MARK  stay connected, writing to FILE every 200 ms; create the local
 *                           file MARK once connected; exit 0 when the server ends the session, 3
 *                           when it still runs after SECONDS
 * Exit 2: the server refused the login or the share; 1: any other failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libsmbclient.h>

static void auth(SMBCCTX *ctx, const char *server, const char *share, char *workgroup, int wglen, char *user,
		 int userlen, char *password, int pwlen)
{
	const char *u = getenv("OSB_SMB_USER"), *p = getenv("OSB_SMB_PASSWORD");

	(void)ctx;
	(void)server;
	(void)share;
	snprintf(workgroup, (size_t)wglen, "WORKGROUP");
	snprintf(user, (size_t)userlen, "%s", u ? u : "");
	snprintf(password, (size_t)pwlen, "%s", p ? p : "");
}

static int failed(const char *what, const char *url)
{
	int e = errno;

	fprintf(stderr, "smb-client: %s %s: %s\n", what, url, strerror(e));
	return e == EACCES || e == EPERM || e == ENOENT || e == ENODEV ? 2 : 1;
}

static int run(int argc, char **argv)
{
	SMBCCTX *ctx;
	SMBCFILE *f;
	char url[4096];

	if (argc < 6) {
		fprintf(stderr, "usage: %s put|get|hold HOST PORT SHARE FILE [ARG...]\n", argv[0]);
		return 1;
	}
	snprintf(url, sizeof url, "smb://%s:%s/%s/%s", argv[2], argv[3], argv[4], argv[5]);
	if (!(ctx = smbc_new_context())) {
		perror("smb-client: smbc_new_context");
		return 1;
	}
	smbc_setFunctionAuthDataWithContext(ctx, auth);
	smbc_setOptionUseKerberos(ctx, 0);
	smbc_setOptionFallbackAfterKerberos(ctx, 1);
	smbc_setTimeout(ctx, 10000);
	if (!smbc_init_context(ctx) || !smbc_setOptionProtocols(ctx, "SMB2_02", "SMB3")) {
		perror("smb-client: smbc_init_context");
		return 1;
	}
	if (strcmp(argv[1], "put") == 0 && argc == 7) {
		size_t n = strlen(argv[6]);
		if (!(f = smbc_getFunctionCreat(ctx)(ctx, url, 0644)) ||
		    smbc_getFunctionWrite(ctx)(ctx, f, argv[6], n) != (ssize_t)n ||
		    smbc_getFunctionClose(ctx)(ctx, f) != 0)
			return failed("write", url);
		return 0;
	}
	if (strcmp(argv[1], "get") == 0 && argc == 6) {
		char buf[65536];
		ssize_t n;
		if (!(f = smbc_getFunctionOpen(ctx)(ctx, url, O_RDONLY, 0)) ||
		    (n = smbc_getFunctionRead(ctx)(ctx, f, buf, sizeof buf)) < 0)
			return failed("read", url);
		fwrite(buf, 1, (size_t)n, stdout);
		smbc_getFunctionClose(ctx)(ctx, f);
		return 0;
	}
	if (strcmp(argv[1], "hold") == 0 && argc == 8) {
		long seconds = atol(argv[6]);
		FILE *mark;
		if (!(f = smbc_getFunctionCreat(ctx)(ctx, url, 0644)))
			return failed("create", url);
		if (!(mark = fopen(argv[7], "w")) || fclose(mark) != 0)
			return failed("mark", argv[7]);
		for (long i = 0; i < seconds * 5; i++) {
			char line[32];
			int n = snprintf(line, sizeof line, "%ld\n", i);
			/* each write is a round trip to the server */
			if (smbc_getFunctionWrite(ctx)(ctx, f, line, (size_t)n) != n) {
				printf("session ended by the server after %ld writes: %s\n", i, strerror(errno));
				return 0;
			}
			usleep(200000);
		}
		fprintf(stderr, "smb-client: the session still runs after %ld s\n", seconds);
		return 3;
	}
	fprintf(stderr, "smb-client: bad command or arguments\n");
	return 1;
}

/* libsmbclient keeps its context's memory to the end: leave without the leak check of a sanitizer build. */
int main(int argc, char **argv)
{
	int rc = run(argc, argv);

	fflush(stdout);
	_exit(rc);
}
