#!/bin/sh
# Brings the test bed up (idempotent, a second or so when everything is already there):
# test users, the three registries, the fixture images. One line per step with its time; each
# step's own output goes to $WORK/logs/setup-<step>.log and its tail is shown when it fails.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
WORK=${TSPOD_TEST_WORK:-$repo/test/.work}
export TSPOD_TEST_WORK="$WORK"
mkdir -p "$WORK/logs"

[ "$(id -u)" = 0 ] || { echo "setup: run as root: it creates test users" >&2; exit 1; }

now() { date +%s.%N; }

step() {
  name=$1
  shift
  log=$WORK/logs/setup-$name.log
  t0=$(now)
  if "$@" > "$log" 2>&1; then
    printf 'setup: %-11s ok   %5.1fs\n' "$name" "$(echo "$(now) $t0" | awk '{ print $1 - $2 }')"
  else
    rc=$?
    printf 'setup: %-11s FAIL %5.1fs (exit %s), last lines of %s:\n' "$name" \
      "$(echo "$(now) $t0" | awk '{ print $1 - $2 }')" "$rc" "$log"
    tail -n 20 "$log" | sed 's/^/  | /'
    exit 1
  fi
}

registries() {
  if [ ! -f "$here/registries.sh" ]; then
    echo "test/setup/registries.sh is missing" >&2
    return 1
  fi
  sh "$here/registries.sh" start
}

step users sh "$here/users.sh"
step registries registries
step fixtures sh "$here/fixtures.sh"
