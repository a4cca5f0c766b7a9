#!/usr/bin/env bash
# Integration test of osb-mysql-broker's dedicated plan: a mariadbd of its own per instance, started
# asynchronously through the core's deployer, surviving a broker killed with SIGKILL mid-provision.
# Usage: dedicated.sh BROKER_BINARY REPO_ROOT
set -euo pipefail

broker_bin=${1:?usage: dedicated.sh BROKER_BINARY REPO_ROOT}
root=${2:?usage: dedicated.sh BROKER_BINARY REPO_ROOT}
root=$(cd "$root" && pwd)
for tool in curl jq mariadb sha256sum pgrep; do
	command -v "$tool" >/dev/null || { echo "FAIL: $tool is needed on PATH" >&2; exit 1; }
done

work=$(mktemp -d /tmp/osb-mysql-ded.XXXXXX)
broker_pid=
bg_pids=()

# Every process of this test has $work in its command line: the shared server, dedicated
# servers (which outlive a killed broker on purpose) and bootstrap runs of mariadb-install-db
# (the template of dedicated servers, in $work/dedicated/.templates).
our_servers() { pgrep -f -- "--datadir=$work/" || true; }

cleanup() {
	local rc=$?
	set +e
	for p in "${bg_pids[@]}"; do kill "$p" 2>/dev/null; done
	if [ -n "$broker_pid" ]; then
		kill -TERM "$broker_pid" 2>/dev/null
		wait "$broker_pid" 2>/dev/null
	fi
	"$root/scripts/mariadb-stop.sh" "$work/db" >/dev/null 2>&1
	for p in $(our_servers); do kill -KILL "$p" 2>/dev/null; done
	if [ "$rc" != 0 ]; then
		for f in "$work"/broker*.log; do
			[ -f "$f" ] || continue
			echo "--- last lines of $f ---" >&2
			tail -n 30 "$f" >&2
		done
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
range_first=$("$root/scripts/free-port.sh" $((broker_port + 1)))
range_last=$((range_first + 9))
unset MYSQL_PWD MYSQL_HOST MYSQL_TCP_PORT || true

catalog=$root/catalog/mysql.json
service_id=$(jq -r '.services[0].id' "$catalog")
plan_id() { jq -r --arg n "$1" '.services[0].plans[] | select(.name == $n) | .id' "$catalog"; }
small=$(plan_id small)
dedicated=$(plan_id dedicated)
[ -n "$dedicated" ] || fail "catalog: expected a plan named dedicated"

instance_name() { printf 'osb_%s' "$(printf 'instance:%s' "$1" | sha256sum | cut -c1-20)"; }
binding_name() { printf 'osb_%s' "$(printf 'binding:%s' "$1" | sha256sum | cut -c1-20)"; }
new_id() { cat /proc/sys/kernel/random/uuid; }
ded_dir() { printf '%s/dedicated/%s' "$work" "$(instance_name "$1")"; }
# PIDs of the mariadbd (or bootstrap) processes of one instance.
servers_of() { pgrep -f -- "--datadir=$(ded_dir "$1")/data" || true; }

# SQL as the dedicated server's root, with the admin password the core keeps in the instance's directory.
ded_sql() {
	local dir port
	dir=$(ded_dir "$1")
	port=$2
	MYSQL_PWD=$(cat "$dir/admin.pw") mariadb --no-defaults --connect-timeout=5 -h 127.0.0.1 -P "$port" -u root -N -B -r -e "$3"
}

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
as_binding() {
	local c=$1 sql=$2
	MYSQL_PWD=$(jq -r .password <<<"$c") mariadb --no-defaults --connect-timeout=5 -h "$(jq -r .hostname <<<"$c")" \
		-P "$(jq -r .port <<<"$c")" -u "$(jq -r .username <<<"$c")" -N -B -D "$(jq -r .name <<<"$c")" -e "$sql" 2>&1
}

# Poll last_operation of an instance until it leaves "in progress"; sets $final ("succeeded",
# "failed" or "gone" for 410) and $seen_progress (1 when "in progress" was answered at least once).
poll_instance() {
	local inst=$1 plan=$2 what=$3 state
	seen_progress=0
	final=
	for _ in $(seq 1 1200); do
		osb GET "/v2/service_instances/$inst/last_operation?service_id=$service_id&plan_id=$plan"
		if [ "$status" = 410 ]; then
			final=gone
			return 0
		fi
		[ "$status" = 200 ] || fail "$what: last_operation: expected 200, got $status: $body"
		state=$(jq -r .state <<<"$body")
		case $state in
		"in progress") seen_progress=1 ;;
		succeeded | failed)
			final=$state
			return 0
			;;
		*) fail "$what: last_operation: unexpected state '$state': $body" ;;
		esac
		sleep 0.1
	done
	fail "$what: still in progress after 120 s"
}

start_broker() {
	OSB_DRIVER_ADMIN_PASSWORD=$admin_pw "$broker_bin" --config "$work/broker.json" >>"$work/broker.log" 2>&1 &
	broker_pid=$!
	local code=000
	for _ in $(seq 1 200); do
		code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$broker_port/health/live") || code=000
		[ "$code" = 200 ] && return 0
		kill -0 "$broker_pid" 2>/dev/null || fail "broker exited during start-up (log above)"
		sleep 0.05
	done
	fail "expected /health/live 200 within 10 s, got $code"
}

# ---------------------------------------------------------------------------
step "start the shared MariaDB on 127.0.0.1:$db_port and the broker on $broker_port (dedicated ports $range_first-$range_last)"
"$root/scripts/mariadb-start.sh" "$work/db" "$db_port" "$admin_pw" >/dev/null
mkdir -p "$work/data"
jq -n --arg listen "127.0.0.1:$broker_port" --arg pw "$broker_pw" --arg cat "$catalog" --arg data "$work/data" \
	--arg base "$work/dedicated" --argjson port "$db_port" --argjson first "$range_first" --argjson last "$range_last" '{
		listen: $listen,
		accounts: [{username: "broker", password: $pw}],
		catalog: $cat,
		data_dir: $data,
		store: {type: "sqlite"},
		log_level: "info",
		dedicated: {port_range: [$first, $last], base_dir: $base},
		driver: {host: "127.0.0.1", port: $port, admin_user: "root"}
	}' >"$work/broker.json"
start_broker

# ---------------------------------------------------------------------------
step "1. a dedicated provision needs accepts_incomplete, then runs asynchronously"
i1=$(new_id)
db1=$(instance_name "$i1")
osb PUT "/v2/service_instances/$i1" "$(provision_body "$dedicated" '{"character_set":"latin1","collation":"latin1_general_ci"}')"
expect_status 422 "dedicated provision without accepts_incomplete"
[ "$(jq -r .error <<<"$body")" = AsyncRequired ] || fail "expected error AsyncRequired, got: $body"
t0=$(date +%s%N)
osb PUT "/v2/service_instances/$i1?accepts_incomplete=true" "$(provision_body "$dedicated" '{"character_set":"latin1","collation":"latin1_general_ci"}')"
expect_status 202 "dedicated provision"
poll_instance "$i1" "$dedicated" "provision $i1"
provision_ms=$((($(date +%s%N) - t0) / 1000000))
echo "   provisioned in $provision_ms ms"
[ "$final" = succeeded ] || fail "provision $i1: expected succeeded, got $final: $body"
[ "$seen_progress" = 1 ] || fail "provision $i1: expected at least one 'in progress' answer before success"

dir1=$(ded_dir "$i1")
[ -d "$dir1/data/mysql" ] || fail "provision: expected a data directory in $dir1"
[ "$(stat -c %a "$dir1/admin.pw")" = 600 ] || fail "provision: expected $dir1/admin.pw with mode 600, got $(stat -c %a "$dir1/admin.pw")"
# The init file that gives root its password at every start: private, and with the password's hash only.
[ "$(stat -c %a "$dir1/init.sql")" = 600 ] || fail "provision: expected $dir1/init.sql with mode 600"
grep -qF "$(cat "$dir1/admin.pw")" "$dir1/init.sql" && fail "provision: expected no plain password in $dir1/init.sql"
[ -f "$work/dedicated/.templates/mariadb/.osb-template-complete" ] || fail "provision: expected a complete template"
pids=$(servers_of "$i1")
[ "$(wc -w <<<"$pids")" = 1 ] || fail "provision: expected one mariadbd for $db1, found: $pids"
port1=$(tr '\0' '\n' <"/proc/$pids/cmdline" | sed -n 's/^--port=//p')
if [ -z "$port1" ] || [ "$port1" -lt "$range_first" ] || [ "$port1" -gt "$range_last" ]; then
	fail "provision: expected a port in $range_first-$range_last, got '$port1'"
fi
got=$(ded_sql "$i1" "$port1" "SELECT CONCAT(DEFAULT_CHARACTER_SET_NAME, ' ', DEFAULT_COLLATION_NAME) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '$db1'")
[ "$got" = "latin1 latin1_general_ci" ] || fail "provision: expected $db1 with latin1 latin1_general_ci on its own server, got '$got'"
got=$(ded_sql "$i1" "$port1" "SELECT CONCAT(User, '@', Host) FROM mysql.user ORDER BY 1" | tr '\n' ' ')
[ "$got" = "mariadb.sys@localhost root@127.0.0.1 root@localhost " ] || fail "provision: expected only root (and mariadb.sys), got: $got"
if MYSQL_PWD='' mariadb --no-defaults -h 127.0.0.1 -P "$port1" -u root -e 'SELECT 1' >/dev/null 2>&1; then
	fail "provision: the dedicated server's root logs in without a password"
fi
[ -z "$(MYSQL_PWD=$admin_pw mariadb --no-defaults -h 127.0.0.1 -P "$db_port" -u root -N -B -e "SHOW DATABASES LIKE '$db1'")" ] ||
	fail "provision: expected nothing on the shared server for a dedicated instance"

osb PUT "/v2/service_instances/$i1?accepts_incomplete=true" "$(provision_body "$dedicated" '{"character_set":"latin1","collation":"latin1_general_ci"}')"
expect_status 200 "identical dedicated provision"

# ---------------------------------------------------------------------------
step "2. bind on the dedicated server: the credentials work on its port"
b1=$(new_id)
osb PUT "/v2/service_instances/$i1/service_bindings/$b1" "$(bind_body "$dedicated")"
expect_status 201 "bind $b1"
c1=$(jq -c .credentials <<<"$body")
[ "$(jq -r .port <<<"$c1")" = "$port1" ] || fail "bind: expected port $port1, got $(jq -r .port <<<"$c1")"
[ "$(jq -r .name <<<"$c1")" = "$db1" ] || fail "bind: expected database $db1"
[ "$(jq -r .username <<<"$c1")" = "$(binding_name "$b1")" ] || fail "bind: expected user $(binding_name "$b1")"
[ "$(jq -r .uri <<<"$c1")" = "mysql://$(jq -r .username <<<"$c1"):$(jq -r .password <<<"$c1")@127.0.0.1:$port1/$db1" ] ||
	fail "bind: unexpected uri shape"
out=$(as_binding "$c1" "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20)); INSERT INTO t VALUES (1, 'dedicated'); SELECT v FROM t") ||
	fail "binding: expected to create, write and read a table, got: $out"
[ "$out" = dedicated ] || fail "binding: expected to read 'dedicated', got '$out'"
[ "$(ded_sql "$i1" "$port1" "SELECT max_user_connections FROM mysql.user WHERE User = '$(jq -r .username <<<"$c1")'")" = 100 ] ||
	fail "bind: expected max_user_connections 100 (plan dedicated)"
if out=$(MYSQL_PWD=$(jq -r .password <<<"$c1") mariadb --no-defaults -h 127.0.0.1 -P "$db_port" -u "$(jq -r .username <<<"$c1")" -e 'SELECT 1' 2>&1); then
	fail "binding: expected the dedicated binding to be refused by the shared server"
fi

step "2b. unbind ends the binding's session on the dedicated server"
user1=$(jq -r .username <<<"$c1")
MYSQL_PWD=$(jq -r .password <<<"$c1") timeout 60 mariadb --no-defaults -h 127.0.0.1 -P "$port1" -u "$user1" -N -B \
	-e 'SELECT SLEEP(30)' >"$work/sleep.out" 2>&1 &
sleeper=$!
bg_pids+=("$sleeper")
n=0
for _ in $(seq 1 100); do
	n=$(ded_sql "$i1" "$port1" "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = '$user1'")
	[ "$n" -ge 1 ] && break
	sleep 0.05
done
[ "$n" -ge 1 ] || fail "unbind: expected the binding's session to be running"
osb DELETE "/v2/service_instances/$i1/service_bindings/$b1?service_id=$service_id&plan_id=$dedicated"
expect_status 200 "unbind $b1"
for _ in $(seq 1 100); do
	kill -0 "$sleeper" 2>/dev/null || break
	sleep 0.05
done
kill -0 "$sleeper" 2>/dev/null && fail "unbind: expected the session to be killed"
if out=$(as_binding "$c1" "SELECT 1"); then
	fail "unbind: expected the credentials to be refused"
fi
grep -qi 'access denied' <<<"$out" || fail "unbind: expected 'Access denied', got: $out"

step "2c. no move between shared and dedicated plans"
osb PATCH "/v2/service_instances/$i1?accepts_incomplete=true" "$(jq -cn --arg s "$service_id" --arg p "$small" '{service_id: $s, plan_id: $p}')"
[ "${status:0:1}" = 4 ] || [ "$status" = 202 ] || fail "update dedicated -> small: expected a refusal, got $status: $body"
if [ "$status" = 202 ]; then
	poll_instance "$i1" "$small" "update $i1"
	[ "$final" = failed ] || fail "update dedicated -> small: expected the operation to fail, got $final"
fi

# ---------------------------------------------------------------------------
step "3. deprovision stops the server and removes its directory"
b2=$(new_id)
osb PUT "/v2/service_instances/$i1/service_bindings/$b2" "$(bind_body "$dedicated")"
expect_status 201 "bind $b2"
c2=$(jq -c .credentials <<<"$body")
osb DELETE "/v2/service_instances/$i1/service_bindings/$b2?service_id=$service_id&plan_id=$dedicated"
expect_status 200 "unbind $b2"
osb DELETE "/v2/service_instances/$i1?service_id=$service_id&plan_id=$dedicated&accepts_incomplete=true"
[ "$status" = 202 ] || [ "$status" = 200 ] || fail "deprovision $i1: expected 202 or 200, got $status: $body"
if [ "$status" = 202 ]; then
	poll_instance "$i1" "$dedicated" "deprovision $i1"
	[ "$final" = succeeded ] || [ "$final" = gone ] || fail "deprovision $i1: expected success, got $final: $body"
fi
for _ in $(seq 1 100); do
	[ -z "$(servers_of "$i1")" ] && break
	sleep 0.05
done
[ -z "$(servers_of "$i1")" ] || fail "deprovision: expected no mariadbd for $db1, found: $(servers_of "$i1")"
[ ! -e "$dir1" ] || fail "deprovision: expected $dir1 to be removed"
if MYSQL_PWD=x mariadb --no-defaults --connect-timeout=2 -h 127.0.0.1 -P "$port1" -u root -e 'SELECT 1' 2>&1 | grep -q 'Access denied'; then
	fail "deprovision: something still answers on port $port1"
fi
osb DELETE "/v2/service_instances/$i1?service_id=$service_id&plan_id=$dedicated&accepts_incomplete=true"
expect_status 410 "second deprovision of $i1"

# ---------------------------------------------------------------------------
# Kill the broker `delay` seconds after the 202 of a dedicated provision (while the data directory
# is copied from the template, in prepare, while mariadbd starts, or in mariadb-install-db when the
# template is being made), restart it with the same config, and check the operation ends
# (succeeded or failed) with no stray server, then deprovision.
kill_during_provision() {
	local delay=$1 i2 db2 pids b3 c3 out
	i2=$(new_id)
	db2=$(instance_name "$i2")
	osb PUT "/v2/service_instances/$i2?accepts_incomplete=true" "$(provision_body "$dedicated")"
	expect_status 202 "dedicated provision $i2"
	sleep "$delay"
	kill -KILL "$broker_pid"
	wait "$broker_pid" 2>/dev/null || true
	broker_pid=
	echo "   killed after ${delay}s; instance directory has: $(cd "$(ded_dir "$i2")" 2>/dev/null && echo *);" \
		"templates: $(cd "$work/dedicated/.templates" 2>/dev/null && echo *); install-db still running:" \
		"$(pgrep -f -- "--datadir=$work/dedicated/.templates" | wc -l)"
	start_broker
	poll_instance "$i2" "$dedicated" "provision $i2 after the restart"
	echo "   after the restart: $final"
	# A bootstrap run cut off by the kill ends by itself: give it a moment.
	for _ in $(seq 1 100); do
		[ "$(servers_of "$i2" | wc -w)" -le 1 ] && break
		sleep 0.1
	done
	pids=$(servers_of "$i2")
	if [ "$final" = succeeded ]; then
		[ "$(wc -w <<<"$pids")" = 1 ] || fail "restart: expected exactly one mariadbd for $db2, found: '$pids'"
		out=$(ded_sql "$i2" "$(tr '\0' '\n' <"/proc/$pids/cmdline" | sed -n 's/^--port=//p')" \
			"SELECT CONCAT(User, '@', Host) FROM mysql.user ORDER BY 1" | tr '\n' ' ')
		[ "$out" = "mariadb.sys@localhost root@127.0.0.1 root@localhost " ] ||
			fail "restart: expected only root (and mariadb.sys) with the instance's password, got: $out"
		b3=$(new_id)
		osb PUT "/v2/service_instances/$i2/service_bindings/$b3" "$(bind_body "$dedicated")"
		expect_status 201 "bind $b3 after the restart"
		c3=$(jq -c .credentials <<<"$body")
		out=$(as_binding "$c3" "CREATE TABLE t (id INT); INSERT INTO t VALUES (7); SELECT id FROM t") ||
			fail "binding after the restart: expected to use the database, got: $out"
		[ "$out" = 7 ] || fail "binding after the restart: expected 7, got '$out'"
		osb DELETE "/v2/service_instances/$i2/service_bindings/$b3?service_id=$service_id&plan_id=$dedicated"
		expect_status 200 "unbind $b3"
	elif [ "$final" = failed ]; then
		[ -z "$pids" ] || fail "restart: the provision failed but mariadbd still runs for $db2: $pids"
	else
		fail "restart: expected the provision to succeed or fail, got $final"
	fi
	osb DELETE "/v2/service_instances/$i2?service_id=$service_id&plan_id=$dedicated&accepts_incomplete=true"
	if [ "$status" = 202 ]; then
		poll_instance "$i2" "$dedicated" "deprovision $i2"
		[ "$final" = succeeded ] || [ "$final" = gone ] || fail "deprovision $i2: expected success, got $final: $body"
	elif [ "$status" != 200 ] && [ "$status" != 410 ]; then
		fail "deprovision $i2: expected 202, 200 or 410, got $status: $body"
	fi
	for _ in $(seq 1 100); do
		[ -z "$(servers_of "$i2")" ] && break
		sleep 0.05
	done
	[ -z "$(servers_of "$i2")" ] || fail "deprovision after the restart: expected no mariadbd for $db2, found: $(servers_of "$i2")"
	[ ! -e "$(ded_dir "$i2")" ] || fail "deprovision after the restart: expected $(ded_dir "$i2") to be removed"
}
step "4. a broker killed with SIGKILL during a dedicated provision finishes it after a restart"
# The first provision made the template too; time one that starts from it, to spread the kills over it.
i3=$(new_id)
t0=$(date +%s%N)
osb PUT "/v2/service_instances/$i3?accepts_incomplete=true" "$(provision_body "$dedicated")"
expect_status 202 "dedicated provision $i3"
poll_instance "$i3" "$dedicated" "provision $i3"
warm_ms=$((($(date +%s%N) - t0) / 1000000))
[ "$final" = succeeded ] || fail "provision $i3: expected succeeded, got $final: $body"
echo "   provisioned from the template in $warm_ms ms"
osb DELETE "/v2/service_instances/$i3?service_id=$service_id&plan_id=$dedicated&accepts_incomplete=true"
[ "$status" = 202 ] && poll_instance "$i3" "$dedicated" "deprovision $i3"
# Early (copy, prepare), and at a third, two thirds and nine tenths of a provision's time.
for delay in 0.05 $(awk -v t="$warm_ms" 'BEGIN { printf "%.2f %.2f %.2f", t * 0.33 / 1000, t * 0.66 / 1000, t * 0.9 / 1000 }'); do
	kill_during_provision "$delay"
done

step "4b. a broker killed while it makes the template (its first dedicated provision) finishes it after a restart"
template_ms=$(grep -o 'template made in [^ ]* in [0-9]* ms' "$work/broker.log" | head -n1 | awk '{ print $(NF - 1) }')
[ -n "$template_ms" ] || fail "expected the broker to log how long it took to make the template"
echo "   the template took $template_ms ms"
kill -TERM "$broker_pid"
wait "$broker_pid" || true
broker_pid=
rm -rf "$work/dedicated/.templates"
start_broker
# Two fifths into mariadb-install-db: its bootstrap server outlives the broker for a moment.
kill_during_provision "$(awk -v t="$template_ms" 'BEGIN { printf "%.2f", t * 0.4 / 1000 }')"
[ -f "$work/dedicated/.templates/mariadb/.osb-template-complete" ] || fail "template: expected it complete after the restart"
for _ in $(seq 1 100); do
	[ -z "$(pgrep -f -- "--datadir=$work/dedicated/.templates" || true)" ] && break
	sleep 0.1
done

# ---------------------------------------------------------------------------
step "5. nothing left behind, no secret in the logs"
left=$(pgrep -af -- "$work/dedicated" || true)
[ -z "$left" ] || fail "expected no process of a dedicated instance, found: $left"
grep -qF "$admin_pw" "$work/broker.log" && fail "broker log: expected no admin password"
for c in "$c1" "$c2"; do
	grep -qF "$(jq -r .password <<<"$c")" "$work/broker.log" && fail "broker log: expected no binding password"
done

kill -TERM "$broker_pid"
broker_rc=0
wait "$broker_pid" || broker_rc=$?
broker_pid=
[ "$broker_rc" = 0 ] || fail "broker: expected exit status 0 after SIGTERM, got $broker_rc"

echo "PASS: mysql broker integration test (dedicated plan)"
