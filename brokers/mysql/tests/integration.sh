#!/usr/bin/env bash
# What only MySQL (MariaDB) has on the shared plans (the driver contract itself is
# tests/contract/contract.sh): the credential shape, a binding's grants (its database only, by
# qualified names too), MAX_USER_CONNECTIONS per plan, its update and its enforcement, character set
# and collation parameters, the dedicated plan failing without a `dedicated` section, deprovision
# ending live sessions, a statement stuck behind a lock ending as 504 in time, orphan users and
# names that are not the broker's for the reconciler, and no secret in the server's log.
# Usage: integration.sh BROKER_BINARY REPO_ROOT
# shellcheck source=../../../tests/lib/broker.sh
. "${2:?usage: integration.sh BROKER_BINARY REPO_ROOT}/tests/lib/broker.sh"
t_init mysql-it
use_adapter mysql
read -r small medium large < <(plan_id small medium large)

admin_sql() { my_admin -r -e "$1"; }
schema_of() {
	admin_sql "SELECT CONCAT(DEFAULT_CHARACTER_SET_NAME, ' ', DEFAULT_COLLATION_NAME) FROM information_schema.SCHEMATA
		WHERE SCHEMA_NAME = '$1'"
}
max_conns_of() { admin_sql "SELECT max_user_connections FROM mysql.user WHERE User = '$1' AND Host = '%'"; }
user_exists() { [ -n "$(admin_sql "SELECT User FROM mysql.user WHERE User = '$1'")" ]; }
# as_binding CREDS SQL [DATABASE]: the mariadb client as a binding, on its own database by default.
as_binding() { my_as "$1" -D "${3:-$(jq -r .name <<<"$1")}" -e "$2"; }

step "start MariaDB (sync deadline 5 s) and the broker"
server_and_broker "$WORK/db" '{"timeouts": {"sync_s": 5}}'

step "1. a database in utf8mb4 by default; the credentials' shape; the plan's MAX_USER_CONNECTIONS"
i1=$(new_id)
db1=$(instance_name "$i1")
provision "$i1" "$small"
[ "$(schema_of "$db1")" = "utf8mb4 utf8mb4_unicode_ci" ] ||
	fail "provision: expected utf8mb4 utf8mb4_unicode_ci, got '$(schema_of "$db1")'"
b1=$(new_id)
c1=$(bind "$i1" "$b1" "$small")
expect_db_credentials "$b1" "$i1" mysql "$SERVER_PORT"
user1=$(jq -r .username <<<"$c1")
[ "$(max_conns_of "$user1")" = "$(plan_setting "$small" max_user_connections)" ] ||
	fail "bind: expected max_user_connections 10 (plan small), got $(max_conns_of "$user1")"

step "2. a binding has every privilege on its database and none elsewhere, by qualified names neither"
grants=$(admin_sql "SHOW GRANTS FOR '$user1'@'%'")
grep -q "GRANT ALL PRIVILEGES ON \`osb\\\\_.*\`.\\* TO \`$user1\`@\`%\`" <<<"$grants" ||
	fail "bind: expected ALL PRIVILEGES on the instance's database only, got: $grants"
[ "$(grep -c '^GRANT' <<<"$grants")" = 2 ] || fail "bind: expected exactly USAGE and one database grant, got: $grants"
out=$(as_binding "$c1" "SHOW DATABASES") || fail "binding 1: SHOW DATABASES failed: $out"
[ "$(grep -v '^information_schema$' <<<"$out")" = "$db1" ] || fail "binding 1: expected to see only $db1, saw: $out"
out=$(as_binding "$c1" "CREATE TABLE notes (id INT PRIMARY KEY, body VARCHAR(100)); INSERT INTO notes VALUES (1, 'hello')") ||
	fail "binding 1: cannot create a table: $out"
i2=$(new_id)
provision "$i2" "$small"
b3=$(new_id)
c3=$(bind "$i2" "$b3" "$small")
expect_refused "binding 3: SELECT from $db1.notes" denied as_binding "$c3" "SELECT body FROM $db1.notes"

step "3. an update sets MAX_USER_CONNECTIONS of every binding of the instance, and the character set"
b2=$(new_id)
c2=$(bind "$i1" "$b2" "$small")
user2=$(jq -r .username <<<"$c2")
update "$i1" "$medium"
for u in "$user1" "$user2"; do
	[ "$(max_conns_of "$u")" = 50 ] ||
		fail "update: expected max_user_connections 50 (plan medium) for $u, got $(max_conns_of "$u")"
done
[ "$(max_conns_of "$(jq -r .username <<<"$c3")")" = 10 ] || fail "update: the other instance's binding must keep 10"
grep -q 'WITH MAX_USER_CONNECTIONS 50' <<<"$(admin_sql "SHOW GRANTS FOR '$user2'@'%'")" ||
	fail "update: expected SHOW GRANTS to say MAX_USER_CONNECTIONS 50"
update "$i1" "$large" '{"character_set": "latin1"}'
[ "$(max_conns_of "$user2")" = 200 ] ||
	fail "update: expected max_user_connections 200 (plan large), got $(max_conns_of "$user2")"
[ "$(schema_of "$db1")" = "latin1 latin1_swedish_ci" ] ||
	fail "update: expected latin1 latin1_swedish_ci, got '$(schema_of "$db1")'"
b5=$(new_id)
c5=$(bind "$i1" "$b5" "$large")
[ "$(max_conns_of "$(jq -r .username <<<"$c5")")" = 200 ] || fail "bind after the update: expected max_user_connections 200"
out=$(as_binding "$c5" "SELECT COUNT(*) FROM notes") || fail "binding 5: cannot read notes: $out"
osb PATCH "/v2/service_instances/$i1" "$(update_body "$large" '{"collation": "koi8r_bin"}')"
expect_status 400 "update with a collation of another character set"

step "4. MAX_USER_CONNECTIONS is enforced"
update "$i1" "$small"
[ "$(max_conns_of "$user2")" = 10 ] || fail "update: expected max_user_connections 10 again, got $(max_conns_of "$user2")"
for _ in $(seq 1 10); do
	adapter_session "$c2" >/dev/null 2>&1 &
	t_on_exit kill $!
done
wait_for 10 "10 sessions of $user2" '[ "$(adapter_sessions "$c2")" -ge 10 ]'
[ "$(adapter_sessions "$c2")" = 10 ] || fail "limit: expected 10 sessions of $user2, got $(adapter_sessions "$c2")"
expect_refused "an 11th session of $user2" max_user_connections as_binding "$c2" "SELECT 1"

step "5. provision parameters: character set and collation applied, bad values refused and nothing made"
i3=$(new_id)
provision "$i3" "$small" '{"character_set": "latin1", "collation": "latin1_bin"}'
[ "$(schema_of "$(instance_name "$i3")")" = "latin1 latin1_bin" ] || fail "provision: expected latin1 latin1_bin"
i5=$(new_id)
provision "$i5" "$small" '{"collation": "utf8mb3_general_ci"}'
[ "$(schema_of "$(instance_name "$i5")")" = "utf8mb3 utf8mb3_general_ci" ] ||
	fail "provision: expected utf8mb3 utf8mb3_general_ci"
for params in '{"character_set":"ebcdic"}' '{"character_set":"latin1","collation":"utf8mb4_bin"}' \
	'{"collation":"utf8mb4_bin; DROP DATABASE mysql"}' '{"character_set":5}' '{"owner":"root"}' \
	'{"character_set":"utf8mb4`"}'; do
	i4=$(new_id)
	osb PUT "/v2/service_instances/$i4" "$(provision_body "$small" "$params")"
	expect_status 400 "provision with parameters $params"
	[ -z "$(schema_of "$(instance_name "$i4")")" ] || fail "provision with $params: expected no database"
done

step "6. without a dedicated section the dedicated plan fails at once, saying why"
i8=$(new_id)
t0=$(date +%s)
osb PUT "/v2/service_instances/$i8?accepts_incomplete=true" "$(provision_body "$(plan_id dedicated)")"
expect_status 202 "dedicated provision without a dedicated section"
[ "$(wait_operation "/v2/service_instances/$i8" "provision $i8")" = failed ] || fail "dedicated provision: expected failed"
[ $(($(date +%s) - t0)) -le 10 ] || fail "dedicated provision without a dedicated section: expected it failed within 10 s"
osb GET "/v2/service_instances/$i8/last_operation"
jq -e '.description | test("dedicated")' <<<"$body" >/dev/null ||
	fail "expected a description naming the dedicated section: $body"

step "7. deprovision drops the database and every user of it, ending their sessions"
session_start "$c1" "$WORK/session.out"
deprovision "$i1" "$small"
session_ended "deprovision"
grep -qiE 'lost connection|server has gone away|killed|interrupted' "$WORK/session.out" ||
	fail "deprovision: expected the client to report a lost connection, it said: $(cat "$WORK/session.out")"
for u in "$user1" "$user2" "$(jq -r .username <<<"$c5")"; do
	! user_exists "$u" || fail "deprovision: user $u is left"
done
[ -z "$(schema_of "$db1")" ] || fail "deprovision: database $db1 is left"

step "8. a statement stuck behind a lock ends in time as 504 (sync deadline 5 s)"
# A global read lock held by an admin session makes CREATE DATABASE wait.
my_admin -e 'FLUSH TABLES WITH READ LOCK; SELECT SLEEP(20)' >/dev/null 2>&1 &
locker=$!
t_on_exit kill "$locker"
locker_id() { admin_sql "SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT SLEEP(20)%' LIMIT 1"; }
wait_for 5 "the lock holder to run" '[ -n "$(locker_id)" ]'
i7=$(new_id)
t0=$(date +%s%N)
osb PUT "/v2/service_instances/$i7" "$(provision_body "$small")"
took=$((($(date +%s%N) - t0) / 1000000))
[ "$status" = 504 ] || fail "provision behind a global read lock: expected 504, got $status after $took ms: $body"
[ "$took" -lt 7000 ] ||
	fail "provision behind a global read lock: expected an answer within the 5 s deadline, took $took ms"
admin_sql "KILL CONNECTION $(locker_id)" || fail "cannot end the session that holds the lock"
osb DELETE "/v2/service_instances/$i7?service_id=$SERVICE_ID&plan_id=$small"
[ "$status" = 200 ] || [ "$status" = 410 ] ||
	fail "deprovision of the timed-out instance: expected 200 or 410, got $status: $body"
[ -z "$(schema_of "$(instance_name "$i7")")" ] || fail "timeout: a database is left for $i7"

step "9. the reconciler finds an orphan database and an orphan user, and leaves names that are not the broker's"
for i in "$i2" "$i3" "$i5"; do deprovision "$i" "$small"; done
orphan=osb_00000000000000000000
orphan_user=osb_11111111111111111111
admin_sql "CREATE DATABASE $orphan; CREATE USER '$orphan_user'@'%' IDENTIFIED BY 'x'; CREATE DATABASE osb_keep_me"
broker_run --reconcile || fail "--reconcile: exit status not 0: $out"
for n in "$orphan" "$orphan_user"; do
	grep -q "\"orphan\":\"$n\"" <<<"$out" || fail "--reconcile: expected orphan $n reported, got: $out"
done
broker_run --reconcile=purge || fail "--reconcile=purge: exit status not 0: $out"
[ "$(adapter_tenants)" = osb_keep_me ] ||
	fail "--reconcile=purge: expected only osb_keep_me left, found $(adapter_tenants | tr '\n' ' ')"

step "10. no secret in the logs, the server's too; the broker stops cleanly"
no_secret_in "$BROKER_LOG" "$WORK/broker-runs.log" "$WORK/db/error.log"
broker_stop
echo "PASS: mysql broker integration test (shared plans)"
