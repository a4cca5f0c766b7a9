#!/usr/bin/env bash
# What only etcd has (the driver contract itself is tests/contract/contract.sh): the credential
# shape; the role's permission range with etcdctl (keys, ranges, watches, transactions, leases,
# the server's admin APIs); unbind: the user's token is refused at once, and a watch opened before
# goes on (what the README says); deprovision of a thousand keys; the reconciler finding keys
# without a role; bad input changes nothing; a frozen server gives bounded failures; a dedicated
# plan's storage quota enforced by its own etcd.
# Usage: integration.sh BROKER_BINARY REPO_ROOT
# shellcheck disable=SC2034 # BROKER_BIN and SECRET_WORDS are the library's
BROKER_BIN=${1:?usage: integration.sh BROKER_BINARY REPO_ROOT}
ROOT=${2:?repo root}
# shellcheck source=../../../tests/lib/broker.sh
. "$ROOT/tests/lib/broker.sh"
t_init etcd-it
need etcd etcdctl
export ETCDCTL_API=3
# A catalog whose dedicated plan has a 1 MB storage quota, so that the test can fill it.
jq '(.services[0].plans[] | select(.name == "dedicated-small") | ."x-osb") += {quota_backend_bytes: 1048576}' \
	"$ROOT/catalog/etcd.json" >"$WORK/catalog.json"
use_catalog "$WORK/catalog.json"
shared=$(plan_id shared)
dedicated=$(plan_id dedicated-small)
admin_pw=$(secret)
SECRET_WORDS=$admin_pw
port=$(free_port)
range=$(free_range 3)
api=http://127.0.0.1:$port

# ec CREDS ARGS...: etcdctl as binding CREDS on its endpoint (login in the environment); prints errors too.
ec() {
	local creds=$1
	shift
	ETCDCTL_USER=$(jq -r '"\(.username):\(.password)"' <<<"$creds") timeout 15 etcdctl \
		--endpoints="$(jq -r '.endpoints[0]' <<<"$creds")" --dial-timeout=3s --command-timeout=5s "$@" 2>&1
}
root() {
	ETCDCTL_USER=root:$admin_pw timeout 15 etcdctl --endpoints="$api" --dial-timeout=3s --command-timeout=5s "$@"
}
# count PREFIX: how many keys root sees under PREFIX.
count() { root get --prefix --keys-only "$1" | grep -c . || true; }
refused() {
	local who=$1 out
	shift
	out=$(ec "$@") && fail "$who: etcdctl ${*:2} was not refused: $out"
	grep -q 'permission denied\|authentication failed\|invalid auth token\|user name' <<<"$out" ||
		fail "$who: etcdctl ${*:2} failed for another reason: $out"
}
# token CREDS: a token of the binding, from the JSON gateway.
token() {
	jq -cn --argjson c "$1" '{name: $c.username, password: $c.password}' |
		curl -s -m 5 -X POST --data-binary @- "$api/v3/auth/authenticate" | jq -r '.token // empty'
}

t_on_exit bash "$ROOT/brokers/etcd/server.sh" stop "$WORK/etcd"
bash "$ROOT/brokers/etcd/server.sh" start "$WORK/etcd" "$port" "$admin_pw" >/dev/null
broker_config "$(jq -cn --argjson port "$port" --arg pw "$admin_pw" '{port: $port, admin_password: $pw}')" \
	"$(jq -cn --argjson a "$range" '{timeouts: {sync_s: 3}, dedicated: {port_range: [$a, ($a + 2)]}}')"
broker_start
wait_ready 200

step "1. credentials: host, port, user, password, uri, endpoints, prefix and one tcp endpoint"
i1=$(new_id)
i2=$(new_id)
n1=$(instance_name "$i1")
n2=$(instance_name "$i2")
provision "$i1" "$shared"
provision "$i2" "$shared"
b1=$(new_id)
c1=$(bind "$i1" "$b1" "$shared")
c2=$(bind "$i2" "$(new_id)" "$shared")
expect_login_credentials "$b1" http "$port"
[ "$(jq -c '[.prefix, .endpoints, (.port |
	type), .hostname]' <<<"$c1")" = "[\"/$n1/\",[\"$api\"],\"number\",\"127.0.0.1\"]" ] ||
	fail "expected prefix /$n1/, endpoints [$api], a numeric port and hostname: $c1"

step "2. the role: read-write on the prefix, nothing outside it, none of the server's admin APIs"
ec "$c1" put "/$n1/a" 1 >/dev/null || fail "binding 1: put under its prefix"
printf 'value("/%s/a") = "1"\n\nput /%s/b 2\n\n\n' "$n1" "$n1" | ec "$c1" txn | grep -q SUCCESS ||
	fail "binding 1: txn in its prefix"
[ "$(ec "$c1" get --prefix --keys-only "/$n1/" | grep -c .)" = 2 ] || fail "binding 1: get --prefix of its own keys"
root put /outside secret >/dev/null
root put "/${n1}x" lookalike >/dev/null
for args in "get /outside" "get /$n2/a" "get --prefix /" "get --prefix /osb_" "get /${n1}x" "put /$n2/a stolen" \
	"del --prefix /" "watch /$n2/a" "user list" "role list" "auth disable" "defrag" "user add evil:evil" \
	"role grant-permission $n1 readwrite /"; do
	# shellcheck disable=SC2086
	refused "binding 1" "$c1" $args
done
lease=$(root lease grant 300 | awk '{print $2}')
root put "/$n2/leased" v --lease="$lease" >/dev/null
refused "binding 1" "$c1" lease revoke "$lease"

step "3. unbind: the user's token is refused at once; a watch opened before goes on (README)"
tok=$(token "$c1")
[ -n "$tok" ] || fail "binding 1: no token from the gateway"
ec "$c1" watch --prefix "/$n1/" >"$WORK/watch" &
watcher=$!
t_on_exit kill "$watcher"
for _ in $(seq 1 100); do
	ec "$c1" put "/$n1/w" before >/dev/null
	grep -q before "$WORK/watch" && break
	sleep 0.05
done
grep -q before "$WORK/watch" || fail "binding 1: its watch saw nothing"
unbind "$i1" "$b1" "$shared"
out=$(curl -s -m 5 -X POST -H "Authorization: $tok" -d "{\"key\":\"$(printf '/%s/a' "$n1" |
	base64 -w0)\"}" "$api/v3/kv/range")
grep -q 'invalid auth token' <<<"$out" || fail "unbind: the token issued before still works: $out"
refused "unbound binding 1" "$c1" get "/$n1/a"
[ -z "$(token "$c1")" ] || fail "unbind: the user can still log in"
root put "/$n1/w" after-unbind >/dev/null
for _ in $(seq 1 200); do grep -q after-unbind "$WORK/watch" && break; sleep 0.05; done
grep -q after-unbind "$WORK/watch" ||
	fail "the README says a watch opened before unbind goes on; etcd ended it: update the README and the adapter"
kill "$watcher"

step "4. bad input is refused with a JSON error and changes nothing"
before=$(root user list | sort | tr '\n' ' ')$(root role list | sort | tr '\n' ' ')
osb PUT "/v2/service_instances/$i2/service_bindings/$(new_id)" "$(bind_body "$shared" '{"prefix":"/"}')"
expect_status 400 "bind with an unknown parameter"
jq -e '.description | length > 0' <<<"$body" >/dev/null || fail "bind with an unknown parameter: no description"
osb PUT "/v2/service_instances/$(new_id)" "$(provision_body "$shared" '{"quota":1}')"
expect_status 400 "provision with a parameter"
[ "$(root user list | sort | tr '\n' ' ')$(root role list | sort | tr '\n' ' ')" = "$before" ] ||
	fail "bad input changed etcd's users or roles"

step "5. deprovision deletes a thousand keys and the role; keys of the other prefix and lookalikes stay"
# In transactions of 100 puts (the server allows 128 operations each): no compare, the puts, no else,
# each block ended by an empty line.
for chunk in $(seq 0 9); do
	{
		echo
		for n in $(seq $((chunk * 100 + 1)) $((chunk * 100 + 100))); do echo "put /$n1/bulk/$n v"; done
		printf '\n\n'
	} |
		root txn >/dev/null || fail "could not write keys $((chunk * 100 + 1))-$((chunk * 100 + 100))"
done
[ "$(count "/$n1/")" -ge 1000 ] || fail "could not write 1000 keys"
deprovision "$i1" "$shared"
[ "$(count "/$n1/")" = 0 ] || fail "deprovision: keys under /$n1/ left"
[ "$(root get --print-value-only "/${n1}x")" = lookalike ] ||
	fail "deprovision: removed /${n1}x, which is not under /$n1/"
! root role list | grep -qx "$n1" || fail "deprovision: role $n1 left"
[ "$(ec "$c2" get --print-value-only "/$n2/leased")" = v ] || fail "deprovision of 1 broke tenant 2"

step "6. the reconciler finds keys of an instance whose role is gone, and removes only them"
orphan=osb_00000000000000000042
root put "/$orphan/left" x >/dev/null
broker_run --reconcile=purge || fail "--reconcile=purge failed: $out"
grep -q "\"orphan\":\"$orphan\",\"kind\":\"instance\",\"purged\":true" <<<"$out" ||
	fail "--reconcile=purge: $orphan not purged: $out"
[ "$(count "/$orphan/")" = 0 ] || fail "reconcile: the orphan's keys are left"
[ "$(root get --print-value-only /outside)" = secret ] || fail "reconcile: removed a key that is no instance's"

step "7. a frozen server: health and operations fail in bounded time, then recover"
expect_frozen_server "$(cat "$WORK/etcd/etcd.pid")" 5xx \
	PUT "/v2/service_instances/$i2/service_bindings/$(new_id)" "$(bind_body "$shared")"
[ "$(ec "$c2" get --print-value-only "/$n2/leased")" = v ] || fail "after the freeze: binding 2 cannot read"

step "8. a dedicated plan's storage quota holds (1 MB here)"
i3=$(new_id)
provision "$i3" "$dedicated"
c3=$(bind "$i3" "$(new_id)" "$dedicated")
n3=$(instance_name "$i3")
big=$(head -c 100000 /dev/zero | tr '\0' x)
full=0
for n in $(seq 1 30); do
	out=$(ec "$c3" put "/$n3/big$n" "$big") || { full=$n; break; }
done
[ "$full" -gt 1 ] || fail "dedicated: no write worked, or none failed: $out"
grep -q 'database space exceeded' <<<"$out" || fail "dedicated: write $full failed for another reason: $out"
deprovision "$i3" "$dedicated"

step "no secret in the logs; the broker stops cleanly"
no_secret_in "$BROKER_LOG" "$WORK/etcd/etcd.log"
broker_stop
echo "PASS: etcd broker integration test"
