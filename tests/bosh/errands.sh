#!/usr/bin/env bash
# Runs the rendered broker-registrar and broker-deregistrar errands against a recording
# stand-in for the cf CLI (no Cloud Foundry here): checks which cf commands they run, in
# what order, that secrets travel in the environment and never on a command line, and
# that a failing cf command fails the errand.
# Usage: errands.sh JOBS_DIR   (the release's jobs, broker jobs generated: generate-jobs --out)
set -euo pipefail
jobs=$(cd "${1:?usage: errands.sh JOBS_DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/osb-bosh-errands.XXXXXX)
trap 'rm -rf "$work"' EXIT

fail() {
	echo "FAIL: $*" >&2
	[ -f "$work/calls" ] && { echo "--- cf calls ---" >&2; cat "$work/calls" >&2; }
	exit 1
}

# The stand-in: one line per call in $CF_CALLS ("cf ARGS | env NAMES"); `cf curl` answers
# from $CF_STATE (absent or present:URL); $CF_FAIL names a subcommand that fails.
mkdir -p "$work/bin"
cat >"$work/bin/cf" <<'EOF'
#!/usr/bin/env bash
set -u
env_seen=
[ -n "${CF_USERNAME:-}" ] && env_seen+=" CF_USERNAME=$CF_USERNAME"
[ -n "${CF_PASSWORD:-}" ] && env_seen+=" CF_PASSWORD=$CF_PASSWORD"
[ -n "${CF_BROKER_PASSWORD:-}" ] && env_seen+=" CF_BROKER_PASSWORD=$CF_BROKER_PASSWORD"
[ -n "${CF_HOME:-}" ] && [ -d "$CF_HOME" ] && env_seen+=" CF_HOME"
printf 'cf %s |%s\n' "$*" "$env_seen" >>"$CF_CALLS"
[ "${CF_FAIL:-}" = "$1" ] && { echo "cf $1: FAILED (on purpose)" >&2; exit 1; }
if [ "$1" = curl ]; then
	state=$(cat "$CF_STATE")
	if [ "${state%%:*}" = present ]; then
		printf '{\n   "pagination": {\n      "total_results": 1\n   },\n   "resources": [\n      {\n         "name": "x",\n         "url": "%s"\n      }\n   ]\n}\n' "${state#present:}"
	else
		printf '{\n   "pagination": {\n      "total_results": 0\n   },\n   "resources": []\n}\n'
	fi
fi
exit 0
EOF
chmod +x "$work/bin/cf"
export CF_CALLS=$work/calls CF_STATE=$work/state

# run_errand JOB CASE STATE [FAIL_SUBCOMMAND]: renders, runs; sets $rc, calls in $work/calls.
run_errand() {
	local job=$1 case_name=$2 state=$3 failing=${4:-}
	local vroot=$work/$job-$case_name
	rm -rf "$vroot"
	ruby "$here/render.rb" --job "$jobs/$job" --case "$case_name" \
		--out "$vroot/jobs/$job" --vcap-root "$vroot"
	mkdir -p "$vroot/packages/cf-cli"
	ln -s "$work/bin" "$vroot/packages/cf-cli/bin"
	printf '%s' "$state" >"$CF_STATE"
	: >"$CF_CALLS"
	rc=0
	CF_FAIL=$failing "$vroot/jobs/$job/bin/run" >"$work/out" 2>&1 || rc=$?
}

calls_are() {
	local what=$1 expected=$2
	if ! diff -u <(printf '%s\n' "$expected") "$work/calls" >"$work/diff"; then
		cat "$work/diff" >&2
		fail "$what: unexpected cf calls"
	fi
	echo "ok   $what"
}

full_broker_pw="full 'broker' \"password\" \$(not-a-command)"
full_cf_pw="client secret with 'quotes' and \$dollars"

run_errand broker-registrar minimal absent
[ "$rc" = 0 ] || fail "registrar (new broker) exited $rc: $(cat "$work/out")"
calls_are "registrar creates a new broker, password only in the environment" \
"cf api https://api.sys.example.com | CF_HOME
cf auth | CF_USERNAME=admin CF_PASSWORD=cf-admin-password CF_HOME
cf curl /v3/service_brokers?names=postgresql | CF_BROKER_PASSWORD=minimal-broker-password CF_HOME
cf create-service-broker postgresql broker http://10.0.16.5:8080 | CF_BROKER_PASSWORD=minimal-broker-password CF_HOME"

run_errand broker-registrar full present:https://pg-broker.sys.example.com
[ "$rc" = 0 ] || fail "registrar (existing broker) exited $rc: $(cat "$work/out")"
calls_are "registrar updates an existing broker and enables access per service, plan and org" \
"cf api https://api.sys.example.com --skip-ssl-validation | CF_HOME
cf auth --client-credentials | CF_USERNAME=osb-registrar CF_PASSWORD=$full_cf_pw CF_HOME
cf curl /v3/service_brokers?names=postgresql-z1 | CF_BROKER_PASSWORD=$full_broker_pw CF_HOME
cf update-service-broker postgresql-z1 broker https://pg-broker.sys.example.com | CF_BROKER_PASSWORD=$full_broker_pw CF_HOME
cf enable-service-access postgresql -b postgresql-z1 | CF_HOME
cf enable-service-access postgresql -b postgresql-z1 -p small -o dev | CF_HOME
cf enable-service-access postgresql -b postgresql-z1 -p small -o o'reilly | CF_HOME
cf enable-service-access postgresql -b postgresql-z1 -p medium -o dev | CF_HOME
cf enable-service-access postgresql -b postgresql-z1 -p medium -o o'reilly | CF_HOME"

run_errand broker-registrar full absent create-service-broker
[ "$rc" != 0 ] || fail "registrar succeeded although cf create-service-broker failed"
grep -q '^cf enable-service-access' "$work/calls" && fail "registrar went on after a failed create-service-broker"
echo "ok   registrar fails (exit $rc) when cf create-service-broker fails, and stops there"

run_errand broker-registrar minimal absent auth
[ "$rc" != 0 ] || fail "registrar succeeded although cf auth failed"
echo "ok   registrar fails (exit $rc) when cf auth fails"

run_errand broker-deregistrar full present:https://pg-broker.sys.example.com
[ "$rc" = 0 ] || fail "deregistrar exited $rc: $(cat "$work/out")"
calls_are "deregistrar purges the listed offerings, then deletes the broker" \
"cf api https://api.sys.example.com --skip-ssl-validation | CF_HOME
cf auth --client-credentials | CF_USERNAME=osb-registrar CF_PASSWORD=$full_cf_pw CF_HOME
cf curl /v3/service_brokers?names=postgresql-z1 | CF_HOME
cf purge-service-offering postgresql -b postgresql-z1 -f | CF_HOME
cf purge-service-offering pg-custom -b postgresql-z1 -f | CF_HOME
cf delete-service-broker postgresql-z1 -f | CF_HOME"

run_errand broker-deregistrar linked present:http://10.0.16.5:8080
[ "$rc" = 0 ] || fail "deregistrar (URL from the link) exited $rc: $(cat "$work/out")"
grep -q '^cf delete-service-broker postgresql -f' "$work/calls" || fail "deregistrar did not delete the broker"
echo "ok   deregistrar deletes the broker registered at the link's URL"

run_errand broker-deregistrar linked present:http://10.9.9.9:8080
[ "$rc" != 0 ] || fail "deregistrar succeeded on a broker registered at another URL"
grep -q '^cf delete-service-broker' "$work/calls" && fail "deregistrar deleted a same-named broker of another deployment"
echo "ok   deregistrar refuses a same-named broker at another URL (exit $rc)"

run_errand broker-deregistrar minimal absent
[ "$rc" = 0 ] || fail "deregistrar failed on an absent broker: $(cat "$work/out")"
grep -q '^cf delete-service-broker' "$work/calls" && fail "deregistrar deleted an absent broker"
echo "ok   deregistrar succeeds when the broker is already gone"

run_errand broker-deregistrar minimal present:http://10.0.16.5:8080 delete-service-broker
[ "$rc" != 0 ] || fail "deregistrar succeeded although cf delete-service-broker failed"
echo "ok   deregistrar fails (exit $rc) when cf delete-service-broker fails"
echo "PASS: errands"
