#!/usr/bin/env bash
# What only RabbitMQ has (the driver contract itself is tests/contract/contract.sh): the Cloud
# Foundry / PaaS-TA credential shape, the binding's management API confined to its vhost, rotation,
# the plan's vhost limits enforced and changed by an update, parameters refused, the server's own
# reasons when it is unreachable or refuses the admin, an api_url ending in /api with public
# addresses, the AMQP close code at unbind, and a stray user leaving with its vhost.
# Usage: integration.sh BROKER_BINARY REPO_ROOT   (OSB_HELPER_AMQP_CLIENT: the AMQP test client)
# shellcheck source=../../../tests/lib/broker.sh
. "${2:?usage: integration.sh BROKER_BINARY REPO_ROOT}/tests/lib/broker.sh"
t_init rabbitmq-it
amqp=${OSB_HELPER_AMQP_CLIENT:?OSB_HELPER_AMQP_CLIENT must name the AMQP test client}
use_catalog "$ROOT/catalog/rabbitmq.json"
read -r standard large < <(plan_id standard large)
limit() { plan_setting "$1" "$2"; }
admin_pw=$(secret)
SECRET_WORDS=$admin_pw

step "start RabbitMQ on loopback"
t_on_exit "$ROOT/scripts/rabbitmq-stop.sh" "$WORK/rmq"
"$ROOT/scripts/rabbitmq-start.sh" "$WORK/rmq" "$admin_pw" >"$WORK/rmq.env" 2>/dev/null || fail "RabbitMQ did not start"
amqp_port=$(sed -n 's/^AMQP_PORT=//p' "$WORK/rmq.env")
mgmt_port=$(sed -n 's/^MGMT_PORT=//p' "$WORK/rmq.env")
# One management API call as the admin: sets $astatus and $abody.
admin() {
	astatus=$(curl -s -o "$WORK/abody" -w '%{http_code}' -u "admin:$admin_pw" -X "$1" -H 'Content-Type: application/json' \
		${3:+--data "$3"} "http://127.0.0.1:$mgmt_port/api$2") || astatus=000
	abody=$(cat "$WORK/abody")
}
vhost_exists() { admin GET "/vhosts/$1"; [ "$astatus" = 200 ]; }
user_exists() { admin GET "/users/$1"; [ "$astatus" = 200 ]; }
vhost_limits() {
	admin GET "/vhost-limits/$1"
	jq -r '.[0].value | "\(.["max-connections"]) \(.["max-queues"])"' <<<"$abody"
}
uri_with_vhost() { jq -r --arg v "$2" '"amqp://\(.username):\(.password)@127.0.0.1:\(.protocols.amqp.port)/\($v)"' <<<"$1"; }
driver() { jq -cn --arg api "$1" --argjson amqp "$amqp_port" '{api_url: $api, admin_user: "admin", amqp_port: $amqp}'; }

step "start the broker, the admin password from the environment"
export OSB_DRIVER_ADMIN_PASSWORD=$admin_pw
broker_config "$(driver "http://127.0.0.1:$mgmt_port")"
broker_start
wait_ready 200

step "1. provision gives a dashboard and a vhost with the plan's limits"
i1=$(new_id)
v1=$(instance_name "$i1")
osb PUT "/v2/service_instances/$i1" "$(provision_body "$standard")"
expect_status 201 "provision $i1"
[ "$(jq -r .dashboard_url <<<"$body")" = "http://127.0.0.1:$mgmt_port/#/login/" ] || fail "unexpected dashboard_url: $body"
[ "$(vhost_limits "$v1")" = "$(limit "$standard" max_connections) $(limit "$standard" max_queues)" ] ||
	fail "expected the standard plan's limits on $v1, got '$(vhost_limits "$v1")'"

step "2. the credentials have the shape Cloud Foundry and PaaS-TA apps read"
b1=$(new_id)
c1=$(bind "$i1" "$b1" "$standard")
user1=$(jq -r .username <<<"$c1")
pw1=$(jq -r .password <<<"$c1")
uri1="amqp://$user1:$pw1@127.0.0.1:$amqp_port/$v1"
api1="http://$user1:$pw1@127.0.0.1:$mgmt_port/api/"
[ "${#pw1}" = 32 ] || fail "expected a 32-character password"
[ "$(jq -c '[.uri, .uris, .hostname, .hostnames, .vhost, .http_api_uri, .http_api_uris, .ssl]' <<<"$c1")" = \
	"$(jq -cn --arg u "$uri1" --arg a "$api1" --arg v "$v1" '[$u, [$u], "127.0.0.1", ["127.0.0.1"], $v, $a, [$a], false]')" ] ||
	fail "unexpected uri/uris/hostname/hostnames/vhost/http_api_uri(s)/ssl"
[ "$(jq -c '.protocols.amqp | [.host, .hosts, .port, .username, .vhost, .uri, .uris, .ssl, .password]' <<<"$c1")" = \
	"$(jq -cn --arg u "$uri1" --arg v "$v1" --arg n "$user1" --arg p "$pw1" --argjson port "$amqp_port" \
		'["127.0.0.1", ["127.0.0.1"], $port, $n, $v, $u, [$u], false, $p]')" ] || fail "unexpected protocols.amqp"
[ "$(jq -c '.protocols.management | [.host, .port, .path, .uri, .ssl]' <<<"$c1")" = \
	"$(jq -cn --arg a "$api1" --argjson port "$mgmt_port" '["127.0.0.1", $port, "/api/", $a, false]')" ] ||
	fail "unexpected protocols.management"
out=$("$amqp" roundtrip "$uri1" orders "hello") || fail "binding 1: an AMQP round trip failed: $out"

step "3. the binding's http_api_uri sees its own vhost only"
[ "$(curl -s -o "$WORK/q" -w '%{http_code}' "${api1}queues/$v1")" = 200 ] || fail "http_api_uri: cannot list its queues"
jq -e '[.[].name] | index("orders") != null' "$WORK/q" >/dev/null || fail "http_api_uri: queue orders not listed"
[ "$(curl -s -o /dev/null -w '%{http_code}' "${api1}queues/%2F")" = 401 ] || fail "http_api_uri: vhost / must be refused"
[ "$(curl -s -o /dev/null -w '%{http_code}' "${api1}users")" = 401 ] || fail "http_api_uri: users must be refused"
out=$("$amqp" login "$(uri_with_vhost "$c1" "%2F")") && fail "binding 1 logged in to vhost /: $out"

step "4. rotation makes a user of its own; the predecessor works until unbound"
b2=$(new_id)
c2=$(rotate "$i1" "$b2" "$standard" "$b1")
[ "$(jq -r .username <<<"$c2")" = "$(binding_name "$b2")" ] || fail "rotation: expected a new user"
out=$("$amqp" roundtrip "$(jq -r .uri <<<"$c2")" orders "rotated") || fail "rotation: the successor failed: $out"
out=$("$amqp" login "$uri1") || fail "rotation: the predecessor must work until unbound: $out"

step "5. unbind closes an open connection with CONNECTION_FORCED and refuses the login after"
"$amqp" hold "$uri1" 60 "$WORK/held" >"$WORK/hold.out" 2>&1 &
holder=$!
for _ in $(seq 1 200); do [ -f "$WORK/held" ] && break; sleep 0.05; done
[ -f "$WORK/held" ] || fail "binding 1 could not hold a connection open: $(cat "$WORK/hold.out")"
unbind "$i1" "$b1" "$standard"
rc=0
wait "$holder" || rc=$?
[ "$rc" = 3 ] && grep -q 'closed: 320 CONNECTION_FORCED' "$WORK/hold.out" || fail "unbind: expected 320 CONNECTION_FORCED: $(cat "$WORK/hold.out")"
out=$("$amqp" login "$uri1") && fail "unbind: binding 1 still logs in: $out"
grep -q 'refused: 403 ACCESS_REFUSED' <<<"$out" || fail "unbind: expected 403 ACCESS_REFUSED, got: $out"
! user_exists "$user1" || fail "unbind: user $user1 is still there"

step "6. the plan's limits are enforced; an update applies the other plan's, both ways"
b3=$(new_id)
uri3=$(jq -r .uri <<<"$(bind "$i1" "$b3" "$standard")")
conns=$(limit "$standard" max_connections)
queues=$(limit "$standard" max_queues)
out=$("$amqp" connections "$uri3" $((conns + 5))) || fail "connections run failed: $out"
grep -q "^opened $conns\$" <<<"$out" || fail "expected exactly $conns connections (plan standard), got: $out"
grep -q 'refused: 530 NOT_ALLOWED.*connection limit' <<<"$out" || fail "expected 530 'connection limit', got: $out"
out=$("$amqp" queues "$uri3" $((queues + 5)) small) || fail "queues run failed: $out"
grep -q 'queue limit' <<<"$out" || fail "expected a 'queue limit' refusal, got: $out"
osb PATCH "/v2/service_instances/$i1" "$(update_body "$large")"
expect_status 200 "update $i1 to large"
[ "$(vhost_limits "$v1")" = "$(limit "$large" max_connections) $(limit "$large" max_queues)" ] || fail "update: limits not large's"
out=$("$amqp" connections "$uri3" $((conns + 5))) || fail "update: connections run failed: $out"
grep -q "^opened $((conns + 5))\$" <<<"$out" || fail "update: expected $((conns + 5)) connections under plan large, got: $out"
osb PATCH "/v2/service_instances/$i1" "$(update_body "$standard")"
expect_status 200 "update $i1 back to standard"
[ "$(vhost_limits "$v1")" = "$conns $queues" ] || fail "update: the standard limits are not back"

step "7. parameters are refused and change nothing"
i2=$(new_id)
osb PUT "/v2/service_instances/$i2" "$(provision_body "$standard" '{"vhost":"/"}')"
expect_status 400 "provision with parameters"
! vhost_exists "$(instance_name "$i2")" || fail "a refused provision made a vhost"
osb PUT "/v2/service_instances/$i1/service_bindings/$(new_id)" "$(bind_body "$standard" '{"tags":"administrator"}')"
expect_status 400 "bind with parameters"

step "8. deprovision takes a stray user of the vhost with it, and leaves nothing named osb_"
stray=osb_00000000000000000abc
admin PUT "/users/$stray" '{"password":"stray-pass-123","tags":""}'
admin PUT "/permissions/$v1/$stray" '{"configure":".*","write":".*","read":".*"}'
deprovision "$i1" "$standard"
! vhost_exists "$v1" || fail "deprovision: vhost $v1 is left"
! user_exists "$stray" || fail "deprovision: $stray (permissions only on $v1) is left"
admin GET "/users?columns=name"
[ -z "$(jq -r '.[].name | select(startswith("osb_"))' <<<"$abody")" ] || fail "deprovision: osb_ users are left"

step "9. unreachable RabbitMQ and a refused admin get the server's reason, never the password"
broker_stop
BROKER_LOG=$WORK/broker2.log
broker_config "$(driver "http://127.0.0.1:$(free_port)")"
broker_start
wait_ready 503
osb PUT "/v2/service_instances/$(new_id)" "$(provision_body "$standard")"
[ "$status" -ge 500 ] && grep -qi 'cannot reach the RabbitMQ management API' <<<"$body" || fail "unreachable: $status $body"
broker_stop
BROKER_LOG=$WORK/broker3.log
broker_config "$(driver "http://127.0.0.1:$mgmt_port")"
OSB_DRIVER_ADMIN_PASSWORD=wrong-password-123 broker_start
wait_ready 503
osb PUT "/v2/service_instances/$(new_id)" "$(provision_body "$standard")"
[ "$status" -ge 500 ] && grep -q 'admin credentials' <<<"$body" || fail "wrong admin password: $status $body"
! grep -q wrong-password-123 <<<"$body" "$BROKER_LOG" || fail "the wrong password leaked"
broker_stop

step "10. an api_url ending in /api works; public_host and management_public_url shape the credentials"
BROKER_LOG=$WORK/broker4.log
broker_config "$(driver "http://127.0.0.1:$mgmt_port/api/" |
	jq -c '. + {public_host: "amqp.example.test", management_public_url: "https://mq-ui.example.test:8443/rabbit/"}')"
broker_start
wait_ready 200
i5=$(new_id)
v5=$(instance_name "$i5")
osb PUT "/v2/service_instances/$i5" "$(provision_body "$standard")"
expect_status 201 "provision through an api_url ending in /api"
[ "$(jq -r .dashboard_url <<<"$body")" = "https://mq-ui.example.test:8443/rabbit/#/login/" ] || fail "dashboard_url: $body"
b5=$(new_id)
c5=$(bind "$i5" "$b5" "$standard")
u5=$(binding_name "$b5")
got=$(jq -c '[.hostname, .uri, .http_api_uri, .protocols.amqp.host, .protocols.management.host,
	.protocols.management.port, .protocols.management.path, .protocols.management.ssl]' <<<"$c5" |
	sed "s/$(jq -r .password <<<"$c5")/PW/g")
want="[\"amqp.example.test\",\"amqp://$u5:PW@amqp.example.test:$amqp_port/$v5\",\"https://$u5:PW@mq-ui.example.test:8443/rabbit/api/\","
want+="\"amqp.example.test\",\"mq-ui.example.test\",8443,\"/rabbit/api/\",true]"
[ "$got" = "$want" ] || fail "public addresses: expected $want, got $got"
out=$("$amqp" login "amqp://$u5:$(jq -r .password <<<"$c5")@127.0.0.1:$amqp_port/$v5") || fail "the binding cannot log in: $out"
unbind "$i5" "$b5" "$standard"
deprovision "$i5" "$standard"
! vhost_exists "$v5" || fail "vhost $v5 is left"

step "no secret in the logs; the broker stops cleanly"
no_secret_in "$WORK"/broker*.log
broker_stop
echo "PASS: rabbitmq broker integration test"
