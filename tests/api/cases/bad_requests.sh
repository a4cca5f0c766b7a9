#!/usr/bin/env bash
# A corpus of hostile requests: broken or hostile JSON, wrong types, huge and deep bodies, hostile ids,
# unknown routes, wrong methods, bad query values. Each gets the right 4xx with a JSON error and description,
# the broker keeps running and nothing changes.
. "$(dirname "$0")/../lib.sh"
start_broker

req PUT /v2/service_instances/keep "$(provision_body plan-sync '{"size":3}')"
req PUT /v2/service_instances/keep/service_bindings/keep-b "$(bind_body plan-sync '{"role":"reader"}')"
req GET /v2/service_instances/keep
INST=$BODY
req GET /v2/service_instances/keep/service_bindings/keep-b
BIND=$BODY
NT=$(tenants)
gauges() { curl -s "$BASE/metrics" | grep -E '^osb_(instances|bindings) '; }
GAUGES=$(gauges)

# hostile CODE_REGEX "what" METHOD PATH [BODY] [curl args...]: answered with a matching 4xx and a JSON error.
hostile() {
	local want=$1 what=$2 method=$3 path=$4 body=${5:-}
	shift 4
	shift 2>/dev/null # the body, when given
	req "$method" "$path" "$body" --path-as-is "$@"
	if [[ "$STATUS" =~ ^($want)$ ]] &&
		printf '%s' "$BODY" | jq -e '(.error|type=="string" and length>0) and (.description|type=="string" and length>0)' >/dev/null 2>&1; then
		pass "$what ($STATUS $(jqb .error))"
	else
		fail "$what: want status $want with a JSON error and description"
	fi
}
# unchanged "batch": the broker is live and nothing changed.
unchanged() {
	expect_live "$1: the broker is live"
	req GET /v2/service_instances/keep
	expect_true "$1: the instance is unchanged" [ "$BODY" = "$INST" ]
	req GET /v2/service_instances/keep/service_bindings/keep-b
	expect_true "$1: the binding is unchanged" [ "$BODY" = "$BIND" ]
	expect_true "$1: the server's tenants are unchanged" [ "$(tenants)" = "$NT" ]
	expect_true "$1: the store's record counts are unchanged" [ "$(gauges)" = "$GAUGES" ]
}
P=/v2/service_instances/h-1
B=/v2/service_instances/keep/service_bindings/h-b

# --- broken JSON and JSON that is not an object
for body in '{' '{"service_id":' '{"a":1,}' "{'service_id':'svc-fake'}" 'nul' '{"a":1}{"b":2}' '{"a":1} x' '{"a":01}' \
	'{"a":"\x"}' '{"a":"unterminated}' '[' '{"a" 1}' '{,}' '{"a":1' ']' '{"a":tru}' '{"a":NaN}' '{"a":Infinity}' \
	'[]' '[{"service_id":"svc-fake"}]' '"a string"' '42' 'true' 'null' '  '; do
	hostile 400 "PUT instance with body '$body'" PUT "$P" "$body"
	hostile 400 "PATCH instance with body '$body'" PATCH /v2/service_instances/keep "$body"
	hostile 400 "PUT binding with body '$body'" PUT "$B" "$body"
done
hostile 400 "PUT instance without a body" PUT "$P" "" -H 'Content-Length: 0'
hostile 400 "PUT binding without a body" PUT "$B" "" -H 'Content-Length: 0'
printf '{"service_id":"svc-fake","plan_id":"plan-sync","organization_guid":"o\0x","space_guid":"s"}' >"$WORK/nul.json"
hostile 400 "a raw NUL byte inside the body" PUT "$P" "" -H 'Content-Type: application/json' --data-binary @"$WORK/nul.json"
printf '\xef\xbb\xbf{"service_id":"svc-fake","plan_id":"plan-sync","organization_guid":"o","space_guid":"s","parameters":{"x":1}}' >"$WORK/bom.json"
hostile 400 "a byte order mark before the JSON (and an invalid parameter)" PUT "$P" "" -H 'Content-Type: application/json' --data-binary @"$WORK/bom.json"
unchanged "broken JSON"

# --- wrong types and empty strings, field by field
base=$(provision_body plan-sync)
for field in service_id plan_id organization_guid space_guid; do
	for v in 1 true '{}' '[]' '""' '1.5' '["svc-fake"]' '{"id":"svc-fake"}'; do
		hostile 400 "provision with $field = $v" PUT "$P" "$(printf '%s' "$base" | jq -c ".$field = $v")"
	done
done
for field in context parameters maintenance_info; do
	for v in 1 true '"x"' '[]' '[{}]'; do
		hostile 400 "provision with $field = $v" PUT "$P" "$(printf '%s' "$base" | jq -c ".$field = $v")"
	done
done
for v in 1 '{}' '""' '[]'; do
	hostile 400 "provision with maintenance_info.version = $v" PUT "$P" "$(printf '%s' "$base" | jq -c ".maintenance_info = {\"version\": $v}")"
done
pbase='{"service_id":"svc-fake","parameters":{"size":4}}'
for field in service_id plan_id; do
	for v in 1 true '{}' '[]' '""'; do
		hostile 400 "update with $field = $v" PATCH /v2/service_instances/keep "$(printf '%s' "$pbase" | jq -c ".$field = $v")"
	done
done
for field in context parameters previous_values maintenance_info; do
	for v in 1 '"x"' '[]'; do
		hostile 400 "update with $field = $v" PATCH /v2/service_instances/keep "$(printf '%s' "$pbase" | jq -c ".$field = $v")"
	done
done
bbase=$(bind_body plan-sync)
for field in service_id plan_id app_guid predecessor_binding_id; do
	for v in 1 true '{}' '[]' '""'; do
		hostile 400 "bind with $field = $v" PUT "$B" "$(printf '%s' "$bbase" | jq -c ".$field = $v")"
	done
done
for field in context parameters bind_resource; do
	for v in 1 '"x"' '[]'; do
		hostile 400 "bind with $field = $v" PUT "$B" "$(printf '%s' "$bbase" | jq -c ".$field = $v")"
	done
done
for v in 1 '[]' '""' '{}'; do
	hostile 400 "bind with bind_resource.app_guid = $v" PUT "$B" "$(printf '%s' "$bbase" | jq -c ".bind_resource.app_guid = $v")"
	hostile 400 "bind with bind_resource.route = $v" PUT "$B" "$(printf '%s' "$bbase" | jq -c ".bind_resource.route = $v")"
done
hostile 400 "parameters with a number beyond double range" PUT "$P" "$(provision_body plan-sync '{"size":1e400}')"
provision_body plan-sync "{\"label\":\"$(head -c 500000 /dev/zero | tr '\0' x)\"}" >"$WORK/long.json"
hostile 400 "parameters with a 500 KB string" PUT "$P" "" -H 'Content-Type: application/json' --data-binary @"$WORK/long.json"
unchanged "wrong types"

# --- unknown ids, foreign plans
hostile 400 "unknown service" PUT "$P" '{"service_id":"svc-nope","plan_id":"plan-sync","organization_guid":"o","space_guid":"s"}'
hostile 400 "unknown plan" PUT "$P" '{"service_id":"svc-fake","plan_id":"plan-nope","organization_guid":"o","space_guid":"s"}'
hostile 400 "plan of another service" PUT "$P" '{"service_id":"svc-fake","plan_id":"plan-other","organization_guid":"o","space_guid":"s"}'
hostile 400 "SQL in service_id" PUT "$P" "{\"service_id\":\"svc-fake' OR '1'='1\",\"plan_id\":\"plan-sync\",\"organization_guid\":\"o\",\"space_guid\":\"s\"}"
hostile 400 "SQL in plan_id" PUT "$P" "{\"service_id\":\"svc-fake\",\"plan_id\":\"x'); DROP TABLE osb_instances;--\",\"organization_guid\":\"o\",\"space_guid\":\"s\"}"
hostile 400 "bind with a plan of another service" PUT "$B" '{"service_id":"svc-other","plan_id":"plan-sync"}'
hostile 404 "bind to an unknown instance" PUT /v2/service_instances/nope/service_bindings/h-b "$bbase"
hostile 404 "update of an unknown instance" PATCH /v2/service_instances/nope "$pbase"
unchanged "unknown ids"

# --- huge and deep bodies
head -c $((1024 * 1024 + 10)) /dev/zero | tr '\0' ' ' >"$WORK/huge.json"
hostile 413 "a body over 1 MiB (Content-Length)" PUT "$P" "" -H 'Content-Type: application/json' --data-binary @"$WORK/huge.json"
hostile 413 "a body over 1 MiB (chunked)" PUT "$P" "" -H 'Content-Type: application/json' -H 'Transfer-Encoding: chunked' --data-binary @"$WORK/huge.json"
{ printf '{"service_id":"svc-fake","plan_id":"plan-sync","organization_guid":"o","space_guid":"s","parameters":{"label":"'
  head -c $((2 * 1024 * 1024)) /dev/zero | tr '\0' a; printf '"}}'; } >"$WORK/huge2.json"
hostile 413 "a 2 MiB JSON document" PUT "$P" "" -H 'Content-Type: application/json' --data-binary @"$WORK/huge2.json"
hostile 413 "a 2 MiB binding body" PUT "$B" "" -H 'Content-Type: application/json' --data-binary @"$WORK/huge2.json"
hostile 413 "a 2 MiB update body" PATCH /v2/service_instances/keep "" -H 'Content-Type: application/json' --data-binary @"$WORK/huge2.json"
obj=$(python3 -c 'import json; print(json.dumps({"service_id":"svc-fake","plan_id":"plan-sync","organization_guid":"o","space_guid":"s","parameters":{"k%d" % i: i for i in range(40000)}}))')
printf '%s' "$obj" >"$WORK/wide.json"
hostile 400 "40,000 parameters" PUT "$P" "" -H 'Content-Type: application/json' --data-binary @"$WORK/wide.json"
unchanged "huge and deep bodies"

# --- hostile ids in the path
long300=$(head -c 300 /dev/zero | tr '\0' a)
long256=$(head -c 256 /dev/zero | tr '\0' a)
for id in '...' '%2E%2E' '%2E' 'a%22b' '%22' "a'b" 'a%27b' "x%27%3B%20DROP%20TABLE%20osb_instances%3B--" 'a%20b' \
	'a%0Ab' 'a%0D%0Ab' 'a%09b' 'a%7Fb' 'caf%C3%A9' 'a%FFb' 'a%25b' 'a%5Cb' 'a;b' 'a,b' 'a:b' 'a@b' 'a*b' 'a$b' 'a(b)' 'a+b' 'a=b' \
	'a%3Fb' 'a%23b' '%3C%3E' "$long300" "$long256"; do
	hostile 400 "instance id '$id' on provision" PUT "/v2/service_instances/$id" "$base"
	hostile 400 "instance id '$id' on fetch" GET "/v2/service_instances/$id"
	hostile 400 "instance id '$id' on delete" DELETE "/v2/service_instances/$id?service_id=svc-fake&plan_id=plan-sync"
	hostile 400 "instance id '$id' on last_operation" GET "/v2/service_instances/$id/last_operation"
	hostile 400 "binding id '$id' on bind" PUT "/v2/service_instances/keep/service_bindings/$id" "$bbase"
	hostile 400 "binding id '$id' on unbind" DELETE "/v2/service_instances/keep/service_bindings/$id?service_id=svc-fake&plan_id=plan-sync"
	hostile 400 "binding id '$id' on binding last_operation" GET "/v2/service_instances/keep/service_bindings/$id/last_operation"
done
hostile '400|404' "raw quote in the path" GET '/v2/service_instances/a"b'
# Literal dot segments are resolved like in any URL (RFC 3986 5.2.4), so they never reach the broker as ids.
hostile '400|404' "instance id '.' on provision" PUT '/v2/service_instances/.' "$base"
hostile '400|404' "instance id '..' on provision" PUT '/v2/service_instances/..' "$base"
hostile '400|404' "binding id '..' on bind" PUT '/v2/service_instances/keep/service_bindings/..' "$bbase"
hostile '400|404' "a path climbing out of a binding" PUT '/v2/service_instances/keep/service_bindings/../../keep' "$base"
hostile 404 "an empty instance id (trailing slash)" GET '/v2/service_instances/'
hostile 404 "a trailing slash" GET '/v2/service_instances/keep/'
hostile 404 "a double slash" GET '/v2/service_instances//keep'
unchanged "hostile ids"

# --- unknown routes and wrong methods
for path in / /v2 /v2/ /v3/catalog /v2/catalog/extra /v2/catalogue /v2/service_instances /v2/service_instances/keep/extra \
	/v2/service_instances/keep/service_bindings /v2/service_instances/keep/service_bindings/keep-b/extra \
	/v2/service_instances/keep/last_operation/x /v2/service_instances/keep/service_bindings/keep-b/last_operation/x \
	/v2/service_instances/keep/a/b/c/d/e/f /health /metrics/x /V2/CATALOG; do
	hostile 404 "unknown route $path" GET "$path"
done
methods() { # path allowed...
	local path=$1 allow=$2 m
	for m in POST PUT PATCH DELETE GET; do
		case ", $allow, " in *", $m, "*) continue ;; esac
		hostile 405 "$m $path" "$m" "$path" "{}"
		expect_header Allow "$allow" "405 on $m $path lists $allow"
	done
}
methods /v2/catalog "GET"
methods /v2/service_instances/keep "GET, PUT, PATCH, DELETE"
methods /v2/service_instances/keep/last_operation "GET"
methods /v2/service_instances/keep/service_bindings/keep-b "GET, PUT, DELETE"
methods /v2/service_instances/keep/service_bindings/keep-b/last_operation "GET"
# Methods civetweb refuses before routing (TRACE, unknown ones) are answered like the other wrong methods.
unknown_methods() { # path allow
	local m
	for m in TRACE FOO M-SEARCH; do
		hostile 405 "$m $1" "$m" "$1"
		expect_header Allow "$2" "405 on $m $1 lists $2"
		expect_header Connection close "405 on $m $1 closes the connection"
	done
}
unknown_methods /v2/catalog "GET"
unknown_methods /v2/service_instances/keep "GET, PUT, PATCH, DELETE"
unknown_methods /v2/service_instances/keep/last_operation "GET"
unknown_methods "/v2/service_instances/keep/service_bindings/keep-b?service_id=svc-fake" "GET, PUT, DELETE"
unknown_methods /v2/service_instances/keep/service_bindings/keep-b/last_operation "GET"
hostile 404 "TRACE on an unknown route" TRACE /v2/nope
hostile 404 "FOO on an unknown route" FOO /
unchanged "routes and methods"

# --- bad query values
for q in maybe 1 0 TRUE yes '' '%00' 'true%00' 'tru' 'true,false'; do
	hostile 400 "accepts_incomplete=$q on provision" PUT "$P?accepts_incomplete=$q" "$base"
	hostile 400 "accepts_incomplete=$q on update" PATCH "/v2/service_instances/keep?accepts_incomplete=$q" "$pbase"
	hostile 400 "accepts_incomplete=$q on deprovision" DELETE "/v2/service_instances/keep?service_id=svc-fake&plan_id=plan-sync&accepts_incomplete=$q"
	hostile 400 "accepts_incomplete=$q on bind" PUT "$B?accepts_incomplete=$q" "$bbase"
	hostile 400 "accepts_incomplete=$q on unbind" DELETE "/v2/service_instances/keep/service_bindings/keep-b?service_id=svc-fake&plan_id=plan-sync&accepts_incomplete=$q"
done
for q in '' 'service_id=svc-fake' 'plan_id=plan-sync' 'service_id=&plan_id=' 'service_id=svc-fake%00&plan_id=plan-sync' \
	'service_id=svc-fake&plan_id=plan-sync%00x' 'service_id=svc-fake&plan_id=plan-large' "service_id=svc-fake&plan_id=$long300" \
	'service_id=svc-fake&plan_id=plan%0Async' 'serviceid=svc-fake&planid=plan-sync'; do
	hostile 400 "deprovision with query '$q'" DELETE "/v2/service_instances/keep?$q"
	hostile 400 "unbind with query '$q'" DELETE "/v2/service_instances/keep/service_bindings/keep-b?$q"
done
for q in 'operation=' 'operation=%00' 'operation=a%0Ab' 'service_id=' 'plan_id=' 'plan_id=%0A'; do
	hostile 400 "last_operation with '$q'" GET "/v2/service_instances/keep/last_operation?$q"
	hostile 400 "binding last_operation with '$q'" GET "/v2/service_instances/keep/service_bindings/keep-b/last_operation?$q"
done
# Operation values the broker never issued are answered about the latest operation (what other brokers do).
for q in "operation=$long300" 'operation=nope' "operation=%27%3B--" 'operation=%FF%FE'; do
	req GET "/v2/service_instances/keep/last_operation?$q"
	expect_true "last_operation with '$q': 200 succeeded ($STATUS $BODY)" [ "$STATUS:$(jqb .state)" = 200:succeeded ]
	req GET "/v2/service_instances/keep/service_bindings/keep-b/last_operation?$q"
	expect_true "binding last_operation with '$q': 200 succeeded ($STATUS $BODY)" [ "$STATUS:$(jqb .state)" = 200:succeeded ]
done
for q in 'service_id=' 'plan_id=' 'service_id=%00'; do
	hostile 400 "fetch instance with '$q'" GET "/v2/service_instances/keep?$q"
	hostile 400 "fetch binding with '$q'" GET "/v2/service_instances/keep/service_bindings/keep-b?$q"
done
unchanged "query values"

# --- hostile headers
hostile '400|413|431' "a 20 KB header" GET /v2/catalog "" -H "X-Junk: $(head -c 20000 /dev/zero | tr '\0' a)"
hostile 400 "a 9 KB originating identity" GET /v2/catalog "" -H "X-Broker-API-Originating-Identity: cloudfoundry $(head -c 9000 /dev/zero | tr '\0' A)"
API_VERSION="2.$(head -c 10000 /dev/zero | tr '\0' 1)" hostile 412 "a 10 KB API version" GET /v2/catalog
hostile 401 "a 10 KB Authorization" GET /v2/catalog "" -H "Authorization: Basic $(head -c 10000 /dev/zero | tr '\0' A)"
req GET /v2/catalog "" -H "X-Broker-API-Request-Identity: $(head -c 5000 /dev/zero | tr '\0' r)"
expect_status 200 "a 5 KB request identity is harmless"
req GET /v2/catalog "" -H "X-Broker-API-Request-Identity: bad$(printf '\x01')id"
expect_true "a request identity with a control byte is harmless ($STATUS)" [ "$STATUS" = 200 -o "$STATUS" = 400 ]
expect_no_header X-Broker-API-Request-Identity.*$(printf '\x01') "and it is not echoed"
unchanged "hostile headers"
# --- percent-encoded '/' and NUL in ids: the id is what the platform sent, or the request is refused.
# A platform with an id holding '/' percent-encodes it (spec, URL Properties); the broker must not split it into
# path segments, and %00 must not cut the id short.
hostile 400 "an instance id spelling a binding path (keep%2Fservice_bindings%2Fkeep-b) does not fetch the binding" \
	GET /v2/service_instances/keep%2Fservice_bindings%2Fkeep-b
hostile 400 "an instance id spelling last_operation (keep%2Flast_operation)" GET /v2/service_instances/keep%2Flast_operation
for id in 'a%2Fb' '%2F' 'a%00b' '%00' 'keep%00x'; do
	hostile 400 "instance id '$id' on provision" PUT "/v2/service_instances/$id" "$base"
	hostile 400 "instance id '$id' on fetch" GET "/v2/service_instances/$id"
	hostile 400 "instance id '$id' on delete" DELETE "/v2/service_instances/$id?service_id=svc-fake&plan_id=plan-sync"
	hostile 400 "binding id '$id' on bind" PUT "/v2/service_instances/keep/service_bindings/$id" "$bbase"
	hostile 400 "binding id '$id' on unbind" DELETE "/v2/service_instances/keep/service_bindings/$id?service_id=svc-fake&plan_id=plan-sync"
done
expect_live "encoded '/' and NUL: the broker is live"
# The batches below are judged on their own.
NT=$(tenants) GAUGES=$(gauges)
req GET /v2/service_instances/keep
INST=$BODY
req GET /v2/service_instances/keep/service_bindings/keep-b
BIND=$BODY

# --- escaped NUL bytes: cJSON ends the C string there, so the id seen would not be the id sent
hostile 400 "an id with an escaped NUL (\\u0000) in service_id" PUT /v2/service_instances/h-nul '{"service_id":"svc-fake\u0000evil","plan_id":"plan-sync","organization_guid":"o","space_guid":"s"}'
hostile 400 "an escaped NUL in plan_id" PUT /v2/service_instances/h-nul2 '{"service_id":"svc-fake","plan_id":"plan-sync\u0000x","organization_guid":"o","space_guid":"s"}'
hostile 400 "an escaped NUL in a binding's app_guid" PUT "$B" '{"service_id":"svc-fake","plan_id":"plan-sync","bind_resource":{"app_guid":"app\u0000x"}}'
expect_live "escaped NUL bytes: the broker is live"
NT=$(tenants) GAUGES=$(gauges) # the deep batch is judged on its own

# --- deep nesting, last: a crash here would hide the checks above
# revive: restart a broker that died, so that each check below is judged alone.
revive() {
	curl -s -o /dev/null --max-time 5 "$BASE/health/live" && return 0
	echo "     the broker died; restarting it"
	stop_broker KILL
	start_broker
}
deep() { # N: parameters nested N deep
	printf '{"service_id":"svc-fake","plan_id":"%s","organization_guid":"o","space_guid":"s","parameters":' "$2"
	head -c "$1" /dev/zero | tr '\0' '['; head -c "$1" /dev/zero | tr '\0' ']'; printf '}'
}
deep 100000 plan-sync >"$WORK/deep.json"
hostile 400 "arrays nested 100,000 deep" PUT "$P" "" -H 'Content-Type: application/json' --data-binary @"$WORK/deep.json"
revive
deep 2000 plan-sync >"$WORK/deep.json"
hostile 400 "arrays nested 2,000 deep" PUT "$P" "" -H 'Content-Type: application/json' --data-binary @"$WORK/deep.json"
revive
obj=$(printf '{"service_id":"svc-fake","plan_id":"plan-async","organization_guid":"o","space_guid":"s","parameters":%s}' \
	"$(python3 -c 'print("{\"a\":" * 500 + "1" + "}" * 500)')")
hostile 400 "objects nested 500 deep on a plan without a schema" PUT "/v2/service_instances/h-deep?accepts_incomplete=true" "$obj"
revive
deep 900 plan-sync >"$WORK/deep.json"
hostile 400 "arrays nested 900 deep (under cJSON's own limit of 1000)" PUT "$P" "" -H 'Content-Type: application/json' --data-binary @"$WORK/deep.json"
revive
hostile 400 "an originating identity nested 950 deep" GET /v2/catalog "" -H "X-Broker-API-Originating-Identity: cloudfoundry $(head -c 950 /dev/zero | tr '\0' '[' | base64 -w0)"
revive
unchanged "deep nesting"
finish
