#!/usr/bin/env bash
# osb end to end against the real Redis broker's dedicated plans (asynchronous: a redis-server of its own
# per instance): waiting with progress lines (plain and on a terminal), Ctrl-C that stops the wait but not
# the operation and `osb service NAME` that resumes it, --no-wait, credentials used with redis-cli.
. "$(dirname "$0")/lib.sh"
for tool in redis-cli redis-server script pgrep; do
	command -v "$tool" >/dev/null || die "$tool is needed on PATH"
done
unset REDISCLI_AUTH || true

# redis-server processes of this test's dedicated instances (their working directory is under $WORK/rb).
dedicated_pids() {
	local p cwd
	for p in $(pgrep -x redis-server || true); do
		cwd=$(readlink "/proc/$p/cwd" 2>/dev/null) || continue
		case $cwd in "$WORK/rb/"*) echo "$p" ;; esac
	done
}
STOPPERS+=('for p in $(dedicated_pids); do kill -KILL "$p"; done')

step "a shared Redis and the Redis broker with dedicated plans"
admin_pw=$(random_pw)
broker_pw=$(random_pw)
redis_port=$(free_port)
broker_port=$(free_port $((redis_port + 1)))
first=$(free_port $((broker_port + 1)))
while :; do
	ok=1
	for p in $(seq "$first" $((first + 9))); do
		if ss -ltnH "sport = :$p" 2>/dev/null | grep -q .; then ok=0; first=$((p + 1)); break; fi
	done
	[ "$ok" = 1 ] && break
done
"$ROOT/scripts/redis-start.sh" "$WORK/redis" "$redis_port" "$admin_pw" >/dev/null || die "Redis did not start"
STOPPERS+=("'$ROOT/scripts/redis-stop.sh' '$WORK/redis'")
export OSB_DRIVER_ADMIN_PASSWORD=$admin_pw
start_broker redis "$(broker_config redis "$broker_port" "$WORK/rb" "$broker_pw" \
	"{\"host\": \"127.0.0.1\", \"port\": $redis_port, \"admin_user\": \"admin\"}" \
	"{\"dedicated\": {\"port_range\": [$first, $((first + 9))]}}")"
RB=$BROKER_URL
register redis "$RB" "$broker_pw"
expect_rc 0 "register-broker redis"

step "the marketplace says which plans are dedicated and asynchronous"
osb marketplace -s redis
expect_rc 0 "marketplace -s redis"
expect_out '^  dedicated-small \(15.00 USD/MONTHLY\), dedicated, asynchronous' "dedicated-small is marked"
expect_out '^  shared \(0.00 USD/MONTHLY\)$' "shared is not"
expect_out 'maxmemory_policy +string +What Redis does' "the plan's parameters"

step "create-service on a dedicated plan waits, with a line per change when not on a terminal"
osb create-service redis dedicated-small r1 -c '{"maxmemory_policy": "sometimes"}'
expect_rc 4 "a policy the schema does not know"
expect_err 'parameters.maxmemory_policy: must be one of' "the schema's message"
expect_true "no server was started" [ -z "$(dedicated_pids)" ]
osb create-service redis dedicated-small r1 -c '{"maxmemory_policy": "allkeys-lru"}'
expect_rc 0 "create-service redis dedicated-small r1"
expect_err '^creating r1: in progress after [0-9]+s' "plain progress lines"
expect_true "no terminal escapes in them" bash -c "! grep -q $'\\033' <<<\"\$1\"" _ "$ERR"
expect_out '^last operation: +create succeeded' "it succeeded"
expect_true "a redis-server of its own runs" [ "$(dedicated_pids | wc -l)" = 1 ]

step "bind-service: credentials that work with redis-cli"
osb bind-service r1 app1
expect_rc 0 "bind-service r1 app1"
URI=$(jq -r .uri <<<"$OUT")
out=$(timeout 10 redis-cli --no-auth-warning -u "$URI" SET greeting hello 2>&1)
expect_true "SET with the credentials ($out)" [ "$out" = OK ]
out=$(timeout 10 redis-cli --no-auth-warning -u "$URI" GET greeting 2>&1)
expect_true "GET with the credentials ($out)" [ "$out" = hello ]
out=$(timeout 10 redis-cli --no-auth-warning -u "$URI" CONFIG GET maxmemory-policy 2>&1)
expect_true "admin commands are refused to a binding" grep -q NOPERM <<<"$out"

step "update-service on a terminal: one progress line rewritten in place"
script -qefc "OSB_HOME='$OSB_HOME' '$OSB_BIN' update-service r1 -p dedicated-large -c '{\"maxmemory_policy\": \"noeviction\"}'" \
	"$WORK/typescript" >"$WORK/tty.out" 2>&1 && RC=0 || RC=$?
OUT=$(cat "$WORK/tty.out")
ERR=
expect_rc 0 "update-service r1 -p dedicated-large"
expect_true "the line is redrawn with carriage return and erase-line" grep -aq $'\r\033\[Kupdating r1: in progress, [0-9]*s' "$WORK/tty.out"
expect_out 'plan: +dedicated-large' "now dedicated-large"
out=$(timeout 10 redis-cli --no-auth-warning -u "$URI" GET greeting 2>&1)
expect_true "the data survives ($out)" [ "$out" = hello ]

step "Ctrl-C stops waiting, not the operation; osb service resumes"
lines=$(wc -l <"$WORK/redis.log")
"$OSB_BIN" create-service redis dedicated-small r2 >"$WORK/r2.out" 2>"$WORK/r2.err" &
pid=$!
# Once the broker has answered the PUT (202), the wait is under way: interrupt it then.
for _ in $(seq 1 500); do
	tail -n +"$((lines + 1))" "$WORK/redis.log" | grep -q '"method":"PUT".*"status":202' && break
	sleep 0.01
done
kill -INT "$pid"
wait "$pid" && RC=0 || RC=$?
OUT=$(cat "$WORK/r2.out")
ERR=$(cat "$WORK/r2.err")
expect_rc 130 "create-service interrupted"
expect_err 'stopped waiting; the creation goes on at the broker. See how it ends with: osb service r2' "says how to resume"
osb service r2
expect_rc 0 "service r2 waits for it"
expect_out '^last operation: +create succeeded' "and it succeeded"
expect_true "two dedicated servers run" [ "$(dedicated_pids | wc -l)" = 2 ]

step "--no-wait, then osb service"
osb --json delete-service r2 -f --no-wait
expect_rc 0 "delete-service r2 --no-wait"
expect_jq '.last_operation.type + " " + .last_operation.state' "delete in progress" "answers while it runs"
osb --json service r2
expect_rc 0 "service r2 waits for the deletion"
expect_jq '.deleted' true "and says it is deleted"
osb service r2
expect_rc 3 "then r2 is gone"

step "unbind and delete"
osb unbind-service r1 app1
expect_rc 0 "unbind-service r1 app1"
out=$(timeout 10 redis-cli --no-auth-warning -u "$URI" GET greeting 2>&1)
expect_true "the credentials no longer work" grep -qiE 'WRONGPASS|NOAUTH|invalid' <<<"$out"
osb delete-service r1 -f
expect_rc 0 "delete-service r1 (asynchronous)"
expect_err '^deleting r1: in progress' "waited for"
expect_true "no dedicated server left" [ -z "$(dedicated_pids)" ]
osb --json services
expect_jq '.services | length' 0 "no instance left"

step "the usage log tells the same story"
events=$(usage_events "$RB" "$broker_pw")
expect_true "created, bound, plan changed, created, deleted, unbound, deleted ($(jq -r '[.[].type] | join(" ")' <<<"$events"))" \
	[ "$(jq -r '[.[].type] | join(" ")' <<<"$events")" = \
	"instance_created binding_created instance_plan_changed instance_created instance_deleted binding_deleted instance_deleted" ]
expect_true "plan names in the records" [ "$(jq -r '.[2].previous_plan_name + " -> " + .[2].plan_name' <<<"$events")" = \
	"dedicated-small -> dedicated-large" ]
finish
