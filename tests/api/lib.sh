#!/usr/bin/env bash
# Helpers for the API tests: start the fake broker, send requests, check answers.
# A case file sources this, calls start_broker, then req/expect_*, then finish.
set -u

ROOT=${OSB_ROOT:?OSB_ROOT must point at the repository}
FAKE=${OSB_FAKE_BROKER:?OSB_FAKE_BROKER must point at the osb-fake-broker binary}
PASSED=0
FAILED=0
CASE=$(basename "${0%.sh}")
WORK=$(mktemp -d "/tmp/osb-api-$CASE.XXXXXX")
BROKER_PID=
USER_NAME=broker
USER_PASS=broker-test-password
API_VERSION=2.17

cleanup() {
	stop_broker
	rm -rf "$WORK"
}
trap cleanup EXIT

# write_config [extra JSON members...]: the broker's config in $WORK/config.json
write_config() {
	# below the kernel's ephemeral range (32768 and up), where client sockets would collide
	PORT=$("$ROOT/scripts/free-port.sh" $((20000 + RANDOM % 12000)))
	local extra=${1:-}
	cat >"$WORK/config.json" <<JSON
{
  "listen": "127.0.0.1:$PORT",
  "accounts": [{"username": "$USER_NAME", "password": "$USER_PASS"},
               {"username": "rotated", "password": "second-password"}],
  "catalog": "${CATALOG:-$ROOT/tests/api/catalog.json}",
  "data_dir": "$WORK/data",
  "log_level": "debug",
  "timeouts": {"retry_after_s": 3}
  ${extra:+,$extra}
}
JSON
	BASE="http://127.0.0.1:$PORT"
}

# start_broker [extra config JSON]: start the fake broker and wait until it answers.
# When the port was taken between picking and binding it (other tests run at the same time), a fresh
# config moves to another port; a restart with the same config waits for the port instead.
start_broker() {
	local fresh=0 lines
	if [ ! -f "$WORK/config.json" ]; then
		write_config "${1:-}"
		fresh=1
	fi
	for _ in 1 2 3 4 5; do
		lines=$(cat "$WORK/broker.log" 2>/dev/null | wc -l)
		"$FAKE" --config "$WORK/config.json" >>"$WORK/broker.log" 2>&1 &
		BROKER_PID=$!
		for _ in $(seq 1 1000); do # 20 s: sanitizer builds on a loaded machine start slowly
			if curl -s -o /dev/null "$BASE/health/live"; then
				return 0
			fi
			kill -0 "$BROKER_PID" 2>/dev/null || break
			sleep 0.02
		done
		wait "$BROKER_PID" 2>/dev/null
		BROKER_PID=
		tail -n +"$((lines + 1))" "$WORK/broker.log" | grep -q 'Address already in use' || break
		if [ "$fresh" = 1 ]; then
			PORT=$("$ROOT/scripts/free-port.sh" $((20000 + RANDOM % 12000)))
			sed -i -E "s/\"listen\": \"127\.0\.0\.1:[0-9]+\"/\"listen\": \"127.0.0.1:$PORT\"/" "$WORK/config.json"
			BASE="http://127.0.0.1:$PORT"
		else
			sleep 1
		fi
	done
	echo "the broker did not start; its log:" >&2
	cat "$WORK/broker.log" >&2
	exit 1
}

# our_broker: BROKER_PID is still our broker (its command line names $WORK). One that ended may have
# lent its number to another test's process, which a signal must not reach.
our_broker() {
	{ tr '\0' ' ' <"/proc/$BROKER_PID/cmdline"; } 2>/dev/null | grep -qF "$WORK"
}

# stop_broker [signal]: stop it and wait (TERM by default; KILL for crash tests).
stop_broker() {
	[ -n "$BROKER_PID" ] || return 0
	our_broker && kill "-${1:-TERM}" "$BROKER_PID" 2>/dev/null
	wait "$BROKER_PID" 2>/dev/null
	BROKER_PID=
}

# req METHOD PATH [BODY] [curl args...]: sets STATUS, BODY, and $WORK/headers.
# Sends auth and X-Broker-API-Version unless NOAUTH=1 / NOVERSION=1 are set for the call.
req() {
	local method=$1 path=$2 body=${3:-}
	shift 3 2>/dev/null || shift $#
	local args=(-s -S -X "$method" -o "$WORK/body" -D "$WORK/headers" -w '%{http_code}' --max-time 30)
	[ "${NOAUTH:-0}" = 1 ] || args+=(-u "$USER_NAME:$USER_PASS")
	[ "${NOVERSION:-0}" = 1 ] || args+=(-H "X-Broker-API-Version: $API_VERSION")
	if [ -n "$body" ]; then
		args+=(-H 'Content-Type: application/json' --data-binary "$body")
	fi
	rm -f "$WORK/body" # curl leaves the old file alone when an answer has no body
	STATUS=$(curl "${args[@]}" "$@" "$BASE$path") || STATUS=000
	BODY=$(cat "$WORK/body" 2>/dev/null)
}

pass() {
	PASSED=$((PASSED + 1))
	printf 'ok   %s\n' "$1"
}

fail() {
	FAILED=$((FAILED + 1))
	printf 'FAIL %s\n     status %s body %s\n' "$1" "$STATUS" "$BODY"
}

# expect_status CODE "what": the last answer had this status.
expect_status() {
	if [ "$STATUS" = "$1" ]; then pass "$2 (status $1)"; else fail "$2: want status $1"; fi
}

# expect_jq FILTER VALUE "what": jq -r FILTER of the last body prints VALUE.
expect_jq() {
	local got
	got=$(printf '%s' "$BODY" | jq -r "$1" 2>/dev/null)
	if [ "$got" = "$2" ]; then pass "$3"; else fail "$3: want $1 = $2, got '$got'"; fi
}

# expect_error CODE ERROR "what": status CODE and a JSON body whose "error" is ERROR (or any when "-").
expect_error() {
	local err
	err=$(printf '%s' "$BODY" | jq -r '.error // empty' 2>/dev/null)
	local desc
	desc=$(printf '%s' "$BODY" | jq -r '.description // empty' 2>/dev/null)
	if [ "$STATUS" = "$1" ] && { [ "$2" = "-" ] || [ "$err" = "$2" ]; } && [ -n "$desc" ]; then
		pass "$3 ($1 $2)"
	else
		fail "$3: want $1 with error $2 and a description"
	fi
}

# expect_header NAME REGEX "what"
expect_header() {
	if grep -iE "^$1: $2" "$WORK/headers" >/dev/null; then pass "$3"; else fail "$3: want header $1 matching $2"; fi
}

# expect_true "what" command...: the command succeeds.
expect_true() {
	local what=$1
	shift
	if "$@"; then pass "$what"; else fail "$what"; fi
}

# poll_instance ID [OPERATION]: poll last_operation until it is not "in progress" (30 s at most).
poll_instance() {
	local q=${2:+?operation=$2}
	for _ in $(seq 1 "${POLL_TRIES:-300}"); do
		req GET "/v2/service_instances/$1/last_operation$q"
		[ "$STATUS" = 200 ] && [ "$(printf '%s' "$BODY" | jq -r .state)" != "in progress" ] && return 0
		[ "$STATUS" = 410 ] && return 0
		sleep 0.1
	done
	return 1
}

poll_binding() {
	local q=${3:+?operation=$3}
	for _ in $(seq 1 "${POLL_TRIES:-300}"); do
		req GET "/v2/service_instances/$1/service_bindings/$2/last_operation$q"
		[ "$STATUS" = 200 ] && [ "$(printf '%s' "$BODY" | jq -r .state)" != "in progress" ] && return 0
		[ "$STATUS" = 410 ] && return 0
		sleep 0.1
	done
	return 1
}

# provision_body PLAN [PARAMS_JSON]: a valid provision body.
provision_body() {
	local svc=svc-fake
	[ "$1" = plan-other ] && svc=svc-other
	printf '{"service_id":"%s","plan_id":"%s","organization_guid":"org-1","space_guid":"space-1","context":{"platform":"cloudfoundry"}%s}' \
		"$svc" "$1" "${2:+,\"parameters\":$2}"
}

# bind_body PLAN [PARAMS_JSON] [EXTRA_MEMBERS]
bind_body() {
	printf '{"service_id":"svc-fake","plan_id":"%s","bind_resource":{"app_guid":"app-1"}%s%s}' \
		"$1" "${2:+,\"parameters\":$2}" "${3:+,$3}"
}

# tenants: how many tenant files the fake server holds.
tenants() {
	find "$WORK/data/fake-tenants" -name 'osb_*' 2>/dev/null | wc -l
}

# ---- more helpers ---------------------------------------------------------

# expect_absent FILTER "what": jq FILTER of the last body is null or missing.
expect_absent() {
	local got
	got=$(printf '%s' "$BODY" | jq -c "$1" 2>/dev/null)
	if [ "$got" = null ]; then pass "$2"; else fail "$2: want $1 absent, got '$got'"; fi
}

# expect_no_header NAME "what": the last answer did not carry this header.
expect_no_header() {
	if grep -iE "^$1:" "$WORK/headers" >/dev/null; then fail "$2: want no header $1"; else pass "$2"; fi
}

# header NAME: the value of a header of the last answer (without CR).
header() {
	grep -iE "^$1:" "$WORK/headers" | head -n 1 | sed -E 's/^[^:]*:[ ]*//' | tr -d '\r'
}

# jqb FILTER: jq -r FILTER of the last body.
jqb() {
	printf '%s' "$BODY" | jq -r "$1" 2>/dev/null
}

# expect_json_error "what": the last answer is a 4xx/5xx whose body is JSON with non-empty error and description.
expect_json_error() {
	if [ "${STATUS:0:1}" = 4 ] || [ "${STATUS:0:1}" = 5 ] &&
		printf '%s' "$BODY" | jq -e '(.error|type=="string" and length>0) and (.description|type=="string" and length>0)' >/dev/null 2>&1; then
		pass "$1 ($STATUS $(jqb .error))"
	else
		fail "$1: want a 4xx/5xx with a JSON error and description"
	fi
}

# expect_live "what": the broker process runs and /health/live answers 200.
expect_live() {
	local code
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$BASE/health/live")
	if [ "$code" = 200 ] && kill -0 "$BROKER_PID" 2>/dev/null; then pass "$1"; else fail "$1: the broker is not live (health $code)"; fi
}

# bg_req NAME METHOD PATH [BODY] [curl args...]: like req, in the background; bg_wait NAME collects it.
bg_req() {
	local name=$1 method=$2 path=$3 body=${4:-}
	shift 4 2>/dev/null || shift $#
	local args=(-s -S -X "$method" -o "$WORK/bg-$name.body" -D "$WORK/bg-$name.headers" -w '%{http_code}' --max-time 60
		-u "$USER_NAME:$USER_PASS" -H "X-Broker-API-Version: $API_VERSION")
	if [ -n "$body" ]; then
		args+=(-H 'Content-Type: application/json' --data-binary "$body")
	fi
	rm -f "$WORK/bg-$name.body"
	(curl "${args[@]}" "$@" "$BASE$path" >"$WORK/bg-$name.status" 2>/dev/null || echo 000 >"$WORK/bg-$name.status") &
	eval "BG_$name=\$!"
}

# bg_wait NAME: wait for a bg_req and set STATUS, BODY and $WORK/headers from it.
bg_wait() {
	local pid
	eval "pid=\${BG_$1:-}"
	[ -n "$pid" ] && wait "$pid" 2>/dev/null
	STATUS=$(cat "$WORK/bg-$1.status" 2>/dev/null)
	BODY=$(cat "$WORK/bg-$1.body" 2>/dev/null)
	cp "$WORK/bg-$1.headers" "$WORK/headers" 2>/dev/null
}

# wait_for SECONDS command...: run the command every 0.1 s until it succeeds (0) or time runs out (1).
wait_for() {
	local tries=$(($1 * 10))
	shift
	for _ in $(seq 1 "$tries"); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# op_state ID [OPERATION]: the state last_operation reports for an instance (empty when not 200).
op_state() {
	req GET "/v2/service_instances/$1/last_operation${2:+?operation=$2}"
	jqb .state
}

# instance_tenant ID / binding_tenant ID: the server-side name the core derives (names.h).
instance_tenant() {
	printf 'osb_%s' "$(printf 'instance:%s' "$1" | sha256sum | cut -c1-20)"
}
binding_tenant() {
	printf 'osb_%s' "$(printf 'binding:%s' "$1" | sha256sum | cut -c1-20)"
}

# has_instance ID / has_binding ID: the fake server holds that tenant.
has_instance() {
	[ -f "$WORK/data/fake-tenants/$(instance_tenant "$1")" ]
}
has_binding() {
	[ -f "$WORK/data/fake-tenants/$(binding_tenant "$1")" ]
}

# The broker writes its log through one buffered writer thread: give it a moment before
# reading the log (settle_log), or poll for a line that must appear (log_has PATTERN).
settle_log() {
	sleep 0.3
}
log_has() {
	for _ in $(seq 1 40); do
		grep -qE -- "$1" "$WORK/broker.log" && return 0
		sleep 0.05
	done
	return 1
}

finish() {
	# The last broker must stop cleanly: under ASan/UBSan a leak or undefined behaviour
	# makes it exit non-zero, and its log must hold no sanitizer report.
	if [ -n "$BROKER_PID" ]; then
		our_broker && kill -TERM "$BROKER_PID" 2>/dev/null
		wait "$BROKER_PID" 2>/dev/null
		local rc=$?
		BROKER_PID=
		if [ "$rc" = 0 ]; then pass "the broker stops cleanly on SIGTERM (exit 0)"; else
			fail "the broker exited $rc on SIGTERM (a crash, a leak or a sanitizer report)"; fi
	fi
	if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$WORK/broker.log" 2>/dev/null; then
		fail "a sanitizer report in the broker's log"
		grep -E -A12 'AddressSanitizer|LeakSanitizer|runtime error:' "$WORK/broker.log" | head -40
	fi
	printf '%d passed, %d failed\n' "$PASSED" "$FAILED"
	[ "$FAILED" = 0 ]
	exit $?
}
