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
    node_modules/.bin/terser "widget/loader/$js.js" --compress passes=2 --mangle --ecma 2019 --comments /allFunctionsCalledOnLoad/ --output "$out/$js.js"
done
cp widget/loader/beckon.d.ts "$out/beckon.d.ts"
cp widget/static/* "$out/widget/"
cp console/static/* "$out/console/"
# The shells' scripts and styles minified (terser as above; lightningcss): what the chat app
# loads before it is usable counts against its budget.
terser() { node_modules/.bin/terser "$@" --compress passes=2 --mangle --ecma 2020; }
terser widget/static/boot.js --module --output "$out/widget/boot.js"
terser console/static/boot.js --module --output "$out/console/boot.js"
terser widget/static/challenge.js --output "$out/widget/challenge.js"
for css in widget/static/app.css console/static/console.css; do
    # Targets as old as the apps' wasm allows (reference types): newer syntax is not
    # written for them (e.g. media query ranges, Safari 16.4+).
    node_modules/.bin/lightningcss --minify --targets "chrome >= 96, firefox >= 79, safari >= 15" \
        "$css" --output-file "$out/${css/static\//}"
done
cp static/_headers "$out/_headers"
