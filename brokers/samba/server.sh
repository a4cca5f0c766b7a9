#!/usr/bin/env bash
# A throw-away Samba smbd for tests and demos on 127.0.0.1:PORT, as the broker expects its server: a
# standalone server whose users are in a tdbsam passdb under DIR/private, whose shares are in the
# registry (`registry shares = yes`: the broker adds and changes them with `net conf`, live, with
# no reload and no shared file to edit), every state, lock and cache directory under DIR, the
# shares' directories under DIR/shares.
# Usage: brokers/samba/server.sh start DIR PORT [SECRET]
#        brokers/samba/server.sh stop DIR
# Samba's admin is root on the machine (the broker runs there): SECRET is unused. smbd runs as root
# (it becomes each user for file access), in the foreground; start waits until it answers SMB on
# PORT and fails with its log otherwise; stop sends SIGTERM and waits for smbd and its children.
# A restart with the same DIR keeps the shares and the users.
set -euo pipefail
mode=${1:?usage: server.sh start DIR PORT [SECRET] | stop DIR}
dir=${2:?server directory}
# shellcheck source=scripts/lib/server.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/server.sh"

# The smbd processes of this server: their command line names DIR/smb.conf.
pids_of_dir() {
	local p
	for p in $(pgrep -x smbd || true) $(pgrep -f "$dir/smb.conf" || true); do
		if tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -qF -- "$dir/smb.conf"; then echo "$p"; fi
	done | sort -u
}

# shellcheck disable=SC2046
stop() { stop_pids TERM 10 $(pids_of_dir); }

case $mode in
stop)
	dir=$(cd "$dir" 2>/dev/null && pwd) || exit 0
	stop
	exit 0
	;;
start) ;;
*)
	echo "samba server.sh: unknown mode $mode" >&2
	exit 2
	;;
esac
port=${3:?port}
for tool in smbd smbclient net; do
	command -v "$tool" >/dev/null ||
		{ echo "samba server.sh: $tool not found (apt-get install samba smbclient)" >&2; exit 1; }
done
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
# The users smbd becomes must reach their share's directory: DIR is traversable, not readable.
chmod 711 "$dir"
mkdir -p "$dir/shares" "$dir/private" "$dir/lock" "$dir/state" "$dir/cache" "$dir/pid" "$dir/ncalrpc"
chmod 755 "$dir/shares"
chmod 700 "$dir/private"
stop
cat >"$dir/smb.conf" <<EOF
# A throw-away standalone Samba server of brokers/samba/server.sh: loopback only, port $port.
[global]
  server role = standalone server
  interfaces = 127.0.0.1
  bind interfaces only = yes
  smb ports = $port
  disable netbios = yes
  server min protocol = SMB2_02
  passdb backend = tdbsam:$dir/private/passdb.tdb
  private dir = $dir/private
  lock directory = $dir/lock
  state directory = $dir/state
  cache directory = $dir/cache
  pid directory = $dir/pid
  ncalrpc dir = $dir/ncalrpc
  map to guest = never
  restrict anonymous = 2
  registry shares = yes
  load printers = no
  printing = bsd
  printcap name = /dev/null
  disable spoolss = yes
  log level = 1
EOF
cd "$dir"
# A session of its own: smbd signals its whole process group when it stops, which must not be ours.
setsid smbd --foreground --no-process-group --debug-stdout -s "$dir/smb.conf" >>"$dir/smbd.log" 2>&1 &
pid=$!
echo "$pid" >"$dir/smbd.pid"
for _ in $(seq 1 400); do
	# Anonymous listing is refused (restrict anonymous = 2): a refusal is smbd answering SMB.
	out=$(timeout 5 smbclient -N -L //127.0.0.1 -p "$port" -m SMB3 2>&1 || true)
	if grep -qE 'NT_STATUS_ACCESS_DENIED|NT_STATUS_LOGON_FAILURE|Sharename' <<<"$out"; then
		echo "samba server.sh: smbd ready on 127.0.0.1:$port (pid $pid, shares in $dir/shares)"
		exit 0
	fi
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.05
done
echo "samba server.sh: smbd did not start on port $port; its log follows" >&2
tail -n 40 "$dir/smbd.log" >&2 || true
stop
exit 1
