#!/usr/bin/env bash
# Start a throw-away RabbitMQ 3.10 node (with the management plugin) on 127.0.0.1 for tests and demos.
# Usage: scripts/rabbitmq-start.sh DIR ADMIN_PASSWORD [AMQP_PORT MGMT_PORT DIST_PORT EPMD_PORT]
# Ports left out (or given as 0) are picked free with scripts/free-port.sh. The admin
# user is "admin". Data and logs go under DIR; DIR/rabbitmq.env records the ports
# and PIDs (AMQP_PORT= MGMT_PORT= DIST_PORT= EPMD_PORT= NODENAME= PID= EPMD_PID=)
# and is printed on success. Waits until the management API answers; fails loudly
# with the node's log if it does not within 60 s.
# Stop with scripts/rabbitmq-stop.sh DIR.
set -euo pipefail
original_args=("$@")
dir=${1:?usage: rabbitmq-start.sh DIR ADMIN_PASSWORD [AMQP MGMT DIST EPMD]}
password=${2:?admin password}
amqp=${3:-0}
mgmt=${4:-0}
dist=${5:-0}
epmd=${6:-0}
here=$(cd "$(dirname "$0")" && pwd)

sbin=$(ls -d /usr/lib/rabbitmq/lib/rabbitmq_server-*/sbin 2>/dev/null | sort -V | tail -n 1)
[ -x "$sbin/rabbitmq-server" ] ||
	{ echo "rabbitmq-start: RabbitMQ not found (apt-get install rabbitmq-server)" >&2; exit 1; }
command -v curl >/dev/null || { echo "rabbitmq-start: curl is needed on PATH" >&2; exit 1; }
case $password in
*[!A-Za-z0-9._~-]*) echo "rabbitmq-start: use only [A-Za-z0-9._~-] in the admin password" >&2; exit 1 ;;
esac

auto_ports=0
[ "$amqp$mgmt$dist$epmd" = 0000 ] && auto_ports=1
# Each port is picked after the previous one so that the four differ.
pick() {
	local want=$1 from=$2
	if [ "$want" != 0 ]; then echo "$want"; else "$here/free-port.sh" "$from"; fi
}
base=$((20000 + RANDOM % 12000))
amqp=$(pick "$amqp" "$base")
mgmt=$(pick "$mgmt" $((amqp + 1)))
dist=$(pick "$dist" $((mgmt + 1)))
epmd=$(pick "$epmd" $((dist + 1)))
for p in "$amqp" "$mgmt" "$dist" "$epmd"; do
	case $p in '' | *[!0-9]*) echo "rabbitmq-start: bad port '$p'" >&2; exit 1 ;; esac
done

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
# A node name of its own, so that several test nodes never meet in one epmd.
name="osbit$(printf '%s' "$dir" | sha256sum | cut -c1-10)"
umask 077
cat >"$dir/rabbitmq.conf" <<EOF
listeners.tcp.1 = 127.0.0.1:$amqp
management.tcp.ip = 127.0.0.1
management.tcp.port = $mgmt
default_user = admin
default_pass = $password
default_user_tags.administrator = true
loopback_users = none
log.console = true
log.console.level = info
log.file = false
EOF
echo '[rabbitmq_management].' >"$dir/enabled_plugins"
: >"$dir/none-env.conf"
# The Erlang cookie lives in $HOME; a private HOME keeps ours apart from any other node.
mkdir -p "$dir/home"

export HOME=$dir/home
export RABBITMQ_CONF_ENV_FILE=$dir/none-env.conf
export RABBITMQ_NODENAME=$name@localhost
export RABBITMQ_CONFIG_FILE=$dir/rabbitmq
export RABBITMQ_ENABLED_PLUGINS_FILE=$dir/enabled_plugins
export RABBITMQ_MNESIA_BASE=$dir/mnesia
export RABBITMQ_LOG_BASE=$dir/log
export RABBITMQ_DIST_PORT=$dist
export ERL_EPMD_PORT=$epmd
export ERL_EPMD_ADDRESS=127.0.0.1
# Otherwise the distribution port listens on every interface.
export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"

# setsid: the node and the epmd it spawns get a session of their own, away from the caller's signals.
setsid "$sbin/rabbitmq-server" >"$dir/rabbitmq.log" 2>&1 </dev/null &
pid=$!
{
	echo "AMQP_PORT=$amqp"
	echo "MGMT_PORT=$mgmt"
	echo "DIST_PORT=$dist"
	echo "EPMD_PORT=$epmd"
	echo "NODENAME=$name@localhost"
	echo "PID=$pid"
} >"$dir/rabbitmq.env"

# Ready when the management API answers and the AMQP listener is up: the node starts its client
# listeners last, some tens of milliseconds after the management one.
ok=0
for _ in $(seq 1 600); do
	if curl -sf -o /dev/null --max-time 2 -u "admin:$password" "http://127.0.0.1:$mgmt/api/overview" &&
		ss -ltnH "sport = :$amqp" 2>/dev/null | grep -q .; then
		ok=1
		break
	fi
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done

# The epmd the node started: the process listening on our epmd port.
epmd_pid=$(ss -ltnpH "sport = :$epmd" 2>/dev/null | grep -o 'pid=[0-9]*' | head -n 1 | cut -d= -f2 || true)
echo "EPMD_PID=${epmd_pid:-}" >>"$dir/rabbitmq.env"

if [ "$ok" = 1 ]; then
	echo "rabbitmq-start: RabbitMQ ready, AMQP 127.0.0.1:$amqp, management http://127.0.0.1:$mgmt/ (pid $pid, data $dir)" >&2
	cat "$dir/rabbitmq.env"
	exit 0
fi
"$here/rabbitmq-stop.sh" "$dir" >/dev/null 2>&1 || true
# A port picked free can be taken by another process before the node binds it: start
# again on new ports (only when the caller let us pick them).
if grep -qE 'dist_port_already_used|eaddrinuse|could not bind' "$dir/rabbitmq.log" 2>/dev/null &&
	[ "${OSB_RABBITMQ_RETRY:-0}" -lt 3 ] && [ "$auto_ports" = 1 ]; then
	echo "rabbitmq-start: a port was taken meanwhile; starting again on other ports" >&2
	rm -rf "$dir/mnesia" "$dir/log"
	OSB_RABBITMQ_RETRY=$((${OSB_RABBITMQ_RETRY:-0} + 1)) exec "$0" "${original_args[@]}"
fi
echo "rabbitmq-start: RabbitMQ did not answer on 127.0.0.1:$mgmt within 60 s; its log follows" >&2
tail -n 80 "$dir/rabbitmq.log" >&2 || true
exit 1
