#!/usr/bin/env bash
# --reconcile reports server-side tenants without a record; --reconcile=purge removes them; recorded tenants stay.
. "$(dirname "$0")/../lib.sh"
start_broker

req PUT /v2/service_instances/k-1 "$(provision_body plan-sync)"
req PUT /v2/service_instances/k-1/service_bindings/kb-1 "$(bind_body plan-sync)"
req PUT "/v2/service_instances/k-2?accepts_incomplete=true" "$(provision_body plan-async)"
poll_instance k-2
stop_broker

T=$WORK/data/fake-tenants
orphan_i=$(instance_tenant lost-instance)
orphan_b=$(binding_tenant lost-binding)
echo plan-sync >"$T/$orphan_i"
echo k-1 >"$T/$orphan_b"
echo plan-sync >"$T/not-ours"
"$FAKE" --config "$WORK/config.json" --reconcile >"$WORK/report" 2>>"$WORK/broker.log"
expect_true "--reconcile exits 0" [ $? = 0 ]
BODY=$(cat "$WORK/report")
expect_true "the report is JSON lines" sh -c "jq -e . '$WORK/report' >/dev/null"
expect_true "the hand-made instance tenant is reported" sh -c "jq -e 'select(.orphan==\"$orphan_i\" and .kind==\"instance\" and .purged==false)' '$WORK/report' | grep -q ."
expect_true "the hand-made binding user is reported" sh -c "jq -e 'select(.orphan==\"$orphan_b\" and .kind==\"binding\" and .purged==false)' '$WORK/report' | grep -q ."
expect_true "exactly two orphans" sh -c "jq -e 'select(has(\"orphans\")) | .orphans == 2 and .purged == 0' '$WORK/report' >/dev/null"
expect_true "recorded tenants are not reported" sh -c "! grep -q -e '$(instance_tenant k-1)' -e '$(binding_tenant kb-1)' -e '$(instance_tenant k-2)' '$WORK/report'"
expect_true "names that are not the broker's are ignored" sh -c "! grep -q not-ours '$WORK/report'"
expect_true "a report alone removes nothing" sh -c "test -f '$T/$orphan_i' && test -f '$T/$orphan_b'"

"$FAKE" --config "$WORK/config.json" --reconcile=purge >"$WORK/report" 2>>"$WORK/broker.log"
expect_true "--reconcile=purge exits 0" [ $? = 0 ]
expect_true "purge reports both orphans purged" sh -c "jq -e 'select(has(\"orphans\")) | .orphans == 2 and .purged == 2' '$WORK/report' >/dev/null"
expect_true "the orphans are gone" sh -c "! test -f '$T/$orphan_i' && ! test -f '$T/$orphan_b'"
expect_true "the recorded instances stay" sh -c "test -f '$T/$(instance_tenant k-1)' && test -f '$T/$(instance_tenant k-2)'"
expect_true "the recorded binding stays" has_binding kb-1
expect_true "foreign names stay" test -f "$T/not-ours"
"$FAKE" --config "$WORK/config.json" --reconcile >"$WORK/report" 2>>"$WORK/broker.log"
expect_true "a second report finds nothing" sh -c "jq -e 'select(has(\"orphans\")) | .orphans == 0' '$WORK/report' >/dev/null"
"$FAKE" --config "$WORK/config.json" --reconcile=everything >/dev/null 2>&1
expect_true "--reconcile=everything is refused" [ $? != 0 ]

start_broker
req GET /v2/service_instances/k-1/service_bindings/kb-1
expect_status 200 "the binding still works after a purge"
req GET /v2/service_instances/k-2
expect_status 200 "the async instance too"
finish
