#!/usr/bin/env bash
# Replica test: two brokers (distinct replica_id) share one PostgreSQL state store and are hit at once
# with identical and conflicting requests for the same instance and binding ids. Exactly one instance
# or binding per id, only answers the spec prescribes, and no tenant made twice on the server.
#
# Environment: OSB_REPLICA_IDS (instance ids, default 20), OSB_REPLICA_REPEATS (requests per id and
# replica in each phase, default 5: 3 identical, 2 conflicting).
. "$(dirname "$0")/lib.sh"
rel_init replicas

NIDS=${OSB_REPLICA_IDS:-20}
REPEATS=${OSB_REPLICA_REPEATS:-5}
p1=$("$ROOT/scripts/free-port.sh")
p2=$("$ROOT/scripts/free-port.sh" $((p1 + 1)))
R1=http://127.0.0.1:$p1
R2=http://127.0.0.1:$p2
mkdir -p "$WORK/r"

pg_up_free "$WORK/pg"
pgport=$PG_PORT
step "PostgreSQL on $pgport (middleware and state store), replicas on $p1 and $p2"
store_pw=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
admin_sql "$pgport" postgres "CREATE ROLE osbstore LOGIN PASSWORD '$store_pw'" >/dev/null
admin_sql "$pgport" postgres "CREATE DATABASE osbstate OWNER osbstore" >/dev/null
key=$(openssl rand -hex 32)
for r in 1 2; do
	port=$([ $r = 1 ] && echo "$p1" || echo "$p2")
	write_config "$WORK/r$r.json" "$port" "$WORK/data$r" "$pgport" \
		".store = {type: \"postgresql\", url: \"postgresql://osbstore:$store_pw@127.0.0.1:$pgport/osbstate?sslmode=disable\", pool_size: 12}
		 | .encryption_key = \"$key\" | .replica_id = \"replica-$r\" | .threads = 24"
done
broker_start "$WORK/r1.json" "$WORK/r1.log" "$R1"
pid1=$BROKER_PID
broker_start "$WORK/r2.json" "$WORK/r2.log" "$R2"
pid2=$BROKER_PID

# store_sql SQL: a query on the shared state store.
store_sql() {
	PGPASSWORD=$store_pw psql -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$pgport" -U osbstore -d osbstate -c "$1"
}

# fire N TAG METHOD URL [BODY]: one request in the background; "TAG STATUS" goes to r/N.meta.
NREQ=0
fire() {
	local n=$1 tag=$2 method=$3 url=$4 body=${5:-}
	local args=(-s -X "$method" -o "$WORK/r/$n.body" -w '%{http_code}' --max-time 60
		-u "$BROKER_USER:$BROKER_PW" -H 'X-Broker-API-Version: 2.17')
	[ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
	(
		st=$(curl "${args[@]}" "$url") || st=000
		echo "$tag $st" >"$WORK/r/$n.meta"
	) &
	FIRED+=($!)
}
FIRED=()
# answers PHASE: "tag status" lines of a phase.
answers() {
	cat "$WORK"/r/*.meta 2>/dev/null | awk -v p="$1" '$1 == p'
}
declare -A DIST=()
# tally PHASE ALLOWED...: count the answers of a phase; any status outside ALLOWED fails.
tally() {
	local phase=$1 st bad=0
	shift
	local allowed=" $* "
	while read -r _ _ _ _ st; do
		DIST[$st]=$(( ${DIST[$st]:-0} + 1 ))
		if [[ $allowed != *" $st "* ]]; then
			bad=$((bad + 1))
		fi
	done < <(answers "$phase")
	local d
	d=$(answers "$phase" | awk '{print $5}' | sort | uniq -c | awk '{printf "%s:%s ", $2, $1}')
	if [ "$bad" = 0 ]; then
		pass "$phase: every answer is one of {$*} ($d)"
	else
		fail "$phase: $bad answers outside {$*} ($d)"
		answers "$phase" | awk -v a="$allowed" 'index(a, " " $5 " ") == 0' | head -n 10
	fi
}
# Wait for every background request (not the brokers, which are children too).
settle() {
	local p
	for p in "${FIRED[@]}"; do wait "$p"; done
	FIRED=()
}

plan_of() { # variant -> plan id for instance i
	local i=$1 v=$2
	if [ "$v" = same ]; then
		[ $((i % 2)) = 0 ] && echo "$PLAN_SMALL" || echo "$PLAN_ASYNC"
	else
		plan_id medium
	fi
}
conflicts=0
total=0

# ---------------------------------------------------------------------------
step "phase 1: provision $NIDS ids, $REPEATS requests per id on each replica at once"
t0=$(now_us)
for i in $(seq 1 "$NIDS"); do
	for k in $(seq 1 "$REPEATS"); do
		v=same
		[ "$k" -gt 3 ] && v=other && conflicts=$((conflicts + 2))
		body=$(provision_body "$(plan_of "$i" "$v")")
		for r in 1 2; do
			base=$([ $r = 1 ] && echo "$R1" || echo "$R2")
			NREQ=$((NREQ + 1))
			fire "$NREQ" "prov $i $v $r" PUT "$base/v2/service_instances/rep-$i?accepts_incomplete=true" "$body"
		done
	done
done
settle
echo "phase 1: $((NREQ)) requests answered in $(( ($(now_us) - t0) / 1000 )) ms"
tally prov 200 201 202 409 422

# one winner per id: every 2xx of an id is for the same plan, with one creation
dups=0
declare -A WIN=()
for i in $(seq 1 "$NIDS"); do
	win=$(answers prov | awk -v i="$i" '$2 == i && $5 ~ /^20/ {print $3}' | sort -u)
	created=$(answers prov | awk -v i="$i" '$2 == i && $5 == 201' | wc -l)
	ops=$(for f in "$WORK"/r/*.meta; do
		read -r ph id _ _ st <"$f"
		[ "$ph" = prov ] && [ "$id" = "$i" ] && [ "$st" = 202 ] && jq -r .operation "${f%.meta}.body"
	done | sort -u | wc -l)
	# the provisions the state store holds and the driver runs both replicas logged
	stored=$(store_sql "SELECT count(*) FROM osb_operations WHERE kind = 1 AND instance_id = 'rep-$i'")
	runs=$(cat "$WORK"/r?.log | grep '"event":"operation.start"' | grep -c "running provision of instance rep-$i\"")
	if [ "$(wc -w <<<"$win")" != 1 ] || [ "$created" -gt 1 ] || [ "$ops" -gt 1 ] || [ "$stored" != 1 ] || [ "$runs" != 1 ]; then
		fail "id rep-$i: two creations (plans with a 2xx: $win; 201 answers: $created; distinct operations in 202s: $ops; provisions stored: $stored; driver runs logged: $runs)"
		dups=$((dups + 1))
	fi
	WIN[$i]=${win%% *}
done
# let the asynchronous provisions end
for i in $(seq 1 "$NIDS"); do
	for _ in $(seq 1 300); do
		osb GET "$R1/v2/service_instances/rep-$i/last_operation"
		[ "$STATUS" = 200 ] && [ "$(jq -r .state <<<"$BODY")" = "in progress" ] || break
		sleep 0.1
	done
	[ "$(jq -r .state <<<"$BODY")" = succeeded ] || fail "rep-$i: provision did not succeed: $STATUS $BODY"
done
for i in $(seq 1 "$NIDS"); do
	want=$(plan_of "$i" "${WIN[$i]}")
	osb GET "$R1/v2/service_instances/rep-$i"
	a=$STATUS:$(jq -r .plan_id <<<"$BODY" 2>/dev/null)
	osb GET "$R2/v2/service_instances/rep-$i"
	b=$STATUS:$(jq -r .plan_id <<<"$BODY" 2>/dev/null)
	[ "$a" = "200:$want" ] && [ "$b" = "200:$want" ] ||
		fail "rep-$i: both replicas must show one instance with plan $want, got $a and $b"
	name=$(instance_name "rep-$i")
	got=$(admin_sql "$pgport" postgres "SELECT count(*) || ':' || coalesce(max(datconnlimit), -1) FROM pg_database WHERE datname = '$name'")
	limit=$([ "$want" = "$(plan_id medium)" ] && echo 50 || echo 10)
	[ "$got" = "1:$limit" ] || { fail "rep-$i: want one database $name with connection limit $limit, got $got"; dups=$((dups + 1)); }
done
check "phase 1: one instance per id, on both replicas and on the server" [ "$dups" = 0 ]
total=$NREQ

# ---------------------------------------------------------------------------
step "phase 2: bind one binding id per instance, $REPEATS requests per id on each replica at once"
for i in $(seq 1 "$NIDS"); do
	plan=$(plan_of "$i" "${WIN[$i]}")
	for k in $(seq 1 "$REPEATS"); do
		v=same
		[ "$k" -gt 3 ] && v=other && conflicts=$((conflicts + 2))
		body=$(jq -cn --arg s "$SERVICE_ID" --arg p "$plan" --arg app "app-$v" \
			'{service_id: $s, plan_id: $p, bind_resource: {app_guid: $app}}')
		for r in 1 2; do
			base=$([ $r = 1 ] && echo "$R1" || echo "$R2")
			NREQ=$((NREQ + 1))
			fire "$NREQ" "bind $i $v $r" PUT "$base/v2/service_instances/rep-$i/service_bindings/rep-$i-b?accepts_incomplete=true" "$body"
		done
	done
done
settle
tally bind 200 201 202 409 422
bdups=0
for i in $(seq 1 "$NIDS"); do
	win=$(answers bind | awk -v i="$i" '$2 == i && $5 ~ /^20/ {print $3}' | sort -u)
	created=$(answers bind | awk -v i="$i" '$2 == i && $5 == 201' | wc -l)
	# every synchronous 2xx carries the same credentials
	pws=$(for f in "$WORK"/r/*.meta; do
		read -r ph id _ _ st <"$f"
		[ "$ph" = bind ] && [ "$id" = "$i" ] && { [ "$st" = 200 ] || [ "$st" = 201 ]; } && jq -r .credentials.password "${f%.meta}.body"
	done | sort -u | wc -l)
	stored=$(store_sql "SELECT count(*) FROM osb_operations WHERE kind = 4 AND binding_id = 'rep-$i-b'")
	runs=$(cat "$WORK"/r?.log | grep '"event":"operation.start"' | grep -c "binding rep-$i-b\"")
	if [ "$(wc -w <<<"$win")" != 1 ] || [ "$created" -gt 1 ] || [ "$pws" -gt 1 ] || [ "$stored" != 1 ] || [ "$runs" != 1 ]; then
		fail "binding rep-$i-b: two creations (app_guids with a 2xx: $win; 201 answers: $created; distinct passwords: $pws; binds stored: $stored; driver runs logged: $runs)"
		bdups=$((bdups + 1))
	fi
done
for i in $(seq 1 "$NIDS"); do
	for _ in $(seq 1 300); do
		osb GET "$R2/v2/service_instances/rep-$i/service_bindings/rep-$i-b/last_operation"
		[ "$STATUS" = 200 ] && [ "$(jq -r .state <<<"$BODY")" = "in progress" ] || break
		sleep 0.1
	done
	osb GET "$R1/v2/service_instances/rep-$i/service_bindings/rep-$i-b"
	c1=$BODY s1=$STATUS
	osb GET "$R2/v2/service_instances/rep-$i/service_bindings/rep-$i-b"
	if [ "$s1" != 200 ] || [ "$STATUS" != 200 ] ||
		[ "$(jq -r .credentials.password <<<"$c1")" != "$(jq -r .credentials.password <<<"$BODY")" ]; then
		fail "binding rep-$i-b: want the same binding on both replicas, got $s1 and $STATUS"
		bdups=$((bdups + 1))
		continue
	fi
	out=$(psql -X -q -At -d "$(jq -r .credentials.uri <<<"$c1")" -c "SELECT current_database()" 2>&1)
	[ "$out" = "$(instance_name "rep-$i")" ] || fail "binding rep-$i-b: its credentials do not reach its database: $out"
	name=$(binding_name "rep-$i-b")
	got=$(admin_sql "$pgport" postgres "SELECT count(*) FROM pg_roles WHERE rolname = '$name'")
	[ "$got" = 1 ] || { fail "binding rep-$i-b: want one role $name, got $got"; bdups=$((bdups + 1)); }
done
roles=$(admin_sql "$pgport" postgres "SELECT count(*) FROM pg_roles WHERE rolname LIKE 'osb\_%'")
dbs=$(admin_sql "$pgport" postgres "SELECT count(*) FROM pg_database WHERE datname LIKE 'osb\_%'")
check "the server holds $NIDS databases and $((2 * NIDS)) roles (got $dbs and $roles)" [ "$dbs" = "$NIDS" -a "$roles" = $((2 * NIDS)) ]
check "phase 2: one binding per id, the same on both replicas and on the server" [ "$bdups" = 0 ]
dups=$((dups + bdups))

for r in 1 2; do
	rrc=0
	"$BROKER" --config "$WORK/r$r.json" --reconcile >"$WORK/reconcile$r.out" 2>>"$WORK/r$r.log" || rrc=$?
	out=$(tail -n 1 "$WORK/reconcile$r.out")
	check "--reconcile through replica $r exits 0 (got $rrc)" [ "$rrc" = 0 ]
	check "--reconcile through replica $r: no orphans ($out)" [ "$(jq -r .orphans <<<"$out")" = 0 ]
done

# ---------------------------------------------------------------------------
step "phase 3: unbind and deprovision every id from both replicas at once"
for phase in unbind deprov; do
	for i in $(seq 1 "$NIDS"); do
		plan=$(plan_of "$i" "${WIN[$i]}")
		path=/v2/service_instances/rep-$i
		[ "$phase" = unbind ] && path=$path/service_bindings/rep-$i-b
		for k in 1 2 3; do
			for r in 1 2; do
				base=$([ $r = 1 ] && echo "$R1" || echo "$R2")
				NREQ=$((NREQ + 1))
				fire "$NREQ" "$phase $i same $r" DELETE "$base$path?accepts_incomplete=true&service_id=$SERVICE_ID&plan_id=$plan"
			done
		done
	done
	settle
	tally "$phase" 200 202 410 422
	for i in $(seq 1 "$NIDS"); do
		lo=/v2/service_instances/rep-$i/last_operation
		[ "$phase" = unbind ] && lo=/v2/service_instances/rep-$i/service_bindings/rep-$i-b/last_operation
		for _ in $(seq 1 300); do
			osb GET "$R1$lo"
			[ "$STATUS" = 200 ] && [ "$(jq -r .state <<<"$BODY")" = "in progress" ] || break
			sleep 0.1
		done
	done
done
left=$(admin_sql "$pgport" postgres "SELECT datname FROM pg_database WHERE datname LIKE 'osb\_%' UNION ALL SELECT rolname FROM pg_roles WHERE rolname LIKE 'osb\_%'")
check "nothing named osb_ is left on the server" [ -z "$left" ]
for i in $(seq 1 "$NIDS"); do
	osb GET "$R2/v2/service_instances/rep-$i"
	[ "$STATUS" = 404 ] || [ "$STATUS" = 410 ] || fail "rep-$i: want it gone on replica 2, got $STATUS"
done

step "usage records: the same log from both replicas, one record per change"
u1=$(usage_all "$R1")
u2=$(usage_all "$R2")
check "both replicas read the usage log" bash -c '[ -n "$1" ] && [ -n "$2" ]' _ "$u1" "$u2"
check "both answer the same records with the same cursors" [ "$u1" = "$u2" ]
check "cursors strictly increase" [ "$(usage_ordered "$u1")" = true ]
check "no record twice ($(usage_duplicates "$u1") duplicated)" [ "$(usage_duplicates "$u1")" = 0 ]
for i in $(seq 1 "$NIDS"); do
	got=$(jq -r --arg i "rep-$i" '[.[] | select(.instance_id == $i) | .type] | sort | join(" ")' <<<"$u1")
	[ "$got" = "binding_created binding_deleted instance_created instance_deleted" ] ||
		fail "rep-$i: want one created and one deleted record for the instance and its binding, got: $got"
done
pass "each of the $NIDS instances and bindings has exactly one created and one deleted record"
# A cursor from one replica continues on the other.
half=$(jq -r '.[(length / 2 | floor)].cursor' <<<"$u1")
rest=$(curl -s -u "$BROKER_USER:$BROKER_PW" "$R2/usage/events?after=$half&limit=1000" | jq -c .events)
check "a cursor from replica 1 continues on replica 2" [ "$rest" = "$(jq -c --arg h "$half" '[.[] | select((.cursor | tonumber) > ($h | tonumber))]' <<<"$u1")" ]

broker_stop_clean "$pid1" "$WORK/r1.log" "replica 1"
broker_stop_clean "$pid2" "$WORK/r2.log" "replica 2"
dist=$(for s in $(printf '%s\n' "${!DIST[@]}" | sort); do printf '%s:%s ' "$s" "${DIST[$s]}"; done)
echo "replicas: $NREQ requests ($conflicts conflicting) over $NIDS instance ids and $NIDS binding ids;" \
	"answers $dist; duplicates created $dups"
rel_finish
