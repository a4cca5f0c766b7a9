/*
 * osb-bench-fill: fill a broker's SQLite state store with N ready instances, each with
 * one ready binding and the succeeded provision and bind operations, through the
 * core's own store API (so the schema and the credential encryption stay right).
 * Ids: instances bench-i-0000000.., bindings bench-b-0000000.. (binding k of instance k),
 * as osb-bench-http get expects. The records look like what the fake broker writes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <osb.h>

#include "bench_util.h"
#include "store.h"

/* Records per write transaction: large enough to amortise the commit's fsync. */
#define BATCH 5000

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The broker's own key file (data_dir/encryption.key, 64 hex digits): read it, or make it like the broker does. */
static int load_key(const char *data_dir, unsigned char key[32])
{
	char path[4096], hex[80];
	size_t n;
	int fd, i;
	FILE *f;

	snprintf(path, sizeof(path), "%s/encryption.key", data_dir);
	f = fopen(path, "r");
	if (!f) {
		static const char digits[] = "0123456789abcdef";
		FILE *r = fopen("/dev/urandom", "r");

		if (!r || fread(key, 1, 32, r) != 32) {
			fprintf(stderr, "osb-bench-fill: cannot read /dev/urandom\n");
			if (r)
				fclose(r);
			return -1;
		}
		fclose(r);
		for (i = 0; i < 32; i++) {
			hex[2 * i] = digits[key[i] >> 4];
			hex[2 * i + 1] = digits[key[i] & 15];
		}
		hex[64] = '\n';
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
		if (fd < 0 || write(fd, hex, 65) != 65) {
			fprintf(stderr, "osb-bench-fill: cannot write %s: %s\n", path, strerror(errno));
			if (fd >= 0)
				close(fd);
			return -1;
		}
		close(fd);
		return 0;
	}
	n = fread(hex, 1, sizeof(hex) - 1, f);
	fclose(f);
	for (i = 0; i < 32; i++) {
		int hi = (size_t)(2 * i + 1) < n ? hex_value(hex[2 * i]) : -1;
		int lo = (size_t)(2 * i + 1) < n ? hex_value(hex[2 * i + 1]) : -1;

		if (hi < 0 || lo < 0) {
			fprintf(stderr, "osb-bench-fill: %s is not 64 hexadecimal digits\n", path);
			return -1;
		}
		key[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

/* One instance, its binding, and their two operations, as the broker writes them after sync calls. */
static int put_one(osb_store_tx *tx, int k, const char *service, const char *plan, int64_t now)
{
	char iid[32], bid[32], pop[40], bop[40], tenant[OSB_NAME_SIZE], user[OSB_NAME_SIZE];
	char dash[128], istate[64], bstate[64], creds[256], fp1[65], fp2[65], req1[256], req2[256];
	osb_instance_rec inst;
	osb_binding_rec bind;
	osb_operation_rec op;
	int rc;

	snprintf(iid, sizeof(iid), "bench-i-%07d", k);
	snprintf(bid, sizeof(bid), "bench-b-%07d", k);
	snprintf(pop, sizeof(pop), "%016x%016x", 1, k);
	snprintf(bop, sizeof(bop), "%016x%016x", 4, k);
	osb_name_instance(tenant, iid);
	osb_name_binding(user, bid);
	snprintf(dash, sizeof(dash), "https://dashboard.example.test/%s", tenant);
	snprintf(istate, sizeof(istate), "{\"tenant\":\"%s\"}", tenant);
	snprintf(bstate, sizeof(bstate), "{\"user\":\"%s\"}", user);
	/* Fixed filler password: these records are benchmark data, never real credentials. */
	snprintf(creds, sizeof(creds),
		 "{\"username\":\"%s\",\"password\":\"bench%027d\",\"uri\":\"fake://%s:bench%027d@127.0.0.1:1/\"}",
		 user, k, user, k);
	snprintf(fp1, sizeof(fp1), "%064x", k);
	snprintf(fp2, sizeof(fp2), "%063x1", k);
	snprintf(req1, sizeof(req1),
		 "{\"service_id\":\"%s\",\"plan_id\":\"%s\",\"parameters\":{\"size\":1},"
		 "\"request_id\":\"bench-%d\"}",
		 service, plan, k);
	snprintf(req2, sizeof(req2),
		 "{\"service_id\":\"%s\",\"plan_id\":\"%s\",\"parameters\":{},"
		 "\"app_guid\":\"bench-app\",\"request_id\":\"bench-b-%d\"}",
		 service, plan, k);

	memset(&inst, 0, sizeof(inst));
	inst.id = iid;
	inst.service_id = (char *)service;
	inst.plan_id = (char *)plan;
	inst.parameters = "{\"size\":1}";
	inst.maintenance_version = "1.0.0";
	inst.dashboard_url = dash;
	inst.driver_state = istate;
	inst.fingerprint = fp1;
	inst.state = OSB_REC_READY;
	inst.op_id = pop;
	inst.created_at = inst.updated_at = now;

	memset(&bind, 0, sizeof(bind));
	bind.id = bid;
	bind.instance_id = iid;
	bind.service_id = (char *)service;
	bind.plan_id = (char *)plan;
	bind.parameters = "{}";
	bind.bind_resource = "{\"app_guid\":\"bench-app\"}";
	bind.credentials = creds;
	bind.response_extras = "{\"endpoints\":[{\"host\":\"127.0.0.1\",\"ports\":[\"1\"],\"protocol\":\"tcp\"}]}";
	bind.driver_state = bstate;
	bind.fingerprint = fp2;
	bind.state = OSB_REC_READY;
	bind.op_id = bop;
	bind.created_at = bind.updated_at = now;

	memset(&op, 0, sizeof(op));
	op.id = pop;
	op.kind = OSB_OP_PROVISION;
	op.instance_id = iid;
	op.state = OSB_OPSTATE_SUCCEEDED;
	op.request = req1;
	op.instance_usable = -1;
	op.update_repeatable = -1;
	op.lease_until = now + 15;
	op.deadline_at = now + 45;
	op.created_at = op.updated_at = now;
	if ((rc = osb_store_instance_put(tx, &inst)) < 0 || (rc = osb_store_operation_put(tx, &op)) < 0)
		return rc;
	op.id = bop;
	op.kind = OSB_OP_BIND;
	op.binding_id = bid;
	op.request = req2;
	if ((rc = osb_store_binding_put(tx, &bind)) < 0 || (rc = osb_store_operation_put(tx, &op)) < 0)
		return rc;
	return 0;
}

int main(int argc, char **argv)
{
	osb_store_options so;
	osb_store *store = NULL;
	osb_store_tx *tx = NULL;
	char path[4096];
	int64_t bytes = 0;
	long long t0;
	int n, k, rc, status = 1;

	if (argc != 5) {
		fprintf(stderr,
			"usage: osb-bench-fill DATA_DIR COUNT SERVICE_ID PLAN_ID\n"
			"Writes COUNT instances and COUNT bindings into DATA_DIR/state.db; prints: fill COUNT SECONDS BYTES\n");
		return 2;
	}
	n = bench_int_arg("COUNT", argv[2], 1, 10000000);
	if (mkdir(argv[1], 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "osb-bench-fill: cannot create %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	memset(&so, 0, sizeof(so));
	if (load_key(argv[1], so.key) < 0)
		return 1;
	snprintf(path, sizeof(path), "%s/state.db", argv[1]);
	so.type = OSB_STORE_SQLITE;
	so.path = path;
	so.pool_size = 1;
	so.busy_timeout_ms = 5000;
	if (osb_store_open(&store, &so) != 0) {
		fprintf(stderr, "osb-bench-fill: cannot open the store %s\n", path);
		return 1;
	}
	t0 = bench_now_ns();
	for (k = 0; k < n; k++) {
		if (k % BATCH == 0 && (rc = osb_store_begin(store, "bench-fill", &tx)) != 0) {
			fprintf(stderr, "osb-bench-fill: begin: error %d\n", rc);
			goto done;
		}
		if ((rc = put_one(tx, k, argv[3], argv[4], (int64_t)time(NULL))) != 0) {
			fprintf(stderr, "osb-bench-fill: put record %d: error %d\n", k, rc);
			goto done;
		}
		if (k % BATCH == BATCH - 1 || k == n - 1) {
			rc = osb_store_commit(tx);
			tx = NULL;
			if (rc != 0) {
				fprintf(stderr, "osb-bench-fill: commit: error %d\n", rc);
				goto done;
			}
		}
	}
	if (osb_store_size(store, &bytes) != 0)
		bytes = -1;
	printf("fill %d %.3f %lld\n", n, (double)(bench_now_ns() - t0) / 1e9, (long long)bytes);
	status = 0;
done:
	osb_store_rollback(tx);
	osb_store_close(store);
	memset(&so, 0, sizeof(so));
	return status;
}
