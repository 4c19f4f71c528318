//! Size budgets, asserted on the built files (deterministic, unlike timings).

use std::io::Write;

fn gzip_len(path: &str) -> usize {
    let bytes = std::fs::read(beckon_tests::repo_root().join(path))
        .unwrap_or_else(|e| panic!("{path}: {e} (run make build)"));
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(&bytes).unwrap();
    enc.finish().unwrap().len()
}

#[test]
fn loader_is_at_most_3_kb_gzipped() {
    let n = gzip_len("dist/public/beckon.js");
    println!("loader: {n} B gzip");
    assert!(n <= 3 * 1024, "loader is {n} B gzip, budget 3072 B");
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
    // initials as avatars on their messages added 362 B.)
    assert!(
        n <= 221 * 1024 + 512,
        "widget wasm + glue is {n} B gzip, budget 226816 B"
    );
}

#[test]
fn inbox_app_stays_within_its_budget() {
    let n = gzip_len("dist/public/console/beckon_console_bg.wasm")
        + gzip_len("dist/public/console/beckon_console.js");
    println!("inbox app: {n} B gzip");
    // The goal is 200 KB (issue 9); this is where it stands now (268 KB before the
    // Broadcasts page and the contacts import added 20 KB, 288 KB before Audiences, the
    // contacts search and the composer's audience, schedule and buttons added 18 KB; to win
    // back by loading the rarely used pages on first use). Reading channel settings as JSON
    // instead of typed took 10 KB off (317.8 KB → 307.8 KB), kept here.
    // (302 KiB until email broadcasts, writing first by email and the away address added
    // 0.3 KB; 303 KiB until signing in as a person, accepting an invitation and the People
    // page added 11.4 KB — 20 KB more while sessions and people were read typed; 314 KiB
    // until working a conversation — assignee, close / snooze / reopen, the list's filters,
    // internal notes, saved replies — added 19.4 KB, most of it the conversation's work bar;
    // 333 KiB until a contact's data export/deletion with its log, colleagues viewing and
    // typing, and searching messages added 11.3 KB; 343 KiB until the dashboard — charts,
    // the agents' table, ratings, CSV downloads — added 10.3 KB, and tags with the list's
    // origin / channel / tag filters 4.5 KB; 358 KiB until the visitor's sidebar, the
    // keyboard shortcuts and their list, and the messages' avatars added 18 KB.)
    assert!(
        n <= 376 * 1024,
        "inbox wasm + glue is {n} B gzip, budget 385024 B"
    );
}
