#!/usr/bin/env bash
# What only Mosquitto has (the driver contract itself is tests/contract/contract.sh): the credential
# shape; the role's ACLs topic by topic with the server's own clients (wildcards, $SYS, $CONTROL,
# other trees); a client that takes over another tenant's client id gets none of its messages even
# on a server whose default ACL lets clients receive everything; deprovision clears hundreds of
# retained messages; bad input changes nothing; a frozen server gives bounded failures; a dedicated
# plan's limits (connections, packet size) enforced by its own mosquitto while the admin socket
# still works; the broker over TLS, and a CA that does not sign the server's certificate refused.
# Usage: integration.sh BROKER_BINARY REPO_ROOT
# shellcheck disable=SC2034,SC2016 # BROKER_BIN and SECRET_WORDS are the library's; topics start with MQTT's $
BROKER_BIN=${1:?usage: integration.sh BROKER_BINARY REPO_ROOT}
ROOT=${2:?repo root}
# shellcheck source=../../../tests/lib/broker.sh
. "$ROOT/tests/lib/broker.sh"
t_init mqtt-it
need mosquitto_pub mosquitto_sub mosquitto_rr
# A catalog whose dedicated plan has tiny limits, so that the test can reach them.
jq '(.services[0].plans[] | select(.name == "dedicated-small") |
	."x-osb") += {max_connections: 2, max_packet_size: 2048}' \
	"$ROOT/catalog/mqtt.json" >"$WORK/catalog.json"
use_catalog "$WORK/catalog.json"
shared=$(plan_id shared)
dedicated=$(plan_id dedicated-small)
admin_pw=$(secret)
SECRET_WORDS=$admin_pw
port=$(free_port)
range=$(free_range 4)

dynsec() {
	mosquitto_rr -h 127.0.0.1 -p "$port" -u admin -P "$admin_pw" -t '$CONTROL/dynamic-security/v1' \
		-e '$CONTROL/dynamic-security/v1/response' -W 5 -m "{\"commands\":$1}"
}
# login CREDS: the client options of a binding (MQTT 5, so that refusals come back as reason codes).
login() { jq -r '"-h", .host, "-p", (.port | tostring), "-u", .username, "-P", .password, "-V", "5"' <<<"$1"; }
# pub CREDS TOPIC MESSAGE [ARGS...]: prints what mosquitto_pub said; fails when it was refused.
pub() {
	local -a l
	local out
	mapfile -t l < <(login "$1")
	out=$(timeout 10 mosquitto_pub "${l[@]}" -q 1 -t "$2" -m "$3" "${@:4}" 2>&1) || { echo "$out"; return 1; }
	echo "$out"
	! grep -qiE 'denied|failed|error|not authori' <<<"$out"
}
# sub CREDS FILTER [ARGS...]: the first message (retained only) or what mosquitto_sub said; fails when refused.
sub() {
	local -a l
	local out
	mapfile -t l < <(login "$1")
	out=$(timeout 10 mosquitto_sub "${l[@]}" -C 1 -W 2 -t "$2" "${@:3}" 2>&1) || { echo "$out"; return 1; }
	echo "$out"
	! grep -qiE 'denied|failed|error|not authori' <<<"$out"
}

t_on_exit bash "$ROOT/brokers/mqtt/server.sh" stop "$WORK/mosquitto"
bash "$ROOT/brokers/mqtt/server.sh" start "$WORK/mosquitto" "$port" "$admin_pw" >/dev/null
broker_config "$(jq -cn --argjson port "$port" --arg pw "$admin_pw" '{port: $port, admin_password: $pw}')" \
	"$(jq -cn --argjson a "$range" '{timeouts: {sync_s: 3}, dedicated: {port_range: [$a, ($a + 3)]}}')"
broker_start
wait_ready 200

step "1. credentials: host, port, user, password, uri, topic_root, ssl and one tcp endpoint"
i1=$(new_id)
i2=$(new_id)
t1=$(instance_name "$i1")
t2=$(instance_name "$i2")
provision "$i1" "$shared"
provision "$i2" "$shared"
b1=$(new_id)
c1=$(bind "$i1" "$b1" "$shared")
c2=$(bind "$i2" "$(new_id)" "$shared")
expect_login_credentials "$b1" mqtt "$port"
user1=$(jq -r .username <<<"$c1")
pass1=$(jq -r .password <<<"$c1")
[ "$(jq -r '"\(.topic_root) \(.ssl) \(.port | type) \(.hostname)"' <<<"$c1")" = "$t1 false number 127.0.0.1" ] ||
	fail "expected topic_root $t1, ssl false, a numeric port and hostname: $c1"

step "2. the role's ACLs: anything under topic_root/#, nothing else"
pub "$c1" "$t1/a/b" deep -r >/dev/null || fail "binding 1: publish under its tree"
[ "$(sub "$c1" "$t1/+/b" --retained-only)" = deep ] || fail "binding 1: a wildcard subscription inside its tree"
[ "$(sub "$c1" "$t1/#" --retained-only)" = deep ] || fail "binding 1: its whole tree"
for filter in '#' '+/a/b' "$t2/#" '$SYS/#' '$CONTROL/dynamic-security/v1/response' "${t1}x/#"; do
	out=$(sub "$c1" "$filter") && fail "binding 1: subscription to $filter not refused: $out"
done
for topic in "$t2/a" "${t1}x/a" outside '$CONTROL/dynamic-security/v1'; do
	out=$(pub "$c1" "$topic" x) && fail "binding 1: publish to $topic not refused: $out"
done
# An admin command sent by a tenant changes nothing.
evil='{"commands":[{"command":"createClient","username":"evil","password":"evil"}]}'
pub "$c1" '$CONTROL/dynamic-security/v1' "$evil" >/dev/null || true
! dynsec '[{"command":"listClients"}]' | grep -q '"evil"' || fail "a tenant's \$CONTROL command made a client"

step "3. a tenant taking over another's client id gets none of its messages (server default: receive allowed)"
dynsec '[{"command":"getDefaultACLAccess"}]' | grep -q '"acltype":"publishClientReceive","allow":true' ||
	fail "the test server should keep the plugin's default (receiving allowed) for this step to mean something"
mapfile -t l1 < <(login "$c1")
mapfile -t l2 < <(login "$c2")
timeout 5 mosquitto_sub "${l1[@]}" -i shared-id -c -q 1 -t "$t1/inbox" -E >/dev/null ||
	fail "binding 1: durable session"
pub "$c1" "$t1/inbox" queued-while-away >/dev/null || fail "binding 1: publish to its inbox"
timeout 5 stdbuf -oL mosquitto_sub "${l2[@]}" -i shared-id -c -q 1 -t "$t2/x" -W 3 >"$WORK/takeover" 2>&1 &
taker=$!
sleep 0.5
pub "$c1" "$t1/inbox" sent-after-takeover >/dev/null || fail "binding 1: publish after the takeover"
wait "$taker" || true
! grep -q 'queued-while-away\|sent-after-takeover' "$WORK/takeover" ||
	fail "takeover: tenant 2 got tenant 1's messages: $(cat "$WORK/takeover")"

step "4. bad input is refused with a JSON error and changes nothing"
before=$(dynsec '[{"command":"listClients"},{"command":"listRoles"}]' | jq -c '[.responses[].data.totalCount]')
osb PUT "/v2/service_instances/$i1/service_bindings/$(new_id)" "$(bind_body "$shared" '{"acl":"#"}')"
expect_status 400 "bind with an unknown parameter"
jq -e '.description | length > 0' <<<"$body" >/dev/null || fail "bind with an unknown parameter: no description"
osb PUT "/v2/service_instances/$(new_id)" "$(provision_body "$shared" '{"topic_root":"#"}')"
expect_status 400 "provision with a parameter"
osb PUT "/v2/service_instances/$(new_id)" '{"service_id":"x","plan_id":"y"'
expect_status 400 "provision with a broken body"
[ "$(dynsec '[{"command":"listClients"},{"command":"listRoles"}]' |
	jq -c '[.responses[].data.totalCount]')" = "$before" ] ||
	fail "bad input changed the server's clients or roles"

step "5. deprovision clears every retained message of the instance (hundreds), nothing of the other"
for n in $(seq 1 300); do printf '%s/bulk/%d\0' "$t1" "$n"; done |
	xargs -0 -P 4 -n 1 -I{} mosquitto_pub -h 127.0.0.1 -p "$port" -u "$user1" -P "$pass1" -q 0 -r -t {} -m x
pub "$c2" "$t2/keep" tenant2 -r >/dev/null || fail "binding 2: retained message"
deprovision "$i1" "$shared"
grep -q "\"mqtt.deprovision\".*$t1.* 30[0-9] retained messages removed" "$BROKER_LOG" ||
	fail "deprovision: expected 300+ retained messages removed in the log"
left=$(timeout 10 mosquitto_sub -h 127.0.0.1 -p "$port" -u admin -P "$admin_pw" -t "$t1/#" --retained-only -W 1 \
	2>/dev/null | wc -l || true)
[ "$left" = 0 ] || fail "deprovision: $left retained messages of $t1 left"
! dynsec '[{"command":"listRoles"},{"command":"listClients"}]' | grep -q "$t1\|$user1" ||
	fail "deprovision: the role or a client is left"
[ "$(sub "$c2" "$t2/keep" --retained-only)" = tenant2 ] || fail "deprovision of 1 broke tenant 2"

step "6. a frozen server: health and operations fail in bounded time, then recover"
expect_frozen_server "$(cat "$WORK/mosquitto/mosquitto.pid")" 5xx \
	PUT "/v2/service_instances/$i2/service_bindings/$(new_id)" "$(bind_body "$shared")"
[ "$(sub "$c2" "$t2/keep" --retained-only)" = tenant2 ] || fail "after the freeze: binding 2 cannot read"

step "7. a dedicated plan's limits hold: 2 connections, 2 KB packets; the broker still administers it"
i3=$(new_id)
provision "$i3" "$dedicated"
c3=$(bind "$i3" "$(new_id)" "$dedicated")
t3=$(instance_name "$i3")
mapfile -t l3 < <(login "$c3")
holds=()
for n in 1 2; do
	timeout 30 stdbuf -oL mosquitto_sub "${l3[@]}" -d -t "$t3/hold" >"$WORK/hold-$n" 2>&1 &
	holds+=($!)
	t_on_exit kill $!
done
for _ in $(seq 1 100); do
	[ "$(cat "$WORK"/hold-* | grep -c 'received SUBACK')" = 2 ] && break
	sleep 0.05
done
[ "$(cat "$WORK"/hold-* | grep -c 'received SUBACK')" = 2 ] || fail "dedicated: two connections did not come up"
out=$(sub "$c3" "$t3/x") && fail "a third connection to a plan of 2 was accepted: $out"
# With every slot taken, the broker still binds and unbinds: its admin has a socket of its own.
b4=$(new_id)
bind "$i3" "$b4" "$dedicated" >/dev/null
unbind "$i3" "$b4" "$dedicated"
kill "${holds[@]}"
wait "${holds[@]}" 2>/dev/null || true
big=$(head -c 4096 /dev/zero | tr '\0' x)
pub "$c3" "$t3/small" ok >/dev/null || fail "dedicated: a small publish"
# MQTT 5 clients drop it themselves (the CONNACK says the limit); an MQTT 3.1.1 client gets disconnected.
out=$(pub "$c3" "$t3/big" "$big" -V 311) && fail "dedicated: a 4 KB publish passed a 2 KB packet limit: $out"
deprovision "$i3" "$dedicated"

step "8. over TLS: the admin connection, the bindings' mqtts:// credentials, the purger; a wrong CA is refused"
tls_port=$(free_port)
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/ca.key" -out "$WORK/ca.crt" -days 1 \
	-subj /CN=osb-test-ca 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout "$WORK/mosquitto/tls.key" -out "$WORK/tls.csr" \
	-subj /CN=127.0.0.1 2>/dev/null
openssl x509 -req -in "$WORK/tls.csr" -CA "$WORK/ca.crt" -CAkey "$WORK/ca.key" -CAcreateserial -days 1 \
	-extfile <(echo subjectAltName=IP:127.0.0.1) -out "$WORK/mosquitto/tls.crt" 2>/dev/null
printf 'listener %d 127.0.0.1\ncertfile %s\nkeyfile %s\n' "$tls_port" "$WORK/mosquitto/tls.crt" \
	"$WORK/mosquitto/tls.key" >"$WORK/mosquitto/conf.d/tls.conf"
bash "$ROOT/brokers/mqtt/server.sh" stop "$WORK/mosquitto"
bash "$ROOT/brokers/mqtt/server.sh" start "$WORK/mosquitto" "$port" "$admin_pw" >/dev/null
broker_stop
broker_config "$(jq -cn --argjson port "$tls_port" --arg pw "$admin_pw" --arg ca "$WORK/ca.crt" \
	'{port: $port, admin_password: $pw, tls: true, ca_file: $ca}')" '{"timeouts": {"sync_s": 5}}'
BROKER_LOG_PLAIN=$BROKER_LOG
BROKER_LOG=$WORK/broker-tls.log
broker_start
wait_ready 200
i4=$(new_id)
provision "$i4" "$shared"
c4=$(bind "$i4" "$(new_id)" "$shared")
[ "$(jq -r '"\(.ssl) \(.uri | split(":")[0])"' <<<"$c4")" = "true mqtts" ] ||
	fail "TLS: expected ssl true and an mqtts:// uri: $c4"
pub "$c4" "$(jq -r .topic_root <<<"$c4")/kept" over-tls -r --cafile "$WORK/ca.crt" >/dev/null ||
	fail "TLS: publish with the credentials"
deprovision "$i4" "$shared"
grep -q "\"mqtt.deprovision\".* 1 retained messages removed" "$BROKER_LOG" ||
	fail "TLS: the purger did not clear the message"
broker_stop
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/other.key" -out "$WORK/other.crt" -days 1 \
	-subj /CN=other 2>/dev/null
broker_config "$(jq -cn --argjson port "$tls_port" --arg pw "$admin_pw" --arg ca "$WORK/other.crt" \
	'{port: $port, admin_password: $pw, tls: true, ca_file: $ca}')"
broker_start
wait_ready 503 5
grep -q 'TLS' "$WORK/ready" ||
	fail "TLS with a CA that did not sign the server: expected a TLS error, got $(cat "$WORK/ready")"

step "no secret in the logs; the broker stops cleanly"
no_secret_in "$BROKER_LOG_PLAIN" "$BROKER_LOG" "$WORK/mosquitto/mosquitto.log"
broker_stop
echo "PASS: mqtt broker integration test"
