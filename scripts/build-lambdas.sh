#!/usr/bin/env bash
# The Lambda build of every function, exactly as `sam build` runs it (the Makefile's `lambdas`
# target: cargo-lambda, profile lambda-release, the sign-in function alone and the other six
# together so features do not leak), then each bootstrap's size and the newest glibc symbol
# version it needs: Amazon Linux 2023 (provided.al2023) has glibc 2.34.
#
#   bash scripts/build-lambdas.sh        # -> target/lambda/<function>/bootstrap
#
# Installs cargo-lambda into the repo venv (.venv) from PyPI when missing; its wheel brings Zig
# (the `ziglang` package), which cargo-lambda links with. Not run in CI: seven LTO links take a
# while on two cores.
set -euo pipefail

CARGO_LAMBDA_VERSION="1.9.2"
AL2023_GLIBC="2.34"

cd "$(dirname "$0")/.."
root=$(pwd)
venv="$root/.venv"

if [[ ! -x "$venv/bin/cargo-lambda" ]] || ! "$venv/bin/cargo-lambda" lambda --version 2>/dev/null | grep -q " $CARGO_LAMBDA_VERSION "; then
    [[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
    echo "installing cargo-lambda $CARGO_LAMBDA_VERSION into $venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "cargo-lambda==$CARGO_LAMBDA_VERSION"
fi

# Every function crate but the local all-in-one server; each builds the binary named after it.
functions=()
for dir in functions/*/; do
    name=$(basename "$dir")
    [[ "$name" == server ]] && continue
    functions+=("$name")
done

started=$(date +%s)
make --no-print-directory lambdas
echo "built in $(($(date +%s) - started)) s"

printf '\n%-16s %10s %8s  %s\n' function bytes MiB "newest glibc symbol"
status=0
for name in "${functions[@]}"; do
    bootstrap="target/lambda/$name/bootstrap"
    if [[ ! -f "$bootstrap" ]]; then
        echo "missing: $bootstrap" >&2
        status=1
        continue
    fi
    bytes=$(stat -c %s "$bootstrap")
    glibc=$(objdump -T "$bootstrap" | grep -o 'GLIBC_[0-9.]*' | sort -V | tail -1)
    printf '%-16s %10d %8s  %s\n' "$name" "$bytes" "$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1048576 }')" "${glibc:-none}"
    # Amazon Linux 2023 must provide every symbol version the binary asks for.
    if [[ -n "$glibc" ]] && [[ "$(printf '%s\n%s\n' "${glibc#GLIBC_}" "$AL2023_GLIBC" | sort -V | tail -1)" != "$AL2023_GLIBC" ]]; then
        echo "  $name needs $glibc, newer than Amazon Linux 2023's glibc $AL2023_GLIBC" >&2
        status=1
    fi
done
exit $status
