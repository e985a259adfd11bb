#!/bin/sh
# The project's test command (npm test). Runs as root on a fresh clone with no stdin:
#   1. installs the Debian packages the bed and the build need (only what is missing)
#   2. npm ci when node_modules is missing or older than the lock file
#   3. npm run build, every time: tsc has no reliable "up to date" check for us, and a stale
#      dist/tspod or build/test would test old code; the build takes seconds
#   4. test/setup/up.sh: users, registries, fixture images (idempotent)
#   5. the uvu suites build/test/unit then build/test/e2e, one uvu process each
# The last line is always "N passed, N failed, N skipped"; the exit code is 1 when anything failed.
#
#   sh test/run.sh                 everything
#   sh test/run.sh --unit          unit suites only: no packages, no setup, no root needed
#   sh test/run.sh --e2e           end-to-end suites only (with setup)
#   sh test/run.sh PATTERN         only test files whose name matches PATTERN (a regex, any case)
#
# Logs: $WORK/logs/{packages,npm,build,setup-*,unit,e2e}.log, $WORK = test/.work or $TSPOD_TEST_WORK.
# TSPOD_TEST_SUITE_TIMEOUT (seconds, default 900) bounds each suite.
set -u
cd "$(dirname "$0")/.." || exit 1
REPO=$PWD
WORK=${TSPOD_TEST_WORK:-$REPO/test/.work}
export TSPOD_TEST_WORK="$WORK"
LOGS=$WORK/logs
NODE=$REPO/node_modules/.bin/node
SUITE_TIMEOUT=${TSPOD_TEST_SUITE_TIMEOUT:-900}

# docker-registry..python3: the bed; zstd, curl: fixtures and tests; make, gcc, libc6-dev: the
# static helper in packaging/build.sh; util-linux: setpriv and runuser for the test users.
PACKAGES="docker-registry skopeo umoci busybox-static uidmap fuse-overlayfs passt slirp4netns openssl
python3 zstd curl make gcc libc6-dev util-linux systemd zsh fish"

units=1
e2e=1
pattern=
for arg in "$@"; do
  case $arg in
    --unit) e2e=0 ;;
    --e2e) units=0 ;;
    -h | --help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "run.sh: unknown option $arg (see sh test/run.sh --help)" >&2; exit 2 ;;
    *) pattern=$arg ;;
  esac
done

passed=0
failed=0
skipped=0
summary() {
  echo "$passed passed, $failed failed, $skipped skipped"
  [ "$failed" = 0 ]
  exit
}

if [ "$e2e" = 1 ] && [ "$(id -u)" != 0 ]; then
  echo "run the tests as root (sudo npm test): they create test users" >&2
  failed=1
  summary
fi

mkdir -p "$LOGS"
now() { date +%s.%N; }
since() { echo "$(now) $1" | awk '{ printf "%.1fs", $1 - $2 }'; }
# note PHASE WHAT: one line per phase
note() { printf '%-9s %s\n' "$1:" "$2"; }
show_tail() { tail -n 25 "$1" | sed 's/^/  | /'; echo "  (all of it in $1)"; }

# --- 1. packages ------------------------------------------------------------------------------
if [ "$(id -u)" = 0 ] && [ "$e2e" = 1 ]; then
  t0=$(now)
  missing=
  for p in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
  done
  if [ -z "$missing" ]; then
    note packages "all present"
  elif { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing; } \
        > "$LOGS/packages.log" 2>&1 < /dev/null; then
    note packages "installed$missing in $(since "$t0")"
  else
    note packages "FAILED to install$missing"
    show_tail "$LOGS/packages.log"
    failed=1
    summary
  fi
fi

# --- 2. node_modules --------------------------------------------------------------------------
# npm writes node_modules/.package-lock.json on every install; older than the lock means stale.
t0=$(now)
stamp=node_modules/.package-lock.json
if [ ! -f "$stamp" ] || [ ! -x "$NODE" ] || [ package.json -nt "$stamp" ] ||
   { [ -f package-lock.json ] && [ package-lock.json -nt "$stamp" ]; }; then
  if [ -f package-lock.json ]; then npm_cmd="npm ci"; else npm_cmd="npm install"; fi
  if $npm_cmd --no-audit --no-fund > "$LOGS/npm.log" 2>&1 < /dev/null; then
    note npm "$npm_cmd in $(since "$t0")"
  else
    note npm "FAILED: $npm_cmd"
    show_tail "$LOGS/npm.log"
    failed=1
    summary
  fi
else
  note npm "node_modules up to date"
fi

# --- 3. build ---------------------------------------------------------------------------------
t0=$(now)
build_ok=1
if npm run build > "$LOGS/build.log" 2>&1 < /dev/null; then
  note build "ok in $(since "$t0")"
else
  # tsc still emits JavaScript next to type errors, so the unit suites can run and say more;
  # the end-to-end suites would test a stale or missing dist/tspod and are not run.
  note build "FAILED in $(since "$t0") (counted as 1 failure)"
  show_tail "$LOGS/build.log"
  failed=$((failed + 1))
  build_ok=0
fi

# --- 4. setup ---------------------------------------------------------------------------------
setup_ok=1
if [ "$e2e" = 1 ]; then
  t0=$(now)
  if sh test/setup/up.sh < /dev/null; then
    note setup "ok in $(since "$t0")"
  else
    note setup "FAILED (counted as 1 failure; end-to-end suites not run)"
    failed=$((failed + 1))
    setup_ok=0
  fi
fi

# --- 5. suites --------------------------------------------------------------------------------
ESC=$(printf '\033')
if [ -n "$pattern" ]; then
  regex="^(?=.*(${pattern})).*\\.test\\.js\$"
else
  regex='\.test\.js$'
fi
color=--no-color
[ -t 1 ] && color=

# run_suite NAME: one uvu process over build/test/NAME, output teed to $LOGS/NAME.log, its totals
# added to ours. uvu's Total counts the tests it ran and excludes skipped ones (test.skip, and the
# others when .only is used), so failed = Total - Passed.
run_suite() {
  name=$1
  dir=build/test/$name
  log=$LOGS/$name.log
  if [ -z "$(find "$dir" -name '*.test.js' 2>/dev/null | head -n 1)" ]; then
    note "$name" "no test files in $dir"
    return
  fi
  rcfile=$WORK/run-$name.rc
  echo "== $name: $dir ${pattern:+(files matching $pattern)}"
  { timeout -k 10 "$SUITE_TIMEOUT" "$NODE" node_modules/uvu/bin.js "$dir" "$regex" $color < /dev/null 2>&1
    echo $? > "$rcfile"; } | tee "$log"
  rc=$(cat "$rcfile")
  plain=$(sed "s/$ESC\[[0-9;]*m//g" "$log")
  total=$(echo "$plain" | awk '$1 == "Total:" { v = $2 } END { print v }')
  ok=$(echo "$plain" | awk '$1 == "Passed:" { v = $2 } END { print v }')
  skip=$(echo "$plain" | awk '$1 == "Skipped:" { v = $2 } END { print v }')
  if [ -z "$total" ] || [ -z "$ok" ] || [ -z "$skip" ]; then
    if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then why="timed out after ${SUITE_TIMEOUT}s"; else why="exit $rc"; fi
    note "$name" "CRASHED ($why) before printing totals: counted as 1 failure; see $log"
    failed=$((failed + 1))
    return
  fi
  bad=$((total - ok))
  if [ "$bad" = 0 ] && [ "$rc" != 0 ]; then
    note "$name" "all tests passed but uvu exited $rc (an error after the run?): counted as 1 failure"
    bad=1
  fi
  if [ "$total" = 0 ] && [ "$skip" = 0 ]; then
    note "$name" "no tests ran${pattern:+ (no test file matches $pattern?)}"
  else
    note "$name" "$ok passed, $bad failed, $skip skipped"
  fi
  passed=$((passed + ok))
  failed=$((failed + bad))
  skipped=$((skipped + skip))
}

if [ "$units" = 1 ]; then
  run_suite unit
fi
if [ "$e2e" = 1 ]; then
  if [ "$build_ok" = 1 ] && [ "$setup_ok" = 1 ]; then
    run_suite e2e
  else
    note e2e "not run: the build or the setup failed"
  fi
fi
summary
