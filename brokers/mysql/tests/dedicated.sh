#!/usr/bin/env bash
# What only MySQL's dedicated plan has (the contract runs on it too): asynchronous only; a mariadbd
# of its own per instance, copied from a template made once per broker, whose only users are the
# server's own root (with the instance's password, never in a file in the clear); the plan's
# MAX_USER_CONNECTIONS there; no move between shared and dedicated plans; and a broker killed
# during provisions or while it makes the template, finishing them after a restart with nothing left.
# Usage: dedicated.sh BROKER_BINARY REPO_ROOT
# shellcheck source=../../../tests/lib/broker.sh
. "${2:?usage: dedicated.sh BROKER_BINARY REPO_ROOT}/tests/lib/broker.sh"
t_init mysql-ded
use_adapter mysql
read -r small dedicated < <(plan_id small dedicated)
need pgrep
first=$(free_range 10)
last=$((first + 9))
ROOT_ONLY="mariadb.sys@localhost root@127.0.0.1 root@localhost "

ded_dir() { printf '%s/data/dedicated/%s' "$WORK" "$(instance_name "$1")"; }
ded_port() { jq -r .port "$(ded_dir "$1")/deployment.json"; }
# The mariadbd of an instance (or the bootstrap server of a template being made) has its data directory on its command line.
servers_of() { pgrep -f -- "--datadir=$(ded_dir "$1")/data" || true; }
template_runs() { pgrep -f -- "--datadir=$WORK/data/dedicated/.templates" || true; }
t_on_exit 'for p in $(template_runs); do kill -KILL "$p"; done'
# root_sql PORT SQL: as root of the dedicated server on PORT, with the password the core keeps for it.
root_sql() { MY_PORT=$1 my_admin -r -e "$2"; }
users_of() { root_sql "$1" "SELECT CONCAT(User, '@', Host) FROM mysql.user ORDER BY 1" | tr '\n' ' '; }

step "start the shared MariaDB and the broker (dedicated ports $first-$last)"
server_and_broker "$WORK/db" "$(jq -cn --argjson a "$first" --argjson b "$last" '{dedicated: {port_range: [$a, $b]}}')"

step "1. a dedicated provision is asynchronous only; its server comes from the template, root its only user"
i1=$(new_id)
db1=$(instance_name "$i1")
params='{"character_set": "latin1", "collation": "latin1_general_ci"}'
osb PUT "/v2/service_instances/$i1" "$(provision_body "$dedicated" "$params")"
expect_status 422 "dedicated provision without accepts_incomplete"
[ "$(jq -r .error <<<"$body")" = AsyncRequired ] || fail "expected error AsyncRequired, got: $body"
osb PUT "/v2/service_instances/$i1?accepts_incomplete=true" "$(provision_body "$dedicated" "$params")"
expect_status 202 "dedicated provision"
osb GET "/v2/service_instances/$i1/last_operation"
[ "$(jq -r .state <<<"$body")" = "in progress" ] || fail "provision $i1: expected 'in progress' first, got: $body"
[ "$(wait_operation "/v2/service_instances/$i1" "provision $i1")" = succeeded ] || fail "provision $i1 failed: $body"
dir1=$(ded_dir "$i1")
port1=$(ded_port "$i1")
SECRET_WORDS+=" $(cat "$dir1/admin.pw")"
[ -d "$dir1/data/mysql" ] || fail "provision: expected a data directory in $dir1"
[ -f "$WORK/data/dedicated/.templates/mariadb/.osb-template-complete" ] || fail "provision: expected a complete template"
# The init file that gives root its password at every start: private, and with the password's hash only.
[ "$(stat -c %a "$dir1/admin.pw" "$dir1/init.sql" | tr '\n' ' ')" = "600 600 " ] ||
	fail "expected admin.pw and init.sql of mode 600"
! grep -qF "$(cat "$dir1/admin.pw")" "$dir1/init.sql" || fail "provision: the password is in the clear in $dir1/init.sql"
[ "$(servers_of "$i1" | wc -l)" = 1 ] ||
	fail "provision: expected one mariadbd for $db1, found: $(servers_of "$i1" | tr '\n' ' ')"
[ "$port1" -ge "$first" ] && [ "$port1" -le "$last" ] || fail "provision: port $port1 is outside $first-$last"
got=$(root_sql "$port1" "SELECT CONCAT(DEFAULT_CHARACTER_SET_NAME, ' ', DEFAULT_COLLATION_NAME) FROM information_schema.SCHEMATA
	WHERE SCHEMA_NAME = '$db1'")
[ "$got" = "latin1 latin1_general_ci" ] ||
	fail "provision: expected $db1 in latin1 latin1_general_ci on its own server, got '$got'"
[ "$(users_of "$port1")" = "$ROOT_ONLY" ] ||
	fail "provision: expected only root (and mariadb.sys), got: $(users_of "$port1")"
expect_refused "root without a password" 'Access denied' my_client root "" 127.0.0.1 "$port1" -e 'SELECT 1'
[ -z "$(my_admin -e "SHOW DATABASES LIKE '$db1'")" ] ||
	fail "provision: a dedicated instance made a database on the shared server"

step "2. a binding gets the plan's MAX_USER_CONNECTIONS on its own server, and no login on the shared one"
b1=$(new_id)
c1=$(bind "$i1" "$b1" "$dedicated")
expect_db_credentials "$b1" "$i1" mysql "$port1"
got=$(root_sql "$port1" "SELECT max_user_connections FROM mysql.user WHERE User = '$(jq -r .username <<<"$c1")'")
[ "$got" = "$(plan_setting "$dedicated" max_user_connections)" ] ||
	fail "bind: expected max_user_connections 100, got '$got'"
expect_refused "the dedicated binding on the shared server" 'Access denied' \
	my_client "$(jq -r .username <<<"$c1")" "$(jq -r .password <<<"$c1")" 127.0.0.1 "$SERVER_PORT" -e 'SELECT 1'

step "3. no move between the shared and the dedicated plans (the dedicated plan is not updateable: 422), nothing changes"
osb PATCH "/v2/service_instances/$i1?accepts_incomplete=true" "$(update_body "$small")"
expect_status 422 "update from dedicated to small"
s1=$(new_id)
provision "$s1" "$small"
osb PATCH "/v2/service_instances/$s1?accepts_incomplete=true" "$(update_body "$dedicated")"
expect_status 400 "update from small to dedicated"
jq -e '.description | test("cannot move from the shared plan")' <<<"$body" >/dev/null || fail "no reason given: $body"
out=$(my_as "$c1" -D "$db1" -e 'SELECT 1') || fail "the refused update broke binding 1: $out"
deprovision "$s1" "$small"

step "4. deprovision stops the server and removes its directory"
deprovision "$i1" "$dedicated"
wait_for 5 "no mariadbd of $db1 left" '[ -z "$(servers_of "$i1")" ]'
[ ! -e "$dir1" ] || fail "deprovision: $dir1 is left"

# kill_during_provisions MS...: one dedicated provision per MS, started so that the broker is killed
# MS milliseconds after its 202 (while the data directory is copied from the template, in prepare,
# while mariadbd starts, in mariadb-install-db while the template is made, or after the end), then
# the broker starts again and resumes them all after one lease: each must end, succeeded with one
# working server whose only user is root or failed with none, and its deprovision leave nothing.
kill_during_provisions() {
	local ids=() t0 d first='' id state out
	t0=$(date +%s%N)
	for d in $(printf '%s\n' "$@" | sort -rn); do
		first=${first:-$d}
		sleep_until $((first - d))
		id=$(new_id)
		ids+=("$id")
		osb PUT "/v2/service_instances/$id?accepts_incomplete=true" "$(provision_body "$dedicated")"
		expect_status 202 "dedicated provision $id"
	done
	sleep_until "$first"
	kill -KILL "$BROKER_PID"
	wait "$BROKER_PID" 2>/dev/null || true
	BROKER_PID=
	echo "   killed $* ms after the 202s; template runs: $(template_runs | wc -l); instance directories hold:"
	for id in "${ids[@]}"; do echo "     $(ls "$(ded_dir "$id")" 2>/dev/null | tr '\n' ' ')"; done
	broker_start
	for id in "${ids[@]}"; do
		state=$(wait_operation "/v2/service_instances/$id" "provision $id after the restart")
		echo "   $id after the restart: $state"
		# A bootstrap run cut off by the kill ends by itself: give it a moment.
		wait_for 10 "at most one mariadbd for $id" '[ "$(servers_of "$id" | wc -l)" -le 1 ]'
		case $state in
		succeeded)
			[ "$(servers_of "$id" | wc -l)" = 1 ] || fail "restart: expected one mariadbd for $id"
			[ "$(users_of "$(ded_port "$id")")" = "$ROOT_ONLY" ] ||
				fail "restart: expected only root (and mariadb.sys), got: $(users_of "$(ded_port "$id")")"
			out=$(my_as "$(bind "$id" "$(new_id)" "$dedicated")" -D "$(instance_name "$id")" \
				-e "CREATE TABLE t (id INT); INSERT INTO t VALUES (7); SELECT id FROM t") || true
			[ "$out" = 7 ] || fail "binding after the restart: expected to read 7, got: $out"
			deprovision "$id" "$dedicated"
			;;
		failed)
			[ -z "$(servers_of "$id")" ] || fail "restart: the provision failed but a mariadbd runs for $id"
			osb DELETE "/v2/service_instances/$id?service_id=$SERVICE_ID&plan_id=$dedicated&accepts_incomplete=true"
			case $status in
			202) [ "$(wait_operation "/v2/service_instances/$id" "deprovision $id")" = gone ] ||
				fail "deprovision $id: $body" ;;
			200 | 410) ;;
			*) fail "deprovision $id: expected 202, 200 or 410, got $status: $body" ;;
			esac
			;;
		*) fail "restart: expected the provision to succeed or fail, got $state" ;;
		esac
		wait_for 5 "no mariadbd for $id after its deprovision" '[ -z "$(servers_of "$id")" ]'
		[ ! -e "$(ded_dir "$id")" ] || fail "deprovision after the restart: $(ded_dir "$id") is left"
	done
}
# sleep_until MS: until MS milliseconds after $t0 (nanoseconds).
sleep_until() {
	local left=$(((t0 + $1 * 1000000 - $(date +%s%N)) / 1000000))
	[ "$left" -le 0 ] || sleep "$(awk -v ms="$left" 'BEGIN { printf "%.3f", ms / 1000 }')"
}

step "5. a broker killed with SIGKILL during dedicated provisions finishes them (or fails them) after a restart"
# Time a provision from the template, to spread the kills over one.
i3=$(new_id)
t0=$(date +%s%N)
provision "$i3" "$dedicated"
warm_ms=$((($(date +%s%N) - t0) / 1000000))
echo "   provisioned from the template in $warm_ms ms"
deprovision "$i3" "$dedicated"
# Early (copy, prepare), and at a third, two thirds and nine tenths of a provision's time.
kill_during_provisions 50 $((warm_ms * 33 / 100)) $((warm_ms * 66 / 100)) $((warm_ms * 90 / 100))

step "6. a broker killed while it makes the template (its first dedicated provision) finishes it after a restart"
template_ms=$(grep -o 'template made in [^ ]* in [0-9]* ms' "$BROKER_LOG" | head -n1 | awk '{ print $(NF - 1) }')
[ -n "$template_ms" ] || fail "expected the broker to log how long it took to make the template"
echo "   the template took $template_ms ms"
broker_stop
rm -rf "$WORK/data/dedicated/.templates"
broker_start
# Two fifths into mariadb-install-db: its bootstrap server outlives the broker for a moment.
kill_during_provisions $((template_ms * 40 / 100))
[ -f "$WORK/data/dedicated/.templates/mariadb/.osb-template-complete" ] ||
	fail "template: expected it complete after the restart"

step "7. nothing left behind, no secret in the logs; the broker stops cleanly"
wait_for 10 "no run of mariadb-install-db left" '[ -z "$(template_runs)" ]'
[ -z "$(dedicated_pids)" ] || fail "processes of dedicated instances are left: $(dedicated_pids | tr '\n' ' ')"
[ "$(ls -A "$WORK/data/dedicated")" = .templates ] ||
	fail "left in the dedicated directory: $(ls -A "$WORK/data/dedicated")"
no_secret_in "$BROKER_LOG" "$WORK/db/error.log"
broker_stop
echo "PASS: mysql broker integration test (dedicated plan)"
