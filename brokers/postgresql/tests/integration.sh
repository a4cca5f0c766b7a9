#!/usr/bin/env bash
# Integration test of osb-postgresql-broker against a real PostgreSQL 15 started here on loopback.
# Usage: integration.sh BROKER_BINARY REPO_ROOT
# Every failed check exits non-zero saying what was expected and what came back.
set -euo pipefail

broker_bin=${1:?usage: integration.sh BROKER_BINARY REPO_ROOT}
root=${2:?usage: integration.sh BROKER_BINARY REPO_ROOT}
root=$(cd "$root" && pwd)
for tool in curl jq psql; do
	command -v "$tool" >/dev/null || { echo "FAIL: $tool is needed on PATH" >&2; exit 1; }
done

work=$(mktemp -d /tmp/osb-pg-it.XXXXXX)
# pg-start.sh runs the server as "postgres" when we are root: it must reach $work/pg.
chmod 711 "$work"
broker_pid=
bg_pids=()

cleanup() {
	local rc=$?
	set +e
	for p in "${bg_pids[@]}"; do kill "$p" 2>/dev/null; done
	if [ -n "$broker_pid" ]; then
		kill -TERM "$broker_pid" 2>/dev/null
		wait "$broker_pid" 2>/dev/null
	fi
	"$root/scripts/pg-stop.sh" "$work/pg" >/dev/null 2>&1
	if [ "$rc" != 0 ] && [ -f "$work/broker.log" ]; then
		echo "--- last lines of the broker's log ---" >&2
		tail -n 40 "$work/broker.log" >&2
	fi
	rm -rf "$work"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
	echo "FAIL: $*" >&2
	exit 1
}
step() {
	echo "== $*"
}

admin_pw=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
broker_pw=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
pg_port=$("$root/scripts/free-port.sh")
broker_port=$("$root/scripts/free-port.sh" $((pg_port + 1)))
export PGCONNECT_TIMEOUT=5
unset PGPASSWORD PGUSER PGHOST PGPORT PGDATABASE PGSERVICE || true

service_id=$(jq -r '.services[0].id' "$root/catalog/postgresql.json")
plan_id() { jq -r --arg n "$1" '.services[0].plans[] | select(.name == $n) | .id' "$root/catalog/postgresql.json"; }
small=$(plan_id small)
medium=$(plan_id medium)
large=$(plan_id large)

# The server-side name of an instance, as names.h derives it.
instance_name() { printf 'osb_%s' "$(printf 'instance:%s' "$1" | sha256sum | cut -c1-20)"; }
binding_name() { printf 'osb_%s' "$(printf 'binding:%s' "$1" | sha256sum | cut -c1-20)"; }
new_id() { cat /proc/sys/kernel/random/uuid; }

# SQL as the admin, one value per line.
admin_sql() {
	local db=$1 sql=$2
	PGPASSWORD=$admin_pw psql -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$pg_port" -U postgres -d "$db" -c "$sql"
}

# One OSB request: sets $status and $body.
osb() {
	local method=$1 path=$2 data=${3:-}
	local args=(-s -o "$work/body" -w '%{http_code}' -X "$method" -u "broker:$broker_pw"
		-H 'X-Broker-API-Version: 2.17' -H 'Content-Type: application/json')
	[ -n "$data" ] && args+=(--data "$data")
	status=$(curl "${args[@]}" "http://127.0.0.1:$broker_port$path") || status=000
	body=$(cat "$work/body" 2>/dev/null || true)
}
expect_status() {
	local want=$1 what=$2
	[ "$status" = "$want" ] || fail "$what: expected HTTP $want, got $status: $body"
}

provision_body() {
	jq -cn --arg s "$service_id" --arg p "$1" --argjson params "${2:-{\}}" \
		'{service_id: $s, plan_id: $p, organization_guid: "org-1", space_guid: "space-1", parameters: $params}'
}
bind_body() {
	jq -cn --arg s "$service_id" --arg p "$1" --arg pred "${2:-}" \
		'{service_id: $s, plan_id: $p, bind_resource: {app_guid: "app-1"}} + (if $pred == "" then {} else {predecessor_binding_id: $pred} end)'
}
# Bind and check every credential key; prints the credentials object.
bind() {
	local inst=$1 bid=$2 plan=$3 pred=${4:-}
	osb PUT "/v2/service_instances/$inst/service_bindings/$bid" "$(bind_body "$plan" "$pred")"
	expect_status 201 "bind $bid"
	local c key
	c=$(jq -c '.credentials' <<<"$body")
	for key in hostname host port name database username password uri jdbcUrl; do
		[ "$(jq -r --arg k "$key" '.[$k] // empty' <<<"$c")" != "" ] ||
			fail "bind $bid: expected credential key $key, got $(jq -c 'keys' <<<"$c")"
	done
	[ "$(jq -r '.port | type' <<<"$c")" = number ] || fail "bind $bid: expected a numeric port, got $(jq -c .port <<<"$c")"
	[ "$(jq -r .name <<<"$c")" = "$(instance_name "$inst")" ] ||
		fail "bind $bid: expected database $(instance_name "$inst"), got $(jq -r .name <<<"$c")"
	[ "$(jq -r .username <<<"$c")" = "$(binding_name "$bid")" ] ||
		fail "bind $bid: expected user $(binding_name "$bid"), got $(jq -r .username <<<"$c")"
	[ "$(jq -r '.password | length' <<<"$c")" -ge 32 ] || fail "bind $bid: expected a 32-character password"
	[ "$(jq -r '.uri' <<<"$c")" = "postgresql://$(jq -r .username <<<"$c"):$(jq -r .password <<<"$c")@127.0.0.1:$pg_port/$(jq -r .name <<<"$c")" ] ||
		fail "bind $bid: unexpected uri shape"
	case $(jq -r .jdbcUrl <<<"$c") in
	"jdbc:postgresql://127.0.0.1:$pg_port/$(jq -r .name <<<"$c")?user="*"&password="*) ;;
	*) fail "bind $bid: unexpected jdbcUrl shape" ;;
	esac
	echo "$c" >"$work/cred-$bid.json"
	printf '%s' "$c"
}
# psql as a binding; prints the output (stdout and stderr) and keeps psql's status.
as_binding() {
	local uri=$1 sql=$2
	psql -X -q -At -v ON_ERROR_STOP=1 -d "$uri" -c "$sql" 2>&1
}
uri_with_db() {
	jq -r --arg db "$2" '"postgresql://\(.username):\(.password)@127.0.0.1:\(.port)/\($db)"' <<<"$1"
}

# ---------------------------------------------------------------------------
step "start the broker on 127.0.0.1:$broker_port while PostgreSQL is still down"
mkdir -p "$work/data"
jq -n --arg listen "127.0.0.1:$broker_port" --arg pw "$broker_pw" --arg cat "$root/catalog/postgresql.json" \
	--arg data "$work/data" --argjson port "$pg_port" '{
		listen: $listen,
		accounts: [{username: "broker", password: $pw}],
		catalog: $cat,
		data_dir: $data,
		store: {type: "sqlite"},
		log_level: "info",
		driver: {host: "127.0.0.1", port: $port, admin_user: "postgres", sslmode: "disable"}
	}' >"$work/broker.json"
# The admin password comes from the environment, as an operator would keep it out of the file.
export OSB_DRIVER_ADMIN_PASSWORD=$admin_pw
"$broker_bin" --config "$work/broker.json" >"$work/broker.log" 2>&1 &
broker_pid=$!
for _ in $(seq 1 200); do
	code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$broker_port/health/live") || code=000
	[ "$code" = 200 ] && break
	kill -0 "$broker_pid" 2>/dev/null || fail "broker exited during start-up with PostgreSQL down (log above)"
	sleep 0.05
done
[ "$code" = 200 ] || fail "expected /health/live 200 within 10 s, got $code"
code=$(curl -s -o "$work/body" -w '%{http_code}' "http://127.0.0.1:$broker_port/health/ready") || code=000
[ "$code" = 503 ] || fail "expected /health/ready 503 while PostgreSQL is down, got $code: $(cat "$work/body")"
osb PUT "/v2/service_instances/$(new_id)" "$(provision_body "$small")"
case $status in 5??) ;; *) fail "provision with PostgreSQL down: expected a 5xx answer, got $status: $body" ;; esac
grep -qF "$admin_pw" <<<"$body" && fail "provision with PostgreSQL down: the answer contains the admin password"
grep -qi 'connect' <<<"$body" || fail "provision with PostgreSQL down: expected a description about connecting, got: $body"

step "start PostgreSQL on 127.0.0.1:$pg_port"
"$root/scripts/pg-start.sh" "$work/pg" "$pg_port" "$admin_pw" >/dev/null
ready=000
for _ in $(seq 1 100); do
	ready=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$broker_port/health/ready") || ready=000
	[ "$ready" = 200 ] && break
	sleep 0.05
done
[ "$ready" = 200 ] || fail "expected /health/ready 200 once PostgreSQL is up, got $ready"

# ---------------------------------------------------------------------------
step "1. catalog and provision"
osb GET /v2/catalog
expect_status 200 "GET /v2/catalog"
[ "$(jq -r '.services[0].id' <<<"$body")" = "$service_id" ] || fail "catalog: expected service $service_id, got $(jq -c '.services[0].id' <<<"$body")"
[ "$(jq '.services[0].plans | length' <<<"$body")" = 3 ] || fail "catalog: expected 3 plans, got $(jq '.services[0].plans | length' <<<"$body")"
grep -q 'x-osb' <<<"$body" && fail "catalog: expected the private x-osb objects to be stripped"

i1=$(new_id)
db1=$(instance_name "$i1")
osb PUT "/v2/service_instances/$i1" "$(provision_body "$small")"
expect_status 201 "provision $i1"
[ "$(admin_sql postgres "SELECT datname FROM pg_database WHERE datname = '$db1'")" = "$db1" ] ||
	fail "provision: expected database $db1 on the server"
[ "$(admin_sql postgres "SELECT rolcanlogin FROM pg_roles WHERE rolname = '$db1'")" = f ] ||
	fail "provision: expected a NOLOGIN owner role $db1"
[ "$(admin_sql postgres "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = '$db1'")" = "$db1" ] ||
	fail "provision: expected $db1 to own database $db1"
got=$(admin_sql postgres "SELECT datconnlimit FROM pg_database WHERE datname = '$db1'")
[ "$got" = 10 ] || fail "provision: expected connection limit 10 (plan small), got $got"

# ---------------------------------------------------------------------------
step "2. bind, use the database, share tables between bindings"
b1=$(new_id)
c1=$(bind "$i1" "$b1" "$small")
uri1=$(jq -r .uri <<<"$c1")
out=$(as_binding "$uri1" "CREATE TABLE notes (id int PRIMARY KEY, body text)") || fail "binding 1: expected CREATE TABLE to work, got: $out"
out=$(as_binding "$uri1" "INSERT INTO notes VALUES (1, 'hello')") || fail "binding 1: expected INSERT to work, got: $out"
out=$(as_binding "$uri1" "SELECT body FROM notes WHERE id = 1") || fail "binding 1: expected SELECT to work, got: $out"
[ "$out" = hello ] || fail "binding 1: expected to read 'hello', got '$out'"
owner=$(admin_sql "$db1" "SELECT tableowner FROM pg_tables WHERE tablename = 'notes'")
[ "$owner" = "$db1" ] || fail "binding 1: expected table notes to belong to the owner role $db1, got $owner"

b2=$(new_id)
c2=$(bind "$i1" "$b2" "$small")
uri2=$(jq -r .uri <<<"$c2")
[ "$(jq -r .password <<<"$c2")" != "$(jq -r .password <<<"$c1")" ] || fail "bind: expected a different password per binding"
out=$(as_binding "$uri2" "SELECT body FROM notes WHERE id = 1") || fail "binding 2: expected to read binding 1's table, got: $out"
[ "$out" = hello ] || fail "binding 2: expected 'hello', got '$out'"
out=$(as_binding "$uri2" "INSERT INTO notes VALUES (2, 'from b2')") || fail "binding 2: expected INSERT to work, got: $out"

step "2b. repeated bind is answered 200 with the same credentials"
osb PUT "/v2/service_instances/$i1/service_bindings/$b2" "$(bind_body "$small")"
expect_status 200 "identical bind $b2"
[ "$(jq -r .credentials.password <<<"$body")" = "$(jq -r .password <<<"$c2")" ] ||
	fail "identical bind: expected the stored credentials back"

step "2c. rotation: the successor gets a role of its own, the predecessor keeps working"
b2r=$(new_id)
c2r=$(bind "$i1" "$b2r" "$small" "$b2")
[ "$(jq -r .username <<<"$c2r")" != "$(jq -r .username <<<"$c2")" ] || fail "rotation: expected a new username"
out=$(as_binding "$(jq -r .uri <<<"$c2r")" "SELECT count(*) FROM notes") || fail "rotation: expected the successor to read notes, got: $out"
[ "$out" = 2 ] || fail "rotation: expected 2 rows, got $out"
out=$(as_binding "$uri2" "SELECT 1") || fail "rotation: expected the predecessor to keep working until unbound, got: $out"

# ---------------------------------------------------------------------------
step "3. another instance's credentials cannot reach the first instance"
i2=$(new_id)
db2=$(instance_name "$i2")
osb PUT "/v2/service_instances/$i2" "$(provision_body "$small")"
expect_status 201 "provision $i2"
b3=$(new_id)
c3=$(bind "$i2" "$b3" "$small")
uri3=$(jq -r .uri <<<"$c3")
out=$(as_binding "$uri3" "SELECT 1") || fail "binding 3: expected to connect to its own database, got: $out"
if out=$(as_binding "$(uri_with_db "$c3" "$db1")" "SELECT body FROM notes"); then
	fail "binding 3: expected to be refused on $db1, but read: $out"
fi
grep -qi 'permission denied' <<<"$out" || fail "binding 3 on $db1: expected 'permission denied', got: $out"
if out=$(as_binding "$uri3" "SET ROLE $db1"); then
	fail "binding 3: expected SET ROLE to instance 1's owner to be refused"
fi
grep -qi 'permission denied' <<<"$out" || fail "binding 3 SET ROLE $db1: expected 'permission denied', got: $out"
if out=$(as_binding "$(uri_with_db "$c1" "$db2")" "SELECT 1"); then
	fail "binding 1: expected to be refused on $db2"
fi
grep -qi 'permission denied' <<<"$out" || fail "binding 1 on $db2: expected 'permission denied', got: $out"

# ---------------------------------------------------------------------------
step "4. unbind ends live sessions and revokes the credentials"
timeout 60 psql -X -q -At -d "$uri1" -c 'SELECT pg_sleep(30)' >"$work/sleep.out" 2>&1 &
sleeper=$!
bg_pids+=("$sleeper")
user1=$(jq -r .username <<<"$c1")
n=0
for _ in $(seq 1 100); do
	n=$(admin_sql postgres "SELECT count(*) FROM pg_stat_activity WHERE usename = '$user1' AND query LIKE '%pg_sleep%'")
	[ "$n" -ge 1 ] && break
	sleep 0.05
done
[ "$n" -ge 1 ] || fail "unbind: expected binding 1's pg_sleep session to be running"
osb DELETE "/v2/service_instances/$i1/service_bindings/$b1?service_id=$service_id&plan_id=$small"
expect_status 200 "unbind $b1"
for _ in $(seq 1 100); do
	kill -0 "$sleeper" 2>/dev/null || break
	sleep 0.05
done
if kill -0 "$sleeper" 2>/dev/null; then
	fail "unbind: expected binding 1's live session to be terminated, it is still running"
fi
sleep_rc=0
wait "$sleeper" || sleep_rc=$?
[ "$sleep_rc" != 0 ] || fail "unbind: expected the pg_sleep session to fail, it finished normally"
grep -qi 'terminat' "$work/sleep.out" || fail "unbind: expected 'terminating connection', psql said: $(cat "$work/sleep.out")"
if out=$(as_binding "$uri1" "SELECT 1"); then
	fail "unbind: expected binding 1's credentials to be refused, but connected"
fi
grep -qi 'authentication failed' <<<"$out" || fail "unbind: expected 'password authentication failed', got: $out"
[ -z "$(admin_sql postgres "SELECT rolname FROM pg_roles WHERE rolname = '$user1'")" ] || fail "unbind: expected role $user1 to be gone"
out=$(as_binding "$uri2" "SELECT count(*) FROM notes") || fail "unbind: expected binding 2 to keep the data, got: $out"
[ "$out" = 2 ] || fail "unbind: expected 2 rows left in notes, got $out"
osb DELETE "/v2/service_instances/$i1/service_bindings/$b1?service_id=$service_id&plan_id=$small"
expect_status 410 "second unbind of $b1"

# ---------------------------------------------------------------------------
step "5. plan update changes the connection limit; update adds extensions"
osb PATCH "/v2/service_instances/$i1" "$(jq -cn --arg s "$service_id" --arg p "$medium" '{service_id: $s, plan_id: $p}')"
expect_status 200 "update $i1 to medium"
got=$(admin_sql postgres "SELECT datconnlimit FROM pg_database WHERE datname = '$db1'")
[ "$got" = 50 ] || fail "update: expected connection limit 50 (plan medium), got $got"
osb PATCH "/v2/service_instances/$i1" "$(jq -cn --arg s "$service_id" --arg p "$large" '{service_id: $s, plan_id: $p, parameters: {extensions: ["hstore", "uuid-ossp"]}}')"
expect_status 200 "update $i1 to large with extensions"
got=$(admin_sql postgres "SELECT datconnlimit FROM pg_database WHERE datname = '$db1'")
[ "$got" = 200 ] || fail "update: expected connection limit 200 (plan large), got $got"
got=$(admin_sql "$db1" "SELECT string_agg(extname, ',' ORDER BY extname) FROM pg_extension WHERE extname <> 'plpgsql'")
[ "$got" = "hstore,uuid-ossp" ] || fail "update: expected extensions hstore,uuid-ossp, got '$got'"
out=$(as_binding "$uri2" "SELECT length(uuid_generate_v4()::text)") || fail "update: expected binding 2 to use uuid-ossp, got: $out"
[ "$out" = 36 ] || fail "update: expected a 36-character uuid, got $out"
osb PATCH "/v2/service_instances/$i1" "$(jq -cn --arg s "$service_id" --arg p "$large" '{service_id: $s, plan_id: $p, parameters: {extensions: ["plperlu"]}}')"
expect_status 400 "update with a disallowed extension"

# ---------------------------------------------------------------------------
step "6. provision parameters: allowed extensions are created, others refused"
i3=$(new_id)
db3=$(instance_name "$i3")
osb PUT "/v2/service_instances/$i3" "$(provision_body "$small" '{"extensions":["pgcrypto"]}')"
expect_status 201 "provision $i3 with pgcrypto"
got=$(admin_sql "$db3" "SELECT extname FROM pg_extension WHERE extname = 'pgcrypto'")
[ "$got" = pgcrypto ] || fail "provision: expected extension pgcrypto in $db3, got '$got'"
for params in '{"extensions":["plpython3u"]}' '{"extensions":"pgcrypto"}' '{"extensions":["pgcrypto","pgcrypto"]}' '{"owner":"postgres"}'; do
	i4=$(new_id)
	db4=$(instance_name "$i4")
	osb PUT "/v2/service_instances/$i4" "$(provision_body "$small" "$params")"
	expect_status 400 "provision with parameters $params"
	[ -z "$(admin_sql postgres "SELECT datname FROM pg_database WHERE datname = '$db4' UNION SELECT rolname FROM pg_roles WHERE rolname = '$db4'")" ] ||
		fail "provision with $params: expected nothing created for $db4"
done

# ---------------------------------------------------------------------------
step "8. repeated and conflicting requests"
osb PUT "/v2/service_instances/$i3" "$(provision_body "$small" '{"extensions":["pgcrypto"]}')"
expect_status 200 "identical provision of $i3"
osb PUT "/v2/service_instances/$i3" "$(provision_body "$medium" '{"extensions":["pgcrypto"]}')"
expect_status 409 "provision of $i3 with another plan"
osb DELETE "/v2/service_instances/$(new_id)?service_id=$service_id&plan_id=$small"
expect_status 410 "deprovision of an unknown instance"

# ---------------------------------------------------------------------------
step "reconcile: orphans on the server are reported and purged, live tenants kept"
orphan_db=osb_0123456789abcdef0123
orphan_user=osb_fedcba9876543210fedc
admin_sql postgres "CREATE ROLE $orphan_db NOLOGIN" >/dev/null
admin_sql postgres "CREATE DATABASE $orphan_db OWNER $orphan_db" >/dev/null
admin_sql postgres "CREATE ROLE $orphan_user LOGIN IN ROLE $orphan_db" >/dev/null
"$broker_bin" --config "$work/broker.json" --reconcile >"$work/reconcile.out" 2>>"$work/broker.log" ||
	fail "--reconcile: expected exit 0, got $? (output: $(cat "$work/reconcile.out"))"
for n in "$orphan_db" "$orphan_user"; do
	grep -q "\"orphan\":\"$n\"" "$work/reconcile.out" || fail "--reconcile: expected orphan $n reported, got: $(cat "$work/reconcile.out")"
done
for n in "$db1" "$db2" "$db3" "$(jq -r .username <<<"$c2")"; do
	grep -q "$n" "$work/reconcile.out" && fail "--reconcile: live tenant $n reported as an orphan: $(cat "$work/reconcile.out")"
done
[ -n "$(admin_sql postgres "SELECT 1 FROM pg_database WHERE datname = '$orphan_db'")" ] || fail "--reconcile without purge: expected $orphan_db kept"
"$broker_bin" --config "$work/broker.json" --reconcile=purge >"$work/reconcile.out" 2>>"$work/broker.log" ||
	fail "--reconcile=purge: expected exit 0 (output: $(cat "$work/reconcile.out"))"
left=$(admin_sql postgres "SELECT datname FROM pg_database WHERE datname IN ('$orphan_db') UNION ALL SELECT rolname FROM pg_roles WHERE rolname IN ('$orphan_db', '$orphan_user')")
[ -z "$left" ] || fail "--reconcile=purge: expected the orphans gone, found: $(tr '\n' ' ' <<<"$left")"
got=$(admin_sql postgres "SELECT count(*) FROM pg_database WHERE datname IN ('$db1', '$db2', '$db3')")
[ "$got" = 3 ] || fail "--reconcile=purge: expected the 3 live databases kept, found $got"
out=$(as_binding "$uri2" "SELECT count(*) FROM notes") || fail "--reconcile=purge: expected binding 2 to keep working, got: $out"

# ---------------------------------------------------------------------------
step "7. unbind and deprovision everything; nothing named osb_ is left"
# b2 was made under plan small; the core wants the binding's own plan even after the instance's update.
osb DELETE "/v2/service_instances/$i1/service_bindings/$b2?service_id=$service_id&plan_id=$small"
expect_status 200 "unbind $b2"
osb DELETE "/v2/service_instances/$i1/service_bindings/$b2r?service_id=$service_id&plan_id=$small"
expect_status 200 "unbind $b2r"
osb DELETE "/v2/service_instances/$i2/service_bindings/$b3?service_id=$service_id&plan_id=$small"
expect_status 200 "unbind $b3"
osb DELETE "/v2/service_instances/$i1?service_id=$service_id&plan_id=$large"
expect_status 200 "deprovision $i1"
osb DELETE "/v2/service_instances/$i2?service_id=$service_id&plan_id=$small"
expect_status 200 "deprovision $i2"
osb DELETE "/v2/service_instances/$i3?service_id=$service_id&plan_id=$small"
expect_status 200 "deprovision $i3"
osb DELETE "/v2/service_instances/$i3?service_id=$service_id&plan_id=$small"
expect_status 410 "second deprovision of $i3"
left=$(admin_sql postgres "SELECT datname FROM pg_database WHERE datname LIKE 'osb\_%' UNION ALL SELECT rolname FROM pg_roles WHERE rolname LIKE 'osb\_%'")
[ -z "$left" ] || fail "deprovision: expected no osb_ databases or roles, found: $(tr '\n' ' ' <<<"$left")"

# ---------------------------------------------------------------------------
step "no secret in the logs"
for bid in "$b1" "$b2" "$b2r" "$b3"; do
	pw=$(jq -r .password "$work/cred-$bid.json")
	grep -qF "$pw" "$work/broker.log" && fail "broker log: expected no binding password, found binding $bid's"
	grep -qF "$pw" "$work/pg/postgres.log" && fail "server log: expected no binding password, found binding $bid's"
done
grep -qF "$admin_pw" "$work/broker.log" && fail "broker log: expected no admin password, found it"

step "the broker stops cleanly"
kill -TERM "$broker_pid"
broker_rc=0
wait "$broker_pid" || broker_rc=$?
broker_pid=
[ "$broker_rc" = 0 ] || fail "broker: expected exit status 0 after SIGTERM, got $broker_rc"

echo "PASS: postgresql broker integration test"
