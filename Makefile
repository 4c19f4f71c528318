# Beckon — every task is a make target. The two that matter:
#   make dev    install what is missing, build, migrate, seed, run on http://127.0.0.1:8787
#   make test   install what is missing (incl. Chromium), build, run every test
SHELL := bash
# A recipe that fails leaves no target behind for make to take as up to date.
.DELETE_ON_ERROR:
.SHELLFLAGS := -euo pipefail -c
ENV := . scripts/env.sh &&

SHARED_SRC  := $(shell find shared/src -name '*.rs') $(wildcard shared/i18n/*.json) shared/Cargo.toml Cargo.toml Cargo.lock
EDGE_SRC    := $(shell find edge/src -name '*.rs') edge/Cargo.toml edge/openapi.json $(SHARED_SRC)
CLIENT_SRC  := $(shell find client/src -name '*.rs') client/Cargo.toml
SPLIT_SRC   := $(shell find tools/wasm-split -type f)
# terser (the glue's minifier) and wasm-opt come from package-lock.json.
APP_TOOLS   := package-lock.json scripts/build-wasm-app.sh
WIDGET_SRC  := $(shell find widget/src -name '*.rs') widget/Cargo.toml widget/split-keep.txt $(CLIENT_SRC) $(SHARED_SRC) $(SPLIT_SRC) $(APP_TOOLS)
PAGES_SRC   := $(shell find console/src console/pages/src -name '*.rs') console/Cargo.toml console/pages/Cargo.toml $(CLIENT_SRC) $(SHARED_SRC) $(APP_TOOLS)
CONSOLE_SRC := $(PAGES_SRC) console/split-keep.txt $(SPLIT_SRC)
STATIC_SRC  := index.html $(shell find widget/loader widget/static console/static -type f) static/_headers

.PHONY: dev test setup setup-browser build edge widget console assets migrate seed dev-vars lint \
        test-native test-wasm test-integration size split-profile bench deploy-check clean

dev: setup build dev-vars migrate seed
	$(ENV) scripts/dev.sh

test: setup-browser build
	$(ENV) scripts/test.sh

setup:
	@scripts/setup.sh

setup-browser:
	@scripts/setup.sh --browser

build: edge widget console assets

# The Worker (also run by wrangler's [build] command on `wrangler dev` start).
edge: edge/build/worker/shim.mjs
edge/build/worker/shim.mjs: $(EDGE_SRC)
	$(ENV) cd edge && worker-build --profile edge

widget: dist/public/widget/beckon_widget_bg.wasm
dist/public/widget/beckon_widget_bg.wasm: $(WIDGET_SRC)
	scripts/build-wasm-app.sh beckon-widget beckon_widget dist/public/widget "" widget/split-keep.txt

# The inbox, and its rarely used pages as a second app it loads on first use.
console: dist/public/console/beckon_console_bg.wasm dist/public/console/pages/beckon_console_pages_bg.wasm
dist/public/console/beckon_console_bg.wasm: $(CONSOLE_SRC)
	scripts/build-wasm-app.sh beckon-console beckon_console dist/public/console beckon-shared/quiet console/split-keep.txt
dist/public/console/pages/beckon_console_pages_bg.wasm: $(PAGES_SRC)
	scripts/build-wasm-app.sh beckon-console-pages beckon_console_pages dist/public/console/pages

assets: build/.assets-stamp
build/.assets-stamp: $(STATIC_SRC) scripts/assets.sh package-lock.json
	scripts/assets.sh
	@mkdir -p build && touch $@

dev-vars:
	@scripts/dev-vars.sh

migrate:
	$(ENV) wrangler d1 migrations apply DB --local

seed:
	$(ENV) wrangler d1 execute DB --local --file migrations/seed/demo.sql >/dev/null

lint:
	scripts/lint.sh

# Sizes of the loader, the widget app and the Worker bundle (the latter from `wrangler deploy --dry-run`).
size: build
	$(ENV) scripts/size.sh

# Records what a usual session of the chat app and the inbox runs (their keep lists, by which
# the build splits each app in two), from profiling builds driven by a real Chromium; then
# builds the apps again. Run it after changing what a usual session does.
split-profile: setup-browser edge assets
	BECKON_SPLIT=instrument scripts/build-wasm-app.sh beckon-widget beckon_widget dist/public/widget "" widget/split-keep.txt
	BECKON_SPLIT=instrument scripts/build-wasm-app.sh beckon-console beckon_console dist/public/console beckon-shared/quiet console/split-keep.txt
	$(ENV) CHROMEDRIVER="$$(command -v chromedriver)" cargo run --quiet -p beckon-tests --bin split_profile
	$(MAKE) widget console

bench: build
	$(ENV) cargo run --quiet --release -p beckon-tests --bin bench

deploy-check: build
	$(ENV) wrangler deploy --dry-run --outdir build/deploy-dry-run

clean:
	rm -rf dist build edge/build target/wasm32-unknown-unknown
