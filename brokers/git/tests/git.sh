#!/usr/bin/env bash
# What only the Git broker has (the driver contract itself is tests/contract/contract.sh): the
# credential shape with git's own client, read-only bindings, Apache's rule tried with URL tricks,
# the plan's size limit enforced by the server and changed by a plan update, the files the broker
# writes (bcrypt, modes, no password), bad input that changes nothing, concurrent binds, leftovers
# of interrupted calls, and no Apache reload at all.
# Usage: git.sh BROKER_BINARY REPO_ROOT
BROKER_BIN=${1:?usage: git.sh BROKER_BINARY REPO_ROOT}
ROOT=${2:?repo root}
# shellcheck source=../../../tests/lib/broker.sh
. "$ROOT/tests/lib/broker.sh"
t_init git-it
need apache2 git curl
export GIT_TERMINAL_PROMPT=0 GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_NAME=it GIT_AUTHOR_EMAIL=it@example.org \
	GIT_COMMITTER_NAME=it GIT_COMMITTER_EMAIL=it@example.org
# The shipped catalog, with a 1 MB limit on the small plan so that a push can cross it.
jq '(.services[0].plans[] | select(.name == "small") | ."x-osb".repository_mb) = 1' "$ROOT/catalog/git.json" \
	>"$WORK/catalog.json"
use_catalog "$WORK/catalog.json"
small=$(plan_id small)
large=$(plan_id large)
port=$(free_port)
srv=$WORK/git
tree=$srv/tree
t_on_exit "$ROOT/brokers/git/server.sh" stop "$srv"
"$ROOT/brokers/git/server.sh" start "$srv" "$port" >/dev/null
apache_pid=$(cat "$srv/server.pid")
broker_config "$(jq -cn --argjson port "$port" --arg root "$tree" '{port: $port, root: $root}')" \
	'{"timeouts": {"sync_s": 5}}'
# A strict umask: whatever the broker makes must still be Apache's to read, write and run.
umask 077
broker_start
umask 022
wait_ready 200

# git with a binding's credentials in the URL; output and errors on stdout.
clone() { timeout 30 git clone -q "$1" "$2" 2>&1; }
push() { timeout 30 git -C "$1" push -q origin "HEAD:${2:-main}" 2>&1; }
commit_file() { head -c "$3" /dev/urandom >"$1/$2" && git -C "$1" add "$2" && git -C "$1" commit -qm "$2"; }
http_status() { curl -s -o /dev/null -w '%{http_code}' --path-as-is "$@"; }
repo_url() { echo "http://127.0.0.1:$port/git/$1.git"; }

step "1. credentials: uri with the login, clone_url without it, both usable by git; default_branch"
ia=$(new_id)
ib=$(new_id)
na=$(instance_name "$ia")
nb=$(instance_name "$ib")
provision "$ia" "$small" '{"default_branch": "trunk"}'
provision "$ib" "$small"
ba=$(new_id)
ca=$(bind "$ia" "$ba" "$small")
ua=$(jq -r .username <<<"$ca")
pa=$(jq -r .password <<<"$ca")
[ "$ua" = "$(binding_name "$ba")" ] || fail "expected user $(binding_name "$ba"), got $ua"
[ "$(jq -r .uri <<<"$ca")" = "http://$ua:$pa@127.0.0.1:$port/git/$na.git" ] ||
	fail "unexpected uri: $(jq -r .uri <<<"$ca")"
[ "$(jq -r .clone_url <<<"$ca")" = "$(repo_url "$na")" ] || fail "unexpected clone_url: $(jq -r .clone_url <<<"$ca")"
[ "$(jq -r '[.repository, .hostname, (.port | tostring), (.read_only | tostring)] | join(" ")' <<<"$ca")" = \
	"$na.git 127.0.0.1 $port false" ] || fail "unexpected repository, hostname, port or read_only: $ca"
[ "$(jq -c .endpoints "$WORK/bind-$ba")" = "[{\"host\":\"127.0.0.1\",\"ports\":[\"$port\"],\"protocol\":\"tcp\"}]" ] ||
	fail "expected one tcp endpoint, got $(jq -c .endpoints "$WORK/bind-$ba")"
out=$(clone "$(jq -r .uri <<<"$ca")" "$WORK/a1") || fail "clone with uri: $out"
commit_file "$WORK/a1" first 100
out=$(push "$WORK/a1" trunk) || fail "push with uri: $out"
# clone_url with the login handed over by a credential helper, as apps that read username/password do.
helper="!f() { echo username=$ua; echo password=$pa; }; f"
out=$(timeout 30 git -c credential.helper= -c "credential.helper=$helper" clone -q "$(jq -r .clone_url <<<"$ca")" \
	"$WORK/a2" 2>&1) || fail "clone with clone_url and a credential helper: $out"
[ "$(git -C "$WORK/a2" rev-parse --abbrev-ref HEAD)" = trunk ] || fail "default_branch: the clone is not on trunk"
[ -f "$WORK/a2/first" ] || fail "the clone lacks the pushed file"

step "2. a read-only binding clones and fetches, and cannot push"
bro=$(new_id)
cro=$(bind "$ia" "$bro" "$small" '{"read_only": true}')
[ "$(jq -r .read_only <<<"$cro")" = true ] || fail "read-only binding: read_only is not true"
out=$(clone "$(jq -r .uri <<<"$cro")" "$WORK/ro") || fail "read-only binding cannot clone: $out"
commit_file "$WORK/ro" second 10
out=$(push "$WORK/ro" trunk) && fail "read-only binding pushed: $out"
grep -qE '403|denied|Authentication failed' <<<"$out" || fail "read-only push: unexpected refusal: $out"
uro=$(jq -r .username <<<"$cro"):$(jq -r .password <<<"$cro")
[ "$(http_status -u "$uro" "$(repo_url "$na")/info/refs?service=git-receive-pack")" = 401 ] ||
	fail "read-only binding: receive-pack's ref advertisement not refused"
[ "$(http_status -u "$uro" -X POST "$(repo_url "$na")/git-receive-pack")" = 401 ] ||
	fail "read-only binding: a POST to git-receive-pack not refused"

step "3. Apache's one rule: other repositories, URL tricks, anonymous and wrong logins are refused"
[ "$(http_status -u "$ua:$pa" "$(repo_url "$na")/info/refs?service=git-upload-pack")" = 200 ] ||
	fail "binding a: its own ref advertisement is not 200"
for path in "git/$nb.git/info/refs?service=git-upload-pack" "git/$nb.git/HEAD" \
	"git/$na.git/../$nb.git/info/refs?service=git-upload-pack" \
	"git/$na.git/%2e%2e/$nb.git/info/refs?service=git-upload-pack" \
	"git/$na.git/%2E%2E%2F$nb.git/HEAD" "git/$na.git/config" "git/$na.git/hooks/pre-receive" "git/" \
	"git/$na.git" "git/$na.gitx/HEAD" "git/$na.git/objects/../../$nb.git/HEAD"; do
	code=$(http_status -u "$ua:$pa" "http://127.0.0.1:$port/$path")
	case $code in 200 | 3??) fail "binding a got $code on /$path" ;; esac
done
[ "$(http_status "$(repo_url "$na")/info/refs?service=git-upload-pack")" = 401 ] || fail "anonymous access not refused"
[ "$(http_status -u "$ua:wrong" "$(repo_url "$na")/info/refs?service=git-upload-pack")" = 401 ] ||
	fail "a wrong password not refused"

step "4. the plan's size limit: the server refuses pushes past it; a plan update lifts it"
# A pack larger than the whole limit is cut off while it arrives (receive.maxInputSize)...
commit_file "$WORK/a1" big 1500000
out=$(push "$WORK/a1" trunk) && fail "a 1.5 MB push past the 1 MB limit was accepted"
[ "$(git -C "$tree/repos/$na.git" config receive.maxInputSize)" = 1048576 ] || fail "receive.maxInputSize is not 1 MB"
git -C "$WORK/a1" reset -q --hard HEAD~1
# ...and pushes that fit one by one are refused by the hook once the repository would pass it.
commit_file "$WORK/a1" part1 600000
out=$(push "$WORK/a1" trunk) || fail "a 600 KB push under the 1 MB limit: $out"
commit_file "$WORK/a1" part2 600000
out=$(push "$WORK/a1" trunk) && fail "a push taking the repository past 1 MB was accepted"
grep -q 'osb: refused' <<<"$out" || fail "the refusal does not say why: $out"
[ -z "$(find "$tree/repos/$na.git/objects" -name 'tmp_objdir-incoming-*')" ] || fail "a refused push left its objects"
git -C "$WORK/a1" reset -q --hard HEAD~1
commit_file "$WORK/a1" small 100
out=$(push "$WORK/a1" trunk) || fail "a small push that fits after the refusal: $out"
osb PATCH "/v2/service_instances/$ia" "$(jq -cn --arg s "$SERVICE_ID" --arg p "$large" '{service_id: $s, plan_id: $p}')"
expect_status 200 "update to the large plan"
grep -q 'past 2048 MB' "$tree/repos/$na.git/hooks/pre-receive" || fail "the hook does not have the large plan's limit"
commit_file "$WORK/a1" big 1500000
out=$(push "$WORK/a1" trunk) || fail "a 1.5 MB push on the large plan: $out"

step "5. the files: bcrypt hashes, group-readable modes, no password anywhere in the tree"
grep -q "^$ua:\$2y\$05\$[./A-Za-z0-9]\{53\}$" "$tree/htpasswd" || fail "htpasswd: no bcrypt hash for $ua"
grep -qx "$na: $ua" "$tree/groups" || fail "groups: $ua is not in $na"
grep -qx "$na.ro: $(jq -r .username <<<"$cro")" "$tree/groups" || fail "groups: the read-only binding is not in $na.ro"
[ "$(stat -c %a "$tree/htpasswd") $(stat -c %a "$tree/groups")" = "640 640" ] || fail "htpasswd and groups must be 0640"
[ "$(stat -c %a "$tree/repos/$na.git/hooks/pre-receive") $(stat -c %a "$tree/repos/$na.git/hooks")" = "750 2770" ] ||
	fail "the hook must be 0750 in a directory of mode 2770"
for c in "$WORK"/cred-*; do
	! grep -rqF "$(jq -r .password "$c")" "$tree" || fail "a binding's password is in the tree"
done

step "6. bad input: a clear 400, nothing changes on the server"
tree_sum() { (cd "$tree" && find . | sort | sha256sum && sha256sum htpasswd groups); }
before=$(tree_sum)
for params in '{"default_branch": "../evil"}' '{"default_branch": "HEAD"}' '{"default_branch": "a.lock"}' \
	'{"default_branch": "-x"}' '{"default_branch": "a b"}' '{"repository_mb": 1}'; do
	osb PUT "/v2/service_instances/$(new_id)" "$(provision_body "$small" "$params")"
	expect_status 400 "provision with $params"
	jq -e '.error == "BadRequest" and (.description | length > 0)' <<<"$body" >/dev/null ||
		fail "not a clear error: $body"
done
osb PUT "/v2/service_instances/$ia/service_bindings/$(new_id)" "$(bind_body "$large" '{"read_only": "yes"}')"
expect_status 400 "bind with read_only \"yes\""
[ "$(tree_sum)" = "$before" ] || fail "bad input changed the tree"

step "7. concurrent binds: every login lands in htpasswd and groups, and each works"
bind_concurrently 12 "$ia" "$large" "$ib" "$small"
[ "$(grep -c '^osb_' "$tree/htpasswd")" = 14 ] ||
	fail "expected 14 logins in htpasswd, got $(grep -c '^osb_' "$tree/htpasswd")"
[ "$(grep -c "^$nb: " "$tree/groups")" = 6 ] || fail "expected 6 members of $nb"
for c in "$WORK"/cred-*; do
	out=$(timeout 30 git ls-remote "$(jq -r .uri "$c")" 2>&1) ||
		fail "a concurrently made binding cannot ls-remote: $out"
done

step "7b. a frozen server: /health/ready 503 at once, a bind fails within its deadline, then all is well again"
expect_frozen_server "$(cat "$srv/server.pid") $(pgrep -P "$(cat "$srv/server.pid")" | tr "\n" " ")" 504 \
	PUT "/v2/service_instances/$ib/service_bindings/$(new_id)" "$(bind_body "$small")"

step "8. leftovers of interrupted calls: a provision clears its own, reconcile finds and purges others"
ic=$(new_id)
nc=$(instance_name "$ic")
mkdir -p "$tree/repos/.$nc.git.tmp/objects"
provision "$ic" "$small"
[ ! -e "$tree/repos/.$nc.git.tmp" ] || fail "provision left its leftover .$nc.git.tmp"
orphan=osb_00000000000000000abc
mkdir -p "$tree/repos/.$orphan.git.del/objects"
broker_run --reconcile=purge || fail "--reconcile=purge failed: $out"
grep -q "\"orphan\":\"$orphan\",\"kind\":\"[a-z ]*\",\"purged\":true" <<<"$out" ||
	fail "the .del leftover was not purged: $out"
[ ! -e "$tree/repos/.$orphan.git.del" ] || fail "the .del leftover is still there"

step "9. unbind and deprovision leave nothing; Apache was never reloaded"
unbind "$ia" "$ba" "$large"
! grep -q "$ua" "$tree/htpasswd" "$tree/groups" || fail "unbind left $ua in htpasswd or groups"
out=$(timeout 30 git ls-remote "$(jq -r .uri <<<"$ca")" 2>&1) && fail "an unbound login still reads: $out"
deprovision "$ia" "$large"
deprovision "$ib" "$small"
deprovision "$ic" "$small"
left=$(find "$tree/repos" -mindepth 1 | wc -l)
[ "$left" = 0 ] || fail "deprovision left $(ls -A "$tree/repos")"
if [ -s "$tree/groups" ] || [ -s "$tree/htpasswd" ]; then
	fail "groups or htpasswd still have lines: $(cat "$tree/groups" "$tree/htpasswd")"
fi
if [ "$(cat "$srv/server.pid")" != "$apache_pid" ] || ! kill -0 "$apache_pid"; then fail "Apache's parent changed"; fi
[ "$(grep -c 'resuming normal operations' "$srv/error.log")" = 1 ] || fail "Apache was reloaded or restarted"

step "10. no secret in the logs; the broker stops cleanly"
no_secret_in "$BROKER_LOG" "$WORK/broker-runs.log" "$srv/error.log"
broker_stop
echo "PASS: git broker"
