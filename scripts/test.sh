#!/usr/bin/env bash
# Install what the tests need, build under ASan+UBSan, and run every test
# (unit, api, header, integration against real servers the tests start themselves).
# Usage: scripts/test.sh [ctest args...]   e.g. scripts/test.sh -L unit
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
[ "${OSB_SKIP_INSTALL:-0}" = 1 ] || "$root/scripts/install-deps.sh"
build=${OSB_BUILD_DIR:-$root/build-test}
OSB_SANITIZE=1 "$root/scripts/build.sh" "$build"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# The store's unit tests run their PostgreSQL half against a throw-away server.
pgdir=$(mktemp -d /tmp/osb-test-pg.XXXXXX)
chmod 755 "$pgdir" # the server runs as postgres
trap '"$root/scripts/pg-stop.sh" "$pgdir/pg"; rm -rf "$pgdir"' EXIT
pgport=$("$root/scripts/free-port.sh")
pgpass=$(openssl rand -hex 12)
"$root/scripts/pg-start.sh" "$pgdir/pg" "$pgport" "$pgpass" >/dev/null
export OSB_TEST_PG_URL="postgresql://postgres:$pgpass@127.0.0.1:$pgport/postgres"
cd "$build"
ctest --output-on-failure -j"${OSB_TEST_JOBS:-2}" --timeout 600 "$@"

# README's first command must keep working: run the demo (Release build, PostgreSQL, broker),
# call its catalog through the printed account, and stop it.
if [ $# = 0 ]; then
	demo=$(mktemp -d /tmp/osb-demo-check.XXXXXX)
	chmod 755 "$demo"
	OSB_SKIP_INSTALL=1 OSB_DEMO_DIR=$demo "$root/scripts/demo.sh" --background >"$demo/demo.out" 2>&1 ||
		{ cat "$demo/demo.out"; echo "demo: FAILED"; exit 1; }
	port=$(jq -r .listen "$demo/config.json" | cut -d: -f2)
	# shellcheck disable=SC1091
	. "$demo/secrets"
	code=$(curl -s -o /dev/null -w '%{http_code}' -u "broker:$BROKER_PASSWORD" -H 'X-Broker-API-Version: 2.17' \
		"http://127.0.0.1:$port/v2/catalog")
	# ... and the osb client's commands it prints: a whole instance's life through the Release build.
	cli=ok
	osb_demo() { OSB_HOME=$demo/osb OSB_BROKER_USERNAME=broker OSB_BROKER_PASSWORD=$BROKER_PASSWORD "$root/build/cli/osb" "$@"; }
	{ osb_demo register-broker demo "http://127.0.0.1:$port" && osb_demo marketplace &&
		osb_demo create-service postgresql small mydb && osb_demo bind-service mydb app1 &&
		osb_demo delete-service mydb -f; } >"$demo/cli.out" 2>&1 || cli=failed
	events=$(curl -s -u "broker:$BROKER_PASSWORD" "http://127.0.0.1:$port/usage/events" | jq -r '[.events[].type] | join(" ")')
	OSB_DEMO_DIR=$demo "$root/scripts/demo.sh" --stop >/dev/null
	[ "$code" = 200 ] || { rm -rf "$demo"; echo "demo: the catalog answered $code"; exit 1; }
	[ "$cli" = ok ] || { cat "$demo/cli.out"; rm -rf "$demo"; echo "demo: the osb commands failed"; exit 1; }
	[ "$events" = "instance_created binding_created binding_deleted instance_deleted" ] ||
		{ rm -rf "$demo"; echo "demo: usage records: $events"; exit 1; }
	rm -rf "$demo"
	echo "demo: 3 passed, 0 failed"
fi

# A short, repeatable run of every libFuzzer target (clang); docs/reliability.md records longer ones.
if [ "${OSB_FUZZ_RUNS:-300000}" != 0 ] && [ $# = 0 ]; then
	fuzz=${OSB_FUZZ_BUILD_DIR:-$root/build-fuzz}
	CC=clang cmake -S "$root" -B "$fuzz" -DCMAKE_BUILD_TYPE=Debug -DOSB_FUZZ=ON -DOSB_BROKERS_DEFAULT=OFF >/dev/null
	cmake --build "$fuzz" -j"$(nproc)" --target fuzz_jsonschema fuzz_catalog fuzz_config fuzz_request fuzz_answers
	(cd "$fuzz" && ctest --output-on-failure -L fuzz -j2)
fi
