#!/usr/bin/env bash
# Configure and build the suite. Usage: scripts/build.sh [BUILD_DIR] [extra cmake args...]
# OSB_SANITIZE=1 builds with AddressSanitizer and UndefinedBehaviorSanitizer.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
shift || true
sanitize=OFF
[ "${OSB_SANITIZE:-0}" = 1 ] && sanitize=ON
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE="${OSB_BUILD_TYPE:-Debug}" -DOSB_SANITIZE=$sanitize "$@" >/dev/null
cmake --build "$build" -j"$(nproc)"
