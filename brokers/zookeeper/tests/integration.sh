#!/usr/bin/env bash
# What only ZooKeeper has (the driver contract itself is tests/contract/contract.sh): the credential
# shape; ACLs checked with the C client and with zkCli, ZooKeeper's own shell: a binding cannot read,
# write or list another instance, the broker's znodes or the root; znodes an app makes with its own
# ACL are brought back to the instance's ACL; unbind refuses a live session at its next call; the
# plan's quota is enforced and a plan change raises it; an admin that is not the super user is
# named; deprovision leaves nothing; a dedicated server keeps its admin password out of its files.
# Usage: integration.sh BROKER_BINARY REPO_ROOT
BROKER_BIN=${1:?usage: integration.sh BROKER_BINARY REPO_ROOT}
ROOT=${2:?repo root}
# shellcheck source=../../../tests/lib/broker.sh
. "$ROOT/tests/lib/broker.sh"
t_init zookeeper-it
need java openssl
zkc=${OSB_HELPER_ZK_CLIENT:?the test client osb-zookeeper-zk-client (OSB_HELPER_ZK_CLIENT)}
# The shipped catalog with a tiny quota on plan small, so that the test can reach it.
jq '(.services[0].plans[] | select(.name == "small") | ."x-osb") += {max_znodes: 5, max_bytes: 200}' \
	"$ROOT/catalog/zookeeper.json" >"$WORK/catalog.json"
use_catalog "$WORK/catalog.json"
small=$(plan_id small)
medium=$(plan_id medium)
dedicated=$(plan_id dedicated)
admin_pw=$(secret)
SECRET_WORDS=$admin_pw
zk_port=$(free_port)

# super OP PATH [ARGS]: the C client as the super user, no chroot.
super() { timeout 20 "$zkc" "$1" "127.0.0.1:$zk_port" "super:$admin_pw" "${@:2}"; }
# as CREDS [SPACE] OP PATH [ARGS]: CREDS's login on SPACE's chroot (default its own); SPACE "/" is no chroot.
as() {
	local c=$1 at
	shift
	case $1 in
	/) at=$(jq -r '"\(.host):\(.port)"' <<<"$c") && shift ;;
	'{'*) at=$(jq -r .connect_string <<<"$1") && shift ;;
	*) at=$(jq -r .connect_string <<<"$c") ;;
	esac
	timeout 20 "$zkc" "$1" "$at" "$(jq -r .auth <<<"$c")" "${@:2}"
}
# refused WHAT COMMAND...: the command fails with ZooKeeper's "not authenticated" (NOAUTH).
refused() {
	local what=$1 out
	shift
	out=$("$@" 2>&1) && fail "$what: expected a refusal, got: $out"
	grep -q 'not authenticated' <<<"$out" || fail "$what: expected NOAUTH, got: $out"
}
# zkcli COMMANDS...: ZooKeeper's own shell on the shared server, one command per argument (its exit
# status is that of its last command).
zkcli() {
	printf '%s\n' "$@" | timeout 30 java -cp /usr/share/java/zookeeper.jar:/usr/share/java/slf4j-nop.jar \
		org.apache.zookeeper.ZooKeeperMain -server "127.0.0.1:$zk_port" 2>&1 || true
}

range=$(free_range 11)
broker_config "$(jq -cn --argjson port "$zk_port" --arg pw "$admin_pw" '{port: $port, admin_password: $pw}')" \
	"$(jq -cn --argjson a "$range" '{dedicated: {port_range: [$a, ($a + 10)]}}')"
t_on_exit "$ROOT/brokers/zookeeper/server.sh" stop "$WORK/zk"
"$ROOT/brokers/zookeeper/server.sh" start "$WORK/zk" "$zk_port" "$admin_pw" >/dev/null
broker_start
wait_ready 200

step "1. bad input gets a clear error and makes nothing"
ia=$(new_id)
osb PUT "/v2/service_instances/$ia" "$(provision_body "$small" '{"chroot": "/"}')"
expect_status 400 "provision with an unknown parameter"
jq -e '.description | test("chroot")' <<<"$body" >/dev/null || fail "the error does not name the parameter: $body"
[ -z "$(super ls /osb 2>/dev/null)" ] || fail "a refused provision left znodes: $(super ls /osb)"

step "2. credentials: the chroot, connect string, digest login and how to make znodes"
ib=$(new_id)
provision "$ia" "$small"
provision "$ib" "$small"
na=$(instance_name "$ia")
ba1=$(new_id)
ba2=$(new_id)
bb1=$(new_id)
ca1=$(bind "$ia" "$ba1" "$small")
ca2=$(bind "$ia" "$ba2" "$small")
cb1=$(bind "$ib" "$bb1" "$small")
osb PUT "/v2/service_instances/$ia/service_bindings/$(new_id)" "$(bind_body "$small" '{"perms": "cdrwa"}')"
expect_status 400 "bind with an unknown parameter"
u=$(jq -r .username <<<"$ca1")
p=$(jq -r .password <<<"$ca1")
[ "$u" = "$(binding_name "$ba1")" ] || fail "username: expected $(binding_name "$ba1"), got $u"
[ "$(jq -r .chroot <<<"$ca1")" = "/osb/$na" ] || fail "chroot: expected /osb/$na"
[ "$(jq -r .connect_string <<<"$ca1")" = "127.0.0.1:$zk_port/osb/$na" ] || fail "connect_string: $(jq -r .connect_string <<<"$ca1")"
[ "$(jq -r .uri <<<"$ca1")" = "zookeeper://$u:$p@127.0.0.1:$zk_port/osb/$na" ] || fail "uri: $(jq -r .uri <<<"$ca1")"
[ "$(jq -r '"\(.auth_scheme) \(.auth) \(.create_acl)"' <<<"$ca1")" = "digest $u:$p parent" ] ||
	fail "expected auth_scheme digest, auth user:password and create_acl parent: $ca1"
[ "$(jq -c .endpoints "$WORK/bind-$ba1")" = "[{\"host\":\"127.0.0.1\",\"ports\":[\"$zk_port\"],\"protocol\":\"tcp\"}]" ] ||
	fail "expected one tcp endpoint, got $(jq -c .endpoints "$WORK/bind-$ba1")"

step "3. isolation: the C client and zkCli; only the instance's bindings get in"
as "$ca1" put /cfg v1 && as "$ca1" put /cfg/child c1 || fail "binding a1 cannot write in its chroot"
[ "$(as "$ca2" get /cfg/child)" = c1 ] || fail "binding a2 cannot read what a1 made with its parent's ACL"
[ "$(as "$ca1" getacl /cfg/child | grep -c '^digest:osb_')" = 2 ] || fail "expected the two bindings on the ACL: $(as "$ca1" getacl /cfg/child)"
refused "b1 reads a's znode" as "$cb1" "$ca1" get /cfg
refused "b1 writes into a" as "$cb1" "$ca1" put /stolen x
refused "b1 lists a" as "$cb1" "$ca1" ls /
refused "b1 lists the instances" as "$cb1" / ls /osb
refused "b1 reads the registry" as "$cb1" / ls /osb/.bindings
refused "b1 makes a znode at the root" as "$cb1" / create /junk x world
refused "b1 reads a's quota" as "$cb1" / get "/zookeeper/quota/osb/$na/zookeeper_limits"
refused "b1 removes a's quota" as "$cb1" / rm "/zookeeper/quota/osb/$na/zookeeper_limits"
refused "b1 makes quota znodes" as "$cb1" / create /zookeeper/quota/osb/x x world
refused "an anonymous client reads a" timeout 20 "$zkc" get "127.0.0.1:$zk_port/osb/$na" - /cfg
out=$(zkcli "addauth digest $(jq -r .auth <<<"$ca1")" "get /osb/$na/cfg")
grep -qx v1 <<<"$out" || fail "zkCli with a1's login: expected v1, got: $out"
out=$(zkcli "addauth digest $(jq -r .auth <<<"$cb1")" "get /osb/$na/cfg" "ls /osb")
[ "$(grep -ci 'insufficient permission' <<<"$out")" = 2 ] || fail "zkCli with b1's login: expected two refusals, got: $out"

step "4. znodes an app makes with an ACL of its own get the instance's ACL at the next bind or unbind"
as "$ca1" create /open o world && as "$ca1" create /mine m creator || fail "binding a1 cannot make znodes"
[ "$(timeout 20 "$zkc" get "127.0.0.1:$zk_port/osb/$na" - /open)" = o ] || fail "a world-readable znode is not readable"
refused "a2 reads a1's creator-only znode" as "$ca2" get /mine
ba3=$(new_id)
ca3=$(bind "$ia" "$ba3" "$small")
[ "$(as "$ca3" get /mine)" = m ] && [ "$(as "$ca2" get /mine)" = m ] || fail "the creator-only znode did not get the instance's ACL"
refused "an anonymous client reads /open after a bind" timeout 20 "$zkc" get "127.0.0.1:$zk_port/osb/$na" - /open

step "5. unbind: the identity leaves every ACL, and a live session is refused at its next call"
as "$ca2" hold /cfg 30 "$WORK/held" >"$WORK/hold.out" 2>&1 &
hold=$!
t_on_exit kill "$hold"
for _ in $(seq 1 100); do [ -f "$WORK/held" ] && break; sleep 0.05; done
[ -f "$WORK/held" ] || fail "a2's session never started: $(cat "$WORK/hold.out")"
kill -0 "$hold" || fail "a2's session ended before unbind: $(cat "$WORK/hold.out")"
unbind "$ia" "$ba2" "$small"
rc=0
timeout 10 tail --pid="$hold" -f /dev/null || fail "a2's live session still reads 10 s after unbind"
wait "$hold" || rc=$?
[ "$rc" = 3 ] || fail "a2's live session: expected a NOAUTH refusal (exit 3), got $rc: $(cat "$WORK/hold.out")"
refused "a2 after unbind" as "$ca2" get /cfg
as "$ca1" getacl /mine | grep -q "$(binding_name "$ba2")" && fail "a2 is still on an ACL"
[ "$(as "$ca1" get /cfg)" = v1 ] || fail "unbind of a2 broke a1"

step "6. the plan's quota is enforced; a plan change raises it"
# The instance's znode, /cfg, /cfg/child, /open and /mine: 5 znodes, the quota of this catalog's small plan.
out=$(as "$ca1" put /more x 2>&1) && fail "a 6th znode was made past the quota of 5"
grep -q 'not authenticated' <<<"$out" && fail "the 6th znode was refused for another reason: $out"
long=$(head -c 300 /dev/zero | tr '\0' x)
as "$ca1" put /cfg "$long" 2>/dev/null && fail "300 bytes were written past the quota of 200"
osb PATCH "/v2/service_instances/$ia" "$(jq -cn --arg s "$SERVICE_ID" --arg p "$medium" '{service_id: $s, plan_id: $p}')"
expect_status 200 "plan change to medium"
super get "/zookeeper/quota/osb/$na/zookeeper_limits" | grep -q 'countHardLimit=10000' || fail "the quota was not raised"
as "$ca1" put /more x && as "$ca1" put /cfg "$long" || fail "the medium plan's quota does not let a1 write"

step "7. an admin that is not the super user is named as such"
OSB_DRIVER_ADMIN_PASSWORD=not-the-super-password broker_run --reconcile && fail "--reconcile with a wrong admin password passed"
grep -q 'is not its super user' "$WORK/broker-runs.log" || fail "--reconcile: the log does not say the admin is not the super user"

step "8. deprovision with live bindings leaves nothing of the instance"
deprovision "$ia" "$medium"
for z in "/osb/$na" "/osb/.bindings/$na" "/zookeeper/quota/osb/$na"; do
	super get "$z" >/dev/null 2>&1 && fail "deprovision left $z"
done
as "$ca1" get /cfg 2>/dev/null && fail "a1 still reads after deprovision"
as "$cb1" put /cfg b && [ "$(as "$cb1" get /cfg)" = b ] || fail "deprovision of a broke instance b"

step "9. a dedicated server: the binding's chroot on it, a locked root, no admin password in its files"
idd=$(new_id)
provision "$idd" "$dedicated"
cd1=$(bind "$idd" "$(new_id)" "$dedicated")
as "$cd1" put /k v && [ "$(as "$cd1" get /k)" = v ] || fail "the dedicated binding cannot write and read"
refused "the dedicated binding makes a znode at its server's root" as "$cd1" / create /junk x world
ddir=$WORK/data/dedicated/$(instance_name "$idd")
[ "$(stat -c %a "$ddir/jvm.args")" = 600 ] || fail "jvm.args is not private"
grep -q "superDigest=super:" "$ddir/jvm.args" || fail "jvm.args has no super digest"
grep -rqF "$(cat "$ddir/admin.pw")" "$ddir/jvm.args" "$ddir/zoo.cfg" && fail "the admin password is in the server's files"
grep -q "^clientPort=$(jq -r .port <<<"$cd1")$" "$ddir/zoo.cfg" || fail "zoo.cfg does not name the server's port"
deprovision "$idd" "$dedicated"
[ ! -e "$ddir" ] || fail "the dedicated server's directory is still there"

step "10. no secret in the logs; the broker stops cleanly"
no_secret_in "$BROKER_LOG" "$WORK/broker-runs.log"
broker_stop
echo "PASS: zookeeper integration"
