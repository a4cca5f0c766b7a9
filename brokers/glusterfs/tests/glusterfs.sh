#!/usr/bin/env bash
# What only GlusterFS has (the driver contract itself is tests/contract/contract.sh): the volume's
# TLS settings, the binding's identity (a certificate of the broker's CA whose CN the volume
# admits; another CA's certificate with the same CN is refused; a new bind of an old binding id
# gets a new CN), volume_mounts from bind parameters and bad parameters refused with nothing
# changed, the plan's quota enforced and changed live by a plan update, deprovision deleting the
# brick and its data, a brick left without a volume purged by the reconciler, bad config, and a
# frozen glusterd (503 at once, bounded failures, back on its own).
# Usage: glusterfs.sh BROKER_BINARY REPO_ROOT
BROKER_BIN=${1:?usage: glusterfs.sh BROKER_BINARY REPO_ROOT}
ROOT=${2:?repo root}
# shellcheck source=../../../tests/lib/broker.sh
. "$ROOT/tests/lib/broker.sh"
# shellcheck source=adapter.sh
. "$ROOT/brokers/glusterfs/tests/adapter.sh"
t_init glusterfs-it
need glusterd gluster openssl
SERVER_DIR=$WORK/server
# The shipped catalog plus a plan of 10 MB, to fill its quota quickly.
jq '.services[0].plans += [.services[0].plans[0] | .id = "0c7c2f4e-tiny-plan-of-the-test" | .name = "tiny" |
	."x-osb".quota = "10MB"]' "$ROOT/catalog/glusterfs.json" >"$WORK/catalog.json"
use_catalog "$WORK/catalog.json"
tiny=$(plan_id tiny)
small=$(plan_id small)
cli() { _gl_cli "$@"; }
info() { cli volume info "$1" 2>&1 || true; }

step "0. bad driver settings are refused by name"
broker_config "$(adapter_driver_config 24007 x | jq -c '.brick_dir = "bricks"')"
broker_run --check-config && fail "--check-config with a relative brick_dir passed"
grep -q 'driver.brick_dir must be a plain absolute path' "$WORK/broker-runs.log" ||
	fail "the bad brick_dir is not named"
broker_config "$(adapter_driver_config 24007 x | jq -c '.brick_host = "-x;y"')"
broker_run --check-config && fail "--check-config with a bad brick_host passed"
grep -q 'driver.brick_host must be a host name' "$WORK/broker-runs.log" || fail "the bad brick_host is not named"
broker_config "$(adapter_driver_config 24007 x)" '{"timeouts": {"sync_s": 5}}'
t_on_exit adapter_server_stop "$SERVER_DIR"
adapter_server_start "$SERVER_DIR" 24007 x
broker_start
wait_ready 200 10

step "1. a volume never serves without TLS: client.ssl, server.ssl, only the bricks' CN admitted"
i1=$(new_id)
i2=$(new_id)
v1=$(instance_name "$i1")
provision "$i1" "$tiny"
provision "$i2" "$small"
out=$(info "$v1")
for want in "Status: Started" "server.ssl: on" "client.ssl: on" "auth.ssl-allow: osb-glusterfs-server" \
	"features.quota: on" "Brick1: $_gl_addr:$SERVER_DIR/bricks/$v1"; do
	grep -qxF "$want" <<<"$out" || fail "volume $v1: expected '$want' in: $out"
done

step "2. bad bind input: a clear 4xx, nothing changes on the server"
before=$(info "$v1")
osb PUT "/v2/service_instances/$i1/service_bindings/$(new_id)" \
	"$(jq -cn --arg s "$SERVICE_ID" --arg p "$tiny" '{service_id: $s, plan_id: $p}')"
expect_status 422 "bind without an app"
[ "$(jq -r .error <<<"$body")" = RequiresApp ] || fail "bind without an app: expected RequiresApp, got $body"
for params in '{"container_dir": "data"}' '{"container_dir": "/a/../b"}' '{"container_dir": "/a b"}' \
	'{"mode": "w"}' '{"mode": ["r"]}' '{"volume": "osb_0123456789abcdef0123"}'; do
	osb PUT "/v2/service_instances/$i1/service_bindings/$(new_id)" "$(bind_body "$tiny" "$params")"
	expect_status 400 "bind with $params"
	jq -e '.description | length > 0' <<<"$body" >/dev/null || fail "bind with $params: no description: $body"
done
[ "$(info "$v1")" = "$before" ] || fail "refused binds changed the volume: $(info "$v1")"

step "3. the binding: an identity of the broker's CA, volume_mounts from the bind parameters"
b1=$(new_id)
c1=$(bind "$i1" "$b1" "$tiny" '{"container_dir": "/data/shared", "mode": "r"}')
cn1=$(jq -r .username <<<"$c1")
[[ $cn1 =~ ^$(binding_name "$b1")-[0-9a-f]{16}$ ]] || fail "expected the CN <binding name>-<16 hex>, got $cn1"
[ "$(jq -r .uri <<<"$c1")" = "glusterfs://$_gl_addr:24007/$v1" ] || fail "unexpected uri $(jq -r .uri <<<"$c1")"
tls=$(_gl_tls "$c1")
openssl verify -CAfile "$SERVER_DIR/tls/ca.pem" "$tls/cert.pem" >/dev/null || fail "the certificate is not the CA's"
openssl x509 -in "$tls/cert.pem" -noout -subject | grep -q "CN = $cn1" || fail "the certificate's CN is not $cn1"
openssl x509 -in "$tls/cert.pem" -noout -ext extendedKeyUsage | grep -q 'TLS Web Client Authentication' ||
	fail "the certificate is not for client authentication"
[ "$(openssl pkey -in "$tls/key.pem" -pubout)" = "$(openssl x509 -in "$tls/cert.pem" -noout -pubkey)" ] ||
	fail "the password is not the certificate's private key"
grep -qxF "auth.ssl-allow: osb-glusterfs-server,$cn1" <<<"$(info "$v1")" || fail "the volume does not admit $cn1"
m=$(jq -c '.volume_mounts[0]' "$WORK/bind-$b1")
jq -e --arg v "$v1" --arg cn "$cn1" --arg id "$i1" --argjson c "$c1" '.driver == "glusterfsdriver" and
	.container_dir == "/data/shared" and .mode == "r" and .device_type == "shared" and
	.device.volume_id == "\($id)-\($cn)" and .device.mount_config.source == "\($c.host):/\($v)" and
	.device.mount_config.volume == $v and .device.mount_config.volfile_port == 24007 and
	.device.mount_config.tls_cert == $c.tls_cert and .device.mount_config.tls_key == $c.password and
	.device.mount_config.tls_ca == $c.tls_ca' <<<"$m" >/dev/null || fail "unexpected volume mount: $m"
b2=$(new_id)
c2=$(bind "$i1" "$b2" "$tiny")
jq -e --arg id "$i1" '.volume_mounts[0] | .container_dir == "/var/vcap/data/\($id)" and .mode == "rw"' \
	"$WORK/bind-$b2" >/dev/null ||
	fail "expected the default container_dir and mode rw: $(jq -c .volume_mounts "$WORK/bind-$b2")"
adapter_access "$c1" "$c1" hello world >/dev/null || fail "binding 1 cannot write"
[ "$(adapter_access "$c2" "$c1" hello)" = world ] || fail "binding 2 cannot read what binding 1 wrote"

step "4. the identity is the CA and the CN: another CA's certificate with the same CN is refused"
fake=$WORK/fake-tls
mkdir -p "$fake"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj "/CN=$cn1" \
	-keyout "$fake/key.pem" -out "$fake/cert.pem" 2>/dev/null
cp "$tls/ca.pem" "$fake/ca.pem"
out=$("$_gl_client" get "$_gl_addr" 24007 "$v1" "$fake" hello 2>&1) &&
	fail "a self-made certificate with CN $cn1 read the volume: $out"

step "5. the plan's quota is enforced; a plan update changes it live"
full=
for n in $(seq 1 20); do
	rc=0
	"$_gl_client" fill "$_gl_addr" 24007 "$v1" "$tls" "fill-$n" 4 >/dev/null 2>"$WORK/fill.err" || rc=$?
	[ "$rc" = 4 ] && { full=$n; break; }
	[ "$rc" = 0 ] || fail "fill: $(cat "$WORK/fill.err")"
done
[ -n "$full" ] || fail "20 x 4 MiB written into a 10 MB volume: the quota is not enforced"
echo "   quota refused the writes after $((full - 1)) x 4 MiB"
osb PATCH "/v2/service_instances/$i1" "$(jq -cn --arg s "$SERVICE_ID" --arg p "$small" '{service_id: $s, plan_id: $p}')"
expect_status 200 "update to the 1 GB plan"
ok=
for _ in $(seq 1 40); do
	"$_gl_client" fill "$_gl_addr" 24007 "$v1" "$tls" after-update 4 >/dev/null 2>&1 && { ok=1; break; }
	sleep 0.25
done
[ -n "$ok" ] || fail "after the update to 1 GB, 4 MiB more are still refused"

step "6. a new bind of an unbound binding id: a new CN; the old certificate stays refused"
unbind "$i1" "$b1" "$small"
c1b=$(bind "$i1" "$b1" "$small")
[ "$(jq -r .username <<<"$c1b")" != "$cn1" ] || fail "the new bind got the old CN $cn1 back"
out=$(adapter_access "$c1" "$c1" hello 2>&1) && fail "the certificate of the first bind of $b1 still reads: $out"
[ "$(adapter_access "$c1b" "$c1b" hello)" = world ] || fail "the new bind of $b1 cannot read"

step "7. deprovision deletes the volume, its brick and every file in it"
deprovision "$i1" "$small"
grep -q 'does not exist' <<<"$(info "$v1")" || fail "volume $v1 still exists: $(info "$v1")"
[ ! -e "$SERVER_DIR/bricks/$v1" ] || fail "the brick $SERVER_DIR/bricks/$v1 is still there"

step "8. a brick left without a volume is an orphan the reconciler purges"
orphan=osb_00000000000000000bad
mkdir -p "$SERVER_DIR/bricks/$orphan/data"
broker_run --reconcile=purge || fail "--reconcile=purge failed: $out"
grep -q "\"orphan\":\"$orphan\",\"kind\":\"instance\",\"purged\":true" <<<"$out" || fail "orphan brick not purged: $out"
[ ! -e "$SERVER_DIR/bricks/$orphan" ] || fail "the orphan brick is still there"

step "9. a frozen glusterd: 503 at once, operations fail within the deadline, back when it thaws"
expect_frozen_server "$(cat "$SERVER_DIR/glusterd.pid")" 5xx \
	PUT "/v2/service_instances/$i2/service_bindings/$(new_id)" "$(bind_body "$small")"
b3=$(new_id)
c3=$(bind "$i2" "$b3" "$small")
adapter_access "$c3" "$c3" after-thaw yes >/dev/null || fail "after the thaw a new binding cannot write"
unbind "$i2" "$b3" "$small"
deprovision "$i2" "$small"
[ -z "$(adapter_tenants)" ] || fail "left on the server: $(adapter_tenants | tr '\n' ' ')"
no_secret_in "$BROKER_LOG" "$WORK/broker-runs.log"
broker_stop
echo "PASS: glusterfs integration"
