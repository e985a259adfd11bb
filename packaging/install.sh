#!/bin/sh
# Installs tspod for the current user, no root needed: one file in ~/.local/bin.
#   sh packaging/install.sh [PATH/TO/tspod]        (default: dist/tspod next to this script)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=${1:-$here/../dist/tspod}
bindir=${TSPOD_BINDIR:-$HOME/.local/bin}
[ -x "$src" ] || { echo "install: $src not found: run 'npm run build' first" >&2; exit 1; }
mkdir -p "$bindir"
cp "$src" "$bindir/tspod.tmp.$$"
chmod 0755 "$bindir/tspod.tmp.$$"
mv "$bindir/tspod.tmp.$$" "$bindir/tspod"
echo "installed $bindir/tspod"

warn() { echo "install: $*" >&2; }
command -v newuidmap >/dev/null 2>&1 || warn "newuidmap is missing: install the uidmap package (containers then use a single uid)"
grep -q "^$(id -un):" /etc/subuid 2>/dev/null || warn "no range in /etc/subuid for $(id -un): ask an administrator for 'usermod --add-subuids 100000-165535 --add-subgids 100000-165535 $(id -un)'"
command -v pasta >/dev/null 2>&1 || command -v slirp4netns >/dev/null 2>&1 || warn "neither pasta (package passt) nor slirp4netns is installed: containers get no network"
command -v fuse-overlayfs >/dev/null 2>&1 || warn "fuse-overlayfs is missing (package fuse-overlayfs): needed where the kernel refuses overlayfs"
case ":$PATH:" in *":$bindir:"*) ;; *) warn "$bindir is not in PATH: add it to your shell's profile" ;; esac
