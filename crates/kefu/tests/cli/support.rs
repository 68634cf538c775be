//! Helpers: run the built `kefu` binary, wait for `serve` to listen, and speak plain HTTP/1.1
//! over a TCP socket (no client library, so the tests see exactly what goes over the wire).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The PostgreSQL server the tests use (a fresh schema per test).
pub fn pg_url() -> String {
    std::env::var("KEFU_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn unique() -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{}_{n}_{nanos}", std::process::id())
}

fn new_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kefu-cli-test-{}", unique()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// A fresh temp directory, removed with everything in it when dropped (a test run makes
/// hundreds; left behind, they filled the disk).
pub struct TempDir(PathBuf);

impl std::ops::Deref for TempDir {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for TempDir {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<std::ffi::OsStr> for TempDir {
    fn as_ref(&self) -> &std::ffi::OsStr {
        self.0.as_os_str()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A fresh temp directory.
pub fn temp_dir() -> TempDir {
    TempDir(new_dir())
}

/// Where a test's data lives: its own SQLite directory, or its own PostgreSQL schema.
pub enum Backend {
    Sqlite(PathBuf),
    Postgres { url: String, schema: String },
}

impl Backend {
    pub fn sqlite() -> Self {
        Backend::Sqlite(new_dir())
    }

    pub fn postgres() -> Self {
        Backend::Postgres {
            url: pg_url(),
            schema: format!("kefu_cli_{}", unique()),
        }
    }

    /// A `kefu` command pointed at this backend, isolated from the caller's environment.
    pub fn kefu(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_kefu"));
        for var in [
            "KEFU_ADDR",
            "KEFU_DATA",
            "KEFU_DATABASE_URL",
            "KEFU_DATABASE_SCHEMA",
            "KEFU_DEMO_CUSTOMERS",
            "KEFU_DEMO_SEED",
        ] {
            cmd.env_remove(var);
        }
        cmd.env("KEFU_LOG", "warn");
        match self {
            Backend::Sqlite(dir) => {
                cmd.current_dir(dir).env("KEFU_DATA", dir.join("data"));
            }
            Backend::Postgres { url, schema } => {
                cmd.current_dir(std::env::temp_dir())
                    .env("KEFU_DATABASE_URL", url)
                    .env("KEFU_DATABASE_SCHEMA", schema);
            }
        }
        cmd
    }

    pub fn data_dir(&self) -> Option<&Path> {
        match self {
            Backend::Sqlite(dir) => Some(dir),
            Backend::Postgres { .. } => None,
        }
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        match self {
            Backend::Sqlite(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Backend::Postgres { url, schema } => {
                let (url, schema) = (url.clone(), schema.clone());
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                let url = kefu::config::DatabaseUrl::new(url);
                if let Err(e) = rt.block_on(kefu::db::drop_pg_schema(&url, &schema)) {
                    eprintln!("cannot drop test schema {schema}: {e:#}");
                }
            }
        }
    }
}

/// Runs a command to completion with optional stdin.
pub fn run(cmd: &mut Command, stdin: Option<&str>) -> Output {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn kefu");
    if let (Some(mut input), Some(text)) = (child.stdin.take(), stdin) {
        input.write_all(text.as_bytes()).expect("write stdin");
    }
    child.wait_with_output().expect("wait for kefu")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A running `kefu serve`, killed when dropped.
pub struct Server {
    pub child: Child,
    pub addr: String,
    /// Everything it printed before listening.
    pub banner: String,
}

impl Server {
    /// Starts `kefu serve --addr 127.0.0.1:0 <extra>` and waits (up to 120 s) for its
    /// `kefu listening on http://…` line.
    pub fn start(backend: &Backend, extra: &[&str]) -> Server {
        let mut cmd = backend.kefu();
        cmd.arg("serve")
            .args(["--addr", "127.0.0.1:0"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = cmd.spawn().expect("spawn kefu serve");
        let out = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut banner = String::new();
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if let Some(url) = line.strip_prefix(kefu::commands::LISTENING_PREFIX) {
                    let _ = tx.send(Ok((url.trim_start_matches("http://").to_owned(), banner)));
                    // Keep draining so the server never blocks on a full pipe.
                    banner = String::new();
                    continue;
                }
                banner.push_str(&line);
                banner.push('\n');
            }
            let _ = tx.send(Err(banner));
        });
        match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(Ok((addr, banner))) => Server {
                child,
                addr,
                banner,
            },
            other => {
                let _ = child.kill();
                panic!("kefu serve did not start listening: {other:?}");
            }
        }
    }

    /// Sends SIGTERM and waits for a clean exit.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let ok = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(ok, "kill -TERM failed");
        for _ in 0..200 {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("kefu serve did not stop within 10 s of SIGTERM");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A response: status code and body.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub body: String,
}

/// One HTTP/1.1 request with `Connection: close`.
pub fn http(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Response {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() {
        req.push_str("Content-Type: application/json\r\n");
    }
    req.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(req.as_bytes()).expect("send");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    Response { status, body }
}

pub fn login(addr: &str, username: &str, password: &str) -> Response {
    let body = format!(r#"{{"username":"{username}","password":"{password}"}}"#);
    http(addr, "POST", "/api/v1/auth/login", &[], &body)
}

pub fn get_with_token(addr: &str, path: &str, token: &str) -> Response {
    let auth = format!("Bearer {token}");
    http(addr, "GET", path, &[("Authorization", &auth)], "")
}
