#!/usr/bin/env bash
# Runs every test, in order of cost: lint, native unit tests, wasm component tests in headless
# Chromium, then integration and browser end-to-end tests against `wrangler dev` (two test
# binaries at a time: scripts/integration.sh).
# Called by `make test` (after setup and build) and therefore by .ci/run.
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$BECKON_ROOT"
export CHROMEDRIVER="${CHROMEDRIVER:-$(command -v chromedriver)}"
export RUST_BACKTRACE="${RUST_BACKTRACE:-0}"

stage() {
    local name="$1"; shift
    printf '\n==> %s\n' "$name"
    local start=$SECONDS
    "$@"
    printf '==> %s: ok (%ds)\n' "$name" "$((SECONDS - start))"
}

stage "lint (fmt, clippy native + wasm32)" scripts/lint.sh
stage "unit tests (native)" cargo test --quiet --workspace --exclude beckon-tests
stage "component tests (wasm, headless Chromium)" bash -c 'cd widget && cargo test --target wasm32-unknown-unknown'
stage "budgets, integration and browser tests (wrangler dev + Chromium)" scripts/integration.sh
rm -rf target/test-state
printf '\nAll tests passed.\n'
