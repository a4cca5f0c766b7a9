#!/usr/bin/env bash
# Usage records: one per instance created, plan changed, deleted, and binding created/deleted, written with the
# change; GET /usage/events pages them by a cursor that survives restarts; /metrics counts instances per plan.
. "$(dirname "$0")/../lib.sh"
start_broker

# usage [AFTER] [LIMIT]: GET /usage/events, sets STATUS and BODY
usage() {
	req GET "/usage/events?after=${1:-0}&limit=${2:-100}"
}
# all_events: every event, following the cursor one page of 2 at a time (checks the paging on the way).
all_events() {
	local cursor=0 more=true out="[]"
	while [ "$more" = true ]; do
		usage "$cursor" 2
		[ "$STATUS" = 200 ] || { echo "[]"; return 1; }
		out=$(jq -c --argjson page "$(jqb .events)" '. + $page' <<<"$out")
		cursor=$(jqb .next_cursor)
		more=$(jqb .has_more)
	done
	printf '%s' "$out"
}
IDENTITY="cloudfoundry $(printf '{"user_id":"user-42"}' | base64 -w0)"

# --- the endpoint itself
usage
expect_status 200 "an empty log"
expect_jq '.events | length' 0 "no events yet"
expect_jq '.next_cursor' 0 "the cursor stays at 0"
expect_jq '.has_more' false "nothing more"
NOAUTH=1 usage
expect_error 401 Unauthorized "the log needs the broker's credentials"
NOVERSION=1 usage
expect_status 200 "it is not an OSB route: no X-Broker-API-Version needed"
for bad in abc -1 1e3 12345678901234567890 ""; do
	req GET "/usage/events?after=$bad"
	expect_error 400 BadRequest "after=$bad is refused"
done
for bad in 0 1001 x 5.5 ""; do
	req GET "/usage/events?limit=$bad"
	expect_error 400 BadRequest "limit=$bad is refused"
done
req PUT /usage/events
expect_status 405 "the log is read-only"

# --- what makes events, and what does not
req PUT /v2/service_instances/i-1 "$(provision_body plan-sync '{"size":3}')" -H "X-Broker-API-Originating-Identity: $IDENTITY"
expect_status 201 "provision i-1"
req PUT /v2/service_instances/i-1 "$(provision_body plan-sync '{"size":3}')"
expect_status 200 "the same provision again"
req PUT /v2/service_instances/i-bad "$(provision_body plan-sync '{"fail":"provision:EBACKEND"}')"
expect_json_error "a failed provision"
req PUT /v2/service_instances/i-1/service_bindings/b-1 "$(bind_body plan-sync)"
expect_status 201 "bind b-1"
req PUT /v2/service_instances/i-1/service_bindings/b-2 "$(bind_body plan-sync)"
expect_status 201 "bind b-2"
req PUT /v2/service_instances/i-1/service_bindings/b-bad "$(bind_body plan-sync '{"fail":"bind:EBACKEND"}')"
expect_json_error "a failed bind"
req PATCH /v2/service_instances/i-1 '{"service_id":"svc-fake","parameters":{"size":4}}'
expect_status 200 "an update of parameters only"
req PATCH /v2/service_instances/i-1 '{"service_id":"svc-fake","plan_id":"plan-large"}'
expect_status 200 "a plan change to large"
req DELETE "/v2/service_instances/i-1/service_bindings/b-1?service_id=svc-fake&plan_id=plan-sync"
expect_status 200 "unbind b-1"
req DELETE "/v2/service_instances/i-1?service_id=svc-fake&plan_id=plan-large"
expect_status 200 "deprovision i-1 with b-2 still bound"

EVENTS=$(all_events)
expect_true "paging by 2 reads the whole log" [ -n "$EVENTS" ]
BODY=$EVENTS
expect_jq '[.[] | .type + ":" + .instance_id + ":" + (.binding_id // "-")] | join(" ")' \
	"instance_created:i-1:- binding_created:i-1:b-1 binding_created:i-1:b-2 instance_plan_changed:i-1:- binding_deleted:i-1:b-1 binding_deleted:i-1:b-2 instance_deleted:i-1:-" \
	"exactly the seven changes, in order; nothing for repeats, failures or parameter updates"
expect_jq '[.[] | .cursor | tonumber] | . == (sort | unique)' true "cursors strictly increase"
expect_jq '.[0].plan_id + " " + .[0].plan_name + " " + .[0].service_name' "plan-sync sync fake" "created: plan and service named"
expect_jq '.[0].context.platform' cloudfoundry "created: the platform context"
expect_jq '.[0].originating_identity.platform + " " + .[0].originating_identity.value.user_id' "cloudfoundry user-42" \
	"created: the originating identity"
expect_jq '.[1].originating_identity' null "no identity when none was sent"
expect_jq '.[0].occurred_at | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$")' true "times are ISO 8601 UTC"
expect_jq '.[0].occurred_at | fromdateiso8601 | (now - .) < 600' true "and recent"
expect_jq '.[0].operation | test("^[0-9a-f]{32}$")' true "each names its operation"
expect_jq '.[3].previous_plan_id + " -> " + .[3].plan_id + " (" + .[3].previous_plan_name + " -> " + .[3].plan_name + ")"' \
	"plan-sync -> plan-large (sync -> large)" "the plan change names both plans"
expect_jq '[.[4:][] | .plan_name] | join(" ")' "large large large" "bindings and deletions carry the instance's plan at that time"
expect_jq '.[6].context.space_guid // .[6].context.platform' cloudfoundry "deleted: the context"
LAST=$(jq -r '.[-1].cursor' <<<"$EVENTS")
usage "$LAST"
expect_jq '.events | length' 0 "nothing after the last cursor"
expect_jq '.next_cursor' "$LAST" "the cursor stays where it was"

# --- asynchronous operations: the event comes when the operation succeeds
req PUT "/v2/service_instances/i-async?accepts_incomplete=true" "$(provision_body plan-async)"
expect_status 202 "asynchronous provision"
expect_true "it ends" poll_instance i-async
usage "$LAST"
expect_jq '[.events[] | .type + ":" + .instance_id + ":" + .plan_name] | join(" ")' "instance_created:i-async:async" \
	"one event once it succeeded"

# --- the cursor survives a crash and a restart
usage 0 1000
BEFORE=$(jqb '[.events[] | .cursor + .type + .instance_id] | join(",")')
stop_broker KILL
start_broker
usage 0 1000
expect_jq '[.events[] | .cursor + .type + .instance_id] | join(",")' "$BEFORE" "the same events and cursors after a SIGKILL"
PREV=$(jqb .next_cursor)
req PUT /v2/service_instances/i-2 "$(provision_body plan-sync)"
expect_status 201 "provision i-2 after the restart"
usage "$PREV"
expect_jq '[.events[] | .type + ":" + .instance_id] | join(" ")' "instance_created:i-2" "only the new event after the old cursor"
expect_true "with a larger cursor" [ "$(jqb '.events[0].cursor')" -gt "$PREV" ]

# --- /metrics: instances that exist, per plan (every catalog plan has a gauge)
req GET /metrics
expect_status 200 "metrics"
expect_true "osb_plan_instances counts i-2 on plan sync" grep -q '^osb_plan_instances{service="fake",plan="sync",plan_id="plan-sync"} 1$' "$WORK/body"
expect_true "and i-async on plan async" grep -q '^osb_plan_instances{service="fake",plan="async",plan_id="plan-async"} 1$' "$WORK/body"
expect_true "and 0 on plan large (i-1 is deleted)" grep -q '^osb_plan_instances{service="fake",plan="large",plan_id="plan-large"} 0$' "$WORK/body"
expect_true "a gauge for every plan of the catalog" \
	[ "$(grep -c '^osb_plan_instances{' "$WORK/body")" = "$(jq '[.services[].plans[]] | length' "$ROOT/tests/api/catalog.json")" ]
finish
