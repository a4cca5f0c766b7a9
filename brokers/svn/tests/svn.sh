#!/usr/bin/env bash
# What only the Subversion broker has (the driver contract itself is tests/contract/contract.sh): the
# credential shape with svn's own client, read-only bindings, logins confined to their repository,
# the plan's size limit enforced by svnserve and changed by a plan update, the files the broker
# writes, bad input that changes nothing, concurrent binds, leftovers of interrupted calls, and a
# dedicated svnserve beside the shared one.
# Usage: svn.sh BROKER_BINARY REPO_ROOT
BROKER_BIN=${1:?usage: svn.sh BROKER_BINARY REPO_ROOT}
ROOT=${2:?repo root}
# shellcheck source=../../../tests/lib/broker.sh
. "$ROOT/tests/lib/broker.sh"
t_init svn-it
need svnserve svnadmin svn svnmucc
# The shipped catalog, with a 1 MB limit on the small plan so that a commit can cross it.
jq '(.services[0].plans[] | select(.name == "small") | ."x-osb".repository_mb) = 1' "$ROOT/catalog/svn.json" \
	>"$WORK/catalog.json"
use_catalog "$WORK/catalog.json"
small=$(plan_id small)
large=$(plan_id large)
dedicated=$(plan_id dedicated)
port=$(free_port)
srv=$WORK/svn
root=$srv/repos
t_on_exit "$ROOT/brokers/svn/server.sh" stop "$srv"
"$ROOT/brokers/svn/server.sh" start "$srv" "$port" >/dev/null
range=$(free_range 4)
broker_config "$(jq -cn --argjson port "$port" --arg root "$root" '{port: $port, root: $root}')" \
	"$(jq -cn --argjson a "$range" '{dedicated: {port_range: [$a, ($a + 3)]}, timeouts: {sync_s: 5}}')"
broker_start
wait_ready 200

# svn or svnmucc with binding CREDS's login; output and errors on stdout.
as() {
	local tool=$1 creds=$2
	shift 2
	timeout 30 "$tool" --non-interactive --no-auth-cache --config-dir "$WORK/svn-config" \
		--username "$(jq -r .username <<<"$creds")" --password "$(jq -r .password <<<"$creds")" "$@" 2>&1
}
# put CREDS URL BYTES: commit BYTES random bytes as the file at URL.
put() {
	head -c "$3" /dev/urandom >"$WORK/put.bin"
	as svnmucc "$1" -m "put $2" put "$WORK/put.bin" "$2"
}

step "1. credentials: uri with the login, checkout_url without it; svn checks out and commits"
ia=$(new_id)
ib=$(new_id)
na=$(instance_name "$ia")
nb=$(instance_name "$ib")
provision "$ia" "$small"
provision "$ib" "$small"
ba=$(new_id)
ca=$(bind "$ia" "$ba" "$small")
ua=$(jq -r .username <<<"$ca")
url_a=svn://127.0.0.1:$port/$na
url_b=svn://127.0.0.1:$port/$nb
expect_login_credentials "$ba" svn "$port" "$na"
[ "$(jq -r '[.checkout_url, .repository, .hostname, (.port | tostring), (.read_only | tostring)] | join(" ")' \
	<<<"$ca")" = \
	"$url_a $na 127.0.0.1 $port false" ] ||
		fail "unexpected checkout_url, repository, hostname, port or read_only: $ca"
out=$(as svn "$ca" checkout -q "$url_a" "$WORK/wc") || fail "checkout with checkout_url: $out"
echo hello >"$WORK/wc/greeting"
out=$(as svn "$ca" add -q "$WORK/wc/greeting" && as svn "$ca" commit -q -m first "$WORK/wc") || fail "commit: $out"
[ "$(as svn "$ca" cat "$url_a/greeting")" = hello ] || fail "svn cat of the committed file"

step "2. a read-only binding reads and cannot commit"
bro=$(new_id)
cro=$(bind "$ia" "$bro" "$small" '{"read_only": true}')
[ "$(jq -r .read_only <<<"$cro")" = true ] || fail "read-only binding: read_only is not true"
[ "$(as svn "$cro" cat "$url_a/greeting")" = hello ] || fail "read-only binding cannot read"
out=$(put "$cro" "$url_a/ro" 10) && fail "read-only binding committed: $out"
grep -q 'E170001' <<<"$out" || fail "read-only commit: expected an authorization error, got: $out"

step "3. a login reaches its repository only; anonymous and wrong logins are refused"
out=$(as svn "$ca" ls "$url_b") && fail "binding a listed repository b: $out"
out=$(as svn "$ca" ls "$url_a/../$nb") && fail "binding a listed repository b through ..: $out"
out=$(put "$ca" "$url_b/stolen" 10) && fail "binding a committed into repository b: $out"
out=$(timeout 30 svn --non-interactive --no-auth-cache --config-dir "$WORK/svn-config" ls "$url_a" 2>&1) &&
	fail "anonymous access: $out"
out=$(timeout 30 svn --non-interactive --no-auth-cache --config-dir "$WORK/svn-config" --username "$ua" \
	--password wrong ls "$url_a" 2>&1) && fail "a wrong password: $out"

step "4. the plan's size limit: svnserve refuses a commit past it; a plan update lifts it"
out=$(put "$ca" "$url_a/part1" 600000) || fail "a 600 KB commit under the 1 MB limit: $out"
out=$(put "$ca" "$url_a/part2" 600000) && fail "a commit taking the repository past 1 MB was accepted"
grep -q 'osb: refused' <<<"$out" || fail "the refusal does not say why: $out"
[ -z "$(ls "$root/$na/db/transactions")" ] || fail "a refused commit left its transaction"
out=$(put "$ca" "$url_a/small" 100) || fail "a small commit that fits after the refusal: $out"
osb PATCH "/v2/service_instances/$ia" "$(jq -cn --arg s "$SERVICE_ID" --arg p "$large" '{service_id: $s, plan_id: $p}')"
expect_status 200 "update to the large plan"
grep -q 'past 2048 MB' "$root/$na/hooks/pre-commit" || fail "the hook does not have the large plan's limit"
out=$(put "$ca" "$url_a/part2" 600000) || fail "a 600 KB commit on the large plan: $out"

step "5. the files: private to svnserve's user, anonymous access off"
for f in conf/passwd conf/authz conf/svnserve.conf; do
	[ "$(stat -c '%a %U' "$root/$na/$f")" = "600 $(id -un)" ] || fail "$f must be mode 0600, the broker's user's"
done
[ "$(stat -c %a "$root/$na/hooks/pre-commit")" = 700 ] || fail "the hook must be 0700"
grep -qx 'anon-access = none' "$root/$na/conf/svnserve.conf" || fail "svnserve.conf: anonymous access is not off"
grep -qx "$ua = rw" "$root/$na/conf/authz" || fail "authz: $ua has no rw line"
grep -qx "$(jq -r .username <<<"$cro") = r" "$root/$na/conf/authz" || fail "authz: the read-only binding has no r line"
! grep -q "$ua" "$root/$nb/conf/passwd" "$root/$nb/conf/authz" || fail "binding a is in repository b's files"

step "6. bad input: a clear 400, nothing changes on the server"
root_sum() { (cd "$root" && find . -path '*/db' -prune -o -print | sort | sha256sum && cat ./*/conf/* | sha256sum); }
before=$(root_sum)
for params in '{"repository_mb": 1}' '{"layout": "standard"}' '[]'; do
	osb PUT "/v2/service_instances/$(new_id)" "$(provision_body "$small" "$params")"
	expect_status 400 "provision with $params"
	jq -e '.description | length > 0' <<<"$body" >/dev/null || fail "not a clear error: $body"
done
osb PUT "/v2/service_instances/$ia/service_bindings/$(new_id)" "$(bind_body "$large" '{"read_only": "yes"}')"
expect_status 400 "bind with read_only \"yes\""
[ "$(root_sum)" = "$before" ] || fail "bad input changed the repositories"

step "7. concurrent binds: every login lands in its repository's files, and each works"
bind_concurrently 12 "$ia" "$large" "$ib" "$small"
for i in $(seq 1 12); do
	out=$(as svn "$(cat "$WORK/cred-par-$i")" ls "$(jq -r .checkout_url "$WORK/cred-par-$i")") ||
		fail "a concurrently made binding cannot list its repository: $out"
done
[ "$(grep -c '^osb_' "$root/$na/conf/passwd")" = 8 ] || fail "expected 8 logins of $na"
[ "$(grep -c '^osb_' "$root/$nb/conf/passwd")" = 6 ] || fail "expected 6 logins of $nb"

step "7b. a frozen server: /health/ready 503 at once, a bind fails within its deadline, then all is well again"
expect_frozen_server "$(cat "$srv/server.pid")" 504 \
	PUT "/v2/service_instances/$ib/service_bindings/$(new_id)" "$(bind_body "$small")"

step "8. leftovers of interrupted calls: a provision clears its own, reconcile finds and purges others"
ic=$(new_id)
nc=$(instance_name "$ic")
mkdir -p "$root/.$nc.tmp/conf"
provision "$ic" "$small"
[ ! -e "$root/.$nc.tmp" ] && [ -d "$root/$nc" ] || fail "provision did not replace its leftover .$nc.tmp"
orphan=osb_00000000000000000abc
mkdir -p "$root/.$orphan.del/db"
broker_run --reconcile=purge || fail "--reconcile=purge failed: $out"
grep -q "\"orphan\":\"$orphan\",\"kind\":\"[a-z ]*\",\"purged\":true" <<<"$out" ||
	fail "the .del leftover was not purged: $out"
[ ! -e "$root/.$orphan.del" ] || fail "the .del leftover is still there"

step "9. a dedicated svnserve: its own port and repository, isolated from the shared server's"
id=$(new_id)
nd=$(instance_name "$id")
provision "$id" "$dedicated"
bd=$(new_id)
cd_=$(bind "$id" "$bd" "$dedicated")
dport=$(jq -r .port <<<"$cd_")
[ "$dport" -ge "$range" ] && [ "$dport" -le $((range + 3)) ] || fail "dedicated port $dport is outside the range"
url_d=$(jq -r .checkout_url <<<"$cd_")
[ "$url_d" = "svn://127.0.0.1:$dport/$nd" ] || fail "unexpected dedicated checkout_url $url_d"
out=$(put "$cd_" "$url_d/file" 1000) || fail "commit to the dedicated repository: $out"
dpid=$(jq -r .pid "$WORK/data/dedicated/$nd/deployment.json")
[ "$(readlink "/proc/$dpid/exe")" = "$(command -v svnserve)" ] || fail "the dedicated server is not svnserve"
out=$(as svn "$ca" ls "svn://127.0.0.1:$dport/$nd") && fail "a shared binding listed the dedicated repository: $out"
out=$(as svn "$cd_" ls "$url_a") && fail "the dedicated binding listed a shared repository: $out"
[ ! -e "$root/$nd" ] || fail "the dedicated instance's repository is on the shared server"
deprovision "$id" "$dedicated"
[ ! -e "$WORK/data/dedicated/$nd" ] || fail "the dedicated directory is still there"
! kill -0 "$dpid" 2>/dev/null || fail "the dedicated svnserve still runs"

step "10. unbind and deprovision leave nothing"
unbind "$ia" "$ba" "$large"
! grep -q "$ua" "$root/$na/conf/passwd" "$root/$na/conf/authz" || fail "unbind left $ua in passwd or authz"
out=$(as svn "$ca" ls "$url_a") && fail "an unbound login still reads: $out"
deprovision "$ia" "$large"
deprovision "$ib" "$small"
deprovision "$ic" "$small"
left=$(find "$root" -mindepth 1 -not -name .osb-svn.lock | wc -l)
[ "$left" = 0 ] || fail "deprovision left $(ls -A "$root")"

step "11. no secret in the logs; the broker stops cleanly"
no_secret_in "$BROKER_LOG" "$WORK/broker-runs.log" "$srv/svnserve.log"
broker_stop
echo "PASS: svn broker"
