#!/bin/sh
# Benchmarks tspod against rootless podman on this machine (npm run bench). Runs as root: it sets
# up the test bed, a loop file system and the bench images, then runs each tool as tspod-test.
#
#   sh test/bench/run.sh                 every benchmark
#   sh test/bench/run.sh pull            one benchmark (see --help for options)
#
# Compiles test/bench (tsc -p test/bench, into build/test/bench) on each start; builds dist/tspod
# only when it is missing (npm run build refreshes it). See test/bench/README.md.
set -u
cd "$(dirname "$0")/../.." || exit 1
NODE=node_modules/.bin/node
[ -x "$NODE" ] || { echo "bench: node_modules is missing: npm ci" >&2; exit 1; }
if [ ! -x dist/tspod ]; then
  echo "bench: dist/tspod is missing: npm run build" >&2
  npm run build >&2 || exit 1
fi
newer=$(find core cmd userns-helper packaging -newer dist/tspod -type f \( -name '*.ts' -o -name '*.c' -o -name '*.sh' \) 2>/dev/null | head -n 1)
[ -z "$newer" ] || echo "bench: note: $newer is newer than dist/tspod (npm run build for a fresh one)" >&2
# tsc emits despite type errors elsewhere in the tree; only a missing runner is fatal.
"$NODE" node_modules/typescript/bin/tsc -p test/bench > /tmp/tspod-bench-tsc.$$ 2>&1 || grep 'test/bench/' /tmp/tspod-bench-tsc.$$ >&2
rm -f /tmp/tspod-bench-tsc.$$
[ -f build/test/bench/main.js ] || { echo "bench: build/test/bench/main.js was not built" >&2; exit 1; }
exec "$NODE" build/test/bench/main.js "$@"
