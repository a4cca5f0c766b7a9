#!/usr/bin/env bash
# Run .ci/run as CI does, on a fresh Debian 12: a debootstrap'ed minimal system in DIR (made once,
# reused), a clone of REV in it, in a chroot. It finds what a development machine hides: a package
# that install-deps does not name, or a Recommends that --no-install-recommends leaves out.
# Usage (as root): scripts/fresh-debian-check.sh [DIR] [REV]   (DIR: /var/tmp/osb-fresh, REV: HEAD)
# Start again from nothing: rm -rf DIR first (after the script's mounts are gone).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-/var/tmp/osb-fresh}
rev=$(git -C "$root" rev-parse "${2:-HEAD}")
[ "$(id -u)" = 0 ] || { echo "fresh-debian-check: run as root (debootstrap, chroot, mounts)" >&2; exit 2; }
command -v debootstrap >/dev/null || apt-get install -y -qq debootstrap >/dev/null
if [ ! -f "$dir/etc/debian_version" ]; then
	debootstrap --variant=minbase bookworm "$dir" http://deb.debian.org/debian >"$dir.debootstrap.log" 2>&1 ||
		{ tail -20 "$dir.debootstrap.log" >&2; exit 1; }
	# The suites a Debian 12 machine has: bookworm, its updates and security.
	rm -f "$dir/etc/apt/sources.list"
	cat >"$dir/etc/apt/sources.list.d/debian.sources" <<'SOURCES'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
fi
cp /etc/resolv.conf "$dir/etc/resolv.conf"
mounted=()
unmount() {
	local i
	for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[i]}" 2>/dev/null || true; done
}
trap unmount EXIT
for m in proc sys dev dev/pts; do
	mkdir -p "$dir/$m"
	mountpoint -q "$dir/$m" || { mount --bind "/$m" "$dir/$m" && mounted+=("$dir/$m"); }
done
mountpoint -q "$dir/dev/shm" || { mount -t tmpfs tmpfs "$dir/dev/shm" && mounted+=("$dir/dev/shm"); }
rm -rf "$dir/root/osb"
git clone -q "$root" "$dir/root/osb"
git -C "$dir/root/osb" checkout -q "$rev"
echo "fresh-debian-check: .ci/run of $(git -C "$root" log --oneline -1 "$rev") in $dir"
chroot "$dir" /usr/bin/env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	LANG=C.UTF-8 bash -c 'cd /root/osb && bash .ci/run'
