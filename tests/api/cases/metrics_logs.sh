#!/usr/bin/env bash
# /metrics counts requests and auth failures; the log is JSON lines and never holds a credential.
. "$(dirname "$0")/../lib.sh"
start_broker

metric() { # name-and-labels regex: the summed value
	curl -s "$BASE/metrics" | grep -E "^$1 " | awk '{ s += $NF } END { print s + 0 }'
}
NOAUTH=1 NOVERSION=1 req GET /metrics
expect_status 200 "metrics are served"
expect_header Content-Type 'text/plain' "as Prometheus text"
expect_true "HELP and TYPE lines" sh -c "printf '%s' '$BODY' | grep -q '^# TYPE osb_requests_total counter'"

a0=$(metric 'osb_auth_failures_total')
NOAUTH=1 req GET /v2/catalog
NOAUTH=1 req GET /v2/catalog "" -u broker:wrong
expect_true "auth failures are counted" [ "$(metric 'osb_auth_failures_total')" = $((a0 + 2)) ]
c0=$(metric 'osb_requests_total\{route="/v2/catalog",method="GET",status="200"\}')
req GET /v2/catalog
req GET /v2/catalog
expect_true "catalog requests are counted by route, method and status" \
	[ "$(metric 'osb_requests_total\{route="/v2/catalog",method="GET",status="200"\}')" = $((c0 + 2)) ]
expect_true "401s are counted as requests too" [ "$(metric 'osb_requests_total\{[^}]*status="401"\}')" -ge 2 ]

# A life cycle whose secrets must never reach the log.
WRONG_PW="wrong-secret-$RANDOM$RANDOM"
req PUT /v2/service_instances/m-1 "$(provision_body plan-sync "{\"label\":\"x\"}")" -H "X-Broker-API-Originating-Identity: cloudfoundry $(printf '{"user_id":"u-1"}' | base64 -w0)"
req PUT /v2/service_instances/m-1/service_bindings/mb-1 "$(bind_body plan-sync)"
PW=$(jqb .credentials.password)
URI=$(jqb .credentials.uri)
req GET /v2/service_instances/m-1/service_bindings/mb-1
req PUT /v2/service_instances/m-1/service_bindings/mb-1 "$(bind_body plan-sync)"
req PUT "/v2/service_instances/ma?accepts_incomplete=true" "$(provision_body plan-async)"
poll_instance ma
req PUT "/v2/service_instances/ma/service_bindings/mba?accepts_incomplete=true" '{"service_id":"svc-fake","plan_id":"plan-async"}'
poll_binding ma mba
req GET /v2/service_instances/ma/service_bindings/mba
PW2=$(jqb .credentials.password)
req PUT /v2/service_instances/m-1/service_bindings/mb-f "$(bind_body plan-sync '{"fail":"bind:EBACKEND","fail_late":true}')"
req DELETE "/v2/service_instances/m-1/service_bindings/mb-1?service_id=svc-fake&plan_id=plan-sync"
NOAUTH=1 req GET /v2/catalog "" -u "broker:$WRONG_PW"
NOAUTH=1 req GET /v2/catalog "" -u "$USER_NAME:not-the-$USER_PASS"
expect_true "the binding password is a real secret" [ ${#PW} -ge 16 ]
settle_log
expect_true "the sync binding's password is not in the log" sh -c "! grep -qF -- '$PW' '$WORK/broker.log'"
expect_true "the async binding's password is not in the log" sh -c "! grep -qF -- '$PW2' '$WORK/broker.log'"
expect_true "the credentials URI is not in the log" sh -c "! grep -qF -- '$URI' '$WORK/broker.log'"
expect_true "the broker's own account password is not in the log" sh -c "! grep -qF -- '$USER_PASS' '$WORK/broker.log'"
expect_true "a wrong password tried by a client is not in the log" sh -c "! grep -qF -- '$WRONG_PW' '$WORK/broker.log'"
expect_true "the data dir holds no plain binding password either" sh -c "! grep -rqF -- '$PW' '$WORK/data'/*.db* 2>/dev/null"

# Every log line is one JSON object with a timestamp, level and event.
stop_broker
bad=0
while IFS= read -r line; do
	printf '%s' "$line" | jq -e 'type=="object" and (.ts|type=="string") and (.level|type=="string") and (.event|type=="string")' >/dev/null 2>&1 ||
		{ bad=$((bad + 1)); echo "     not a JSON log line: $line" | cut -c1-200; }
done <"$WORK/broker.log"
expect_true "every one of $(wc -l <"$WORK/broker.log") log lines is a JSON object with ts, level, event" [ "$bad" = 0 ]
expect_true "requests are logged with their request id" log_has '"event":"request".*"request_id":'
expect_true "auth failures are logged" log_has '"event":"auth.failed"'
# The gateway logs each driver callback's outcome as "<driver>.<operation>" with the derived names and its time.
expect_true "the provision's outcome is logged once, with the instance's derived name" \
	log_has '"event":"fake.provision".*"msg":"instance osb_[0-9a-f]{20}: done in [0-9]+ ms"'
expect_true "the bind's outcome names the binding and its instance" \
	log_has '"event":"fake.bind".*"msg":"binding osb_[0-9a-f]{20} of instance osb_[0-9a-f]{20}: done in'
finish
