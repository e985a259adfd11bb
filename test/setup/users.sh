#!/bin/sh
# The unprivileged accounts the end-to-end tests run tspod as (idempotent; run as root):
#   tspod-test   with /etc/subuid and /etc/subgid ranges: the normal rootless case
#   tspod-nosub  with no ranges at all: the single-uid fallback
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
WORK=${TSPOD_TEST_WORK:-$repo/test/.work}

TEST_USER=tspod-test
NOSUB_USER=tspod-nosub

die() { echo "users: error: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root"

ensure_user() {
  if ! id -u "$1" >/dev/null 2>&1; then
    useradd --create-home --shell /bin/bash "$1"
    echo "users: created $1"
  fi
  home=$(getent passwd "$1" | cut -d: -f6)
  [ -d "$home" ] || { mkdir -p "$home"; chown "$1:$1" "$home"; }
}

# Debian's useradd assigns ranges itself (SUB_UID_COUNT in /etc/login.defs); an account made
# another way may have none, so give it the next free 65536 ids after the highest range in use.
ensure_subids() {
  user=$1
  file=$2
  flag=$3
  grep -q "^$user:" "$file" && return 0
  start=$(awk -F: 'BEGIN { m = 100000 } { e = $2 + $3; if (e > m) m = e } END { print m }' "$file")
  usermod "$flag" "$start-$((start + 65535))" "$user"
  echo "users: gave $user the range $start:65536 in $file"
}

# Lines may name the account or its uid; both grant a range, so both must go.
remove_subids() {
  user=$1
  uid=$(id -u "$user")
  for f in /etc/subuid /etc/subgid; do
    [ -f "$f" ] || continue
    if grep -q -e "^$user:" -e "^$uid:" "$f"; then
      sed -i -e "/^$user:/d" -e "/^$uid:/d" "$f"
      echo "users: removed the ranges of $user from $f"
    fi
  done
}

# Marks the plain-HTTP test registry as insecure for the user, as podman users do in
# ~/.config/containers/registries.conf, so tests need no --tls-verify=false on every command.
write_registries_conf() {
  user=$1
  home=$(getent passwd "$user" | cut -d: -f6)
  dir=$home/.config/containers
  conf=$dir/registries.conf
  want='# Written by test/setup/users.sh for the tspod test bed.
[[registry]]
location = "localhost:5000"
insecure = true'
  if [ -f "$conf" ] && [ "$(cat "$conf")" = "$want" ]; then
    return 0
  fi
  runuser -u "$user" -- mkdir -p "$dir"
  printf '%s\n' "$want" > "$conf.tmp"
  chown "$user:$user" "$conf.tmp"
  mv "$conf.tmp" "$conf"
  echo "users: wrote $conf"
}

ensure_user "$TEST_USER"
ensure_user "$NOSUB_USER"
touch /etc/subuid /etc/subgid
remove_subids "$NOSUB_USER"
ensure_subids "$TEST_USER" /etc/subuid --add-subuids
ensure_subids "$TEST_USER" /etc/subgid --add-subgids

for u in "$TEST_USER" "$NOSUB_USER"; do
  write_registries_conf "$u"
  home=$(getent passwd "$u" | cut -d: -f6)
  # Per-test stores live here (test/lib/harness.ts makes and removes them).
  [ -d "$home/stores" ] || runuser -u "$u" -- mkdir -p "$home/stores"
done

# newuidmap/newgidmap (uidmap) are what turn the ranges into a user namespace mapping.
for tool in newuidmap newgidmap; do
  command -v "$tool" >/dev/null || die "$tool is missing: apt-get install uidmap"
done

# pasta and slirp4netns open /dev/net/tun, and fuse-overlayfs opens /dev/fuse, as the unprivileged
# user from inside its user namespace; device nodes that are root-only (0600, as in some minimal
# containers and VMs) would make rootless networking and the fuse fallback fail for reasons that
# have nothing to do with tspod. Desktop distributions ship them 0666; do the same here.
if [ ! -e /dev/net/tun ]; then
  mkdir -p /dev/net
  mknod /dev/net/tun c 10 200 || echo "users: warning: cannot create /dev/net/tun"
fi
if [ ! -e /dev/fuse ]; then
  mknod /dev/fuse c 10 229 || echo "users: warning: cannot create /dev/fuse"
fi
for dev in /dev/net/tun /dev/fuse; do
  [ -e "$dev" ] && chmod 0666 "$dev"
done

# The test users run dist/tspod from the checkout and read the CA and fixtures in the work dir.
# A clone under a private directory (/root, say) would hide them; let others search (not list)
# each directory on the way, and no more.
mkdir -p "$WORK"
for target in "$repo" "$WORK"; do
  runuser -u "$TEST_USER" -- test -x "$target" && continue
  d=$target
  while [ "$d" != / ]; do
    if [ -n "$(find "$d" -maxdepth 0 ! -perm -o=x)" ]; then
      chmod o+x "$d"
      echo "users: made $d searchable by others so the test users reach $target"
    fi
    d=$(dirname "$d")
  done
done

# Debian kernels can forbid user namespaces to unprivileged users; rootless containers need them.
if [ -f /proc/sys/kernel/unprivileged_userns_clone ] && [ "$(cat /proc/sys/kernel/unprivileged_userns_clone)" != 1 ]; then
  echo 1 > /proc/sys/kernel/unprivileged_userns_clone
  echo "users: enabled kernel.unprivileged_userns_clone"
fi

echo "users: $TEST_USER ($(id -u $TEST_USER), subuid $(grep "^$TEST_USER:" /etc/subuid | cut -d: -f2,3)), $NOSUB_USER ($(id -u $NOSUB_USER), no subuid)"
