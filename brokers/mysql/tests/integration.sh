#!/usr/bin/env bash
# Integration test of osb-mysql-broker (shared plans) against a real MariaDB started here on loopback.
# Usage: integration.sh BROKER_BINARY REPO_ROOT
# Every failed check exits non-zero saying what was expected and what came back.
set -euo pipefail

broker_bin=${1:?usage: integration.sh BROKER_BINARY REPO_ROOT}
root=${2:?usage: integration.sh BROKER_BINARY REPO_ROOT}
root=$(cd "$root" && pwd)
for tool in curl jq mariadb sha256sum; do
	command -v "$tool" >/dev/null || { echo "FAIL: $tool is needed on PATH" >&2; exit 1; }
done

work=$(mktemp -d /tmp/osb-mysql-it.XXXXXX)
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
	"$root/scripts/mariadb-stop.sh" "$work/db" >/dev/null 2>&1
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
db_port=$("$root/scripts/free-port.sh")
broker_port=$("$root/scripts/free-port.sh" $((db_port + 1)))
unset MYSQL_PWD MYSQL_HOST MYSQL_TCP_PORT || true

catalog=$root/catalog/mysql.json
service_id=$(jq -r '.services[0].id' "$catalog")
plan_id() { jq -r --arg n "$1" '.services[0].plans[] | select(.name == $n) | .id' "$catalog"; }
small=$(plan_id small)
medium=$(plan_id medium)
large=$(plan_id large)

# The server-side names of an instance and a binding, as names.h derives them.
instance_name() { printf 'osb_%s' "$(printf 'instance:%s' "$1" | sha256sum | cut -c1-20)"; }
binding_name() { printf 'osb_%s' "$(printf 'binding:%s' "$1" | sha256sum | cut -c1-20)"; }
new_id() { cat /proc/sys/kernel/random/uuid; }

# SQL as the admin, one row per line, tab-separated.
admin_sql() {
	MYSQL_PWD=$admin_pw mariadb --no-defaults --connect-timeout=5 -h 127.0.0.1 -P "$db_port" -u root -N -B -r -e "$1"
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
	jq -cn --arg s "$service_id" --arg p "$1" '{service_id: $s, plan_id: $p, bind_resource: {app_guid: "app-1"}}'
}
# Bind and check every credential key; prints the credentials object.
bind() {
	local inst=$1 bid=$2 plan=$3
	osb PUT "/v2/service_instances/$inst/service_bindings/$bid" "$(bind_body "$plan")"
	expect_status 201 "bind $bid"
	local c key user pw db
	c=$(jq -c '.credentials' <<<"$body")
	for key in hostname host port name database username password uri jdbcUrl; do
		[ "$(jq -r --arg k "$key" '.[$k] // empty' <<<"$c")" != "" ] ||
			fail "bind $bid: expected credential key $key, got $(jq -c 'keys' <<<"$c")"
	done
	[ "$(jq -r '.port | type' <<<"$c")" = number ] || fail "bind $bid: expected a numeric port, got $(jq -c .port <<<"$c")"
	[ "$(jq -r .port <<<"$c")" = "$db_port" ] || fail "bind $bid: expected port $db_port, got $(jq -r .port <<<"$c")"
	[ "$(jq -r .hostname <<<"$c")" = 127.0.0.1 ] || fail "bind $bid: expected hostname 127.0.0.1"
	db=$(jq -r .name <<<"$c")
	user=$(jq -r .username <<<"$c")
	pw=$(jq -r .password <<<"$c")
	[ "$db" = "$(instance_name "$inst")" ] || fail "bind $bid: expected database $(instance_name "$inst"), got $db"
	[ "$(jq -r .database <<<"$c")" = "$db" ] || fail "bind $bid: expected database alias = name"
	[ "$user" = "$(binding_name "$bid")" ] || fail "bind $bid: expected user $(binding_name "$bid"), got $user"
	[ "${#pw}" -ge 32 ] || fail "bind $bid: expected a 32-character password"
	[ "$(jq -r .uri <<<"$c")" = "mysql://$user:$pw@127.0.0.1:$db_port/$db" ] || fail "bind $bid: unexpected uri shape"
	[ "$(jq -r .jdbcUrl <<<"$c")" = "jdbc:mysql://127.0.0.1:$db_port/$db?user=$user&password=$pw" ] ||
		fail "bind $bid: unexpected jdbcUrl shape"
	[ "$(jq -c '.endpoints' <<<"$body")" = "[{\"host\":\"127.0.0.1\",\"ports\":[\"$db_port\"],\"protocol\":\"tcp\"}]" ] ||
		fail "bind $bid: expected one tcp endpoint 127.0.0.1:$db_port, got $(jq -c .endpoints <<<"$body")"
	echo "$c" >"$work/cred-$bid.json"
	printf '%s' "$c"
}
# The mariadb client as a binding, on its own database or on `db`; prints stdout and stderr, keeps the status.
as_binding() {
	local c=$1 sql=$2 db=${3:-}
	[ -n "$db" ] || db=$(jq -r .name <<<"$c")
	MYSQL_PWD=$(jq -r .password <<<"$c") mariadb --no-defaults --connect-timeout=5 -h "$(jq -r .hostname <<<"$c")" \
		-P "$(jq -r .port <<<"$c")" -u "$(jq -r .username <<<"$c")" -N -B -D "$db" -e "$sql" 2>&1
}
schema_of() {
	admin_sql "SELECT CONCAT(DEFAULT_CHARACTER_SET_NAME, ' ', DEFAULT_COLLATION_NAME) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '$1'"
}
max_conns_of() {
	admin_sql "SELECT max_user_connections FROM mysql.user WHERE User = '$1' AND Host = '%'"
}

# ---------------------------------------------------------------------------
step "start MariaDB on 127.0.0.1:$db_port"
"$root/scripts/mariadb-start.sh" "$work/db" "$db_port" "$admin_pw" >/dev/null

step "start the broker on 127.0.0.1:$broker_port"
mkdir -p "$work/data"
jq -n --arg listen "127.0.0.1:$broker_port" --arg pw "$broker_pw" --arg cat "$catalog" \
	--arg data "$work/data" --argjson port "$db_port" '{
		listen: $listen,
		accounts: [{username: "broker", password: $pw}],
		catalog: $cat,
		data_dir: $data,
		store: {type: "sqlite"},
		log_level: "info",
		timeouts: {sync_s: 5},
		driver: {host: "127.0.0.1", port: $port, admin_user: "root"}
	}' >"$work/broker.json"
# The admin password comes from the environment, as an operator would keep it out of the file.
OSB_DRIVER_ADMIN_PASSWORD=$admin_pw "$broker_bin" --config "$work/broker.json" >"$work/broker.log" 2>&1 &
broker_pid=$!
code=000
for _ in $(seq 1 200); do
	code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$broker_port/health/live") || code=000
	[ "$code" = 200 ] && break
	kill -0 "$broker_pid" 2>/dev/null || fail "broker exited during start-up (log above)"
	sleep 0.05
done
[ "$code" = 200 ] || fail "expected /health/live 200 within 10 s, got $code"
ready=000
for _ in $(seq 1 100); do
	ready=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$broker_port/health/ready") || ready=000
	[ "$ready" = 200 ] && break
	sleep 0.05
done
[ "$ready" = 200 ] || fail "expected /health/ready 200 with MariaDB up, got $ready"

# ---------------------------------------------------------------------------
step "1. catalog and provision with the default character set"
osb GET /v2/catalog
expect_status 200 "GET /v2/catalog"
[ "$(jq -r '.services[0].id' <<<"$body")" = "$service_id" ] || fail "catalog: expected service $service_id"
[ "$(jq -r '.services[0].tags | join(",")' <<<"$body")" = "mysql,relational,sql" ] || fail "catalog: expected tags mysql,relational,sql"
grep -q 'x-osb' <<<"$body" && fail "catalog: expected the private x-osb objects to be stripped"

i1=$(new_id)
db1=$(instance_name "$i1")
osb PUT "/v2/service_instances/$i1" "$(provision_body "$small")"
expect_status 201 "provision $i1"
got=$(schema_of "$db1")
[ "$got" = "utf8mb4 utf8mb4_unicode_ci" ] || fail "provision: expected database $db1 with utf8mb4 utf8mb4_unicode_ci, got '$got'"

# ---------------------------------------------------------------------------
step "2. bind, use the database, share tables between bindings"
b1=$(new_id)
c1=$(bind "$i1" "$b1" "$small")
user1=$(jq -r .username <<<"$c1")
out=$(as_binding "$c1" "CREATE TABLE notes (id INT PRIMARY KEY, body VARCHAR(100))") || fail "binding 1: expected CREATE TABLE to work, got: $out"
out=$(as_binding "$c1" "INSERT INTO notes VALUES (1, 'hello')") || fail "binding 1: expected INSERT to work, got: $out"
out=$(as_binding "$c1" "SELECT body FROM notes WHERE id = 1") || fail "binding 1: expected SELECT to work, got: $out"
[ "$out" = hello ] || fail "binding 1: expected to read 'hello', got '$out'"
[ "$(max_conns_of "$user1")" = 10 ] || fail "bind: expected max_user_connections 10 (plan small), got $(max_conns_of "$user1")"
grants=$(admin_sql "SHOW GRANTS FOR '$user1'@'%'")
grep -q "GRANT ALL PRIVILEGES ON \`osb\\\\_.*\`.\\* TO \`$user1\`@\`%\`" <<<"$grants" ||
	fail "bind: expected ALL PRIVILEGES on the instance's database only, got: $grants"
[ "$(grep -c '^GRANT' <<<"$grants")" = 2 ] || fail "bind: expected exactly USAGE + one database grant, got: $grants"
out=$(as_binding "$c1" "SHOW DATABASES") || fail "binding 1: SHOW DATABASES failed: $out"
[ "$(grep -v '^information_schema$' <<<"$out")" = "$db1" ] || fail "binding 1: expected to see only $db1, saw: $out"

b2=$(new_id)
c2=$(bind "$i1" "$b2" "$small")
[ "$(jq -r .password <<<"$c2")" != "$(jq -r .password <<<"$c1")" ] || fail "bind: expected a different password per binding"
out=$(as_binding "$c2" "SELECT body FROM notes WHERE id = 1") || fail "binding 2: expected to read binding 1's table, got: $out"
[ "$out" = hello ] || fail "binding 2: expected 'hello', got '$out'"
out=$(as_binding "$c2" "INSERT INTO notes VALUES (2, 'from b2')") || fail "binding 2: expected INSERT to work, got: $out"

step "2b. repeated bind is answered 200 with the same credentials"
osb PUT "/v2/service_instances/$i1/service_bindings/$b2" "$(bind_body "$small")"
expect_status 200 "identical bind $b2"
[ "$(jq -r .credentials.password <<<"$body")" = "$(jq -r .password <<<"$c2")" ] ||
	fail "identical bind: expected the stored credentials back"

# ---------------------------------------------------------------------------
step "3. another instance's credentials cannot reach the first instance"
i2=$(new_id)
db2=$(instance_name "$i2")
osb PUT "/v2/service_instances/$i2" "$(provision_body "$small")"
expect_status 201 "provision $i2"
b3=$(new_id)
c3=$(bind "$i2" "$b3" "$small")
out=$(as_binding "$c3" "SELECT 1") || fail "binding 3: expected to connect to its own database, got: $out"
if out=$(as_binding "$c3" "SELECT body FROM notes" "$db1"); then
	fail "binding 3: expected to be refused on $db1, but read: $out"
fi
grep -qi 'access denied' <<<"$out" || fail "binding 3 on $db1: expected 'Access denied', got: $out"
if out=$(as_binding "$c3" "SELECT body FROM $db1.notes"); then
	fail "binding 3: expected SELECT on $db1.notes to be refused, but read: $out"
fi
grep -qi 'denied' <<<"$out" || fail "binding 3 reading $db1.notes: expected 'command denied', got: $out"
if out=$(as_binding "$c1" "SELECT 1" "$db2"); then
	fail "binding 1: expected to be refused on $db2"
fi
grep -qi 'access denied' <<<"$out" || fail "binding 1 on $db2: expected 'Access denied', got: $out"

# ---------------------------------------------------------------------------
step "4. unbind ends live sessions and revokes the credentials"
MYSQL_PWD=$(jq -r .password <<<"$c1") timeout 60 mariadb --no-defaults -h 127.0.0.1 -P "$db_port" -u "$user1" \
	-N -B -D "$db1" -e 'SELECT SLEEP(30)' >"$work/sleep.out" 2>&1 &
sleeper=$!
bg_pids+=("$sleeper")
n=0
for _ in $(seq 1 100); do
	n=$(admin_sql "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = '$user1' AND INFO LIKE '%SLEEP%'")
	[ "$n" -ge 1 ] && break
	sleep 0.05
done
[ "$n" -ge 1 ] || fail "unbind: expected binding 1's SLEEP session to be running"
osb DELETE "/v2/service_instances/$i1/service_bindings/$b1?service_id=$service_id&plan_id=$small"
expect_status 200 "unbind $b1"
for _ in $(seq 1 100); do
	kill -0 "$sleeper" 2>/dev/null || break
	sleep 0.05
done
kill -0 "$sleeper" 2>/dev/null && fail "unbind: expected binding 1's live session to be killed, it is still running"
sleep_rc=0
wait "$sleeper" || sleep_rc=$?
[ "$sleep_rc" != 0 ] || fail "unbind: expected the SLEEP session to fail, it finished normally: $(cat "$work/sleep.out")"
grep -qiE 'lost connection|server has gone away|killed|interrupted' "$work/sleep.out" ||
	fail "unbind: expected the client to report a lost connection, it said: $(cat "$work/sleep.out")"
if out=$(as_binding "$c1" "SELECT 1"); then
	fail "unbind: expected binding 1's credentials to be refused, but connected"
fi
grep -qi 'access denied' <<<"$out" || fail "unbind: expected 'Access denied', got: $out"
[ -z "$(admin_sql "SELECT User FROM mysql.user WHERE User = '$user1'")" ] || fail "unbind: expected user $user1 to be gone"
out=$(as_binding "$c2" "SELECT COUNT(*) FROM notes") || fail "unbind: expected binding 2 to keep the data, got: $out"
[ "$out" = 2 ] || fail "unbind: expected 2 rows left in notes, got $out"
osb DELETE "/v2/service_instances/$i1/service_bindings/$b1?service_id=$service_id&plan_id=$small"
expect_status 410 "second unbind of $b1"

# ---------------------------------------------------------------------------
step "5. plan update changes MAX_USER_CONNECTIONS of every binding"
b4=$(new_id)
c4=$(bind "$i1" "$b4" "$small")
user2=$(jq -r .username <<<"$c2")
user4=$(jq -r .username <<<"$c4")
osb PATCH "/v2/service_instances/$i1" "$(jq -cn --arg s "$service_id" --arg p "$medium" '{service_id: $s, plan_id: $p}')"
expect_status 200 "update $i1 to medium"
for u in "$user2" "$user4"; do
	[ "$(max_conns_of "$u")" = 50 ] || fail "update: expected max_user_connections 50 (plan medium) for $u, got $(max_conns_of "$u")"
done
[ "$(max_conns_of "$(jq -r .username <<<"$c3")")" = 10 ] || fail "update: expected the other instance's binding to keep 10"
grep -q 'WITH MAX_USER_CONNECTIONS 50' <<<"$(admin_sql "SHOW GRANTS FOR '$user2'@'%'")" ||
	fail "update: expected SHOW GRANTS to say MAX_USER_CONNECTIONS 50"
osb PATCH "/v2/service_instances/$i1" "$(jq -cn --arg s "$service_id" --arg p "$large" '{service_id: $s, plan_id: $p, parameters: {character_set: "latin1"}}')"
expect_status 200 "update $i1 to large with character set latin1"
[ "$(max_conns_of "$user2")" = 200 ] || fail "update: expected max_user_connections 200 (plan large), got $(max_conns_of "$user2")"
got=$(schema_of "$db1")
[ "$got" = "latin1 latin1_swedish_ci" ] || fail "update: expected $db1 to default to latin1 latin1_swedish_ci, got '$got'"
b5=$(new_id)
c5=$(bind "$i1" "$b5" "$large")
[ "$(max_conns_of "$(jq -r .username <<<"$c5")")" = 200 ] || fail "bind after update: expected max_user_connections 200"
out=$(as_binding "$c5" "SELECT COUNT(*) FROM notes") || fail "binding 5: expected to read notes, got: $out"
osb PATCH "/v2/service_instances/$i1" "$(jq -cn --arg s "$service_id" --arg p "$large" '{service_id: $s, plan_id: $p, parameters: {collation: "koi8r_bin"}}')"
expect_status 400 "update with a disallowed collation"

step "5b. max_user_connections is enforced"
osb PATCH "/v2/service_instances/$i1" "$(jq -cn --arg s "$service_id" --arg p "$small" '{service_id: $s, plan_id: $p}')"
expect_status 200 "update $i1 back to small"
[ "$(max_conns_of "$user4")" = 10 ] || fail "update: expected max_user_connections 10 again"
for _ in $(seq 1 10); do
	MYSQL_PWD=$(jq -r .password <<<"$c4") timeout 60 mariadb --no-defaults -h 127.0.0.1 -P "$db_port" -u "$user4" \
		-N -B -D "$db1" -e 'SELECT SLEEP(20)' >/dev/null 2>&1 &
	bg_pids+=($!)
done
for _ in $(seq 1 100); do
	n=$(admin_sql "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = '$user4'")
	[ "$n" -ge 10 ] && break
	sleep 0.05
done
[ "$n" = 10 ] || fail "limit: expected 10 sessions of $user4, got $n"
if out=$(as_binding "$c4" "SELECT 1"); then
	fail "limit: expected an 11th connection of $user4 to be refused"
fi
grep -q 'max_user_connections' <<<"$out" || fail "limit: expected a max_user_connections error, got: $out"

# ---------------------------------------------------------------------------
step "6. provision parameters: character set and collation applied, bad values refused"
i3=$(new_id)
db3=$(instance_name "$i3")
osb PUT "/v2/service_instances/$i3" "$(provision_body "$small" '{"character_set":"latin1","collation":"latin1_bin"}')"
expect_status 201 "provision $i3 with latin1_bin"
got=$(schema_of "$db3")
[ "$got" = "latin1 latin1_bin" ] || fail "provision: expected $db3 with latin1 latin1_bin, got '$got'"
i5=$(new_id)
osb PUT "/v2/service_instances/$i5" "$(provision_body "$small" '{"collation":"utf8mb3_general_ci"}')"
expect_status 201 "provision $i5 with a collation only"
got=$(schema_of "$(instance_name "$i5")")
[ "$got" = "utf8mb3 utf8mb3_general_ci" ] || fail "provision: expected utf8mb3 utf8mb3_general_ci, got '$got'"
for params in '{"character_set":"ebcdic"}' '{"character_set":"latin1","collation":"utf8mb4_bin"}' \
	'{"collation":"utf8mb4_bin; DROP DATABASE mysql"}' '{"character_set":5}' '{"owner":"root"}' \
	'{"character_set":"utf8mb4`"}'; do
	i4=$(new_id)
	db4=$(instance_name "$i4")
	osb PUT "/v2/service_instances/$i4" "$(provision_body "$small" "$params")"
	expect_status 400 "provision with parameters $params"
	[ -z "$(schema_of "$db4")" ] || fail "provision with $params: expected no database $db4"
done

step "6b. without a dedicated section the dedicated plan fails at once, saying why"
i8=$(new_id)
osb PUT "/v2/service_instances/$i8?accepts_incomplete=true" "$(provision_body "$(plan_id dedicated)")"
expect_status 202 "dedicated provision without a dedicated config"
state=
for _ in $(seq 1 100); do
	osb GET "/v2/service_instances/$i8/last_operation?service_id=$service_id&plan_id=$(plan_id dedicated)"
	state=$(jq -r .state <<<"$body")
	[ "$state" != "in progress" ] && break
	sleep 0.1
done
[ "$state" = failed ] || fail "dedicated provision without a dedicated config: expected failed within 10 s, got '$state': $body"
grep -q 'dedicated' <<<"$(jq -r .description <<<"$body")" ||
	fail "dedicated provision without a dedicated config: expected a description naming the dedicated section, got: $body"

# ---------------------------------------------------------------------------
step "7. repeated and conflicting requests"
osb PUT "/v2/service_instances/$i3" "$(provision_body "$small" '{"character_set":"latin1","collation":"latin1_bin"}')"
expect_status 200 "identical provision of $i3"
osb PUT "/v2/service_instances/$i3" "$(provision_body "$medium" '{"character_set":"latin1","collation":"latin1_bin"}')"
expect_status 409 "provision of $i3 with another plan"
osb DELETE "/v2/service_instances/$(new_id)?service_id=$service_id&plan_id=$small"
expect_status 410 "deprovision of an unknown instance"

# ---------------------------------------------------------------------------
step "8. deprovision drops the database and every user of it, ending their sessions"
MYSQL_PWD=$(jq -r .password <<<"$c2") timeout 60 mariadb --no-defaults -h 127.0.0.1 -P "$db_port" -u "$user2" \
	-N -B -D "$db1" -e 'SELECT SLEEP(30)' >"$work/sleep2.out" 2>&1 &
sleeper=$!
bg_pids+=("$sleeper")
for _ in $(seq 1 100); do
	n=$(admin_sql "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = '$user2' AND INFO LIKE '%SLEEP%'")
	[ "$n" -ge 1 ] && break
	sleep 0.05
done
[ "$n" -ge 1 ] || fail "deprovision: expected binding 2's SLEEP session to be running"
osb DELETE "/v2/service_instances/$i2/service_bindings/$b3?service_id=$service_id&plan_id=$small"
expect_status 200 "unbind $b3"
# Instance 1 keeps bindings 2, 4 and 5: deprovision must remove their users too.
osb DELETE "/v2/service_instances/$i1?service_id=$service_id&plan_id=$small"
if [ "$status" = 200 ]; then
	for _ in $(seq 1 100); do
		kill -0 "$sleeper" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "$sleeper" 2>/dev/null && fail "deprovision: expected binding 2's live session to be killed"
	for u in "$user2" "$user4" "$(jq -r .username <<<"$c5")"; do
		[ -z "$(admin_sql "SELECT User FROM mysql.user WHERE User = '$u'")" ] || fail "deprovision: expected user $u to be gone"
	done
else
	# The core may insist on unbinding first; then do it the platform's way.
	for b in "$b2" "$b4" "$b5"; do
		osb DELETE "/v2/service_instances/$i1/service_bindings/$b?service_id=$service_id&plan_id=$small"
		expect_status 200 "unbind $b"
	done
	osb DELETE "/v2/service_instances/$i1?service_id=$service_id&plan_id=$small"
	expect_status 200 "deprovision $i1"
fi
for i in "$i2" "$i3" "$i5"; do
	osb DELETE "/v2/service_instances/$i?service_id=$service_id&plan_id=$small"
	expect_status 200 "deprovision $i"
done
osb DELETE "/v2/service_instances/$i3?service_id=$service_id&plan_id=$small"
expect_status 410 "second deprovision of $i3"
left=$(admin_sql "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE 'osb\\_%' UNION ALL SELECT User FROM mysql.user WHERE User LIKE 'osb\\_%'")
[ -z "$left" ] || fail "deprovision: expected no osb_ databases or users, found: $(tr '\n' ' ' <<<"$left")"

# ---------------------------------------------------------------------------
step "9. the server down: ready says so, provision fails cleanly with 502 and no secret"
"$root/scripts/mariadb-stop.sh" "$work/db"
ready=$(curl -s -o "$work/ready" -w '%{http_code}' "http://127.0.0.1:$broker_port/health/ready") || ready=000
[ "$ready" = 503 ] || fail "expected /health/ready 503 with MariaDB down, got $ready: $(cat "$work/ready")"
i6=$(new_id)
osb PUT "/v2/service_instances/$i6" "$(provision_body "$small")"
[ "${status:0:1}" = 5 ] || fail "provision with MariaDB down: expected a 5xx, got $status: $body"
grep -q "$admin_pw" <<<"$body" && fail "provision with MariaDB down: the answer contains the admin password"
grep -qi 'connect' <<<"$body" || fail "provision with MariaDB down: expected a message about connecting, got: $body"
"$root/scripts/mariadb-start.sh" "$work/db" "$db_port" "$admin_pw" >/dev/null
ready=000
for _ in $(seq 1 100); do
	ready=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$broker_port/health/ready") || ready=000
	[ "$ready" = 200 ] && break
	sleep 0.05
done
[ "$ready" = 200 ] || fail "expected /health/ready 200 once MariaDB is back, got $ready"

# ---------------------------------------------------------------------------
step "9b. a statement stuck behind a lock ends in time as 504 Timeout (sync deadline 5 s)"
# A global read lock held by an admin session makes CREATE DATABASE wait.
MYSQL_PWD=$admin_pw timeout 60 mariadb --no-defaults -h 127.0.0.1 -P "$db_port" -u root -N -B \
	-e 'FLUSH TABLES WITH READ LOCK; SELECT SLEEP(20)' >/dev/null 2>&1 &
locker=$!
bg_pids+=("$locker")
for _ in $(seq 1 100); do
	n=$(admin_sql "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT SLEEP(20)%'")
	[ "$n" -ge 1 ] && break
	sleep 0.05
done
[ "$n" -ge 1 ] || fail "timeout: expected the lock holder to be running"
i7=$(new_id)
t0=$(date +%s%N)
osb PUT "/v2/service_instances/$i7" "$(provision_body "$small")"
took=$((($(date +%s%N) - t0) / 1000000))
[ "$status" = 504 ] || fail "provision behind a global read lock: expected 504, got $status after $took ms: $body"
[ "$took" -lt 7000 ] || fail "provision behind a global read lock: expected an answer within the 5 s deadline, took $took ms"
kill "$locker" 2>/dev/null || true
wait "$locker" 2>/dev/null || true
admin_sql "KILL CONNECTION $(admin_sql "SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT SLEEP(20)%' LIMIT 1")" 2>/dev/null || true
osb DELETE "/v2/service_instances/$i7?service_id=$service_id&plan_id=$small"
[ "$status" = 200 ] || [ "$status" = 410 ] || fail "deprovision of the timed-out instance: expected 200 or 410, got $status: $body"
[ -z "$(schema_of "$(instance_name "$i7")")" ] || fail "timeout: expected no database left for $i7"

# ---------------------------------------------------------------------------
step "10. no secret in the logs"
for bid in "$b1" "$b2" "$b3" "$b4" "$b5"; do
	pw=$(jq -r .password "$work/cred-$bid.json")
	grep -qF "$pw" "$work/broker.log" && fail "broker log: expected no binding password, found binding $bid's"
	grep -qF "$pw" "$work/db/error.log" && fail "server log: expected no binding password, found binding $bid's"
done
grep -qF "$admin_pw" "$work/broker.log" && fail "broker log: expected no admin password, found it"

step "the broker stops cleanly"
kill -TERM "$broker_pid"
broker_rc=0
wait "$broker_pid" || broker_rc=$?
broker_pid=
[ "$broker_rc" = 0 ] || fail "broker: expected exit status 0 after SIGTERM, got $broker_rc"

# ---------------------------------------------------------------------------
step "11. the reconciler finds and purges a tenant without a record"
orphan=osb_00000000000000000000
admin_sql "CREATE DATABASE $orphan; CREATE USER 'osb_11111111111111111111'@'%' IDENTIFIED BY 'x'; CREATE DATABASE osb_keep_me"
OSB_DRIVER_ADMIN_PASSWORD=$admin_pw "$broker_bin" --config "$work/broker.json" --reconcile >"$work/reconcile.out" 2>>"$work/broker.log" ||
	fail "reconcile: expected exit 0, got $? ($(cat "$work/reconcile.out"))"
grep -q "$orphan" "$work/reconcile.out" || fail "reconcile: expected $orphan in the report, got: $(cat "$work/reconcile.out")"
grep -q osb_11111111111111111111 "$work/reconcile.out" || fail "reconcile: expected the orphan user in the report"
OSB_DRIVER_ADMIN_PASSWORD=$admin_pw "$broker_bin" --config "$work/broker.json" --reconcile=purge >"$work/reconcile.out" 2>>"$work/broker.log" ||
	fail "reconcile=purge: expected exit 0 ($(cat "$work/reconcile.out"))"
left=$(admin_sql "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE 'osb\\_%' UNION ALL SELECT User FROM mysql.user WHERE User LIKE 'osb\\_%'")
[ "$left" = osb_keep_me ] || fail "reconcile=purge: expected only osb_keep_me (not a broker name) left, found: $(tr '\n' ' ' <<<"$left")"

echo "PASS: mysql broker integration test (shared plans)"
