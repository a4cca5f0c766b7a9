#!/usr/bin/env bash
# The driver contract of docs/writing-a-broker.md, checked on a real server for any broker through
# its adapter (brokers/<mw>/tests/adapter.sh): provision, bind, credentials that work with the
# server's own client, isolation between two instances, repeats and conflicts, unbind revoking
# the credentials and ending live sessions, reconcile finding and purging an orphan, the server
# going down and coming back without a broker restart, deprovision leaving nothing, no secret in
# the logs, and a clean stop.
# Usage: contract.sh BROKER_BINARY REPO_ROOT MW [PLAN]   (PLAN: a plan name, default the adapter's)
set -euo pipefail
MW=${3:?usage: contract.sh BROKER_BINARY REPO_ROOT MW [PLAN]}
# shellcheck source=../lib/broker.sh
. "${2:?usage: contract.sh BROKER_BINARY REPO_ROOT MW [PLAN]}/tests/lib/broker.sh"
t_init "contract-$MW"
use_adapter "$MW"
PLAN_NAME=${4:-${ADAPTER_PLAN:?the adapter must set ADAPTER_PLAN}}
PLAN=$(plan_id "$PLAN_NAME")
DEDICATED=$([ "$(plan_setting "$PLAN" dedicated)" = true ] && echo 1 || echo 0)
SERVER_DIR=$WORK/server
echo "contract of the $MW broker on plan $PLAN_NAME ($([ "$DEDICATED" = 1 ] && echo dedicated || echo shared))"

# The config: the adapter's driver object, a sync deadline short enough for the outage step, and a
# port range for dedicated servers (every broker may have dedicated plans).
range=$(free_range 21)
broker_config "$(adapter_driver_config "$SERVER_PORT" "$SERVER_SECRET")" \
	"$(jq -cn --argjson a "$range" '{timeouts: {sync_s: 5}, dedicated: {port_range: [$a, ($a + 20)]}}')"

# ---------------------------------------------------------------------------
step "1. the broker starts and serves its catalog while the server is down, and reports it unready"
broker_start
if [ "${ADAPTER_SHARED:-1}" = 1 ]; then
	wait_ready 503 5
	jq -e '.status == "unready"' "$WORK/ready" >/dev/null || fail "/health/ready: expected status unready"
fi
osb GET /v2/catalog
expect_status 200 "catalog"
[ "$(jq -r --arg p "$PLAN" '[.services[].plans[] | select(.id == $p)] | length' <<<"$body")" = 1 ] ||
	fail "catalog: expected plan $PLAN_NAME"
! grep -q 'x-osb' <<<"$body" || fail "catalog: the private x-osb objects must not be served"

step "2. the server starts; the broker becomes ready on its own"
if [ "${ADAPTER_SHARED:-1}" = 1 ]; then
	server_start "$SERVER_DIR"
fi
wait_ready 200 30

# ---------------------------------------------------------------------------
step "3. provision two instances; repeats answer 200, conflicts 409"
ia=$(new_id)
ib=$(new_id)
provision "$ia" "$PLAN"
provision "$ib" "$PLAN"
if plan_async "$PLAN"; then
	osb PUT "/v2/service_instances/$ia?accepts_incomplete=true" "$(provision_body "$PLAN")"
else
	osb PUT "/v2/service_instances/$ia" "$(provision_body "$PLAN")"
fi
expect_status 200 "identical provision of $ia"
osb PUT "/v2/service_instances/$ia?accepts_incomplete=true" "$(provision_body "$PLAN" '{}' space-2)"
expect_status 409 "provision of $ia in another space"

step "4. bind; the credentials work with the server's own client, and each binding has its own"
ba1=$(new_id)
ba2=$(new_id)
bb1=$(new_id)
ca1=$(bind "$ia" "$ba1" "$PLAN")
ca2=$(bind "$ia" "$ba2" "$PLAN")
cb1=$(bind "$ib" "$bb1" "$PLAN")
for c in "$ca1" "$ca2" "$cb1"; do
	for key in ${ADAPTER_CREDENTIAL_KEYS:-uri}; do
		[ "$(jq -r --arg k "$key" '.[$k] // empty' <<<"$c")" != "" ] ||
			fail "credentials: expected key $key, got $(jq -c keys <<<"$c")"
	done
done
[ "$(jq -r .password <<<"$ca1")" != "$(jq -r .password <<<"$ca2")" ] || fail "two bindings got the same password"
adapter_access "$ca1" "$ca1" contract-key value-a >/dev/null || fail "binding a1 cannot write in its instance"
[ "$(adapter_access "$ca2" "$ca1" contract-key)" = value-a ] || fail "binding a2 cannot read what a1 wrote"
adapter_access "$cb1" "$cb1" contract-key value-b >/dev/null || fail "binding b1 cannot write in its instance"
osb PUT "/v2/service_instances/$ia/service_bindings/$ba1" "$(bind_body "$PLAN")"
expect_status 200 "identical bind of $ba1"
[ "$(jq -r .credentials.password <<<"$body")" = "$(jq -r .password <<<"$ca1")" ] ||
	fail "identical bind: expected the stored credentials back"
osb PUT "/v2/service_instances/$ia/service_bindings/$ba1" "$(bind_body "$PLAN" '{}' app-2)"
expect_status 409 "bind of $ba1 for another app"

step "5. isolation: a binding of one instance is refused on the other's space"
out=$(adapter_access "$cb1" "$ca1" contract-key 2>&1) && fail "binding b1 read instance a's data: $out"
out=$(adapter_access "$cb1" "$ca1" contract-key stolen 2>&1) && fail "binding b1 wrote into instance a: $out"
out=$(adapter_access "$ca1" "$cb1" contract-key 2>&1) && fail "binding a1 read instance b's data: $out"
[ "$(adapter_access "$ca2" "$ca1" contract-key)" = value-a ] || fail "instance a's data changed"

step "6. unbind revokes the credentials at once and ends live sessions"
if [ -n "${ADAPTER_NO_SESSION_END:-}" ]; then
	echo "   the server cannot end live sessions: ${ADAPTER_NO_SESSION_END}"
else
	session_start "$ca2"
fi
unbind "$ia" "$ba2" "$PLAN"
[ -n "${ADAPTER_NO_SESSION_END:-}" ] || session_ended "unbind of binding a2"
out=$(adapter_access "$ca2" "$ca1" contract-key 2>&1) && fail "unbind: binding a2 still reads: $out"
[ "$(adapter_access "$ca1" "$ca1" contract-key)" = value-a ] || fail "unbind of a2 broke binding a1"
osb DELETE "/v2/service_instances/$ia/service_bindings/$ba2?service_id=$SERVICE_ID&plan_id=$PLAN"
expect_status 410 "second unbind of $ba2"

# ---------------------------------------------------------------------------
step "7. reconcile reports an orphan and purges it, and only it"
orphan=osb_0123456789abcdef0123
if [ "$DEDICATED" = 1 ]; then
	# A dedicated server's directory without a record: what a crash between start and record leaves.
	mkdir -p "$WORK/data/dedicated/$orphan"
else
	adapter_orphan "$orphan"
	adapter_tenants | grep -qx "$orphan" || fail "the adapter's orphan $orphan is not on the server"
fi
broker_run --reconcile || fail "--reconcile: exit status not 0: $out"
grep -q "\"orphan\":\"$orphan\"" <<<"$out" || fail "--reconcile: expected orphan $orphan, got: $out"
for n in "$(instance_name "$ia")" "$(instance_name "$ib")" "$(binding_name "$ba1")" "$(binding_name "$bb1")"; do
	! grep -q "$n" <<<"$out" || fail "--reconcile: a live tenant $n reported as an orphan: $out"
done
broker_run --reconcile=purge || fail "--reconcile=purge: exit status not 0: $out"
grep -q "\"orphan\":\"$orphan\",\"kind\":\"[a-z ]*\",\"purged\":true" <<<"$out" ||
	fail "--reconcile=purge: expected $orphan purged, got: $out"
if [ "$DEDICATED" = 1 ]; then
	[ ! -e "$WORK/data/dedicated/$orphan" ] || fail "--reconcile=purge: the orphan directory is still there"
else
	! adapter_tenants | grep -qx "$orphan" || fail "--reconcile=purge: $orphan is still on the server"
fi
[ "$(adapter_access "$ca1" "$ca1" contract-key)" = value-a ] || fail "--reconcile=purge broke binding a1"

# ---------------------------------------------------------------------------
if [ "$DEDICATED" = 1 ]; then
	step "8. the instance's server dies: the next operation on it starts it again"
	rec=$WORK/data/dedicated/$(instance_name "$ia")/deployment.json
	pid=$(jq -r .pid "$rec")
	[ "$pid" -gt 1 ] || fail "no running dedicated server on record for instance a: $(cat "$rec")"
	kill -KILL "$pid"
	for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
	ba3=$(new_id)
	ca3=$(bind "$ia" "$ba3" "$PLAN")
	[ "$(jq -r .pid "$rec")" != "$pid" ] || fail "the dedicated server was not started again"
	adapter_access "$ca3" "$ca3" contract-key again >/dev/null || fail "the restarted server refuses a new binding"
	unbind "$ia" "$ba3" "$PLAN"
else
	step "8. the server goes down: /health/ready 503, operations fail in bounded time; back up without a restart"
	adapter_server_stop "$SERVER_DIR"
	wait_ready 503 5
	jq -e --arg mw "$MW" '.checks[$mw].ok == false and (.checks[$mw].message | length > 0)' "$WORK/ready" >/dev/null ||
		fail "/health/ready: expected checks.$MW.ok false with a message, got $(cat "$WORK/ready")"
	t0=$(date +%s)
	osb PUT "/v2/service_instances/$ia/service_bindings/$(new_id)" "$(bind_body "$PLAN")"
	expect_5xx "bind with the server down" "${ADAPTER_DOWN_REASON:-}"
	[ $(($(date +%s) - t0)) -le 20 ] || fail "bind with the server down took more than sync_s + undo + margin (20 s)"
	osb GET "/v2/service_instances/$ia"
	expect_status 200 "GET instance with the server down"
	adapter_server_start "$SERVER_DIR" "$SERVER_PORT" "$SERVER_SECRET"
	wait_ready 200 30
	# Test servers may keep no data across a restart, but the bindings' logins must survive it.
	adapter_access "$ca1" "$ca1" contract-key value-a >/dev/null || fail "after the outage: binding a1 cannot write"
	adapter_access "$cb1" "$cb1" contract-key value-b >/dev/null || fail "after the outage: binding b1 cannot write"
fi

# ---------------------------------------------------------------------------
step "9. deprovision with a live binding: everything of the instance goes, the other stays"
deprovision "$ia" "$PLAN"
out=$(adapter_access "$ca1" "$ca1" contract-key 2>&1) && fail "deprovision: binding a1 still reads: $out"
[ "$(adapter_access "$cb1" "$cb1" contract-key)" = value-b ] || fail "deprovision of a broke instance b"
osb DELETE "/v2/service_instances/$ia?accepts_incomplete=true&service_id=$SERVICE_ID&plan_id=$PLAN"
expect_status 410 "second deprovision of $ia"
unbind "$ib" "$bb1" "$PLAN"
deprovision "$ib" "$PLAN"
if [ "$DEDICATED" = 1 ]; then
	left=$(find "$WORK/data/dedicated" -maxdepth 1 -name 'osb_*' | wc -l)
	[ "$left" = 0 ] || fail "deprovision: dedicated server directories left: $(ls "$WORK/data/dedicated")"
else
	left=$(adapter_tenants | grep -c '^osb_' || true)
	[ "$left" = 0 ] || fail "deprovision: broker-made names left on the server: $(adapter_tenants | tr '\n' ' ')"
fi
broker_run --reconcile || fail "--reconcile after the clean-up: exit status not 0: $out"
grep -q '"orphans":0' <<<"$out" || fail "--reconcile after the clean-up: expected no orphan, got: $out"

step "10. no secret in the logs; the broker stops cleanly"
no_secret_in "$BROKER_LOG" "$WORK/broker-runs.log"
broker_stop
echo "PASS: the $MW broker keeps the driver contract on plan $PLAN_NAME"
