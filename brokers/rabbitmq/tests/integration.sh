#!/usr/bin/env bash
# Integration test of osb-rabbitmq-broker against a real RabbitMQ 3.10 started here on loopback.
# Usage: OSB_HELPER_AMQP_CLIENT=PROGRAM integration.sh BROKER_BINARY REPO_ROOT
# (PROGRAM: tests/amqp_client.c as the build makes it, osb-rabbitmq-amqp-client.)
# Every failed check exits non-zero saying what was expected and what came back.
set -euo pipefail

broker_bin=${1:?usage: integration.sh BROKER_BINARY REPO_ROOT}
root=${2:?usage: integration.sh BROKER_BINARY REPO_ROOT}
amqp=${OSB_HELPER_AMQP_CLIENT:?the osb-rabbitmq-amqp-client program (tests/amqp_client.c), as ctest sets it}
root=$(cd "$root" && pwd)
for tool in curl jq sha256sum ss; do
	command -v "$tool" >/dev/null || { echo "FAIL: $tool is needed on PATH" >&2; exit 1; }
done

work=$(mktemp -d /tmp/osb-rmq-it.XXXXXX)
broker_pid=
other_pid=
bg_pids=()

cleanup() {
	local rc=$?
	set +e
	for p in "${bg_pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "$broker_pid" "$other_pid"; do
		if [ -n "$p" ]; then
			kill -TERM "$p" 2>/dev/null
			wait "$p" 2>/dev/null
		fi
	done
	"$root/scripts/rabbitmq-stop.sh" "$work/rmq" >/dev/null 2>&1
	if [ "$rc" != 0 ]; then
		for f in broker.log other.log; do
			[ -f "$work/$f" ] || continue
			echo "--- last lines of $f ---" >&2
			tail -n 30 "$work/$f" >&2
		done
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
catalog=$root/catalog/rabbitmq.json
service_id=$(jq -r '.services[0].id' "$catalog")
plan_id() { jq -r --arg n "$1" '.services[0].plans[] | select(.name == $n) | .id' "$catalog"; }
standard=$(plan_id standard)
large=$(plan_id large)
plan_limit() { jq -r --arg n "$1" --arg k "$2" '.services[0].plans[] | select(.name == $n) | .["x-osb"][$k]' "$catalog"; }

# The server-side names, as names.h derives them.
instance_name() { printf 'osb_%s' "$(printf 'instance:%s' "$1" | sha256sum | cut -c1-20)"; }
binding_name() { printf 'osb_%s' "$(printf 'binding:%s' "$1" | sha256sum | cut -c1-20)"; }
new_id() { cat /proc/sys/kernel/random/uuid; }

# ---------------------------------------------------------------------------
step "start RabbitMQ on loopback (free ports for AMQP, management, dist, epmd)"
"$root/scripts/rabbitmq-start.sh" "$work/rmq" "$admin_pw" >"$work/rmq.env" ||
	fail "scripts/rabbitmq-start.sh could not start RabbitMQ (its log is above)"
amqp_port=$(sed -n 's/^AMQP_PORT=//p' "$work/rmq.env")
mgmt_port=$(sed -n 's/^MGMT_PORT=//p' "$work/rmq.env")
[ -n "$amqp_port" ] && [ -n "$mgmt_port" ] || fail "rabbitmq-start.sh printed no ports: $(cat "$work/rmq.env")"
mgmt=http://127.0.0.1:$mgmt_port/api

# The admin API as the test sees it: sets $astatus and $abody.
admin() {
	local method=$1 path=$2 data=${3:-}
	local args=(-s -o "$work/abody" -w '%{http_code}' -X "$method" -u "admin:$admin_pw")
	[ -n "$data" ] && args+=(-H 'Content-Type: application/json' --data "$data")
	astatus=$(curl "${args[@]}" "$mgmt$path") || astatus=000
	abody=$(cat "$work/abody" 2>/dev/null || true)
}
vhost_exists() { admin GET "/vhosts/$1"; [ "$astatus" = 200 ]; }
user_exists() { admin GET "/users/$1"; [ "$astatus" = 200 ]; }
# "max-connections max-queues" of a vhost.
vhost_limits() {
	admin GET "/vhost-limits/$1"
	jq -r '(.[0].value // {}) | "\(.["max-connections"] // "none") \(.["max-queues"] // "none")"' <<<"$abody"
}

broker_port=$("$root/scripts/free-port.sh" $((mgmt_port + 100)))
other_port=$("$root/scripts/free-port.sh" $((broker_port + 1)))

# One OSB request to the broker on $port (default the main one): sets $status and $body.
osb_to() {
	local port=$1 method=$2 path=$3 data=${4:-}
	local args=(-s -o "$work/body" -w '%{http_code}' -X "$method" -u "broker:$broker_pw"
		-H 'X-Broker-API-Version: 2.17' -H 'Content-Type: application/json')
	[ -n "$data" ] && args+=(--data "$data")
	status=$(curl "${args[@]}" "http://127.0.0.1:$port$path") || status=000
	body=$(cat "$work/body" 2>/dev/null || true)
}
osb() { osb_to "$broker_port" "$@"; }
expect_status() {
	local want=$1 what=$2
	[ "$status" = "$want" ] || fail "$what: expected HTTP $want, got $status: $body"
}

provision_body() {
	jq -cn --arg s "$service_id" --arg p "$1" --argjson params "${2:-{\}}" \
		'{service_id: $s, plan_id: $p, organization_guid: "org-1", space_guid: "space-1", parameters: $params}'
}
bind_body() {
	jq -cn --arg s "$service_id" --arg p "$1" --arg pred "${2:-}" \
		'{service_id: $s, plan_id: $p, bind_resource: {app_guid: "app-1"}} + (if $pred == "" then {} else {predecessor_binding_id: $pred} end)'
}

# Bind and check every credential key and its shape; prints the credentials object.
bind() {
	local inst=$1 bid=$2 plan=$3 pred=${4:-}
	osb PUT "/v2/service_instances/$inst/service_bindings/$bid" "$(bind_body "$plan" "$pred")"
	expect_status 201 "bind $bid"
	local c key vhost user pw uri api
	c=$(jq -c '.credentials' <<<"$body")
	for key in uri uris hostname hostnames username password vhost http_api_uri http_api_uris ssl protocols; do
		[ "$(jq -r --arg k "$key" 'has($k)' <<<"$c")" = true ] ||
			fail "bind $bid: expected credential key $key, got $(jq -c 'keys' <<<"$c")"
	done
	vhost=$(jq -r .vhost <<<"$c")
	user=$(jq -r .username <<<"$c")
	pw=$(jq -r .password <<<"$c")
	uri=$(jq -r .uri <<<"$c")
	api=$(jq -r .http_api_uri <<<"$c")
	[ "$vhost" = "$(instance_name "$inst")" ] || fail "bind $bid: expected vhost $(instance_name "$inst"), got $vhost"
	[ "$user" = "$(binding_name "$bid")" ] || fail "bind $bid: expected user $(binding_name "$bid"), got $user"
	[ "${#pw}" = 32 ] || fail "bind $bid: expected a 32-character password, got ${#pw} characters"
	[ "$uri" = "amqp://$user:$pw@127.0.0.1:$amqp_port/$vhost" ] || fail "bind $bid: unexpected uri shape"
	[ "$api" = "http://$user:$pw@127.0.0.1:$mgmt_port/api/" ] || fail "bind $bid: unexpected http_api_uri shape"
	[ "$(jq -c '[.uris, .hostnames, .http_api_uris, .ssl, .hostname]' <<<"$c")" = "[[\"$uri\"],[\"127.0.0.1\"],[\"$api\"],false,\"127.0.0.1\"]" ] ||
		fail "bind $bid: unexpected uris/hostnames/http_api_uris/ssl/hostname: $(jq -c '[.uris, .hostnames, .http_api_uris, .ssl, .hostname]' <<<"$c" | sed "s/$pw/***/g")"
	[ "$(jq -c '.protocols.amqp | [.host, .hosts, .port, .username, .vhost, .uri == $u, .uris == [$u], .ssl, .password == $p]' \
		--arg u "$uri" --arg p "$pw" <<<"$c")" = "[\"127.0.0.1\",[\"127.0.0.1\"],$amqp_port,\"$user\",\"$vhost\",true,true,false,true]" ] ||
		fail "bind $bid: unexpected protocols.amqp"
	[ "$(jq -c '.protocols.management | [.host, .hosts, .port, .username, .path, .uri == $u, .uris == [$u], .ssl, .password == $p]' \
		--arg u "$api" --arg p "$pw" <<<"$c")" = "[\"127.0.0.1\",[\"127.0.0.1\"],$mgmt_port,\"$user\",\"/api/\",true,true,false,true]" ] ||
		fail "bind $bid: unexpected protocols.management"
	echo "$c" >"$work/cred-$bid.json"
	printf '%s' "$c"
}
# The binding's uri with another vhost.
uri_with_vhost() { jq -r --arg v "$2" '"amqp://\(.username):\(.password)@127.0.0.1:\(.protocols.amqp.port)/\($v)"' <<<"$1"; }

wait_ready() {
	local port=$1 pid=$2 want=$3 code=000
	for _ in $(seq 1 200); do
		code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/health/live") || code=000
		[ "$code" = 200 ] && break
		kill -0 "$pid" 2>/dev/null || fail "broker on $port exited during start-up (log above)"
		sleep 0.05
	done
	[ "$code" = 200 ] || fail "expected /health/live 200 within 10 s on $port, got $code"
	for _ in $(seq 1 100); do
		code=$(curl -s -o "$work/ready" -w '%{http_code}' "http://127.0.0.1:$port/health/ready") || code=000
		[ "$code" = "$want" ] && return 0
		sleep 0.05
	done
	fail "expected /health/ready $want on $port, got $code: $(cat "$work/ready" 2>/dev/null)"
}

# broker_config FILE PORT DATA API_URL
broker_config() {
	jq -n --arg listen "127.0.0.1:$2" --arg pw "$broker_pw" --arg cat "$catalog" --arg data "$3" \
		--arg api "$4" --argjson amqp "$amqp_port" '{
			listen: $listen,
			accounts: [{username: "broker", password: $pw}],
			catalog: $cat,
			data_dir: $data,
			store: {type: "sqlite"},
			log_level: "info",
			driver: {api_url: $api, admin_user: "admin", amqp_port: $amqp}
		}' >"$1"
}

step "start the broker on 127.0.0.1:$broker_port"
mkdir -p "$work/data"
broker_config "$work/broker.json" "$broker_port" "$work/data" "http://127.0.0.1:$mgmt_port"
# The admin password comes from the environment, as an operator would keep it out of the file.
OSB_DRIVER_ADMIN_PASSWORD=$admin_pw "$broker_bin" --config "$work/broker.json" >"$work/broker.log" 2>&1 &
broker_pid=$!
wait_ready "$broker_port" "$broker_pid" 200

# ---------------------------------------------------------------------------
step "1. catalog and provision"
osb GET /v2/catalog
expect_status 200 "GET /v2/catalog"
[ "$(jq -r '.services[0].id' <<<"$body")" = "$service_id" ] || fail "catalog: expected service $service_id"
[ "$(jq -c '.services[0].tags' <<<"$body")" = '["rabbitmq","amqp","messaging"]' ] || fail "catalog: unexpected tags $(jq -c '.services[0].tags' <<<"$body")"
[ "$(jq -c '[.services[0].plans[].name]' <<<"$body")" = '["standard","large"]' ] || fail "catalog: expected plans standard and large"
grep -q 'x-osb' <<<"$body" && fail "catalog: expected the private x-osb objects to be stripped"

std_conns=$(plan_limit standard max_connections)
std_queues=$(plan_limit standard max_queues)
large_conns=$(plan_limit large max_connections)
large_queues=$(plan_limit large max_queues)

i1=$(new_id)
v1=$(instance_name "$i1")
osb PUT "/v2/service_instances/$i1" "$(provision_body "$standard")"
expect_status 201 "provision $i1"
[ "$(jq -r .dashboard_url <<<"$body")" = "http://127.0.0.1:$mgmt_port/#/login/" ] ||
	fail "provision: expected dashboard_url http://127.0.0.1:$mgmt_port/#/login/, got $(jq -r .dashboard_url <<<"$body")"
vhost_exists "$v1" || fail "provision: expected vhost $v1 on the server, GET gave $astatus"
[ "$(vhost_limits "$v1")" = "$std_conns $std_queues" ] ||
	fail "provision: expected limits '$std_conns $std_queues' (plan standard), got '$(vhost_limits "$v1")'"

# ---------------------------------------------------------------------------
step "2. bind; publish and get a message over AMQP with the credentials"
b1=$(new_id)
c1=$(bind "$i1" "$b1" "$standard")
uri1=$(jq -r .uri <<<"$c1")
out=$("$amqp" roundtrip "$uri1" orders "hello from binding 1") || fail "binding 1: expected an AMQP round trip, got: $out"
grep -q '^ok: got back "hello from binding 1"' <<<"$out" || fail "binding 1: unexpected round trip output: $out"

b2=$(new_id)
c2=$(bind "$i1" "$b2" "$standard")
uri2=$(jq -r .uri <<<"$c2")
[ "$(jq -r .password <<<"$c2")" != "$(jq -r .password <<<"$c1")" ] || fail "bind: expected a different password per binding"
out=$("$amqp" roundtrip "$uri2" orders "second") || fail "binding 2: expected to share the vhost's queue, got: $out"

step "2b. the management API works with the binding's http_api_uri, for its own vhost only"
api1=$(jq -r .http_api_uri <<<"$c1")
code=$(curl -s -o "$work/q" -w '%{http_code}' "${api1}queues/$v1") || code=000
[ "$code" = 200 ] || fail "binding 1 http_api_uri: expected 200 listing its queues, got $code"
[ "$(jq -r '[.[].name] | index("orders") != null' "$work/q")" = true ] || fail "binding 1 http_api_uri: expected queue orders listed, got $(cat "$work/q")"
code=$(curl -s -o /dev/null -w '%{http_code}' "${api1}queues/%2F") || code=000
[ "$code" = 401 ] || fail "binding 1 http_api_uri: expected 401 on vhost /, got $code"
code=$(curl -s -o /dev/null -w '%{http_code}' "${api1}users") || code=000
[ "$code" = 401 ] || fail "binding 1 http_api_uri: expected 401 listing users, got $code"

step "2c. repeated bind is answered 200 with the same credentials; rotation makes a user of its own"
osb PUT "/v2/service_instances/$i1/service_bindings/$b2" "$(bind_body "$standard")"
expect_status 200 "identical bind $b2"
[ "$(jq -r .credentials.password <<<"$body")" = "$(jq -r .password <<<"$c2")" ] || fail "identical bind: expected the stored credentials back"
b2r=$(new_id)
c2r=$(bind "$i1" "$b2r" "$standard" "$b2")
[ "$(jq -r .username <<<"$c2r")" != "$(jq -r .username <<<"$c2")" ] || fail "rotation: expected a new user"
out=$("$amqp" roundtrip "$(jq -r .uri <<<"$c2r")" orders "rotated") || fail "rotation: expected the successor to work, got: $out"
out=$("$amqp" login "$uri2") || fail "rotation: expected the predecessor to keep working until unbound, got: $out"

# ---------------------------------------------------------------------------
step "3. another instance's credentials cannot open this vhost"
i2=$(new_id)
v2=$(instance_name "$i2")
osb PUT "/v2/service_instances/$i2" "$(provision_body "$standard")"
expect_status 201 "provision $i2"
b3=$(new_id)
c3=$(bind "$i2" "$b3" "$standard")
out=$("$amqp" login "$(jq -r .uri <<<"$c3")") || fail "binding 3: expected to log in to its own vhost, got: $out"
rc=0
out=$("$amqp" login "$(uri_with_vhost "$c3" "$v1")") || rc=$?
[ "$rc" = 2 ] || fail "binding 3 on $v1: expected to be refused (exit 2), got exit $rc: $out"
grep -q 'refused: 530 NOT_ALLOWED' <<<"$out" || fail "binding 3 on $v1: expected 530 NOT_ALLOWED, got: $out"
rc=0
out=$("$amqp" login "$(uri_with_vhost "$c1" "$v2")") || rc=$?
[ "$rc" = 2 ] && grep -q 'refused: 530 NOT_ALLOWED' <<<"$out" || fail "binding 1 on $v2: expected 530 NOT_ALLOWED, got exit $rc: $out"
rc=0
out=$("$amqp" login "$(uri_with_vhost "$c1" "%2F")") || rc=$?
[ "$rc" = 2 ] || fail "binding 1 on vhost /: expected to be refused, got exit $rc: $out"
code=$(curl -s -o /dev/null -w '%{http_code}' "$(jq -r .http_api_uri <<<"$c3")queues/$v1") || code=000
[ "$code" = 401 ] || fail "binding 3 http_api_uri on $v1: expected 401, got $code"

# ---------------------------------------------------------------------------
step "4. unbind closes an open AMQP connection and revokes the credentials"
user1=$(jq -r .username <<<"$c1")
"$amqp" hold "$uri1" 60 "$work/held" >"$work/hold.out" 2>&1 &
holder=$!
bg_pids+=("$holder")
for _ in $(seq 1 100); do
	[ -f "$work/held" ] && break
	kill -0 "$holder" 2>/dev/null || break
	sleep 0.05
done
[ -f "$work/held" ] || fail "unbind: expected binding 1 to hold a connection open, got: $(cat "$work/hold.out")"
osb DELETE "/v2/service_instances/$i1/service_bindings/$b1?service_id=$service_id&plan_id=$standard"
expect_status 200 "unbind $b1"
for _ in $(seq 1 100); do
	kill -0 "$holder" 2>/dev/null || break
	sleep 0.05
done
kill -0 "$holder" 2>/dev/null && fail "unbind: expected binding 1's open connection to be closed, it is still open"
hold_rc=0
wait "$holder" || hold_rc=$?
[ "$hold_rc" = 3 ] || fail "unbind: expected the held connection to be closed by the server (exit 3), got $hold_rc: $(cat "$work/hold.out")"
grep -q 'closed: 320 CONNECTION_FORCED' "$work/hold.out" || fail "unbind: expected 320 CONNECTION_FORCED, got: $(cat "$work/hold.out")"
rc=0
out=$("$amqp" login "$uri1") || rc=$?
[ "$rc" = 2 ] && grep -q 'refused: 403 ACCESS_REFUSED' <<<"$out" || fail "unbind: expected 403 ACCESS_REFUSED for binding 1, got exit $rc: $out"
user_exists "$user1" && fail "unbind: expected user $user1 to be gone"
out=$("$amqp" roundtrip "$uri2" orders "still here") || fail "unbind: expected binding 2 to keep working, got: $out"
osb DELETE "/v2/service_instances/$i1/service_bindings/$b1?service_id=$service_id&plan_id=$standard"
expect_status 410 "second unbind of $b1"

# ---------------------------------------------------------------------------
step "5. plan limits are enforced, and an update applies the new plan's"
i3=$(new_id)
v3=$(instance_name "$i3")
osb PUT "/v2/service_instances/$i3" "$(provision_body "$standard")"
expect_status 201 "provision $i3"
b4=$(new_id)
c4=$(bind "$i3" "$b4" "$standard")
uri4=$(jq -r .uri <<<"$c4")
out=$("$amqp" connections "$uri4" $((std_conns + 5))) || fail "limits: connections run failed: $out"
grep -q "^opened $std_conns\$" <<<"$out" || fail "limits: expected exactly $std_conns connections (plan standard), got: $out"
grep -q 'refused: 530 NOT_ALLOWED.*connection limit' <<<"$out" || fail "limits: expected 530 'connection limit', got: $out"
out=$("$amqp" queues "$uri4" $((std_queues + 5)) small) || fail "limits: queues run failed: $out"
grep -q "^declared $std_queues\$" <<<"$out" || fail "limits: expected exactly $std_queues queues (plan standard), got: $out"
grep -q 'queue limit' <<<"$out" || fail "limits: expected a 'queue limit' refusal, got: $out"

osb PATCH "/v2/service_instances/$i3" "$(jq -cn --arg s "$service_id" --arg p "$large" '{service_id: $s, plan_id: $p}')"
expect_status 200 "update $i3 to large"
[ "$(vhost_limits "$v3")" = "$large_conns $large_queues" ] ||
	fail "update: expected limits '$large_conns $large_queues' (plan large), got '$(vhost_limits "$v3")'"
out=$("$amqp" connections "$uri4" $((std_conns + 5))) || fail "update: connections run failed: $out"
grep -q "^opened $((std_conns + 5))\$" <<<"$out" || fail "update: expected $((std_conns + 5)) connections under plan large, got: $out"
out=$("$amqp" queues "$uri4" 20 more) || fail "update: queues run failed: $out"
grep -q '^declared 20$' <<<"$out" || fail "update: expected 20 more queues under plan large, got: $out"
out=$("$amqp" roundtrip "$uri4" after-update "ok") || fail "update: expected the binding to keep working, got: $out"
osb PATCH "/v2/service_instances/$i3" "$(jq -cn --arg s "$service_id" --arg p "$standard" '{service_id: $s, plan_id: $p}')"
expect_status 200 "update $i3 back to standard"
[ "$(vhost_limits "$v3")" = "$std_conns $std_queues" ] ||
	fail "update: expected limits '$std_conns $std_queues' back, got '$(vhost_limits "$v3")'"

# ---------------------------------------------------------------------------
step "6. parameters are refused; repeated and conflicting requests"
i4=$(new_id)
osb PUT "/v2/service_instances/$i4" "$(provision_body "$standard" '{"vhost":"/"}')"
expect_status 400 "provision with parameters"
vhost_exists "$(instance_name "$i4")" && fail "provision with parameters: expected no vhost made"
osb PUT "/v2/service_instances/$i2/service_bindings/$(new_id)" \
	"$(jq -cn --arg s "$service_id" --arg p "$standard" '{service_id: $s, plan_id: $p, bind_resource: {app_guid: "a"}, parameters: {tags: "administrator"}}')"
expect_status 400 "bind with parameters"
osb PUT "/v2/service_instances/$i2" "$(provision_body "$standard")"
expect_status 200 "identical provision of $i2"
osb PUT "/v2/service_instances/$i2" "$(provision_body "$large")"
expect_status 409 "provision of $i2 with another plan"
osb DELETE "/v2/service_instances/$(new_id)?service_id=$service_id&plan_id=$standard"
expect_status 410 "deprovision of an unknown instance"
osb PUT "/v2/service_instances/$(new_id)/service_bindings/$(new_id)" "$(bind_body "$standard")"
[ "$status" = 404 ] || [ "$status" = 400 ] || fail "bind to an unknown instance: expected 404 or 400, got $status: $body"

# ---------------------------------------------------------------------------
step "7. the reconciler reports and purges broker-named orphans, and only them"
orphan_vhost=osb_0123456789abcdef0123
orphan_user=osb_fedcba9876543210fedc
admin PUT "/vhosts/$orphan_vhost"
[ "$astatus" = 201 ] || fail "setup: cannot create orphan vhost ($astatus)"
admin PUT "/users/$orphan_user" '{"password":"orphan-pass-123","tags":""}'
[ "$astatus" = 201 ] || fail "setup: cannot create orphan user ($astatus)"
admin PUT "/permissions/$orphan_vhost/$orphan_user" '{"configure":".*","write":".*","read":".*"}'
admin PUT "/vhosts/not_ours" >/dev/null
OSB_DRIVER_ADMIN_PASSWORD=$admin_pw "$broker_bin" --config "$work/broker.json" --reconcile >"$work/reconcile.out" 2>>"$work/broker.log" ||
	fail "--reconcile: expected exit 0 (output: $(cat "$work/reconcile.out"))"
for n in "$orphan_vhost" "$orphan_user"; do
	grep -q "\"orphan\":\"$n\"" "$work/reconcile.out" || fail "--reconcile: expected orphan $n reported, got: $(cat "$work/reconcile.out")"
done
for n in "$v1" "$v2" "$v3" "$(jq -r .username <<<"$c2")" "$(jq -r .username <<<"$c3")" not_ours; do
	grep -q "$n" "$work/reconcile.out" && fail "--reconcile: live or foreign tenant $n reported: $(cat "$work/reconcile.out")"
done
vhost_exists "$orphan_vhost" || fail "--reconcile without purge: expected $orphan_vhost kept"
OSB_DRIVER_ADMIN_PASSWORD=$admin_pw "$broker_bin" --config "$work/broker.json" --reconcile=purge >"$work/reconcile.out" 2>>"$work/broker.log" ||
	fail "--reconcile=purge: expected exit 0 (output: $(cat "$work/reconcile.out"))"
vhost_exists "$orphan_vhost" && fail "--reconcile=purge: expected vhost $orphan_vhost gone"
user_exists "$orphan_user" && fail "--reconcile=purge: expected user $orphan_user gone"
vhost_exists not_ours || fail "--reconcile=purge: expected the foreign vhost not_ours kept"
for v in "$v1" "$v2" "$v3"; do vhost_exists "$v" || fail "--reconcile=purge: expected live vhost $v kept"; done
out=$("$amqp" login "$uri2") || fail "--reconcile=purge: expected binding 2 to keep working, got: $out"
admin DELETE /vhosts/not_ours

# ---------------------------------------------------------------------------
step "8. the broker reports RabbitMQ down and wrong admin credentials clearly"
mkdir -p "$work/data2"
dead_port=$("$root/scripts/free-port.sh" $((other_port + 1)))
broker_config "$work/other.json" "$other_port" "$work/data2" "http://127.0.0.1:$dead_port"
OSB_DRIVER_ADMIN_PASSWORD=$admin_pw "$broker_bin" --config "$work/other.json" >"$work/other.log" 2>&1 &
other_pid=$!
wait_ready "$other_port" "$other_pid" 503
osb_to "$other_port" PUT "/v2/service_instances/$(new_id)" "$(provision_body "$standard")"
[ "$status" -ge 500 ] || fail "RabbitMQ unreachable: expected a 5xx for provision, got $status: $body"
grep -qi 'cannot reach the RabbitMQ management API' <<<"$body" || fail "RabbitMQ unreachable: expected 'cannot reach', got: $body"
kill -TERM "$other_pid"; wait "$other_pid" || true; other_pid=

rm -rf "$work/data2"; mkdir -p "$work/data2"
broker_config "$work/other.json" "$other_port" "$work/data2" "http://127.0.0.1:$mgmt_port"
OSB_DRIVER_ADMIN_PASSWORD=wrong-password-123 "$broker_bin" --config "$work/other.json" >"$work/other.log" 2>&1 &
other_pid=$!
wait_ready "$other_port" "$other_pid" 503
osb_to "$other_port" PUT "/v2/service_instances/$(new_id)" "$(provision_body "$standard")"
[ "$status" -ge 500 ] || fail "wrong admin password: expected a 5xx for provision, got $status: $body"
grep -q 'admin credentials' <<<"$body" || fail "wrong admin password: expected a message about the admin credentials, got: $body"
printf '%s' "$body" | grep -q 'wrong-password-123' - "$work/other.log" && fail "wrong admin password: the password leaked into a response or log"
kill -TERM "$other_pid"; wait "$other_pid" || true; other_pid=

step "8b. an api_url ending in /api works; public_host and management_public_url shape the credentials"
rm -rf "$work/data2"; mkdir -p "$work/data2"
broker_config "$work/other.json" "$other_port" "$work/data2" "http://127.0.0.1:$mgmt_port/api/"
jq '.driver += {public_host: "amqp.example.test", management_public_url: "https://mq-ui.example.test:8443/rabbit/"}' \
	"$work/other.json" >"$work/other-public.json"
OSB_DRIVER_ADMIN_PASSWORD=$admin_pw "$broker_bin" --config "$work/other-public.json" >"$work/other.log" 2>&1 &
other_pid=$!
wait_ready "$other_port" "$other_pid" 200
i5=$(new_id)
v5=$(instance_name "$i5")
osb_to "$other_port" PUT "/v2/service_instances/$i5" "$(provision_body "$standard")"
expect_status 201 "provision through an api_url ending in /api"
[ "$(jq -r .dashboard_url <<<"$body")" = "https://mq-ui.example.test:8443/rabbit/#/login/" ] ||
	fail "management_public_url: unexpected dashboard_url $(jq -r .dashboard_url <<<"$body")"
vhost_exists "$v5" || fail "api_url ending in /api: expected vhost $v5 on the server, GET gave $astatus"
b5=$(new_id)
user5=$(binding_name "$b5")
osb_to "$other_port" PUT "/v2/service_instances/$i5/service_bindings/$b5" "$(bind_body "$standard")"
expect_status 201 "bind through an api_url ending in /api"
pw5=$(jq -r .credentials.password <<<"$body")
want5="[\"amqp.example.test\",[\"amqp.example.test\"],\"amqp://$user5:PW@amqp.example.test:$amqp_port/$v5\","
want5+="\"https://$user5:PW@mq-ui.example.test:8443/rabbit/api/\",\"https://mq-ui.example.test:8443/rabbit/#/login/\","
want5+="\"amqp.example.test\",$amqp_port,\"mq-ui.example.test\",8443,\"/rabbit/api/\",true,false,null,null]"
got5=$(jq -c --arg p "$pw5" '.credentials | [.hostname, .hostnames, .uri, .http_api_uri, .dashboard_url,
	.protocols.amqp.host, .protocols.amqp.port, .protocols.management.host, .protocols.management.port,
	.protocols.management.path, .protocols.management.ssl, .ssl, .host, .port] | map(if type == "string" then sub($p; "PW") else . end)' <<<"$body")
[ "$got5" = "$want5" ] || fail "public_host/management_public_url: expected credentials $want5, got $got5"
out=$("$amqp" login "amqp://$user5:$pw5@127.0.0.1:$amqp_port/$v5") || fail "api_url ending in /api: expected the binding's user to log in, got: $out"
osb_to "$other_port" DELETE "/v2/service_instances/$i5/service_bindings/$b5?service_id=$service_id&plan_id=$standard"
expect_status 200 "unbind through an api_url ending in /api"
user_exists "$user5" && fail "api_url ending in /api: expected user $user5 gone"
osb_to "$other_port" DELETE "/v2/service_instances/$i5?service_id=$service_id&plan_id=$standard"
expect_status 200 "deprovision through an api_url ending in /api"
vhost_exists "$v5" && fail "api_url ending in /api: expected vhost $v5 gone"
kill -TERM "$other_pid"; wait "$other_pid" || true; other_pid=

# ---------------------------------------------------------------------------
step "9. deprovision deletes the vhost and its users; nothing named osb_ is left"
osb DELETE "/v2/service_instances/$i1/service_bindings/$b2?service_id=$service_id&plan_id=$standard"
expect_status 200 "unbind $b2"
osb DELETE "/v2/service_instances/$i1/service_bindings/$b2r?service_id=$service_id&plan_id=$standard"
expect_status 200 "unbind $b2r"
osb DELETE "/v2/service_instances/$i1?service_id=$service_id&plan_id=$standard"
expect_status 200 "deprovision $i1"
vhost_exists "$v1" && fail "deprovision: expected vhost $v1 gone"
osb DELETE "/v2/service_instances/$i1?service_id=$service_id&plan_id=$standard"
expect_status 410 "second deprovision of $i1"

# A user left behind on the instance's vhost (as an interrupted unbind would leave it) goes with the vhost.
user3=$(jq -r .username <<<"$c3")
osb DELETE "/v2/service_instances/$i2/service_bindings/$b3?service_id=$service_id&plan_id=$standard"
expect_status 200 "unbind $b3"
stray=osb_00000000000000000abc
admin PUT "/users/$stray" '{"password":"stray-pass-123","tags":""}'
admin PUT "/permissions/$v2/$stray" '{"configure":".*","write":".*","read":".*"}'
[ "$astatus" = 201 ] || [ "$astatus" = 204 ] || fail "setup: cannot give $stray permissions on $v2 ($astatus)"
osb DELETE "/v2/service_instances/$i2?service_id=$service_id&plan_id=$standard"
expect_status 200 "deprovision $i2"
vhost_exists "$v2" && fail "deprovision: expected vhost $v2 gone"
user_exists "$stray" && fail "deprovision: expected $stray (permissions only on $v2) gone"
user_exists "$user3" && fail "deprovision: expected $user3 gone"

osb DELETE "/v2/service_instances/$i3/service_bindings/$b4?service_id=$service_id&plan_id=$standard"
expect_status 200 "unbind $b4"
osb DELETE "/v2/service_instances/$i3?service_id=$service_id&plan_id=$standard"
expect_status 200 "deprovision $i3"
admin GET "/vhosts?columns=name"
left_v=$(jq -r '[.[].name | select(startswith("osb_"))] | join(" ")' <<<"$abody")
admin GET "/users?columns=name"
left_u=$(jq -r '[.[].name | select(startswith("osb_"))] | join(" ")' <<<"$abody")
[ -z "$left_v$left_u" ] || fail "deprovision: expected no osb_ vhosts or users, found: $left_v $left_u"

# ---------------------------------------------------------------------------
step "no secret in the logs"
for bid in "$b1" "$b2" "$b2r" "$b3" "$b4"; do
	pw=$(jq -r .password "$work/cred-$bid.json")
	grep -qF "$pw" "$work/broker.log" && fail "broker log: expected no binding password, found binding $bid's"
	grep -qF "$pw" "$work/rmq/rabbitmq.log" && fail "RabbitMQ log: expected no binding password, found binding $bid's"
done
grep -qF "$admin_pw" "$work/broker.log" && fail "broker log: expected no admin password, found it"

step "the broker stops cleanly"
kill -TERM "$broker_pid"
broker_rc=0
wait "$broker_pid" || broker_rc=$?
broker_pid=
[ "$broker_rc" = 0 ] || fail "broker: expected exit status 0 after SIGTERM, got $broker_rc"

echo "PASS: rabbitmq broker integration test"
