#!/usr/bin/env bash
# Print "<catalog> <service|plan> <id> <service name>[/<plan name>]" for every shipped catalog.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
for f in "$root"/catalog/*.json; do
	c=$(basename "$f" .json)
	jq -r --arg c "$c" '.services[] | . as $s |
		("\($c) service \($s.id) \($s.name)"),
		($s.plans[] | "\($c) plan \(.id) \($s.name)/\(.name)")' "$f"
done
