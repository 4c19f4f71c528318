#!/usr/bin/env bash
# Assembles dist/public — the only directory wrangler serves as static assets: the demo page,
# the minified loader (and the wake-up and attention scripts a site's boot script may load) and its
# TypeScript declarations, the widget and inbox shells (and the
# widget's language catalogs), and the
# _headers file.
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$BECKON_ROOT"
out=dist/public
mkdir -p "$out/widget" "$out/console"
cp index.html "$out/index.html"
for js in beckon attention wakeup; do
    # terser (two compress passes) packs the loader ~2 % tighter than esbuild's --minify.
    node_modules/.bin/terser "widget/loader/$js.js" --compress passes=2 --mangle --ecma 2019 --output "$out/$js.js"
done
cp widget/loader/beckon.d.ts "$out/beckon.d.ts"
cp widget/static/* "$out/widget/"
cp console/static/* "$out/console/"
cp static/_headers "$out/_headers"
