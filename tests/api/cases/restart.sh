#!/usr/bin/env bash
# kill -9 during operations, restart with the same config: records survive, an interrupted async provision
# ends (succeeded or failed) and an interrupted sync provision is rolled back.
. "$(dirname "$0")/../lib.sh"
start_broker

req PUT /v2/service_instances/r-keep "$(provision_body plan-sync '{"size":2}')"
req PUT /v2/service_instances/r-keep/service_bindings/rb-keep "$(bind_body plan-sync '{"role":"writer"}')"
PW=$(jqb .credentials.password)
req PUT "/v2/service_instances/r-async?accepts_incomplete=true" "$(provision_body plan-async '{"delay_ms":4000}')"
expect_status 202 "slow async provision"
OP=$(jqb .operation)
bg_req sync PUT /v2/service_instances/r-sync "$(provision_body plan-sync '{"delay_ms":4000}')"
expect_true "the sync provision is under way" wait_for 10 sh -c "curl -s -u $USER_NAME:$USER_PASS -H 'X-Broker-API-Version: 2.17' $BASE/v2/service_instances/r-sync/last_operation | grep -q 'in progress'"
req GET "/v2/service_instances/r-async/last_operation?operation=$OP"
expect_jq '.state' "in progress" "async provision in progress before the crash"

stop_broker KILL
bg_wait sync
expect_true "the client of the sync provision saw the connection drop" [ "$STATUS" = 000 ]
start_broker

req GET /v2/service_instances/r-keep
expect_status 200 "an instance survives the crash"
expect_jq '.parameters.size' 2 "with its parameters"
req GET /v2/service_instances/r-keep/service_bindings/rb-keep
expect_status 200 "a binding survives the crash"
expect_jq '.credentials.password' "$PW" "with its credentials"
req GET "/v2/service_instances/r-async/last_operation?operation=$OP"
expect_status 200 "the interrupted operation is still known"
expect_jq '.state' "in progress" "and still in progress right after the restart"

# The lease of the dead broker lapses (15 s), then the new one resumes the work.
end() { [ "$(op_state r-async "$OP")" != "in progress" ]; }
expect_true "the interrupted async provision ends within 60 s" wait_for 60 end
req GET "/v2/service_instances/r-async/last_operation?operation=$OP"
state=$(jqb .state)
expect_true "it ended succeeded or failed ($state)" [ "$state" = succeeded -o "$state" = failed ]
if [ "$state" = succeeded ]; then
	req GET /v2/service_instances/r-async
	expect_status 200 "the resumed instance can be fetched"
	expect_true "and its tenant exists" has_instance r-async
else
	expect_true "a failed one left no tenant" sh -c "! test -f '$WORK/data/fake-tenants/$(instance_tenant r-async)'"
fi
end_sync() { [ "$(op_state r-sync)" != "in progress" ]; }
expect_true "the interrupted sync provision ends" wait_for 30 end_sync
req GET /v2/service_instances/r-sync/last_operation
expect_jq '.state' failed "an interrupted sync provision is failed (its client never got an answer)"
expect_true "and rolled back on the server" sh -c "! test -f '$WORK/data/fake-tenants/$(instance_tenant r-sync)'"
req GET /v2/service_instances/r-sync
expect_status 404 "and cannot be fetched"
req PUT /v2/service_instances/r-sync "$(provision_body plan-sync)"
expect_status 201 "the platform's retry provisions it"

# A clean stop (TERM) and start keeps everything too.
stop_broker
start_broker
req GET /v2/service_instances/r-keep/service_bindings/rb-keep
expect_jq '.credentials.password' "$PW" "credentials after a clean restart"
req PUT /v2/service_instances/r-keep "$(provision_body plan-sync '{"size":2}')"
expect_status 200 "identical repeat after restarts still answers 200"
finish
