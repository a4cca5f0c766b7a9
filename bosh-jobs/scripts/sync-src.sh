#!/usr/bin/env bash
# Prepare bosh-jobs/ for `bosh create-release`: write the broker jobs of brokers/list
# (scripts/generate-jobs) and copy the sources the osb-brokers package builds into
# bosh-jobs/src/osb-brokers/, so the release packs exactly the repository's tree.
# Usage: bosh-jobs/scripts/sync-src.sh      (then: cd bosh-jobs && bosh create-release --force)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
root=$(cd "$here/.." && pwd)
dest=$here/src/osb-brokers

"$here/scripts/generate-jobs"

rm -rf "$dest"
mkdir -p "$dest"
cp "$root/CMakeLists.txt" "$dest/"
for dir in cmake broker-core brokers catalog; do
	cp -R "$root/$dir" "$dest/$dir"
done
# Tests are not built on the compilation VM; leave them out of the package.
find "$dest/brokers" -mindepth 2 -maxdepth 2 -type d -name tests -exec rm -rf {} +
version=$(git -C "$root" describe --always --dirty 2>/dev/null || echo unknown)
printf '%s\n' "$version" >"$dest/VERSION"
echo "sync-src: $dest ($version)"
