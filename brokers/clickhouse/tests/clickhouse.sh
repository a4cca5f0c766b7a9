#!/usr/bin/env bash
# What only ClickHouse has (the contract runs on plans small and dedicated): isolation seen with
# clickhouse-client over the native protocol (SHOW DATABASES, system tables, other databases), a
# native connection opened before unbind refused after it, read-only bindings, the users.d files (hashed passwords,
# mode 0640, nothing half-written), the plan's quota enforced and kept across other reloads, a plan
# change applied by the server, refused input, users_dir that is not the broker's, and a dedicated
# server's own files.
# Usage: clickhouse.sh BROKER_BINARY REPO_ROOT
BROKER_BIN=${1:?usage: clickhouse.sh BROKER_BINARY REPO_ROOT}
ROOT=${2:?repo root}
# shellcheck source=../../../tests/lib/broker.sh
. "$ROOT/tests/lib/broker.sh"
t_init clickhouse
need clickhouse-server clickhouse-client
# The shipped catalog with a quota small enough to reach on plan small.
jq '(.services[0].plans[] | select(.name == "small") | ."x-osb".quota.queries) = 12' \
	"$ROOT/catalog/clickhouse.json" >"$WORK/catalog.json"
use_catalog "$WORK/catalog.json"
small=$(plan_id small)
large=$(plan_id large)
dedicated=$(plan_id dedicated)
SERVER_SECRET=$(secret)
SECRET_WORDS=$SERVER_SECRET
port=$(free_port)
first=$(free_range 3)
users=$WORK/server/users.d

# client CREDS SQL...: clickhouse-client with a binding's login over the native protocol, on its database.
client() {
	local c=$1
	shift
	timeout 20 clickhouse-client --host 127.0.0.1 --port "$(jq -r .native_port <<<"$c")" --user "$(jq -r .username <<<"$c")" \
		--password "$(jq -r .password <<<"$c")" --database "$(jq -r .database <<<"$c")" "$@" 2>&1
}
admin() { curl -sf -m 20 -u "admin:$SERVER_SECRET" "http://127.0.0.1:$port/" --data-binary "$1"; }
# http CREDS SQL: over the HTTP interface of the credentials; fails unless 200.
http() {
	local out
	out=$(curl -sS -m 20 -u "$(jq -r '"\(.username):\(.password)"' <<<"$1")" -w '\n%{http_code}' \
		"$(jq -r .http_url <<<"$1")?database=$(jq -r .database <<<"$1")" --data-binary "$2" 2>&1) || { echo "$out"; return 1; }
	echo "${out%$'\n'*}"
	[ "${out##*$'\n'}" = 200 ]
}

step "start ClickHouse (native port on) and the broker"
t_on_exit "$ROOT/brokers/clickhouse/server.sh" stop "$WORK/server"
"$ROOT/brokers/clickhouse/server.sh" start "$WORK/server" "$port" "$SERVER_SECRET" >/dev/null
native=$(cat "$WORK/server/tcp.port")
driver=$(jq -cn --argjson port "$port" --arg pw "$SERVER_SECRET" --arg users "$users" --argjson native "$native" \
	--arg server "$(command -v clickhouse-server)" \
	'{port: $port, admin_user: "admin", admin_password: $pw, users_dir: $users, native_port: $native, clickhouse_server: $server}')
broker_config "$driver" "$(jq -cn --argjson a "$first" '{dedicated: {port_range: [$a, ($a + 2)]}}')"
broker_start
wait_ready 200

step "1. bindings of two instances, over the native protocol: each sees its own database only"
i1=$(new_id)
i2=$(new_id)
provision "$i1" "$small"
provision "$i2" "$large"
b1=$(new_id)
c1=$(bind "$i1" "$b1" "$small")
c2=$(bind "$i2" "$(new_id)" "$large")
db1=$(instance_name "$i1")
db2=$(instance_name "$i2")
[ "$(jq -r .native_port <<<"$c1")" = "$native" ] || fail "credentials: expected native_port $native: $c1"
jq -e --arg p "$native" '[.endpoints[].ports[]] | index($p) != null' "$WORK/bind-$b1" >/dev/null ||
	fail "the binding's endpoints should list the native port: $(cat "$WORK/bind-$b1")"
client "$c1" -n -q "CREATE TABLE t (k String) ENGINE = MergeTree ORDER BY k; INSERT INTO t VALUES ('one')" ||
	fail "binding 1 cannot write over the native protocol"
client "$c2" -q "CREATE TABLE secret (k String) ENGINE = Memory" || fail "binding 2 cannot create a table"
[ "$(client "$c1" -q 'SHOW DATABASES' | tr '\n' ' ')" = "$db1 system " ] ||
	fail "SHOW DATABASES should list only $db1 (and system): $(client "$c1" -q 'SHOW DATABASES')"
[ "$(client "$c1" -q "SELECT DISTINCT database FROM system.tables WHERE database != 'system'")" = "$db1" ] ||
	fail "system.tables shows another database"
for sql in "SELECT * FROM $db2.secret" "INSERT INTO $db2.secret VALUES ('x')" "CREATE TABLE $db2.mine (k String) ENGINE = Memory" \
	"DROP TABLE $db2.secret" "CREATE DATABASE mine" "SELECT * FROM merge('$db2', '.*')"; do
	out=$(client "$c1" -q "$sql") && fail "binding 1 was allowed: $sql: $out"
	grep -q 'Code: 291' <<<"$out" || fail "binding 1: $sql: expected code 291 (access denied), got: $out"
done
[ "$(jq -r .uri <<<"$c1")" = "clickhouse://$(jq -r .username <<<"$c1"):$(jq -r .password <<<"$c1")@127.0.0.1:$port/$db1" ] ||
	fail "unexpected uri: $(jq -r .uri <<<"$c1")"

step "2. the users.d files: the password only as its SHA-256, mode 0640, nothing half-written"
f1=$users/$(jq -r .username <<<"$c1").binding.xml
[ "$(stat -c %a "$f1")" = 640 ] || fail "expected mode 640 on $f1"
grep -q "<password_sha256_hex>$(printf %s "$(jq -r .password <<<"$c1")" | sha256sum | cut -d' ' -f1)</password_sha256_hex>" \
	"$f1" || fail "the binding file lacks the password's SHA-256"
no_secret_in "$users"/*.xml
[ -z "$(find "$users" -name '.*')" ] || fail "temporary files left in users.d: $(ls -A "$users")"
grep -q "<database>$db1</database>" "$f1" || fail "the binding file does not allow $db1"
[ "$(grep -c '<database>' "$f1")" = 1 ] || fail "the binding file allows more than one database"

step "3. a read-only binding: SELECT only"
c3=$(bind "$i1" "$(new_id)" "$small" '{"read_only": true}')
[ "$(http "$c3" 'SELECT k FROM t')" = one ] || fail "the read-only binding cannot read"
for sql in "INSERT INTO t VALUES ('two')" 'CREATE TABLE u (k String) ENGINE = Memory' 'DROP TABLE t' 'SYSTEM RELOAD CONFIG' \
	"SELECT * FROM url('http://127.0.0.1:$port/ping', CSV, 'x String')"; do
	out=$(http "$c3" "$sql") && fail "the read-only binding was allowed: $sql: $out"
	grep -q 'readonly mode' <<<"$out" || fail "read-only: $sql: expected a readonly refusal, got: $out"
done
out=$(curl -s -u "$(jq -r '"\(.username):\(.password)"' <<<"$c3")" "http://127.0.0.1:$port/?database=$db1&max_memory_usage=1" \
	--data-binary 'SELECT 1')
grep -q 'readonly mode' <<<"$out" || fail "the read-only binding changed a setting: $out"

step "4. unbind: the user is refused at once, even on a native connection opened before"
# clickhouse-client without a terminal connects at once, then reads its queries until stdin ends.
mkfifo "$WORK/session.in"
client "$c1" -n <"$WORK/session.in" >"$WORK/session.out" &
session=$!
exec 7>"$WORK/session.in"
t_on_exit "exec 7>&-; kill $session"
tcp() { admin "SELECT value FROM system.metrics WHERE metric = 'TCPConnection'"; }
for _ in $(seq 1 100); do [ "$(tcp)" -ge 1 ] && break; sleep 0.05; done
[ "$(tcp)" -ge 1 ] || fail "the native connection of binding 1 did not open"
unbind "$i1" "$b1" "$small"
[ ! -e "$f1" ] || fail "unbind left $f1"
out=$(http "$c1" 'SELECT 1') && fail "unbind: the binding still logs in: $out"
grep -q 'Code: 192' <<<"$out" || fail "unbind: expected Unknown user (192), got: $out"
echo "SELECT 'after', count() FROM t;" >&7
exec 7>&-
wait "$session" || true
grep -q 'Unknown user' "$WORK/session.out" || fail "the open native connection still reads after unbind: $(cat "$WORK/session.out")"
! grep -q after "$WORK/session.out" || fail "the open native connection still reads after unbind"

step "5. the plan's quota: enforced per binding, kept when other bindings reload users.d"
c4=$(bind "$i1" "$(new_id)" "$small")
n=0
while out=$(http "$c4" 'SELECT 1'); do
	n=$((n + 1))
	[ "$n" -le 12 ] || fail "quota: more than 12 queries taken"
done
grep -q 'Code: 201' <<<"$out" || fail "quota: expected code 201 (quota exceeded), got: $out"
bind "$i2" "$(new_id)" "$large" >/dev/null
out=$(http "$c4" 'SELECT 1') && fail "quota: a reload of users.d gave the binding a new quota"

step "6. a plan change is written to the instance's file and applied by the server"
setting() { http "$1" "SELECT value FROM system.settings WHERE name = 'max_execution_time'"; }
[ "$(setting "$c3")" = 60 ] || fail "small: expected max_execution_time 60, got $(setting "$c3")"
osb PATCH "/v2/service_instances/$i1" "$(jq -cn --arg s "$SERVICE_ID" --arg p "$large" '{service_id: $s, plan_id: $p}')"
expect_status 200 "update small -> large"
grep -q '<max_execution_time>600</max_execution_time>' "$users/$db1.instance.xml" || fail "the instance file was not rewritten"
for _ in $(seq 1 100); do [ "$(setting "$c3")" = 600 ] && break; sleep 0.1; done
[ "$(setting "$c3")" = 600 ] || fail "large: the server did not apply max_execution_time 600 within 10 s"

step "7. refused input changes nothing"
before=$(find "$users" -type f | sort | xargs cat | sha256sum)
osb PUT "/v2/service_instances/$i1/service_bindings/$(new_id)" "$(bind_body "$large" '{"read_only": "yes"}')"
expect_status 400 "bind with read_only \"yes\""
osb PUT "/v2/service_instances/$i1/service_bindings/$(new_id)" "$(bind_body "$large" '{"profile": "default"}')"
expect_status 400 "bind with an unknown parameter"
osb PUT "/v2/service_instances/$(new_id)" "$(provision_body "$small" '{"database": "default"}')"
expect_status 400 "provision with a parameter"
[ "$(find "$users" -type f | sort | xargs cat | sha256sum)" = "$before" ] || fail "refused requests changed users.d"

step "8. a dedicated server: HTTP only, the admin's password hashed, the plan's server limits"
d1=$(new_id)
provision "$d1" "$dedicated"
dir=$WORK/data/dedicated/$(instance_name "$d1")
dport=$(jq -r .port "$dir/deployment.json")
cd1=$(bind "$d1" "$(new_id)" "$dedicated")
[ "$(jq -r 'has("native_port")' <<<"$cd1")" = false ] || fail "a dedicated binding has no native port"
[ "$(jq -r .port <<<"$cd1")" = "$dport" ] || fail "expected port $dport in the dedicated credentials"
http "$cd1" "CREATE TABLE t (k String) ENGINE = Memory" >/dev/null || fail "the dedicated binding cannot create a table"
ls "$dir/users.d/"*.binding.xml >/dev/null || fail "no binding file in the dedicated server's users.d"
grep -q '<max_concurrent_queries>20</max_concurrent_queries>' "$dir/config.xml" || fail "config.xml lacks the plan's limit"
grep -q '<tcp_port>' "$dir/config.xml" && fail "a dedicated server must not open a native port"
! grep -qF "$(cat "$dir/admin.pw")" "$dir/users.xml" || fail "the admin's password is in users.xml in clear"
[ "$(pgrep -f "$dir/config.xml" | wc -l)" = 1 ] || fail "expected one server process for $dir"
[ "$(ss -ltnpH | grep -c "pid=$(pgrep -f "$dir/config.xml")," || true)" = 1 ] ||
	fail "the dedicated server listens on more than its HTTP port: $(ss -ltnpH | grep "pid=$(pgrep -f "$dir/config.xml"),")"

step "9. deprovision leaves nothing; no secret in the logs"
for i in "$i1:$large" "$i2:$large" "$d1:$dedicated"; do deprovision "${i%%:*}" "${i#*:}"; done
[ -z "$(ls -A "$users")" ] || fail "deprovision left files in users.d: $(ls -A "$users")"
! admin 'SELECT name FROM system.databases' | grep -q '^osb_' || fail "deprovision left databases"
no_secret_in "$BROKER_LOG" "$WORK/server/server.log" "$WORK/server/error.log"

step "10. a users_dir the broker cannot write: /health/ready says so"
broker_stop
broker_config "$(jq -c '.users_dir = "/nonexistent/users.d"' <<<"$driver")"
broker_start
wait_ready 503
jq -e '.checks.clickhouse.message | test("users_dir")' "$WORK/ready" >/dev/null ||
	fail "/health/ready should name users_dir: $(cat "$WORK/ready")"
broker_stop
echo "PASS: clickhouse"
