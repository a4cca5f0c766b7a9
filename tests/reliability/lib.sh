#!/usr/bin/env bash
# Helpers shared by the reliability tests: a work dir, real PostgreSQL servers, brokers, requests, counters.
# A test sources this with BROKER (osb-postgresql-broker) and ROOT (the repository) set, then calls
# rel_init NAME, and ends with rel_finish, which prints "N passed, N failed".
set -u

ROOT=${OSB_ROOT:?OSB_ROOT must point at the repository}
BROKER=${OSB_PG_BROKER:?OSB_PG_BROKER must point at the osb-postgresql-broker binary}
ROOT=$(cd "$ROOT" && pwd)
CATALOG=${CATALOG:-$ROOT/tests/reliability/catalog.json}
PASSED=0
FAILED=0
WORK=
BROKER_USER=broker
BROKER_PW=
ADMIN_PW=
# Every PostgreSQL directory and process we start is listed in $WORK/pg-dirs and $WORK/pids,
# files rather than arrays so that background lanes (subshells) can add to them too.
# LeakSanitizer makes the broker exit non-zero on a leak; keep the report in the log.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export PGCONNECT_TIMEOUT=5
unset PGPASSWORD PGUSER PGHOST PGPORT PGDATABASE PGSERVICE || true

SERVICE_ID=$(jq -r '.services[0].id' "$CATALOG")
plan_id() { jq -r --arg n "$1" '.services[0].plans[] | select(.name == $n) | .id' "$CATALOG"; }
PLAN_SMALL=$(plan_id small)
PLAN_ASYNC=$(plan_id async-small)

# ours PID: the process is still one this test started: its command line names the work directory
# (brokers, servers), or this shell is its parent (lanes, background clients). A listed process that
# ended long ago may have lent its number to another test's process, which must be left alone.
ours() {
	{ tr '\0' ' ' <"/proc/$1/cmdline"; } 2>/dev/null | grep -qF "$WORK" ||
		[ "$(awk '{print $4}' "/proc/$1/stat" 2>/dev/null)" = "$$" ]
}

rel_cleanup() {
	local rc=$?
	set +e
	local p d
	if [ -n "$WORK" ] && [ -f "$WORK/pids" ]; then
		while read -r p; do ours "$p" && kill -KILL "$p" 2>/dev/null; done <"$WORK/pids"
	fi
	if [ -n "$WORK" ] && [ -f "$WORK/pg-dirs" ]; then
		while read -r d; do "$ROOT/scripts/pg-stop.sh" "$d" >/dev/null 2>&1; done <"$WORK/pg-dirs"
	fi
	if [ -n "$WORK" ] && [ -d "$WORK" ]; then
		if [ "${OSB_KEEP_WORK:-0}" = 1 ]; then
			echo "work directory kept: $WORK"
		else
			rm -rf "$WORK"
		fi
	fi
	exit "$rc"
}

# rel_init NAME: work dir, passwords, traps, tools.
rel_init() {
	local tool
	for tool in curl jq psql openssl ss sha256sum; do
		command -v "$tool" >/dev/null || { echo "FAIL: $tool is needed on PATH" >&2; exit 1; }
	done
	[ -x "$BROKER" ] || { echo "FAIL: broker binary $BROKER not found" >&2; exit 1; }
	WORK=$(mktemp -d "/tmp/osb-rel-$1.XXXXXX")
	# pg-start.sh runs the server as "postgres" when we are root: it must reach $WORK/<dir>.
	chmod 711 "$WORK"
	BROKER_PW=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
	ADMIN_PW=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
	export OSB_DRIVER_ADMIN_PASSWORD=$ADMIN_PW
	trap rel_cleanup EXIT
	trap 'exit 130' INT TERM
}

# track_pid PID: killed by the trap if still running.
track_pid() {
	echo "$1" >>"$WORK/pids"
}

pass() {
	PASSED=$((PASSED + 1))
	printf 'ok   %s\n' "$1"
}
fail() {
	FAILED=$((FAILED + 1))
	printf 'FAIL %s\n' "$1"
}
# check "what" command...: pass when the command succeeds.
check() {
	local what=$1
	shift
	if "$@"; then pass "$what"; else fail "$what"; fi
}
step() {
	printf '== %s\n' "$*"
}

rel_finish() {
	printf '%d passed, %d failed\n' "$PASSED" "$FAILED"
	[ "$FAILED" = 0 ]
	exit $?
}

# Microseconds since the epoch.
now_us() {
	local t=$EPOCHREALTIME
	printf '%s' "${t/./}"
}

new_id() { cat /proc/sys/kernel/random/uuid; }
instance_name() { printf 'osb_%s' "$(printf 'instance:%s' "$1" | sha256sum | cut -c1-20)"; }
binding_name() { printf 'osb_%s' "$(printf 'binding:%s' "$1" | sha256sum | cut -c1-20)"; }

# pg_up DIR PORT: start a throw-away PostgreSQL on PORT (fails the test loudly when it cannot).
pg_up() {
	echo "$1" >>"$WORK/pg-dirs"
	"$ROOT/scripts/pg-start.sh" "$1" "$2" "$ADMIN_PW" >/dev/null ||
		{ echo "FAIL: PostgreSQL did not start on port $2" >&2; exit 1; }
}

# pg_up_free DIR: start a throw-away PostgreSQL on a free port, set PG_PORT. Other tests pick free
# ports at the same time, so a port taken between the pick and the bind gets two more tries on other
# ports; a server that still does not start fails the test loudly, with its log.
pg_up_free() {
	local try
	echo "$1" >>"$WORK/pg-dirs"
	for try in 1 2 3; do
		PG_PORT=$("$ROOT/scripts/free-port.sh" $((20000 + RANDOM % 20000)))
		"$ROOT/scripts/pg-start.sh" "$1" "$PG_PORT" "$ADMIN_PW" >"$WORK/pg-start.out" 2>&1 && return 0
		"$ROOT/scripts/pg-stop.sh" "$1" >/dev/null 2>&1
		echo "PostgreSQL did not start on port $PG_PORT (try $try of 3)" >&2
	done
	echo "FAIL: PostgreSQL did not start; last output:" >&2
	tail -n 20 "$WORK/pg-start.out" >&2
	exit 1
}
pg_down() {
	"$ROOT/scripts/pg-stop.sh" "$1" >/dev/null 2>&1
}

# admin_sql PORT DB SQL: one value per line.
admin_sql() {
	PGPASSWORD=$ADMIN_PW psql -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$1" -U postgres -d "$2" -c "$3"
}

# write_config FILE BROKER_PORT DATA_DIR PG_PORT [jq expression merged into the config]
write_config() {
	local file=$1 port=$2 data=$3 pgport=$4 extra=${5:-.}
	mkdir -p "$data"
	jq -n --arg listen "127.0.0.1:$port" --arg pw "$BROKER_PW" --arg cat "$CATALOG" \
		--arg data "$data" --argjson pgport "$pgport" '{
			listen: $listen,
			accounts: [{username: "broker", password: $pw}],
			catalog: $cat,
			data_dir: $data,
			store: {type: "sqlite"},
			log_level: "info",
			driver: {host: "127.0.0.1", port: $pgport, admin_user: "postgres", sslmode: "disable"}
		}' | jq "$extra" >"$file"
}

# broker_start CONFIG LOG BASE_URL: start a broker, wait for /health/live; sets BROKER_PID.
broker_start() {
	local cfg=$1 log=$2 base=$3 code=000 curl_tls=()
	case $base in https:*) curl_tls=(-k) ;; esac
	"$BROKER" --config "$cfg" >>"$log" 2>&1 &
	BROKER_PID=$!
	track_pid "$BROKER_PID"
	local port=${base##*:}
	for _ in $(seq 1 400); do
		if [ -n "${curl_tls[*]}" ]; then
			# a TLS listener is only probed for a listening socket: the test makes the first handshake
			ss -ltnH "sport = :$port" 2>/dev/null | grep -q . && code=listening && return 0
		else
			code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$base/health/live") || code=000
			[ "$code" = 200 ] && return 0
		fi
		kill -0 "$BROKER_PID" 2>/dev/null || break
		sleep 0.025
	done
	echo "FAIL: the broker did not start (last /health/live answer $code); its log:" >&2
	tail -n 30 "$log" >&2
	exit 1
}

# broker_kill PID: SIGKILL, reaped.
broker_kill() {
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

# broker_stop_clean PID LOG "what": SIGTERM; the broker must exit 0 within 30 s, with no
# LeakSanitizer or AddressSanitizer report in its log (ASan builds exit non-zero on a leak).
broker_stop_clean() {
	local pid=$1 log=$2 what=$3 rc=0
	kill -TERM "$pid" 2>/dev/null
	for _ in $(seq 1 600); do
		kill -0 "$pid" 2>/dev/null || break
		# a zombie has exited already
		[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ] && break
		sleep 0.05
	done
	if kill -0 "$pid" 2>/dev/null && [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ]; then
		fail "$what: the broker did not exit within 30 s of SIGTERM"
		kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null || rc=$?
	if [ "$rc" = 0 ]; then
		pass "$what: the broker exited 0 after SIGTERM"
	else
		fail "$what: the broker exited $rc after SIGTERM"
	fi
	if grep -qE 'LeakSanitizer|AddressSanitizer|runtime error:' "$log"; then
		fail "$what: a sanitizer report is in the broker's log:"
		grep -A20 -E 'LeakSanitizer|AddressSanitizer|runtime error:' "$log" | head -n 40
	else
		pass "$what: no leak or sanitizer report in the broker's log"
	fi
}

# osb METHOD URL [BODY] [curl args...]: sets STATUS and BODY (and $TMPD/headers; TMPD defaults to
# $WORK, parallel lanes set their own).
osb() {
	local method=$1 url=$2 data=${3:-} tmpd=${TMPD:-$WORK}
	shift 3 2>/dev/null || shift $#
	local args=(-s -X "$method" -o "$tmpd/body" -D "$tmpd/headers" -w '%{http_code}' --max-time "${OSB_MAX_TIME:-30}"
		-u "$BROKER_USER:$BROKER_PW" -H 'X-Broker-API-Version: 2.17')
	[ -n "$data" ] && args+=(-H 'Content-Type: application/json' --data-binary "$data")
	rm -f "$tmpd/body"
	STATUS=$(curl "${args[@]}" "$@" "$url") || STATUS=000
	BODY=$(cat "$tmpd/body" 2>/dev/null || true)
}

# header NAME: a header of the last answer, without CR.
header() {
	grep -iE "^$1:" "${TMPD:-$WORK}/headers" 2>/dev/null | head -n 1 | sed -E 's/^[^:]*:[ ]*//' | tr -d '\r'
}

# json_error BODY: a JSON object with non-empty "description" (and "error" when given).
json_error() {
	jq -e '(type == "object") and (.description | type == "string" and length > 0)' >/dev/null 2>&1 <<<"$1"
}

provision_body() {
	jq -cn --arg s "$SERVICE_ID" --arg p "$1" \
		'{service_id: $s, plan_id: $p, organization_guid: "org-1", space_guid: "space-1"}'
}
bind_body() {
	jq -cn --arg s "$SERVICE_ID" --arg p "$1" '{service_id: $s, plan_id: $p, bind_resource: {app_guid: "app-1"}}'
}

# in_progress_ops BASE: osb_operations{state="in progress"} from /metrics (empty when unreachable).
in_progress_ops() {
	curl -s --max-time 5 "$1/metrics" | awk '/^osb_operations\{state="in progress"\}/ {print $NF}'
}

# usage_all BASE_URL: every usage event of a broker as one JSON array, following the cursor page by page.
usage_all() {
	local cursor=0 more=true out="[]" page
	while [ "$more" = true ]; do
		page=$(curl -s --max-time 30 -u "$BROKER_USER:$BROKER_PW" "$1/usage/events?after=$cursor&limit=500") || return 1
		jq -e '.events | type == "array"' <<<"$page" >/dev/null 2>&1 || return 1
		out=$(jq -c --argjson p "$(jq -c .events <<<"$page")" '. + $p' <<<"$out")
		cursor=$(jq -r .next_cursor <<<"$page")
		more=$(jq -r .has_more <<<"$page")
	done
	printf '%s' "$out"
}

# usage_duplicates EVENTS_JSON: how many (type, instance, binding) appear more than once.
usage_duplicates() {
	jq '[group_by([.type, .instance_id, (.binding_id // "")])[] | select(length > 1)] | length' <<<"$1"
}

# usage_ordered EVENTS_JSON: "true" when the cursors strictly increase.
usage_ordered() {
	jq '[.[].cursor | tonumber] as $c | [range(1; $c | length) | $c[.] > $c[. - 1]] | all' <<<"$1"
}

# usage_count EVENTS_JSON TYPE INSTANCE [BINDING]: events of that type for that instance (and binding).
usage_count() {
	jq --arg t "$2" --arg i "$3" --arg b "${4:-}" \
		'[.[] | select(.type == $t and .instance_id == $i and ($b == "" or .binding_id == $b))] | length' <<<"$1"
}
