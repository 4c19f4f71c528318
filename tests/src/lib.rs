//! Test support for Beckon: start the real edge under `wrangler dev` with throwaway state,
//! talk to it over HTTP and WebSocket like a widget or an agent would, drive a real headless
//! Chromium through ChromeDriver, and serve third-party host pages on other ports. Every
//! server binds 127.0.0.1 only.

pub mod api;
pub mod browser;
pub mod edge;
pub mod host_page;

/// The admin key and token secret the test edge runs with.
pub const ADMIN_KEY: &str = "test-admin-key-0123456789abcdef";
pub const TOKEN_SECRET: &str = "test-token-secret-0123456789abcdef";

/// The repository root (tests run from `tests/`).
pub fn repo_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("repo root")
        .to_path_buf()
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}
