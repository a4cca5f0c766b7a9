#!/usr/bin/env bash
# Outage test: PostgreSQL stops (and later freezes) under a running broker. Requests that need it fail
# fast with a JSON 5xx, read-only requests keep answering, readiness says why, and an asynchronous
# provision submitted during the outage completes on its own once the server is back.
. "$(dirname "$0")/lib.sh"
rel_init outage

LIMIT_MS=10000       # a request that needs the server must be answered within this
SYNC_S=4             # timeouts.sync_s: the deadline of a synchronous driver call
READ_LIMIT_MS=2000   # requests that need only the broker's own store
bport=$("$ROOT/scripts/free-port.sh")
B=http://127.0.0.1:$bport
cfg=$WORK/broker.json
log=$WORK/broker.log
q_small="service_id=$SERVICE_ID&plan_id=$PLAN_SMALL"
q_async="accepts_incomplete=true&service_id=$SERVICE_ID&plan_id=$PLAN_ASYNC"
TIMINGS=()

# timed METHOD URL [BODY]: osb, and the time it took in $MS.
timed() {
	local t0
	t0=$(now_us)
	osb "$@"
	MS=$(( ($(now_us) - t0) / 1000 ))
}

# expect_fast_5xx "what": the last answer is a 5xx with a JSON description, within LIMIT_MS.
expect_fast_5xx() {
	TIMINGS+=("$1=${MS}ms/$STATUS")
	if [ "${STATUS:0:1}" = 5 ] && json_error "$BODY" && [ "$MS" -lt "$LIMIT_MS" ]; then
		pass "$1: $STATUS in $MS ms: $(jq -r .description <<<"$BODY" | cut -c1-120)"
	else
		fail "$1: want a 5xx with a JSON description within $LIMIT_MS ms, got $STATUS in $MS ms: $BODY"
	fi
}

# expect_fast STATUS "what": the last answer had STATUS, within READ_LIMIT_MS.
expect_fast() {
	TIMINGS+=("$2=${MS}ms/$STATUS")
	if [ "$STATUS" = "$1" ] && [ "$MS" -lt "$READ_LIMIT_MS" ]; then
		pass "$2: $STATUS in $MS ms"
	else
		fail "$2: want $1 within $READ_LIMIT_MS ms, got $STATUS in $MS ms: $BODY"
	fi
}

# wait_op URL SECONDS: poll a last_operation URL until it is not "in progress"; sets STATE.
wait_op() {
	local until=$(( $(now_us) + $2 * 1000000 ))
	STATE=
	while [ "$(now_us)" -lt "$until" ]; do
		osb GET "$1"
		STATE=$(jq -r '.state // empty' <<<"$BODY" 2>/dev/null)
		[ "$STATUS" = 200 ] && [ "$STATE" != "in progress" ] && return 0
		sleep 0.1
	done
	return 1
}

# ---------------------------------------------------------------------------
pg_up_free "$WORK/pg"
pgport=$PG_PORT
step "PostgreSQL on $pgport, broker on $bport (timeouts.sync_s = $SYNC_S); a tenant made before the outage"
write_config "$cfg" "$bport" "$WORK/data" "$pgport" ".timeouts.sync_s = $SYNC_S"
broker_start "$cfg" "$log" "$B"
i1=$(new_id)
b1=$(new_id)
osb PUT "$B/v2/service_instances/$i1" "$(provision_body "$PLAN_SMALL")"
[ "$STATUS" = 201 ] || { fail "provision before the outage: $STATUS $BODY"; rel_finish; }
osb PUT "$B/v2/service_instances/$i1/service_bindings/$b1" "$(bind_body "$PLAN_SMALL")"
[ "$STATUS" = 201 ] || { fail "bind before the outage: $STATUS $BODY"; rel_finish; }
uri1=$(jq -r .credentials.uri <<<"$BODY")
osb GET "$B/health/ready"
check "/health/ready is 200 while PostgreSQL runs" [ "$STATUS" = 200 ]

# ---------------------------------------------------------------------------
step "PostgreSQL stops (scripts/pg-stop.sh)"
pg_down "$WORK/pg"
i_fail=$(new_id)
timed PUT "$B/v2/service_instances/$i_fail" "$(provision_body "$PLAN_SMALL")"
expect_fast_5xx "provision during the outage"
timed PUT "$B/v2/service_instances/$i1/service_bindings/$(new_id)" "$(bind_body "$PLAN_SMALL")"
expect_fast_5xx "bind during the outage"
timed DELETE "$B/v2/service_instances/$i1/service_bindings/$b1?$q_small"
expect_fast_5xx "unbind during the outage"
timed DELETE "$B/v2/service_instances/$i1?$q_small"
expect_fast_5xx "deprovision during the outage"
grep -qF "$ADMIN_PW" "$log" && fail "the admin password is in the broker's log"

timed GET "$B/v2/catalog"
expect_fast 200 "GET /v2/catalog during the outage"
timed GET "$B/health/live"
expect_fast 200 "GET /health/live during the outage"
timed GET "$B/v2/service_instances/$i1"
expect_fast 200 "GET instance during the outage"
timed GET "$B/v2/service_instances/$i1/last_operation"
expect_fast 200 "GET last_operation during the outage"
check "the failed deprovision left the instance usable (last_operation failed)" [ "$(jq -r .state <<<"$BODY")" = failed ]
timed GET "$B/v2/service_instances/$i1/service_bindings/$b1"
expect_fast 200 "GET binding during the outage"
timed GET "$B/health/ready"
expect_fast 503 "GET /health/ready during the outage"
if jq -e '.status == "unready" and .checks.postgresql.ok == false and (.checks.postgresql.message | length > 0) and .checks.store.ok == true' >/dev/null <<<"$BODY"; then
	pass "/health/ready names the failing check: $(jq -c .checks.postgresql <<<"$BODY" | cut -c1-160)"
else
	fail "/health/ready: want checks.postgresql.ok false with a message, got $BODY"
fi

step "an asynchronous provision submitted during the outage waits for the server"
i_async=$(new_id)
timed PUT "$B/v2/service_instances/$i_async?accepts_incomplete=true" "$(provision_body "$PLAN_ASYNC")"
check "async provision during the outage is accepted: 202 in $MS ms" [ "$STATUS" = 202 ]
op=$(jq -r .operation <<<"$BODY")
sleep 3
osb GET "$B/v2/service_instances/$i_async/last_operation?operation=$op"
check "3 s later it is still in progress: $(jq -c . <<<"$BODY" | cut -c1-200)" [ "$(jq -r .state <<<"$BODY")" = "in progress" ]

# ---------------------------------------------------------------------------
step "PostgreSQL starts again; the broker is not restarted"
t_back=$(now_us)
pg_up "$WORK/pg" "$pgport"
if wait_op "$B/v2/service_instances/$i_async/last_operation?operation=$op" 60; then
	resume_ms=$(( ($(now_us) - t_back) / 1000 ))
	check "the async provision ends succeeded ${resume_ms} ms after PostgreSQL is back (got $STATE)" [ "$STATE" = succeeded ]
else
	resume_ms=-1
	fail "the async provision is still in progress 60 s after PostgreSQL is back: $BODY"
fi
check "its database is on the server" [ -n "$(admin_sql "$pgport" postgres "SELECT 1 FROM pg_database WHERE datname = '$(instance_name "$i_async")'")" ]
b_async=$(new_id)
osb PUT "$B/v2/service_instances/$i_async/service_bindings/$b_async?accepts_incomplete=true" "$(bind_body "$PLAN_ASYNC")"
check "bind to it is accepted (202)" [ "$STATUS" = 202 ]
wait_op "$B/v2/service_instances/$i_async/service_bindings/$b_async/last_operation" 30
check "the binding succeeds" [ "$STATE" = succeeded ]
osb GET "$B/v2/service_instances/$i_async/service_bindings/$b_async"
out=$(psql -X -q -At -d "$(jq -r .credentials.uri <<<"$BODY")" -c "SELECT 1" 2>&1)
check "its credentials work" [ "$out" = 1 ]
ready=000
for _ in $(seq 1 100); do
	osb GET "$B/health/ready"
	ready=$STATUS
	[ "$ready" = 200 ] && break
	sleep 0.1
done
check "/health/ready is 200 again" [ "$ready" = 200 ]
out=$(psql -X -q -At -d "$uri1" -c "SELECT 1" 2>&1)
check "the binding made before the outage still works" [ "$out" = 1 ]
osb GET "$B/v2/service_instances/$i_fail"
check "the provision that failed during the outage has no record (GET $STATUS)" [ "$STATUS" = 404 ]
check "... and nothing on the server" [ -z "$(admin_sql "$pgport" postgres "SELECT 1 FROM pg_database WHERE datname = '$(instance_name "$i_fail")'")" ]
i2=$(new_id)
timed PUT "$B/v2/service_instances/$i2" "$(provision_body "$PLAN_SMALL")"
check "a synchronous provision works again (201 in $MS ms)" [ "$STATUS" = 201 ]

# ---------------------------------------------------------------------------
step "PostgreSQL freezes (SIGSTOP): connections hang instead of being refused"
pg_pid=$(cat "$WORK/pg/postgres.pid")
kill -STOP "$pg_pid"
i_frozen=$(new_id)
# When nothing answers, the driver call runs into sync_s and the undo of the half-made provision gets
# min(sync_s, 10 s) more (engine.c), so the answer must come within their sum, plus 3 s of slack.
LIMIT_MS=$(( (SYNC_S + (SYNC_S < 10 ? SYNC_S : 10) + 3) * 1000 ))
timed PUT "$B/v2/service_instances/$i_frozen" "$(provision_body "$PLAN_SMALL")"
expect_fast_5xx "provision while PostgreSQL is frozen"
timed PUT "$B/v2/service_instances/$i2/service_bindings/$(new_id)" "$(bind_body "$PLAN_SMALL")"
expect_fast_5xx "bind while PostgreSQL is frozen"
timed GET "$B/v2/catalog"
expect_fast 200 "GET /v2/catalog while PostgreSQL is frozen"
timed GET "$B/v2/service_instances/$i2"
expect_fast 200 "GET instance while PostgreSQL is frozen"
timed GET "$B/health/ready"
TIMINGS+=("ready-frozen=${MS}ms/$STATUS")
check "/health/ready answers 503 within $LIMIT_MS ms while PostgreSQL is frozen ($STATUS in $MS ms)" [ "$STATUS" = 503 -a "$MS" -lt "$LIMIT_MS" ]
kill -CONT "$pg_pid"
sleep 1
rrc=0
"$BROKER" --config "$cfg" --reconcile >"$WORK/reconcile.out" 2>>"$log" || rrc=$?
check "--reconcile exits 0 (an ASan build exits non-zero on a leak; got $rrc)" [ "$rrc" = 0 ]
summary=$(tail -n 1 "$WORK/reconcile.out")
check "--reconcile after the outages: no orphans ($summary)" [ "$(jq -r .orphans <<<"$summary")" = 0 ]

broker_stop_clean "$BROKER_PID" "$log" "outage"
echo "timings: ${TIMINGS[*]} async-resume=${resume_ms}ms"
rel_finish
