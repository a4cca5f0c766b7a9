/* Unit tests of the store's usage log: appends, cursors, the upgrade from schema 1, plan counts, commit order. */
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "osb/errors.h"
#include "store.h"
#include "store_env.h"
#include "unit.h"

/* ---- helpers ---- */

typedef struct {
	osb_usage_event ev[64];
	int n;
} seen;

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static int collect(const osb_usage_event *ev, void *payload)
{
	seen *s = payload;
	if (s->n >= 64)
		return 1;
	osb_usage_event *c = &s->ev[s->n++];
	*c = *ev;
	c->kind = dup_or_null(ev->kind);
	c->instance_id = dup_or_null(ev->instance_id);
	c->binding_id = dup_or_null(ev->binding_id);
	c->service_id = dup_or_null(ev->service_id);
	c->plan_id = dup_or_null(ev->plan_id);
	c->plan_name = dup_or_null(ev->plan_name);
	c->previous_plan_id = dup_or_null(ev->previous_plan_id);
	c->previous_plan_name = dup_or_null(ev->previous_plan_name);
	c->context = dup_or_null(ev->context);
	c->originating_identity = dup_or_null(ev->originating_identity);
	c->operation_id = dup_or_null(ev->operation_id);
	return 0;
}

static void seen_free(seen *s)
{
	for (int i = 0; i < s->n; i++) {
		osb_usage_event *c = &s->ev[i];
		free(c->kind);
		free(c->instance_id);
		free(c->binding_id);
		free(c->service_id);
		free(c->plan_id);
		free(c->plan_name);
		free(c->previous_plan_id);
		free(c->previous_plan_name);
		free(c->context);
		free(c->originating_identity);
		free(c->operation_id);
	}
	s->n = 0;
}

static osb_usage_event event(char *kind, char *instance_id, char *plan_id, int64_t at)
{
	osb_usage_event ev = {
		.kind = kind,
		.instance_id = instance_id,
		.service_id = "svc-1",
		.plan_id = plan_id,
		.plan_name = "small",
		.context = "{\"platform\":\"cloudfoundry\",\"organization_guid\":\"org-1\",\"space_guid\":\"space-1\"}",
		.originating_identity = "cloudfoundry {\"user_id\":\"u-1\"}",
		.operation_id = "op-1",
		.occurred_at = at,
	};
	return ev;
}

/* Append events in one write transaction and commit it. */
static void append(osb_store *s, const osb_usage_event *evs, int n)
{
	osb_store_tx *tx = NULL;
	CHECK_INT(osb_store_begin(s, evs[0].instance_id, &tx), 0);
	for (int i = 0; tx && i < n; i++)
		CHECK_INT(osb_store_usage_append(tx, &evs[i]), 0);
	if (tx)
		CHECK_INT(osb_store_commit(tx), 0);
}

/* ---- cases ---- */

static void append_and_page(void)
{
	env e;
	osb_store *s;
	osb_store_tx *tx = NULL;
	seen got = { .n = 0 };

	env_init(&e, 5000);
	s = env_open(&e);
	if (!s)
		goto done;
	CHECK_INT(osb_store_usage_list(s, 0, 10, collect, &got), 0);
	CHECK_INT(got.n, 0);

	osb_usage_event evs[3] = { event("instance_created", "i-1", "p-1", 100),
				   event("binding_created", "i-1", "p-1", 101),
				   event("instance_plan_changed", "i-1", "p-2", (int64_t)1 << 40) };
	evs[1].binding_id = "b-1";
	evs[1].originating_identity = NULL;
	evs[2].previous_plan_id = "p-1";
	evs[2].previous_plan_name = "small";
	evs[2].plan_name = "large";
	append(s, evs, 3);

	CHECK_INT(osb_store_usage_list(s, 0, 10, collect, &got), 0);
	CHECK_INT(got.n, 3);
	for (int i = 0; i < got.n && i < 3; i++) {
		CHECK_STR(got.ev[i].kind, evs[i].kind);
		CHECK_STR(got.ev[i].instance_id, "i-1");
		CHECK_STR(got.ev[i].service_id, "svc-1");
		CHECK_STR(got.ev[i].plan_id, evs[i].plan_id);
		CHECK_STR(got.ev[i].plan_name, evs[i].plan_name);
		CHECK_STR(got.ev[i].context, evs[i].context);
		CHECK_STR(got.ev[i].operation_id, "op-1");
		CHECK_INT(got.ev[i].occurred_at, evs[i].occurred_at);
		if (i)
			CHECK(got.ev[i].seq > got.ev[i - 1].seq);
	}
	if (got.n == 3) {
		CHECK(got.ev[0].binding_id == NULL);
		CHECK_STR(got.ev[1].binding_id, "b-1");
		CHECK(got.ev[1].originating_identity == NULL);
		CHECK_STR(got.ev[0].originating_identity, "cloudfoundry {\"user_id\":\"u-1\"}");
		CHECK_STR(got.ev[2].previous_plan_id, "p-1");
		CHECK_STR(got.ev[2].previous_plan_name, "small");
		CHECK(got.ev[0].previous_plan_id == NULL);
	}
	/* Pages: after the first one's seq, one at a time. */
	int64_t first = got.n ? got.ev[0].seq : 0, second = got.n > 1 ? got.ev[1].seq : 0;
	seen_free(&got);
	CHECK_INT(osb_store_usage_list(s, first, 1, collect, &got), 0);
	CHECK_INT(got.n, 1);
	if (got.n)
		CHECK_INT(got.ev[0].seq, second);
	seen_free(&got);

	/* Not in a read transaction, not without kind or instance. */
	CHECK_INT(osb_store_begin(s, NULL, &tx), 0);
	CHECK_INT(osb_store_usage_append(tx, &evs[0]), OSB_ERROR);
	osb_store_rollback(tx);
	osb_usage_event bad = evs[0];
	bad.kind = NULL;
	CHECK_INT(osb_store_begin(s, "i-1", &tx), 0);
	CHECK_INT(osb_store_usage_append(tx, &bad), OSB_ERROR);
	osb_store_rollback(tx);
	CHECK_INT(osb_store_usage_list(s, -1, 10, collect, &got), OSB_ERROR);
	CHECK_INT(osb_store_usage_list(s, 0, 0, collect, &got), OSB_ERROR);
	osb_store_close(s);
done:
	seen_free(&got);
	env_fini(&e);
}

/* A rolled-back append leaves nothing; the log survives a reopen; seq only grows. */
static void rollback_and_reopen(void)
{
	env e;
	osb_store *s;
	osb_store_tx *tx = NULL;
	seen got = { .n = 0 };
	int64_t last = 0;

	env_init(&e, 5000);
	s = env_open(&e);
	if (!s)
		goto done;
	osb_usage_event a = event("instance_created", "i-1", "p-1", 100);
	osb_usage_event b = event("instance_created", "i-2", "p-1", 101);
	append(s, &a, 1);
	CHECK_INT(osb_store_begin(s, "i-2", &tx), 0);
	CHECK_INT(osb_store_usage_append(tx, &b), 0);
	osb_store_rollback(tx);
	CHECK_INT(osb_store_usage_list(s, 0, 10, collect, &got), 0);
	CHECK_INT(got.n, 1);
	if (got.n)
		last = got.ev[0].seq;
	seen_free(&got);
	osb_store_close(s);

	s = env_open(&e);
	if (!s)
		goto done;
	CHECK_INT(osb_store_usage_list(s, 0, 10, collect, &got), 0);
	CHECK_INT(got.n, 1);
	if (got.n)
		CHECK_INT(got.ev[0].seq, last);
	seen_free(&got);
	append(s, &b, 1);
	CHECK_INT(osb_store_usage_list(s, last, 10, collect, &got), 0);
	CHECK_INT(got.n, 1);
	if (got.n) {
		CHECK(got.ev[0].seq > last);
		CHECK_STR(got.ev[0].instance_id, "i-2");
	}
	osb_store_close(s);
done:
	seen_free(&got);
	env_fini(&e);
}

static void put_instance_state(osb_store *s, const char *id, const char *plan, int state, int64_t created)
{
	osb_store_tx *tx = NULL;
	osb_instance_rec r = { .id = (char *)id,
			       .service_id = "svc-1",
			       .plan_id = (char *)plan,
			       .state = state,
			       .context = "{\"namespace\":\"ns-1\"}",
			       .created_at = created,
			       .updated_at = created };
	CHECK_INT(osb_store_begin(s, id, &tx), 0);
	CHECK_INT(osb_store_instance_put(tx, &r), 0);
	CHECK_INT(osb_store_commit(tx), 0);
}

static void put_binding_state(osb_store *s, const char *id, const char *instance_id, int state, int64_t created)
{
	osb_store_tx *tx = NULL;
	osb_binding_rec r = { .id = (char *)id,
			      .instance_id = (char *)instance_id,
			      .service_id = "svc-1",
			      .plan_id = "p-1",
			      .state = state,
			      .created_at = created,
			      .updated_at = created };
	CHECK_INT(osb_store_begin(s, instance_id, &tx), 0);
	CHECK_INT(osb_store_binding_put(tx, &r), 0);
	CHECK_INT(osb_store_commit(tx), 0);
}

typedef struct {
	char plan[8][16];
	long count[8];
	int n;
} plan_counts;

static int on_plan_count(const char *plan_id, long instances, void *payload)
{
	plan_counts *pc = payload;
	if (pc->n < 8) {
		snprintf(pc->plan[pc->n], sizeof pc->plan[0], "%s", plan_id);
		pc->count[pc->n++] = instances;
	}
	return 0;
}

/* Instances that exist, per plan: READY and DELETING count, CREATING, failed and deleted ones do not. */
static void counts_per_plan(void)
{
	env e;
	osb_store *s;
	plan_counts pc = { .n = 0 };

	env_init(&e, 5000);
	s = env_open(&e);
	if (!s)
		goto done;
	CHECK_INT(osb_store_plan_counts(s, on_plan_count, &pc), 0);
	CHECK_INT(pc.n, 0);
	put_instance_state(s, "i-1", "p-a", OSB_REC_READY, 1);
	put_instance_state(s, "i-2", "p-a", OSB_REC_DELETING, 2);
	put_instance_state(s, "i-3", "p-a", OSB_REC_CREATING, 3);
	put_instance_state(s, "i-4", "p-b", OSB_REC_READY, 4);
	put_instance_state(s, "i-5", "p-b", OSB_REC_DELETED, 5);
	put_instance_state(s, "i-6", "p-c", OSB_REC_CREATE_FAILED, 6);
	CHECK_INT(osb_store_plan_counts(s, on_plan_count, &pc), 0);
	CHECK_INT(pc.n, 2);
	CHECK_STR(pc.plan[0], "p-a");
	CHECK_INT(pc.count[0], 2);
	CHECK_STR(pc.plan[1], "p-b");
	CHECK_INT(pc.count[1], 1);
	osb_store_close(s);
done:
	env_fini(&e);
}

/* Turn a fresh store back into schema version 1: no usage table. */
static int downgrade_to_v1(env *e)
{
	if (e->type == OSB_STORE_SQLITE) {
		sqlite3 *db = NULL;
		int rc = sqlite3_open(e->path, &db) == SQLITE_OK &&
					 sqlite3_exec(db,
						      "DROP TABLE osb_usage_events;"
						      " UPDATE osb_meta SET value = '1' WHERE key = 'schema_version'",
						      NULL, NULL, NULL) == SQLITE_OK
				 ? 0
				 : -1;
		sqlite3_close(db);
		return rc;
	}
	char sql[256];
	snprintf(sql, sizeof sql,
		 "DROP TABLE %s.osb_usage_events; UPDATE %s.osb_meta SET value = '1' WHERE key = 'schema_version'",
		 e->schema, e->schema);
	return pg_admin(sql);
}

/* Opening a version-1 store adds the log and a "created" record for each instance and binding that exists. */
static void upgrade_from_v1(void)
{
	env e;
	osb_store *s;
	seen got = { .n = 0 };

	env_init(&e, 5000);
	s = env_open(&e);
	if (!s)
		goto done;
	put_instance_state(s, "i-late", "p-a", OSB_REC_READY, 300);
	put_instance_state(s, "i-early", "p-b", OSB_REC_DELETING, 100);
	put_instance_state(s, "i-gone", "p-a", OSB_REC_DELETED, 50);
	put_instance_state(s, "i-new", "p-a", OSB_REC_CREATING, 400);
	put_binding_state(s, "b-1", "i-late", OSB_REC_READY, 350);
	put_binding_state(s, "b-gone", "i-late", OSB_REC_DELETED, 360);
	osb_store_close(s);
	CHECK_INT(downgrade_to_v1(&e), 0);

	s = env_open(&e);
	if (!s)
		goto done;
	CHECK_INT(osb_store_usage_list(s, 0, 10, collect, &got), 0);
	CHECK_INT(got.n, 3);
	if (got.n == 3) {
		/* In creation order. */
		CHECK_STR(got.ev[0].kind, "instance_created");
		CHECK_STR(got.ev[0].instance_id, "i-early");
		CHECK_STR(got.ev[0].plan_id, "p-b");
		CHECK_INT(got.ev[0].occurred_at, 100);
		CHECK_STR(got.ev[0].context, "{\"namespace\":\"ns-1\"}");
		CHECK(got.ev[0].operation_id == NULL);
		CHECK_STR(got.ev[1].instance_id, "i-late");
		CHECK_STR(got.ev[2].kind, "binding_created");
		CHECK_STR(got.ev[2].binding_id, "b-1");
		CHECK_STR(got.ev[2].instance_id, "i-late");
		CHECK(got.ev[0].seq < got.ev[1].seq && got.ev[1].seq < got.ev[2].seq);
	}
	seen_free(&got);
	osb_store_close(s);

	/* A second open does not rebuild them again. */
	s = env_open(&e);
	if (!s)
		goto done;
	CHECK_INT(osb_store_usage_list(s, 0, 10, collect, &got), 0);
	CHECK_INT(got.n, 3);
	osb_store_close(s);
done:
	seen_free(&got);
	env_fini(&e);
}

/*
 * Commit order: writers hold their transaction open for a while after appending,
 * in random order, while a reader pages through the log with a cursor. The reader
 * must see every record exactly once: a record that commits after the reader
 * passed its seq would be skipped for ever.
 */
#define WRITERS 4
#define PER_WRITER 40

typedef struct {
	osb_store *s;
	int n;
	int errors;
} writer;

static void *write_thread(void *arg)
{
	writer *w = arg;
	unsigned seed = (unsigned)(w->n * 7919 + 17);
	for (int i = 0; i < PER_WRITER; i++) {
		char id[32];
		osb_store_tx *tx = NULL;
		snprintf(id, sizeof id, "w%d-%d", w->n, i);
		osb_usage_event ev = event("instance_created", id, "p-1", i);
		if (osb_store_begin(w->s, id, &tx) != 0 || osb_store_usage_append(tx, &ev) != 0) {
			osb_store_rollback(tx);
			w->errors++;
			continue;
		}
		sleep_ms((int)(rand_r(&seed) % 4));
		if (osb_store_commit(tx) != 0)
			w->errors++;
	}
	return NULL;
}

typedef struct {
	int64_t cursor;
	int count[WRITERS][PER_WRITER];
	int out_of_order;
	int errors;
} reader;

static int read_one(const osb_usage_event *ev, void *payload)
{
	reader *r = payload;
	int w, i;
	if (ev->seq <= r->cursor)
		r->out_of_order++;
	r->cursor = ev->seq;
	if (sscanf(ev->instance_id, "w%d-%d", &w, &i) == 2 && w >= 0 && w < WRITERS && i >= 0 && i < PER_WRITER)
		r->count[w][i]++;
	return 0;
}

static void commit_order(void)
{
	env e;
	osb_store *s;
	pthread_t th[WRITERS];
	writer w[WRITERS];
	reader r;
	memset(&r, 0, sizeof r);

	env_init(&e, 20000);
	e.opt.pool_size = WRITERS + 2;
	s = env_open(&e);
	if (!s)
		goto done;
	for (int i = 0; i < WRITERS; i++) {
		w[i] = (writer){ .s = s, .n = i };
		pthread_create(&th[i], NULL, write_thread, &w[i]);
	}
	/* Page while they write, then once more after they are done. */
	int total = 0;
	for (int rounds = 0; total < WRITERS * PER_WRITER && rounds < 100000; rounds++) {
		if (osb_store_usage_list(s, r.cursor, 5, read_one, &r) != 0)
			r.errors++;
		total = 0;
		for (int a = 0; a < WRITERS; a++)
			for (int b = 0; b < PER_WRITER; b++)
				total += r.count[a][b] > 0;
		if (rounds > 20000)
			sleep_ms(1);
	}
	for (int i = 0; i < WRITERS; i++) {
		pthread_join(th[i], NULL);
		CHECK_INT(w[i].errors, 0);
	}
	while (osb_store_usage_list(s, r.cursor, 50, read_one, &r) == 0 && total < WRITERS * PER_WRITER) {
		int before = total;
		total = 0;
		for (int a = 0; a < WRITERS; a++)
			for (int b = 0; b < PER_WRITER; b++)
				total += r.count[a][b] > 0;
		if (total == before)
			break;
	}
	int missing = 0, twice = 0;
	for (int a = 0; a < WRITERS; a++)
		for (int b = 0; b < PER_WRITER; b++) {
			missing += r.count[a][b] == 0;
			twice += r.count[a][b] > 1;
		}
	CHECK_INT(missing, 0);
	CHECK_INT(twice, 0);
	CHECK_INT(r.out_of_order, 0);
	CHECK_INT(r.errors, 0);
	osb_store_close(s);
done:
	env_fini(&e);
}

#define BOTH(fn)                                                                                                       \
	static void sqlite_##fn(void)                                                                                  \
	{                                                                                                              \
		backend = OSB_STORE_SQLITE;                                                                            \
		fn();                                                                                                  \
	}                                                                                                              \
	static void pg_##fn(void)                                                                                      \
	{                                                                                                              \
		if (!pg_url())                                                                                         \
			return;                                                                                        \
		backend = OSB_STORE_POSTGRESQL;                                                                        \
		fn();                                                                                                  \
	}

BOTH(append_and_page)
BOTH(rollback_and_reopen)
BOTH(counts_per_plan)
BOTH(upgrade_from_v1)
BOTH(commit_order)

static void pg_half(void)
{
	if (!pg_url())
		printf("note: OSB_TEST_PG_URL is not set: the PostgreSQL half was NOT run (pg_* cases pass vacuously)\n");
	else
		printf("note: PostgreSQL half runs against OSB_TEST_PG_URL\n");
}

OSB_TEST_MAIN(OSB_TEST_CASE(sqlite_append_and_page), OSB_TEST_CASE(sqlite_rollback_and_reopen),
	      OSB_TEST_CASE(sqlite_counts_per_plan), OSB_TEST_CASE(sqlite_upgrade_from_v1),
	      OSB_TEST_CASE(sqlite_commit_order), OSB_TEST_CASE(pg_half), OSB_TEST_CASE(pg_append_and_page),
	      OSB_TEST_CASE(pg_rollback_and_reopen), OSB_TEST_CASE(pg_counts_per_plan),
	      OSB_TEST_CASE(pg_upgrade_from_v1), OSB_TEST_CASE(pg_commit_order))
