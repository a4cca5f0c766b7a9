#!/usr/bin/env bash
# Idle and drip-fed connections must not starve the broker. With the default configuration, 1,000 connections
# from one address and 1,000 from 1,000 other addresses sit idle, drip-feed header bytes, or keep a connection
# open after one request; meanwhile a new client's GET /v2/catalog must be answered within 100 ms at the 99th
# percentile, a platform's 64 requests sent at once must all get 200, and the broker must stay under 64 MB.
. "$(dirname "$0")/lib.sh"
rel_init idle
command -v python3 >/dev/null || { echo "FAIL: python3 is needed on PATH" >&2; exit 1; }

ONE=${OSB_IDLE_ONE:-1000}
MANY=${OSB_IDLE_MANY:-1000}
SECONDS_PER_MODE=${OSB_IDLE_SECONDS:-12}
P99_MS=100
RSS_MB=64
bport=$("$ROOT/scripts/free-port.sh")
B=http://127.0.0.1:$bport
cfg=$WORK/broker.json
log=$WORK/broker.log
pg_up_free "$WORK/pg"
# The defaults (threads, timeouts, limits) are what is under test; only the log is quieter.
write_config "$cfg" "$bport" "$WORK/data" "$PG_PORT" '.log_level = "warn"'
# Under AddressSanitizer freed memory waits in a quarantine (256 MB by default) that would count as the broker's:
# keep it small for this measurement.
ASAN_OPTIONS="$ASAN_OPTIONS:quarantine_size_mb=16" broker_start "$cfg" "$log" "$B"
# A sanitizer build uses several times the memory of a real one: the bound is for Release builds.
asan=0
grep -q libasan "/proc/$BROKER_PID/maps" 2>/dev/null && asan=1

# jqq FILTER: the last client run's JSON passes FILTER.
jqq() { jq -e "$1" >/dev/null <<<"$out"; }
FIG=
for mode in idle drip keepalive; do
	step "$ONE + $MANY hostile connections ($mode) for ${SECONDS_PER_MODE}s"
	out=$(python3 "$ROOT/tests/reliability/idle_clients.py" "$bport" "$ONE" "$MANY" "$mode" "$SECONDS_PER_MODE" \
		"$BROKER_USER" "$BROKER_PW")
	echo "   $out"
	if ! jq -e . >/dev/null 2>&1 <<<"$out" || jq -e 'has("error")' >/dev/null <<<"$out"; then
		fail "$mode: the client did not run: $out"
		continue
	fi
	get() { jq -r "$1" <<<"$out"; }
	if [ "$mode" = keepalive ]; then
		# Once half the threads hold idle kept-alive connections, answers close theirs: the clients come back a
		# second later, so fewer are open at a time.
		check "$mode: keep-alive was refused to most hostile connections ($(get .answered) closed after their answer, $(get .hostile_open_avg) open on average)" \
			[ "$(get .answered)" -ge "$MANY" ]
	else
		# (all the idle ones time out together after timeouts.request_ms and come back: the average, not the minimum)
		check "$mode: the hostile connections were in place (at least $MANY open on average: $(get .hostile_open_avg), fewest $(get .hostile_open_min))" \
			[ "$(get .hostile_open_avg)" -ge "$MANY" ]
	fi
	check "$mode: $(get .probes) new clients' catalog requests, all 200 (errors: $(get .errors) $(get '.error_kinds|join(",")'))" \
		[ "$(get .probes)" -ge 100 -a "$(get .errors)" = 0 ]
	check "$mode: p99 within $P99_MS ms (p50 $(get .p50_ms), p99 $(get .p99_ms), max $(get .max_ms) ms)" \
		jqq ".p99_ms != null and .p99_ms <= $P99_MS"
	check "$mode: a platform's 64 requests at once are never refused ($(get '[.bursts[] | "\(.ok)/\(.total) in \(.slowest_ms) ms"] | join(", ")'))" \
		jqq '(.bursts | length) == 2 and all(.bursts[]; .ok == 64)'
	check "the broker keeps running after $mode" kill -0 "$BROKER_PID"
	FIG="$FIG $mode: p50 $(get .p50_ms) ms, p99 $(get .p99_ms) ms, max $(get .max_ms) ms, open $(get .hostile_open_avg);"
done
hwm=$(awk '/^VmHWM:/ {print int($2 / 1024)}' "/proc/$BROKER_PID/status")
threads=$(awk '/^Threads:/ {print $2}' "/proc/$BROKER_PID/status")
if [ "$asan" = 1 ]; then
	echo "   peak RSS ${hwm} MB with $threads threads (AddressSanitizer build: the ${RSS_MB} MB bound applies to Release builds)"
	check "peak RSS of the sanitizer build stays under $((2 * RSS_MB)) MB (${hwm} MB)" [ "$hwm" -lt $((2 * RSS_MB)) ]
else
	check "peak RSS stays under $RSS_MB MB (${hwm} MB, $threads threads)" [ "$hwm" -lt "$RSS_MB" ]
fi
osb GET "$B/v2/catalog"
check "the broker answers normally afterwards (got $STATUS)" [ "$STATUS" = 200 ]
broker_stop_clean "$BROKER_PID" "$log" "idle"
echo "idle: $ONE + $MANY hostile connections:$FIG peak RSS ${hwm} MB$([ "$asan" = 1 ] && echo ' (ASan)')"
rel_finish
