#!/usr/bin/env bash
# What only Redis's dedicated plans have (the contract runs on dedicated-small too): the server's
# settings from the plan and the parameters, the admin user the broker keeps, a plan change applied
# live and in redis.conf, the refused move to a shared plan, data kept across a crash of the server,
# and a broker killed during a dedicated provision.
# Usage: dedicated.sh BROKER_BINARY REPO_ROOT
BROKER_BIN=${1:?usage: dedicated.sh BROKER_BINARY REPO_ROOT}
ROOT=${2:?repo root}
# shellcheck source=../../../tests/lib/broker.sh
. "$ROOT/tests/lib/broker.sh"
t_init redis-ded
need redis-server redis-cli
unset REDISCLI_AUTH || true
use_catalog "$ROOT/catalog/redis.json"
small=$(plan_id dedicated-small)
large=$(plan_id dedicated-large)
shared=$(plan_id shared)
admin_pw=$(secret)
redis_port=$(free_port)
first=$(free_range 10)
last=$((first + 9))
instance_dir() { printf '%s/data/dedicated/%s' "$WORK" "$(instance_name "$1")"; }
# redis-cli as a dedicated server's own admin, with the password the core keeps in its directory.
ded_admin() {
	local inst=$1 port=$2
	shift 2
	REDISCLI_AUTH=$(cat "$(instance_dir "$inst")/admin.pw") redis-cli --no-auth-warning -h 127.0.0.1 -p "$port" --user admin "$@"
}
ded_config() { ded_admin "$1" "$2" CONFIG GET "$3" | tail -n 1; }
as_uri() {
	local uri=$1
	shift
	timeout 10 redis-cli --no-auth-warning -u "$uri" "$@" 2>&1
}

step "start the shared Redis and the broker (dedicated ports $first-$last)"
t_on_exit "$ROOT/scripts/redis-stop.sh" "$WORK/redis"
"$ROOT/scripts/redis-start.sh" "$WORK/redis" "$redis_port" "$admin_pw" >/dev/null
broker_config "$(jq -cn --argjson port "$redis_port" --arg pw "$admin_pw" '{port: $port, admin_user: "admin", admin_password: $pw}')" \
	"$(jq -cn --argjson a "$first" --argjson b "$last" '{dedicated: {port_range: [$a, $b]}}')"
broker_start
wait_ready 200

step "1. provision is asynchronous; the server gets the plan's memory and the asked policy"
d1=$(new_id)
osb PUT "/v2/service_instances/$d1" "$(provision_body "$small")"
expect_status 422 "provision of a dedicated plan without accepts_incomplete"
[ "$(jq -r .error <<<"$body")" = AsyncRequired ] || fail "expected error AsyncRequired, got: $body"
provision "$d1" "$small"
dir1=$(instance_dir "$d1")
[ "$(stat -c %a "$dir1/admin.pw")" = 600 ] || fail "expected admin.pw with mode 600"
port1=$(jq -r .port "$dir1/deployment.json")
[ "$port1" -ge "$first" ] && [ "$port1" -le "$last" ] || fail "port $port1 outside $first-$last"
[ "$(ded_config "$d1" "$port1" maxmemory)" = 67108864 ] || fail "expected maxmemory 64mb"
[ "$(ded_config "$d1" "$port1" maxmemory-policy)" = noeviction ] || fail "expected policy noeviction"
grep -q NOAUTH <<<"$(timeout 5 redis-cli -h 127.0.0.1 -p "$port1" PING 2>&1)" || fail "the default user must be off"
d2=$(new_id)
provision "$d2" "$small" '{"maxmemory_policy": "allkeys-lru"}'
[ "$(ded_config "$d2" "$(jq -r .port "$(instance_dir "$d2")/deployment.json")" maxmemory-policy)" = allkeys-lru ] ||
	fail "provision with maxmemory_policy: expected allkeys-lru"
osb PUT "/v2/service_instances/$(new_id)?accepts_incomplete=true" "$(provision_body "$small" '{"maxmemory_policy": "everything"}')"
expect_status 400 "provision with a bad maxmemory_policy"

step "2. a binding has the whole server but not its administration"
b1=$(new_id)
c1=$(bind "$d1" "$b1" "$small")
u1=$(jq -r .uri <<<"$c1")
[ "$(jq -r 'has("key_prefix")' <<<"$c1")" = false ] || fail "a dedicated binding has no key_prefix"
[ "$(jq -r .port <<<"$c1")" = "$port1" ] || fail "expected port $port1 in the credentials"
[ "$(as_uri "$u1" SET anykey value)" = OK ] || fail "binding 1: SET of any key"
[ "$(as_uri "$u1" KEYS '*')" = anykey ] || fail "binding 1: KEYS lists its server's keys"
for cmd in "CONFIG GET maxmemory" "CONFIG SET maxmemory 1gb" "ACL LIST" "ACL SETUSER x on" MONITOR SHUTDOWN \
	"REPLICAOF 127.0.0.1 1" BGSAVE "MODULE LIST"; do
	# shellcheck disable=SC2086
	grep -q '^NOPERM' <<<"$(as_uri "$u1" $cmd </dev/null)" || fail "binding 1: $cmd was not refused"
done

step "3. a plan change is applied live and in redis.conf; a move to the shared plan is refused at once"
osb PATCH "/v2/service_instances/$d1?accepts_incomplete=true" \
	"$(jq -cn --arg s "$SERVICE_ID" --arg p "$large" '{service_id: $s, plan_id: $p, parameters: {maxmemory_policy: "volatile-lru"}}')"
expect_status 202 "update $d1 to dedicated-large"
[ "$(wait_operation "/v2/service_instances/$d1" "update $d1")" = succeeded ] || fail "update: expected succeeded: $body"
[ "$(ded_config "$d1" "$port1" maxmemory)" = 268435456 ] || fail "update: expected maxmemory 256mb live"
[ "$(ded_config "$d1" "$port1" maxmemory-policy)" = volatile-lru ] || fail "update: expected volatile-lru live"
grep -q '^maxmemory 256mb' "$dir1/redis.conf" || fail "update: expected maxmemory 256mb in redis.conf (CONFIG REWRITE)"
osb PATCH "/v2/service_instances/$d1?accepts_incomplete=true" \
	"$(jq -cn --arg s "$SERVICE_ID" --arg p "$shared" '{service_id: $s, plan_id: $p}')"
expect_status 400 "update to the shared plan"
jq -e '.description | test("cannot move from the dedicated plan")' <<<"$body" >/dev/null || fail "no reason given: $body"
[ "$(as_uri "$u1" GET anykey)" = value ] || fail "the refused update changed the instance"

step "4. a server that dies is started again by the next operation, with its data (append-only file)"
as_uri "$u1" SET durable yes >/dev/null
sleep 1.5 # appendfsync everysec
pid1=$(jq -r .pid "$dir1/deployment.json")
kill -KILL "$pid1"
for _ in $(seq 1 100); do kill -0 "$pid1" 2>/dev/null || break; sleep 0.05; done
u2=$(jq -r .uri <<<"$(bind "$d1" "$(new_id)" "$large")")
[ "$(as_uri "$u2" GET durable)" = yes ] || fail "restart: the key written before the crash is lost"
[ "$(as_uri "$u1" GET anykey)" = value ] || fail "restart: binding 1 must work again (users in the ACL file)"

step "5. deprovision needs accepts_incomplete, stops the server and removes its directory"
osb DELETE "/v2/service_instances/$d1?service_id=$SERVICE_ID&plan_id=$large"
expect_status 422 "deprovision of a dedicated plan without accepts_incomplete"
pid1=$(jq -r .pid "$dir1/deployment.json")
deprovision "$d1" "$large"
! kill -0 "$pid1" 2>/dev/null || grep -q '^Z' <(awk '{print $3}' "/proc/$pid1/stat") || fail "the server still runs"
[ ! -e "$dir1" ] || fail "deprovision: $dir1 is left"
grep -q refused <<<"$(timeout 5 redis-cli -h 127.0.0.1 -p "$port1" PING 2>&1 || true)" || fail "$port1 still answers"

step "6. a broker killed during a dedicated provision finishes it (or fails it) after a restart"
d3=$(new_id)
osb PUT "/v2/service_instances/$d3?accepts_incomplete=true" "$(provision_body "$small")"
expect_status 202 "provision $d3"
kill -KILL "$BROKER_PID"
wait "$BROKER_PID" 2>/dev/null || true
BROKER_PID=
broker_start
state=$(wait_operation "/v2/service_instances/$d3" "provision $d3 after the restart")
case $state in
succeeded)
	[ "$(as_uri "$(jq -r .uri <<<"$(bind "$d3" "$(new_id)" "$small")")" SET after restart)" = OK ] ||
		fail "resumed provision: the server does not work"
	[ "$(dedicated_pids | wc -l)" = 2 ] || fail "resumed provision: expected 2 dedicated servers, found $(dedicated_pids | wc -l)"
	;;
failed) echo "   (the resumed provision was marked failed)" ;;
*) fail "resumed provision: expected succeeded or failed, got $state" ;;
esac
deprovision "$d3" "$small"
deprovision "$d2" "$small"
[ -z "$(dedicated_pids)" ] || fail "dedicated redis-server processes left: $(dedicated_pids | tr '\n' ' ')"
[ -z "$(ls -A "$WORK/data/dedicated" | grep -v '^\.' || true)" ] || fail "instance directories left: $(ls "$WORK/data/dedicated")"

step "no secret in the logs; the broker stops cleanly"
SECRET_WORDS=$admin_pw no_secret_in "$BROKER_LOG"
broker_stop
echo "PASS: redis broker integration test (dedicated plans)"
