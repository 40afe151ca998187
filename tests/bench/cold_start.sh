#!/usr/bin/env bash
# Cold-start benchmark of the release Lambda bootstraps (scripts/build-lambdas.sh builds them):
# per function, init time (process start to its first `next` call), time to its first response,
# and peak RSS, against our Runtime API emulator and moto. Not run in CI.
#
#   bash tests/bench/cold_start.sh [runs]    # default 5 runs per function, after one warm-up
set -euo pipefail
cd "$(dirname "$0")/../.."
runs="${1:-5}"
bootstraps="${GATEHOUSE_LAMBDA_BOOTSTRAPS:-target/lambda}"
for name in discovery signin-redirect callback authorize token userinfo admin; do
    if [[ ! -x "$bootstraps/$name/bootstrap" ]]; then
        echo "cold_start.sh: $bootstraps/$name/bootstrap is missing: run scripts/build-lambdas.sh first" >&2
        exit 1
    fi
done
eval "$(bash tests/support/moto.sh start)"
# The harness itself (the emulator) is a debug build: it only waits on the functions.
cargo build --quiet -p gatehouse-tests --bin cold-start
exec ./target/debug/cold-start "$bootstraps" "$runs"
