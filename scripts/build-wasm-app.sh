#!/usr/bin/env bash
# Builds one yew app to optimised wasm + JS glue:
#   scripts/build-wasm-app.sh <cargo package> <lib name> <output dir> [cargo features] [keep list]
# With a keep list, the wasm is split in two (tools/wasm-split): `<lib>_bg.wasm` holds the
# functions the list names (what a usual session runs), `<lib>_more.<hash>.wasm` the rest,
# which the glue fetches once the app has started (or at once, the first time one is called).
# BECKON_SPLIT=instrument builds the profiling app instead (`make split-profile`).
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$BECKON_ROOT"
package="$1" lib="$2" out="$3" features="${4:-}" keep="${5:-}"
tmp="build/wasm-bindgen/$lib"

# Its own target dir: the rebuilt std must not invalidate the stable builds (tests, clippy).
target="target/app"
RUSTFLAGS="$APP_RUSTFLAGS" CARGO_TARGET_DIR="$target" \
    cargo "+$APP_TOOLCHAIN" build --quiet --release --target wasm32-unknown-unknown -p "$package" \
    ${features:+--features "$features"} -Z build-std=std,panic_abort
rm -rf "$tmp" && mkdir -p "$tmp" "$out"
wasm-bindgen --target web --no-typescript --out-dir "$tmp" --out-name "$lib" \
    "$target/wasm32-unknown-unknown/release/$lib.wasm"
wasm_split() { cargo run --quiet -p beckon-wasm-split -- "$@"; }
# wasm-bindgen's hashed import and export names made short, in the wasm here and in the glue
# below (by the pairs in renames.tsv): a hash does not compress, and each is there twice.
wasm_split shorten "$tmp/${lib}_bg.wasm" "$tmp/short.wasm" "$tmp/renames.tsv"
# The glue minified (terser, as the loader: ~25 % less gzip); property names stay as given.
minify() { node_modules/.bin/terser "$1" --module --compress passes=2 --mangle --ecma 2020 --output "$2"; }
# Everything is made in $tmp and moved into $out at the end, the first part (make's target)
# last: a build that fails half-way leaves the old app whole, and make tries again.
# Every wasm-opt run: no target-features section (the browser does not read it), and offsets
# folded on the premise that the low 1 KB of memory is unused (~600 B gzip less): rustc puts
# the stack first (0–1 MB, growing down; data above), so only a stack all but overflowed
# reaches it.
# shellcheck disable=SC2086
opt() { wasm-opt -Oz "$@" --strip-target-features --low-memory-unused $WASM_OPT_FEATURES; }
more=""
if [ -z "$keep" ]; then
    # --converge repeats -Oz until it stops shrinking (about 0.35 % of gzip size for ~30 s).
    opt --converge -o "$tmp/out.wasm" "$tmp/short.wasm"
    hooks=""
else
    # Split first, then optimise each part: the keep list is by the names rustc gave, and
    # wasm-opt cannot inline a function into a caller on the other side.
    if [ "${BECKON_SPLIT:-}" = instrument ]; then
        wasm_split instrument "$tmp/short.wasm" "$tmp/instrumented.wasm" "$tmp/names.txt"
        opt -o "$tmp/out.wasm" "$tmp/instrumented.wasm"
        hooks=tools/wasm-split/js/profile.js
    else
        wasm_split split "$tmp/short.wasm" "$keep" "$tmp/primary.wasm" "$tmp/more.wasm"
        opt --converge -o "$tmp/out.wasm" "$tmp/primary.wasm"
        more="${lib}_more.$(sha256sum "$tmp/more.wasm" | cut -c1-12).wasm"
        opt --converge -o "$tmp/$more" "$tmp/more.wasm"
        hooks=tools/wasm-split/js/load.js
    fi
fi
# The glue renamed as the wasm was. With a split, it also gives the wasm the hooks' import
# module and starts the second part's fetch once the app has started. Each edit is checked,
# so a new wasm-bindgen cannot drop one silently.
python3 - "$tmp/$lib.js" "$tmp/patched.js" "$tmp/renames.tsv" "$hooks" "$lib" "$more" <<'PY'
import re, sys
src, dst, renames, hooks, lib, more = sys.argv[1:]
glue = open(src).read()
def edit(old, new):
    global glue
    if glue.count(old) != 1:
        sys.exit(f"build-wasm-app.sh: the glue of {lib} does not have one `{old.strip()}`")
    glue = glue.replace(old, new)
if hooks:
    edit(f'"./{lib}_bg.js": import0,', f'"./{lib}_bg.js": import0,\n        __split: __split_hooks,')
    edit("    wasm.__wbindgen_start();\n", "    wasm.__wbindgen_start();\n    __split_soon();\n")
pairs = [line.split("\t") for line in open(renames).read().splitlines()]
(module, short_module), names = pairs[0], pairs[1:]
clash = re.search(r"(?<![\w$])_[0-9a-z]+(?![\w$])", glue)
if clash:
    sys.exit(f"build-wasm-app.sh: the glue of {lib} already names {clash.group(0)}, a short name")
edit(f'"{module}": import0,', f'"{short_module}": import0,')
for old, new in names:
    glue, n = re.subn(rf"(?<![\w$]){re.escape(old)}(?![\w$])", new, glue)
    if n == 0:
        sys.exit(f"build-wasm-app.sh: the glue of {lib} never names {old}")
if hooks:
    glue += open(hooks).read().replace("__SPLIT_FILE__", more)
open(dst, "w").write(glue)
PY
minify "$tmp/patched.js" "$tmp/glue.js"
[ -z "$more" ] || mv "$tmp/$more" "$out/$more"
mv "$tmp/glue.js" "$out/$lib.js"
mv "$tmp/out.wasm" "$out/${lib}_bg.wasm"
find "$out" -maxdepth 1 -name "${lib}_more.*.wasm" ! -name "${more:-none}" -delete
# A profiling build is never up to date for make: the next `make build` replaces it.
if [ "${BECKON_SPLIT:-}" = instrument ]; then touch -d @0 "$out/${lib}_bg.wasm"; fi
