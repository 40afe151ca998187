#!/usr/bin/env bash
# The whole test suite, on a fresh machine too: installs what the tests need (Debian's
# chromium, npm packages, a Python venv with moto), starts moto, then runs the Rust tests on
# both storage backends, the lints, and the browser tests against a local server.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
work="$root/tests/.work"
mkdir -p "$work"
log() { printf '\n== %s\n' "$*"; }

log "installing test tools"
bash tests/support/chromium.sh || exit 1
(cd tests && npm ci --no-audit --no-fund --loglevel=error) || exit 1
eval "$(bash tests/support/moto.sh start)" || exit 1
eval "$(bash tests/support/smtp.sh start)" || exit 1

server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
  bash tests/support/moto.sh stop >/dev/null 2>&1
  bash tests/support/smtp.sh stop >/dev/null 2>&1
}
trap cleanup EXIT

passed=0
failed=0
failures=()

# Adds a Rust suite's counts from its "test result:" lines.
count_cargo() {
  local p f
  p=$(grep -Eo 'test result: [a-zA-Z]+\. [0-9]+ passed' "$1" | awk '{s+=$4} END {print s+0}')
  f=$(grep -Eo '[0-9]+ failed' "$1" | awk '{s+=$1} END {print s+0}')
  passed=$((passed + p)); failed=$((failed + f))
}

# Adds a node --test run's counts from its "# pass N" / "# fail N" lines.
count_node() {
  local p f
  p=$(grep -Eo '^# pass [0-9]+' "$1" | awk '{s+=$3} END {print s+0}')
  f=$(grep -Eo '^# fail [0-9]+' "$1" | awk '{s+=$3} END {print s+0}')
  passed=$((passed + p)); failed=$((failed + f))
}

log "formatting and lints"
if ! cargo fmt --all -- --check; then failures+=("cargo fmt"); fi
if ! cargo clippy --workspace --all-targets --quiet -- -D warnings; then failures+=("cargo clippy"); fi
# The Lambda functions build the common crate with fewer features (no SQLite; mail only for
# sign-in): those builds are linted on their own, as the workspace build unifies features.
for lambda in gatehouse-token gatehouse-signin-redirect; do
  if ! cargo clippy -p "$lambda" --quiet -- -D warnings; then failures+=("cargo clippy -p $lambda"); fi
done
for dir in shared/src functions/*/src; do
  if ! python3 scripts/import-cycles.py "$dir" | tail -1 | grep -q '^0 cycle groups'; then
    python3 scripts/import-cycles.py "$dir"
    failures+=("import cycles in $dir")
  fi
done

log "SAM template lint (cfn-lint, sam validate --lint)"
bash tests/support/lint-template.sh || failures+=("template lint")

# The Lambda runtime tests (tests/tests/lambda_runtime.rs) start every function's binary.
log "building the function binaries"
cargo build --quiet --workspace --bins || failures+=("function binaries build")

log "Rust tests (embedded and AWS backends)"
cargo test --workspace --no-fail-fast 2>&1 | tee "$work/cargo-test.log"
[ "${PIPESTATUS[0]}" -eq 0 ] || failures+=("cargo test")
count_cargo "$work/cargo-test.log"

# Adds a pytest run's counts from its closing line ("N passed, M failed, K errors").
count_pytest() {
  local line p f
  line=$(grep -E '[0-9]+ (passed|failed|error)' "$1" | tail -1)
  p=$(grep -Eo '[0-9]+ passed' <<<"$line" | awk '{s+=$1} END {print s+0}')
  f=$(grep -Eo '[0-9]+ (failed|errors?)' <<<"$line" | awk '{s+=$1} END {print s+0}')
  passed=$((passed + p)); failed=$((failed + f))
}

# Starts a fresh local server (own port, own data) for one suite; exports GATEHOUSE_URL.
start_server() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  local port data_dir
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  data_dir=$(mktemp -d)
  export GATEHOUSE_URL="http://127.0.0.1:$port"
  export GATEHOUSE_ADMIN_PASSWORD="suite-admin-password-$port"
  # Mail goes to the SMTP sink (tests/support/smtp.sh), from a sender of the suite's own.
  GATEHOUSE_LISTEN="127.0.0.1:$port" GATEHOUSE_DATA_DIR="$data_dir" GATEHOUSE_MAIL_FROM="gatehouse-$1@example.org" \
    GATEHOUSE_SMTP_URL="$GATEHOUSE_TEST_SMTP_URL" GATEHOUSE_SMTP_CA_FILE="$GATEHOUSE_TEST_SMTP_CA" \
    ./target/debug/gatehouse-server >"$work/server-$1.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 100); do curl -fs -o /dev/null "$GATEHOUSE_URL/signin" && return 0; sleep 0.1; done
  echo "the server for $1 did not start; see $work/server-$1.log"
  return 1
}

# The same, on the AWS backend: fresh tables of its own on moto (tests/src/bin/aws-test-server.rs).
start_aws_server() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  local log_file="$work/server-$1.log" url=""
  ./target/debug/aws-test-server >"$log_file" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 300); do
    url=$(grep -m1 -o '^READY http://[^ ]*' "$log_file" | cut -d' ' -f2)
    [ -n "$url" ] && break
    sleep 0.1
  done
  if [ -z "$url" ]; then echo "the AWS-backed server for $1 did not start; see $log_file"; return 1; fi
  export GATEHOUSE_URL="$url" GATEHOUSE_ADMIN_PASSWORD="admin-password-for-tests"
}

cargo build --quiet -p gatehouse-server || failures+=("server build")

log "browser tests (headless Chromium) against a local server"
if start_server browser; then
  (cd tests && node --test --test-concurrency=1 --test-reporter=tap browser/) 2>&1 | tee "$work/browser.log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || failures+=("browser tests")
  count_node "$work/browser.log"
else
  failures+=("browser server")
fi

log "interop: openid-client (node), Authlib (Python) and openidconnect (Rust) against a local server"
if start_server interop; then
  bash tests/interop/run.sh 2>&1 | tee "$work/interop.log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || failures+=("interop tests")
  count_node "$work/interop.log"  # node's and the Rust client's "# pass N" / "# fail N" lines
  count_pytest "$work/interop.log"
else
  failures+=("interop server")
fi

log "relying party: Gatehouse against node oidc-provider shaped like Entra ID and Okta"
if start_server upstream; then
  bash tests/upstream/run.sh 2>&1 | tee "$work/upstream.log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || failures+=("upstream tests")
  count_node "$work/upstream.log"
else
  failures+=("upstream server")
fi

# Linking touches the contacts' username and external-id markers, which the AWS backend keeps
# in transactions of their own: the linking suite runs on it too.
log "relying party on the AWS backend (moto): the account-linking suite"
if start_aws_server upstream-aws; then
  (cd tests && node --test --test-reporter=tap upstream/linking.test.mjs) 2>&1 | tee "$work/upstream-aws.log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || failures+=("upstream tests on AWS")
  count_node "$work/upstream-aws.log"
else
  failures+=("upstream AWS server")
fi

log "schemathesis against the admin API's OpenAPI document"
if start_server schemathesis; then
  if bash tests/schema/run.sh 2>&1 | tee "$work/schemathesis.log"; [ "${PIPESTATUS[0]}" -eq 0 ]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1)); failures+=("schemathesis")
  fi
else
  failures+=("schemathesis server")
fi

log "summary"
if [ "${#failures[@]}" -gt 0 ]; then
  printf 'failed steps: %s\n' "${failures[*]}"
  [ "$failed" -eq 0 ] && failed=${#failures[@]}
fi
echo "$passed passed, $failed failed"
[ "${#failures[@]}" -eq 0 ] && [ "$failed" -eq 0 ]
