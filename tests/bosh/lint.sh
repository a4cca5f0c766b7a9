#!/usr/bin/env bash
# Lints every shell file of bosh-jobs/ with ShellCheck: the errand and hook templates of every
# job in JOBS_DIR (the generated broker jobs and the errands; bosh-jobs/scripts/generate-jobs
# --out JOBS_DIR) rendered with each of their cases (tests/bosh/cases/), the packaging scripts,
# the release's scripts and these tests.
# Usage: lint.sh REPO_ROOT JOBS_DIR
set -euo pipefail
root=$(cd "${1:?usage: lint.sh REPO_ROOT JOBS_DIR}" && pwd)
jobs=$(cd "${2:?usage: lint.sh REPO_ROOT JOBS_DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
command -v shellcheck >/dev/null || { echo "FAIL: shellcheck is needed on PATH (apt-get install shellcheck)" >&2; exit 1; }
work=$(mktemp -d /tmp/osb-bosh-lint.XXXXXX)
trap 'rm -rf "$work"' EXIT

files=()
for jobdir in "$jobs"/*/; do
	job=$(basename "$jobdir")
	case_names=$(ruby "$here/render.rb" --job "$jobdir" --list-cases)
	[ -n "$case_names" ] || { echo "FAIL: $job has no case in $here/cases" >&2; exit 1; }
	for case_name in $case_names; do
		out=$work/$job-$case_name
		tls=()
		# The full case of a broker job also covers the TLS branches of its hooks.
		if [ "$case_name" = full ] && grep -q '^  broker.tls.certificate:' "$jobdir/spec"; then
			printf 'PEM\n' >"$work/pem"
			tls=(--set-file "broker.tls.certificate=$work/pem" --set-file "broker.tls.private_key=$work/pem")
		fi
		ruby "$here/render.rb" --job "$jobdir" --case "$case_name" --out "$out" "${tls[@]}"
		while IFS= read -r -d '' f; do
			head -n 1 "$f" | grep -Eq '^#!.*(bash|sh)' && files+=("$f")
		done < <(find "$out" -type f -print0)
	done
done
[ "${#files[@]}" -gt 0 ] || { echo "FAIL: no rendered shell script found" >&2; exit 1; }
shellcheck "${files[@]}"
shellcheck -s bash "$root"/bosh-jobs/packages/*/packaging
shellcheck "$root"/bosh-jobs/scripts/*.sh "$here"/*.sh
echo "PASS: shellcheck clean on ${#files[@]} rendered scripts, the packaging scripts and the release scripts"
