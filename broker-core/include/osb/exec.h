/**
 * @file exec.h  Run a program safely: an argv array, no shell, bounded output, a timeout.
 *
 * For drivers that must call a server's own tools (an install-db script, an
 * admin client). Arguments go to the program as they are: nothing is
 * interpreted by a shell, so request text can never become a command. The
 * broker's environment (which may hold secrets) is not passed on.
 */
#ifndef OSB_EXEC_H
#define OSB_EXEC_H

#include "common.h"

/** What to run. Every pointer is borrowed for the call. */
typedef struct {
	/** Program and arguments, NULL-terminated. A program without '/' is looked up in PATH (and the sbin directories). */
	const char *const *argv;
	/** The whole environment, "NAME=value" entries, NULL-terminated; NULL gives PATH (the broker's) and LC_ALL=C only. */
	const char *const *env;
	/** Working directory of the program, or NULL to keep the broker's. */
	const char *cwd;
	/** Bytes written to the program's stdin, which is then closed; NULL means stdin is /dev/null. */
	const char *input;
	/** Length of input. */
	size_t input_len;
	/** After this many ms the program (and its process group) gets SIGTERM, then SIGKILL 2 s later; 0 means 30000. */
	int timeout_ms;
	/** Most bytes kept of stdout and of stderr each; the rest is read and dropped; 0 means 65536. */
	size_t max_output;
} osb_exec_options;

/** What a run produced. Owned by the caller: release with osb_exec_result_free(). */
typedef struct {
	/** Captured stdout, NUL-terminated (NULL only when memory ran out). */
	char *out;
	/** Bytes in out. */
	size_t out_len;
	/** Captured stderr, NUL-terminated (NULL only when memory ran out). */
	char *err;
	/** Bytes in err. */
	size_t err_len;
	/** 1 when stdout or stderr was longer than max_output and was cut. */
	int truncated;
	/** The signal that ended the program, or 0 when it exited. */
	int signal;
	/** 1 when the timeout passed and the program was killed. */
	int timed_out;
	/** errno of a failed start (program not found, not executable...), else 0. */
	int start_errno;
} osb_exec_result;

/**
 * Run a program and wait for it (at most timeout_ms plus the 2 s grace).
 * @param[out] result  optional; filled on every return, free it with osb_exec_result_free().
 * @return the exit status (0 to 255), or OSB_ETIMEOUT (killed after the timeout),
 *         OSB_EBACKEND (ended by a signal), OSB_ENOTFOUND (the program cannot be
 *         executed), OSB_ENOMEM, or OSB_ERROR (bad options, no processes left).
 */
OSB_EXTERN(int) osb_exec(osb_exec_result *result, const osb_exec_options *options);

/** Free the captured output of a result and zero it; NULL is fine. */
OSB_EXTERN(void) osb_exec_result_free(osb_exec_result *result);

#endif
