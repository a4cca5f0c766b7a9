#!/usr/bin/env bash
# Integration test of osb-redis-broker's shared plan against a real Redis 7 started here on loopback.
# Usage: integration.sh BROKER_BINARY REPO_ROOT
# Every failed check exits non-zero saying what was expected and what came back.
set -euo pipefail

broker_bin=${1:?usage: integration.sh BROKER_BINARY REPO_ROOT}
root=${2:?usage: integration.sh BROKER_BINARY REPO_ROOT}
root=$(cd "$root" && pwd)
for tool in curl jq redis-cli redis-server sha256sum; do
	command -v "$tool" >/dev/null || { echo "FAIL: $tool is needed on PATH" >&2; exit 1; }
done

work=$(mktemp -d /tmp/osb-redis-it.XXXXXX)
broker_pid=
broker2_pid=
bg_pids=()

cleanup() {
	local rc=$?
	set +e
	for p in "${bg_pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "$broker_pid" "$broker2_pid"; do
		[ -n "$p" ] || continue
		kill -TERM "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	[ -f "$work/redis2/redis.pid" ] && kill -CONT "$(cat "$work/redis2/redis.pid")" 2>/dev/null
	"$root/scripts/redis-stop.sh" "$work/redis" >/dev/null 2>&1
	"$root/scripts/redis-stop.sh" "$work/redis2" >/dev/null 2>&1
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
unset REDISCLI_AUTH || true

catalog=$root/catalog/redis.json
service_id=$(jq -r '.services[0].id' "$catalog")
plan_id() { jq -r --arg n "$1" '.services[0].plans[] | select(.name == $n) | .id' "$catalog"; }
shared=$(plan_id shared)
[ -n "$shared" ] || fail "catalog: expected a plan named shared"

# The server-side names of an instance and a binding, as names.h derives them.
instance_name() { printf 'osb_%s' "$(printf 'instance:%s' "$1" | sha256sum | cut -c1-20)"; }
binding_name() { printf 'osb_%s' "$(printf 'binding:%s' "$1" | sha256sum | cut -c1-20)"; }
new_id() { cat /proc/sys/kernel/random/uuid; }

# redis-cli as the admin; the password travels in the environment, not on the command line.
admin() { REDISCLI_AUTH=$admin_pw redis-cli --no-auth-warning -h 127.0.0.1 -p "$redis_port" --user admin "$@"; }
# redis-cli as a binding, through its uri; prints replies and errors (redis-cli exits 0 on error replies).
as_uri() {
	local uri=$1
	shift
	timeout 10 redis-cli --no-auth-warning -u "$uri" "$@" 2>&1
}
# A command a binding must be refused: the answer names NOPERM.
expect_noperm() {
	local who=$1 uri=$2 out
	shift 2
	out=$(as_uri "$uri" "$@" </dev/null) || true
	grep -q '^NOPERM' <<<"$out" || fail "$who: expected '$*' to be refused with NOPERM, got: $out"
}

# One OSB request: sets $status and $body.
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
	jq -cn --arg s "$service_id" --arg p "$1" --arg app "${3:-app-1}" --argjson params "${2:-{\}}" \
		'{service_id: $s, plan_id: $p, bind_resource: {app_guid: $app}, parameters: $params}'
}
# Bind and check every credential key; prints the credentials object.
bind() {
	local inst=$1 bid=$2 params=${3:-{\}}
	osb PUT "/v2/service_instances/$inst/service_bindings/$bid" "$(bind_body "$shared" "$params")"
	expect_status 201 "bind $bid"
	local c key user pass
	c=$(jq -c '.credentials' <<<"$body")
	for key in host hostname port username password key_prefix uri; do
		[ "$(jq -r --arg k "$key" '.[$k] // empty' <<<"$c")" != "" ] ||
			fail "bind $bid: expected credential key $key, got $(jq -c 'keys' <<<"$c")"
	done
	[ "$(jq -r '.port | type' <<<"$c")" = number ] || fail "bind $bid: expected a numeric port, got $(jq -c .port <<<"$c")"
	[ "$(jq -r .port <<<"$c")" = "$redis_port" ] || fail "bind $bid: expected port $redis_port"
	[ "$(jq -r .key_prefix <<<"$c")" = "$(instance_name "$inst"):" ] ||
		fail "bind $bid: expected key_prefix $(instance_name "$inst"):, got $(jq -r .key_prefix <<<"$c")"
	user=$(jq -r .username <<<"$c")
	pass=$(jq -r .password <<<"$c")
	[ "$user" = "$(binding_name "$bid")" ] || fail "bind $bid: expected user $(binding_name "$bid"), got $user"
	[ "${#pass}" -ge 32 ] || fail "bind $bid: expected a 32-character password"
	[ "$(jq -r .uri <<<"$c")" = "redis://$user:$pass@127.0.0.1:$redis_port" ] || fail "bind $bid: unexpected uri shape"
	[ "$(jq -c '.endpoints' <<<"$body")" = "[{\"host\":\"127.0.0.1\",\"ports\":[\"$redis_port\"],\"protocol\":\"tcp\"}]" ] ||
		fail "bind $bid: expected one tcp endpoint 127.0.0.1:$redis_port, got $(jq -c .endpoints <<<"$body")"
	echo "$c" >"$work/cred-$bid.json"
	printf '%s' "$c"
}

# ---------------------------------------------------------------------------
step "start the broker on 127.0.0.1:$broker_port while Redis is still down"
mkdir -p "$work/data"
jq -n --arg listen "127.0.0.1:$broker_port" --arg pw "$broker_pw" --arg cat "$catalog" \
	--arg data "$work/data" --argjson port "$redis_port" '{
		listen: $listen,
		accounts: [{username: "broker", password: $pw}],
		catalog: $cat,
		data_dir: $data,
		store: {type: "sqlite"},
		log_level: "info",
		driver: {host: "127.0.0.1", port: $port, admin_user: "admin"}
	}' >"$work/broker.json"
out=$("$broker_bin" --config "$work/broker.json" --check-config 2>&1) && fail "--check-config without an admin password: expected a failure, got: $out"
grep -q 'driver.admin_password is required' <<<"$out" || fail "--check-config: expected the missing key named, got: $out"
out=$(OSB_DRIVER_ADMIN_PASSWORD=x OSB_DRIVER_PORT=99999 "$broker_bin" --config "$work/broker.json" --check-config 2>&1) &&
	fail "--check-config with port 99999: expected a failure, got: $out"
grep -q 'driver.port must be a TCP port' <<<"$out" || fail "--check-config: expected the bad port named, got: $out"
# The admin password comes from the environment, as an operator would keep it out of the file.
export OSB_DRIVER_ADMIN_PASSWORD=$admin_pw
"$broker_bin" --config "$work/broker.json" >"$work/broker.log" 2>&1 &
broker_pid=$!
code=000
for _ in $(seq 1 200); do
	code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$broker_port/health/live") || code=000
	[ "$code" = 200 ] && break
	kill -0 "$broker_pid" 2>/dev/null || fail "broker exited during start-up with Redis down (log above)"
	sleep 0.05
done
[ "$code" = 200 ] || fail "expected /health/live 200 within 10 s, got $code"
code=$(curl -s -o "$work/body" -w '%{http_code}' "http://127.0.0.1:$broker_port/health/ready") || code=000
[ "$code" = 503 ] || fail "expected /health/ready 503 while Redis is down, got $code: $(cat "$work/body")"
osb PUT "/v2/service_instances/$(new_id)" "$(provision_body "$shared")"
case $status in 5??) ;; *) fail "provision with Redis down: expected a 5xx answer, got $status: $body" ;; esac
grep -qF "$admin_pw" <<<"$body" && fail "provision with Redis down: the answer contains the admin password"
grep -qi 'connect' <<<"$body" || fail "provision with Redis down: expected a description about connecting, got: $body"

step "start Redis on 127.0.0.1:$redis_port"
"$root/scripts/redis-start.sh" "$work/redis" "$redis_port" "$admin_pw" >/dev/null
ready=000
for _ in $(seq 1 100); do
	ready=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$broker_port/health/ready") || ready=000
	[ "$ready" = 200 ] && break
	sleep 0.05
done
[ "$ready" = 200 ] || fail "expected /health/ready 200 once Redis is up, got $ready"

# ---------------------------------------------------------------------------
step "1. catalog and provision"
osb GET /v2/catalog
expect_status 200 "GET /v2/catalog"
[ "$(jq -r '.services[0].id' <<<"$body")" = "$service_id" ] || fail "catalog: expected service $service_id"
[ "$(jq -r '.services[0].name' <<<"$body")" = redis ] || fail "catalog: expected service name redis"
grep -q 'x-osb' <<<"$body" && fail "catalog: expected the private x-osb objects to be stripped"

i1=$(new_id)
i2=$(new_id)
p1=$(instance_name "$i1")
p2=$(instance_name "$i2")
for i in "$i1" "$i2"; do
	osb PUT "/v2/service_instances/$i" "$(provision_body "$shared")"
	expect_status 201 "provision $i"
done

# ---------------------------------------------------------------------------
step "2. bind; the binding reads and writes under its prefix"
b1=$(new_id)
c1=$(bind "$i1" "$b1")
u1=$(jq -r .uri <<<"$c1")
out=$(as_uri "$u1" SET "$p1:greeting" hello)
[ "$out" = OK ] || fail "binding 1: expected SET under its prefix to work, got: $out"
out=$(as_uri "$u1" GET "$p1:greeting")
[ "$out" = hello ] || fail "binding 1: expected GET to read 'hello', got: $out"
out=$(as_uri "$u1" EVAL "return redis.call('INCR', KEYS[1])" 1 "$p1:counter")
[ "$out" = 1 ] || fail "binding 1: expected EVAL on its own key to work, got: $out"
out=$(as_uri "$u1" RPUSH "$p1:list" 3 1 2 >/dev/null; as_uri "$u1" SORT "$p1:list" | tr '\n' ' ')
[ "$out" = "1 2 3 " ] || fail "binding 1: expected a plain SORT of its own list to work, got: $out"
out=$(REDISCLI_AUTH=$(jq -r .password <<<"$c1") redis-cli --no-auth-warning -h 127.0.0.1 -p "$redis_port" \
	--user "$(jq -r .username <<<"$c1")" ACL WHOAMI)
[ "$out" = "$(jq -r .username <<<"$c1")" ] || fail "binding 1: expected --user/--pass login to work, got: $out"

b2=$(new_id)
c2=$(bind "$i1" "$b2")
u2=$(jq -r .uri <<<"$c2")
[ "$(jq -r .password <<<"$c2")" != "$(jq -r .password <<<"$c1")" ] || fail "bind: expected a different password per binding"
out=$(as_uri "$u2" GET "$p1:greeting")
[ "$out" = hello ] || fail "binding 2: expected to read binding 1's key, got: $out"

step "2b. repeated bind: same body 200 with the same credentials, another app 409"
osb PUT "/v2/service_instances/$i1/service_bindings/$b2" "$(bind_body "$shared")"
expect_status 200 "identical bind $b2"
[ "$(jq -r .credentials.password <<<"$body")" = "$(jq -r .password <<<"$c2")" ] ||
	fail "identical bind: expected the stored credentials back"
osb PUT "/v2/service_instances/$i1/service_bindings/$b2" "$(bind_body "$shared" '{}' app-2)"
expect_status 409 "bind $b2 again for another app"
osb PUT "/v2/service_instances/$i1/service_bindings/$(new_id)" "$(bind_body "$shared" '{"acl":"+@all"}')"
expect_status 400 "bind with an unknown parameter"

step "2c. a read-only binding reads but cannot write"
bro=$(new_id)
cro=$(bind "$i1" "$bro" '{"read_only": true}')
uro=$(jq -r .uri <<<"$cro")
out=$(as_uri "$uro" GET "$p1:greeting")
[ "$out" = hello ] || fail "read-only binding: expected GET to work, got: $out"
expect_noperm "read-only binding" "$uro" SET "$p1:greeting" changed
expect_noperm "read-only binding" "$uro" DEL "$p1:greeting"
out=$(as_uri "$uro" EVAL "return redis.call('SET', KEYS[1], 'x')" 1 "$p1:greeting")
grep -qi "can't run this command\\|no permissions" <<<"$out" || fail "read-only binding: expected a script's SET refused, got: $out"
[ "$(admin GET "$p1:greeting")" = hello ] || fail "read-only binding: the key changed"

step "2d. rotating the read-only binding gives a new user with the same rights; the old one still works"
brot=$(new_id)
osb PUT "/v2/service_instances/$i1/service_bindings/$brot" \
	"$(jq -cn --arg s "$service_id" --arg p "$shared" --arg pred "$bro" '{service_id: $s, plan_id: $p, predecessor_binding_id: $pred}')"
expect_status 201 "rotate $bro"
crot=$(jq -c .credentials <<<"$body")
echo "$crot" >"$work/cred-$brot.json"
[ "$(jq -r .username <<<"$crot")" = "$(binding_name "$brot")" ] || fail "rotation: expected user $(binding_name "$brot")"
urot=$(jq -r .uri <<<"$crot")
[ "$(as_uri "$urot" GET "$p1:greeting")" = hello ] || fail "rotation: expected the new credentials to read"
expect_noperm "rotated read-only binding" "$urot" SET "$p1:greeting" changed
[ "$(as_uri "$uro" GET "$p1:greeting")" = hello ] || fail "rotation: expected the predecessor to keep working until unbound"

# ---------------------------------------------------------------------------
step "3. isolation: other prefixes, another tenant, whole-keyspace and server commands"
admin SET "outside:key" secret >/dev/null
b3=$(new_id)
c3=$(bind "$i2" "$b3")
u3=$(jq -r .uri <<<"$c3")
out=$(as_uri "$u3" SET "$p2:mine" tenant2)
[ "$out" = OK ] || fail "binding 3: expected SET under its own prefix to work, got: $out"
for who in "binding 1:$u1" "binding 3:$u3"; do
	name=${who%%:*}
	uri=${who#*:}
	expect_noperm "$name" "$uri" GET outside:key
	expect_noperm "$name" "$uri" SET outside:new x
	expect_noperm "$name" "$uri" GET noprefix
	for cmd in KEYS SCAN FLUSHALL FLUSHDB DBSIZE RANDOMKEY MONITOR; do
		case $cmd in
		KEYS) expect_noperm "$name" "$uri" KEYS '*' ;;
		SCAN) expect_noperm "$name" "$uri" SCAN 0 ;;
		*) expect_noperm "$name" "$uri" "$cmd" ;;
		esac
	done
	expect_noperm "$name" "$uri" CONFIG GET maxmemory
	expect_noperm "$name" "$uri" CONFIG SET maxmemory 1
	expect_noperm "$name" "$uri" INFO keyspace
	expect_noperm "$name" "$uri" SELECT 1
	expect_noperm "$name" "$uri" SWAPDB 0 1
	expect_noperm "$name" "$uri" CLIENT LIST
	expect_noperm "$name" "$uri" CLIENT KILL ID 1
	expect_noperm "$name" "$uri" CLIENT TRACKING on BCAST
	expect_noperm "$name" "$uri" PUBSUB CHANNELS
	expect_noperm "$name" "$uri" ACL LIST
	expect_noperm "$name" "$uri" SLOWLOG GET
	# The server refuses DEBUG before the ACL check unless enable-debug-command is set.
	out=$(as_uri "$uri" DEBUG SLEEP 0)
	grep -q '^NOPERM\|DEBUG command not allowed' <<<"$out" || fail "$name: expected DEBUG refused, got: $out"
	expect_noperm "$name" "$uri" FUNCTION LIST
	expect_noperm "$name" "$uri" SCRIPT FLUSH
	expect_noperm "$name" "$uri" MEMORY STATS
	expect_noperm "$name" "$uri" PSUBSCRIBE '*'
done
# Binding 3 against tenant 1's keys and channels, and the reverse.
expect_noperm "binding 3" "$u3" GET "$p1:greeting"
expect_noperm "binding 3" "$u3" SET "$p1:greeting" hijacked
expect_noperm "binding 3" "$u3" DEL "$p1:greeting"
expect_noperm "binding 3" "$u3" RENAME "$p2:mine" "$p1:stolen"
expect_noperm "binding 3" "$u3" COPY "$p2:mine" "$p2:copy" DB 1
expect_noperm "binding 3" "$u3" MOVE "$p2:mine" 1
expect_noperm "binding 3" "$u3" PUBLISH "$p1:events" hello
expect_noperm "binding 3" "$u3" SUBSCRIBE "$p1:events"
expect_noperm "binding 1" "$u1" GET "$p2:mine"
expect_noperm "binding 1" "$u1" PUBLISH "$p2:events" hello
out=$(as_uri "$u3" EVAL "return redis.call('GET', '$p1:greeting')" 0)
grep -qi "can't access\|no permissions" <<<"$out" || fail "binding 3: expected a script reading tenant 1's key refused, got: $out"
out=$(as_uri "$u3" SORT "$p2:none" BY "$p1:*")
grep -qi 'denied' <<<"$out" || fail "binding 3: expected SORT BY another prefix refused, got: $out"
out=$(as_uri "$u3" PUBLISH "$p2:events" hello)
[ "$out" = 0 ] || fail "binding 3: expected PUBLISH on its own channel to work, got: $out"
[ "$(admin GET "$p1:greeting")" = hello ] || fail "isolation: tenant 1's key changed"

# ---------------------------------------------------------------------------
step "4. unbind closes a live subscriber and revokes the credentials"
user1=$(jq -r .username <<<"$c1")
timeout 60 redis-cli --no-auth-warning -u "$u1" SUBSCRIBE "$p1:events" >"$work/sub.out" 2>&1 &
sub=$!
bg_pids+=("$sub")
n=0
for _ in $(seq 1 100); do
	n=$(admin CLIENT LIST | grep -c "cmd=subscribe user=$user1 " || true)
	[ "$n" -ge 1 ] && break
	sleep 0.05
done
[ "$n" -ge 1 ] || fail "unbind: expected binding 1's SUBSCRIBE session to be connected"
out=$(as_uri "$u2" PUBLISH "$p1:events" before-unbind)
[ "$out" = 1 ] || fail "unbind: expected the subscriber to receive a message, PUBLISH said: $out"
osb DELETE "/v2/service_instances/$i1/service_bindings/$b1?service_id=$service_id&plan_id=$shared"
expect_status 200 "unbind $b1"
for _ in $(seq 1 100); do
	kill -0 "$sub" 2>/dev/null || break
	sleep 0.05
done
kill -0 "$sub" 2>/dev/null && fail "unbind: expected binding 1's subscriber to be disconnected, it is still running"
grep -q before-unbind "$work/sub.out" || fail "unbind: the subscriber never got the message: $(cat "$work/sub.out")"
out=$(as_uri "$u1" GET "$p1:greeting")
grep -q 'WRONGPASS\|NOAUTH' <<<"$out" || fail "unbind: expected binding 1's credentials to be refused, got: $out"
[ -z "$(admin ACL LIST | grep "user $user1 " || true)" ] || fail "unbind: expected ACL user $user1 to be gone"
grep -q "user $user1 " "$work/redis/users.acl" && fail "unbind: expected $user1 gone from the ACL file (ACL SAVE)"
grep -q "user $(jq -r .username <<<"$c2") " "$work/redis/users.acl" || fail "bind: expected binding 2 saved in the ACL file"
out=$(as_uri "$u2" GET "$p1:greeting")
[ "$out" = hello ] || fail "unbind: expected binding 2 to keep working, got: $out"
osb DELETE "/v2/service_instances/$i1/service_bindings/$b1?service_id=$service_id&plan_id=$shared"
expect_status 410 "second unbind of $b1"

# ---------------------------------------------------------------------------
step "5. users survive a Redis restart (ACL SAVE)"
"$root/scripts/redis-stop.sh" "$work/redis"
"$root/scripts/redis-start.sh" "$work/redis" "$redis_port" "$admin_pw" >/dev/null
out=$(as_uri "$u2" SET "$p1:after-restart" yes)
[ "$out" = OK ] || fail "restart: expected binding 2 to log in and write after a Redis restart, got: $out"
# The test server keeps no data across restarts (save "", no AOF): put the keys back.
as_uri "$u2" SET "$p1:greeting" hello >/dev/null
[ "$(as_uri "$u3" SET "$p2:mine" tenant2)" = OK ] || fail "restart: expected binding 3 to write after a Redis restart"
admin SET "outside:key" secret >/dev/null
expect_noperm "binding 2 after restart" "$u2" GET outside:key

# ---------------------------------------------------------------------------
step "6. update and repeated or conflicting requests"
osb PATCH "/v2/service_instances/$i1" "$(jq -cn --arg s "$service_id" --arg p "$shared" '{service_id: $s, plan_id: $p, parameters: {}}')"
expect_status 200 "update $i1 with the same plan"
osb PUT "/v2/service_instances/$i1" "$(provision_body "$shared")"
expect_status 200 "identical provision of $i1"
osb PUT "/v2/service_instances/$i1" "$(provision_body "$shared" '{"maxmemory":"1gb"}')"
case $status in 400 | 409) ;; *) fail "provision of $i1 with other parameters: expected 400 or 409, got $status: $body" ;; esac
osb DELETE "/v2/service_instances/$(new_id)?service_id=$service_id&plan_id=$shared"
expect_status 410 "deprovision of an unknown instance"

# ---------------------------------------------------------------------------
step "7. reconcile: orphans on the server are reported and purged, live tenants kept"
orphan_inst=osb_0123456789abcdef0123
orphan_user=osb_fedcba9876543210fedc
admin ACL SETUSER "$orphan_user" on ">orphan-password-1234" "~$orphan_inst:*" "&$orphan_inst:*" +get >/dev/null
admin SET "$orphan_inst:left" over >/dev/null
keys_only=osb_00000000000000000bad
admin SET "$keys_only:k" v >/dev/null
"$broker_bin" --config "$work/broker.json" --reconcile >"$work/reconcile.out" 2>>"$work/broker.log" ||
	fail "--reconcile: expected exit 0 (output: $(cat "$work/reconcile.out"))"
for n in "$orphan_inst" "$orphan_user" "$keys_only"; do
	grep -q "\"orphan\":\"$n\"" "$work/reconcile.out" || fail "--reconcile: expected orphan $n reported, got: $(cat "$work/reconcile.out")"
done
for n in "$p1" "$p2" "$(jq -r .username <<<"$c2")" "$(jq -r .username <<<"$c3")" "$(jq -r .username <<<"$cro")"; do
	grep -q "$n" "$work/reconcile.out" && fail "--reconcile: live tenant $n reported as an orphan: $(cat "$work/reconcile.out")"
done
[ "$(admin EXISTS "$orphan_inst:left")" = 1 ] || fail "--reconcile without purge: expected the orphan's key kept"
"$broker_bin" --config "$work/broker.json" --reconcile=purge >"$work/reconcile.out" 2>>"$work/broker.log" ||
	fail "--reconcile=purge: expected exit 0 (output: $(cat "$work/reconcile.out"))"
[ "$(admin EXISTS "$orphan_inst:left" "$keys_only:k")" = 0 ] || fail "--reconcile=purge: expected the orphans' keys gone"
admin ACL LIST | grep -q "user $orphan_user " && fail "--reconcile=purge: expected ACL user $orphan_user gone"
[ "$(as_uri "$u2" GET "$p1:greeting")" = hello ] || fail "--reconcile=purge: expected binding 2 to keep working"
[ "$(as_uri "$u3" GET "$p2:mine")" = tenant2 ] || fail "--reconcile=purge: expected binding 3 to keep working"

# ---------------------------------------------------------------------------
step "8. deprovision removes the tenant's keys (binary names, thousands) and users, nothing else"
# 2500 keys take several SCAN and UNLINK rounds; names with spaces and newlines must go too.
admin EVAL "for i = 1, 2500 do redis.call('SET', ARGV[1] .. 'bulk:' .. i, i) end return 1" 0 "$p1:" >/dev/null
admin SET "$p1:with space" x >/dev/null
admin SET "$(printf '%s:new\nline' "$p1")" x >/dev/null
# A key that only starts like the prefix (no colon) is not the tenant's.
admin SET "${p1}x:lookalike" keep >/dev/null
n=$(admin EVAL "return #redis.call('KEYS', ARGV[1])" 0 "$p1:*")
[ "$n" -ge 2500 ] || fail "deprovision setup: expected at least 2500 keys under $p1:, got $n"
# Bindings 2 and read-only are still bound: deprovision removes their users too.
# A binding user made behind the broker's back with the tenant's pattern goes with the tenant too.
stray=osb_aaaaaaaaaaaaaaaaaaaa
admin ACL SETUSER "$stray" on ">stray-password-1234" "~$p1:*" +get >/dev/null
osb DELETE "/v2/service_instances/$i1?service_id=$service_id&plan_id=$shared"
expect_status 200 "deprovision $i1"
n=$(admin EVAL "return #redis.call('KEYS', ARGV[1])" 0 "$p1:*")
[ "$n" = 0 ] || fail "deprovision: expected no key under $p1: left, found $n"
[ "$(admin GET "${p1}x:lookalike")" = keep ] || fail "deprovision: removed ${p1}x:lookalike, which is not under $p1:"
[ "$(admin GET outside:key)" = secret ] || fail "deprovision: removed a key outside every prefix"
[ "$(admin GET "$p2:mine")" = tenant2 ] || fail "deprovision: removed tenant 2's key"
for u in "$stray" "$(jq -r .username <<<"$c2")" "$(jq -r .username <<<"$cro")" "$(jq -r .username <<<"$crot")"; do
	admin ACL LIST | grep -q "user $u " && fail "deprovision: expected ACL user $u of tenant 1 gone"
done
out=$(as_uri "$u2" GET "$p1:greeting")
grep -q 'WRONGPASS\|NOAUTH' <<<"$out" || fail "deprovision: expected binding 2's credentials refused, got: $out"
grep -q "$p1:" "$work/redis/users.acl" && fail "deprovision: expected no user of $p1 in the ACL file"
[ "$(as_uri "$u3" GET "$p2:mine")" = tenant2 ] || fail "deprovision: expected tenant 2's binding to keep working"
osb DELETE "/v2/service_instances/$i1?service_id=$service_id&plan_id=$shared"
expect_status 410 "second deprovision of $i1"

step "9. unbind and deprovision tenant 2; nothing named osb_ is left"
osb DELETE "/v2/service_instances/$i2/service_bindings/$b3?service_id=$service_id&plan_id=$shared"
expect_status 200 "unbind $b3"
osb DELETE "/v2/service_instances/$i2?service_id=$service_id&plan_id=$shared"
expect_status 200 "deprovision $i2"
left=$(admin EVAL "return #redis.call('KEYS', 'osb_*:*')" 0)
[ "$left" = 1 ] || fail "deprovision: expected only the lookalike key named osb_ left, found $left"
admin ACL LIST | grep -q '^user osb_' && fail "deprovision: expected no osb_ ACL user left, found: $(admin ACL LIST | grep '^user osb_' | cut -d' ' -f2)"

# ---------------------------------------------------------------------------
step "10. a server without an ACL file (admin = default user with requirepass): ACL SAVE skipped, said once"
redis2_port=$("$root/scripts/free-port.sh" $((broker_port + 1)))
broker2_port=$("$root/scripts/free-port.sh" $((redis2_port + 1)))
REDIS_NO_ACLFILE=1 "$root/scripts/redis-start.sh" "$work/redis2" "$redis2_port" "$admin_pw" >/dev/null
mkdir -p "$work/data2"
jq --arg listen "127.0.0.1:$broker2_port" --arg data "$work/data2" --argjson port "$redis2_port" \
	'.listen = $listen | .data_dir = $data | .driver = {port: $port} | .timeouts = {sync_s: 3}' \
	"$work/broker.json" >"$work/broker2.json"
"$broker_bin" --config "$work/broker2.json" >"$work/broker2.log" 2>&1 &
broker2_pid=$!
ready=000
for _ in $(seq 1 200); do
	ready=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$broker2_port/health/ready") || ready=000
	[ "$ready" = 200 ] && break
	kill -0 "$broker2_pid" 2>/dev/null || fail "broker 2 exited during start-up: $(tail -n 5 "$work/broker2.log")"
	sleep 0.05
done
[ "$ready" = 200 ] || fail "broker 2: expected /health/ready 200, got $ready"
main_port=$broker_port
broker_port=$broker2_port
i5=$(new_id)
osb PUT "/v2/service_instances/$i5" "$(provision_body "$shared")"
expect_status 201 "provision $i5 on the server without an ACL file"
for n in 1 2; do
	osb PUT "/v2/service_instances/$i5/service_bindings/$(new_id)" "$(bind_body "$shared")"
	expect_status 201 "bind $n on the server without an ACL file"
	c5=$(jq -c .credentials <<<"$body")
	out=$(as_uri "$(jq -r .uri <<<"$c5")" SET "$(instance_name "$i5"):k" v)
	[ "$out" = OK ] || fail "binding $n on the server without an ACL file: expected SET to work, got: $out"
	expect_noperm "binding $n without ACL file" "$(jq -r .uri <<<"$c5")" KEYS '*'
done
n=$(grep -c '"redis.no_aclfile"' "$work/broker2.log" || true)
[ "$n" = 1 ] || fail "without an ACL file: expected one redis.no_aclfile warning, found $n"

step "11. a server that stops answering: operations time out, health says so within a second or two"
redis2_pid=$(cat "$work/redis2/redis.pid")
kill -STOP "$redis2_pid"
t0=$(date +%s%N)
ready=$(curl -s -m 10 -o "$work/body" -w '%{http_code}' "http://127.0.0.1:$broker2_port/health/ready") || ready=000
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$ready" = 503 ] || fail "stopped server: expected /health/ready 503, got $ready: $(cat "$work/body")"
[ "$ms" -lt 2500 ] || fail "stopped server: /health/ready took $ms ms, expected about 1 s"
t0=$(date +%s%N)
osb PUT "/v2/service_instances/$(new_id)" "$(provision_body "$shared")"
ms=$((($(date +%s%N) - t0) / 1000000))
case $status in 5??) ;; *) fail "stopped server: expected a 5xx answer to provision, got $status: $body" ;; esac
[ "$ms" -lt 12000 ] || fail "stopped server: provision took $ms ms with sync_s 3"
grep -qi 'time' <<<"$body" || fail "stopped server: expected a description about time, got: $body"
echo "   stopped server: provision answered $status in $ms ms: $(jq -r .description <<<"$body")"
kill -CONT "$redis2_pid"
ready=000
for _ in $(seq 1 100); do
	ready=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$broker2_port/health/ready") || ready=000
	[ "$ready" = 200 ] && break
	sleep 0.05
done
[ "$ready" = 200 ] || fail "resumed server: expected /health/ready 200 again, got $ready"
kill -TERM "$broker2_pid"
wait "$broker2_pid" || fail "broker 2: expected exit status 0 after SIGTERM"
broker2_pid=
broker_port=$main_port

# ---------------------------------------------------------------------------
step "no secret in the logs"
for bid in "$b1" "$b2" "$b3" "$bro" "$brot"; do
	pw=$(jq -r .password "$work/cred-$bid.json")
	grep -qF "$pw" "$work/broker.log" && fail "broker log: expected no binding password, found binding $bid's"
	grep -qF "$pw" "$work/redis/redis.log" && fail "server log: expected no binding password, found binding $bid's"
done
grep -qF "$admin_pw" "$work/broker.log" "$work/broker2.log" && fail "broker log: expected no admin password, found it"

step "the broker stops cleanly"
kill -TERM "$broker_pid"
broker_rc=0
wait "$broker_pid" || broker_rc=$?
broker_pid=
[ "$broker_rc" = 0 ] || fail "broker: expected exit status 0 after SIGTERM, got $broker_rc"

echo "PASS: redis broker integration test (shared plan)"
