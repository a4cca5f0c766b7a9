#!/usr/bin/env bash
# What only NATS has, on one shared nats-server in operator mode (brokers/nats/server.sh): subject
# spaces of accounts, the plan's account limits enforced by the server, a plan update that keeps the
# bindings' sessions, the creds file and JWT in the credentials, a deprovision that disconnects the
# account's clients, bad input and bad config, and a restarted broker that finds everything again.
# Usage: nats.sh BROKER_BINARY REPO_ROOT
set -euo pipefail
BROKER_BIN=${1:?usage: nats.sh BROKER_BINARY REPO_ROOT}
ROOT=${2:?repo root}
. "$ROOT/tests/lib/broker.sh"
. "$ROOT/brokers/nats/tests/adapter.sh"
t_init nats
need nats-server openssl base32

# A catalog with tiny limits on the small plan, so that the server's enforcement shows with few clients.
jq '(.services[0].plans[] | select(.name == "small") | ."x-osb") += {max_connections: 2, max_payload: 1024}' \
	"$ROOT/catalog/nats.json" >"$WORK/catalog.json"
use_catalog "$WORK/catalog.json"
SMALL=$(plan_id small)
MEDIUM=$(plan_id medium)
SERVER_DIR=$WORK/server
SERVER_PORT=$(free_port)
SERVER_SECRET=$(secret)
SECRET_WORDS="$SERVER_SECRET $BROKER_PW"
URL=nats://127.0.0.1:$SERVER_PORT
t_on_exit adapter_server_stop "$SERVER_DIR"
adapter_server_start "$SERVER_DIR" "$SERVER_PORT" "$SERVER_SECRET"
broker_config "$(adapter_driver_config "$SERVER_PORT" "$SERVER_SECRET")"

step "bad config: a seed of the wrong type, with its key named and no secret in the message"
cfg=$BROKER_CONFIG
jq '.driver.operator_seed = .driver.admin_password' "$cfg" >"$WORK/bad.json"
BROKER_CONFIG=$WORK/bad.json
broker_run --check-config && fail "--check-config took a system account seed as the operator's"
grep -q 'driver.operator_seed' "$WORK/broker-runs.log" || fail "--check-config: driver.operator_seed not named"
no_secret_in "$WORK/broker-runs.log"
BROKER_CONFIG=$cfg
broker_start
wait_ready 200 10

step "credentials: a creds file, the JWT and seed, the account; no password in the uri"
ia=$(new_id)
ib=$(new_id)
provision "$ia" "$SMALL"
provision "$ib" "$SMALL"
ba=$(new_id)
bb=$(new_id)
ca=$(bind "$ia" "$ba" "$SMALL")
cb=$(bind "$ib" "$bb" "$SMALL")
jq -e --arg u "$URL" '.uri == $u and (.jwt | split(".") | length == 3) and (.seed | startswith("SU")) and
	.password == .seed and (.account | startswith("A")) and (.jwt as $j | .seed as $s | .creds | contains($j) and contains($s))' \
	<<<"$ca" >/dev/null || fail "credentials: unexpected shape: $(jq -c 'del(.password, .seed, .creds)' <<<"$ca")"
[ "$(jq -c .endpoints "$WORK/bind-$ba")" = "[{\"host\":\"127.0.0.1\",\"ports\":[\"$SERVER_PORT\"],\"protocol\":\"tcp\"}]" ] ||
	fail "bind: expected one tcp endpoint 127.0.0.1:$SERVER_PORT, got $(jq -c .endpoints "$WORK/bind-$ba")"

step "subject spaces: a subscriber of account B on '>' gets nothing of A's messages; A's own subscriber does"
"$_nats_client" sub "$(_nats_creds "$cb")" "$URL" '>' 2 "$WORK/b-in" >"$WORK/b.out" 2>&1 &
spy=$!
"$_nats_client" sub "$(_nats_creds "$ca")" "$URL" orders 10 "$WORK/a-in" >"$WORK/a.out" 2>&1 &
own=$!
for _ in $(seq 1 100); do [ -f "$WORK/b-in" ] && [ -f "$WORK/a-in" ] && break; sleep 0.05; done
"$_nats_client" pub "$(_nats_creds "$ca")" "$URL" orders secret-order || fail "A cannot publish"
wait "$own" || fail "A's subscriber did not get A's message: $(cat "$WORK/a.out")"
[ "$(cat "$WORK/a.out")" = secret-order ] || fail "A's subscriber got $(cat "$WORK/a.out")"
wait "$spy" && fail "B's subscriber on '>' got A's message: $(cat "$WORK/b.out")"
! grep -q secret-order "$WORK/b.out" || fail "B saw A's message"

step "account limits: the server refuses the plan's third connection and a payload over 1 KB"
"$_nats_client" hold "$(_nats_creds "$ca")" "$URL" 30 "$WORK/c1" >/dev/null 2>&1 &
h1=$!
"$_nats_client" hold "$(_nats_creds "$ca")" "$URL" 30 "$WORK/c2" >/dev/null 2>&1 &
h2=$!
t_on_exit kill "$h1" "$h2"
for _ in $(seq 1 100); do [ -f "$WORK/c1" ] && [ -f "$WORK/c2" ] && break; sleep 0.05; done
out=$("$_nats_client" pub "$(_nats_creds "$ca")" "$URL" x y 2>&1) && fail "a third connection was accepted on a 2-connection plan"
grep -qi 'maximum.*connections' <<<"$out" || fail "third connection: unexpected error: $out"
out=$("$_nats_client" pub "$(_nats_creds "$cb")" "$URL" x "$(head -c 2000 /dev/zero | tr '\0' x)" 2>&1) &&
	fail "a 2000-byte message was accepted on a 1 KB plan"
grep -qi 'payload' <<<"$out" || grep -q 'Maximum Payload Violation' "$SERVER_DIR/nats.log" ||
	fail "big payload: no payload violation in the client ($out) or the server's log"

step "plan update small -> medium: new limits at once, the live sessions stay"
osb PATCH "/v2/service_instances/$ia" "$(jq -cn --arg s "$SERVICE_ID" --arg p "$MEDIUM" '{service_id: $s, plan_id: $p}')"
expect_status 200 "update to medium"
"$_nats_client" pub "$(_nats_creds "$ca")" "$URL" x y || fail "a third connection is refused after the update to medium"
{ kill -0 "$h1" && kill -0 "$h2"; } || fail "the update disconnected the binding's sessions"

step "deprovision disconnects the account's live clients and leaves no account or stream"
adapter_access "$ca" "$ca" k v >/dev/null || fail "A cannot write its key-value bucket"
deprovision "$ia" "$MEDIUM"
for _ in $(seq 1 100); do kill -0 "$h1" 2>/dev/null || kill -0 "$h2" 2>/dev/null || break; sleep 0.05; done
if kill -0 "$h1" 2>/dev/null || kill -0 "$h2" 2>/dev/null; then fail "deprovision: A's clients are still connected"; fi
wait "$h1" || fail "deprovision: A's client was not closed by the server"
out=$("$_nats_client" pub "$(_nats_creds "$ca")" "$URL" x y 2>&1) && fail "deprovision: A's user still logs in"
[ ! -e "$SERVER_DIR/jetstream/$(jq -r .account <<<"$ca")" ] ||
	[ -z "$(find "$SERVER_DIR/jetstream/$(jq -r .account <<<"$ca")" -name '*.blk')" ] ||
	fail "deprovision: A's streams are still on disk"
adapter_tenants | grep -qx "$(instance_name "$ia")" && fail "deprovision: A's account is still in the resolver"

step "bad input: unknown parameters get 400 and change nothing"
osb PUT "/v2/service_instances/$(new_id)" "$(provision_body "$SMALL" '{"x": 1}')"
expect_status 400 "provision with an unknown parameter"
osb PUT "/v2/service_instances/$ib/service_bindings/$(new_id)" "$(bind_body "$SMALL" '{"x": 1}')"
expect_status 400 "bind with an unknown parameter"
[ "$(adapter_tenants | wc -l)" = 2 ] || fail "bad input changed the server: $(adapter_tenants | tr '\n' ' ')"

step "a broker restart: bindings still work, the resolver still lists the instance"
broker_stop
broker_start
wait_ready 200 10
adapter_access "$cb" "$cb" k after-restart >/dev/null || fail "after a broker restart: B cannot write"
unbind "$ib" "$bb" "$SMALL"
deprovision "$ib" "$SMALL"
[ -z "$(adapter_tenants)" ] || fail "names left on the server: $(adapter_tenants | tr '\n' ' ')"
no_secret_in "$BROKER_LOG" "$SERVER_DIR/nats.log"
broker_stop
echo "PASS: NATS accounts, limits, updates and deprovision"
