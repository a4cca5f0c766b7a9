#!/usr/bin/env bash
# What only memcached has: the plan's memory, connections and item size enforced by the instance's own
# memcached, SASL only (the ASCII protocol and anonymous binary requests refused), the users file
# private and replaced whole, bindings that survive a broker restart, bad input refused, and a server
# that cannot start failing its provision after three tries.
# Usage: memcached.sh BROKER_BINARY REPO_ROOT
set -euo pipefail
BROKER_BIN=${1:?usage: memcached.sh BROKER_BINARY REPO_ROOT}
ROOT=${2:?repo root}
. "$ROOT/tests/lib/broker.sh"
. "$ROOT/brokers/memcached/tests/adapter.sh"
t_init memcached
# shellcheck disable=SC2086 # a list of tools
need $ADAPTER_TOOLS
use_catalog "$ROOT/catalog/memcached.json"
LARGE=$(plan_id dedicated-large)
range=$(free_range 5)
broker_config '{}' "$(jq -cn --argjson a "$range" '{dedicated: {port_range: [$a, ($a + 4)]}}')"
broker_start
wait_ready 200 10

step "provision dedicated-large: memcached runs with the plan's limits"
ia=$(new_id)
provision "$ia" "$LARGE"
dir=$WORK/data/dedicated/$(instance_name "$ia")
ba=$(new_id)
ca=$(bind "$ia" "$ba" "$LARGE")
server=$(jq -r '.servers[0]' <<<"$ca")
settings=$(memcstat --binary -u "$(jq -r .username <<<"$ca")" -p "$(jq -r .password <<<"$ca")" -s "$server" settings)
grep -q 'maxbytes: 1073741824$' <<<"$settings" || fail "maxbytes is not 1 GB: $(grep maxbytes <<<"$settings")"
grep -q 'maxconns: 4096$' <<<"$settings" || fail "maxconns is not 4096: $(grep maxconns <<<"$settings")"
grep -q 'item_size_max: 4194304$' <<<"$settings" || fail "item_size_max is not 4 MB: $(grep item_size_max <<<"$settings")"
grep -q 'sasl: yes$' <<<"$settings" || fail "SASL is off"

step "credentials: servers list, memcached uri, the tcp endpoint"
jq -e --arg s "$server" '.servers == [$s] and (.username as $u | .uri | startswith("memcached://" + $u + ":")) and
	(.uri | endswith("@" + $s))' <<<"$ca" >/dev/null || fail "credentials: unexpected shape: $(jq -c 'del(.password, .uri)' <<<"$ca")"
[ "$(jq -c .endpoints "$WORK/bind-$ba")" = "[{\"host\":\"127.0.0.1\",\"ports\":[\"${server##*:}\"],\"protocol\":\"tcp\"}]" ] ||
	fail "bind: expected one tcp endpoint $server, got $(jq -c .endpoints "$WORK/bind-$ba")"

step "SASL only: the ASCII protocol and anonymous binary requests are refused"
exec 3<>"/dev/tcp/127.0.0.1/${server##*:}"
printf 'stats\r\n' >&3
reply=$(timeout 2 cat <&3 || true)
exec 3>&-
! grep -q '^STAT' <<<"$reply" || fail "the ASCII protocol answered: $reply"
timeout 3 memccat --binary -s "$server" anything 2>/dev/null && fail "an anonymous binary request was answered"
adapter_access "$ca" "$ca" k v >/dev/null || fail "the binding cannot write"

step "the users file: private, replaced whole (no copy left), the binding's password not in the config"
[ "$(stat -c %a "$dir/sasldb2")" = 600 ] || fail "sasldb2 mode is $(stat -c %a "$dir/sasldb2")"
[ ! -e "$dir/sasldb2.next" ] || fail "the working copy of sasldb2 was left behind"
! grep -qF "$(jq -r .password <<<"$ca")" "$dir/memcached.conf" "$dir/deployment.json" ||
	fail "the binding's password is in the server's config or the deployer's record"
grep -qx "sasldb_path: $dir/sasldb2" "$dir/memcached.conf" || fail "memcached.conf does not name the instance's sasldb"

step "bad input: parameters get 400 and change nothing"
osb PUT "/v2/service_instances/$(new_id)?accepts_incomplete=true" "$(provision_body "$LARGE" '{"memory_mb": 1}')"
expect_status 400 "provision with a parameter"
osb PUT "/v2/service_instances/$ia/service_bindings/$(new_id)" "$(bind_body "$LARGE" '{"x": 1}')"
expect_status 400 "bind with a parameter"
osb PATCH "/v2/service_instances/$ia?accepts_incomplete=true" \
	"$(jq -cn --arg s "$SERVICE_ID" --arg p "$(plan_id dedicated-small)" '{service_id: $s, plan_id: $p}')"
case $status in 4??) ;; *) fail "plan change: expected a 4xx (plans are not updateable), got $status: $body" ;; esac
[ "$(find "$WORK/data/dedicated" -maxdepth 1 -name 'osb_*' | wc -l)" = 1 ] || fail "bad input made a server"

step "a broker restart: the server is adopted, the binding still logs in, unbind still revokes"
broker_stop
broker_start
wait_ready 200 10
adapter_access "$ca" "$ca" k after-restart >/dev/null || fail "after a broker restart the binding cannot write"
unbind "$ia" "$ba" "$LARGE"
adapter_access "$ca" "$ca" k >/dev/null 2>&1 && fail "after unbind the binding still logs in"
deprovision "$ia" "$LARGE"
[ ! -e "$dir" ] || fail "deprovision left $dir"
no_secret_in "$BROKER_LOG"
broker_stop

step "a server that cannot start fails the provision after 3 tries, not at the deadline, and leaves nothing"
broker_config '{"memcached": "/bin/false"}' "$(jq -cn --argjson a "$range" '{dedicated: {port_range: [$a, ($a + 4)]}}')"
broker_start
wait_ready 200 10
ix=$(new_id)
osb PUT "/v2/service_instances/$ix?accepts_incomplete=true" "$(provision_body "$LARGE")"
expect_status 202 "provision with a server program that exits at once"
[ "$(wait_operation "/v2/service_instances/$ix" "provision of $ix")" = failed ] ||
	fail "provision with a server that cannot start: expected failed"
osb GET "/v2/service_instances/$ix/last_operation"
jq -e '.description | test("did not start in 3 tries")' <<<"$body" >/dev/null ||
	fail "the failure does not say it gave up after 3 tries: $body"
[ "$(grep -c '"deployer.start_failed"' "$BROKER_LOG")" = 3 ] ||
	fail "expected 3 starts, the log has $(grep -c '"deployer.start_failed"' "$BROKER_LOG")"
[ "$(find "$WORK/data/dedicated" -maxdepth 1 -name 'osb_*' | wc -l)" = 0 ] ||
	fail "the failed provision left $(ls "$WORK/data/dedicated")"
broker_stop
echo "PASS: memcached limits, SASL only, users file, bad input, restart, a server that cannot start"
