#!/usr/bin/env bash
# Limits test: oversized bodies and headers, per-client rate limiting, and slow or idle clients that
# must not starve others (timeouts.request_ms). After each abuse the broker keeps serving.
. "$(dirname "$0")/lib.sh"
rel_init limits

bport=$("$ROOT/scripts/free-port.sh")
B=http://127.0.0.1:$bport
cfg=$WORK/broker.json
log=$WORK/broker.log
MAX_BODY=4096
REQUEST_MS=1500
THREADS=64 # more threads than the stalled clients below (half the default 128)
pg_up_free "$WORK/pg"
pgport=$PG_PORT

# alive "what": the broker process runs and answers /health/live.
alive() {
	local code
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$B/health/live") || code=000
	kill -0 "$BROKER_PID" 2>/dev/null && [ "$code" = 200 ]
}
# big_json BYTES: a provision body padded to about BYTES bytes.
big_json() {
	jq -cn --arg s "$SERVICE_ID" --arg p "$PLAN_SMALL" --arg pad "$(head -c "$1" /dev/zero | tr '\0' x)" \
		'{service_id: $s, plan_id: $p, organization_guid: "o", space_guid: "s", context: {pad: $pad}}'
}

# ---------------------------------------------------------------------------
step "body and header limits (limits.max_body_bytes = $MAX_BODY)"
write_config "$cfg" "$bport" "$WORK/data" "$pgport" \
	".limits = {max_body_bytes: $MAX_BODY} | .timeouts = {request_ms: $REQUEST_MS} | .threads = $THREADS"
broker_start "$cfg" "$log" "$B"
osb PUT "$B/v2/service_instances/$(new_id)" "$(big_json 8000)"
check "a body of 8 kB: 413 (got $STATUS: ${BODY:0:120})" [ "$STATUS" = 413 ]
check "... with a JSON description" json_error "$BODY"
big_json 8000 >"$WORK/big.json"
osb PUT "$B/v2/service_instances/$(new_id)" "" -H 'Content-Type: application/json' -H 'Transfer-Encoding: chunked' --data-binary "@$WORK/big.json"
check "a chunked body over the limit: 413 (got $STATUS)" [ "$STATUS" = 413 ]
json_error "$BODY" || fail "chunked 413: want a JSON description, got $BODY"
osb PUT "$B/v2/service_instances/$(new_id)" "" -H 'Content-Type: application/json' -H 'Content-Length: 100000000' --max-time 5
check "a declared Content-Length of 100 MB is refused at once: 413 (got $STATUS)" [ "$STATUS" = 413 ]
i=$(new_id)
osb PUT "$B/v2/service_instances/$i" "$(big_json 3000)"
check "a body just under the limit is accepted: 201 (got $STATUS)" [ "$STATUS" = 201 ]
osb PUT "$B/v2/service_instances/$(new_id)" "" -H "X-Padding: $(head -c 20000 /dev/zero | tr '\0' y)"
check "a 20 kB header: a 4xx, not a crash (got $STATUS)" [ "${STATUS:0:1}" = 4 ]
osb GET "$B/v2/catalog" "" -H "X-Padding: $(head -c 70000 /dev/zero | tr '\0' y)"
check "a 70 kB header: a 4xx or a closed connection (got $STATUS)" [ "${STATUS:0:1}" = 4 -o "$STATUS" = 000 ]
hdrs=()
for n in $(seq 1 400); do hdrs+=(-H "X-H$n: v"); done
osb GET "$B/v2/catalog" "" "${hdrs[@]}"
check "400 small headers: an answer, not a crash (got $STATUS)" [ "$STATUS" != 000 -a "${STATUS:0:1}" != 5 ]
check "the broker keeps serving after the oversized requests" alive

# ---------------------------------------------------------------------------
step "slow and idle clients (timeouts.request_ms = $REQUEST_MS, threads = $THREADS)"
STALLED=40
SLOW_FIG=
# stall MODE: open STALLED connections that send half a request of this kind (or, for keep-alive, a
# whole request and then nothing) and stop; a normal request
# must still be served within 2 s, and the broker must drop the stalled ones after request_ms (a worker
# thread serves one connection at a time, so they are dropped THREADS at a time).
stall() {
	local mode=$1 fds=() fd n t_open t0 ms closed first=-1 all=-1 auth batch
	batch=$((THREADS < STALLED ? THREADS : STALLED))
	auth=$(printf 'broker:%s' "$BROKER_PW" | base64 -w0)
	for n in $(seq 1 "$STALLED"); do
		exec {fd}<>"/dev/tcp/127.0.0.1/$bport" || { fail "cannot open connection $n"; continue; }
		fds+=("$fd")
		if [ "$mode" = headers ]; then
			printf 'PUT /v2/service_instances/stall-%d HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Broker-API-Version: 2.17\r\n' "$n" >&"$fd"
		elif [ "$mode" = keep-alive ]; then
			# one complete request, answered; then the client keeps the connection open and says nothing
			printf 'GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n' >&"$fd"
		else
			# complete, authenticated headers, then a body that stops after 10 of 200 bytes
			printf 'PUT /v2/service_instances/stall-%d HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic %s\r\nX-Broker-API-Version: 2.17\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{"service_' \
				"$n" "$auth" >&"$fd"
		fi
	done
	t_open=$(now_us)
	sleep 0.2
	t0=$(now_us)
	osb GET "$B/v2/catalog" "" --max-time 30
	ms=$(( ($(now_us) - t0) / 1000 ))
	check "$mode: with $STALLED stalled connections a normal request gets 200 within 2000 ms (got $STATUS in $ms ms)" [ "$STATUS" = 200 -a "$ms" -lt 2000 ]
	# The broker closes a stalled connection: our side of it goes to CLOSE-WAIT.
	for _ in $(seq 1 300); do
		closed=$(ss -tnH state close-wait "( dport = :$bport )" 2>/dev/null | wc -l)
		[ "$first" = -1 ] && [ "$closed" -ge "$batch" ] && first=$(( ($(now_us) - t_open) / 1000 ))
		[ "$closed" -ge "$STALLED" ] && all=$(( ($(now_us) - t_open) / 1000 )) && break
		sleep 0.05
	done
	# civetweb applies request_ms to each wait (the headers, then each body read), so a half-sent
	# request is dropped after a few request_ms: bounded, and other clients are served meanwhile.
	check "$mode: the first $batch stalled connections are dropped within 3 x request_ms + 1000 ms (after $first ms)" [ "$first" -ge 0 -a "$first" -le $((3 * REQUEST_MS + 1000)) ]
	check "$mode: all $STALLED are dropped in the end (after $all ms)" [ "$all" -ge 0 ]
	for fd in "${fds[@]}"; do exec {fd}>&-; done
	SLOW_FIG="$SLOW_FIG $mode: normal request ${ms} ms, first $batch dropped ${first} ms, all dropped ${all} ms;"
	check "$mode: the broker keeps serving after the stalled clients" alive
	sleep 0.5
}
stall headers
stall body
stall keep-alive

step "drip-fed clients: one byte every 500 ms, never finishing"
DRIP=10
drip() {
	local n=$1 t0 fd
	trap '' PIPE
	t0=$(now_us)
	exec {fd}<>"/dev/tcp/127.0.0.1/$bport" || return 0
	printf 'GET /v2/catalog HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Drip: ' >&"$fd"
	for _ in $(seq 1 40); do
		sleep 0.5
		# once the broker has closed, the second write after its FIN fails (EPIPE)
		printf 'z' >&"$fd" 2>/dev/null || break
	done
	echo $(( ($(now_us) - t0) / 1000 )) >"$WORK/drip-$n"
	exec {fd}>&-
}
dpids=()
for n in $(seq 1 "$DRIP"); do
	drip "$n" &
	track_pid $!
	dpids+=($!)
done
sleep 1
t0=$(now_us)
osb GET "$B/v2/catalog" "" --max-time 30
ms=$(( ($(now_us) - t0) / 1000 ))
check "with $DRIP drip-fed connections a normal request gets 200 within 2000 ms (got $STATUS in $ms ms)" [ "$STATUS" = 200 -a "$ms" -lt 2000 ]
for p in "${dpids[@]}"; do wait "$p"; done
worst=0
for n in $(seq 1 "$DRIP"); do
	d=$(cat "$WORK/drip-$n" 2>/dev/null || echo 99999)
	[ "$d" -gt "$worst" ] && worst=$d
done
DRIP_DROP_MS=$worst
check "drip-fed connections are dropped within $((4 * REQUEST_MS)) ms (the slowest lasted $worst ms; a client that never stops lasts 20000 ms)" [ "$worst" -lt $((4 * REQUEST_MS)) ]
check "the broker keeps serving after the drip-fed clients" alive
broker_stop_clean "$BROKER_PID" "$log" "limits"

# ---------------------------------------------------------------------------
step "rate limit (limits.rate_per_second = 5, rate_burst = 10)"
write_config "$cfg" "$bport" "$WORK/data" "$pgport" '.limits = {rate_per_second: 5, rate_burst: 10}'
broker_start "$cfg" "$log" "$B"
sleep 2   # the start-up probes used some of the bucket
declare -A RC=()
got429=
t0=$(now_us)
for n in $(seq 1 40); do
	osb GET "$B/v2/catalog"
	RC[$STATUS]=$(( ${RC[$STATUS]:-0} + 1 ))
	if [ "$STATUS" = 429 ] && [ -z "$got429" ]; then
		got429=1
		check "429 has a JSON description" json_error "$BODY"
		ra=$(header Retry-After)
		check "429 has Retry-After ($ra)" [ -n "$ra" ]
	fi
done
burst_ms=$(( ($(now_us) - t0) / 1000 ))
dist=$(for s in "${!RC[@]}"; do printf '%s:%s ' "$s" "${RC[$s]}"; done)
# the bucket holds 10 and refills 5 per second: at most 10 + 5 * seconds (+1 for rounding) get through
allowed=$(( 10 + 5 * burst_ms / 1000 + 1 ))
check "a burst of 40 in $burst_ms ms from one client: at least 10 and at most $allowed served, the rest 429 ($dist)" \
	[ "${RC[200]:-0}" -ge 10 -a "${RC[200]:-0}" -le "$allowed" -a "${RC[429]:-0}" -ge 1 ]
check "nothing else in the burst ($dist)" [ $(( ${RC[200]:-0} + ${RC[429]:-0} )) = 40 ]
# Another client address on loopback is not limited by the first one's burst.
osb GET "$B/v2/catalog" "" --interface 127.0.0.2
check "meanwhile another client (127.0.0.2) gets 200 (got $STATUS)" [ "$STATUS" = 200 ]
osb GET "$B/v2/catalog"
first=$STATUS
sleep 1.5
osb GET "$B/v2/catalog"
check "the limited client is served again after waiting (got $first, then $STATUS)" [ "$STATUS" = 200 ]
curl -s "$B/metrics" --interface 127.0.0.3 >"$WORK/metrics"
check "rate-limited requests are counted in /metrics" grep -qE '^osb_rate_limited_total [1-9]' "$WORK/metrics"
broker_stop_clean "$BROKER_PID" "$log" "limits (rate)"

echo "limits: $STALLED stalled connections with $THREADS threads:$SLOW_FIG" \
	"drip-fed dropped after ${DRIP_DROP_MS} ms; rate burst $dist"
rel_finish
