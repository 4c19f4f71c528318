#!/usr/bin/env bash
# Runs the tests crate (budgets, integration and browser tests) in parallel lanes: each test
# binary starts its own `wrangler dev` and Chromium and spends most of its time waiting on
# them (about a third of two cores busy), so two binaries side by side take about half
# the time of one after the other. Every binary runs even when one fails; each one's output
# is printed whole when it ends (and kept in target/test-logs/), a binary still running
# after BECKON_TEST_TIMEOUT seconds (default 1800) is stopped and counts as failed, and the
# exit status is non-zero if any failed.
#   scripts/integration.sh            BECKON_TEST_LANES (default 2) binaries at a time
# Called by scripts/test.sh.
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$BECKON_ROOT"

lanes="${BECKON_TEST_LANES:-2}"
timeout="${BECKON_TEST_TIMEOUT:-1800}"
[[ "$lanes" =~ ^[1-9][0-9]*$ ]] || { echo "BECKON_TEST_LANES must be 1 or more: $lanes" >&2; exit 2; }
[[ "$timeout" =~ ^[1-9][0-9]*$ ]] || { echo "BECKON_TEST_TIMEOUT must be seconds: $timeout" >&2; exit 2; }
logs="target/test-logs"
rm -rf "$logs" && mkdir -p "$logs"

# Longest first (by how long each took alone on a 2-core machine), so no lane ends with a
# long binary on its own; the rest follow in cargo's order.
longest="broadcasts limits fuzz accessibility proactive work webhooks email browser access channels"

# Builds every test executable of the crate once (compiler messages on stderr) and writes the
# queue: one "name<TAB>path" line each, longest first. Fails if cargo named none.
format=json-diagnostic-rendered-ansi
[ -t 2 ] || format=json
cargo test --quiet -p beckon-tests --no-run --message-format="$format" \
    | LONGEST="$longest" python3 -c '
import json, os, sys
found = []
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-message":
        sys.stderr.write(m["message"].get("rendered") or "")
    elif m.get("reason") == "compiler-artifact" and m["profile"].get("test") and m.get("executable"):
        kind = m["target"]["kind"][0]
        found.append((("" if kind == "test" else kind + ":") + m["target"]["name"], m["executable"]))
if not found:
    sys.exit("cargo built no test executable")
rank = {name: i for i, name in enumerate(os.environ["LONGEST"].split())}
found.sort(key=lambda f: rank.get(f[0], len(rank)))
for name, exe in found:
    print(name + "\t" + exe)
' >"$logs/queue"

# A binary runs under `timeout` in its own process group (with its wrangler and Chromium);
# its marker `<log>.started` holds that group's pid until it ends.
run_one() {
    local name="${1%%$'\t'*}" exe="${1#*$'\t'}"
    local log="$logs/${name//:/--}.log" start=$SECONDS status=0 pid
    (cd tests && exec timeout -k 30 "$timeout" "$exe") >"$log" 2>&1 &
    pid=$!
    echo "$pid" >"${log%.log}.started"
    { flock 9; printf -- '--> %s: started\n' "$name"; } 9>"$logs/.print-lock"
    wait "$pid" || status=$?
    echo "$name" >>"$logs/ended"
    [ "$status" -eq 0 ] || echo "$name" >>"$logs/failed"
    {
        flock 9
        cat "$log"
        case "$status" in
            0) printf -- '--> %s: ok (%ds)\n' "$name" "$((SECONDS - start))" ;;
            124 | 137) printf -- '--> %s: FAILED, stopped after %d s\n' "$name" "$timeout" ;;
            *) printf -- '--> %s: FAILED, exit %d (%ds)\n' "$name" "$status" "$((SECONDS - start))" ;;
        esac
        rm -f "${log%.log}.started"
    } 9>"$logs/.print-lock"
    return 0
}

# On a stop (INT, TERM): stops the binaries under way (`timeout` hands the signal on to each)
# and prints what they had written.
stop_all() {
    local started
    for started in "$logs"/*.started; do
        [ -e "$started" ] || continue
        kill -TERM "$(cat "$started")" 2>/dev/null || true
        printf '\n--> %s: stopped; its output so far:\n' "$(basename "$started" .started)"
        cat "${started%.started}.log" 2>/dev/null || true
    done
    kill "${lanes_pid:-}" 2>/dev/null || true
}
trap 'stop_all; exit 130' INT
trap 'stop_all; exit 143' TERM

export -f run_one
export logs timeout

# In the background, so that a stop (INT, TERM) is heard at once, not when xargs ends.
xargs -d '\n' -r -n 1 -P "$lanes" bash -c 'run_one "$0"' <"$logs/queue" &
lanes_pid=$!
wait "$lanes_pid"

# Doc tests, last (none today).
if ! cargo test --quiet -p beckon-tests --doc >"$logs/doc-tests.txt" 2>&1; then
    echo "doc tests" >>"$logs/failed"
fi
cat "$logs/doc-tests.txt"

ended=$(cat "$logs/ended" 2>/dev/null | wc -l)
queued=$(wc -l <"$logs/queue")
if [ "$ended" -ne "$queued" ]; then
    echo "only $ended of $queued test binaries ended" >&2
    exit 1
fi
if [ -s "$logs/failed" ]; then
    printf '\nFailed: %s\n' "$(tr '\n' ' ' <"$logs/failed")"
    exit 1
fi
