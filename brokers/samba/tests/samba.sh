#!/usr/bin/env bash
# What only Samba has (the driver contract itself is tests/contract/contract.sh): the share's
# definition, group and directory; read-only bindings refused writes by Samba; files shared by
# the bindings of one share; volume_mounts in smbdriver's shape and credentials; bad bind input
# refused with nothing changed; the plan's connection limit enforced and changed live by a plan
# update; unbind removing the Unix account; deprovision deleting share, group and files; a share
# directory left behind purged; bad config; a frozen smbd (503 at once, bounded failures, back on
# its own).
# Usage: samba.sh BROKER_BINARY REPO_ROOT
BROKER_BIN=${1:?usage: samba.sh BROKER_BINARY REPO_ROOT}
ROOT=${2:?repo root}
# shellcheck source=../../../tests/lib/broker.sh
. "$ROOT/tests/lib/broker.sh"
# shellcheck source=adapter.sh
. "$ROOT/brokers/samba/tests/adapter.sh"
t_init samba-it
need smbd smbclient net pdbedit
SERVER_DIR=$WORK/server
SERVER_PORT=$(free_port)
# The shipped catalog plus a plan of one connection, to reach its limit.
jq '.services[0].plans += [.services[0].plans[0] | .id = "5d0b1a52-single-connection-plan" | .name = "single" |
	."x-osb".max_connections = 1]' "$ROOT/catalog/samba.json" >"$WORK/catalog.json"
use_catalog "$WORK/catalog.json"
single=$(plan_id single)
standard=$(plan_id standard)
conf=$SERVER_DIR/smb.conf
showshare() { net -s "$conf" conf showshare "$1" 2>&1 || true; }
users() { pdbedit -s "$conf" -L 2>/dev/null | cut -d: -f1 | sort | tr '\n' ' '; }

step "0. bad driver settings are refused by name"
broker_config "$(adapter_driver_config "$SERVER_PORT" x | jq -c '.share_dir = "shares/../x"')"
broker_run --check-config && fail "--check-config with a relative share_dir passed"
grep -q 'driver.share_dir must be a plain absolute path' "$WORK/broker-runs.log" ||
	fail "the bad share_dir is not named"
broker_config "$(adapter_driver_config "$SERVER_PORT" x | jq -c '.smb_conf = "/etc/samba/smb.conf;x"')"
broker_run --check-config && fail "--check-config with a bad smb_conf passed"
grep -q 'driver.smb_conf must be a plain absolute path' "$WORK/broker-runs.log" || fail "the bad smb_conf is not named"
broker_config "$(adapter_driver_config "$SERVER_PORT" x)" '{"timeouts": {"sync_s": 5}}'
t_on_exit adapter_server_stop "$SERVER_DIR"
adapter_server_start "$SERVER_DIR" "$SERVER_PORT" x
broker_start
wait_ready 200 10

step "1. the share: valid users its group, the plan's limit, a setgid directory only the group reaches"
i1=$(new_id)
s1=$(instance_name "$i1")
provision "$i1" "$single"
out=$(showshare "$s1")
for want in "path = $SERVER_DIR/shares/$s1" "valid users = +$s1" "read only = No" "guest ok = No" \
	"max connections = 1"; do
	grep -qiF "$want" <<<"$out" || fail "share $s1: expected '$want' in: $out"
done
getent group "$s1" >/dev/null || fail "no Unix group $s1"
[ "$(stat -c '%a %U %G' "$SERVER_DIR/shares/$s1")" = "2770 root $s1" ] ||
	fail "share directory: expected mode 2770, root:$s1, got $(stat -c '%a %U %G' "$SERVER_DIR/shares/$s1")"
out=$(smbclient -N "//127.0.0.1/$s1" -p "$SERVER_PORT" -m SMB3 -c ls 2>&1) && fail "anonymous access to $s1: $out"

step "2. bad bind input: a clear 4xx, nothing changes on the server"
before="$(users)|$(showshare "$s1")"
osb PUT "/v2/service_instances/$i1/service_bindings/$(new_id)" \
	"$(jq -cn --arg s "$SERVICE_ID" --arg p "$single" '{service_id: $s, plan_id: $p}')"
expect_status 422 "bind without an app"
for params in '{"container_dir": "rel/dir"}' '{"container_dir": "/a/../b"}' '{"mode": "ro"}' '{"mode": 1}' \
	'{"share": "osb_0123456789abcdef0123"}'; do
	osb PUT "/v2/service_instances/$i1/service_bindings/$(new_id)" "$(bind_body "$single" "$params")"
	expect_status 400 "bind with $params"
done
[ "$(users)|$(showshare "$s1")" = "$before" ] || fail "refused binds changed the server"

step "3. credentials and volume_mounts; a read-only binding reads, Samba refuses its writes"
b1=$(new_id)
c1=$(bind "$i1" "$b1" "$single" '{"container_dir": "/data/files"}')
u1=$(jq -r .username <<<"$c1")
[ "$u1" = "$(binding_name "$b1")" ] || fail "expected user $(binding_name "$b1"), got $u1"
jq -e --arg s "$s1" --argjson p "$SERVER_PORT" '.share == $s and .source == "//127.0.0.1/\($s)" and .port == $p and
	(.uri | startswith("smb://")) and (.uri | endswith("@127.0.0.1:\($p)/\($s)"))' <<<"$c1" >/dev/null ||
	fail "unexpected credentials: $(jq -c 'del(.password)' <<<"$c1")"
jq -e --arg s "$s1" --argjson c "$c1" --arg id "$i1" --arg p "$SERVER_PORT" '.volume_mounts == [{driver: "smbdriver",
	container_dir: "/data/files", mode: "rw", device_type: "shared", device: {volume_id: "\($id)-\($c.username)",
	mount_config: {source: "//127.0.0.1/\($s)", username: $c.username, password: $c.password, port: $p}}}]' \
	"$WORK/bind-$b1" >/dev/null || fail "unexpected volume_mounts: $(jq -c .volume_mounts "$WORK/bind-$b1")"
if [ "$(id -gn "$u1")" != "$s1" ] || [ "$(getent passwd "$u1" | cut -d: -f7)" != /usr/sbin/nologin ]; then
	fail "the binding's Unix account is not a no-login member of $s1: $(getent passwd "$u1")"
fi
adapter_access "$c1" "$c1" shared.txt from-b1 >/dev/null || fail "binding 1 cannot write"
bro=$(new_id)
cro=$(bind "$i1" "$bro" "$single" '{"mode": "r"}')
jq -e '.volume_mounts[0].mode == "r" and .volume_mounts[0].device.mount_config.readonly == true' "$WORK/bind-$bro" \
	>/dev/null || fail "read-only binding: expected mode r and readonly: $(jq -c .volume_mounts "$WORK/bind-$bro")"
grep -qi "read list = $(jq -r .username <<<"$cro")" <<<"$(showshare "$s1")" ||
	fail "the read-only binding is not in the read list"
[ "$(adapter_access "$cro" "$c1" shared.txt)" = from-b1 ] || fail "the read-only binding cannot read"
out=$(adapter_access "$cro" "$c1" shared.txt overwritten 2>&1) && fail "the read-only binding wrote: $out"
out=$(adapter_access "$cro" "$c1" new.txt x 2>&1) && fail "the read-only binding created a file: $out"
[ "$(adapter_access "$c1" "$c1" shared.txt)" = from-b1 ] || fail "the read-only binding changed a file"

step "4. the bindings of a share share its files: another binding rewrites what the first wrote"
b2=$(new_id)
c2=$(bind "$i1" "$b2" "$single")
adapter_access "$c2" "$c1" shared.txt from-b2 >/dev/null || fail "binding 2 cannot rewrite binding 1's file"
[ "$(stat -c '%G' "$SERVER_DIR/shares/$s1/shared.txt")" = "$s1" ] || fail "the file is not the share's group's"

step "5. the plan's connection limit is Samba's; a plan update changes it live"
adapter_session "$c1" >"$WORK/hold.out" 2>&1 &
hold=$!
t_on_exit kill "$hold"
for _ in $(seq 1 100); do [ -f "$WORK/held-$u1" ] && break; sleep 0.05; done
[ -f "$WORK/held-$u1" ] || fail "binding 1's session did not start: $(cat "$WORK/hold.out")"
out=$(adapter_access "$c2" "$c1" shared.txt 2>&1) &&
	fail "a second connection beyond max connections 1 was served: $out"
osb PATCH "/v2/service_instances/$i1" \
	"$(jq -cn --arg s "$SERVICE_ID" --arg p "$standard" '{service_id: $s, plan_id: $p}')"
expect_status 200 "update to the standard plan (50 connections)"
grep -qi "max connections = 50" <<<"$(showshare "$s1")" || fail "max connections did not change: $(showshare "$s1")"
[ "$(adapter_access "$c2" "$c1" shared.txt)" = from-b2 ] || fail "a second connection is still refused after the update"

step "6. unbind ends the session and removes the login and the Unix account"
unbind "$i1" "$b1" "$standard"
for _ in $(seq 1 100); do kill -0 "$hold" 2>/dev/null || break; sleep 0.05; done
! kill -0 "$hold" 2>/dev/null || fail "binding 1's session still runs after unbind"
! getent passwd "$u1" >/dev/null || fail "the Unix account $u1 is still there"
! grep -qw "$u1" <<<"$(users)" || fail "$u1 is still in the passdb"
unbind "$i1" "$bro" "$standard"
! grep -qi "read list = osb_" <<<"$(showshare "$s1")" || fail "the read list still names an unbound binding"

step "7. deprovision deletes the share, its group, its directory and every file"
deprovision "$i1" "$standard"
grep -q 'NO_SUCH_SERVICE\|No such service' <<<"$(showshare "$s1")" || fail "share $s1 is still defined"
! getent group "$s1" >/dev/null || fail "group $s1 is still there"
! getent passwd "$(jq -r .username <<<"$c2")" >/dev/null || fail "binding 2's account outlived the instance"
[ ! -e "$SERVER_DIR/shares/$s1" ] || fail "the share's directory is still there"

step "8. a share directory left behind is an orphan the reconciler purges"
orphan=osb_00000000000000000bad
mkdir -p "$SERVER_DIR/shares/$orphan/data"
broker_run --reconcile=purge || fail "--reconcile=purge failed: $out"
grep -q "\"orphan\":\"$orphan\",\"kind\":\"instance\",\"purged\":true" <<<"$out" ||
	fail "orphan directory not purged: $out"
[ ! -e "$SERVER_DIR/shares/$orphan" ] || fail "the orphan directory is still there"

step "9. a frozen smbd: 503 at once, operations fail within the deadline, back when it thaws"
i2=$(new_id)
provision "$i2" "$standard"
expect_frozen_server "$(cat "$SERVER_DIR/smbd.pid")" 5xx \
	PUT "/v2/service_instances/$i2/service_bindings/$(new_id)" "$(bind_body "$standard")"
b3=$(new_id)
c3=$(bind "$i2" "$b3" "$standard")
adapter_access "$c3" "$c3" after-thaw yes >/dev/null || fail "after the thaw a new binding cannot write"
deprovision "$i2" "$standard"
[ -z "$(adapter_tenants)" ] || fail "left on the server: $(adapter_tenants | tr '\n' ' ')"
no_secret_in "$BROKER_LOG" "$WORK/broker-runs.log"
broker_stop
echo "PASS: samba integration"
