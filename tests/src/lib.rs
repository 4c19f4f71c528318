//! Test support for Beckon: start the real edge under `wrangler dev` with throwaway state,
//! talk to it over HTTP and WebSocket like a widget or an agent would, drive a real headless
//! Chromium through ChromeDriver, and serve third-party host pages on other ports. Every
//! server binds 127.0.0.1 only.

pub mod api;
pub mod bench_broadcasts;
pub mod browser;
pub mod chat_demo;
pub mod edge;
pub mod fakes;
pub mod files;
pub mod host_page;
pub mod lighthouse;
pub mod load;
pub mod people;
pub mod report;
pub mod tap;

/// The admin key and token secret the test edge runs with.
pub const ADMIN_KEY: &str = "test-admin-key-0123456789abcdef-0123";
pub const TOKEN_SECRET: &str = "test-token-secret-0123456789abcdef";
pub const SECRETS_KEY: &str = "test-secrets-key-0123456789abcdef";

/// The repository root (tests run from `tests/`).
pub fn repo_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("repo root")
        .to_path_buf()
}

/// A free loopback port that no other call of this run returns, in this process or another.
/// Test binaries run two at a time, and a port one let go of (an edge stopped) could be handed
/// to both: one `wrangler dev` then fails to bind it, and its readiness check finds the other
/// binary's edge answering there (seen in `make test`: the limits tests talked to a broadcasts
/// test's edge). Each port is reserved by a file under `target/test-state/ports` (cleared by
/// `make test`).
pub fn free_port() -> u16 {
    let dir = repo_root().join("target/test-state/ports");
    let _ = std::fs::create_dir_all(&dir);
    loop {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("free port");
        let reserved = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(dir.join(port.to_string()));
        match reserved {
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            // Nowhere to reserve it: as free as the system says.
            _ => return port,
        }
    }
}

/// A number no other call in this process returns (a free port can be handed out twice).
pub fn serial() -> u32 {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// A site key (or other name) unique to this test run.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", free_port())
}

/// Polls `f` until it returns `Some`, for up to `timeout`; panics naming `what` otherwise.
pub async fn eventually<T, F, Fut>(timeout: std::time::Duration, what: &str, f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    match within(timeout, f).await {
        Some(v) => v,
        None => panic!("timed out waiting for {what}"),
    }
}

/// Polls `f` until it returns `Some`, for up to `timeout`; `None` if it never did (for a
/// caller that says what it saw instead).
pub async fn within<T, F, Fut>(timeout: std::time::Duration, mut f: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = std::time::Instant::now() + timeout;
    loop {
        if let Some(v) = f().await {
            return Some(v);
        }
        if std::time::Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// CPU time (user + system, ms) used so far by every process of process group `pgid` — a
/// `wrangler dev` and its workerd — read from `/proc`.
pub fn group_cpu_ms(pgid: u32) -> f64 {
    let ticks = 100.0; // USER_HZ on Linux
    let mut total = 0u64;
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // Fields after the command name (which may hold spaces) in parentheses.
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
            continue;
        };
        let f: Vec<&str> = rest.split_whitespace().collect();
        // f[0] = state, f[2] = pgrp, f[11] = utime, f[12] = stime
        if f.get(2).and_then(|p| p.parse::<u32>().ok()) == Some(pgid) {
            total += f.get(11).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
            total += f.get(12).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        }
    }
    total as f64 * 1000.0 / ticks
}

/// The second part of an app split in two, in the built app's folder `dir` (relative to the
/// repo root, e.g. `dist/public/widget`): `{lib}_more.{hash}.wasm`, the only one there.
pub fn second_part(dir: &str, lib: &str) -> std::path::PathBuf {
    let full = repo_root().join(dir);
    let prefix = format!("{lib}_more.");
    let found: Vec<String> = std::fs::read_dir(&full)
        .unwrap_or_else(|e| panic!("{dir}: {e} (run make build)"))
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with(&prefix) && n.ends_with(".wasm"))
        .collect();
    assert_eq!(found.len(), 1, "{dir}: second parts {found:?}");
    full.join(&found[0])
}

/// The size of `bytes` gzipped at the best level (how the size budgets and reports count).
pub fn gzip_len(bytes: &[u8]) -> usize {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes).expect("gzip in memory");
    enc.finish().expect("gzip in memory").len()
}
