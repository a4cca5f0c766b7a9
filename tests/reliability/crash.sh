#!/usr/bin/env bash
# Crash test: SIGKILL the PostgreSQL broker at seeded random points of provision, bind, unbind and
# deprovision (synchronous and asynchronous plans), restart it, re-send the request that was in flight as a
# platform does and check its answer against the spec, and check that no acknowledged record is lost, every
# operation ends, nothing is left on the server without a record and no record is "ready" for something
# missing on the server; and that the usage log has exactly one record per change: none lost, none twice,
# none for a change that did not happen.
#
# Environment: OSB_CRASH_SEED (replay a run), OSB_CRASH_KILLS (kill points in all, default 60),
# OSB_CRASH_LANES (independent broker + PostgreSQL pairs run side by side, default 5, so the lease
# waits of 15-18 s after a kill overlap).
. "$(dirname "$0")/lib.sh"
rel_init crash

SEED=${OSB_CRASH_SEED:-$(( 10#$(date +%s%N | cut -c10-16) % 1000000 ))}  # 10#: digits with a leading 0 are not octal
KILLS=${OSB_CRASH_KILLS:-60}
LANES=${OSB_CRASH_LANES:-5}
RECOVERY_S=30   # a lease lapses after 15 s and abandoned operations are claimed every 3 s
echo "crash test: seed $SEED (replay with OSB_CRASH_SEED=$SEED), $KILLS kill points in $LANES lanes"

# ---- the requests a kill interrupts, run in the background ------------------------------------

# send_step BASE IID KIND INC STEP: send one step (prov, deprov, bind:BID, unbind:BID) with
# accepts_incomplete=true when INC is 1; sets STATUS and BODY.
send_step() {
	local base=$1 iid=$2 kind=$3 inc=$4 step=$5 what id q=""
	what=${step%%:*}
	id=${step#*:}
	[ "$id" = "$step" ] && id=$iid
	[ "$inc" = 1 ] && q="accepts_incomplete=true"
	local plan=$PLAN_SMALL
	[ "$kind" = async ] && plan=$PLAN_ASYNC
	case $what in
	prov) osb PUT "$base/v2/service_instances/$iid?$q" "$(provision_body "$plan")" ;;
	deprov) osb DELETE "$base/v2/service_instances/$iid?$q&service_id=$SERVICE_ID&plan_id=$plan" ;;
	bind) osb PUT "$base/v2/service_instances/$iid/service_bindings/$id?$q" "$(bind_body "$plan")" ;;
	unbind) osb DELETE "$base/v2/service_instances/$iid/service_bindings/$id?$q&service_id=$SERVICE_ID&plan_id=$plan" ;;
	esac
}

# poll_op BASE IID STEP OPERATION: poll last_operation with the operation until it ends; prints the state
# ("succeeded" also for a finished delete answered 410 Gone), or nothing when the answers stop making sense.
poll_op() {
	local base=$1 iid=$2 step=$3 op=$4 what id lo state=
	what=${step%%:*}
	id=${step#*:}
	lo="$base/v2/service_instances/$iid/last_operation?operation=$op"
	[ "$what" = bind ] || [ "$what" = unbind ] && lo="$base/v2/service_instances/$iid/service_bindings/$id/last_operation?operation=$op"
	for _ in $(seq 1 3000); do
		osb GET "$lo"
		if [ "$STATUS" = 410 ] && { [ "$what" = unbind ] || [ "$what" = deprov ]; }; then
			state=succeeded
			break
		fi
		[ "$STATUS" = 200 ] || { state=; break; }
		state=$(jq -r .state <<<"$BODY")
		[ "$state" = "in progress" ] || break
		sleep 0.01
	done
	printf '%s' "$state"
}

# run_steps BASE IID KIND INC STEP...: send the steps in order and print one line per answer:
# "<step> <id> <status>", and for asynchronous operations "<step>-op <id> <state>" once the operation
# ends. Stops at the first answer that is not a success. Steps: prov, deprov, bind:BID, unbind:BID.
run_steps() {
	local base=$1 iid=$2 kind=$3 inc=$4 step what id state
	shift 4
	for step in "$@"; do
		what=${step%%:*}
		id=${step#*:}
		[ "$id" = "$step" ] && id=$iid
		send_step "$base" "$iid" "$kind" "$inc" "$step"
		echo "$what $id $STATUS"
		[ "$what" = bind ] && [ "${STATUS:0:1}" = 2 ] && [ "$STATUS" != 202 ] && printf '%s' "$BODY" >"$TMPD/cred-$id.json"
		case $STATUS in
		200 | 201) continue ;;
		202) ;;
		*) return 0 ;;
		esac
		state=$(poll_op "$base" "$iid" "$step" "$(jq -r .operation <<<"$BODY")")
		[ -n "$state" ] || return 0
		echo "$what-op $id $state"
		[ "$state" = succeeded ] || return 0
	done
}

# resent_ok WHAT KIND INC STATUS: whether the spec allows STATUS for this request re-sent after a crash.
# Creations: 201 (it was never made, or was rolled back), 200 (made, identical), 202 while it runs (only
# with accepts_incomplete; an asynchronous plan also answers 202 to a new request); without
# accepts_incomplete the request waits for a running copy and gets how it ended, which is a 5xx with a
# JSON description when the copy was rolled back. Deletes: 200 (deleted by it, or by the copy it waited
# for), 202 while it runs (with accepts_incomplete), 410 when it is gone. Never 409 or 422.
resent_ok() {
	local what=$1 kind=$2 inc=$3 status=$4
	case $what:$kind:$inc:$status in
	prov:sync:1:20[012] | bind:sync:1:20[012] | prov:sync:0:20[01] | bind:sync:0:20[01]) return 0 ;;
	prov:sync:0:5?? | bind:sync:0:5??) json_error "$BODY" ;;
	prov:async:1:20[02] | bind:async:1:20[02]) return 0 ;;
	deprov:sync:1:20[02] | unbind:sync:1:20[02] | deprov:sync:0:200 | unbind:sync:0:200) return 0 ;;
	deprov:async:1:202 | unbind:async:1:202 | deprov:*:*:410 | unbind:*:*:410) return 0 ;;
	*) return 1 ;;
	esac
}

# ---- one lane: a broker with its own PostgreSQL, killed KILLS times -----------------------------

# rnd MAX: a number in [0, MAX) from the lane's seeded generator (30 bits).
rnd() {
	echo $(( (RANDOM * 32768 + RANDOM) % $1 ))
}

lane() {
	local n=$1 kills=$2
	local L=$WORK/lane$n
	mkdir -p "$L/run"
	TMPD=$L
	exec >"$L/out" 2>&1
	local pgport bport base cfg log
	pg_up_free "$L/pg"
	pgport=$PG_PORT
	bport=$("$ROOT/scripts/free-port.sh" $((20000 + (SEED + n * 3001) % 18000)))
	base=http://127.0.0.1:$bport
	cfg=$L/broker.json
	log=$L/broker.log
	write_config "$cfg" "$bport" "$L/data" "$pgport" ".replica_id = \"crash-lane-$n\""
	broker_start "$cfg" "$log" "$base"
	# the lane's schedule: seeded here, after anything else that draws from RANDOM
	RANDOM=$((SEED * 7919 + n))

	# The model of what the platform was told. Instances: kind (sync|async) and state; bindings: instance
	# and state. States: acked (2xx or "succeeded" seen), pending (no answer yet), deleting (a delete
	# was sent, no answer), gone (a delete was acknowledged).
	declare -A IKIND=() ISTATE=() BINST=() BSTATE=()
	local survived=0 lost=0 orphans=0 stuck=0 interrupted=0 checked=0 seq=0 recov_max=0 ulost=0 udup=0 uchecked=0
	local resent=0
	local k
	for k in $(seq 1 "$kills"); do
		local r_action r_kind r_pick r_delay r_inc action kind inc iid= bid= steps=() maxd
		r_action=$(rnd 100)
		r_kind=$(rnd 2)
		r_pick=$(rnd 1000)
		r_delay=$(rnd 1000000)
		r_inc=$(rnd 2)
		kind=sync
		[ "$r_kind" = 1 ] && kind=async
		local live_i=() free_i=() live_b=() id
		for id in "${!ISTATE[@]}"; do
			[ "${ISTATE[$id]}" = acked ] || continue
			live_i+=("$id")
			local has=0 b
			for b in "${!BINST[@]}"; do [ "${BINST[$b]}" = "$id" ] && has=1; done
			[ "$has" = 0 ] && free_i+=("$id")
		done
		for id in "${!BSTATE[@]}"; do [ "${BSTATE[$id]}" = acked ] && live_b+=("$id"); done
		# sorted, so that the seeded pick does not depend on hash order
		mapfile -t live_i < <(printf '%s\n' "${live_i[@]}" | sed '/^$/d' | sort)
		mapfile -t free_i < <(printf '%s\n' "${free_i[@]}" | sed '/^$/d' | sort)
		mapfile -t live_b < <(printf '%s\n' "${live_b[@]}" | sed '/^$/d' | sort)
		# prefer objects of the drawn kind, so synchronous and asynchronous plans both get their share
		local same=()
		for id in "${live_i[@]}"; do [ "${IKIND[$id]}" = "$kind" ] && same+=("$id"); done
		[ "${#same[@]}" -gt 0 ] && live_i=("${same[@]}")
		same=()
		for id in "${free_i[@]}"; do [ "${IKIND[$id]}" = "$kind" ] && same+=("$id"); done
		[ "${#same[@]}" -gt 0 ] && free_i=("${same[@]}")
		same=()
		for id in "${live_b[@]}"; do [ "${IKIND[${BINST[$id]}]}" = "$kind" ] && same+=("$id"); done
		[ "${#same[@]}" -gt 0 ] && live_b=("${same[@]}")
		if [ "$r_action" -lt 25 ]; then action=life
		elif [ "$r_action" -lt 40 ]; then action=prov
		elif [ "$r_action" -lt 60 ]; then action=bind
		elif [ "$r_action" -lt 80 ]; then action=unbind
		else action=deprov
		fi
		[ "$action" = prov ] && [ "${#live_i[@]}" -ge 4 ] && action=deprov
		[ "$action" = bind ] && [ "${#live_i[@]}" = 0 ] && action=prov
		[ "$action" = unbind ] && [ "${#live_b[@]}" = 0 ] && action=bind
		[ "$action" = bind ] && [ "${#live_i[@]}" = 0 ] && action=prov
		[ "$action" = deprov ] && [ "${#free_i[@]}" = 0 ] && action=life
		seq=$((seq + 1))
		case $action in
		life)
			iid=crash-$SEED-$n-$seq
			bid=$iid-b
			IKIND[$iid]=$kind
			steps=(prov "bind:$bid" "unbind:$bid" deprov)
			maxd=$([ "$kind" = sync ] && echo 320 || echo 700)
			;;
		prov)
			iid=crash-$SEED-$n-$seq
			IKIND[$iid]=$kind
			steps=(prov)
			maxd=$([ "$kind" = sync ] && echo 130 || echo 220)
			;;
		bind)
			iid=${live_i[$((r_pick % ${#live_i[@]}))]}
			bid=crash-$SEED-$n-$seq-b
			steps=("bind:$bid")
			maxd=$([ "${IKIND[$iid]}" = sync ] && echo 70 || echo 150)
			;;
		unbind)
			bid=${live_b[$((r_pick % ${#live_b[@]}))]}
			iid=${BINST[$bid]}
			steps=("unbind:$bid")
			maxd=$([ "${IKIND[$iid]}" = sync ] && echo 60 || echo 150)
			;;
		deprov)
			iid=${free_i[$((r_pick % ${#free_i[@]}))]}
			steps=(deprov)
			maxd=$([ "${IKIND[$iid]}" = sync ] && echo 60 || echo 150)
			;;
		esac
		kind=${IKIND[$iid]}
		# Platforms send accepts_incomplete=true (Cloud Foundry always does); synchronous plans get it half the time.
		inc=1
		[ "$kind" = sync ] && inc=$r_inc
		local delay_us=$((r_delay % (maxd * 1000 + 1)))
		echo "-- kill point $n.$k: $action ($kind, accepts_incomplete=$([ "$inc" = 1 ] && echo true || echo false)) of $iid${bid:+ / $bid}, SIGKILL after $delay_us us"

		# go
		rm -f "$L/run/"cred-*
		(TMPD=$L/run run_steps "$base" "$iid" "$kind" "$inc" "${steps[@]}") >"$L/steps" 2>&1 &
		local runner=$!
		sleep "$(printf '%d.%06d' $((delay_us / 1000000)) $((delay_us % 1000000)))"
		broker_kill "$BROKER_PID"
		wait "$runner"
		sed 's/^/   answer: /' "$L/steps"
		# where the kill landed: the request in flight, an asynchronous operation still running, or
		# after the last answer
		local hit
		hit=$(awk -v kind="$kind" '
			$3 == "000" { print $1 " (" kind ")"; found = 1; exit }
			{ last = $1; st = $3 }
			END {
				if (found) exit
				if (st == "202") print last " (" kind ", operation running)"
				else print "after the last answer"
			}' "$L/steps")
		echo "   hit: $hit"
		# what the platform was told
		local what id st
		while read -r what id st; do
			case $what in
			prov) [ "$st" = 200 ] || [ "$st" = 201 ] && ISTATE[$iid]=acked || ISTATE[$iid]=pending ;;
			prov-op) [ "$st" = succeeded ] && ISTATE[$iid]=acked || ISTATE[$iid]=pending ;;
			bind)
				BINST[$id]=$iid
				if [ "$st" = 200 ] || [ "$st" = 201 ]; then
					BSTATE[$id]=acked
					cp "$L/run/cred-$id.json" "$L/cred-$id.json"
				else
					BSTATE[$id]=pending
				fi
				;;
			bind-op) [ "$st" = succeeded ] && BSTATE[$id]=acked || BSTATE[$id]=pending ;;
			unbind) [ "$st" = 200 ] && BSTATE[$id]=gone || BSTATE[$id]=deleting ;;
			unbind-op) [ "$st" = succeeded ] && BSTATE[$id]=gone || BSTATE[$id]=deleting ;;
			deprov) [ "$st" = 200 ] && ISTATE[$iid]=gone || ISTATE[$iid]=deleting ;;
			deprov-op) [ "$st" = succeeded ] && ISTATE[$iid]=gone || ISTATE[$iid]=deleting ;;
			esac
		done <"$L/steps"
		# a request that never reached the broker still leaves its id to check
		[ -n "${ISTATE[$iid]:-}" ] || ISTATE[$iid]=pending
		[ -n "$bid" ] && [ -z "${BSTATE[$bid]:-}" ] && BINST[$bid]=$iid && BSTATE[$bid]=pending

		# restart, re-send what was in flight (as the platform would) and let every operation end
		local t0 t1 ip failed_before=$FAILED
		t0=$(now_us)
		broker_start "$cfg" "$log" "$base"
		ip=$(in_progress_ops "$base")
		if [ "${ip:-0}" != 0 ]; then
			interrupted=$((interrupted + 1))
			echo "   interrupted: $ip operation(s) in progress at the restart"
		fi
		local lost_step st
		lost_step=$(awk '$3 == "000" { print $1 ($1 ~ /bind/ ? ":" $2 : ""); exit }' "$L/steps")
		if [ -n "$lost_step" ]; then
			local what=${lost_step%%:*} rs t_rs rop=
			t_rs=$(now_us)
			TMPD=$L/run OSB_MAX_TIME=90 send_step "$base" "$iid" "$kind" "$inc" "$lost_step"
			rs=$STATUS
			t_rs=$(( ($(now_us) - t_rs) / 1000 ))
			echo "   re-sent $lost_step: $rs in $t_rs ms: ${BODY:0:160}"
			resent=$((resent + 1))
			echo "$what:$kind:$inc:$rs" >>"$L/resent"
			if resent_ok "$what" "$kind" "$inc" "$rs"; then
				pass "kill point $n.$k: the re-sent $what ($kind, accepts_incomplete=$inc) got $rs, as the spec allows"
			else
				fail "kill point $n.$k: the re-sent $what ($kind, accepts_incomplete=$inc) got $rs: $BODY"
			fi
			# what the platform learns from it
			id=${lost_step#*:}
			[ "$id" = "$lost_step" ] && id=$iid
			if [ "$rs" = 202 ]; then
				rop=$(jq -r .operation <<<"$BODY")
				st=$(TMPD=$L/run poll_op "$base" "$iid" "$lost_step" "$rop")
				echo "   its operation ended: ${st:-(no answer)}"
				[ "$st" = succeeded ] || [ "$st" = failed ] ||
					fail "kill point $n.$k: the operation of the re-sent $what did not end (${st:-no answer})"
				echo "$what-op $id $st" >"$L/resent-steps"
			else
				[ "$rs" = 410 ] && rs=200 # gone: the delete is done
				echo "$what $id $rs" >"$L/resent-steps"
				[ "$what" = bind ] && [ "${rs:0:1}" = 2 ] && printf '%s' "$BODY" >"$L/cred-$id.json"
			fi
			read -r what id st <"$L/resent-steps"
			case $st in
			200 | 201 | succeeded)
				case ${what%-op} in
				prov) ISTATE[$iid]=acked ;;
				bind) BSTATE[$id]=acked BINST[$id]=$iid ;;
				deprov) ISTATE[$iid]=gone ;;
				unbind) BSTATE[$id]=gone ;;
				esac
				;;
			esac
			ip=$(in_progress_ops "$base")
		fi
		while [ "${ip:-x}" != 0 ] && [ $(( ($(now_us) - t0) / 1000000 )) -lt "$RECOVERY_S" ]; do
			sleep 0.2
			ip=$(in_progress_ops "$base")
		done
		t1=$(( ($(now_us) - t0) / 1000 ))
		[ "$t1" -gt "$recov_max" ] && recov_max=$t1
		if [ "${ip:-x}" = 0 ]; then
			echo "   every operation ended ${t1} ms after the restart"
		else
			fail "kill point $n.$k: operations still in progress ${RECOVERY_S} s after the restart (metrics say '${ip:-unreachable}')"
			stuck=$((stuck + 1))
		fi

		# the usage log once every operation ended: checked against each record below
		local usage
		usage=$(usage_all "$base") || { usage="[]"; fail "kill point $n.$k: cannot read /usage/events"; }
		local ud
		ud=$(usage_duplicates "$usage")
		if [ "$ud" != 0 ]; then
			fail "kill point $n.$k: USAGE DUPLICATED: $ud change(s) recorded twice"
			udup=$((udup + ud))
		fi
		[ "$(usage_ordered "$usage")" = true ] || fail "kill point $n.$k: usage cursors do not strictly increase"

		# what is on the server
		local names
		names=$(admin_sql "$pgport" postgres "SELECT datname FROM pg_database WHERE datname LIKE 'osb\_%' UNION SELECT rolname FROM pg_roles WHERE rolname LIKE 'osb\_%'") ||
			fail "kill point $n.$k: cannot list the server's databases and roles"
		declare -A LIVE=()
		local name lo
		for id in $(printf '%s\n' "${!ISTATE[@]}" | sort); do
			osb GET "$base/v2/service_instances/$id"
			local gs=$STATUS
			name=$(instance_name "$id")
			osb GET "$base/v2/service_instances/$id/last_operation"
			lo=$STATUS
			[ "$lo" = 200 ] && [ "$(jq -r .state <<<"$BODY")" = "in progress" ] && {
				fail "kill point $n.$k: instance $id: last_operation still in progress"
				stuck=$((stuck + 1))
			}
			checked=$((checked + 1))
			# usage: created once when it exists; created and deleted once when deleted; else nothing
			local uw ug
			uw="0 0"
			[ "$gs" = 200 ] && uw="1 0"
			[ "$gs" != 200 ] && [ "$lo" = 410 ] && uw="1 1"
			ug="$(usage_count "$usage" instance_created "$id") $(usage_count "$usage" instance_deleted "$id")"
			uchecked=$((uchecked + 1))
			if [ "$ug" != "$uw" ]; then
				fail "kill point $n.$k: instance $id (GET $gs, last_operation $lo): usage records created/deleted $ug, want $uw"
				ulost=$((ulost + 1))
			fi
			case $gs in
			200)
				LIVE[$name]=1
				grep -qx "$name" <<<"$names" ||
					fail "kill point $n.$k: instance $id is ready in the broker but database $name is missing on the server"
				[ "${ISTATE[$id]}" = gone ] && fail "kill point $n.$k: instance $id came back after an acknowledged deprovision"
				ISTATE[$id]=acked
				;;
			404 | 410)
				if [ "${ISTATE[$id]}" = acked ]; then
					fail "kill point $n.$k: RECORD LOST: acknowledged instance $id answers $gs"
					lost=$((lost + 1))
				fi
				unset "ISTATE[$id]" "IKIND[$id]"
				;;
			*) fail "kill point $n.$k: instance $id: GET answered $gs after recovery: $BODY" ;;
			esac
		done
		for id in $(printf '%s\n' "${!BSTATE[@]}" | sort); do
			iid=${BINST[$id]}
			name=$(binding_name "$id")
			osb GET "$base/v2/service_instances/$iid/service_bindings/$id"
			local gs=$STATUS cred=$BODY
			osb GET "$base/v2/service_instances/$iid/service_bindings/$id/last_operation"
			[ "$STATUS" = 200 ] && [ "$(jq -r .state <<<"$BODY")" = "in progress" ] && {
				fail "kill point $n.$k: binding $id: last_operation still in progress"
				stuck=$((stuck + 1))
			}
			checked=$((checked + 1))
			# usage: created once while it exists; afterwards as many deleted as created (0 or 1)
			local bc bd
			bc=$(usage_count "$usage" binding_created "$iid" "$id")
			bd=$(usage_count "$usage" binding_deleted "$iid" "$id")
			uchecked=$((uchecked + 1))
			if { [ "$gs" = 200 ] && [ "$bc $bd" != "1 0" ]; } || { [ "$gs" != 200 ] && [ "$bc" != "$bd" ]; }; then
				fail "kill point $n.$k: binding $id (GET $gs): usage records created/deleted $bc $bd"
				ulost=$((ulost + 1))
			fi
			case $gs in
			200)
				LIVE[$name]=1
				grep -qx "$name" <<<"$names" ||
					fail "kill point $n.$k: binding $id is ready in the broker but role $name is missing on the server"
				[ "${BSTATE[$id]}" = gone ] && fail "kill point $n.$k: binding $id came back after an acknowledged unbind"
				if [ -f "$L/cred-$id.json" ] && [ "$(jq -r .credentials.password "$L/cred-$id.json")" != "$(jq -r .credentials.password <<<"$cred")" ]; then
					fail "kill point $n.$k: binding $id: the fetched password differs from the one acknowledged"
				fi
				local out
				out=$(psql -X -q -At -v ON_ERROR_STOP=1 -d "$(jq -r .credentials.uri <<<"$cred")" -c "SELECT current_user" 2>&1) ||
					fail "kill point $n.$k: binding $id: its credentials do not work: $out"
				BSTATE[$id]=acked
				;;
			404 | 410)
				if [ "${BSTATE[$id]}" = acked ]; then
					fail "kill point $n.$k: RECORD LOST: acknowledged binding $id answers $gs"
					lost=$((lost + 1))
				fi
				unset "BSTATE[$id]" "BINST[$id]"
				rm -f "$L/cred-$id.json"
				;;
			*) fail "kill point $n.$k: binding $id: GET answered $gs after recovery: $BODY" ;;
			esac
		done
		# nothing on the server without a live record, checked two ways
		local extra=0
		for name in $names; do
			[ -n "${LIVE[$name]:-}" ] && continue
			extra=$((extra + 1))
			fail "kill point $n.$k: ORPHAN: $name is on the server without a live record"
		done
		local rec
		local rrc=0
		"$BROKER" --config "$cfg" --reconcile >"$L/reconcile.out" 2>>"$log" || rrc=$?
		rec=$(tail -n 1 "$L/reconcile.out")
		[ "$rrc" = 0 ] || fail "kill point $n.$k: --reconcile exited $rrc (an ASan build exits non-zero on a leak)"
		local ro
		ro=$(jq -r '.orphans // empty' <<<"$rec" 2>/dev/null)
		if [ "$ro" != 0 ]; then
			fail "kill point $n.$k: --reconcile reports orphans: $rec"
			[ -n "$ro" ] && [ "$ro" -gt "$extra" ] && extra=$ro
		fi
		orphans=$((orphans + extra))
		unset LIVE
		if [ "$FAILED" = "$failed_before" ]; then
			survived=$((survived + 1))
			pass "kill point $n.$k ($action, $kind): survived (instances ${#ISTATE[@]}, bindings ${#BSTATE[@]}, reconcile: $rec)"
		fi
	done

	# drain: delete everything through the broker; nothing may be left on the server
	step "lane $n: unbind and deprovision what is left"
	for id in "${!BSTATE[@]}"; do
		iid=${BINST[$id]}
		local q= plan=$PLAN_SMALL
		[ "${IKIND[$iid]}" = async ] && q="accepts_incomplete=true&" plan=$PLAN_ASYNC
		osb DELETE "$base/v2/service_instances/$iid/service_bindings/$id?${q}service_id=$SERVICE_ID&plan_id=$plan"
		for _ in $(seq 1 500); do
			[ "$STATUS" = 202 ] || break
			sleep 0.02
			osb GET "$base/v2/service_instances/$iid/service_bindings/$id/last_operation"
			[ "$STATUS" = 200 ] && [ "$(jq -r .state <<<"$BODY")" = "in progress" ] && STATUS=202
		done
	done
	for id in "${!ISTATE[@]}"; do
		local q= plan=$PLAN_SMALL
		[ "${IKIND[$id]}" = async ] && q="accepts_incomplete=true&" plan=$PLAN_ASYNC
		osb DELETE "$base/v2/service_instances/$id?${q}service_id=$SERVICE_ID&plan_id=$plan"
		for _ in $(seq 1 500); do
			[ "$STATUS" = 202 ] || break
			sleep 0.02
			osb GET "$base/v2/service_instances/$id/last_operation"
			[ "$STATUS" = 200 ] && [ "$(jq -r .state <<<"$BODY")" = "in progress" ] && STATUS=202
		done
	done
	local left
	left=$(admin_sql "$pgport" postgres "SELECT datname FROM pg_database WHERE datname LIKE 'osb\_%' UNION ALL SELECT rolname FROM pg_roles WHERE rolname LIKE 'osb\_%'")
	if [ -z "$left" ]; then
		pass "lane $n: after deleting everything nothing named osb_ is left on the server"
	else
		fail "lane $n: left on the server after deleting everything: $(tr '\n' ' ' <<<"$left")"
		orphans=$((orphans + $(wc -l <<<"$left")))
	fi
	# after the drain, every instance and binding of the lane was created and deleted once at most
	local usage_end
	usage_end=$(usage_all "$base") || { usage_end="[]"; fail "lane $n: cannot read /usage/events after the drain"; }
	local uend
	uend=$(jq '[group_by(.instance_id + "/" + (.binding_id // ""))[] | select(([.[] | select(.type | endswith("created"))] | length) != ([.[] | select(.type | endswith("deleted"))] | length))] | length' <<<"$usage_end")
	if [ "$uend" = 0 ] && [ "$(usage_duplicates "$usage_end")" = 0 ]; then
		pass "lane $n: after the drain, every created record has its deleted one ($(jq length <<<"$usage_end") usage records)"
	else
		fail "lane $n: after the drain, $uend instance(s)/binding(s) have unmatched usage records"
		ulost=$((ulost + uend))
	fi
	broker_stop_clean "$BROKER_PID" "$log" "lane $n"
	echo "$kills $survived $lost $orphans $stuck $interrupted $checked $recov_max $PASSED $FAILED $ulost $udup $uchecked $resent" >"$L/result"
}

# ---- run the lanes side by side ----------------------------------------------------------------
pids=()
for n in $(seq 1 "$LANES"); do
	share=$((KILLS / LANES + (n <= KILLS % LANES ? 1 : 0)))
	lane "$n" "$share" &
	pids+=($!)
	track_pid $!
done
for p in "${pids[@]}"; do wait "$p"; done

tot_kills=0 tot_surv=0 tot_lost=0 tot_orph=0 tot_stuck=0 tot_int=0 tot_checked=0 worst=0 tot_ulost=0 tot_udup=0 tot_uchecked=0
tot_resent=0
for n in $(seq 1 "$LANES"); do
	echo "======== lane $n"
	cat "$WORK/lane$n/out"
	if [ ! -f "$WORK/lane$n/result" ]; then
		fail "lane $n did not finish (see its output above)"
		tail -n 30 "$WORK/lane$n/broker.log"
		continue
	fi
	read -r k s l o st i c w p f ul ud uc r <"$WORK/lane$n/result"
	tot_ulost=$((tot_ulost + ul)) tot_udup=$((tot_udup + ud)) tot_uchecked=$((tot_uchecked + uc))
	tot_resent=$((tot_resent + r))
	tot_kills=$((tot_kills + k)) tot_surv=$((tot_surv + s)) tot_lost=$((tot_lost + l)) tot_orph=$((tot_orph + o))
	tot_stuck=$((tot_stuck + st)) tot_int=$((tot_int + i)) tot_checked=$((tot_checked + c))
	[ "$w" -gt "$worst" ] && worst=$w
	PASSED=$((PASSED + p)) FAILED=$((FAILED + f))
	[ "$f" = 0 ] || { echo "--- lane $n broker log (last lines)"; tail -n 30 "$WORK/lane$n/broker.log"; }
done
echo "========"
echo "seed $SEED: kill points $tot_kills, survived $tot_surv, interrupted an operation $tot_int," \
	"records lost $tot_lost, orphans left $tot_orph, operations stuck $tot_stuck," \
	"record checks $tot_checked, longest recovery ${worst} ms;" \
	"usage records checked $tot_uchecked, lost or extra $tot_ulost, duplicated $tot_udup"
echo "re-sent after a restart: $tot_resent requests; answers (request:plan:accepts_incomplete:status):"
cat "$WORK"/lane*/resent 2>/dev/null | sort | uniq -c | sed 's/^/   /'
echo "where the kills landed (kills / of them with an operation in progress at the restart):"
cat "$WORK"/lane*/out | awk '
	/^   hit: / { k = substr($0, 9); all[k]++ }
	/^   interrupted:/ { hit[k]++ }
	END { for (k in all) printf "   %-42s %3d / %3d\n", k, all[k], hit[k] + 0 }' | sort
[ "$tot_kills" -ge 50 ] || fail "fewer than 50 kill points ($tot_kills)"
rel_finish
