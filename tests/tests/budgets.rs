//! Size budgets, asserted on the built files (deterministic, unlike timings).

fn gzip_len(path: impl AsRef<std::path::Path>) -> usize {
    let path = path.as_ref();
    let bytes = std::fs::read(beckon_tests::repo_root().join(path))
        .unwrap_or_else(|e| panic!("{}: {e} (run make build)", path.display()));
    beckon_tests::gzip_len(&bytes)
}

/// Prints `what`'s size beside its budget (`make size` shows these lines) and asserts it.
fn within(what: &str, n: usize, budget: usize) {
    println!("{what}: {n} B gzip, budget {budget} B");
    assert!(n <= budget, "{what} is {n} B gzip, budget {budget} B");
}

#[test]
fn loader_is_at_most_3_kb_gzipped() {
    let n = gzip_len("dist/public/beckon.js");
    // Issue 9's budget. The loader grew past it with the page's API (`setLocale`, `shutdown`,
    // `version`, five events), the launcher's words, icon and label in the visitor's language,
    // the phone panel's fit to the visual viewport and the inbox's preview token (to 3,666 B).
    // Back within it: what only a site's rules need (scroll, time and exit-intent watching, the
    // wake-up test, the visit counting of `remember_visitors`) moved to `wakeup.js`, which the
    // boot script of a site with rules carries, and terser packs it (3,053 B).
    within("loader", n, 3072);
}

#[test]
fn the_wakeup_script_is_at_most_1_kb_gzipped() {
    // Loaded only on sites with a rule enabled.
    let n = gzip_len("dist/public/wakeup.js");
    within("wake-up script", n, 1024);
}

#[test]
fn the_attention_script_is_at_most_1_kb_gzipped() {
    // Loaded only on sites that turned on a title count, a chime or notifications.
    let n = gzip_len("dist/public/attention.js");
    within("attention script", n, 1024);
}

#[test]
fn widget_app_stays_within_its_budget() {
    let code = gzip_len("dist/public/widget/beckon_widget_bg.wasm")
        + gzip_len("dist/public/widget/beckon_widget.js");
    let shell = gzip_len("dist/public/widget/boot.js") + gzip_len("dist/public/widget/app.css");
    let n = code + shell;
    println!("widget app, first part: wasm + glue {code} B, boot.js + CSS {shell} B");
    // What loads before the chat is usable: the functions a usual session runs
    // (`widget/split-keep.txt`, written by `make split-profile`) and the shell's script and
    // styles; the rest is the second part (next test). Issue 9's goal: 120 KB. (Wasm + glue
    // before: 195.75 KiB before the split: 200,293 → 148,777 B; 147 KiB until the glue was
    // minified: → 147,038 B; 145 KiB until wasm-bindgen's hashed import and export names were
    // made short: 147,008 → 140,311 B; 137 KiB until JSON was read by `FromJson` instead of
    // serde's visitors: → 126,992 B; 128,000 B until the proactive rules and the presence
    // socket waited for the second part: 127,113 → 119,554 B, and boot.js and the CSS were
    // minified: 4,294 → 3,094 B. Its history before: 220 KiB until the away form added
    // 1.7 KB; 221 KiB until agents' initials added 362 B; 221.5 KiB until unit enums were read
    // by name and the app's reads stopped carrying serde's messages; 217 KiB until the
    // notifications offer added ~700 B; 217.5 KiB until the app read JSON with the browser's
    // parser: 222,620 → 200,293 B.)
    within("widget app, first part (120 KB)", n, 122_880);
}

#[test]
fn widget_apps_second_part_stays_within_its_budget() {
    let n = gzip_len(beckon_tests::second_part(
        "dist/public/widget",
        "beckon_widget",
    ));
    // Fetched once the app has started (or at once, the first time one of its functions
    // runs). Where it stands now.
    // (68 KiB until the proactive rules and the presence socket moved here: 67,924 → 76,982 B.)
    within("widget app, second part", n, 78_848);
}

#[test]
fn inbox_app_stays_within_its_budget() {
    let n = gzip_len("dist/public/console/beckon_console_bg.wasm")
        + gzip_len("dist/public/console/beckon_console.js");
    // What an agent loads to work conversations: the functions a usual session runs
    // (`console/split-keep.txt`); the rest is its second part, and the rarely used pages a
    // third app (after the next test). Issue 9's goal, 200 KB, is met. (It grew to 375.5 KiB
    // with the pages for a team before those pages became an app loaded on first use:
    // 384,563 → 265,732 B; 263.1 KiB until it read JSON with the browser's parser and wrote
    // it through one writer: 269,419 → 239,456 B; 234 KiB until the split: → 177,214 B; 176 KiB
    // until the glue was minified: → 175,454 B; 171 KiB until wasm-bindgen's hashed names were
    // made short: 175,406 → 168,265 B; 166 KiB until JSON was read by `FromJson`: → 163,859 B.)
    within("inbox app, first part", n, 165_888);
}

#[test]
fn inbox_apps_second_part_stays_within_its_budget() {
    let n = gzip_len(beckon_tests::second_part(
        "dist/public/console",
        "beckon_console",
    ));
    within("inbox app, second part", n, 81_920);
}

#[test]
fn inbox_pages_stay_within_their_budget() {
    let n = gzip_len("dist/public/console/pages/beckon_console_pages_bg.wasm")
        + gzip_len("dist/public/console/pages/beckon_console_pages.js");
    // Loaded the first time one of them is opened; where it stands now. (241 KiB until the
    // shared components spoke the widget's languages: the English of its texts, every
    // catalog's fallback, came along, +1,003 B; 242 KiB until the Widget page — the look's
    // form with the live preview — came, +10.9 KB; 252 KiB until People took the signed-in
    // person's photo — choose, upload, remove —, +4.9 KB: 257,243 → 262,136 B; 256 KiB until
    // they read JSON with the browser's parser: 262,136 → 256,529 B; 251 KiB until their glue was
    // minified: → 254,674 B; 249 KiB until wasm-bindgen's hashed names were made short:
    // → 249,104 B; 245 KiB until JSON was read by `FromJson`: → 239,241 B.)
    within("inbox pages (on first use)", n, 240_640);
}
