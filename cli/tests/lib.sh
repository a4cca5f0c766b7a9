#!/usr/bin/env bash
# Helpers of the osb client's tests: a private OSB_HOME, real servers and brokers on free loopback ports,
# running osb and checking what it printed and how it exited. A test sources this, then calls finish.
set -u

ROOT=${OSB_ROOT:?OSB_ROOT must point at the repository}
OSB_BIN=${OSB_CLI:?OSB_CLI must point at the osb binary}
BUILD=${OSB_BUILD:?OSB_BUILD must point at the build directory}
PASSED=0
FAILED=0
CASE=$(basename "${0%.sh}")
WORK=$(mktemp -d "/tmp/osb-cli-$CASE.XXXXXX")
chmod 711 "$WORK" # pg-start.sh runs the server as postgres, which must reach $WORK/pg
export OSB_HOME=$WORK/home
unset OSB_BROKER_URL OSB_BROKER_NAME OSB_BROKER_USERNAME OSB_BROKER_PASSWORD XDG_CONFIG_HOME || true
BROKER_PIDS=()
STOPPERS=()

cleanup() {
	local rc=$?
	set +e
	for pid in "${BROKER_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
	for pid in "${BROKER_PIDS[@]}"; do wait "$pid" 2>/dev/null; done
	for s in "${STOPPERS[@]}"; do eval "$s" >/dev/null 2>&1; done
	if [ "$FAILED" != 0 ] || [ "$rc" != 0 ]; then
		for log in "$WORK"/*.log; do
			[ -f "$log" ] || continue
			echo "--- last lines of $log" >&2
			tail -n 25 "$log" >&2
		done
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pass() {
	PASSED=$((PASSED + 1))
	printf 'ok   %s\n' "$1"
}
fail() {
	FAILED=$((FAILED + 1))
	printf 'FAIL %s\n' "$1"
	[ -n "${OUT:-}${ERR:-}" ] && printf '     exit %s\n     stdout: %s\n     stderr: %s\n' "${RC:-}" "${OUT:0:600}" "${ERR:0:600}"
}
# die MESSAGE: a set-up step failed; nothing after it can be meaningful.
die() {
	FAILED=$((FAILED + 1))
	printf 'FAIL %s\n' "$1"
	exit 1
}
step() {
	echo "== $*"
}

# osb ARGS...: run the client; sets OUT (stdout), ERR (stderr) and RC (exit code).
osb() {
	OUT=$("$OSB_BIN" "$@" 2>"$WORK/stderr") && RC=0 || RC=$?
	ERR=$(cat "$WORK/stderr")
	sanitizer_check "osb $*"
}
# The client runs under ASan/UBSan in CI too: any report is a failure of its own.
sanitizer_check() {
	if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' <<<"$ERR"; then
		fail "$1: a sanitizer report"
		printf '%s\n' "$ERR" | head -40
	fi
}
# expect_rc CODE "what": the last osb exited with CODE.
expect_rc() {
	if [ "$RC" = "$1" ]; then pass "$2 (exit $1)"; else fail "$2: want exit $1"; fi
}
# expect_out REGEX "what" / expect_err REGEX "what": stdout / stderr of the last osb matches.
expect_out() {
	if grep -qE -- "$1" <<<"$OUT"; then pass "$2"; else fail "$2: want stdout matching $1"; fi
}
expect_err() {
	if grep -qE -- "$1" <<<"$ERR"; then pass "$2"; else fail "$2: want stderr matching $1"; fi
}
# expect_jq FILTER VALUE "what": jq -r FILTER of the last stdout prints VALUE.
expect_jq() {
	local got
	got=$(jq -r "$1" <<<"$OUT" 2>/dev/null)
	if [ "$got" = "$2" ]; then pass "$3"; else fail "$3: want $1 = $2, got '$got'"; fi
}
# expect_true "what" command...: the command succeeds.
expect_true() {
	local what=$1
	shift
	if "$@"; then pass "$what"; else fail "$what"; fi
}

random_pw() {
	head -c 18 /dev/urandom | base64 | tr -d '/+='
}
free_port() {
	"$ROOT/scripts/free-port.sh" "$@"
}

# start_broker MW CONFIG_JSON: start build/brokers/MW/osb-MW-broker with that config; waits for /health/live.
# Sets BROKER_URL; the broker's log is $WORK/MW.log.
start_broker() {
	local mw=$1 config=$2 port
	port=$(jq -r '.listen | split(":")[1]' <<<"$config")
	printf '%s\n' "$config" >"$WORK/$mw.json"
	"$BUILD/brokers/$mw/osb-$mw-broker" --config "$WORK/$mw.json" >>"$WORK/$mw.log" 2>&1 &
	BROKER_PIDS+=($!)
	BROKER_URL=http://127.0.0.1:$port
	for _ in $(seq 1 600); do
		curl -s -o /dev/null "$BROKER_URL/health/live" && return 0
		kill -0 "${BROKER_PIDS[-1]}" 2>/dev/null || break
		sleep 0.05
	done
	die "the $mw broker did not start (see $WORK/$mw.log)"
}

# broker_config MW PORT DATA_DIR PASSWORD [DRIVER_JSON] [EXTRA_JSON]
broker_config() {
	jq -n --arg l "127.0.0.1:$2" --arg c "$ROOT/catalog/$1.json" --arg d "$3" --arg pw "$4" \
		--argjson driver "${5:-{\}}" --argjson extra "${6:-{\}}" \
		'{listen: $l, accounts: [{username: "broker", password: $pw}], catalog: $c, data_dir: $d, log_level: "info",
		  timeouts: {retry_after_s: 1}, driver: $driver} + $extra'
}

# register NAME URL PASSWORD: osb register-broker with the account in the environment.
register() {
	OUT=$(OSB_BROKER_USERNAME=broker OSB_BROKER_PASSWORD=$3 "$OSB_BIN" register-broker "$1" "$2" 2>"$WORK/stderr") && RC=0 || RC=$?
	ERR=$(cat "$WORK/stderr")
	sanitizer_check "osb register-broker $1"
}

# usage_events URL PASSWORD: every usage event of a broker, as one JSON array.
usage_events() {
	curl -s -u "broker:$2" "$1/usage/events?limit=1000" | jq -c .events
}

finish() {
	# Brokers must stop cleanly: under ASan/UBSan a leak or undefined behaviour makes them exit non-zero.
	local i rc
	for i in "${!BROKER_PIDS[@]}"; do
		kill -TERM "${BROKER_PIDS[$i]}" 2>/dev/null
		wait "${BROKER_PIDS[$i]}" 2>/dev/null
		rc=$?
		if [ "$rc" = 0 ]; then pass "broker ${BROKER_PIDS[$i]} stops cleanly on SIGTERM"; else
			fail "broker ${BROKER_PIDS[$i]} exited $rc on SIGTERM (a crash, a leak or a sanitizer report)"; fi
	done
	BROKER_PIDS=()
	if grep -lE 'AddressSanitizer|LeakSanitizer|runtime error:' "$WORK"/*.log "$WORK"/stderr* 2>/dev/null; then
		fail "a sanitizer report (above)"
	fi
	printf '%d passed, %d failed\n' "$PASSED" "$FAILED"
	[ "$FAILED" = 0 ]
	exit $?
}
