#!/bin/sh
# Builds the fixture images of the test bed (test/setup/fixtures/, test/setup/hostile/) from local
# material only and pushes them to the test registries; writes test/.work/fixtures.json.
#
#   test/setup/fixtures.sh                       build all, push what the registries lack (idempotent)
#   test/setup/fixtures.sh --force               push everything again
#   test/setup/fixtures.sh --only busybox --registry localhost:5000
#                                                publish just the busybox image to any registry
#
# Debian's python3 is used on purpose, not whatever python3 comes first in PATH.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
exec /usr/bin/python3 -B "$here/fixtures/main.py" "$@"
