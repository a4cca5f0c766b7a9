#!/usr/bin/env bash
# Secrets test: after a whole lifecycle and failed logins (log level debug), no binding, broker, admin or
# wrong password is in the broker's log, no binding password is in the state store's files, and
# authentication failures are counted and logged with the user name only.
. "$(dirname "$0")/lib.sh"
rel_init secrets

bport=$("$ROOT/scripts/free-port.sh")
B=http://127.0.0.1:$bport
cfg=$WORK/broker.json
log=$WORK/broker.log
data=$WORK/data
pg_up_free "$WORK/pg"
pgport=$PG_PORT
write_config "$cfg" "$bport" "$data" "$pgport" '.log_level = "debug"'
broker_start "$cfg" "$log" "$B"
q="service_id=$SERVICE_ID&plan_id=$PLAN_SMALL"
SECRETS=()   # "label=value" of everything that must stay out of logs

# urlenc VALUE: percent-encoded, as it appears in a uri.
urlenc() {
	jq -rn --arg v "$1" '$v | @uri'
}
# absent_from FILE LABEL...: none of the SECRETS with these labels is in FILE (grep -a, fixed strings).
absent_from() {
	local file=$1 found=0 s label value
	shift
	for s in "${SECRETS[@]}"; do
		label=${s%%=*}
		value=${s#*=}
		[[ " $* " == *" $label "* ]] || [ "$*" = all ] || continue
		if grep -aqF -- "$value" "$file"; then
			echo "     $label found in $file"
			found=1
		fi
		local enc
		enc=$(urlenc "$value")
		if [ "$enc" != "$value" ] && grep -aqF -- "$enc" "$file"; then
			echo "     $label (percent-encoded) found in $file"
			found=1
		fi
	done
	[ "$found" = 0 ]
}

step "a lifecycle: provision, two bindings, fetch, unbind, deprovision"
SECRETS+=("broker_password=$BROKER_PW" "admin_password=$ADMIN_PW" "store_key=$(cat "$data/encryption.key" 2>/dev/null)")
finds() { ! absent_from "$@" >/dev/null; }
check "self-check: the search does find the broker password in the config file" finds "$cfg" broker_password
i=$(new_id)
osb PUT "$B/v2/service_instances/$i" "$(provision_body "$PLAN_SMALL")"
check "provision: 201 (got $STATUS)" [ "$STATUS" = 201 ]
bids=()
for n in 1 2; do
	b=$(new_id)
	bids+=("$b")
	osb PUT "$B/v2/service_instances/$i/service_bindings/$b" "$(bind_body "$PLAN_SMALL")"
	check "bind $n: 201 (got $STATUS)" [ "$STATUS" = 201 ]
	pw=$(jq -r .credentials.password <<<"$BODY")
	check "bind $n: a password of at least 32 characters" [ "${#pw}" -ge 32 ]
	SECRETS+=("binding${n}_password=$pw")
	osb GET "$B/v2/service_instances/$i/service_bindings/$b"
	check "fetch binding $n returns the same password" [ "$(jq -r .credentials.password <<<"$BODY")" = "$pw" ]
	out=$(psql -X -q -At -d "$(jq -r .credentials.uri <<<"$BODY")" -c "SELECT 1" 2>&1)
	check "binding $n's credentials work" [ "$out" = 1 ]
done
[ -f "$data/encryption.key" ] && check "the store's encryption key file is mode 600" [ "$(stat -c %a "$data/encryption.key")" = 600 ]
SECRETS[2]="store_key=$(cat "$data/encryption.key" 2>/dev/null)"

step "failed logins"
wrong1=wrong-$(head -c 12 /dev/urandom | base64 | tr -d '/+=')
wrong2=guess-$(head -c 12 /dev/urandom | base64 | tr -d '/+=')
SECRETS+=("wrong_password_1=$wrong1" "wrong_password_2=$wrong2")
before=$(curl -s "$B/metrics" | awk '/^osb_auth_failures_total/ {print $NF}')
before=${before:-0}
failures=0
for auth in "broker:$wrong1" "intruder:$wrong2" "broker:" ; do
	code=$(curl -s -o "$WORK/body" -w '%{http_code}' -u "$auth" -H 'X-Broker-API-Version: 2.17' "$B/v2/catalog") || code=000
	check "catalog as '${auth%%:*}' with a wrong password: 401 (got $code)" [ "$code" = 401 ]
	failures=$((failures + 1))
done
for hdr in "Authorization: Basic !!!not-base64" "Authorization: Bearer $wrong2" "Authorization: Basic $(printf 'no-colon-%s' "$wrong1" | base64 -w0)"; do
	code=$(curl -s -o "$WORK/body" -w '%{http_code}' -H "$hdr" -H 'X-Broker-API-Version: 2.17' "$B/v2/catalog") || code=000
	check "catalog with '${hdr:0:28}...': 401 (got $code)" [ "$code" = 401 ]
	failures=$((failures + 1))
done
code=$(curl -s -o "$WORK/body" -w '%{http_code}' -X PUT -u "broker:$wrong1" -H 'X-Broker-API-Version: 2.17' \
	-H 'Content-Type: application/json' --data-binary "$(provision_body "$PLAN_SMALL")" "$B/v2/service_instances/$(new_id)") || code=000
check "provision with a wrong password: 401 (got $code)" [ "$code" = 401 ]
failures=$((failures + 1))
check "401 answers carry a JSON description" json_error "$(cat "$WORK/body")"
after=$(curl -s "$B/metrics" | awk '/^osb_auth_failures_total/ {print $NF}')
check "osb_auth_failures_total counts the $failures failures ($before -> ${after:-absent})" [ "$(( ${after:-0} - before ))" = "$failures" ]
check "failed logins are logged with the user name" grep -q '"event":"auth.failed".*for user broker' "$log"
check "... including unknown users" grep -q '"event":"auth.failed".*for user intruder' "$log"

step "the state store's files while the broker runs"
ls "$data"/state.db* >/dev/null 2>&1 || fail "no state.db in $data"
for f in "$data"/state.db*; do
	check "$(basename "$f") (running) holds no binding password" absent_from "$f" binding1_password binding2_password
done

step "unbind, deprovision, stop"
for b in "${bids[@]}"; do
	osb DELETE "$B/v2/service_instances/$i/service_bindings/$b?$q"
	check "unbind: 200 (got $STATUS)" [ "$STATUS" = 200 ]
done
osb DELETE "$B/v2/service_instances/$i?$q"
check "deprovision: 200 (got $STATUS)" [ "$STATUS" = 200 ]
broker_stop_clean "$BROKER_PID" "$log" "secrets"

step "after the stop"
for f in "$data"/state.db*; do
	check "$(basename "$f") (stopped) holds no binding password" absent_from "$f" binding1_password binding2_password
done
check "the broker's log (debug level, $(wc -l <"$log") lines) holds no binding, broker, admin or wrong password, nor the store key" \
	absent_from "$log" all
check "the PostgreSQL server's log holds no binding password" absent_from "$WORK/pg/postgres.log" binding1_password binding2_password
rel_finish
