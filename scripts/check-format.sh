#!/usr/bin/env bash
# Fail if a C file of the tree is not as .clang-format lays it out, naming the files.
# Fix: `git clang-format` (the lines you changed) or `clang-format -i FILE`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	mapfile -t files < <(git ls-files '*.c' '*.h')
else
	mapfile -t files < <(find bench broker-core brokers cli tests -name '*.[ch]' | sort)
fi
[ "${#files[@]}" -gt 0 ] || { echo "check-format: no C files found under $root" >&2; exit 1; }
bad=()
for f in "${files[@]}"; do
	clang-format --dry-run -Werror "$f" 2>/dev/null || bad+=("$f")
done
if [ "${#bad[@]}" -gt 0 ]; then
	echo "check-format: ${#bad[@]} file(s) not as .clang-format lays them out:" >&2
	printf '  %s\n' "${bad[@]}" >&2
	echo "fix with: clang-format -i FILE (or git clang-format before a commit)" >&2
	exit 1
fi
echo "check-format: ${#files[@]} files as .clang-format lays them out"
