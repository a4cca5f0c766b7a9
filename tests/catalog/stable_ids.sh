#!/usr/bin/env bash
# Catalog ids must never change once platforms have seen them (OSB spec: ids are the only
# immutable property). Every service and plan of catalog/*.json must appear in catalog/ids.lock
# with the same id, and every id in the lock must still be served.
# To add a new service or plan: scripts/catalog-ids.sh >> catalog/ids.lock (then review the diff).
set -euo pipefail
root=${OSB_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
current=$("$root/scripts/catalog-ids.sh" | sort)
locked=$(grep -v '^#' "$root/catalog/ids.lock" | sed '/^$/d' | sort)
passed=0
failed=0
while read -r line; do
	[ -n "$line" ] || continue
	if grep -qxF "$line" <<<"$current"; then passed=$((passed + 1)); else
		echo "FAIL locked id no longer served (ids must never change): $line"; failed=$((failed + 1)); fi
done <<<"$locked"
while read -r line; do
	[ -n "$line" ] || continue
	if grep -qxF "$line" <<<"$locked"; then :; else
		echo "FAIL id not in catalog/ids.lock (add it once, then never change it): $line"; failed=$((failed + 1)); fi
done <<<"$current"
# Ids must be unique across all catalogs too: two brokers must never share one.
dups=$(awk '{print $3}' <<<"$current" | sort | uniq -d)
if [ -n "$dups" ]; then echo "FAIL id used twice across catalogs: $dups"; failed=$((failed + 1)); else passed=$((passed + 1)); fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
