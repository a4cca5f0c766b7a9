#!/usr/bin/env bash
# osb against the core with its test driver (tests/api/fake_driver.c), for what the real brokers' plans do
# not have: asynchronous bindings (waited for, interrupted and resumed with osb service, --no-wait) and
# failures injected on demand (a failed creation, update, bind and deletion, and what is left after each).
. "$(dirname "$0")/lib.sh"
FAKE=$BUILD/tests/api/osb-fake-broker
[ -x "$FAKE" ] || die "the fake broker is not built ($FAKE)"

step "the core with its test driver"
pw=$(random_pw)
port=$(free_port)
jq -n --arg l "127.0.0.1:$port" --arg c "$ROOT/tests/api/catalog.json" --arg d "$WORK/fake" --arg pw "$pw" \
	'{listen: $l, accounts: [{username: "broker", password: $pw}], catalog: $c, data_dir: $d, log_level: "info",
	  timeouts: {retry_after_s: 1}}' >"$WORK/fake.json"
"$FAKE" --config "$WORK/fake.json" >>"$WORK/fake.log" 2>&1 &
BROKER_PIDS+=($!)
for _ in $(seq 1 400); do curl -s -o /dev/null "http://127.0.0.1:$port/health/live" && break; sleep 0.05; done
register fake "http://127.0.0.1:$port" "$pw"
expect_rc 0 "register-broker fake"
osb create-service fake async a1
expect_rc 0 "an asynchronous instance"

step "asynchronous bindings"
osb bind-service a1 k1 -c '{"delay_ms": 1500}'
expect_rc 0 "bind-service waits for an asynchronous bind"
expect_err '^binding k1 to a1: in progress' "with progress"
expect_true "and prints the credentials it fetched afterwards" grep -q '"password"' <<<"$OUT"
lines=$(wc -l <"$WORK/fake.log")
"$OSB_BIN" bind-service a1 k2 -c '{"delay_ms": 3000}' >"$WORK/k2.out" 2>"$WORK/k2.err" &
pid=$!
for _ in $(seq 1 500); do
	tail -n +"$((lines + 1))" "$WORK/fake.log" | grep -q '"method":"PUT".*"status":202' && break
	sleep 0.01
done
kill -INT "$pid"
wait "$pid" && RC=0 || RC=$?
ERR=$(cat "$WORK/k2.err")
expect_rc 130 "bind-service interrupted"
expect_err 'the binding goes on at the broker. See how it ends with: osb service a1' "says how to resume"
osb service a1
expect_rc 0 "service a1 waits for the binding"
expect_err 'Binding k2 was created; its credentials were not shown' "and says the credentials were not shown"
osb --json service a1
expect_jq '[.bindings[] | .name + ":" + .state] | join(",")' "k1:succeeded,k2:succeeded" "both bindings recorded"
osb --json unbind-service a1 k2 --no-wait
expect_rc 0 "unbind-service --no-wait"
expect_jq '.state' "in progress" "answers while it runs"
osb service a1
expect_err 'Binding k2 is deleted' "service a1 finishes the unbinding"
osb bind-service a1 k3 -c '{"fail": "bind:EBADREQUEST"}'
expect_rc 1 "a failed asynchronous bind"
expect_err 'binding k3 to a1 failed: injected bind failure' "with the broker's description"
osb --json service a1 --no-wait
expect_jq '[.bindings[].name] | join(",")' "k1" "a failed binding is not kept"

step "failures"
osb create-service fake async a2 -c '{"fail": "provision:EBADREQUEST"}'
expect_rc 1 "a failed asynchronous creation"
expect_err 'creating a2 failed: injected provision failure' "with the reason"
osb service a2
expect_rc 3 "and no entry is left for it"
osb create-service fake sync s1 -c '{"fail": "provision:ECONFLICT"}'
expect_rc 1 "a refused synchronous creation"
expect_err 'refused to create s1: 409' "says the broker's status"
osb --json create-service fake sync s1 -c '{"fail": "provision:EBACKEND"}'
expect_jq '.error.status' 502 "--json carries the broker's status"
expect_jq '.error.broker_error' InternalError "and its error"
osb create-service fake sync s1 -c '{"size": 2}'
expect_rc 0 "then a good one"
osb update-service s1 -c '{"fail": "update:EBADREQUEST"}'
expect_rc 1 "a failed synchronous update"
osb --json service s1 --no-wait
expect_jq '.plan + " " + .last_operation.state' "sync succeeded" "the instance keeps its plan and state"
osb update-service a1 -c '{"fail": "update:EBADREQUEST"}'
expect_rc 1 "a failed asynchronous update"
osb --json service a1 --no-wait
expect_jq '.last_operation.type + " " + .last_operation.state' "update failed" "recorded as failed"
osb delete-service s1 -f
expect_rc 0 "delete s1"
osb delete-service a1 -f
expect_rc 0 "delete a1 (asynchronous, with a binding)"
osb --json services
expect_jq '.services | length' 0 "nothing left"

step "a broker's texts cannot drive the terminal"
jq '.services[0].description = "clears\u001b[2Jthe screen\u009b1m" | .services[0].plans[0].schemas.service_instance.create.parameters.properties["k\u001b]0;x\u0007"] = {"type": "string"}' \
	"$ROOT/tests/api/catalog.json" >"$WORK/hostile.json"
port2=$(free_port)
jq --arg l "127.0.0.1:$port2" --arg c "$WORK/hostile.json" --arg d "$WORK/fake2" '.listen = $l | .catalog = $c | .data_dir = $d' \
	"$WORK/fake.json" >"$WORK/fake2.json"
"$FAKE" --config "$WORK/fake2.json" >>"$WORK/fake2.log" 2>&1 &
BROKER_PIDS+=($!)
for _ in $(seq 1 400); do curl -s -o /dev/null "http://127.0.0.1:$port2/health/live" && break; sleep 0.05; done
OSB_BROKER_URL=http://127.0.0.1:$port2 OSB_BROKER_USERNAME=broker OSB_BROKER_PASSWORD=$pw osb marketplace -s fake
expect_rc 0 "marketplace -s of a hostile catalog"
expect_out 'clears\?\[2Jthe screen\?\?1m' "control characters are shown as ?"
expect_true "no escape character reaches the terminal" bash -c '! grep -q $'"'"'[\x1b\x07]'"'"' <<<"$1" && ! grep -qP "\xc2\x9b" <<<"$1"' _ "$OUT"
finish
