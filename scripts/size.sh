#!/usr/bin/env bash
# Prints the size report: the loader (budget 3 KB gzip), the widget app (its first part: wasm +
# JS glue; and its second part, fetched once it has started), the inbox (the same two parts,
# and its pages), the Worker bundle as `wrangler deploy --dry-run` reports it, and the budgets.
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$BECKON_ROOT"
# No name or time in the header (as a server's compression has none). The budgets at the end
# are measured by the tests' deflate, which can differ from this by a few bytes.
gz() { gzip -9 -n -c < "$1" | wc -c; }
row() { printf '  %-34s %9s B raw %9s B gzip\n' "$1" "$(wc -c < "$2")" "$(gz "$2")"; }
echo "Size report"
row "loader  /beckon.js" dist/public/beckon.js
row "loader  wakeup.js (in rules' boot js)" dist/public/wakeup.js
row "loader  /attention.js (when turned on)" dist/public/attention.js
row "widget  beckon_widget_bg.wasm" dist/public/widget/beckon_widget_bg.wasm
row "widget  beckon_widget.js (glue)" dist/public/widget/beckon_widget.js
total=$(( $(gz dist/public/widget/beckon_widget_bg.wasm) + $(gz dist/public/widget/beckon_widget.js) + $(gz dist/public/widget/boot.js) + $(gz dist/public/widget/app.css) ))
printf '  %-34s %29s B gzip\n' "widget  first part (wasm+glue+boot+css)" "$total"
row "widget  second part (once started)" dist/public/widget/beckon_widget_more.*.wasm
# The attachment code's own share of the widget's code before the split (names survive
# until wasm-opt), and the gzip bytes that share stands for in both parts.
parts=$(cargo run --quiet -p beckon-tests --bin wasm_parts -- build/wasm-bindgen/beckon_widget/beckon_widget_bg.wasm \
    "attachments=beckon_client::upload,beckon_client::components::attachment,beckon_client::components::files,beckon_shared::media,proto::v1::uploads,message::Attachment")
share=$(sed -n 's/.*attachments *[0-9]* B *\([0-9.]*\) %.*/\1/p' <<< "$parts")
printf '  %-34s %s %% of its code ≈ %s B gzip\n' "widget  attachment code" "$share" \
    "$(awk -v s="$share" -v g="$(( $(gz dist/public/widget/beckon_widget_bg.wasm) + $(gz dist/public/widget/beckon_widget_more.*.wasm) ))" 'BEGIN { printf "%d", s * g / 100 }')"
row "inbox   beckon_console_bg.wasm" dist/public/console/beckon_console_bg.wasm
row "inbox   beckon_console.js (glue)" dist/public/console/beckon_console.js
row "inbox   second part (once started)" dist/public/console/beckon_console_more.*.wasm
row "inbox   pages, on first use (wasm)" dist/public/console/pages/beckon_console_pages_bg.wasm
row "inbox   pages, on first use (glue)" dist/public/console/pages/beckon_console_pages.js
bundle=$(wrangler deploy --dry-run --outdir build/deploy-dry-run 2>&1 | grep -E 'Total Upload' || true)
printf '  %-34s %s\n' "worker  bundle (wrangler dry-run)" "${bundle#Total Upload: }"
# The budgets as make test asserts them (each test prints its figure; one over its budget fails
# this too).
echo "Budgets (tests/tests/budgets.rs)"
cargo test --quiet -p beckon-tests --test budgets -- --test-threads=1 --nocapture 2>&1 \
    | sed 's/^\.*//' | grep -E 'budget|test result' | sed 's/^/  /'
