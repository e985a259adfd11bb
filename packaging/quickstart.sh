#!/bin/sh
# From a fresh clone to a running container, on Debian or Ubuntu, in one command:
#
#   sudo packaging/quickstart.sh [USER]
#
# 1. installs the system packages tspod needs (and those of this demo), Node.js if missing
# 2. npm ci and npm run build: dist/tspod, one executable
# 3. installs it for USER (default: the user who ran sudo; without one, a user `tspod-demo` with
#    subordinate ids is created) in ~/.local/bin
# 4. publishes a busybox image built from local material (Debian's busybox-static) to a registry
#    on 127.0.0.1:5000, so no internet is needed
# 5. as USER, rootless: pulls it, lists it, and runs a container from it
set -eu
cd "$(dirname "$0")/.."
REPO=$PWD
say() { printf '\033[1m==> %s\033[0m\n' "$*" 2>/dev/null || printf '==> %s\n' "$*"; }
die() { echo "quickstart: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run it as root or with sudo: it installs packages (sudo packaging/quickstart.sh)"

USER_NAME=${1:-${SUDO_USER:-}}
[ "$USER_NAME" = root ] && USER_NAME=

say "system packages"
PKGS="uidmap fuse-overlayfs passt slirp4netns busybox-static docker-registry skopeo python3 curl make gcc libc6-dev"
command -v npm >/dev/null 2>&1 || PKGS="$PKGS nodejs npm"
missing=
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing >/dev/null
fi

say "npm ci and build"
[ -d node_modules ] || npm ci --no-audit --no-fund >/dev/null
npm run -s build

if [ -z "$USER_NAME" ]; then
  USER_NAME=tspod-demo
  if ! id "$USER_NAME" >/dev/null 2>&1; then
    say "creating the user $USER_NAME"
    useradd -m -s /bin/sh "$USER_NAME"
  fi
fi
id "$USER_NAME" >/dev/null 2>&1 || die "no such user: $USER_NAME"
HOME_DIR=$(getent passwd "$USER_NAME" | cut -d: -f6)
if ! grep -q "^$USER_NAME:" /etc/subuid || ! grep -q "^$USER_NAME:" /etc/subgid; then
  say "giving $USER_NAME subordinate ids (usermod --add-subuids)"
  last=$(cut -d: -f2,3 /etc/subuid /etc/subgid 2>/dev/null | awk -F: '{ e = $1 + $2; if (e > m) m = e } END { print (m > 100000 ? m : 100000) }')
  usermod --add-subuids "$last-$((last + 65535))" --add-subgids "$last-$((last + 65535))" "$USER_NAME"
fi

# pasta (the default network) and fuse-overlayfs open these as a normal user; udev makes them
# 0666 on most systems, a few leave them 0600.
chmod 0666 /dev/net/tun /dev/fuse 2>/dev/null || true

say "installing tspod for $USER_NAME in $HOME_DIR/.local/bin"
runuser -u "$USER_NAME" -- sh "$REPO/packaging/install.sh" "$REPO/dist/tspod" >/dev/null

say "a registry on 127.0.0.1:5000 with busybox built from local material"
QS=/var/lib/tspod-quickstart
if ! curl -fsS http://127.0.0.1:5000/v2/ >/dev/null 2>&1; then
  mkdir -p "$QS/registry"
  cat > "$QS/config.yml" <<YML
version: 0.1
storage:
  filesystem:
    rootdirectory: $QS/registry
http:
  addr: 127.0.0.1:5000
YML
  nohup /usr/bin/docker-registry serve "$QS/config.yml" > "$QS/registry.log" 2>&1 &
  for _ in $(seq 50); do curl -fsS http://127.0.0.1:5000/v2/ >/dev/null 2>&1 && break; sleep 0.1; done
fi
sh test/setup/fixtures.sh --only busybox --registry localhost:5000 >/dev/null

say "as $USER_NAME: tspod pull, tspod images, tspod run"
runuser -u "$USER_NAME" -- env -i HOME="$HOME_DIR" USER="$USER_NAME" PATH="$HOME_DIR/.local/bin:/usr/local/bin:/usr/bin:/bin" \
  LANG=C.UTF-8 sh -c '
    set -ex
    tspod pull --tls-verify=false localhost:5000/busybox
    tspod images
    tspod run --rm localhost:5000/busybox sh -c "echo Hello from a rootless tspod container; id; cat /proc/self/uid_map"
  '
say "done: try  runuser -u $USER_NAME -- ~$USER_NAME/.local/bin/tspod run -it --rm localhost:5000/busybox sh"
