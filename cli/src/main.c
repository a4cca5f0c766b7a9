/* osb: the command line of the client. Global options, signals, and the verb table. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "broker.h"
#include "cli.h"
#include "osb/common.h"
#include "output.h"

volatile sig_atomic_t cli_interrupted;

static void on_signal(int sig)
{
	(void)sig;
	cli_interrupted = 1;
}

int cli_valid_name(const char *name)
{
	static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	size_t n = strlen(name);
	/* A letter or digit first, so that a name never reads as an option. */
	return n >= 1 && n <= 64 && strchr(alnum, name[0]) &&
	       strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "abcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

typedef int (*verb_fn)(cli *c, int argc, char **argv);

static const struct {
	const char *name;
	verb_fn fn;
} table[] = {
	{ "marketplace", cmd_marketplace },
	{ "services", cmd_services },
	{ "service", cmd_service },
	{ "create-service", cmd_create_service },
	{ "update-service", cmd_update_service },
	{ "delete-service", cmd_delete_service },
	{ "bind-service", cmd_bind_service },
	{ "unbind-service", cmd_unbind_service },
	{ "brokers", cmd_brokers },
	{ "register-broker", cmd_register_broker },
	{ "unregister-broker", cmd_unregister_broker },
	{ "help", cmd_help },
};

int main(int argc, char **argv)
{
	cli c = { 0, 1, "osb", NULL };
	char *args[256];
	int n = 0, help = 0;

	/* --json and --help may come anywhere before "--"; the verbs never see them. */
	for (int i = 1; i < argc && n < 255; i++) {
		if (strcmp(argv[i], "--") == 0) {
			while (i < argc && n < 255)
				args[n++] = argv[i++];
			break;
		}
		if (strcmp(argv[i], "--json") == 0)
			c.json = 1;
		else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			help = 1;
		else if (strcmp(argv[i], "--version") == 0 || strcmp(argv[i], "-V") == 0)
			return printf("osb %s (OSB API 2.%d-2.%d)\n", OSB_VERSION, OSB_API_VERSION_MIN_MINOR,
				      OSB_API_VERSION_MAX_MINOR) > 0
				       ? CLI_OK
				       : CLI_LOCAL;
		else
			args[n++] = argv[i];
	}
	args[n] = NULL;
	if (argc > 255)
		return out_fail(&c, CLI_USAGE, NULL, "too many arguments");
	if (n == 0 || help) {
		char *h[3] = { "help", n ? args[0] : NULL, NULL };
		int rc = cmd_help(&c, n ? 2 : 1, h);
		return n == 0 && rc == CLI_OK ? CLI_USAGE : rc; /* no verb is a usage error, even with the help shown */
	}
	/* Ctrl-C stops a wait, never the broker's operation; no SA_RESTART, so sleeps end at once. */
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	for (size_t i = 0; i < sizeof table / sizeof *table; i++) {
		if (strcmp(table[i].name, args[0]) != 0)
			continue;
		c.verb = table[i].name;
		broker_global_init();
		int rc = table[i].fn(&c, n, args);
		broker_global_cleanup();
		return rc;
	}
	return out_fail(&c, CLI_USAGE, NULL, "no verb %s (osb help lists them)", args[0]);
}
