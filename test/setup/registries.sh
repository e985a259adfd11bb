#!/bin/sh
# The test registries of the test bed, on loopback:
#   127.0.0.1:5000  plain HTTP, no authentication
#   127.0.0.1:5001  HTTPS (test CA) + htpasswd basic auth, tester / secret-pass
#   127.0.0.1:5002  HTTPS (test CA) + token auth from the token server below
#   127.0.0.1:5003  the token server (test/setup/token-server.js): anonymous pull of public/*,
#                   tester / secret-pass pull and push everything
#
#   test/setup/registries.sh start    start what is not already answering (idempotent)
#   test/setup/registries.sh stop     stop what this script started (pid files in $WORK/run)
#   test/setup/registries.sh status   say what answers; exit 1 unless all do
#
# Everything lives in ${TSPOD_TEST_WORK:-test/.work}:
#   certs/ca.crt                      the test CA (certs/ alone is usable as a --cert-dir)
#   certs/private/                    CA key, server and token-signing certificates and keys
#   registries/                       registry configurations, htpasswd
#   registry-5000/ -5001/ -5002/      registry storage
#   run/*.pid  logs/*.log
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
WORK=${TSPOD_TEST_WORK:-$repo/test/.work}
CERTS=$WORK/certs
PRIV=$CERTS/private
CONF=$WORK/registries
RUN=$WORK/run
LOGS=$WORK/logs
REGISTRY_BIN=${TSPOD_REGISTRY_BIN:-/usr/bin/docker-registry}
NODE=$repo/node_modules/.bin/node
[ -x "$NODE" ] || NODE=node

TOKEN_SERVICE=tspod-test-registry
TOKEN_ISSUER=tspod-test-token-server
# bcrypt (the only scheme the registry's htpasswd accepts) of the fixed test password
# "secret-pass", made once with python3's crypt module; any bcrypt hash of it would do.
TESTER_HASH='$2b$05$uU9/B/y8MJVepvYDnbF2JeSaCGyhNtOHJ8QBjdYI8RLJ9PiU3dbxG'

say() { echo "registries: $*"; }
die() { echo "registries: error: $*" >&2; exit 1; }

# --- readiness checks: the HTTP status each service answers with when it is up ---
http_status() { # URL [curl args...]
  url=$1
  shift
  curl -s -o /dev/null -m 3 -w '%{http_code}' "$@" "$url" 2>/dev/null || true
}

is_up() { # NAME
  case $1 in
    registry-5000) [ "$(http_status http://127.0.0.1:5000/v2/)" = 200 ] ;;
    registry-5001) [ -f "$CERTS/ca.crt" ] && [ "$(http_status https://127.0.0.1:5001/v2/ --cacert "$CERTS/ca.crt")" = 401 ] ;;
    registry-5002) [ -f "$CERTS/ca.crt" ] && [ "$(http_status https://127.0.0.1:5002/v2/ --cacert "$CERTS/ca.crt")" = 401 ] ;;
    token-server) [ "$(http_status http://127.0.0.1:5003/healthz)" = 200 ] ;;
    *) return 1 ;;
  esac
}

# --- certificates ---
make_certs() {
  mkdir -p "$PRIV"
  chmod 700 "$PRIV"
  if [ ! -f "$CERTS/ca.crt" ] || [ ! -f "$PRIV/ca.key" ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 \
      -keyout "$PRIV/ca.key" -out "$CERTS/ca.crt.tmp" -subj '/CN=tspod test CA' \
      -addext 'basicConstraints=critical,CA:TRUE' -addext 'keyUsage=critical,keyCertSign,cRLSign' 2>/dev/null
    mv "$CERTS/ca.crt.tmp" "$CERTS/ca.crt"
    rm -f "$PRIV/server.crt" "$PRIV/token.crt"
  fi
  leaf server '/CN=localhost' 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1
extendedKeyUsage=serverAuth'
  leaf token '/CN=tspod test token signer' 'extendedKeyUsage=codeSigning'
}

leaf() { # NAME SUBJECT EXTRA-EXTENSIONS
  [ -f "$PRIV/$1.crt" ] && [ -f "$PRIV/$1.key" ] && return 0
  printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n%s\n' "$3" > "$PRIV/$1.ext"
  openssl req -newkey rsa:2048 -nodes -sha256 -keyout "$PRIV/$1.key" -out "$PRIV/$1.csr" -subj "$2" 2>/dev/null
  openssl x509 -req -sha256 -days 3650 -in "$PRIV/$1.csr" -CA "$CERTS/ca.crt" -CAkey "$PRIV/ca.key" \
    -CAserial "$PRIV/ca.srl" -CAcreateserial -extfile "$PRIV/$1.ext" -out "$PRIV/$1.crt.tmp" 2>/dev/null
  mv "$PRIV/$1.crt.tmp" "$PRIV/$1.crt"
  rm -f "$PRIV/$1.csr" "$PRIV/$1.ext"
}

# --- registry configurations ---
write_config() { # PORT AUTH-KIND
  port=$1
  mkdir -p "$CONF" "$WORK/registry-$port"
  {
    cat <<EOF
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $WORK/registry-$port
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
  secret: tspod-test-$port
EOF
    if [ "$2" != none ]; then
      cat <<EOF
  tls:
    certificate: $PRIV/server.crt
    key: $PRIV/server.key
EOF
    fi
    case $2 in
      basic)
        cat <<EOF
auth:
  htpasswd:
    realm: tspod-test
    path: $CONF/htpasswd
EOF
        ;;
      token)
        cat <<EOF
auth:
  token:
    realm: http://127.0.0.1:5003/token
    service: $TOKEN_SERVICE
    issuer: $TOKEN_ISSUER
    rootcertbundle: $CERTS/ca.crt
EOF
        ;;
    esac
  } > "$CONF/$port.yml.tmp"
  mv "$CONF/$port.yml.tmp" "$CONF/$port.yml"
}

# --- processes ---
pid_of() { # NAME -> pid of a live process we started, or nothing
  f=$RUN/$1.pid
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  if [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q "$2"; then
    echo "$pid"
  fi
}

launch() { # NAME COMMAND...
  name=$1
  shift
  mkdir -p "$RUN" "$LOGS"
  setsid "$@" >> "$LOGS/$name.log" 2>&1 < /dev/null &
  echo $! > "$RUN/$name.pid"
  i=0
  while ! is_up "$name"; do
    i=$((i + 1))
    if [ $i -gt 100 ] || ! kill -0 "$(cat "$RUN/$name.pid")" 2>/dev/null; then
      tail -n 5 "$LOGS/$name.log" >&2 || true
      die "$name did not come up (log: $LOGS/$name.log)"
    fi
    sleep 0.1
  done
  say "$name started (pid $(cat "$RUN/$name.pid"))"
}

start() {
  command -v curl > /dev/null || die 'curl is missing'
  [ -x "$REGISTRY_BIN" ] || die "$REGISTRY_BIN is missing: apt-get install docker-registry"
  make_certs
  mkdir -p "$CONF"
  echo "tester:$TESTER_HASH" > "$CONF/htpasswd"
  write_config 5000 none
  write_config 5001 basic
  write_config 5002 token
  if is_up token-server; then say 'token-server already up'; else
    launch token-server "$NODE" "$here/token-server.js" --listen 127.0.0.1:5003 \
      --key "$PRIV/token.key" --cert "$PRIV/token.crt" --issuer "$TOKEN_ISSUER" --service "$TOKEN_SERVICE"
  fi
  for port in 5000 5001 5002; do
    if is_up "registry-$port"; then say "registry-$port already up"; else
      launch "registry-$port" "$REGISTRY_BIN" serve "$CONF/$port.yml"
    fi
  done
}

stop() {
  for name in registry-5000 registry-5001 registry-5002 token-server; do
    case $name in token-server) pattern=token-server ;; *) pattern=docker-registry ;; esac
    pid=$(pid_of "$name" "$pattern")
    rm -f "$RUN/$name.pid"
    [ -n "$pid" ] || continue
    kill "$pid" 2>/dev/null || true
    i=0
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    kill -9 "$pid" 2>/dev/null || true
    say "$name stopped (pid $pid)"
  done
}

status() {
  rc=0
  for name in registry-5000 registry-5001 registry-5002 token-server; do
    if is_up "$name"; then say "$name up"; else say "$name DOWN"; rc=1; fi
  done
  return $rc
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 {start|stop|status}" >&2; exit 2 ;;
esac
