//! Size budgets, asserted on the built files (deterministic, unlike timings).

fn gzip_len(path: &str) -> usize {
    let bytes = std::fs::read(beckon_tests::repo_root().join(path))
        .unwrap_or_else(|e| panic!("{path}: {e} (run make build)"));
    beckon_tests::gzip_len(&bytes)
}

#[test]
fn loader_is_at_most_3_kb_gzipped() {
    let n = gzip_len("dist/public/beckon.js");
    println!("loader: {n} B gzip");
    // Issue 9's budget. The loader grew past it with the page's API (`setLocale`, `shutdown`,
    // `version`, five events), the launcher's words, icon and label in the visitor's language,
    // the phone panel's fit to the visual viewport and the inbox's preview token (to 3,666 B).
    // Back within it: what only a site's rules need (scroll, time and exit-intent watching, the
    // wake-up test, the visit counting of `remember_visitors`) moved to `wakeup.js`, which the
    // boot script of a site with rules carries, and terser packs it (3,053 B).
    assert!(n <= 3072, "loader is {n} B gzip, budget 3072 B");
}

#[test]
fn the_wakeup_script_is_at_most_1_kb_gzipped() {
    // Loaded only on sites with a rule enabled.
    let n = gzip_len("dist/public/wakeup.js");
    println!("wake-up script: {n} B gzip");
    assert!(n <= 1024, "wakeup.js is {n} B gzip, budget 1024 B");
}

#[test]
fn the_attention_script_is_at_most_1_kb_gzipped() {
    // Loaded only on sites that turned on a title count, a chime or notifications.
    let n = gzip_len("dist/public/attention.js");
    println!("attention script: {n} B gzip");
    assert!(n <= 1024, "attention.js is {n} B gzip, budget 1024 B");
}

#[test]
fn widget_app_stays_within_its_budget() {
    let n = gzip_len("dist/public/widget/beckon_widget_bg.wasm")
        + gzip_len("dist/public/widget/beckon_widget.js");
    println!("widget app: {n} B gzip");
    // The app loads only after intent or a rule's threshold. The goal is 120 KB (issue 9);
    // this is where it stands now, so nothing grows back while it is worked down. (220 KiB
    // until the away form — an address for answers while nobody is online — added 1.7 KB;
    // the first part to load on first use when the app is split; 221 KiB until the agents'
    // initials as avatars on their messages added 362 B; 221.5 KiB until unit enums were read
    // by name (-1.8 KB) and the app's reads stopped carrying serde's messages (-7.3 KB), which
    // paid for the opening hours and the pre-chat form: 226,457 → 221,665 B; 217 KiB until the
    // offer of browser notifications of answers added ~700 B. Agents' photos beside their
    // names, pre-chat answers kept when the page's identity is refused or does not get
    // through, and file-name refusals in the visitor's language were paid for by dropping the
    // in-app switch of language that `setLocale` no longer needs: 222,687 → 222,620 B; 217.5
    // KiB until the app read JSON with the browser's parser, made its read errors without
    // serde's messages (every type's "expecting" text and the float formatting they pulled in)
    // and showed a file's size without formatting a float: 222,620 → 200,293 B.)
    assert!(
        n <= 200_448,
        "widget wasm + glue is {n} B gzip, budget 200448 B"
    );
}

#[test]
fn inbox_app_stays_within_its_budget() {
    let n = gzip_len("dist/public/console/beckon_console_bg.wasm")
        + gzip_len("dist/public/console/beckon_console.js");
    println!("inbox app: {n} B gzip");
    // What an agent loads to work conversations. The goal is 200 KB (issue 9). It grew to
    // 375.5 KiB with the pages for a team (people, work, search, dashboard, the visitor's
    // sidebar, shortcuts) before the rarely used pages — contacts, audiences, broadcasts,
    // rules, dashboard, channels, people — became a second app loaded on first use (the next
    // test): 384,563 B → 265,732 B; loading them safely (a page left before it arrived is
    // never mounted, "try again" after a failed load) and asking a search again while the
    // index catches up added 3.3 KB. Issue 15 asks the inbox to keep the budget it had when
    // it was filed (303 KiB); this is where it stands now. (263 KiB until messages reached
    // the other sockets before their commit, and a welcome drops one that was lost with it:
    // 269,271 → 269,419 B; 263.1 KiB until it read JSON with the browser's parser, its read
    // errors went without serde's messages as the chat app's do, it wrote JSON through one
    // writer and read only each site's key and name: 269,419 → 239,456 B.)
    assert!(
        n <= 239_616,
        "inbox wasm + glue is {n} B gzip, budget 239616 B"
    );
}

#[test]
fn inbox_pages_stay_within_their_budget() {
    let n = gzip_len("dist/public/console/pages/beckon_console_pages_bg.wasm")
        + gzip_len("dist/public/console/pages/beckon_console_pages.js");
    println!("inbox pages (on first use): {n} B gzip");
    // Loaded the first time one of them is opened; where it stands now. (241 KiB until the
    // shared components spoke the widget's languages: the English of its texts, every
    // catalog's fallback, came along, +1,003 B; 242 KiB until the Widget page — the look's
    // form with the live preview — came, +10.9 KB; 252 KiB until People took the signed-in
    // person's photo — choose, upload, remove —, +4.9 KB: 257,243 → 262,136 B; 256 KiB until
    // they read JSON with the browser's parser: 262,136 → 256,529 B.)
    assert!(
        n <= 257_024,
        "inbox pages wasm + glue is {n} B gzip, budget 257024 B"
    );
}
