#!/usr/bin/env bash
# What only InfluxDB has (the contract runs on plans small and dedicated): the retention policy from
# the plan and the retention_days parameter, refused values that change nothing, what a binding may
# not do (policies, databases, users), read-only bindings, no password in the server's logs, and on
# a dedicated server the plan's series limit enforced, the template's first admin password replaced.
# Usage: influxdb.sh BROKER_BINARY REPO_ROOT
BROKER_BIN=${1:?usage: influxdb.sh BROKER_BINARY REPO_ROOT}
ROOT=${2:?repo root}
# shellcheck source=../../../tests/lib/broker.sh
. "$ROOT/tests/lib/broker.sh"
t_init influxdb
need influxd influx
unset INFLUX_USERNAME INFLUX_PASSWORD || true
# The shipped catalog with a dedicated series limit small enough to reach.
jq '(.services[0].plans[] | select(.name == "dedicated") | ."x-osb".max_series_per_database) = 5' \
	"$ROOT/catalog/influxdb.json" >"$WORK/catalog.json"
use_catalog "$WORK/catalog.json"
small=$(plan_id small)
medium=$(plan_id medium)
dedicated=$(plan_id dedicated)
SERVER_SECRET=$(secret)
SECRET_WORDS=$SERVER_SECRET
port=$(free_port)
first=$(free_range 5)

# as CREDS INFLUXQL: the influx CLI with a binding's login on its database; prints what it says, fails on ERR.
as() {
	local out
	out=$(INFLUX_USERNAME=$(jq -r .username <<<"$1") INFLUX_PASSWORD=$(jq -r .password <<<"$1") timeout 20 \
		influx -host 127.0.0.1 -port "$(jq -r .port <<<"$1")" -database "$(jq -r .database <<<"$1")" -format csv \
		-execute "$2" 2>&1) || { echo "$out"; return 1; }
	echo "$out"
	! grep -q '^ERR' <<<"$out"
}
# admin PORT PASSWORD INFLUXQL: one statement as a server's admin over HTTP.
admin() { curl -s -u "admin:$2" -X POST "http://127.0.0.1:$1/query" --data-urlencode "q=$3"; }
# policy INSTANCE: the duration of the default policy of the instance's database on the shared server.
policy() {
	admin "$port" "$SERVER_SECRET" "SHOW RETENTION POLICIES ON \"$(instance_name "$1")\"" |
		jq -r '.results[0].series[0].values[] | select(.[4] == true) | "\(.[0]) \(.[1]) \(.[2])"'
}
# patch INSTANCE PLAN [PARAMS]: an update; without PARAMS the instance keeps its parameters.
patch() {
	osb PATCH "/v2/service_instances/$1?accepts_incomplete=true" "$(jq -cn --arg s "$SERVICE_ID" --arg p "$2" \
		--argjson params "${3:-null}" '{service_id: $s, plan_id: $p} + if $params then {parameters: $params} else {} end')"
}

step "start InfluxDB and the broker"
t_on_exit "$ROOT/brokers/influxdb/server.sh" stop "$WORK/server"
"$ROOT/brokers/influxdb/server.sh" start "$WORK/server" "$port" "$SERVER_SECRET" >/dev/null
broker_config "$(jq -cn --argjson port "$port" --arg pw "$SERVER_SECRET" --arg influxd "$(command -v influxd)" \
	'{port: $port, admin_user: "admin", admin_password: $pw, influxd: $influxd}')" \
	"$(jq -cn --argjson a "$first" '{dedicated: {port_range: [$a, ($a + 4)]}}')"
broker_start
wait_ready 200

step "1. the default retention policy keeps the plan's days, or the retention_days asked for"
i1=$(new_id)
i2=$(new_id)
provision "$i1" "$small"
[ "$(policy "$i1")" = "autogen 720h0m0s 24h0m0s" ] || fail "small: expected autogen 30 days, got: $(policy "$i1")"
provision "$i2" "$medium" '{"retention_days": 200}'
[ "$(policy "$i2")" = "autogen 4800h0m0s 168h0m0s" ] || fail "medium, 200 days: got $(policy "$i2")"
patch "$i1" "$small" '{"retention_days": 1}'
expect_status 200 "update of retention_days"
[ "$(policy "$i1")" = "autogen 24h0m0s 1h0m0s" ] || fail "update to 1 day: got $(policy "$i1")"

step "2. refused values change nothing"
for params in '{"retention_days": 31}' '{"retention_days": 0}' '{"retention_days": "7"}' '{"retention": 7}'; do
	patch "$i1" "$small" "$params"
	expect_status 400 "update with $params"
	jq -e '.description | length > 0' <<<"$body" >/dev/null || fail "update with $params: no description: $body"
done
osb PUT "/v2/service_instances/$(new_id)" "$(provision_body "$small" '{"retention_days": 366}')"
expect_status 400 "provision with retention_days 366"
# Moving to small without new parameters keeps the 200 days asked for, which small does not allow: refused, plan and policy unchanged.
patch "$i2" "$small"
expect_status 400 "move of a 200-day instance to small"
grep -q 'retention_days 200' <<<"$body" || fail "the refusal should name retention_days 200: $body"
[ "$(policy "$i2")" = "autogen 4800h0m0s 168h0m0s" ] || fail "the refused move changed the policy: $(policy "$i2")"
osb GET "/v2/service_instances/$i2"
[ "$(jq -r .plan_id <<<"$body")" = "$medium" ] || fail "the refused move changed the plan: $body"
[ "$(admin "$port" "$SERVER_SECRET" 'SHOW DATABASES' | jq '.results[0].series[0].values | length')" = 2 ] ||
	fail "a refused provision made a database"

step "3. a binding reads and writes its database, sees no other, and cannot change policies, databases or users"
b1=$(new_id)
c1=$(bind "$i1" "$b1" "$small")
as "$c1" 'INSERT m,k=a v=1' >/dev/null || fail "binding 1 cannot write"
[ "$(as "$c1" 'SELECT v FROM m' | tail -n 1 | cut -d, -f3)" = 1 ] || fail "binding 1 cannot read back"
[ "$(as "$c1" 'SHOW DATABASES' | tail -n +2 | cut -d, -f2)" = "$(instance_name "$i1")" ] ||
	fail "SHOW DATABASES should list the binding's database only: $(as "$c1" 'SHOW DATABASES')"
for stmt in 'ALTER RETENTION POLICY autogen ON '"$(instance_name "$i1")"' DURATION INF' \
	'CREATE RETENTION POLICY long ON '"$(instance_name "$i1")"' DURATION 1000d REPLICATION 1 DEFAULT' \
	'DROP DATABASE '"$(instance_name "$i1")" 'CREATE DATABASE mine' 'SHOW USERS' 'CREATE USER x WITH PASSWORD '"'y'" \
	'GRANT ALL ON '"$(instance_name "$i2")"' TO '"$(jq -r .username <<<"$c1")" 'SHOW STATS' 'KILL QUERY 1'; do
	out=$(as "$c1" "$stmt") && fail "binding 1 was allowed: $stmt: $out"
	grep -qE 'not authorized|requires admin' <<<"$out" || fail "binding 1: $stmt: expected an authorization error, got: $out"
done
[ "$(policy "$i1")" = "autogen 24h0m0s 1h0m0s" ] || fail "the policy changed: $(policy "$i1")"

step "4. a read-only binding reads and cannot write"
b2=$(new_id)
c2=$(bind "$i1" "$b2" "$small" '{"read_only": true}')
[ "$(jq -r .read_only <<<"$c2")" = true ] || fail "credentials: expected read_only true"
[ "$(as "$c2" 'SELECT v FROM m' | tail -n 1 | cut -d, -f3)" = 1 ] || fail "the read-only binding cannot read"
out=$(as "$c2" 'INSERT m,k=b v=2') && fail "the read-only binding wrote: $out"
grep -q 'not authorized to write' <<<"$out" || fail "read-only write: expected 'not authorized to write', got: $out"
out=$(as "$c2" 'DELETE FROM m') && fail "the read-only binding deleted: $out"
osb PUT "/v2/service_instances/$i1/service_bindings/$(new_id)" "$(bind_body "$small" '{"read_only": "yes"}')"
expect_status 400 "bind with read_only \"yes\""

step "5. a dedicated server: the plan's series limit, the template's password replaced, no anonymous access"
d1=$(new_id)
provision "$d1" "$dedicated"
dir=$WORK/data/dedicated/$(instance_name "$d1")
dport=$(jq -r .port "$dir/deployment.json")
[ "$(admin "$dport" "$(cat "$dir/admin.pw")" 'SHOW USERS' | jq -r '.results[0].series[0].values[0][0]')" = admin ] ||
	fail "the dedicated server's admin login does not work"
tpw=$(cat "$WORK/data/dedicated/.templates/influxdb/template.pw")
[ "$(admin "$dport" "$tpw" 'SHOW USERS' | jq -r .error)" = "authorization failed" ] ||
	fail "the template's admin password still opens the dedicated server"
[ ! -e "$dir/data/template.pw" ] || fail "the instance's copy of the template password is still there"
grep -q 'unable to parse authentication credentials' <<<"$(admin "$dport" "" 'SHOW DATABASES' 2>&1; curl -s \
	-X POST "http://127.0.0.1:$dport/query" --data-urlencode 'q=SHOW DATABASES')" || fail "anonymous query not refused"
grep -q '^  max-series-per-database = 5$' "$dir/influxdb.conf" || fail "influxdb.conf lacks the plan's series limit"
cd1=$(bind "$d1" "$(new_id)" "$dedicated")
for k in 1 2 3 4 5; do as "$cd1" "INSERT m,k=$k v=$k" >/dev/null || fail "dedicated: series $k refused"; done
out=$(as "$cd1" 'INSERT m,k=6 v=6') && fail "dedicated: a sixth series was taken: $out"
grep -q 'max-series-per-database limit exceeded' <<<"$out" || fail "dedicated: expected the series limit, got: $out"
patch "$d1" "$small"
expect_status 422 "move of a dedicated instance to another plan (not plan_updateable)"
patch "$d1" "$dedicated" '{"retention_days": 10}'
expect_status 202 "update of a dedicated instance's retention"
[ "$(wait_operation "/v2/service_instances/$d1" "update $d1")" = succeeded ] || fail "dedicated update failed: $body"
[ "$(admin "$dport" "$(cat "$dir/admin.pw")" "SHOW RETENTION POLICIES ON \"$(instance_name "$d1")\"" |
	jq -r '.results[0].series[0].values[0][1]')" = 240h0m0s ] || fail "dedicated: retention not updated"

step "6. no password in the server's logs or the broker's; deprovision leaves nothing"
no_secret_in "$WORK/server/influxd.log" "$BROKER_LOG" "$dir/server.log"
grep -q 'WITH PASSWORD \[REDACTED\]' "$WORK/server/influxd.log" || fail "the server's query log should show redacted CREATE USER"
for i in "$i1:$small" "$i2:$medium" "$d1:$dedicated"; do deprovision "${i%%:*}" "${i#*:}"; done
[ "$(admin "$port" "$SERVER_SECRET" 'SHOW DATABASES' | jq '.results[0].series[0].values // [] | length')" = 0 ] ||
	fail "databases left on the server"
[ "$(admin "$port" "$SERVER_SECRET" 'SHOW USERS' | jq -r '[.results[0].series[0].values[][0]] | join(" ")')" = admin ] ||
	fail "users left on the server"
broker_stop
echo "PASS: influxdb"
