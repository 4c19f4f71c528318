//! The API contract under a property-based fuzzer: schemathesis (from PyPI, pinned in
//! `scripts/setup.sh`, installed by `make test` into `target/fuzz-venv`) generates
//! requests from `edge/openapi.json` — valid ones and invalid ones — and checks that the edge
//! never answers with a server error, never with a status the document does not list, never
//! refuses a request the document says is valid, and that 405 answers carry `Allow`. Run with
//! deterministic generation (the same cases every run) and a bounded number of examples per
//! operation, once with an admin key and
//! once with a visitor token, against an edge of its own.

use beckon_tests::api::Api;
use beckon_tests::edge::Edge;
use beckon_tests::{repo_root, ADMIN_KEY};
use std::process::Command;

/// Examples per operation and phase.
const EXAMPLES: &str = "12";

fn schemathesis(edge: &Edge, bearer: &str, what: &str) -> (bool, String) {
    let root = repo_root();
    let bin = root.join("target/fuzz-venv/bin/schemathesis");
    assert!(
        bin.exists(),
        "schemathesis is missing: run scripts/setup.sh --browser (make test does)"
    );
    let out = Command::new(bin)
        .current_dir(root.join("target"))
        .env("SCHEMATHESIS_HOOKS", "")
        .arg("--config-file")
        .arg(root.join("tests/schemathesis.toml"))
        .args(["run", "../edge/openapi.json", "--url", &edge.url])
        .args(["-H", &format!("Authorization: Bearer {bearer}")])
        .args([
            "--checks",
            "not_a_server_error,status_code_conformance,positive_data_acceptance,unsupported_method,allow_header_conformance",
        ])
        .args(["--phases", "examples,coverage,fuzzing"])
        .args(["--max-examples", EXAMPLES])
        // Deterministic generation: the same cases on every run (no seed, no database).
        .args(["--generation-deterministic", "--no-shrink"])
        .args(["--workers", "2", "--request-timeout", "10"])
        // WebSocket upgrades are not HTTP exchanges a fuzzer can judge; the authorization
        // table and the API tests cover them.
        .args(["--exclude-path-regex", "/(ws|live|presence)$"])
        .args(["--no-color", "--output-truncate", "true"])
        .output()
        .expect("run schemathesis");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // "Test cases: N generated, …" and the closing "== … in 12.3s ==" line.
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let cases = lines
        .iter()
        .position(|l| *l == "Test cases:")
        .and_then(|i| lines.get(i + 1))
        .copied()
        .unwrap_or("");
    let last = lines
        .last()
        .map(|l| l.trim_matches(|c| c == '=' || c == ' '))
        .unwrap_or("(no output)");
    let summary = format!("{cases}; {last}");
    println!("schemathesis ({what}): {summary}");
    (out.status.success(), text)
}

#[tokio::test]
async fn the_api_fuzzer_finds_no_failure() {
    let edge = Edge::start(None);
    let api = Api::new(&edge.url);
    api.create_site("fuzz").await;
    let visitor = api.start_conversation("fuzz", None).await;
    let mut failed = Vec::new();
    for (bearer, what) in [
        (ADMIN_KEY, "admin key"),
        (visitor.visitor_token.as_str(), "visitor token"),
    ] {
        let (ok, text) = schemathesis(&edge, bearer, what);
        if !ok {
            failed.push(format!("--- {what} ---\n{text}"));
        }
    }
    edge.stop();
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}
