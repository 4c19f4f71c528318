#!/usr/bin/env bash
# Runs the tests crate (budgets, integration and browser tests) in parallel lanes: each test
# binary starts its own `wrangler dev` and Chromium and spends most of its time waiting on
# them (about a third of two cores busy), so two binaries side by side take about half
# the time of one after the other. Every binary runs even when one fails; each one's output
# is printed whole when it ends, and the exit status is non-zero if any failed.
#   scripts/integration.sh            BECKON_TEST_LANES (default 2) binaries at a time
# Called by scripts/test.sh.
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$BECKON_ROOT"

lanes="${BECKON_TEST_LANES:-2}"
logs="target/test-logs"
rm -rf "$logs" && mkdir -p "$logs"

# Build every test executable of the crate once, and list them (name, path).
cargo test --quiet -p beckon-tests --no-run --message-format=json \
    | python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("profile", {}).get("test") and m.get("executable"):
        kind = m["target"]["kind"][0]
        print(("" if kind == "test" else kind + ":") + m["target"]["name"], m["executable"])
' >"$logs/executables"

# Longest first (seconds on one 2-core machine, run alone), so no lane ends with a long
# binary on its own; the rest follow in their listed order.
longest="broadcasts limits fuzz accessibility proactive work webhooks email browser access channels"
{
    for name in $longest; do grep "^$name " "$logs/executables" || true; done
    grep -v -F -x -f <(for name in $longest; do grep "^$name " "$logs/executables" || true; done) \
        "$logs/executables" || true
} >"$logs/queue"

run_one() {
    local name="$1" exe="$2" log="$logs/${1//:/-}.log" start=$SECONDS status=0
    # As `cargo test` runs it: from the crate's folder.
    (cd tests && "$exe") >"$log" 2>&1 || status=$?
    {
        flock 9
        cat "$log"
        if [ "$status" -eq 0 ]; then
            printf -- '--> %s: ok (%ds)\n' "$name" "$((SECONDS - start))"
        else
            printf -- '--> %s: FAILED, exit %d (%ds)\n' "$name" "$status" "$((SECONDS - start))"
            echo "$name" >>"$logs/failed"
        fi
    } 9>"$logs/.print-lock"
    return 0
}
export -f run_one
export logs

xargs -P "$lanes" -L 1 bash -c 'run_one "$0" "$1"' <"$logs/queue"
cargo test --quiet -p beckon-tests --doc

if [ -s "$logs/failed" ]; then
    printf '\nFailed: %s\n' "$(tr '\n' ' ' <"$logs/failed")"
    exit 1
fi
