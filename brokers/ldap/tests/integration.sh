#!/usr/bin/env bash
# What only LDAP has (the driver contract itself is tests/contract/contract.sh), checked with the
# ldap-utils tools: the credential shape; passwords stored as {SSHA}; a service account sees and
# writes its own OU only (a search from the base shows nothing else), cannot see or change the
# other accounts nor make a new one, while the app's own users may log in; the search size limit;
# unbind refuses an open connection at its next operation; deprovision removes the OU with
# everything in it; a wrong admin password is named; a dedicated slapd keeps its admin password
# hashed.
# Usage: integration.sh BROKER_BINARY REPO_ROOT
BROKER_BIN=${1:?usage: integration.sh BROKER_BINARY REPO_ROOT}
ROOT=${2:?repo root}
# shellcheck source=../../../tests/lib/broker.sh
. "$ROOT/tests/lib/broker.sh"
t_init ldap-it
need slapd slapadd ldapsearch ldapadd ldapmodify ldapdelete ldapwhoami
use_catalog "$ROOT/catalog/ldap.json"
standard=$(plan_id standard)
dedicated=$(plan_id dedicated)
admin_pw=$(secret)
SECRET_WORDS=$admin_pw
port=$(free_port)
base=dc=osb,dc=test

# admin TOOL ARGS...: an ldap-utils tool as the shared server's admin.
admin() { timeout 20 "$1" -x -o nettimeout=5 -o ldif-wrap=no -H "ldap://127.0.0.1:$port" -D "cn=admin,$base" -w "$admin_pw" "${@:2}"; }
# as CREDS TOOL ARGS...: with the binding's login, on its server.
as() {
	local c=$1 tool=$2
	shift 2
	timeout 20 "$tool" -x -o nettimeout=5 -o ldif-wrap=no -H "ldap://$(jq -r '"\(.host):\(.port)"' <<<"$c")" \
		-D "$(jq -r .bind_dn <<<"$c")" -w "$(jq -r .password <<<"$c")" "$@"
}
# refused WHAT CODE COMMAND...: the command fails with LDAP result CODE (32 no such object, 50 insufficient access).
refused() {
	local what=$1 code=$2 rc=0 out
	shift 2
	out=$("$@" 2>&1) || rc=$?
	[ "$rc" = "$code" ] || fail "$what: expected LDAP result $code, got $rc: $out"
}
entry() { printf 'dn: %s\nobjectClass: organizationalRole\ncn: %s\ndescription: %s\n' "$1" "${1%%,*}" "$2" | sed 's/^cn: cn=/cn: /'; }

range=$(free_range 11)
broker_config "$(jq -cn --argjson port "$port" --arg pw "$admin_pw" --arg base "$base" \
	'{port: $port, admin_user: "cn=admin,\($base)", admin_password: $pw, base_dn: $base}')" \
	"$(jq -cn --argjson a "$range" '{dedicated: {port_range: [$a, ($a + 10)]}}')"
t_on_exit "$ROOT/brokers/ldap/server.sh" stop "$WORK/ldap"
"$ROOT/brokers/ldap/server.sh" start "$WORK/ldap" "$port" "$admin_pw" >/dev/null
broker_start
wait_ready 200

step "1. bad input gets a clear error and makes nothing"
ia=$(new_id)
osb PUT "/v2/service_instances/$ia" "$(provision_body "$standard" '{"ou": "people"}')"
expect_status 400 "provision with an unknown parameter"
jq -e '.description | test("ou")' <<<"$body" >/dev/null || fail "the error does not name the parameter: $body"
[ -z "$(admin ldapsearch -LLL -s one -b "$base" '(ou=*)' dn)" ] || fail "a refused provision left an OU"

step "2. credentials: ldap:// uri with the OU, base_dn, bind_dn; the password stored as {SSHA}"
ib=$(new_id)
provision "$ia" "$standard"
provision "$ib" "$standard"
oa="ou=$(instance_name "$ia"),$base"
ob="ou=$(instance_name "$ib"),$base"
ca1=$(bind "$ia" "$(new_id)" "$standard")
ba2=$(new_id)
ca2=$(bind "$ia" "$ba2" "$standard")
cb1=$(bind "$ib" "$(new_id)" "$standard")
osb PUT "/v2/service_instances/$ia/service_bindings/$(new_id)" "$(bind_body "$standard" '{"uid": "admin"}')"
expect_status 400 "bind with an unknown parameter"
a1=$(jq -r .bind_dn <<<"$ca1")
[ "$(jq -r .base_dn <<<"$ca1")" = "$oa" ] || fail "base_dn: expected $oa, got $(jq -r .base_dn <<<"$ca1")"
[ "$a1" = "uid=$(jq -r '.bind_dn | capture("^uid=(?<u>[^,]+)").u' <<<"$ca1"),$oa" ] || fail "bind_dn: $a1"
[ "$(jq -r .username <<<"$ca1")" = "$a1" ] || fail "username is not the bind DN"
[ "$(jq -r .uri <<<"$ca1")" = "ldap://127.0.0.1:$port/$(jq -rn --arg d "$oa" '$d | @uri')" ] ||
	fail "uri: $(jq -r .uri <<<"$ca1")"
stored=$(admin ldapsearch -LLL -b "$a1" -s base userPassword | sed -n 's/^userPassword:: //p' | base64 -d)
[[ $stored == "{SSHA}"* ]] || fail "the password is not stored as {SSHA}: $stored"
as "$ca1" ldapwhoami >/dev/null || fail "a1 cannot log in"

step "3. isolation: an account reads and writes its own OU only"
entry "cn=cfg,$oa" secret-a | as "$ca1" ldapadd >/dev/null || fail "a1 cannot add an entry in its OU"
[ "$(as "$ca2" ldapsearch -LLL -b "cn=cfg,$oa" -s base description | sed -n 's/^description: //p')" = secret-a ] ||
	fail "a2 cannot read what a1 wrote"
seen=$(as "$cb1" ldapsearch -LLL -b "$base" '(objectClass=*)' dn | sed -n 's/^dn: //p')
[ -n "$seen" ] || fail "b1's search from the base shows nothing, not even its OU"
grep -v ",$ob\$" <<<"$seen" | grep -vx "$ob" && fail "b1's search from the base shows entries outside its OU"
refused "b1 searches a's OU" 32 as "$cb1" ldapsearch -LLL -b "$oa" dn
refused "b1 reads a's entry" 32 as "$cb1" ldapsearch -LLL -b "cn=cfg,$oa" -s base
refused "b1 adds under a's OU" 50 as "$cb1" ldapadd -f <(entry "cn=stolen,$oa" x)
refused "b1 deletes a's entry" 50 as "$cb1" ldapdelete "cn=cfg,$oa"
refused "a1 reads a2's account" 32 as "$ca1" ldapsearch -LLL -b "$(jq -r .bind_dn <<<"$ca2")" -s base
refused "a1 changes its own password" 50 as "$ca1" ldapmodify -f <(printf 'dn: %s\nchangetype: modify\nreplace: userPassword\nuserPassword: mine\n' "$a1")
refused "a1 makes itself another service account" 50 as "$ca1" ldapadd -f <(printf \
	'dn: uid=osb_00000000000000000001,%s\nobjectClass: account\nobjectClass: simpleSecurityObject\nuid: osb_00000000000000000001\nuserPassword: x\n' "$oa")
refused "a1 deletes its OU" 50 as "$ca1" ldapdelete "$oa"
refused "an anonymous search" 32 timeout 20 ldapsearch -x -LLL -H "ldap://127.0.0.1:$port" -b "$oa" dn
# The app's own users: a1 makes one with a password; it logs in and reads its entry, nothing more.
printf 'dn: uid=alice,%s\nobjectClass: account\nobjectClass: simpleSecurityObject\nuid: alice\nuserPassword: alice-pw\n' "$oa" |
	as "$ca1" ldapadd >/dev/null || fail "a1 cannot add a user of its app"
timeout 20 ldapwhoami -x -H "ldap://127.0.0.1:$port" -D "uid=alice,$oa" -w alice-pw >/dev/null || fail "the app's user cannot log in"
refused "the app's user writes" 50 timeout 20 ldapadd -x -H "ldap://127.0.0.1:$port" -D "uid=alice,$oa" -w alice-pw \
	-f <(entry "cn=by-alice,$oa" x)

step "4. a search returns at most the server's size limit (1000 entries per request)"
for i in $(seq 1 1000); do entry "cn=e$i,$oa" "$i"; echo; done | as "$ca1" ldapadd >/dev/null || fail "a1 cannot add 1000 entries"
refused "a search of 1000+ entries" 4 as "$ca1" ldapsearch -LLL -b "$oa" '(objectClass=organizationalRole)' dn

step "5. unbind: the account is gone, and its open connection is refused at its next operation"
mkfifo "$WORK/searches"
as "$ca2" ldapsearch -LLL -b "$oa" -f "$WORK/searches" '(cn=%s)' description >"$WORK/live.out" 2>&1 &
live=$!
t_on_exit kill "$live"
exec 7>"$WORK/searches"
echo cfg >&7
for _ in $(seq 1 100); do grep -q secret-a "$WORK/live.out" && break; sleep 0.05; done
grep -q secret-a "$WORK/live.out" || fail "a2's connection did not read before unbind: $(cat "$WORK/live.out")"
unbind "$ia" "$ba2" "$standard"
echo cfg >&7
exec 7>&-
rc=0
wait "$live" || rc=$?
[ "$rc" = 32 ] || fail "a2's open connection after unbind: expected result 32, got $rc: $(cat "$WORK/live.out")"
[ "$(grep -c secret-a "$WORK/live.out")" = 1 ] || fail "a2's open connection read after unbind: $(cat "$WORK/live.out")"
refused "a2 logs in after unbind" 49 as "$ca2" ldapwhoami
as "$ca1" ldapwhoami >/dev/null || fail "unbind of a2 broke a1"

step "6. a wrong admin password is named"
OSB_DRIVER_ADMIN_PASSWORD=wrong broker_run --reconcile && fail "--reconcile with a wrong admin password passed"
grep -q 'Invalid credentials' "$WORK/broker-runs.log" || fail "--reconcile: the log does not name the refused login"

step "7. deprovision with a live binding removes the OU and everything in it"
deprovision "$ia" "$standard"
refused "the OU after deprovision" 32 admin ldapsearch -LLL -b "$oa" dn
refused "a1 after deprovision" 49 as "$ca1" ldapwhoami
[ "$(as "$cb1" ldapsearch -LLL -b "$ob" -s base dn | grep -c '^dn:')" = 1 ] || fail "deprovision of a broke b"

step "8. a dedicated slapd: the same confinement, the plan's size, the admin password hashed"
idd=$(new_id)
provision "$idd" "$dedicated"
cd1=$(bind "$idd" "$(new_id)" "$dedicated")
od=$(jq -r .base_dn <<<"$cd1")
entry "cn=k,$od" v | as "$cd1" ldapadd >/dev/null || fail "the dedicated binding cannot write its OU"
refused "the dedicated binding adds next to its OU" 50 as "$cd1" ldapadd -f <(entry "cn=junk,dc=osb" x)
ddir=$WORK/data/dedicated/$(instance_name "$idd")
grep -rqF "$(cat "$ddir/admin.pw")" "$ddir/slapd.d" && fail "the admin password is in the server's configuration"
grep -rq '^olcRootPW:: ' "$ddir/slapd.d" || fail "no hashed rootpw in the dedicated server's configuration"
grep -rq '^olcDbMaxSize: 67108864$' "$ddir/slapd.d" || fail "the plan's database size is not configured"
[ ! -e "$ddir/config.ldif" ] || fail "the generated config.ldif was left behind"
deprovision "$idd" "$dedicated"
[ ! -e "$ddir" ] || fail "the dedicated server's directory is still there"

step "9. no secret in the logs; the broker stops cleanly"
no_secret_in "$BROKER_LOG" "$WORK/broker-runs.log"
broker_stop
echo "PASS: ldap integration"
