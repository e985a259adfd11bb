#!/bin/sh
# Writes the completion scripts for packages from `tspod completion SHELL`, the only source of
# them (cmd/system/completion.ts): run it after changing the scripts, with tspod built.
#   sh completions/generate.sh [TSPOD]      (default: dist/tspod)
# test/e2e/completion-protocol.test.ts fails when these files differ from what tspod prints.
set -eu
cd "$(dirname "$0")"
TSPOD=${1:-../dist/tspod}
"$TSPOD" completion bash >tspod.bash
"$TSPOD" completion zsh >_tspod
"$TSPOD" completion fish >tspod.fish
echo "completions: wrote tspod.bash _tspod tspod.fish"
