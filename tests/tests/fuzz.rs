//! The API contract under a property-based fuzzer: schemathesis (from PyPI, pinned in
//! `scripts/setup.sh`, installed by `make test` into `target/fuzz-venv`) generates
//! requests from `edge/openapi.json` — valid ones and invalid ones — and checks that the edge
//! never answers with a server error, never with a status the document does not list, never
//! refuses a request the document says is valid, and that 405 answers carry `Allow`. Run with
//! deterministic generation (the same cases every run) and a bounded number of examples per
//! operation, once with an admin key and
//! once with a visitor token, against an edge of its own.
//!
//! The two runs go side by side as two processes of one worker each, never as one process
//! of two worker threads: CPython 3.11.7 (the machine's only Python) keeps the AST
//! constructor's recursion depth per interpreter, so two threads parsing source at once
//! (hypothesis does, to describe a filter's lambda) now and then fail with "AST constructor
//! recursion depth mismatch" — a tool crash that failed CI once, not a finding.

use beckon_tests::api::Api;
use beckon_tests::edge::Edge;
use beckon_tests::{repo_root, ADMIN_KEY};
use std::process::{Command, Stdio};

/// Examples per operation and phase.
const EXAMPLES: &str = "12";

/// Starts one schemathesis run with `bearer` as its credentials.
fn schemathesis(edge: &Edge, bearer: &str) -> std::process::Child {
    let root = repo_root();
    let bin = root.join("target/fuzz-venv/bin/schemathesis");
    assert!(
        bin.exists(),
        "schemathesis is missing: run scripts/setup.sh --browser (make test does)"
    );
    Command::new(bin)
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
        .args(["--workers", "1", "--request-timeout", "10"])
        // WebSocket upgrades are not HTTP exchanges a fuzzer can judge; the authorization
        // table and the API tests cover them.
        .args(["--exclude-path-regex", "/(ws|live|presence)$"])
        .args(["--no-color", "--output-truncate", "true"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run schemathesis")
}

/// Waits for a run; whether it passed, and all it printed.
fn finish(run: std::process::Child, what: &str) -> (bool, String) {
    let out = run.wait_with_output().expect("wait for schemathesis");
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
    let runs = [
        (schemathesis(&edge, ADMIN_KEY), "admin key"),
        (schemathesis(&edge, &visitor.visitor_token), "visitor token"),
    ];
    // Both outputs are read at once, so neither run stalls on a full pipe.
    let waits: Vec<_> = runs
        .map(|(run, what)| std::thread::spawn(move || (finish(run, what), what)))
        .into_iter()
        .collect();
    let mut failed = Vec::new();
    for wait in waits {
        let ((ok, text), what) = wait.join().expect("schemathesis waiter");
        if !ok {
            failed.push(format!("--- {what} ---\n{text}"));
        }
    }
    edge.stop();
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}
