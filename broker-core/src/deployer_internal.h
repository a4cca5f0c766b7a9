/* Private: life cycle of the deployer (called by the core) and the spawn helpers it shares with exec.c. */
#ifndef OSB_DEPLOYER_INTERNAL_H
#define OSB_DEPLOYER_INTERNAL_H

#include <stddef.h>
#include <sys/types.h>

#include "deployer.h"

typedef struct {
	const char *base_dir;  /* where instance directories live (made on first use, 0700) */
	int port_first;        /* first port of the range, 1024..65535 */
	int port_last;         /* last port, >= port_first */
	const char *host;      /* address drivers write into credentials, NULL = 127.0.0.1 */
} osb_deployer_options;

/**
 * Make a deployer. Touches nothing on disk, so --check-config may call it too.
 * @return 0, OSB_EBADREQUEST (bad options) or OSB_ENOMEM.
 */
int osb_deployer__create(osb_deployer **out, const osb_deployer_options *options);

/** Free a deployer; the servers it runs keep running (a new one re-adopts them). NULL is fine. */
void osb_deployer__free(osb_deployer *deployer);

/**
 * At broker start: adopt the recorded servers that still run, restart those
 * that died (and wait until their port accepts connections). Logs each one.
 * @return 0, or the number of servers that could not be restarted.
 */
int osb_deployer__readopt(osb_deployer *deployer);

/** Address for credentials (the config's dedicated.host). */

/*
 * Shared with deployer.c (implemented in exec.c).
 */

/**
 * Find a program: a name with '/' is taken as it is, others are looked up in
 * PATH and then in the usual bin and sbin directories.
 * @return 0, or OSB_ENOTFOUND (errno set).
 */
int osb_exec__resolve(char *out, size_t out_size, const char *program);

/**
 * The broker's PATH, or a default one when it has none. Never NULL.
 */
const char *osb_exec__path(void);

/**
 * Start a program without a shell: signal mask and dispositions reset, stdin,
 * stdout and stderr from the given descriptors (-1 = /dev/null), every other
 * descriptor closed, in a new session (new_session) or a new process group.
 * @return 0 with *pid set, or an errno value.
 */
int osb_exec__spawn(pid_t *pid, const char *path, char *const argv[], char *const envp[], const char *cwd,
		    int fd_in, int fd_out, int fd_err, int new_session);

#endif
