#!/usr/bin/env bash
# A re-sent request whose operation has not finished: 202 with that operation when the client accepts incomplete
# answers, else the request waits for it (up to timeouts.sync_s) and gets how it ended. Checked while the first
# copy runs, and after the broker was killed during synchronous deletes, unbinds, updates and provisions whose
# operations the restarted broker resumes (a platform re-sends what was in flight when its broker died).
. "$(dirname "$0")/../lib.sh"
start_broker

Q="service_id=svc-fake&plan_id=plan-sync"
# in_progress PATH: last_operation of PATH says "in progress".
in_progress() {
	[ "$(curl -s -u "$USER_NAME:$USER_PASS" -H 'X-Broker-API-Version: 2.17' "$BASE$1/last_operation" | jq -r .state)" = "in progress" ]
}

# --- the first copy still runs in this broker
req PUT /v2/service_instances/r-1 "$(provision_body plan-sync '{"delay_ms":2500}')"
expect_status 201 "a slow sync instance"
bg_req first DELETE "/v2/service_instances/r-1?$Q&accepts_incomplete=true"
expect_true "its delete is under way" wait_for 10 in_progress /v2/service_instances/r-1
req DELETE "/v2/service_instances/r-1?$Q&accepts_incomplete=true"
expect_status 202 "a re-sent DELETE with accepts_incomplete answers 202 while the first runs"
OP=$(jqb .operation)
expect_jq '.operation | length > 0' true "with the running operation"
req GET "/v2/service_instances/r-1/last_operation?operation=$OP"
expect_jq '.state' "in progress" "which is the delete in progress"
req DELETE "/v2/service_instances/r-1?$Q"
expect_status 200 "a re-sent DELETE without accepts_incomplete waits for the first and answers 200"
bg_wait first
expect_status 200 "the first DELETE answers 200"
req GET "/v2/service_instances/r-1/last_operation?operation=$OP"
expect_jq '.state' succeeded "the operation the 202 named has succeeded"
req DELETE "/v2/service_instances/r-1?$Q&accepts_incomplete=true"
expect_status 410 "a DELETE after it is 410"

# --- SIGKILL during synchronous operations, then the platform re-sends them
for i in 1 2; do
	req PUT "/v2/service_instances/k-$i" "$(provision_body plan-sync '{"delay_ms":4000}')"
	req PUT "/v2/service_instances/k-$i/service_bindings/kb-$i" "$(bind_body plan-sync '{"delay_ms":4000}')"
done
expect_true "two slow instances with a slow binding each" [ "$(tenants)" = 4 ]
req PUT /v2/service_instances/k-u "$(provision_body plan-sync '{"size":1}')"
bg_req d1 DELETE "/v2/service_instances/k-1?$Q&accepts_incomplete=true"
bg_req d2 DELETE "/v2/service_instances/k-2/service_bindings/kb-2?$Q&accepts_incomplete=true"
bg_req d3 DELETE "/v2/service_instances/k-1/service_bindings/kb-1-none?$Q"
bg_req u1 PATCH "/v2/service_instances/k-u?accepts_incomplete=true" '{"service_id":"svc-fake","parameters":{"size":2,"delay_ms":4000}}'
bg_req p1 PUT "/v2/service_instances/k-p?accepts_incomplete=true" "$(provision_body plan-sync '{"delay_ms":4000}')"
expect_true "the deprovision is under way" wait_for 10 in_progress /v2/service_instances/k-1
expect_true "the unbind is under way" wait_for 10 in_progress /v2/service_instances/k-2/service_bindings/kb-2
expect_true "the update is under way" wait_for 10 in_progress /v2/service_instances/k-u
expect_true "the provision is under way" wait_for 10 in_progress /v2/service_instances/k-p
stop_broker KILL
for n in d1 d2 u1 p1; do bg_wait $n; done
start_broker

req DELETE "/v2/service_instances/k-1?$Q&accepts_incomplete=true"
expect_status 202 "re-sent DELETE of the instance after the restart: 202, not 422"
IOP=$(jqb .operation)
req DELETE "/v2/service_instances/k-2/service_bindings/kb-2?$Q&accepts_incomplete=true"
expect_status 202 "re-sent DELETE of the binding after the restart: 202, not 422"
BOP=$(jqb .operation)
req PATCH "/v2/service_instances/k-u?accepts_incomplete=true" '{"service_id":"svc-fake","parameters":{"size":2,"delay_ms":4000}}'
expect_status 202 "re-sent PATCH after the restart: 202"
UOP=$(jqb .operation)
req PUT "/v2/service_instances/k-p?accepts_incomplete=true" "$(provision_body plan-sync '{"delay_ms":4000}')"
expect_status 202 "re-sent PUT after the restart: 202"
POP=$(jqb .operation)
# The same requests without accepts_incomplete wait until the restarted broker has resumed them (their
# leases lapse after 15 s) and answer how they ended, well within timeouts.sync_s (45 s).
bg_req w1 DELETE "/v2/service_instances/k-1?$Q"
bg_req w2 DELETE "/v2/service_instances/k-2/service_bindings/kb-2?$Q"
bg_req w3 PATCH /v2/service_instances/k-u '{"service_id":"svc-fake","parameters":{"size":2,"delay_ms":4000}}'
bg_wait w1
expect_status 200 "re-sent DELETE of the instance without accepts_incomplete: 200 once the resumed delete ends"
bg_wait w2
expect_status 200 "re-sent DELETE of the binding without accepts_incomplete: 200 once the resumed unbind ends"
bg_wait w3
expect_status 200 "re-sent PATCH without accepts_incomplete: 200 once the resumed update ends"
poll_instance k-1 "$IOP"
expect_true "the instance's delete operation succeeded ($STATUS $BODY)" [ "$STATUS:$(jqb .state)" = 200:succeeded ]
expect_true "its tenant is gone" sh -c "! test -f '$WORK/data/fake-tenants/$(instance_tenant k-1)'"
poll_binding k-2 kb-2 "$BOP"
expect_true "the binding's delete operation succeeded ($STATUS $BODY)" [ "$STATUS:$(jqb .state)" = 200:succeeded ]
expect_true "its user is gone" sh -c "! test -f '$WORK/data/fake-tenants/$(binding_tenant kb-2)'"
poll_instance k-u "$UOP"
expect_jq '.state' succeeded "the update operation succeeded"
req GET /v2/service_instances/k-u
expect_jq '.parameters.size' 2 "and was applied"
# A synchronous provision whose client never got an answer is rolled back when resumed: the operation named in
# the 202 ends failed, and the platform's next provision creates the instance.
poll_instance k-p "$POP"
expect_jq '.state' failed "the interrupted provision ended failed (rolled back)"
req PUT "/v2/service_instances/k-p?accepts_incomplete=true" "$(provision_body plan-sync '{"delay_ms":4000}')"
expect_status 201 "the platform's next provision creates it"
req DELETE "/v2/service_instances/k-1?$Q"
expect_status 410 "a DELETE after the resumed delete is 410"
finish
