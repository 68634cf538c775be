//! `serve` on a real socket: graceful shutdown, and the per-address login limit that needs the
//! peer address (absent under `oneshot`).

use std::sync::Arc;

use kefu_server::{AppState, ServerConfig, serve};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::both_stores;
use crate::helpers::{Backend, PASSWORD, TestApp};

/// One HTTP/1.1 request over a fresh connection; returns the status and the raw response.
async fn request(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    body: &str,
) -> (u16, String) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: kefu\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    let status = out
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, out)
}

async fn serve_answers_limits_by_address_and_shuts_down(b: Backend) {
    let t = TestApp::new(b).await;
    let state = AppState::new(Arc::clone(&t.store), ServerConfig::default());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, state, async {
        let _ = stopped.await;
    }));
    let (status, _) = request(addr, "GET", "/healthz", "").await;
    assert_eq!(status, 200);
    // Five failures under five different names from one address…
    for i in 0..5 {
        let body = json!({"username": format!("nobody{i}"), "password": "wrong-password-1"});
        let (status, _) = request(addr, "POST", "/api/v1/auth/login", &body.to_string()).await;
        assert_eq!(status, 401);
    }
    // …and even a correct login from that address waits.
    let body = json!({"username": "agent.a", "password": PASSWORD});
    let (status, raw) = request(addr, "POST", "/api/v1/auth/login", &body.to_string()).await;
    assert_eq!(status, 429, "{raw}");
    assert!(raw.to_ascii_lowercase().contains("retry-after:"));
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}

both_stores!(serve_answers_limits_by_address_and_shuts_down);
