# Contract-test adapter of the RabbitMQ broker (tests/contract/contract.sh): a RabbitMQ node with the
# management plugin, the credentials used over AMQP (this directory's amqp_client.c), tenants seen
# through the management API.
# shellcheck shell=bash disable=SC2034
ADAPTER_PLAN=standard
ADAPTER_TOOLS="curl"
ADAPTER_CREDENTIAL_KEYS="hostname username password uri vhost http_api_uri protocols"
# The node's four ports: AMQP is the harness's SERVER_PORT; the others are picked once, so that a
# restarted node comes back on the same ones.
_rmq_mgmt=$(free_port)
_rmq_dist=$(free_port "$_rmq_mgmt")
_rmq_epmd=$(free_port "$_rmq_dist")
_rmq_client=$(find "$(dirname "$BROKER_BIN")" -name 'osb-rabbitmq-amqp*client' -type f -perm -u+x | head -n 1)
[ -x "$_rmq_client" ] || fail "the AMQP test client osb-rabbitmq-amqp-client was not built next to the broker"

adapter_server_start() {
	"$ROOT/scripts/rabbitmq-start.sh" "$1" "$3" "$2" "$_rmq_mgmt" "$_rmq_dist" "$_rmq_epmd" >/dev/null 2>&1 ||
		fail "RabbitMQ did not start: $(tail -n 20 "$1/rabbitmq.log")"
}
adapter_server_stop() { "$ROOT/scripts/rabbitmq-stop.sh" "$1"; }
adapter_driver_config() {
	jq -cn --arg api "http://127.0.0.1:$_rmq_mgmt" --argjson amqp "$1" --arg pw "$2" \
		'{api_url: $api, admin_user: "admin", admin_password: $pw, amqp_port: $amqp}'
}

_rmq_api() { curl -sf -u "admin:$SERVER_SECRET" "http://127.0.0.1:$_rmq_mgmt/api/$1"; }
# The login of binding CREDS on the vhost of binding SPACE.
_rmq_uri() {
	jq -rn --argjson c "$1" --argjson s "$2" \
		'"amqp://\($c.username | @uri):\($c.password | @uri)@\($s.hostname):\($s.protocols.amqp.port)/\($s.vhost | @uri)"'
}
adapter_access() {
	if [ $# -ge 4 ]; then
		"$_rmq_client" put "$(_rmq_uri "$1" "$2")" "$3" "$4"
	else
		"$_rmq_client" peek "$(_rmq_uri "$1" "$2")" "$3"
	fi
}
adapter_session() { "$_rmq_client" hold "$(jq -r .uri <<<"$1")" 60 "$WORK/held-$(jq -r .username <<<"$1")"; }
# The node's own list of connections lags by its statistics interval: the client says when it is in.
adapter_sessions() { [ -f "$WORK/held-$(jq -r .username <<<"$1")" ] && echo 1 || echo 0; }
adapter_tenants() {
	{
		_rmq_api vhosts | jq -r '.[].name'
		_rmq_api users | jq -r '.[].name'
	} | grep '^osb_' | sort -u || true
}
adapter_orphan() { curl -sf -u "admin:$SERVER_SECRET" -X PUT "http://127.0.0.1:$_rmq_mgmt/api/vhosts/$1" >/dev/null; }
