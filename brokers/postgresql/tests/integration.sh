#!/usr/bin/env bash
# What only PostgreSQL has (the driver contract itself is tests/contract/contract.sh): an instance's
# database owned by a NOLOGIN role that owns what every binding creates, SET ROLE refused across
# instances, the credential shape, rotation, sessions ended by pg_terminate_backend, the plan's
# connection limit and its update, extensions (untrusted ones refused), binding roles left behind
# (a stray one at deprovision, orphans for the reconciler), and no secret in the server's log.
# Usage: integration.sh BROKER_BINARY REPO_ROOT
# shellcheck source=../../../tests/lib/broker.sh
. "${2:?usage: integration.sh BROKER_BINARY REPO_ROOT}/tests/lib/broker.sh"
t_init pg-it
use_adapter postgresql
read -r small medium large < <(plan_id small medium large)

# admin_sql DATABASE SQL: one row per line, columns separated by |.
admin_sql() { pg_admin "$1" <<<"$2"; }
connlimit() { admin_sql postgres "SELECT datconnlimit FROM pg_database WHERE datname = '$1'"; }
# as_binding URI SQL: psql with a binding's uri; prints what psql says and keeps its status.
as_binding() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$1" -c "$2" 2>&1; }

step "start PostgreSQL and the broker"
server_and_broker "$WORK/pg"

step "1. an instance is a database owned by a NOLOGIN role of its name, with the plan's connection limit"
i1=$(new_id)
db1=$(instance_name "$i1")
provision "$i1" "$small"
got=$(admin_sql postgres "SELECT r.rolcanlogin, pg_get_userbyid(d.datdba), d.datconnlimit
	FROM pg_database d, pg_roles r WHERE d.datname = '$db1' AND r.rolname = '$db1'")
[ "$got" = "f|$db1|$(plan_setting "$small" connection_limit)" ] ||
	fail "provision: expected a NOLOGIN role $db1 owning database $db1 with connection limit 10, got '$got'"

step "2. the credentials' shape; what a binding creates belongs to the owner role, so every binding may alter it"
b1=$(new_id)
c1=$(bind "$i1" "$b1" "$small")
expect_db_credentials "$b1" "$i1" postgresql "$SERVER_PORT"
user1=$(jq -r .username <<<"$c1")
uri1=$(jq -r .uri <<<"$c1")
out=$(as_binding "$uri1" "CREATE TABLE notes (id int PRIMARY KEY, body text); INSERT INTO notes VALUES (1, 'hello')") ||
	fail "binding 1: cannot create a table: $out"
[ "$(admin_sql "$db1" "SELECT tableowner FROM pg_tables WHERE tablename = 'notes'")" = "$db1" ] ||
	fail "binding 1's table notes does not belong to the owner role $db1"
b2=$(new_id)
uri2=$(jq -r .uri <<<"$(bind "$i1" "$b2" "$small")")
out=$(as_binding "$uri2" "INSERT INTO notes VALUES (2, 'two'); ALTER TABLE notes ADD COLUMN tag text;
	SELECT count(*) FROM notes") || true
[ "$out" = 2 ] || fail "binding 2: expected to write into and alter binding 1's table, got: $out"

step "3. a binding of another instance cannot take the first instance's owner role"
i2=$(new_id)
db2=$(instance_name "$i2")
provision "$i2" "$small"
b3=$(new_id)
uri3=$(jq -r .uri <<<"$(bind "$i2" "$b3" "$small")")
expect_refused "binding 3: SET ROLE $db1" 'permission denied' as_binding "$uri3" "SET ROLE $db1"

step "4. rotation: the successor gets a role of its own, the predecessor works until unbound"
b2r=$(new_id)
c2r=$(rotate "$i1" "$b2r" "$small" "$b2")
[ "$(jq -r .username <<<"$c2r")" = "$(binding_name "$b2r")" ] || fail "rotation: expected the role $(binding_name "$b2r")"
out=$(as_binding "$(jq -r .uri <<<"$c2r")" "SELECT count(*) FROM notes") || true
[ "$out" = 2 ] || fail "rotation: expected the successor to read 2 rows of notes, got: $out"
out=$(as_binding "$uri2" "SELECT 1") || fail "rotation: the predecessor must work until unbound: $out"

step "5. unbind ends binding 1's session by pg_terminate_backend and drops its role; its table stays"
session_start "$c1" "$WORK/session.out"
unbind "$i1" "$b1" "$small"
session_ended "unbind"
[ "$SESSION_RC" != 0 ] && grep -qi 'terminating connection' "$WORK/session.out" ||
	fail "unbind: expected psql to be told 'terminating connection', it said: $(cat "$WORK/session.out")"
[ -z "$(admin_sql postgres "SELECT 1 FROM pg_roles WHERE rolname = '$user1'")" ] || fail "unbind: role $user1 is left"
[ "$(as_binding "$uri2" "SELECT count(*) FROM notes")" = 2 ] || fail "unbind of binding 1 took its table notes"

step "6. an update sets the plan's connection limit and creates the extensions asked; untrusted ones are refused"
update "$i1" "$medium"
[ "$(connlimit "$db1")" = "$(plan_setting "$medium" connection_limit)" ] ||
	fail "update: expected limit 50, got $(connlimit "$db1")"
update "$i1" "$large" '{"extensions": ["hstore", "uuid-ossp"]}'
[ "$(connlimit "$db1")" = "$(plan_setting "$large" connection_limit)" ] ||
	fail "update: expected limit 200, got $(connlimit "$db1")"
got=$(admin_sql "$db1" "SELECT string_agg(extname, ',' ORDER BY extname) FROM pg_extension WHERE extname <> 'plpgsql'")
[ "$got" = "hstore,uuid-ossp" ] || fail "update: expected extensions hstore,uuid-ossp, got '$got'"
out=$(as_binding "$uri2" "SELECT length(uuid_generate_v4()::text)") || true
[ "$out" = 36 ] || fail "update: expected binding 2 to use uuid-ossp, got: $out"
osb PATCH "/v2/service_instances/$i1" "$(update_body "$large" '{"extensions": ["plperlu"]}')"
expect_status 400 "update with the untrusted extension plperlu"

step "7. provision creates the extensions asked; untrusted or malformed parameters are refused and make nothing"
i3=$(new_id)
db3=$(instance_name "$i3")
provision "$i3" "$small" '{"extensions": ["pgcrypto"]}'
[ "$(admin_sql "$db3" "SELECT extname FROM pg_extension WHERE extname = 'pgcrypto'")" = pgcrypto ] ||
	fail "provision: expected the extension pgcrypto in $db3"
for params in '{"extensions":["plpython3u"]}' '{"extensions":"pgcrypto"}' '{"extensions":["pgcrypto","pgcrypto"]}' \
	'{"owner":"postgres"}'; do
	i4=$(new_id)
	osb PUT "/v2/service_instances/$i4" "$(provision_body "$small" "$params")"
	expect_status 400 "provision with parameters $params"
	! adapter_tenants | grep -qx "$(instance_name "$i4")" ||
		fail "provision with $params: $(instance_name "$i4") was made"
done

step "8. deprovision drops every role of the instance, one made behind the broker's back too"
stray=osb_00000000000000000abc
admin_sql postgres "CREATE ROLE $stray LOGIN IN ROLE $db1"
deprovision "$i1" "$large"
left=$(adapter_tenants | grep -xE "$stray|$db1|$(binding_name "$b2")|$(binding_name "$b2r")" || true)
[ -z "$left" ] || fail "deprovision: left on the server: $(tr '\n' ' ' <<<"$left")"

step "9. the reconciler finds binding roles left behind, of an orphan instance and of a live one, and purges only them"
orphan=osb_0123456789abcdef0123
orphan_role=osb_fedcba9876543210fedc
stray_role=osb_aaaaaaaaaaaaaaaaaaaa
live=$(printf '%s\n' "$db2" "$db3" "$(binding_name "$b3")" | sort)
admin_sql postgres "CREATE ROLE $orphan NOLOGIN; CREATE DATABASE $orphan OWNER $orphan;
	CREATE ROLE $orphan_role LOGIN IN ROLE $orphan; CREATE ROLE $stray_role LOGIN IN ROLE $db2;"
broker_run --reconcile || fail "--reconcile: exit status not 0: $out"
for n in "$orphan" "$orphan_role" "$stray_role"; do
	grep -q "\"orphan\":\"$n\"" <<<"$out" || fail "--reconcile: expected orphan $n reported, got: $out"
done
for n in $live; do
	! grep -q "$n" <<<"$out" || fail "--reconcile: the live tenant $n reported as an orphan: $out"
done
broker_run --reconcile=purge || fail "--reconcile=purge: exit status not 0: $out"
[ "$(adapter_tenants | sort)" = "$live" ] ||
	fail "--reconcile=purge: expected only $live left, found $(adapter_tenants | tr '\n' ' ')"
out=$(as_binding "$uri3" "SELECT 1") || fail "--reconcile=purge broke binding 3: $out"

step "10. nothing left; no secret in the logs, the server's too; the broker stops cleanly"
deprovision "$i2" "$small"
deprovision "$i3" "$small"
[ -z "$(adapter_tenants)" ] || fail "deprovision: left on the server: $(adapter_tenants | tr '\n' ' ')"
no_secret_in "$BROKER_LOG" "$WORK/broker-runs.log" "$WORK/pg/postgres.log"
broker_stop
echo "PASS: postgresql broker integration test"
