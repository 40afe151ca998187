#!/usr/bin/env bash
# Installs Debian's Chromium for the browser tests when it is not there yet.
# Quiet on success; on failure prints apt's output.
set -uo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! { apt-get update -qq && apt-get install -y -qq chromium; } >"$log" 2>&1 || [ ! -x /usr/bin/chromium ]; then
  cat "$log" >&2
  echo "chromium.sh: could not install chromium (/usr/bin/chromium is missing)" >&2
  exit 1
fi
