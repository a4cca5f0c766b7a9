/* Private: the deployer, which runs the dedicated servers the gateway asks for.
 *
 * The deployer gives an instance its own server on the broker's host: a port
 * from the configured range, a data directory of its own, a configuration the
 * driver renders, a process started without a shell, and a readiness check
 * that speaks the server's protocol. Deployments are recorded on disk under the
 * broker's data directory, so a restarted broker re-adopts the servers that
 * still run and restarts those that died. All functions are idempotent and
 * thread-safe; two calls for the same instance are serialized.
 */
#ifndef OSB_DEPLOYER_H
#define OSB_DEPLOYER_H

#include "osb/common.h"
#include "osb/driver.h"

/** The broker's deployer. Opaque; owned by the core. */
typedef struct osb_deployer osb_deployer;

/**
 * The address dedicated servers are reached at, from the config's
 * `dedicated.host` (default 127.0.0.1): what drivers put in credentials.
 * @return a string owned by the deployer.
 */
const char *osb_deployer_host(const osb_deployer *deployer);

/** How to run one dedicated server. Every pointer is borrowed for the call. */
typedef struct {
	/** Short kind, such as "redis": logs and directory names. */
	const char *kind;
	/**
	 * Program and arguments, NULL-terminated. "{port}" and "{dir}" inside an
	 * argument are replaced by the port and the instance's directory.
	 * The program is exec'd directly (no shell), with stdout/stderr sent to
	 * {dir}/server.log.
	 */
	const char *const *argv;
	/** Extra environment "NAME=value" entries, NULL-terminated, or NULL. */
	const char *const *env;
	/**
	 * Optional. Called once, before the first start, to write configuration
	 * and initialise data in `dir` (it exists and holds only the deployer's
	 * `deployment.json`). Must be idempotent.
	 * @return 0, or an osb_error_code.
	 */
	int (*prepare)(const char *dir, int port, void *payload);
	/**
	 * Required. Whether the server answers its protocol on 127.0.0.1:port
	 * (a PING, a SELECT 1...). Called repeatedly until it returns 0 or the start
	 * timeout passes.
	 * @return 0 when ready.
	 */
	int (*ready)(int port, const char *dir, void *payload);
	/** Passed to prepare and ready. */
	void *payload;
	/** Signal that stops the server cleanly (0 means SIGTERM). */
	int stop_signal;
	/** How long start may take before it is a failure, in ms (0 means 30000). */
	int start_timeout_ms;
} osb_process_spec;

/** Where a dedicated server runs. */
typedef struct {
	/** TCP port on 127.0.0.1 (and on the host's other addresses if the server binds them). */
	int port;
	/** Process id of the server. */
	int pid;
	/** The instance's directory (data, config, log). */
	char dir[512];
	/**
	 * After a failed osb_deployer_ensure(): 1 when a server was prepared or started and failed
	 * (exited, never ready), 0 when none could be tried (no free port, the directory unusable).
	 */
	int start_failed;
} osb_deployment;

/**
 * Make sure the instance's server exists and answers: allocate a port and a
 * directory on first call, prepare, start, wait until ready. When it already
 * runs, return at once; when it is recorded but dead, start it again.
 * @param[out] out  where it runs.
 * @return 0, OSB_EBACKEND (no free port, start failed, never ready: the
 *         reason is in the log), OSB_ETIMEOUT or OSB_ENOMEM.
 */
int osb_deployer_ensure(osb_deployer *deployer, const char *instance_id, const osb_process_spec *spec,
			osb_deployment *out);

/**
 * Stop the instance's server (stop_signal, then SIGKILL after a grace period),
 * delete its directory and release its port. Succeeds when nothing is there.
 * @return 0 or OSB_ERROR.
 */
int osb_deployer_remove(osb_deployer *deployer, const char *instance_id);

/**
 * Where the instance's server runs, without starting anything.
 * @return 0, or OSB_ENOTFOUND when the instance has no deployment.
 */
int osb_deployer_lookup(osb_deployer *deployer, const char *instance_id, osb_deployment *out);

/** Where instance directories live (the config's dedicated.base_dir). */
const char *osb_deployer_base_dir(const osb_deployer *deployer);

/**
 * Call cb with the derived name of every instance directory on disk.
 * @return 0, or OSB_ERROR when the base directory cannot be read (a missing one is empty).
 */
int osb_deployer_list(osb_deployer *deployer, int (*cb)(const char *name, void *payload), void *payload);

/** osb_deployer_remove() of the directory with this derived name (an orphan found by the reconciler). */
int osb_deployer_remove_name(osb_deployer *deployer, const char *name);

#endif
