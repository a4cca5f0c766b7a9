#!/usr/bin/env bash
# Integration test of osb-redis-broker's dedicated plans: a real redis-server per instance, started by the
# core's deployer on loopback ports, plus the shared server from scripts/redis-start.sh that the broker checks.
# Usage: dedicated.sh BROKER_BINARY REPO_ROOT
# Every failed check exits non-zero saying what was expected and what came back.
set -euo pipefail

broker_bin=${1:?usage: dedicated.sh BROKER_BINARY REPO_ROOT}
root=${2:?usage: dedicated.sh BROKER_BINARY REPO_ROOT}
root=$(cd "$root" && pwd)
for tool in curl jq redis-cli redis-server pgrep; do
	command -v "$tool" >/dev/null || { echo "FAIL: $tool is needed on PATH" >&2; exit 1; }
done

work=$(mktemp -d /tmp/osb-redis-ded.XXXXXX)
broker_pid=
bg_pids=()

# redis-server processes started for this test's dedicated instances (their working directory is under $work/data).
dedicated_pids() {
	local p cwd
	for p in $(pgrep -x redis-server || true); do
		cwd=$(readlink "/proc/$p/cwd" 2>/dev/null) || continue
		case $cwd in "$work/data/"*) echo "$p" ;; esac
	done
}

cleanup() {
	local rc=$?
	set +e
	for p in "${bg_pids[@]}"; do kill "$p" 2>/dev/null; done
	if [ -n "$broker_pid" ]; then
		kill -TERM "$broker_pid" 2>/dev/null
		wait "$broker_pid" 2>/dev/null
	fi
	# Dedicated servers outlive the broker by design: stop the ones this test made.
	for p in $(dedicated_pids); do kill -KILL "$p" 2>/dev/null; done
	"$root/scripts/redis-stop.sh" "$work/redis" >/dev/null 2>&1
	if [ "$rc" != 0 ] && [ -f "$work/broker.log" ]; then
		echo "--- last lines of the broker's log ---" >&2
		tail -n 40 "$work/broker.log" >&2
	fi
	rm -rf "$work"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
	echo "FAIL: $*" >&2
	exit 1
}
step() {
	echo "== $*"
}

admin_pw=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
broker_pw=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
redis_port=$("$root/scripts/free-port.sh")
broker_port=$("$root/scripts/free-port.sh" $((redis_port + 1)))
# Ten ports for dedicated servers, none of them in use now.
range_first=$("$root/scripts/free-port.sh" $((broker_port + 1)))
while :; do
	ok=1
	for p in $(seq "$range_first" $((range_first + 9))); do
		if ss -ltnH "sport = :$p" 2>/dev/null | grep -q .; then ok=0; range_first=$((p + 1)); break; fi
	done
	[ "$ok" = 1 ] && break
done
range_last=$((range_first + 9))
unset REDISCLI_AUTH || true

catalog=$root/catalog/redis.json
service_id=$(jq -r '.services[0].id' "$catalog")
plan_id() { jq -r --arg n "$1" '.services[0].plans[] | select(.name == $n) | .id' "$catalog"; }
small=$(plan_id dedicated-small)
large=$(plan_id dedicated-large)
shared=$(plan_id shared)
[ -n "$small" ] && [ -n "$large" ] || fail "catalog: expected plans dedicated-small and dedicated-large"

instance_name() { printf 'osb_%s' "$(printf 'instance:%s' "$1" | sha256sum | cut -c1-20)"; }
binding_name() { printf 'osb_%s' "$(printf 'binding:%s' "$1" | sha256sum | cut -c1-20)"; }
new_id() { cat /proc/sys/kernel/random/uuid; }
instance_dir() { printf '%s/data/dedicated/%s' "$work" "$(instance_name "$1")"; }

# redis-cli as a dedicated server's own admin, with the password from its directory.
ded_admin() {
	local inst=$1 port=$2
	shift 2
	REDISCLI_AUTH=$(cat "$(instance_dir "$inst")/admin.pw") redis-cli --no-auth-warning -h 127.0.0.1 -p "$port" --user admin "$@"
}
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

osb() {
	local method=$1 path=$2 data=${3:-}
	local args=(-s -o "$work/body" -w '%{http_code}' -X "$method" -u "broker:$broker_pw"
		-H 'X-Broker-API-Version: 2.17' -H 'Content-Type: application/json')
	[ -n "$data" ] && args+=(--data "$data")
	status=$(curl "${args[@]}" "http://127.0.0.1:$broker_port$path") || status=000
	body=$(cat "$work/body" 2>/dev/null || true)
}
expect_status() {
	local want=$1 what=$2
	[ "$status" = "$want" ] || fail "$what: expected HTTP $want, got $status: $body"
}
provision_body() {
	jq -cn --arg s "$service_id" --arg p "$1" --argjson params "${2:-{\}}" \
		'{service_id: $s, plan_id: $p, organization_guid: "org-1", space_guid: "space-1", parameters: $params}'
}
bind_body() {
	jq -cn --arg s "$service_id" --arg p "$1" '{service_id: $s, plan_id: $p, bind_resource: {app_guid: "app-1"}}'
}
# Poll an instance's last_operation until it leaves "in progress"; prints the final state.
wait_operation() {
	local inst=$1 what=$2 state=
	for _ in $(seq 1 600); do
		osb GET "/v2/service_instances/$inst/last_operation"
		if [ "$status" = 410 ]; then
			echo gone
			return 0
		fi
		[ "$status" = 200 ] || fail "$what: last_operation answered $status: $body"
		state=$(jq -r .state <<<"$body")
		[ "$state" != "in progress" ] && { echo "$state"; return 0; }
		sleep 0.1
	done
	fail "$what: still in progress after 60 s"
}
start_broker() {
	"$broker_bin" --config "$work/broker.json" >>"$work/broker.log" 2>&1 &
	broker_pid=$!
	local code=000
	for _ in $(seq 1 200); do
		code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$broker_port/health/ready") || code=000
		[ "$code" = 200 ] && return 0
		kill -0 "$broker_pid" 2>/dev/null || fail "broker exited during start-up (log above)"
		sleep 0.05
	done
	fail "expected /health/ready 200 within 10 s, got $code"
}
provision_dedicated() {
	local inst=$1 plan=$2 params=${3:-{\}}
	osb PUT "/v2/service_instances/$inst?accepts_incomplete=true" "$(provision_body "$plan" "$params")"
	expect_status 202 "provision $inst"
	[ "$(wait_operation "$inst" "provision $inst")" = succeeded ] || fail "provision $inst: expected succeeded, got: $body"
}
bind_dedicated() {
	local inst=$1 bid=$2 plan=$3 c key
	osb PUT "/v2/service_instances/$inst/service_bindings/$bid" "$(bind_body "$plan")"
	expect_status 201 "bind $bid"
	c=$(jq -c .credentials <<<"$body")
	for key in host hostname port username password uri; do
		[ "$(jq -r --arg k "$key" '.[$k] // empty' <<<"$c")" != "" ] || fail "bind $bid: expected credential key $key"
	done
	[ "$(jq -r 'has("key_prefix")' <<<"$c")" = false ] || fail "bind $bid: a dedicated binding has no key_prefix"
	[ "$(jq -r .username <<<"$c")" = "$(binding_name "$bid")" ] || fail "bind $bid: unexpected user name"
	echo "$c" >"$work/cred-$bid.json"
	printf '%s' "$c"
}

# ---------------------------------------------------------------------------
step "start the shared Redis on $redis_port and the broker on $broker_port (dedicated ports $range_first-$range_last)"
"$root/scripts/redis-start.sh" "$work/redis" "$redis_port" "$admin_pw" >/dev/null
mkdir -p "$work/data"
jq -n --arg listen "127.0.0.1:$broker_port" --arg pw "$broker_pw" --arg cat "$catalog" \
	--arg data "$work/data" --argjson port "$redis_port" --argjson first "$range_first" --argjson last "$range_last" '{
		listen: $listen,
		accounts: [{username: "broker", password: $pw}],
		catalog: $cat,
		data_dir: $data,
		store: {type: "sqlite"},
		log_level: "info",
		dedicated: {port_range: [$first, $last]},
		driver: {host: "127.0.0.1", port: $port, admin_user: "admin"}
	}' >"$work/broker.json"
export OSB_DRIVER_ADMIN_PASSWORD=$admin_pw
start_broker

# ---------------------------------------------------------------------------
step "1. provision is asynchronous: 422 without accepts_incomplete, then 202 and polling"
d1=$(new_id)
osb PUT "/v2/service_instances/$d1" "$(provision_body "$small")"
expect_status 422 "provision of a dedicated plan without accepts_incomplete"
[ "$(jq -r .error <<<"$body")" = AsyncRequired ] || fail "expected error AsyncRequired, got: $body"
provision_dedicated "$d1" "$small"
dir1=$(instance_dir "$d1")
[ -d "$dir1" ] || fail "provision: expected the instance directory $dir1"
ded_admin_pw=$(cat "$dir1/admin.pw")
[ "$(stat -c %a "$dir1/admin.pw")" = 600 ] || fail "provision: expected admin.pw with mode 600, got $(stat -c %a "$dir1/admin.pw")"
port1=$(jq -r .port "$dir1/deployment.json")
{ [ "$port1" -ge "$range_first" ] && [ "$port1" -le "$range_last" ]; } || fail "provision: port $port1 outside $range_first-$range_last"
[ "$(ded_admin "$d1" "$port1" CONFIG GET maxmemory | tail -n 1)" = 67108864 ] ||
	fail "provision: expected maxmemory 64mb (67108864), got $(ded_admin "$d1" "$port1" CONFIG GET maxmemory | tail -n 1)"
[ "$(ded_admin "$d1" "$port1" CONFIG GET maxmemory-policy | tail -n 1)" = noeviction ] || fail "provision: expected policy noeviction"
out=$(timeout 5 redis-cli -h 127.0.0.1 -p "$port1" PING 2>&1)
grep -q 'NOAUTH' <<<"$out" || fail "provision: expected the default user to be off (NOAUTH), got: $out"
osb PUT "/v2/service_instances/$d1?accepts_incomplete=true" "$(provision_body "$small")"
expect_status 200 "identical provision of $d1"

# ---------------------------------------------------------------------------
step "2. bind: credentials work on the whole server, its admin commands are refused"
b1=$(new_id)
c1=$(bind_dedicated "$d1" "$b1" "$small")
u1=$(jq -r .uri <<<"$c1")
[ "$(jq -r .port <<<"$c1")" = "$port1" ] || fail "bind: expected port $port1 in the credentials"
[ "$(as_uri "$u1" SET anykey value)" = OK ] || fail "binding 1: expected SET of any key to work"
[ "$(as_uri "$u1" GET anykey)" = value ] || fail "binding 1: expected GET to work"
[ "$(as_uri "$u1" KEYS '*')" = anykey ] || fail "binding 1: expected KEYS to list its server's keys"
[ "$(as_uri "$u1" DBSIZE)" = 1 ] || fail "binding 1: expected DBSIZE 1"
for cmd in "CONFIG GET maxmemory" "CONFIG SET maxmemory 1gb" "ACL LIST" "ACL SETUSER x on" "MONITOR" "SHUTDOWN" \
	"REPLICAOF 127.0.0.1 1" "BGSAVE" "MODULE LIST"; do
	# shellcheck disable=SC2086
	expect_noperm "binding 1" "$u1" $cmd
done
out=$(as_uri "$u1" SET big "$(head -c 1000 /dev/zero | tr '\0' x)")
[ "$out" = OK ] || fail "binding 1: expected a small write to fit in maxmemory, got: $out"

step "2b. another dedicated instance is another server: binding 1 cannot log in there"
d2=$(new_id)
provision_dedicated "$d2" "$small" '{"maxmemory_policy": "allkeys-lru"}'
port2=$(jq -r .port "$(instance_dir "$d2")/deployment.json")
[ "$port2" != "$port1" ] || fail "expected another port for instance 2"
[ "$(ded_admin "$d2" "$port2" CONFIG GET maxmemory-policy | tail -n 1)" = allkeys-lru ] ||
	fail "provision with maxmemory_policy: expected allkeys-lru on instance 2"
out=$(as_uri "$(jq -r --arg p "$port2" '"redis://\(.username):\(.password)@127.0.0.1:\($p)"' <<<"$c1")" GET anykey)
grep -q 'WRONGPASS' <<<"$out" || fail "binding 1 on instance 2: expected WRONGPASS, got: $out"
osb PUT "/v2/service_instances/$(new_id)?accepts_incomplete=true" "$(provision_body "$small" '{"maxmemory_policy": "everything"}')"
expect_status 400 "provision with a bad maxmemory_policy"

# ---------------------------------------------------------------------------
step "3. update to dedicated-large changes maxmemory live and in redis.conf"
osb PATCH "/v2/service_instances/$d1?accepts_incomplete=true" \
	"$(jq -cn --arg s "$service_id" --arg p "$large" '{service_id: $s, plan_id: $p, parameters: {maxmemory_policy: "volatile-lru"}}')"
expect_status 202 "update $d1 to dedicated-large"
[ "$(wait_operation "$d1" "update $d1")" = succeeded ] || fail "update: expected succeeded, got: $body"
[ "$(ded_admin "$d1" "$port1" CONFIG GET maxmemory | tail -n 1)" = 268435456 ] || fail "update: expected maxmemory 256mb live"
[ "$(ded_admin "$d1" "$port1" CONFIG GET maxmemory-policy | tail -n 1)" = volatile-lru ] || fail "update: expected volatile-lru live"
grep -q '^maxmemory 256mb' "$dir1/redis.conf" || fail "update: expected maxmemory 256mb in redis.conf (CONFIG REWRITE)"
[ "$(as_uri "$u1" GET anykey)" = value ] || fail "update: expected the data and binding 1 to survive"
osb PATCH "/v2/service_instances/$d1?accepts_incomplete=true" \
	"$(jq -cn --arg s "$service_id" --arg p "$shared" '{service_id: $s, plan_id: $p}')"
# The core refuses a move between a shared and a dedicated plan at once, before anything runs.
[ "$status" = 400 ] || fail "update to shared: expected 400 at once, got $status: $body"
jq -e '.description | test("cannot move from the dedicated plan")' <<<"$body" >/dev/null ||
	fail "update to shared: expected a description of the refusal, got: $body"
[ "$(as_uri "$u1" GET anykey)" = value ] || fail "update to shared refused: expected instance 1 unchanged"

# ---------------------------------------------------------------------------
step "4. a dedicated server that dies is started again, with its data (append-only file)"
as_uri "$u1" SET durable yes >/dev/null
sleep 1.5 # appendfsync everysec
pid1=$(jq -r .pid "$dir1/deployment.json")
kill -KILL "$pid1"
for _ in $(seq 1 100); do kill -0 "$pid1" 2>/dev/null || break; sleep 0.05; done
b2=$(new_id)
c2=$(bind_dedicated "$d1" "$b2" "$large")
u2=$(jq -r .uri <<<"$c2")
[ "$(as_uri "$u2" GET durable)" = yes ] || fail "restart: expected the key written before the crash, got: $(as_uri "$u2" GET durable)"
[ "$(as_uri "$u1" GET anykey)" = value ] || fail "restart: expected binding 1 to work again (users in the ACL file)"

# ---------------------------------------------------------------------------
step "5. unbind closes a live subscriber and revokes the credentials"
timeout 60 redis-cli --no-auth-warning -u "$u1" SUBSCRIBE events >"$work/sub.out" 2>&1 &
sub=$!
bg_pids+=("$sub")
n=0
for _ in $(seq 1 100); do
	n=$(ded_admin "$d1" "$port1" CLIENT LIST | grep -c "cmd=subscribe user=$(binding_name "$b1") " || true)
	[ "$n" -ge 1 ] && break
	sleep 0.05
done
[ "$n" -ge 1 ] || fail "unbind: expected binding 1's subscriber to be connected"
osb DELETE "/v2/service_instances/$d1/service_bindings/$b1?service_id=$service_id&plan_id=$small"
expect_status 200 "unbind $b1"
for _ in $(seq 1 100); do kill -0 "$sub" 2>/dev/null || break; sleep 0.05; done
kill -0 "$sub" 2>/dev/null && fail "unbind: expected the subscriber to be disconnected"
grep -q 'WRONGPASS\|NOAUTH' <<<"$(as_uri "$u1" GET anykey)" || fail "unbind: expected binding 1's credentials refused"
[ "$(as_uri "$u2" GET anykey)" = value ] || fail "unbind: expected binding 2 to keep working"
osb DELETE "/v2/service_instances/$d1/service_bindings/$b1?service_id=$service_id&plan_id=$small"
expect_status 410 "second unbind of $b1"

# ---------------------------------------------------------------------------
step "6. deprovision stops the server and removes its directory"
osb DELETE "/v2/service_instances/$d1?service_id=$service_id&plan_id=$large"
expect_status 422 "deprovision of a dedicated plan without accepts_incomplete"
pid1=$(jq -r .pid "$dir1/deployment.json")
osb DELETE "/v2/service_instances/$d1?accepts_incomplete=true&service_id=$service_id&plan_id=$large"
expect_status 202 "deprovision $d1"
state=$(wait_operation "$d1" "deprovision $d1")
case $state in succeeded | gone) ;; *) fail "deprovision: expected succeeded, got $state: $body" ;; esac
kill -0 "$pid1" 2>/dev/null && ! grep -q '^Z' <(awk '{print $3}' "/proc/$pid1/stat" 2>/dev/null) &&
	fail "deprovision: the server (pid $pid1) still runs"
[ ! -e "$dir1" ] || fail "deprovision: expected $dir1 removed"
out=$(timeout 5 redis-cli -h 127.0.0.1 -p "$port1" PING 2>&1 || true)
grep -q 'refused' <<<"$out" || fail "deprovision: expected nothing listening on $port1, got: $out"
osb DELETE "/v2/service_instances/$d1?accepts_incomplete=true&service_id=$service_id&plan_id=$large"
expect_status 410 "second deprovision of $d1"

# ---------------------------------------------------------------------------
step "7. a broker killed during a dedicated provision finishes it (or fails it) after a restart"
d3=$(new_id)
osb PUT "/v2/service_instances/$d3?accepts_incomplete=true" "$(provision_body "$small")"
expect_status 202 "provision $d3"
kill -KILL "$broker_pid"
wait "$broker_pid" 2>/dev/null || true
broker_pid=
start_broker
state=$(wait_operation "$d3" "provision $d3 after the restart")
case $state in
succeeded)
	b3=$(new_id)
	c3=$(bind_dedicated "$d3" "$b3" "$small")
	[ "$(as_uri "$(jq -r .uri <<<"$c3")" SET after restart)" = OK ] || fail "resumed provision: expected a working server"
	if [ "$(dedicated_pids | wc -l)" != 2 ]; then
		for p in $(dedicated_pids); do echo "pid $p: $(tr '\0' ' ' <"/proc/$p/cmdline") in $(readlink "/proc/$p/cwd") state $(awk '{print $3}' "/proc/$p/stat")" >&2; done
		fail "resumed provision: expected exactly 2 dedicated servers (instances 2 and 3), found $(dedicated_pids | wc -l)"
	fi
	osb DELETE "/v2/service_instances/$d3/service_bindings/$b3?service_id=$service_id&plan_id=$small"
	expect_status 200 "unbind $b3"
	;;
failed) echo "   (the resumed provision was marked failed)" ;;
*) fail "resumed provision: expected succeeded or failed, got $state" ;;
esac
osb DELETE "/v2/service_instances/$d3?accepts_incomplete=true&service_id=$service_id&plan_id=$small"
expect_status 202 "deprovision $d3"
state=$(wait_operation "$d3" "deprovision $d3")
case $state in succeeded | gone) ;; *) fail "deprovision $d3: expected succeeded, got $state" ;; esac
osb DELETE "/v2/service_instances/$d2?accepts_incomplete=true&service_id=$service_id&plan_id=$small"
expect_status 202 "deprovision $d2"
state=$(wait_operation "$d2" "deprovision $d2")
case $state in succeeded | gone) ;; *) fail "deprovision $d2: expected succeeded, got $state" ;; esac
left=$(dedicated_pids | tr '\n' ' ')
[ -z "$left" ] || fail "deprovision: stray dedicated redis-server processes left: $left"
[ -z "$(ls -A "$work/data/dedicated" 2>/dev/null)" ] || fail "deprovision: instance directories left: $(ls "$work/data/dedicated")"

# ---------------------------------------------------------------------------
step "no secret in the logs"
for f in "$work"/cred-*.json; do
	pw=$(jq -r .password "$f")
	grep -qF "$pw" "$work/broker.log" && fail "broker log: expected no binding password, found one from $f"
done
grep -qF "$admin_pw" "$work/broker.log" && fail "broker log: expected no admin password, found it"
grep -qF "$ded_admin_pw" "$work/broker.log" && fail "broker log: expected no dedicated admin password, found it"

step "the broker stops cleanly"
kill -TERM "$broker_pid"
broker_rc=0
wait "$broker_pid" || broker_rc=$?
broker_pid=
[ "$broker_rc" = 0 ] || fail "broker: expected exit status 0 after SIGTERM, got $broker_rc"

echo "PASS: redis broker integration test (dedicated plans)"
