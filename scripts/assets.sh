#!/usr/bin/env bash
# Assembles dist/public — the only directory wrangler serves as static assets: the demo page,
# the minified loader (and the attention script a site's boot script may load) and its
# TypeScript declarations, the widget and inbox shells (and the
# widget's language catalogs), and the
# _headers file.
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$BECKON_ROOT"
out=dist/public
mkdir -p "$out/widget" "$out/console"
cp index.html "$out/index.html"
for js in beckon attention; do
    esbuild "widget/loader/$js.js" --minify --legal-comments=none --target=es2019 --log-level=warning --outfile="$out/$js.js"
done
cp widget/loader/beckon.d.ts "$out/beckon.d.ts"
cp widget/static/* "$out/widget/"
cp console/static/* "$out/console/"
cp static/_headers "$out/_headers"
