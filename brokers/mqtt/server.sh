#!/usr/bin/env bash
# A throw-away Mosquitto 2.0 server with the dynamic-security plugin on 127.0.0.1, for tests and demos.
# Usage: server.sh start DIR PORT SECRET   (MQTT on 127.0.0.1:PORT, dynsec client "admin" with password SECRET)
#        server.sh stop DIR
# Config, dynsec file, persistence, log (DIR/mosquitto.log) and PID (DIR/mosquitto.pid) go under
# DIR. The first start writes dynamic-security.json as `mosquitto_ctrl dynsec init` would (the
# client admin in role admin: the $CONTROL/dynamic-security topics, and subscribing to and
# receiving every topic; the plugin's default ACL access), with the password stored as its
# PBKDF2-SHA512 hash; the plugin keeps the file from then on, so a restart keeps every client
# and role. Files in DIR/conf.d (a TLS listener, say) are included. Waits until the admin can
# subscribe to the plugin's responses; fails loudly with the server's log otherwise.
set -euo pipefail
# shellcheck source=scripts/lib/server.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/server.sh"
mode=${1:?usage: server.sh start DIR PORT SECRET | stop DIR}
dir=${2:?server directory}

stop() { stop_pid_file "$dir/mosquitto.pid"; }

case $mode in
stop)
	stop
	exit 0
	;;
start) ;;
*) echo "usage: server.sh start DIR PORT SECRET | stop DIR" >&2; exit 2 ;;
esac
port=${3:?port}
secret=${4:?admin password}
command -v mosquitto >/dev/null || PATH=$PATH:/usr/sbin
for tool in mosquitto mosquitto_sub python3; do
	command -v "$tool" >/dev/null ||
		{ echo "mqtt server.sh: $tool not found (apt-get install mosquitto mosquitto-clients)" >&2; exit 1; }
done
plugin=
for candidate in /usr/lib/*/mosquitto_dynamic_security.so /usr/lib/mosquitto_dynamic_security.so; do
	[ -f "$candidate" ] && { plugin=$candidate; break; }
done
[ -n "$plugin" ] || { echo "mqtt server.sh: mosquitto_dynamic_security.so not found" >&2; exit 1; }
mkdir -p "$dir/conf.d"
dir=$(cd "$dir" && pwd)
umask 077

if [ ! -f "$dir/dynamic-security.json" ]; then
	# The hash is PBKDF2-HMAC-SHA512 of the password with a random salt, as the plugin stores it;
	# the password reaches python through the environment, never a command line.
	OSB_SECRET=$secret python3 - "$dir/dynamic-security.json" <<'PY'
import base64, hashlib, json, os, sys
salt = os.urandom(12)
iterations = 1000
digest = hashlib.pbkdf2_hmac("sha512", os.environ["OSB_SECRET"].encode(), salt, iterations, 64)
acl = lambda kind, topic: {"acltype": kind, "topic": topic, "allow": True}
config = {
    "clients": [{"username": "admin", "textname": "Dynsec admin user", "password": base64.b64encode(digest).decode(),
                 "salt": base64.b64encode(salt).decode(), "iterations": iterations, "roles": [{"rolename": "admin"}]}],
    "roles": [{"rolename": "admin", "acls": [
        acl("publishClientSend", "$CONTROL/dynamic-security/#"),
        acl("publishClientReceive", "$CONTROL/dynamic-security/#"),
        acl("subscribePattern", "$CONTROL/dynamic-security/#"), acl("publishClientReceive", "$SYS/#"),
        acl("subscribePattern", "$SYS/#"), acl("publishClientReceive", "#"), acl("subscribePattern", "#"),
        acl("unsubscribePattern", "#")]}],
    "defaultACLAccess": {"publishClientSend": False, "publishClientReceive": True, "subscribe": False,
                         "unsubscribe": True},
}
with open(sys.argv[1], "w") as f:
    json.dump(config, f, indent=1)
PY
fi
cat >"$dir/mosquitto.conf" <<CONF
# Written by brokers/mqtt/server.sh.
user $(id -un)
per_listener_settings false
allow_anonymous false
listener $port 127.0.0.1
persistence true
persistence_location $dir/
log_dest file $dir/mosquitto.log
log_type error
log_type warning
log_type notice
log_type information
connection_messages true
plugin $plugin
plugin_opt_config_file $dir/dynamic-security.json
include_dir $dir/conf.d
CONF

mosquitto -c "$dir/mosquitto.conf" >>"$dir/mosquitto.out" 2>&1 &
pid=$!
echo "$pid" >"$dir/mosquitto.pid"
for _ in $(seq 1 200); do
	# shellcheck disable=SC2016 # the topic's $ is MQTT's
	if timeout 2 mosquitto_sub -h 127.0.0.1 -p "$port" -u admin -P "$secret" \
		-t '$CONTROL/dynamic-security/v1/response' -E >/dev/null 2>&1; then
		echo "mqtt server.sh: mosquitto ready on 127.0.0.1:$port (pid $pid, dir $dir)"
		exit 0
	fi
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.05
done
echo "mqtt server.sh: mosquitto did not start on port $port; log follows" >&2
cat "$dir/mosquitto.out" "$dir/mosquitto.log" >&2 2>/dev/null || true
stop
exit 1
