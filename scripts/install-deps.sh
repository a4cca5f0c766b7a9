#!/usr/bin/env bash
# Install everything the suite needs to build, run and test on Debian 12 (run as root or with sudo):
# the core's packages below, plus each broker's build= and server= packages from brokers/list.
# Servers are installed but not started: tests and demos start their own on loopback.
# Usage: scripts/install-deps.sh [--print]   (--print: list the packages, install nothing)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

packages=(
	# build
	build-essential cmake pkg-config git
	# core libraries
	libcivetweb-dev libcjson-dev libsqlite3-dev libssl-dev libpq-dev libpcre2-dev libcurl4-openssl-dev
	# the core's own tests (the store's PostgreSQL half, reliability) and the demo
	postgresql-15 postgresql-client-15
	# test tools (chromium and chromium-driver: the marketplace page in a headless browser)
	curl jq ruby shellcheck iproute2 procps openssl python3 chromium chromium-driver
	# fuzzing and leak checks; the C files' layout (.clang-format)
	clang libclang-rt-14-dev clang-format
)
# Each broker's build= (driver libraries) and server= (server and clients, for the integration
# tests): brokers/list fields are space-separated key=value, lists comma-separated, `-` for none.
while read -r -a words; do
	[ "${#words[@]}" -gt 0 ] || continue
	case ${words[0]} in '#'*) continue ;; esac
	for field in "${words[@]:1}"; do
		case $field in
		title=*) break ;;
		build=- | server=-) ;;
		build=* | server=*)
			IFS=, read -r -a more <<<"${field#*=}"
			packages+=("${more[@]}")
			;;
		esac
	done
done <"$root/brokers/list"
mapfile -t packages < <(printf '%s\n' "${packages[@]}" | awk '!seen[$0]++')
if [ "${1:-}" = --print ]; then
	printf '%s\n' "${packages[@]}"
	exit 0
fi

SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
# Keep apt from starting default server instances on default ports.
if [ ! -x /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
	$SUDO chmod +x /usr/sbin/policy-rc.d
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
echo "install-deps: done"
