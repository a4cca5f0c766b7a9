#!/usr/bin/env bash
# The marketplace page in a real headless browser (Debian's chromium, driven over WebDriver by chromedriver):
# the page that `osb marketplace --serve` makes of the four brokers' catalogs, and the page a broker serves
# itself when marketplace.public is on. Checks: no console errors (chromedriver's browser log), every service
# and plan of the catalogs is on the page, the search box filters as the server-side search does, tags
# search, a ?q= link arrives filtered, and without JavaScript the page still reads (and ?q= still filters).
# The page reads catalogs only, so the brokers run without their middleware servers (nothing is provisioned).
. "$(dirname "$0")/lib.sh"
for tool in chromium chromedriver curl jq; do
	command -v "$tool" >/dev/null || die "$tool is needed on PATH (scripts/install-deps.sh installs it)"
done

step "the four brokers, with the shipped catalogs"
broker_pw=$(random_pw)
declare -A URLS=()
for mw in postgresql mysql redis rabbitmq; do
	case $mw in
	rabbitmq) driver='{"api_url": "http://127.0.0.1:1", "admin_user": "admin", "admin_password": "unused"}' ;;
	*) driver='{"host": "127.0.0.1", "port": 1, "admin_user": "admin", "admin_password": "unused"}' ;;
	esac
	extra='{}'
	[ "$mw" = redis ] && extra='{"marketplace": {"public": true}}'
	start_broker "$mw" "$(broker_config "$mw" "$(free_port)" "$WORK/data-$mw" "$broker_pw" "$driver" "$extra")"
	URLS[$mw]=$BROKER_URL
	register "$mw" "$BROKER_URL" "$broker_pw"
	expect_rc 0 "register-broker $mw"
done
# What the page must show: every service of every catalog, as "broker/service id", and their plans.
jq -n '[inputs]' "$ROOT"/catalog/{postgresql,mysql,redis,rabbitmq}.json >/dev/null || die "catalogs unreadable"
entries=$(for mw in postgresql mysql redis rabbitmq; do
	jq -c --arg b "$mw" '.services[] | {broker: $b, svc: .}' "$ROOT/catalog/$mw.json"
done | jq -sc .)
ALL=$(jq -c '[.[] | "\(.broker)/\(.svc.id)"] | sort' <<<"$entries")
PLANS=$(jq '[.[].svc.plans[]] | length' <<<"$entries")
# expected QUERY: the services the search must leave visible (every word in the service's search text).
expected() {
	jq -c --arg q "$1" '
		def stext($b): ([$b, .name, .description, .metadata.displayName, .metadata.providerDisplayName,
			.metadata.longDescription] + (.tags // []) + ([.plans[] | .name, .description, .metadata.displayName]))
			| map(select(. != null) | ascii_downcase) | join(" ");
		($q | ascii_downcase | split(" ") | map(select(length > 0))) as $words
		| [.[] | select(. as $e | ($e.svc | stext($e.broker)) as $t | $words | all(. as $w | $t | contains($w)))
		  | "\(.broker)/\(.svc.id)"]
		| sort' <<<"$entries"
}

step "osb marketplace --serve"
"$OSB_BIN" marketplace --serve 127.0.0.1:0 >"$WORK/serve.out" 2>"$WORK/serve.log" &
SERVE_PID=$!
STOPPERS+=("kill -TERM $SERVE_PID")
for _ in $(seq 1 200); do [ -s "$WORK/serve.out" ] && break; sleep 0.05; done
PAGE=$(head -n 1 "$WORK/serve.out")
expect_true "it prints the page's URL ($PAGE)" grep -qE '^http://127\.0\.0\.1:[0-9]+/marketplace$' <<<"$PAGE"

step "chromium, headless, through chromedriver"
cd_port=$(free_port)
chromedriver --port="$cd_port" --log-path="$WORK/chromedriver.log" >/dev/null 2>&1 &
STOPPERS+=("kill -TERM $!")
WD=http://127.0.0.1:$cd_port
for _ in $(seq 1 200); do curl -s "$WD/status" | jq -e .value.ready >/dev/null 2>&1 && break; sleep 0.05; done
# wd METHOD PATH [JSON]: one WebDriver command; prints its answer.
wd() {
	curl -s --max-time 60 -X "$1" -H 'Content-Type: application/json' ${3:+--data-binary "$3"} "$WD$2"
}
# session [prefs JSON]: a new browser with a fresh profile; sets SID.
session() {
	local profile
	profile=$(mktemp -d "$WORK/profile.XXXXXX")
	SID=$(wd POST /session "$(jq -cn --arg p "$profile" --argjson prefs "${1:-{\}}" '{capabilities: {alwaysMatch: {
		browserName: "chrome", "goog:loggingPrefs": {browser: "ALL"},
		"goog:chromeOptions": {binary: "/usr/bin/chromium", prefs: $prefs, args: ["--headless", "--no-sandbox",
			"--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
			"--disable-component-update", "--disable-sync", "--user-data-dir=\($p)"]}}}}')" | jq -r '.value.sessionId // empty')
	[ -n "$SID" ] || die "chromium did not start (see $WORK/chromedriver.log)"
}
end_session() {
	wd DELETE "/session/$SID" >/dev/null
}
open_page() {
	wd POST "/session/$SID/url" "$(jq -cn --arg u "$1" '{url: $u}')" >/dev/null
}
# js SCRIPT: run it in the page; prints its value as compact JSON.
js() {
	wd POST "/session/$SID/execute/sync" "$(jq -cn --arg s "$1" '{script: $s, args: []}')" | jq -c .value
}
# console_errors: the browser log's SEVERE entries since the last call (console errors, failed loads, CSP).
console_errors() {
	wd POST "/session/$SID/se/log" '{"type": "browser"}' | jq -c '[.value[] | select(.level == "SEVERE") | .message]'
}
element() {
	wd POST "/session/$SID/element" "$(jq -cn --arg c "$1" '{using: "css selector", value: $c}')" | jq -r '.value | to_entries[0].value'
}
# visible: the services the page shows now.
visible() {
	js 'return Array.from(document.querySelectorAll("article.service")).filter(a => !a.hidden && a.offsetParent !== null).map(a => a.getAttribute("data-service")).sort()'
}
search() {
	local q
	q=$(element '#q')
	wd POST "/session/$SID/element/$q/clear" '{}' >/dev/null
	[ -n "$1" ] && wd POST "/session/$SID/element/$q/value" "$(jq -cn --arg t "$1" '{text: $t}')" >/dev/null
}

session
open_page "$PAGE"
expect_true "the page loaded" [ "$(js 'return document.readyState + " " + document.title')" = '"complete Service marketplace"' ]
errors=$(console_errors)
expect_true "no console error while loading ($errors)" [ "$errors" = "[]" ]
expect_true "every service of the four catalogs is on the page" [ "$(js 'return Array.from(document.querySelectorAll("article.service")).map(a => a.getAttribute("data-service")).sort()')" = "$ALL" ]
expect_true "and all are shown" [ "$(visible)" = "$ALL" ]
expect_true "every plan is on the page ($PLANS)" [ "$(js 'return document.querySelectorAll("section.plan").length')" = "$PLANS" ]
expect_true "the script ran" [ "$(js 'return document.documentElement.classList.contains("js")')" = true ]
expect_true "the style sheet applied" [ "$(js 'return getComputedStyle(document.querySelector("article.service")).borderTopStyle')" = '"solid"' ]
expect_true "the count" [ "$(js 'return document.getElementById("count").textContent')" = "\"$(jq length <<<"$ALL") services\"" ]
expect_true "images come from the catalogs (data: URLs)" [ "$(js 'return Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)')" = true ]

for q in redis vhost DEDICATED "mysql dedicated" "key-value cache" zzz-nothing-matches; do
	search "$q"
	want=$(expected "$q")
	got=$(visible)
	expect_true "search '$q' shows $(jq length <<<"$want") service(s): $got" [ "$got" = "$want" ]
	n=$(jq length <<<"$want")
	expect_true "and counts them" [ "$(js 'return document.getElementById("count").textContent')" = "\"$n of $(jq length <<<"$ALL") services match\"" ]
	expect_true "the empty notice only when nothing matches" [ "$(js 'return document.getElementById("empty").hidden')" = "$([ "$n" = 0 ] && echo false || echo true)" ]
done
search ""
expect_true "an empty search shows every service again" [ "$(visible)" = "$ALL" ]
tag=$(element 'ul.tags li')
tag_text=$(js 'return document.querySelector("ul.tags li").textContent' | jq -r .)
wd POST "/session/$SID/element/$tag/click" '{}' >/dev/null
expect_true "a click on the tag '$tag_text' searches for it" [ "$(js 'return document.getElementById("q").value')" = "\"$tag_text\"" ]
expect_true "and filters" [ "$(visible)" = "$(expected "$tag_text")" ]
open_page "$PAGE?q=rabbitmq"
expect_true "a ?q= link arrives filtered" [ "$(visible)" = "$(expected rabbitmq)" ]
expect_true "with the words in the box" [ "$(js 'return document.getElementById("q").value')" = '"rabbitmq"' ]
errors=$(console_errors)
expect_true "no console error after searching ($errors)" [ "$errors" = "[]" ]
end_session

step "without JavaScript the page still reads, and ?q= filters on the server"
session '{"profile.managed_default_content_settings.javascript": 2}'
open_page "$PAGE?q=redis"
errors=$(console_errors)
expect_true "no console error ($errors)" [ "$errors" = "[]" ]
expect_true "the script did not run" [ "$(js 'return document.documentElement.classList.contains("js")')" = false ]
src=$(wd GET "/session/$SID/source" | jq -r .value)
expect_true "every service is in the page" [ "$(grep -o 'data-service="[^"]*"' <<<"$src" | sed 's/data-service=//; s/"//g' | sort | jq -R . | jq -sc .)" = "$ALL" ]
expect_true "only the matches are not hidden" [ "$(grep -oE 'data-service="[^"]*" data-search="[^"]*">' <<<"$src" | sed -E 's/data-service="([^"]*)".*/\1/' | sort | jq -R . | jq -sc .)" = "$(expected redis)" ]
end_session

step "a broker's own page (marketplace.public)"
session
open_page "${URLS[redis]}/marketplace"
errors=$(console_errors)
expect_true "no console error ($errors)" [ "$errors" = "[]" ]
expect_true "the redis broker's services" [ "$(visible)" = "$(jq -c '[.[] | select(.broker == "redis") | "redis/\(.svc.id)"] | sort' <<<"$entries")" ]
expect_true "its plans, marked dedicated and asynchronous where they are" \
	[ "$(js 'return document.querySelectorAll("li.dedicated").length + "/" + document.querySelectorAll("li.async").length')" = \
	"\"$(jq '[.services[].plans[] | select(."x-osb".dedicated == true)] | length' "$ROOT/catalog/redis.json")/$(jq '[.services[].plans[] | select(."x-osb".async == true)] | length' "$ROOT/catalog/redis.json")\"" ]
search dedicated
expect_true "search works there too" [ "$(visible)" = "$(jq -c '[.[] | select(.broker == "redis") | "redis/\(.svc.id)"] | sort' <<<"$entries")" ]
end_session
code=$(curl -s -o /dev/null -w '%{http_code}' "${URLS[postgresql]}/marketplace")
expect_true "a broker without marketplace.public keeps its page behind auth ($code)" [ "$code" = 401 ]

kill -TERM "$SERVE_PID"
wait "$SERVE_PID" && rc=0 || rc=$?
expect_true "osb marketplace --serve stops on SIGTERM (exit $rc)" [ "$rc" = 0 ]
ERR=$(cat "$WORK/serve.log")
sanitizer_check "osb marketplace --serve"
finish
