//! The edge under test: `wrangler dev` (workerd with local D1, Durable Objects, R2, Queues)
//! on a free loopback port, with a throwaway state directory that is migrated and seeded
//! first. A watchdog kills the server when the test process exits, however it exits.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How long the edge under test gives a channel's API to answer (its `RELAY_TIMEOUT_MS`).
pub const RELAY_TIMEOUT: Duration = Duration::from_millis(1_500);

/// Not a Worker variable: the log level `wrangler dev` runs with ([`Edge::start_logged`]).
const LOG_LEVEL: &str = "(log level)";

pub struct Edge {
    pub url: String,
    pub port: u16,
    pub state_dir: PathBuf,
    child: Child,
    log: PathBuf,
}

pub(crate) fn wrangler(root: &Path) -> Command {
    let mut c = Command::new(root.join("node_modules/.bin/wrangler"));
    let path = format!(
        "{}:{}",
        root.join("node_modules/.bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    c.current_dir(root)
        .env("PATH", path)
        .env("CLOUDFLARE_CF_FETCH_ENABLED", "false")
        .env("WRANGLER_SEND_METRICS", "false")
        .env("WRANGLER_SEND_ERROR_REPORTS", "false")
        // wrangler dev's own trace collector (its local explorer's observability page) takes a
        // trace event of every storage call and subrequest, about 15 % of workerd's CPU under
        // load; production has nothing like it, and neither Beckon nor the chat demo needs it.
        .env("X_LOCAL_OBSERVABILITY", "false")
        .env_remove("CLOUDFLARE_API_TOKEN")
        .env("XDG_CONFIG_HOME", root.join(".config"))
        .env("XDG_CACHE_HOME", root.join(".cache"));
    c
}

fn run(mut c: Command, what: &str) {
    let out = c.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Removes state directories left by test processes that are gone.
fn sweep_stale_state(parent: &Path) {
    for entry in std::fs::read_dir(parent).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let pid = name.split('-').nth(1).and_then(|p| p.parse::<u32>().ok());
        if let Some(pid) = pid {
            if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
}

/// A fresh, migrated and seeded state directory.
pub fn fresh_state_dir(name: &str) -> PathBuf {
    let root = crate::repo_root();
    sweep_stale_state(&root.join("target/test-state"));
    let dir = root.join("target/test-state").join(format!(
        "{name}-{}-{}",
        std::process::id(),
        crate::free_port()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut m = wrangler(&root);
    m.args(["d1", "migrations", "apply", "DB", "--local", "--persist-to"])
        .arg(&dir);
    run(m, "d1 migrations apply");
    let mut s = wrangler(&root);
    s.args([
        "d1",
        "execute",
        "DB",
        "--local",
        "--file",
        "migrations/seed/demo.sql",
        "--persist-to",
    ])
    .arg(&dir);
    run(s, "seeding the demo site");
    dir
}

impl Edge {
    /// Runs `sql` on the edge's D1 database (as `wrangler d1 execute` does) and returns the
    /// rows: for checking what no API shows, such as that deleted rows are gone.
    pub fn d1(&self, sql: &str) -> Vec<serde_json::Value> {
        let mut c = wrangler(&crate::repo_root());
        c.args([
            "d1",
            "execute",
            "DB",
            "--local",
            "--json",
            "--command",
            sql,
            "--persist-to",
        ])
        .arg(&self.state_dir);
        let out = c.output().expect("wrangler d1 execute");
        assert!(
            out.status.success(),
            "d1 execute failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("d1 JSON");
        v[0]["results"].as_array().cloned().unwrap_or_default()
    }

    /// Starts `wrangler dev` on `state_dir` (fresh if `None`) and waits until it answers.
    /// Rate limits are off (`RATE_LIMITS=off`): the tests drive everything from one address.
    pub fn start(state_dir: Option<PathBuf>) -> Edge {
        Self::start_with(state_dir, false, &[])
    }

    /// A fresh edge with its production rate limits, for the tests of those limits.
    pub fn start_limited() -> Edge {
        Self::start_with(None, true, &[])
    }

    /// An edge with these variables set too (e.g. `BROADCAST_RATES`).
    pub fn start_with_vars(state_dir: Option<PathBuf>, vars: &[(&str, &str)]) -> Edge {
        Self::start_with(state_dir, false, vars)
    }

    /// Like [`Edge::start_with_vars`], with the Worker's own console output (its errors) in
    /// the log, for a test that shows it when it fails.
    pub fn start_logged(state_dir: Option<PathBuf>, vars: &[(&str, &str)]) -> Edge {
        Self::start_with(state_dir, false, &[vars, &[(LOG_LEVEL, "log")]].concat())
    }

    fn start_with(state_dir: Option<PathBuf>, limited: bool, vars: &[(&str, &str)]) -> Edge {
        let root = crate::repo_root();
        assert!(
            root.join("edge/build/index.js").exists()
                && root.join("dist/public/beckon.js").exists(),
            "build first: `make build` (make test does it)"
        );
        let state_dir = state_dir.unwrap_or_else(|| fresh_state_dir("edge"));
        // A start can lose a race for its port with another process: try again on a new one.
        let mut failures = Vec::new();
        for _ in 0..3 {
            let mut edge = Self::spawn(&root, &state_dir, limited, vars);
            match edge.wait_ready() {
                Ok(()) => return edge,
                Err(e) => failures.push(e),
            }
        }
        panic!("wrangler dev did not start:\n{}", failures.join("\n---\n"));
    }

    fn spawn(root: &Path, state_dir: &Path, limited: bool, vars: &[(&str, &str)]) -> Edge {
        let state_dir = state_dir.to_path_buf();
        let log_level = vars
            .iter()
            .find(|(k, _)| *k == LOG_LEVEL)
            .map(|(_, v)| v.to_string())
            .or_else(|| std::env::var("BECKON_WRANGLER_LOG").ok())
            .unwrap_or_else(|| "warn".into());
        let port = crate::free_port();
        let log = state_dir.join(format!("wrangler-{port}.log"));
        let out = std::fs::File::create(&log).unwrap();
        let mut c = wrangler(root);
        c.args(["dev", "--ip", "127.0.0.1", "--port", &port.to_string()])
            // BECKON_INSPECTOR_PORT fixes the inspector's port (scripts/profile-edge.py).
            .args([
                "--inspector-port",
                &std::env::var("BECKON_INSPECTOR_PORT")
                    .unwrap_or_else(|_| crate::free_port().to_string()),
            ])
            .arg("--persist-to")
            .arg(&state_dir)
            .args(["--var", &format!("ADMIN_API_KEY:{}", crate::ADMIN_KEY)])
            .args(["--var", &format!("TOKEN_SECRET:{}", crate::TOKEN_SECRET)])
            .args(["--var", &format!("SECRETS_KEY:{}", crate::SECRETS_KEY)])
            .args([
                "--var",
                &format!("RELAY_TIMEOUT_MS:{}", RELAY_TIMEOUT.as_millis()),
            ])
            // The channels' fakes run on this machine.
            .args(["--var", "ALLOW_LOOPBACK_API_BASES:on"])
            .args(["--var", &format!("PUBLIC_ORIGIN:http://127.0.0.1:{port}")])
            .args([
                "--var",
                if limited {
                    "RATE_LIMITS:on"
                } else {
                    "RATE_LIMITS:off"
                },
            ])
            .args(
                vars.iter()
                    .filter(|(k, _)| *k != LOG_LEVEL)
                    .flat_map(|(k, v)| ["--var".to_owned(), format!("{k}:{v}")]),
            )
            // GET /__scheduled runs the Worker's cron trigger (never served in production).
            .arg("--test-scheduled")
            .arg("--show-interactive-dev-session=false")
            // BECKON_WRANGLER_LOG=log shows the Worker's console output in the log file.
            .args(["--log-level", &log_level])
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out);
        std::os::unix::process::CommandExt::process_group(&mut c, 0);
        let child = c.spawn().expect("spawn wrangler dev");
        watchdog(child.id());
        Edge {
            url: format!("http://127.0.0.1:{port}"),
            port,
            state_dir,
            child,
            log,
        }
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "wrangler dev exited ({status}); log:\n{}",
                    self.log_tail()
                ));
            }
            if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", self.port)) {
                use std::io::{Read, Write};
                let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
                let _ = s.write_all(
                    b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
                );
                let mut buf = String::new();
                let _ = s.read_to_string(&mut buf);
                if buf.starts_with("HTTP/1.1 200") {
                    return Ok(());
                }
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        Err(format!(
            "wrangler dev on port {} did not become ready (exited: {:?}); log:\n{}",
            self.port,
            self.child.try_wait(),
            self.log_tail()
        ))
    }

    /// Loses the alarms of every Durable Object of class `class` (e.g. `Conversation`), as
    /// a stopped runtime can: their storage still says when the alarm is due (`getAlarm`),
    /// but it never fires. Only while the server is stopped; how many were lost.
    pub fn lose_alarms(state_dir: &Path, class: &str) -> usize {
        let root = crate::repo_root();
        let db = state_dir.join(format!("v3/do/beckon-{class}/metadata.sqlite"));
        let out = Command::new(root.join("node_modules/.bin/node"))
            .args([
                "--no-warnings",
                "-e",
                "const { DatabaseSync } = require('node:sqlite');
                 const db = new DatabaseSync(process.argv[1]);
                 console.log(db.prepare('DELETE FROM _cf_ALARM').run().changes);",
            ])
            .arg(&db)
            .output()
            .expect("node");
        assert!(
            out.status.success(),
            "losing the alarms of {}: {}",
            db.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
    }

    /// The process group of the server (wrangler and workerd).
    pub fn pgid(&self) -> u32 {
        self.child.id()
    }

    /// Everything the server wrote to its log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        text.lines()
            .rev()
            .take(60)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Stops the server (the whole process group: wrangler and workerd) and waits for it.
    pub fn stop(mut self) -> PathBuf {
        self.kill();
        self.state_dir.clone()
    }

    fn kill(&mut self) {
        let pgid = self.child.id() as i32;
        let _ = Command::new("kill")
            .args(["-TERM", "--", &format!("-{pgid}")])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{pgid}")])
            .status();
        let _ = self.child.wait();
        // Stopped once no process of the group is left (workerd writes its state until then).
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline && group_running(pgid) {
            std::thread::sleep(Duration::from_millis(50));
        }
        // The port is free once nothing accepts on it.
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline
            && std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok()
        {
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Edge {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Whether a process of group `pgid` still runs (zombies, which nothing may reap here, do not).
fn group_running(pgid: i32) -> bool {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return false;
    };
    dir.flatten().any(|entry| {
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        // pid (comm) state ppid pgrp …; comm may hold spaces, so read after its ')'.
        let mut fields = stat
            .rsplit_once(')')
            .map(|(_, rest)| rest)
            .unwrap_or("")
            .split_whitespace();
        let (state, _ppid, group) = (fields.next(), fields.next(), fields.next());
        group == Some(&pgid.to_string()) && state.is_some_and(|s| s != "Z" && s != "X")
    })
}

/// Kills process group `pgid` once this test process is gone (the shared edge lives in a
/// static and is never dropped). `sh` may be dash, whose `kill` takes no `--`.
pub(crate) fn watchdog(pgid: u32) {
    let me = std::process::id();
    let script =
        format!("while kill -0 {me} 2>/dev/null; do sleep 1; done; kill -KILL -{pgid} 2>/dev/null");
    let _ = Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
}

/// One edge shared by all tests of a test binary (they isolate themselves by site and
/// conversation).
pub fn shared() -> &'static Edge {
    static EDGE: OnceLock<Edge> = OnceLock::new();
    EDGE.get_or_init(|| Edge::start(None))
}
