#!/usr/bin/env bash
# Shared by the broker tests (tests/contract/contract.sh and brokers/<mw>/tests/*.sh): failures,
# steps, polling and refusals, clean-up, ids and server-side names, catalog lookups, request bodies,
# one broker started from a generated config, OSB requests, asynchronous operations, live sessions
# held through the broker's adapter, and the checks every test ends with.
#
# A script run as `SCRIPT BROKER_BINARY REPO_ROOT` sources this file (which takes BROKER_BIN and ROOT
# from those arguments unless they are set), calls t_init NAME, and use_adapter MW for the broker's
# contract adapter (brokers/<mw>/tests/adapter.sh: its server, its clients, session_start).
# Everything it starts is stopped by the EXIT trap, in reverse order.
set -euo pipefail

ROOT=$(cd "${ROOT:-${2:?usage: $0 BROKER_BINARY REPO_ROOT}}" && pwd)
BROKER_BIN=${BROKER_BIN:-${1:?usage: $0 BROKER_BINARY REPO_ROOT}}
WORK=
BROKER_PID=
BROKER_PORT=
BROKER_LOG=
BROKER_CONFIG=
BROKER_USER=broker
BROKER_PW=
status=
body=
_t_cleanups=()
# LeakSanitizer makes an ASan build exit non-zero on a leak: keep the report in the log.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}

fail() {
	echo "FAIL: $*" >&2
	exit 1
}
step() {
	echo "== $*"
}
# need TOOL...: fail (never skip) when a tool is missing.
need() {
	local tool
	for tool in "$@"; do
		command -v "$tool" >/dev/null || fail "$tool is needed on PATH"
	done
}
# t_on_exit COMMAND...: run at exit (last registered first), whatever happened.
t_on_exit() {
	_t_cleanups+=("$*")
}
# wait_for SECONDS WHAT CONDITION: evaluate the shell text CONDITION every 50 ms until it holds;
# fails "expected WHAT within SECONDS s" when it never does.
wait_for() {
	local i
	for ((i = 0; i < $1 * 20; i++)); do
		eval "$3" && return 0
		sleep 0.05
	done
	eval "$3" || fail "expected $2 within $1 s"
}
# expect_refused WHAT PATTERN COMMAND...: COMMAND must fail, saying something that matches PATTERN
# (an extended regular expression) on its standard output or error.
expect_refused() {
	local what=$1 pattern=$2 out
	shift 2
	out=$("$@" 2>&1) && fail "$what: expected a refusal, but it worked: $out"
	grep -qE -- "$pattern" <<<"$out" || fail "$what: expected a refusal saying '$pattern', got: $out"
}

# dedicated_pids: processes working in this test's directory: the dedicated servers the broker
# started (they outlive the broker by design) and anything else left behind.
dedicated_pids() {
	local p cwd
	for p in /proc/[0-9]*; do
		cwd=$(readlink "$p/cwd" 2>/dev/null) || continue
		case $cwd in "$WORK/data/"*) echo "${p#/proc/}" ;; esac
	done
}

_t_exit() {
	local rc=$? i p
	set +e
	for ((i = ${#_t_cleanups[@]} - 1; i >= 0; i--)); do
		eval "${_t_cleanups[i]}" >/dev/null 2>&1
	done
	[ -n "$WORK" ] && for p in $(dedicated_pids); do kill -KILL "$p" 2>/dev/null; done
	# A failure shows the end of the broker's log and of the logs of the servers the test started,
	# each in a directory of its own under $WORK, dedicated ones included.
	if [ "$rc" != 0 ]; then
		for p in "$BROKER_LOG" ${WORK:+"$WORK"/*/*.log "$WORK"/data/dedicated/*/*.log}; do
			[ -f "$p" ] || continue
			echo "--- last lines of $p ---" >&2
			tail -n 40 "$p" >&2
		done
	fi
	rm -f "$_T_PORTS"
	if [ -n "$WORK" ] && [ "${OSB_KEEP_WORK:-0}" != 1 ]; then
		rm -rf "$WORK"
	elif [ -n "$WORK" ]; then
		echo "work directory kept: $WORK" >&2
	fi
	exit "$rc"
}

# t_init NAME: a private work directory (servers running as other users can enter it), secrets, traps.
t_init() {
	need curl jq sha256sum
	[ -x "$BROKER_BIN" ] || fail "broker binary $BROKER_BIN not found"
	WORK=$(mktemp -d "/tmp/osb-$1.XXXXXX")
	chmod 711 "$WORK"
	BROKER_PW=$(secret)
	trap _t_exit EXIT
	trap 'exit 130' INT TERM
}

# use_adapter MW: the contract adapter of broker MW (tests/contract/contract.sh, docs/writing-a-broker.md
# section 9) and its tools; the catalog (ADAPTER_CATALOG or catalog/MW.json); SERVER_PORT and
# SERVER_SECRET for the adapter's server; both secrets in SECRET_WORDS. After t_init.
use_adapter() {
	# shellcheck disable=SC1090
	. "$ROOT/brokers/$1/tests/adapter.sh"
	# shellcheck disable=SC2086
	need ${ADAPTER_TOOLS:-}
	use_catalog "${ADAPTER_CATALOG:-$ROOT/catalog/$1.json}"
	SERVER_PORT=$(free_port)
	SERVER_SECRET=$(secret)
	SECRET_WORDS="$SERVER_SECRET $BROKER_PW"
}
# server_start DIR: the adapter's server on SERVER_PORT with SERVER_SECRET, data in DIR, stopped at exit.
server_start() {
	t_on_exit adapter_server_stop "$1"
	adapter_server_start "$1" "$SERVER_PORT" "$SERVER_SECRET"
}
# server_and_broker DIR [EXTRA_JSON]: server_start DIR, then a broker with the adapter's driver object
# for it (and EXTRA_JSON's top-level members), ready.
server_and_broker() {
	server_start "$1"
	broker_config "$(adapter_driver_config "$SERVER_PORT" "$SERVER_SECRET")" "${2:-{\}}"
	broker_start
	wait_ready 200 30
}

secret() { head -c 18 /dev/urandom | base64 | tr -d '/+='; }
new_id() { cat /proc/sys/kernel/random/uuid; }
# free_port [AFTER]: a free loopback port, above AFTER when given, never one this test picked before
# (a broker's port must not fall into the range its dedicated servers get). Picks are kept in a
# file, since callers run this in command substitutions.
_T_PORTS=$(mktemp /tmp/osb-ports.XXXXXX)
_t_taken() { grep -qx "$1" "$_T_PORTS"; }
free_port() {
	local p
	p=$("$ROOT/scripts/free-port.sh" ${1:+$(($1 + 1 + RANDOM % 50))})
	while _t_taken "$p"; do p=$("$ROOT/scripts/free-port.sh" $((p + 1))); done
	echo "$p" >>"$_T_PORTS"
	echo "$p"
}
# free_range N: the first of N consecutive free ports, none picked before; all N are taken from then on.
free_range() {
	local first p ok
	first=$(free_port)
	while :; do
		ok=1
		for ((p = first + 1; p < first + $1; p++)); do
			if _t_taken "$p" || ss -ltnH "sport = :$p" 2>/dev/null | grep -q .; then
				ok=0
				break
			fi
		done
		[ "$ok" = 1 ] && [ $((first + $1)) -le 32767 ] && break
		first=$(free_port $((p > 32000 ? 20000 : p)))
	done
	for ((p = first + 1; p < first + $1; p++)); do echo "$p" >>"$_T_PORTS"; done
	echo "$first"
}
# The server-side names of an instance and a binding, as names.h derives them.
instance_name() { printf 'osb_%s' "$(printf 'instance:%s' "$1" | sha256sum | cut -c1-20)"; }
binding_name() { printf 'osb_%s' "$(printf 'binding:%s' "$1" | sha256sum | cut -c1-20)"; }

# ---- the catalog ----------------------------------------------------------

# use_catalog FILE: CATALOG and SERVICE_ID (the first service).
use_catalog() {
	CATALOG=$1
	SERVICE_ID=$(jq -r '.services[0].id' "$CATALOG")
}
# plan_id NAME...: the ids of the named plans, on one line (read -r small large < <(plan_id small large));
# fails on a name the catalog does not have.
plan_id() {
	local name id ids=()
	for name in "$@"; do
		id=$(jq -r --arg n "$name" '.services[0].plans[] | select(.name == $n) | .id' "$CATALOG")
		[ -n "$id" ] || fail "catalog $CATALOG: no plan named $name"
		ids+=("$id")
	done
	echo "${ids[*]}"
}
# plan_setting PLAN_ID KEY: a value of the plan's x-osb ("null" when absent).
plan_setting() { jq -r --arg p "$1" --arg k "$2" '.services[].plans[] | select(.id == $p) | ."x-osb"[$k]' "$CATALOG"; }
plan_async() { [ "$(plan_setting "$1" async)" = true ]; }

provision_body() {
	jq -cn --arg s "$SERVICE_ID" --arg p "$1" --argjson params "${2:-{\}}" --arg space "${3:-space-1}" \
		'{service_id: $s, plan_id: $p, organization_guid: "org-1", space_guid: $space, parameters: $params,
		  context: {platform: "cloudfoundry", organization_guid: "org-1", space_guid: $space}}'
}
bind_body() {
	jq -cn --arg s "$SERVICE_ID" --arg p "$1" --argjson params "${2:-{\}}" --arg app "${3:-app-1}" \
		'{service_id: $s, plan_id: $p, bind_resource: {app_guid: $app}, parameters: $params}'
}
update_body() {
	jq -cn --arg s "$SERVICE_ID" --arg p "$1" --argjson params "${2:-{\}}" \
		'{service_id: $s, plan_id: $p, parameters: $params}'
}

# ---- the broker -----------------------------------------------------------

# broker_config DRIVER_JSON [EXTRA_JSON]: write $WORK/broker.json for a broker on a free port
# (store and data under $WORK), with the driver object and extra top-level members merged in.
broker_config() {
	BROKER_PORT=$(free_port)
	BROKER_CONFIG=$WORK/broker.json
	mkdir -p "$WORK/data"
	jq -n --arg listen "127.0.0.1:$BROKER_PORT" --arg pw "$BROKER_PW" --arg cat "$CATALOG" \
		--arg data "$WORK/data" --argjson driver "$1" --argjson extra "${2:-{\}}" '{
			listen: $listen, accounts: [{username: "broker", password: $pw}], catalog: $cat,
			data_dir: $data, log_level: "info", driver: $driver} + $extra' >"$BROKER_CONFIG"
}

# broker_start: start the broker of $BROKER_CONFIG, logging to $WORK/broker.log, and wait for /health/live.
broker_start() {
	BROKER_LOG=${BROKER_LOG:-$WORK/broker.log}
	"$BROKER_BIN" --config "$BROKER_CONFIG" >>"$BROKER_LOG" 2>&1 &
	BROKER_PID=$!
	t_on_exit "[ -n \"\$BROKER_PID\" ] && kill -TERM \$BROKER_PID && wait \$BROKER_PID"
	local code=000
	for _ in $(seq 1 400); do
		code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$BROKER_PORT/health/live") || code=000
		[ "$code" = 200 ] && return 0
		kill -0 "$BROKER_PID" 2>/dev/null || fail "the broker exited during start-up"
		sleep 0.05
	done
	fail "expected /health/live 200 within 20 s, got $code"
}

# wait_ready WANT [SECONDS]: poll /health/ready until it answers WANT (200 or 503).
wait_ready() {
	local want=$1 code=000
	for _ in $(seq 1 $((${2:-10} * 20))); do
		code=$(curl -s -m 3 -o "$WORK/ready" -w '%{http_code}' "http://127.0.0.1:$BROKER_PORT/health/ready") ||
			code=000
		[ "$code" = "$want" ] && return 0
		sleep 0.05
	done
	fail "expected /health/ready $want within ${2:-10} s, got $code: $(cat "$WORK/ready" 2>/dev/null)"
}

# broker_stop: SIGTERM; the broker must exit 0 with no sanitizer report in its log.
broker_stop() {
	local rc=0
	[ -n "$BROKER_PID" ] || return 0
	kill -TERM "$BROKER_PID"
	wait "$BROKER_PID" || rc=$?
	BROKER_PID=
	[ "$rc" = 0 ] || fail "the broker exited with status $rc after SIGTERM"
	! grep -qE 'LeakSanitizer|AddressSanitizer|runtime error:' "$BROKER_LOG" ||
		fail "sanitizer report in the broker's log: $(grep -m1 -E 'Sanitizer|runtime error:' "$BROKER_LOG")"
}

# broker_run ARGS...: run the broker once with the config (--check-config, --reconcile...), output in $out.
broker_run() {
	local rc=0 lines
	lines=$(cat "$WORK/broker-runs.log" 2>/dev/null | wc -l)
	out=$("$BROKER_BIN" --config "$BROKER_CONFIG" "$@" 2>>"$WORK/broker-runs.log") || rc=$?
	# A failure says why on stderr, where the test's log keeps it.
	[ "$rc" = 0 ] || { echo "--- broker $* exited $rc; its log:" >&2; tail -n +"$((lines + 1))" "$WORK/broker-runs.log" | tail -n 15 >&2; }
	return "$rc"
}

# dedicated_secret PORT: the admin password of the dedicated server on PORT (made by the core), for
# adapters that look at a dedicated server as its admin.
dedicated_secret() {
	local rec
	for rec in "$WORK"/data/dedicated/osb_*/deployment.json; do
		[ -f "$rec" ] && [ "$(jq -r .port "$rec")" = "$1" ] && { cat "$(dirname "$rec")/admin.pw"; return 0; }
	done
	return 1
}

# ---- requests -------------------------------------------------------------

# osb METHOD PATH [DATA]: one OSB request as the platform; sets $status and $body.
osb() {
	local method=$1 path=$2 data=${3:-}
	local args=(-s -m 120 -o "$WORK/body" -w '%{http_code}' -X "$method" -u "$BROKER_USER:$BROKER_PW"
		-H 'X-Broker-API-Version: 2.17' -H 'Content-Type: application/json')
	[ -n "$data" ] && args+=(--data "$data")
	status=$(curl "${args[@]}" "http://127.0.0.1:$BROKER_PORT$path") || status=000
	body=$(cat "$WORK/body" 2>/dev/null || true)
}
expect_status() {
	[ "$status" = "$1" ] || fail "$2: expected HTTP $1, got $status: $body"
}
# expect_5xx WHAT [PATTERN]: the last answer is a 5xx whose description says PATTERN (an extended
# regular expression, any case; anything by default) and holds no word of SECRET_WORDS.
expect_5xx() {
	local w
	case $status in 5??) ;; *) fail "$1: expected a 5xx, got $status: $body" ;; esac
	jq -e --arg p "${2:-.}" '.description | test($p; "i")' <<<"$body" >/dev/null 2>&1 ||
		fail "$1: expected a description${2:+ saying '$2'}, got: $body"
	for w in ${SECRET_WORDS:-}; do
		! grep -qF -- "$w" <<<"$body" || fail "$1: the answer holds a secret of the test"
	done
}

# wait_operation PATH WHAT: poll PATH/last_operation until the operation ends; prints its state.
wait_operation() {
	local path=$1 what=$2 state=
	for _ in $(seq 1 600); do
		osb GET "$path/last_operation"
		[ "$status" = 200 ] || [ "$status" = 410 ] || fail "$what: last_operation answered $status: $body"
		[ "$status" = 410 ] && { echo gone; return 0; }
		state=$(jq -r .state <<<"$body")
		[ "$state" != "in progress" ] && { echo "$state"; return 0; }
		sleep 0.2
	done
	fail "$what: still in progress after 120 s"
}

# provision ID PLAN_ID [PARAMS]: make an instance and wait for it; fails unless it succeeds.
provision() {
	local id=$1 plan=$2
	if plan_async "$plan"; then
		osb PUT "/v2/service_instances/$id?accepts_incomplete=true" "$(provision_body "$plan" "${3:-{\}}")"
		expect_status 202 "provision $id"
		[ "$(wait_operation "/v2/service_instances/$id" "provision $id")" = succeeded ] ||
			fail "provision $id: the operation failed: $body"
	else
		osb PUT "/v2/service_instances/$id" "$(provision_body "$plan" "${3:-{\}}")"
		expect_status 201 "provision $id"
	fi
}

# deprovision ID PLAN_ID: delete an instance and wait for it; fails unless it is gone.
deprovision() {
	local id=$1 plan=$2
	osb DELETE "/v2/service_instances/$id?accepts_incomplete=true&service_id=$SERVICE_ID&plan_id=$plan"
	_t_settle "deprovision" "$id" 200 gone
}

# update ID PLAN_ID [PARAMS]: change an instance's plan or parameters and wait for it; fails unless it succeeds.
update() {
	osb PATCH "/v2/service_instances/$1?accepts_incomplete=true" "$(update_body "$2" "${3:-{\}}")"
	_t_settle "update" "$1" 200 succeeded
}

# _t_settle WHAT ID SYNC_STATUS END: the answer to WHAT on instance ID, which may run asynchronously:
# 202 and an operation ending END (gone: the instance is), or SYNC_STATUS.
_t_settle() {
	if [ "$status" = 202 ]; then
		[ "$(wait_operation "/v2/service_instances/$2" "$1 $2")" = "$4" ] ||
			fail "$1 $2: expected the operation to end $4: $body"
	else
		expect_status "$3" "$1 $2"
	fi
}

# bind ID BINDING_ID PLAN_ID [PARAMS] [APP]: make a binding; prints its credentials (also kept in
# $WORK/cred-BINDING_ID; the whole answer in $WORK/bind-BINDING_ID, since $body stays in the subshell).
bind() {
	local bid=$2
	osb PUT "/v2/service_instances/$1/service_bindings/$bid" "$(bind_body "$3" "${4:-{\}}" "${5:-app-1}")"
	_t_binding_made "$bid"
}
# rotate ID BINDING_ID PLAN_ID PREDECESSOR_ID: a binding that replaces PREDECESSOR_ID (credential
# rotation: the predecessor keeps working until it is unbound); prints its credentials, as bind does.
rotate() {
	local bid=$2
	osb PUT "/v2/service_instances/$1/service_bindings/$bid" \
		"$(jq -cn --arg s "$SERVICE_ID" --arg p "$3" --arg pred "$4" \
			'{service_id: $s, plan_id: $p, predecessor_binding_id: $pred}')"
	_t_binding_made "$bid"
}
# expect_frozen_server "PIDS" STATUS METHOD PATH [DATA]: freeze the server's processes (SIGSTOP):
# /health/ready turns 503 within 5 s, and the request answers STATUS (a code, or 5xx for any 5xx)
# within 25 s (the sync deadline, the undo and a margin); then thaw them and see /health/ready 200
# again within 10 s. $status and $body keep the request's answer.
expect_frozen_server() {
	local pids=$1 want=$2 t0 answer_status answer_body
	shift 2
	# shellcheck disable=SC2086 # a list of pids
	kill -STOP $pids
	t_on_exit "kill -CONT $pids"
	wait_ready 503 5
	t0=$(date +%s)
	osb "$@"
	# shellcheck disable=SC2254 # a pattern: 5xx becomes 5??
	case $status in ${want//x/?}) ;; *) fail "frozen server: $1 $2: expected $want, got $status: $body" ;; esac
	[ $(($(date +%s) - t0)) -le 25 ] || fail "frozen server: $1 $2 took more than 25 s"
	answer_status=$status
	answer_body=$body
	# shellcheck disable=SC2086
	kill -CONT $pids
	wait_ready 200 10
	status=$answer_status
	body=$answer_body
}
# bind_concurrently N ID_A PLAN_A ID_B PLAN_B: N binds at once, the odd ones on instance ID_A, the
# even ones on ID_B; each must answer 201, and binding i's credentials are in $WORK/cred-par-i.
# Straight curl calls: osb() keeps one body file per test, not per call.
bind_concurrently() {
	local i inst plan pids=()
	for i in $(seq 1 "$1"); do
		inst=$2 plan=$3
		[ $((i % 2)) = 0 ] && inst=$4 plan=$5
		curl -s -m 60 -o "$WORK/cred-par-$i" -w '%{http_code}' -X PUT -u "$BROKER_USER:$BROKER_PW" \
			-H 'X-Broker-API-Version: 2.17' -H 'Content-Type: application/json' --data "$(bind_body "$plan")" \
			"http://127.0.0.1:$BROKER_PORT/v2/service_instances/$inst/service_bindings/$(new_id)" \
			>"$WORK/status-par-$i" &
		pids+=($!)
	done
	wait "${pids[@]}"
	for i in $(seq 1 "$1"); do
		[ "$(cat "$WORK/status-par-$i")" = 201 ] ||
			fail "concurrent bind $i: $(cat "$WORK/status-par-$i") $(cat "$WORK/cred-par-$i")"
		jq .credentials "$WORK/cred-par-$i" >"$WORK/cred-par-$i.json" && mv "$WORK/cred-par-$i.json" "$WORK/cred-par-$i"
	done
}
_t_binding_made() {
	expect_status 201 "bind $1"
	printf '%s' "$body" >"$WORK/bind-$1"
	jq -c .credentials <<<"$body" >"$WORK/cred-$1"
	cat "$WORK/cred-$1"
}

# unbind ID BINDING_ID PLAN_ID
unbind() {
	osb DELETE "/v2/service_instances/$1/service_bindings/$2?service_id=$SERVICE_ID&plan_id=$3"
	expect_status 200 "unbind $2"
}

# expect_login_credentials BINDING_ID SCHEME PORT [PATH]: the base every broker's credentials share
# (osb/credentials.h): the binding's own user (its derived name) with a password of 32 characters
# or more, uri SCHEME://user:password@127.0.0.1:PORT[/PATH], and one tcp endpoint 127.0.0.1:PORT.
expect_login_credentials() {
	local c user pw got want
	c=$(cat "$WORK/cred-$1")
	user=$(jq -r .username <<<"$c")
	pw=$(jq -r .password <<<"$c")
	[ "$user" = "$(binding_name "$1")" ] && [ "${#pw}" -ge 32 ] ||
		fail "bind $1: expected user $(binding_name "$1") with a password of 32 characters or more"
	got=$(jq -r .uri <<<"$c")
	want="$2://$user:$pw@127.0.0.1:$3${4:+/$4}"
	[ "$got" = "$want" ] || fail "bind $1: expected uri ${want//$pw/PW}, got ${got//$pw/PW}"
	got=$(jq -c .endpoints "$WORK/bind-$1")
	[ "$got" = "[{\"host\":\"127.0.0.1\",\"ports\":[\"$3\"],\"protocol\":\"tcp\"}]" ] ||
		fail "bind $1: expected one tcp endpoint 127.0.0.1:$3, got $got"
}

# expect_db_credentials BINDING_ID INSTANCE_ID SCHEME PORT: the credentials of a binding to a database
# on 127.0.0.1:PORT, as the core makes them with database_keys and jdbc: the base above with the
# database in the uri, and hostname, port, name, database and jdbcUrl.
expect_db_credentials() {
	local c user pw got want db
	db=$(instance_name "$2")
	expect_login_credentials "$1" "$3" "$4" "$db"
	c=$(cat "$WORK/cred-$1")
	user=$(jq -r .username <<<"$c")
	pw=$(jq -r .password <<<"$c")
	got=$(jq -c '[.hostname, .port, .name, .database, .jdbcUrl]' <<<"$c")
	want=$(jq -cn --arg db "$db" --arg s "$3" --argjson port "$4" --arg u "$user" --arg p "$pw" \
		'["127.0.0.1", $port, $db, $db, "jdbc:\($s)://127.0.0.1:\($port)/\($db)?user=\($u)&password=\($p)"]')
	[ "$got" = "$want" ] || fail "bind $1: expected credentials ${want//$pw/PW}, got ${got//$pw/PW}"
}

# ---- live sessions (through the adapter's adapter_session and adapter_sessions) ----

# session_start CREDS [FILE]: a session of binding CREDS held open in the background (its output in
# FILE); returns once the server counts it, with its process in $SESSION_PID.
session_start() {
	local out=${2:-$WORK/session.out} who n=0
	who=$(jq -r .username <<<"$1")
	adapter_session "$1" >"$out" 2>&1 &
	SESSION_PID=$!
	t_on_exit kill "$SESSION_PID"
	for _ in $(seq 1 200); do
		n=$(adapter_sessions "$1") || n=0
		[ "$n" -ge 1 ] && return 0
		kill -0 "$SESSION_PID" 2>/dev/null || fail "the session of $who ended before it showed: $(cat "$out")"
		sleep 0.05
	done
	fail "the session of $who never showed on the server"
}
# session_ended WHAT: the session of session_start must end within 10 s (WHAT says who ends it); its
# exit status in $SESSION_RC.
# shellcheck disable=SC2034 # SESSION_RC is for the caller
session_ended() {
	wait_for 10 "$1 to end the live session" '! kill -0 "$SESSION_PID" 2>/dev/null'
	SESSION_RC=0
	wait "$SESSION_PID" || SESSION_RC=$?
}

# no_secret_in FILE...: no password of a binding made by this test ($WORK/cred-*) nor SECRET_WORDS in them.
# A password may start with '-' (a PEM key) and span lines (each line is then looked for).
no_secret_in() {
	local f pw files=()
	for f in "$@"; do [ -f "$f" ] && files+=("$f"); done
	[ "${#files[@]}" -gt 0 ] || return 0
	for f in "$WORK"/cred-*; do
		[ -f "$f" ] || continue
		pw=$(jq -r '.password // empty' "$f")
		[ -z "$pw" ] && continue
		_t_absent "$pw" "${files[@]}" || fail "a binding's password is in $*"
	done
	for pw in ${SECRET_WORDS:-}; do
		_t_absent "$pw" "${files[@]}" || fail "a secret of the test is in $*"
	done
}
_t_absent() {
	local rc=0
	grep -qF -e "$1" -- "${@:2}" || rc=$?
	[ "$rc" != 2 ] || fail "no_secret_in: grep could not read ${*:2}"
	[ "$rc" = 1 ]
}
