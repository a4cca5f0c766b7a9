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
cd "$build"
ctest --output-on-failure -j"${OSB_TEST_JOBS:-2}" --timeout 600 "$@"
