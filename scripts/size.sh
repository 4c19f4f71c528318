#!/usr/bin/env bash
# Prints the size report: the loader (budget 3 KB gzip), the widget app (wasm + JS glue), the
# inbox, and the Worker bundle as `wrangler deploy --dry-run` reports it.
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$BECKON_ROOT"
gz() { gzip -9 -c "$1" | wc -c; }
row() { printf '  %-34s %9s B raw %9s B gzip\n' "$1" "$(wc -c < "$2")" "$(gz "$2")"; }
echo "Size report"
row "loader  /beckon.js" dist/public/beckon.js
row "widget  beckon_widget_bg.wasm" dist/public/widget/beckon_widget_bg.wasm
row "widget  beckon_widget.js (glue)" dist/public/widget/beckon_widget.js
total=$(( $(gz dist/public/widget/beckon_widget_bg.wasm) + $(gz dist/public/widget/beckon_widget.js) + $(gz dist/public/widget/boot.js) + $(gz dist/public/widget/app.css) ))
printf '  %-34s %29s B gzip\n' "widget  app total (wasm+glue+css)" "$total"
row "inbox   beckon_console_bg.wasm" dist/public/console/beckon_console_bg.wasm
bundle=$(wrangler deploy --dry-run --outdir build/deploy-dry-run 2>&1 | grep -E 'Total Upload' || true)
printf '  %-34s %s\n' "worker  bundle (wrangler dry-run)" "${bundle#Total Upload: }"
