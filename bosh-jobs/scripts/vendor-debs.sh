#!/usr/bin/env bash
# Download the build dependencies of the osb-brokers package as .deb files and add them
# as blobs under debs/, for stemcells that lack them. Run on a machine of the same
# Ubuntu release as the stemcell (apt-get download fetches that release's packages).
# Usage: bosh-jobs/scripts/vendor-debs.sh [PACKAGE...]   (defaults to the list below)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
packages=("$@")
if [ "${#packages[@]}" -eq 0 ]; then
	packages=(cmake cmake-data pkg-config libcivetweb-dev libcivetweb1 libcjson-dev libcjson1
		libsqlite3-dev libssl-dev libpq-dev libpq5 libpcre2-dev libcurl4-openssl-dev
		libhiredis-dev libmariadb-dev libmariadb3 librabbitmq-dev librabbitmq4)
fi
command -v bosh >/dev/null || { echo "vendor-debs: the bosh CLI is needed" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download "${packages[@]}")
cd "$here"
for deb in "$work"/*.deb; do
	bosh add-blob "$deb" "debs/$(basename "$deb")"
done
echo "vendor-debs: added $(find "$work" -name '*.deb' | wc -l) blobs; run 'bosh upload-blobs' to publish them"
