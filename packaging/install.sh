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

# Completions where each shell looks for a user's own: bash-completion's user directory, a zsh
# site-functions directory (added to fpath by the line below if needed), fish's completions.
data=${XDG_DATA_HOME:-$HOME/.local/share}
config=${XDG_CONFIG_HOME:-$HOME/.config}
mkdir -p "$data/bash-completion/completions" "$data/zsh/site-functions" "$config/fish/completions"
"$bindir/tspod" completion bash > "$data/bash-completion/completions/tspod"
"$bindir/tspod" completion zsh > "$data/zsh/site-functions/_tspod"
"$bindir/tspod" completion fish > "$config/fish/completions/tspod.fish"
echo "installed completions for bash, zsh and fish"
if [ -f "$HOME/.zshrc" ] && ! grep -q 'zsh/site-functions' "$HOME/.zshrc"; then
  echo "for zsh, add to ~/.zshrc before compinit:  fpath=($data/zsh/site-functions \$fpath)"
fi

warn() { echo "install: $*" >&2; }
command -v newuidmap >/dev/null 2>&1 || warn "newuidmap is missing: install the uidmap package (containers then use a single uid)"
grep -q "^$(id -un):" /etc/subuid 2>/dev/null || warn "no range in /etc/subuid for $(id -un): ask an administrator for 'usermod --add-subuids 100000-165535 --add-subgids 100000-165535 $(id -un)'"
command -v pasta >/dev/null 2>&1 || command -v slirp4netns >/dev/null 2>&1 || warn "neither pasta (package passt) nor slirp4netns is installed: containers get no network"
command -v fuse-overlayfs >/dev/null 2>&1 || warn "fuse-overlayfs is missing (package fuse-overlayfs): needed where the kernel refuses overlayfs"
case ":$PATH:" in *":$bindir:"*) ;; *) warn "$bindir is not in PATH: add it to your shell's profile" ;; esac
