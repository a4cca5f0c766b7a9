/* Private: the deployer's life cycle (called by the core), its layout and helpers shared by its files, and the spawn helpers of exec.c. */
#ifndef OSB_DEPLOYER_INTERNAL_H
#define OSB_DEPLOYER_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <sys/types.h>

#include "osb/names.h"

#include "deployer.h"

typedef struct {
	const char *base_dir; /* where instance directories live (made on first use, 0700) */
	int port_first;       /* first port of the range, 1024..65535 */
	int port_last;        /* last port, >= port_first */
	const char *host;     /* address drivers write into credentials, NULL = 127.0.0.1 */
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

/* ---- shared by the deployer's files ---- */

#define RECORD "deployment.json"
#define RECORD_TMP "deployment.json.tmp"
#define SERVER_LOG "server.log"
#define DEFAULT_START_TIMEOUT_MS 30000
#define STOP_GRACE_MS 10000
#define KILL_WAIT_MS 5000
#define POLL_MS 50
#define REAP_INTERVAL_MS 500
#define MAX_ARGS 256
#define MAX_ARG_BYTES 8192
#define MAX_RECORD_BYTES (512 * 1024)

/* One per instance with a call in progress: serializes calls on that instance. */
struct slot {
	char name[OSB_NAME_SIZE];
	pthread_mutex_t lock;
	int users; /* threads holding or waiting for lock */
	struct slot *next;
};

/* A server we started: only these pids are ever waited for (exec.c waits for its own). */
struct child {
	pid_t pid;
	int reaped; /* waitpid returned it */
	int status; /* its wait status, -1 when unknown */
};

struct osb_deployer {
	char *base_dir;
	char *host;
	int port_first;
	int port_last;
	pthread_mutex_t lock; /* slots, children, and port allocation with its record write */
	pthread_cond_t wake;  /* wakes the reaper to stop */
	struct slot *slots;
	struct child *children;
	size_t child_count;
	size_t child_cap;
	int stopping;
	pthread_t reaper;
};

/* The content of deployment.json. */
typedef struct {
	char kind[32];
	int port;
	int pid;                       /* 0 when not started */
	unsigned long long proc_start; /* /proc/<pid>/stat start time: tells a reused pid apart */
	char *exe;                     /* resolved program */
	char **argv;                   /* after substitution, NULL-terminated */
	char **env;                    /* the spec's extra entries, NULL-terminated */
	int stop_signal;
	int start_timeout_ms;
	int prepared;         /* prepare() succeeded for this port */
	char state[16];       /* starting, running, failed */
	long long started_at; /* unix time of the last start */
	char *error;          /* why the last start failed */
} record;

/* ---- records (deployer_record.c): deployment.json, written atomically ---- */
void osb_deployer__free_strv(char **v);
void osb_deployer__record_free(record *r);
void osb_deployer__set_error(record *r, const char *why);
/* The base directory (made with create), and an instance's directory under it, never through a symlink. */
int osb_deployer__open_base(const osb_deployer *d, int create);
int osb_deployer__open_instance(int basefd, const char *name, int create);
/* @return 0, or OSB_ERROR / OSB_ENOMEM (logged). */
int osb_deployer__record_write(int dirfd, const char *name, const record *r);
/* @return 0, OSB_ENOTFOUND (no record) or OSB_ERROR (unreadable: logged). */
int osb_deployer__record_read(int dirfd, const char *name, record *r);
/* The last lines of server.log on one line, for the failure log. */
void osb_deployer__log_tail(int dirfd, char *out, size_t size);

/* ---- processes (deployer_process.c): start, watch, reap, stop ---- */
void osb_deployer__sleep_ms(int ms);
void osb_deployer__reap_locked(osb_deployer *d);
void osb_deployer__child_add(osb_deployer *d, pid_t pid);
int osb_deployer__child_forget(osb_deployer *d, pid_t pid);
void *osb_deployer__reaper_main(void *arg);
int osb_deployer__proc_stat(int pid, char *state, int *ppid, int *sid, unsigned long long *start);
int osb_deployer__pid_alive(osb_deployer *d, int pid, unsigned long long start);
int osb_deployer__rec_running(osb_deployer *d, const record *r);
void osb_deployer__reap_orphan(const record *r);
int osb_deployer__wait_gone(osb_deployer *d, int pid, unsigned long long start, int ms);
int osb_deployer__stop_process(osb_deployer *d, int pid, unsigned long long start, int sig);
void osb_deployer__kill_strays(osb_deployer *d, const char *dirpath, const char *argv0, int known_pid);
char **osb_deployer__substitute_strv(const char *const *v, int port, const char *dir);
int osb_deployer__start_server(osb_deployer *d, int dirfd, const char *dirpath, const char *name, record *r);
int osb_deployer__wait_ready(osb_deployer *d, const record *r, const char *dirpath, const osb_process_spec *spec,
			     char *why, size_t why_size);
void osb_deployer__fail_start(osb_deployer *d, int dirfd, const char *name, record *r, const char *why);

/* ---- ports (deployer_ports.c) ---- */
int osb_deployer__port_bindable_within(int port, int ms);
/* Caller holds d->lock and writes its record before releasing it. @return a port, or 0 when the range is full. */
int osb_deployer__allocate_port(osb_deployer *d, int basefd, const char *self, int prefer);

/*
 * Shared with the deployer (implemented in exec.c).
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
int osb_exec__spawn(pid_t *pid, const char *path, char *const argv[], char *const envp[], const char *cwd, int fd_in,
		    int fd_out, int fd_err, int new_session);

#endif
