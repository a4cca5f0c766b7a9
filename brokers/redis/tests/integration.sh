#!/usr/bin/env bash
# What only Redis has, on the shared plan (the driver contract itself is tests/contract/contract.sh):
# the credential shape, the ACL rules that confine a binding to its key prefix, read-only and
# rotated bindings, users kept across a Redis restart, a deprovision of thousands of binary keys,
# a server without an ACL file, and a server that stops answering.
# Usage: integration.sh BROKER_BINARY REPO_ROOT
# shellcheck source=../../../tests/lib/broker.sh
. "${2:?usage: integration.sh BROKER_BINARY REPO_ROOT}/tests/lib/broker.sh"
t_init redis-it
use_adapter redis
read -r shared < <(plan_id shared)

admin() { REDISCLI_AUTH=$SERVER_SECRET redis-cli --no-auth-warning -h 127.0.0.1 -p "$SERVER_PORT" --user admin "$@"; }
# redis-cli through a binding's uri; prints replies and errors (redis-cli exits 0 on error replies).
as_uri() {
	local uri=$1
	shift
	timeout 10 redis-cli --no-auth-warning -u "$uri" "$@" 2>&1
}
expect_noperm() {
	local who=$1 uri=$2 out
	shift 2
	out=$(as_uri "$uri" "$@" </dev/null) || true
	grep -q '^NOPERM' <<<"$out" || fail "$who: expected '$*' to be refused with NOPERM, got: $out"
}

step "the admin password is required, and read from the environment"
broker_config "$(jq -cn --argjson port "$SERVER_PORT" '{host: "127.0.0.1", port: $port, admin_user: "admin"}')"
broker_run --check-config && fail "--check-config without an admin password: expected a failure"
grep -q 'driver.admin_password is required' "$WORK/broker-runs.log" || fail "--check-config: the missing key is not named"
OSB_DRIVER_ADMIN_PASSWORD=x OSB_DRIVER_PORT=99999 broker_run --check-config && fail "--check-config with port 99999 passed"
grep -q 'driver.port must be a TCP port' "$WORK/broker-runs.log" || fail "--check-config: the bad port is not named"
export OSB_DRIVER_ADMIN_PASSWORD=$SERVER_SECRET
server_start "$WORK/redis"
broker_start
wait_ready 200

step "1. credentials: host, port, user, password, key_prefix, uri and one tcp endpoint"
i1=$(new_id)
i2=$(new_id)
p1=$(instance_name "$i1")
p2=$(instance_name "$i2")
provision "$i1" "$shared"
provision "$i2" "$shared"
b1=$(new_id)
c1=$(bind "$i1" "$b1" "$shared")
u1=$(jq -r .uri <<<"$c1")
expect_login_credentials "$b1" redis "$SERVER_PORT"
user1=$(jq -r .username <<<"$c1")
[ "$(jq -r '.port | type' <<<"$c1")" = number ] || fail "expected a numeric port"
[ "$(jq -r .key_prefix <<<"$c1")" = "$p1:" ] || fail "expected key_prefix $p1:"
[ "$(jq -r .host <<<"$c1")" = 127.0.0.1 ] && [ "$(jq -r .hostname <<<"$c1")" = 127.0.0.1 ] || fail "expected host and hostname"
[ "$(as_uri "$u1" SET "$p1:greeting" hello)" = OK ] || fail "binding 1: SET under its prefix"
[ "$(as_uri "$u1" EVAL "return redis.call('INCR', KEYS[1])" 1 "$p1:counter")" = 1 ] || fail "binding 1: EVAL on its key"
out=$(as_uri "$u1" RPUSH "$p1:list" 3 1 2 >/dev/null; as_uri "$u1" SORT "$p1:list" | tr '\n' ' ')
[ "$out" = "1 2 3 " ] || fail "binding 1: a plain SORT of its own list, got: $out"
osb PUT "/v2/service_instances/$i1/service_bindings/$(new_id)" "$(bind_body "$shared" '{"acl":"+@all"}')"
expect_status 400 "bind with an unknown parameter"

step "2. a read-only binding reads but cannot write; its rotation keeps the rights"
bro=$(new_id)
uro=$(jq -r .uri <<<"$(bind "$i1" "$bro" "$shared" '{"read_only": true}')")
[ "$(as_uri "$uro" GET "$p1:greeting")" = hello ] || fail "read-only binding: GET"
expect_noperm "read-only binding" "$uro" SET "$p1:greeting" changed
expect_noperm "read-only binding" "$uro" DEL "$p1:greeting"
out=$(as_uri "$uro" EVAL "return redis.call('SET', KEYS[1], 'x')" 1 "$p1:greeting")
grep -qi "can't run this command\\|no permissions" <<<"$out" || fail "read-only binding: a script's SET was not refused: $out"
brot=$(new_id)
urot=$(jq -r .uri <<<"$(rotate "$i1" "$brot" "$shared" "$bro")")
[ "$(as_uri "$urot" GET "$p1:greeting")" = hello ] || fail "rotation: the new credentials cannot read"
expect_noperm "rotated read-only binding" "$urot" SET "$p1:greeting" changed
[ "$(as_uri "$uro" GET "$p1:greeting")" = hello ] || fail "rotation: the predecessor must work until unbound"

step "3. the ACL rules: whole-keyspace, server and other tenants' commands are refused"
admin SET outside:key secret >/dev/null
b3=$(new_id)
u3=$(jq -r .uri <<<"$(bind "$i2" "$b3" "$shared")")
[ "$(as_uri "$u3" SET "$p2:mine" tenant2)" = OK ] || fail "binding 3: SET under its prefix"
for uri in "$u1" "$u3"; do
	expect_noperm "$uri" "$uri" GET outside:key
	expect_noperm "$uri" "$uri" GET noprefix
	expect_noperm "$uri" "$uri" KEYS '*'
	expect_noperm "$uri" "$uri" SCAN 0
	for cmd in FLUSHALL FLUSHDB DBSIZE RANDOMKEY MONITOR "CONFIG GET maxmemory" "INFO keyspace" "SELECT 1" \
		"SWAPDB 0 1" "CLIENT LIST" "CLIENT KILL ID 1" "CLIENT TRACKING on BCAST" "PUBSUB CHANNELS" "ACL LIST" \
		"SLOWLOG GET" "FUNCTION LIST" "SCRIPT FLUSH" "MEMORY STATS"; do
		# shellcheck disable=SC2086
		expect_noperm "$uri" "$uri" $cmd
	done
	expect_noperm "$uri" "$uri" PSUBSCRIBE '*'
	# The server refuses DEBUG before the ACL check unless enable-debug-command is set.
	grep -q '^NOPERM\|DEBUG command not allowed' <<<"$(as_uri "$uri" DEBUG SLEEP 0)" || fail "$uri: DEBUG not refused"
done
expect_noperm "binding 3" "$u3" RENAME "$p2:mine" "$p1:stolen"
expect_noperm "binding 3" "$u3" COPY "$p2:mine" "$p2:copy" DB 1
expect_noperm "binding 3" "$u3" MOVE "$p2:mine" 1
expect_noperm "binding 3" "$u3" PUBLISH "$p1:events" hello
expect_noperm "binding 3" "$u3" SUBSCRIBE "$p1:events"
out=$(as_uri "$u3" EVAL "return redis.call('GET', '$p1:greeting')" 0)
grep -qi "can't access\|no permissions" <<<"$out" || fail "binding 3: a script reading tenant 1's key was not refused: $out"
grep -qi denied <<<"$(as_uri "$u3" SORT "$p2:none" BY "$p1:*")" || fail "binding 3: SORT BY another prefix was not refused"
[ "$(as_uri "$u3" PUBLISH "$p2:events" hello)" = 0 ] || fail "binding 3: PUBLISH on its own channel"

step "4. users survive a Redis restart (ACL SAVE); unbind removes them from the file too"
unbind "$i1" "$b1" "$shared"
! grep -q "user $user1 " "$WORK/redis/users.acl" || fail "unbind: $user1 is still in the ACL file"
"$ROOT/scripts/redis-stop.sh" "$WORK/redis"
"$ROOT/scripts/redis-start.sh" "$WORK/redis" "$SERVER_PORT" "$SERVER_SECRET" >/dev/null
[ "$(as_uri "$u3" SET "$p2:after-restart" yes)" = OK ] || fail "restart: binding 3 cannot write after a Redis restart"
[ "$(as_uri "$uro" GET "$p1:greeting")" = "" ] || fail "restart: the read-only binding cannot log in"

step "5. deprovision removes thousands of keys with binary names, and the users, nothing else"
admin EVAL "for i = 1, 2500 do redis.call('SET', ARGV[1] .. 'bulk:' .. i, i) end return 1" 0 "$p1:" >/dev/null
admin SET "$p1:with space" x >/dev/null
admin SET "$(printf '%s:new\nline' "$p1")" x >/dev/null
admin SET "${p1}x:lookalike" keep >/dev/null
stray=osb_aaaaaaaaaaaaaaaaaaaa
admin ACL SETUSER "$stray" on ">stray-password-1234" "~$p1:*" +get >/dev/null
admin SET outside:key secret >/dev/null
deprovision "$i1" "$shared"
[ "$(admin EVAL "return #redis.call('KEYS', ARGV[1])" 0 "$p1:*")" = 0 ] || fail "deprovision: keys under $p1: left"
[ "$(admin GET "${p1}x:lookalike")" = keep ] || fail "deprovision: removed ${p1}x:lookalike, which is not under $p1:"
[ "$(admin GET outside:key)" = secret ] || fail "deprovision: removed a key outside every prefix"
for u in "$stray" "$(binding_name "$bro")" "$(binding_name "$brot")"; do
	! admin ACL LIST | grep -q "user $u " || fail "deprovision: ACL user $u of tenant 1 is left"
done
! grep -q "$p1:" "$WORK/redis/users.acl" || fail "deprovision: a user of $p1 is left in the ACL file"
[ "$(as_uri "$u3" GET "$p2:after-restart")" = yes ] || fail "deprovision: tenant 2's binding broke"

step "6. a server without an ACL file (admin = default user with requirepass): ACL SAVE skipped, said once"
broker_stop
redis2_port=$(free_port "$SERVER_PORT")
t_on_exit "$ROOT/scripts/redis-stop.sh" "$WORK/redis2"
REDIS_NO_ACLFILE=1 "$ROOT/scripts/redis-start.sh" "$WORK/redis2" "$redis2_port" "$SERVER_SECRET" >/dev/null
BROKER_LOG_FIRST=$BROKER_LOG
broker_config "$(jq -cn --argjson port "$redis2_port" '{port: $port}')" '{"timeouts": {"sync_s": 3}}'
BROKER_LOG=$WORK/broker2.log
broker_start
wait_ready 200
i5=$(new_id)
provision "$i5" "$shared"
for n in 1 2; do
	c5=$(bind "$i5" "$(new_id)" "$shared")
	[ "$(as_uri "$(jq -r .uri <<<"$c5")" SET "$(instance_name "$i5"):k" v)" = OK ] || fail "binding $n without an ACL file: SET"
	expect_noperm "binding $n without an ACL file" "$(jq -r .uri <<<"$c5")" KEYS '*'
done
[ "$(grep -c '"redis.no_aclfile"' "$WORK/broker2.log")" = 1 ] || fail "without an ACL file: expected one redis.no_aclfile warning"

step "7. a server that stops answering: operations time out, health says so within a second or two"
expect_frozen_server "$(cat "$WORK/redis2/redis.pid")" 5xx PUT "/v2/service_instances/$(new_id)" "$(provision_body "$shared")"
grep -qi time <<<"$body" || fail "stopped server: expected a description about time, got: $body"

step "no secret in the logs; the brokers stop cleanly"
no_secret_in "$BROKER_LOG_FIRST" "$WORK/broker2.log" "$WORK/redis/redis.log"
broker_stop
echo "PASS: redis broker integration test (shared plan)"
