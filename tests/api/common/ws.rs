//! A graphql-transport-ws client for the tests, on tokio-tungstenite.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// What the server sent.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    Json(Value),
    /// A close frame: code and reason.
    Closed(u16, String),
    /// The connection ended without a close frame.
    Gone,
}

pub struct Ws {
    stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

/// How long a test waits for a message it expects.
const WAIT: Duration = Duration::from_secs(10);

impl Ws {
    /// Connect to `base` (`http://host:port`) asking for `protocol`.
    pub async fn connect_with(base: &str, protocol: Option<&str>) -> Ws {
        let url = format!("{}/graphql", base.replacen("http", "ws", 1));
        let mut req = url.into_client_request().expect("request");
        if let Some(p) = protocol {
            req.headers_mut().insert(
                "sec-websocket-protocol",
                HeaderValue::from_str(p).expect("header"),
            );
        }
        let (stream, _) = tokio_tungstenite::connect_async(req)
            .await
            .expect("WebSocket connect");
        Ws { stream }
    }

    /// Connect with the graphql-transport-ws subprotocol; the HTTP status
    /// when the server refuses the upgrade.
    pub async fn try_connect(base: &str) -> Result<Ws, u16> {
        let url = format!("{}/graphql", base.replacen("http", "ws", 1));
        let mut req = url.into_client_request().expect("request");
        req.headers_mut().insert(
            "sec-websocket-protocol",
            HeaderValue::from_static("graphql-transport-ws"),
        );
        match tokio_tungstenite::connect_async(req).await {
            Ok((stream, _)) => Ok(Ws { stream }),
            Err(tokio_tungstenite::tungstenite::Error::Http(res)) => Err(res.status().as_u16()),
            Err(e) => panic!("WebSocket connect: {e}"),
        }
    }

    /// Connect with the graphql-transport-ws subprotocol and extra request
    /// headers (`Cookie`, `Origin`: what a browser page would send).
    pub async fn connect_with_headers(base: &str, headers: &[(&str, &str)]) -> Ws {
        let url = format!("{}/graphql", base.replacen("http", "ws", 1));
        let mut req = url.into_client_request().expect("request");
        req.headers_mut().insert(
            "sec-websocket-protocol",
            HeaderValue::from_static("graphql-transport-ws"),
        );
        for (name, value) in headers {
            req.headers_mut().insert(
                tokio_tungstenite::tungstenite::http::HeaderName::from_bytes(name.as_bytes())
                    .expect("header name"),
                HeaderValue::from_str(value).expect("header"),
            );
        }
        let (stream, _) = tokio_tungstenite::connect_async(req)
            .await
            .expect("WebSocket connect");
        Ws { stream }
    }

    /// Connect with the graphql-transport-ws subprotocol.
    pub async fn connect(base: &str) -> Ws {
        Self::connect_with(base, Some("graphql-transport-ws")).await
    }

    /// Connect, send `connection_init` with the token, expect the ack.
    pub async fn signed_in(base: &str, token: &str) -> Ws {
        let mut ws = Self::connect(base).await;
        ws.send(json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } }))
            .await;
        let ack = ws.next_json().await;
        assert_eq!(ack["type"], "connection_ack", "{ack}");
        ws
    }

    pub async fn send(&mut self, v: Value) {
        self.send_text(&v.to_string()).await;
    }

    pub async fn send_text(&mut self, t: &str) {
        self.stream
            .send(Message::Text(t.into()))
            .await
            .expect("send");
    }

    pub async fn send_binary(&mut self, b: &[u8]) {
        self.stream
            .send(Message::Binary(b.to_vec().into()))
            .await
            .expect("send");
    }

    /// The next frame within `d`, or `None`.
    pub async fn recv_within(&mut self, d: Duration) -> Option<Frame> {
        loop {
            let msg = match tokio::time::timeout(d, self.stream.next()).await {
                Err(_) => return None,
                Ok(None) | Ok(Some(Err(_))) => return Some(Frame::Gone),
                Ok(Some(Ok(m))) => m,
            };
            return Some(match msg {
                Message::Text(t) => Frame::Json(serde_json::from_str(t.as_str()).expect("JSON")),
                Message::Close(Some(f)) => Frame::Closed(f.code.into(), f.reason.to_string()),
                Message::Close(None) => Frame::Closed(1005, String::new()),
                Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => continue,
                Message::Binary(_) => panic!("the server sent a binary frame"),
            });
        }
    }

    /// The next text message as sent (key order kept), within 10 s.
    pub async fn next_text(&mut self) -> String {
        loop {
            match tokio::time::timeout(WAIT, self.stream.next()).await {
                Ok(Some(Ok(Message::Text(t)))) => return t.as_str().to_owned(),
                Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
                other => panic!("expected a text message, got {other:?}"),
            }
        }
    }

    /// The next frame (waits up to 10 s).
    pub async fn recv(&mut self) -> Frame {
        self.recv_within(WAIT).await.expect("a message within 10 s")
    }

    /// The next message, which must be JSON.
    pub async fn next_json(&mut self) -> Value {
        match self.recv().await {
            Frame::Json(v) => v,
            other => panic!("expected a message, got {other:?}"),
        }
    }

    /// The connection must close now: its code and reason.
    pub async fn closed(&mut self) -> (u16, String) {
        match self.recv().await {
            Frame::Closed(code, reason) => (code, reason),
            other => panic!("expected a close frame, got {other:?}"),
        }
    }

    /// Nothing arrives for `ms` milliseconds.
    pub async fn silent_for(&mut self, ms: u64) {
        if let Some(f) = self.recv_within(Duration::from_millis(ms)).await {
            panic!("expected silence, got {f:?}");
        }
    }

    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        self.send(json!({ "id": id, "type": "subscribe", "payload": { "query": query, "variables": variables } }))
            .await;
    }

    /// The next `next` message of subscription `id`: its payload's `data`
    /// (panics on errors or other messages).
    pub async fn next_data(&mut self, id: &str) -> Value {
        let m = self.next_json().await;
        assert_eq!(m["type"], "next", "{m}");
        assert_eq!(m["id"], id, "{m}");
        assert!(m["payload"].get("errors").is_none(), "{m}");
        m["payload"]["data"].clone()
    }
}
