#!/usr/bin/env bash
# The marketplace page of a broker's own catalog: behind the broker's auth by default, public when
# marketplace.public is true; only the catalog, escaped; its style sheet, script and data document.
. "$(dirname "$0")/../lib.sh"
start_broker

# --- off by default: the page is the broker accounts' alone
NOAUTH=1 req GET /marketplace
expect_error 401 Unauthorized "not public by default"
NOAUTH=1 req GET /marketplace/catalog.json
expect_error 401 Unauthorized "nor its data"
NOVERSION=1 req GET /marketplace
expect_status 200 "the broker's accounts see it (no X-Broker-API-Version needed)"
expect_header Content-Type 'text/html; charset=utf-8' "HTML"
expect_header Content-Security-Policy "default-src 'none'; style-src 'self'; script-src 'self'" "a strict Content-Security-Policy"
expect_header X-Content-Type-Options nosniff "nosniff"
expect_true "the fake service is on it" grep -q 'data-service="fake/svc-fake"' "$WORK/body"
expect_true "the other service too" grep -q 'data-service="fake/svc-other"' "$WORK/body"
expect_true "every plan of the catalog is on it" \
	[ "$(grep -o '<section class="plan" data-plan=' "$WORK/body" | wc -l)" = "$(jq '[.services[].plans[]] | length' "$ROOT/tests/api/catalog.json")" ]
expect_true "grouped by tag: category test" grep -q '<section class="category" id="category-test">' "$WORK/body"
expect_true "untagged services under other" grep -q '<section class="category" id="category-other">' "$WORK/body"
expect_true "the provider is shown" grep -q 'Provided by osb tests' "$WORK/body"
expect_true "costs are shown" grep -q '10.00 USD / monthly' "$WORK/body"
expect_true "the asynchronous plan is marked" grep -q '<li class="async">asynchronous: takes a while</li>' "$WORK/body"
expect_true "parameters from the plan's schema" grep -q '<code>size</code></td><td>integer</td><td><code>1</code></td>' "$WORK/body"
expect_true "with their limits" grep -q 'at least 1; at most 10' "$WORK/body"
expect_true "no private x-osb settings" bash -c "! grep -q 'x-osb\\|credential_ttl' '$WORK/body'"
expect_true "nothing hidden without a search" bash -c "! grep -q 'class=\"service\"[^>]* hidden>' '$WORK/body'"
expect_true "the count" grep -q '<p class="count" id="count" aria-live="polite">2 services</p>' "$WORK/body"

req GET "/marketplace?q=TEST%20double"
expect_status 200 "a server-side search (for browsers without JavaScript)"
expect_true "the match is shown" grep -q 'data-service="fake/svc-fake" data-search="[^"]*">' "$WORK/body"
expect_true "the rest is hidden" grep -q 'data-service="fake/svc-other" data-search="[^"]*" hidden>' "$WORK/body"
expect_true "the count says so" grep -q '1 of 2 services match' "$WORK/body"
expect_true "the search box keeps the words" grep -q 'value="TEST double"' "$WORK/body"
req GET "/marketplace?q=%3Cb%3E%22zzz"
expect_true "an unmatched search shows none, and the notice" grep -q '<p class="empty" id="empty">' "$WORK/body"
expect_true "the query is escaped in the box" grep -q 'value="&lt;b&gt;&quot;zzz"' "$WORK/body"

req GET /marketplace/style.css
expect_status 200 "the style sheet"
expect_header Content-Type 'text/css' "as CSS"
req GET /marketplace/search.js
expect_status 200 "the script"
expect_header Content-Type 'text/javascript' "as JavaScript"
req GET /marketplace/catalog.json
expect_status 200 "the data document"
expect_jq '.brokers[0].name' fake "named after the driver"
expect_jq '[.brokers[0].services[].id] | join(",")' "svc-fake,svc-other" "the catalog's services"
expect_jq '.brokers[0].plan_features["plan-async"].asynchronous' true "asynchronous plans marked"
expect_jq '.brokers[0].plan_features["plan-sync"].asynchronous' false "synchronous ones too"
expect_jq '[.. | objects | has("x-osb")] | any' false "no private settings"
req GET /marketplace/../../etc/passwd --path-as-is
expect_status 404 "no way out of /marketplace"
req GET /marketplace/..%2f..%2fetc%2fpasswd
expect_status 404 "nor encoded"
req GET /marketplace/nope.css
expect_error 404 NotFound "an unknown file"
req POST /marketplace '{}'
expect_status 405 "read-only"

# --- no instance data, ever
req PUT /v2/service_instances/i-secret "$(provision_body plan-sync '{"label":"secret-label"}')"
expect_status 201 "an instance exists"
req GET /marketplace
expect_true "the page shows none of it" bash -c "! grep -q 'i-secret\\|secret-label' '$WORK/body'"

# --- public when the operator says so; everything else keeps its auth
stop_broker
jq '. + {marketplace: {public: true}}' "$WORK/config.json" >"$WORK/c2" && mv "$WORK/c2" "$WORK/config.json"
start_broker
NOAUTH=1 req GET /marketplace
expect_status 200 "public page"
NOAUTH=1 req GET /marketplace/search.js
expect_status 200 "public script"
NOAUTH=1 req GET /marketplace/catalog.json
expect_status 200 "public data"
NOAUTH=1 req GET /v2/catalog
expect_error 401 Unauthorized "the OSB API still needs auth"
NOAUTH=1 req GET /usage/events
expect_error 401 Unauthorized "so does the usage log"

# --- a hostile catalog is shown as text, and its links only when http(s)
stop_broker
cat >"$WORK/hostile.json" <<'JSON'
{"services": [{"id": "svc-h", "name": "hostile", "description": "<script>alert(1)</script>", "bindable": true,
  "tags": ["<img src=x onerror=alert(2)>"],
  "metadata": {"displayName": "\"><svg onload=alert(3)>", "imageUrl": "javascript:alert(4)",
               "documentationUrl": "javascript:alert(5)", "supportUrl": "https://support.example/?a=1&b=\"2\"",
               "longDescription": "a & b"},
  "plans": [{"id": "plan-h", "name": "h", "description": "</section><script>alert(6)</script>",
             "metadata": {"bullets": ["<b>bold</b>"]},
             "schemas": {"service_instance": {"create": {"parameters": {"$schema": "http://json-schema.org/draft-04/schema#",
               "type": "object", "properties": {"x<y": {"type": "string", "description": "<i>d</i>", "default": "</td>"}}}}}}}]}]}
JSON
jq --arg c "$WORK/hostile.json" '.catalog = $c' "$WORK/config.json" >"$WORK/c2" && mv "$WORK/c2" "$WORK/config.json"
start_broker
NOAUTH=1 req GET /marketplace
expect_status 200 "the hostile catalog's page"
expect_true "no markup from the catalog survives" bash -c "! grep -qi '<script>\\|<svg\\|<img src=x\\|<i>d\\|<b>bold' '$WORK/body'"
expect_true "it is shown as text" grep -q '&lt;script&gt;alert(1)&lt;/script&gt;' "$WORK/body"
expect_true "no javascript: URL" bash -c "! grep -qi 'javascript:' '$WORK/body'"
expect_true "an https link kept, escaped" grep -q 'href="https://support.example/?a=1&amp;b=&quot;2&quot;"' "$WORK/body"
expect_true "the only script is the page's own" [ "$(grep -o '<script' "$WORK/body" | wc -l)" = 1 ]

# --- a bad setting stops the broker at start
stop_broker
jq '. + {marketplace: {public: "yes"}}' "$WORK/config.json" >"$WORK/c2" && mv "$WORK/c2" "$WORK/config.json"
OUT=$("$FAKE" --config "$WORK/config.json" --check-config 2>&1)
expect_true "marketplace.public must be a boolean" grep -q 'marketplace.public: must be true or false' <<<"$OUT"
jq '. + {marketplace: {open: true}}' "$WORK/config.json" >"$WORK/c2" && mv "$WORK/c2" "$WORK/config.json"
OUT=$("$FAKE" --config "$WORK/config.json" --check-config 2>&1)
expect_true "unknown keys are refused" grep -q 'marketplace.open: unknown key' <<<"$OUT"
finish
