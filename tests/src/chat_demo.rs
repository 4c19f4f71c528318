//! Cloudflare's own JavaScript chat demo (`cloudflare/workers-chat-demo`), run beside Beckon
//! under the same local runtime for `make bench`: a Durable Object per room, WebSocket
//! hibernation, messages in DO storage. Its source is never part of this repository: the bench
//! is given a folder holding it (`CHAT_DEMO=<dir>`), copies `src/` to a scratch directory,
//! switches its rate limiter off (the comparison is of the message path) and serves it with
//! `wrangler dev` on a free loopback port.

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

pub struct ChatDemo {
    pub url: String,
    child: Child,
    port: u16,
}

const WRANGLER_TOML: &str = r#"name = "edge-chat-demo"
compatibility_date = "2024-01-01"
main = "src/chat.mjs"

[durable_objects]
bindings = [
  { name = "rooms", class_name = "ChatRoom" },
  { name = "limiters", class_name = "RateLimiter" },
]

[[rules]]
type = "Data"
globs = ["**/*.html"]
fallthrough = false

[[migrations]]
tag = "v1"
new_sqlite_classes = ["ChatRoom", "RateLimiter"]
"#;

impl ChatDemo {
    /// Serves the demo found in `source` (a checkout of `cloudflare/workers-chat-demo`).
    pub fn start(source: &Path) -> Result<ChatDemo, String> {
        let chat = std::fs::read_to_string(source.join("src/chat.mjs"))
            .map_err(|e| format!("{}: {e}", source.join("src/chat.mjs").display()))?;
        let html = std::fs::read_to_string(source.join("src/chat.html")).unwrap_or_default();
        // The limiter admits one message per second per IP (all of ours share one): off.
        let patched = chat.replacen("checkLimit() {", "checkLimit() { return true;", 1);
        if patched == chat {
            return Err("the demo's RateLimiterClient.checkLimit was not found".into());
        }
        let root = crate::repo_root();
        let dir: PathBuf = root
            .join("target/bench/chat-demo")
            .join(std::process::id().to_string());
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("src")).map_err(|e| e.to_string())?;
        std::fs::write(dir.join("src/chat.mjs"), patched).map_err(|e| e.to_string())?;
        std::fs::write(dir.join("src/chat.html"), html).map_err(|e| e.to_string())?;
        std::fs::write(dir.join("wrangler.toml"), WRANGLER_TOML).map_err(|e| e.to_string())?;
        let port = crate::free_port();
        let log = std::fs::File::create(dir.join("wrangler.log")).map_err(|e| e.to_string())?;
        let mut c = crate::edge::wrangler(&root);
        c.current_dir(&dir)
            .args(["dev", "--config", "wrangler.toml", "--ip", "127.0.0.1"])
            .args(["--port", &port.to_string()])
            .args(["--inspector-port", &crate::free_port().to_string()])
            .args(["--persist-to", "state", "--log-level", "warn"])
            .arg("--show-interactive-dev-session=false")
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log);
        std::os::unix::process::CommandExt::process_group(&mut c, 0);
        let child = c.spawn().map_err(|e| e.to_string())?;
        crate::edge::watchdog(child.id());
        let demo = ChatDemo {
            url: format!("http://127.0.0.1:{port}"),
            child,
            port,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(("127.0.0.1", demo.port)).is_ok() {
                return Ok(demo);
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        Err(format!(
            "the demo did not start; see {}",
            dir.join("wrangler.log").display()
        ))
    }
}

impl ChatDemo {
    /// The process group of the server (wrangler and workerd).
    pub fn pgid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for ChatDemo {
    fn drop(&mut self) {
        let pgid = self.child.id() as i32;
        let _ = std::process::Command::new("kill")
            .args(["-KILL", "--", &format!("-{pgid}")])
            .status();
        let _ = self.child.wait();
    }
}
