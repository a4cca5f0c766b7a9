/* The osb command-line client: what every verb shares (exit codes, the run's settings, the verbs). */
#ifndef OSB_CLI_H
#define OSB_CLI_H

#include <signal.h>
#include <cjson/cJSON.h>

/* Exit codes (docs/cli.md lists them; scripts rely on them: never renumber). */
enum {
	CLI_OK = 0,           /* done */
	CLI_FAILED = 1,       /* the broker refused the request, or the operation failed */
	CLI_USAGE = 2,        /* bad command line */
	CLI_NOT_FOUND = 3,    /* no such service, plan, instance, binding or broker */
	CLI_PARAMS = 4,       /* parameters do not match the plan's schema: nothing was sent */
	CLI_UNREACHABLE = 5,  /* a broker cannot be reached, or its answer is not the OSB API */
	CLI_LOCAL = 6,        /* the local configuration or state cannot be read or written */
	CLI_INTERRUPTED = 130 /* Ctrl-C while waiting: the operation goes on at the broker */
};

/* One run of the tool. */
typedef struct {
	int json;         /* --json: one JSON document on stdout, whatever happens */
	int wait;         /* wait for asynchronous operations (--no-wait clears it) */
	const char *prog; /* argv[0] for messages */
	const char *verb; /* the verb being run, for messages */
} cli;

/* Set by SIGINT/SIGTERM: stop waiting, never the broker's operation. */
extern volatile sig_atomic_t cli_interrupted;

/* The verbs (cmd_*.c): argc/argv start at the verb's first argument. Each returns an exit code. */
int cmd_marketplace(cli *c, int argc, char **argv);
int cmd_services(cli *c, int argc, char **argv);
int cmd_service(cli *c, int argc, char **argv);
int cmd_create_service(cli *c, int argc, char **argv);
int cmd_update_service(cli *c, int argc, char **argv);
int cmd_delete_service(cli *c, int argc, char **argv);
int cmd_bind_service(cli *c, int argc, char **argv);
int cmd_unbind_service(cli *c, int argc, char **argv);
int cmd_brokers(cli *c, int argc, char **argv);
int cmd_register_broker(cli *c, int argc, char **argv);
int cmd_unregister_broker(cli *c, int argc, char **argv);

/* help.c: `osb help [VERB]`; the usage line of a verb for error messages. */
int cmd_help(cli *c, int argc, char **argv);
const char *cli_usage_line(const char *verb);

/* A name the user gives an instance, binding or broker: 1 to 64 of [A-Za-z0-9._-]. */
int cli_valid_name(const char *name);

#endif
