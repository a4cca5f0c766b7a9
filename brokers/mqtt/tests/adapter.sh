# Contract-test adapter of the MQTT broker (tests/contract/contract.sh): a Mosquitto server with the
# dynamic-security plugin (brokers/mqtt/server.sh), the credentials used with mosquitto_pub and
# mosquitto_sub over MQTT 5 (retained messages under the binding's topic_root), tenants seen
# through the plugin's admin commands and the server's retained messages.
# shellcheck shell=bash disable=SC2034,SC2016 # topics start with MQTT's $
ADAPTER_PLAN=shared
ADAPTER_MORE_PLANS=dedicated-small
ADAPTER_TOOLS="mosquitto_pub mosquitto_sub mosquitto_rr stdbuf"
ADAPTER_CREDENTIAL_KEYS="host hostname port username password uri topic_root"
PATH=$PATH:/usr/sbin

adapter_server_start() { bash "$ROOT/brokers/mqtt/server.sh" start "$1" "$2" "$3" >/dev/null; }
adapter_server_stop() { bash "$ROOT/brokers/mqtt/server.sh" stop "$1"; }
adapter_driver_config() {
	jq -cn --argjson port "$1" --arg pw "$2" '{port: $port, admin_user: "admin", admin_password: $pw}'
}

# _mq_login CREDS SPACE: the mosquitto client options that log in as binding CREDS on SPACE's server.
_mq_login() {
	jq -r --argjson s "$2" '"-h", $s.host, "-p", ($s.port |
		tostring), "-u", .username, "-P", .password, "-V", "5"' <<<"$1"
}
# _mq_dynsec COMMANDS_JSON: the plugin's answer to commands sent as the shared server's admin.
_mq_dynsec() {
	mosquitto_rr -h 127.0.0.1 -p "$SERVER_PORT" -u admin -P "$SERVER_SECRET" -t '$CONTROL/dynamic-security/v1' \
		-e '$CONTROL/dynamic-security/v1/response' -W 5 -m "{\"commands\":$1}"
}
# adapter_access CREDS SPACE KEY [VALUE]: a retained message at SPACE's topic_root/KEY. Mosquitto
# refuses a publish or subscription without failing the client's exit status: read what it says.
adapter_access() {
	local topic out rc=0
	local -a login
	mapfile -t login < <(_mq_login "$1" "$2")
	topic=$(jq -r .topic_root <<<"$2")/$3
	if [ $# -ge 4 ]; then
		out=$(timeout 10 mosquitto_pub "${login[@]}" -q 1 -r -t "$topic" -m "$4" 2>&1) || rc=$?
	else
		out=$(timeout 10 mosquitto_sub "${login[@]}" --retained-only -C 1 -W 3 -t "$topic" 2>&1) || rc=$?
		[ -n "$out" ] || rc=1
	fi
	echo "$out"
	[ "$rc" = 0 ] && ! grep -qiE 'denied|failed|error|not authori' <<<"$out"
}
# A subscriber held open; it writes its debug lines as they come, so adapter_sessions sees the SUBACK.
adapter_session() {
	local -a login
	mapfile -t login < <(_mq_login "$1" "$1")
	timeout 60 stdbuf -oL mosquitto_sub "${login[@]}" -d -t "$(jq -r .topic_root <<<"$1")/events" \
		>"$WORK/held-$(jq -r .username <<<"$1")" 2>&1
}
adapter_sessions() { grep -c 'received SUBACK' "$WORK/held-$(jq -r .username <<<"$1")" 2>/dev/null || echo 0; }
adapter_tenants() {
	{
		_mq_dynsec '[{"command":"listRoles"},{"command":"listClients"}]' |
			jq -r '.responses[].data | (.roles // .clients)[]'
		# Every retained message's first topic level (the admin may subscribe to and receive #).
		timeout 10 mosquitto_sub -h 127.0.0.1 -p "$SERVER_PORT" -u admin -P "$SERVER_SECRET" -t '#' \
			--retained-only -W 1 -F '%t' 2>/dev/null | cut -d/ -f1 || true
	} | grep '^osb_' | sort -u || true
}
# An instance-level orphan: a role of the broker's shape and a retained message in its tree.
adapter_orphan() {
	_mq_dynsec "[{\"command\":\"createRole\",\"rolename\":\"$1\",\"acls\":[
		{\"acltype\":\"publishClientSend\",\"topic\":\"$1/#\",\"allow\":true,\"priority\":1},
		{\"acltype\":\"publishClientReceive\",\"topic\":\"$1/#\",\"allow\":true,\"priority\":1},
		{\"acltype\":\"subscribePattern\",\"topic\":\"$1/#\",\"allow\":true,\"priority\":1}]},
		{\"command\":\"createClient\",\"username\":\"orphan-maker\",\"password\":\"$SERVER_SECRET\",
		 \"roles\":[{\"rolename\":\"$1\"}]}]" >/dev/null
	mosquitto_pub -h 127.0.0.1 -p "$SERVER_PORT" -u orphan-maker -P "$SERVER_SECRET" -q 1 -r -t "$1/left-over" -m x
	_mq_dynsec '[{"command":"deleteClient","username":"orphan-maker"}]' >/dev/null
}
