//! GraphQL over WebSocket: the graphql-transport-ws protocol (the one the npm
//! `graphql-ws` client speaks), at `GET /graphql` with an `Upgrade` header.
//!
//! - The token comes in `connection_init`'s payload, as `{"authorization":
//!   "Bearer <token>"}` (or `{"token": "<token>"}`); none, or a bad one, closes
//!   the socket with 4403. Without `connection_init` within the init timeout:
//!   4408. A second `connection_init`: 4429. `subscribe` before the ack: 4401.
//!   A message that is not one of the protocol's: 4400. A `subscribe` whose id
//!   is already running: 4409. Close reasons stay within 123 bytes.
//! - While connected, the token's expiry, the account's deactivation or any
//!   change to its roles closes the socket with 4403.
//! - At most `--ws-max-subscriptions` run at once per connection; one more is
//!   refused with an `error` message (code TOO_MANY_SUBSCRIPTIONS) and the
//!   connection stays.
//! - On graceful shutdown every socket is closed with 1001.
//! - Until its `connection_init` is acknowledged a socket counts against a
//!   small budget of its own (`--ws-max-pending`, and
//!   `--ws-max-pending-per-address` for one client address); over it the
//!   upgrade is answered 503. Only acknowledged sockets count against
//!   `--ws-max-connections`: over that, the upgrade is answered 503, or a
//!   socket whose place went meanwhile is closed with 1013 instead of the ack.
//! - A message over the size limit (the body limit) closes the socket with
//!   1009.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use async_graphql::parser::types::OperationType;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde_json::{json, Map, Value};
use tokio::sync::{broadcast, mpsc};
use tokio::task::AbortHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::slots::{Full, Slot, Slots};
use super::HttpState;
use crate::auth::{AuthUser, Viewer};
use crate::config::LimitArgs;
use crate::error::AppError;
use crate::graphql::request;
use crate::service::session;

mod operation;

use operation::run_operation;

/// The only subprotocol served.
pub const PROTOCOL: &str = "graphql-transport-ws";

/// The protocol's close codes.
pub mod close {
    pub const GOING_AWAY: u16 = 1001;
    pub const MESSAGE_TOO_BIG: u16 = 1009;
    pub const INTERNAL: u16 = 1011;
    pub const TRY_AGAIN_LATER: u16 = 1013;
    pub const INVALID_MESSAGE: u16 = 4400;
    pub const UNAUTHORIZED: u16 = 4401;
    pub const FORBIDDEN: u16 = 4403;
    pub const SUBPROTOCOL_NOT_ACCEPTABLE: u16 = 4406;
    pub const INIT_TIMEOUT: u16 = 4408;
    pub const DUPLICATE_SUBSCRIBER: u16 = 4409;
    pub const TOO_MANY_INIT: u16 = 4429;
}

/// The WebSocket side of the server: shutdown, connection counts, tasks.
#[derive(Clone)]
pub struct Sockets {
    shutdown: CancellationToken,
    tracker: TaskTracker,
    /// Acknowledged sockets.
    open: Arc<AtomicUsize>,
    /// Sockets not acknowledged yet.
    pending: Slots,
}

/// Where a socket stands against the budgets.
enum Place {
    /// Waiting for its `connection_init` to be acknowledged.
    Pending(#[allow(dead_code)] Slot),
    /// Acknowledged: one of `open`.
    Open(Arc<AtomicUsize>),
    None,
}

impl Drop for Place {
    fn drop(&mut self) {
        if let Place::Open(open) = self {
            open.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

impl Sockets {
    pub fn new(limits: &LimitArgs) -> Self {
        Self {
            shutdown: CancellationToken::new(),
            tracker: TaskTracker::new(),
            open: Arc::new(AtomicUsize::new(0)),
            pending: Slots::new(limits.ws_max_pending, limits.ws_max_pending_per_address),
        }
    }

    /// A place among the acknowledged sockets, if one is free.
    fn take_open(&self, max: usize) -> Option<Place> {
        let before = self.open.fetch_add(1, Ordering::Relaxed);
        let place = Place::Open(self.open.clone());
        if before >= max {
            drop(place);
            return None;
        }
        Some(place)
    }

    /// Close every socket with 1001 and wait (up to `grace`) for them to go.
    pub async fn shut_down(&self, grace: std::time::Duration) {
        self.shutdown.cancel();
        self.tracker.close();
        if tokio::time::timeout(grace, self.tracker.wait())
            .await
            .is_err()
        {
            tracing::warn!("some WebSocket connections did not close in time");
        }
    }

    /// Acknowledged connections open now.
    pub fn open(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }

    /// Connections waiting for their `connection_init` to be acknowledged.
    pub fn pending(&self) -> usize {
        self.pending.taken()
    }
}

/// The largest close reason a WebSocket control frame allows.
const MAX_REASON: usize = 123;

/// `text` cut to at most `max` bytes, on a character boundary.
fn truncated(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// A read failed because the message is over `max_message_size` (or a frame
/// over `max_frame_size`).
fn is_too_big(e: &axum::Error) -> bool {
    use std::error::Error as _;
    matches!(
        e.source()
            .and_then(|s| s.downcast_ref::<tungstenite::Error>()),
        Some(tungstenite::Error::Capacity(_))
    )
}

/// Upgrade `GET /graphql`.
///
/// `cookie` is the workspace's session token, given only when the upgrade
/// came from this site's pages (see [`super::auth`]): it signs the socket in
/// when `connection_init` carries no token.
pub fn upgrade(
    s: HttpState,
    ws: WebSocketUpgrade,
    peer: SocketAddr,
    cookie: Option<String>,
) -> Response {
    let sockets = s.sockets.clone();
    let busy = |what: &str| {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            [(axum::http::header::RETRY_AFTER, "5")],
            format!("{what}; try again later\n"),
        )
            .into_response()
    };
    if sockets.open() >= s.app.limits.ws_max_connections {
        return busy("too many live connections");
    }
    let slot = match sockets.pending.take(peer.ip()) {
        Ok(slot) => slot,
        Err(Full::Everyone) => return busy("too many live connections are starting"),
        Err(Full::Address) => {
            return busy("too many live connections are starting from this address")
        }
    };
    // Small buffers: a subscriber mostly waits, and tungstenite's default
    // 128 KiB each way made an idle connection cost about 170 KiB.
    let ws = ws
        .protocols([PROTOCOL])
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .max_message_size(s.app.limits.body_limit_bytes)
        .max_frame_size(s.app.limits.body_limit_bytes);
    let accepted = ws.selected_protocol().is_some();
    ws.on_upgrade(move |socket| {
        let tracker = sockets.tracker.clone();
        tracker.track_future(async move {
            let mut conn = Connection::new(s, socket, peer);
            conn.place = Place::Pending(slot);
            conn.cookie = cookie;
            if accepted {
                conn.run().await;
            } else {
                conn.close(
                    close::SUBPROTOCOL_NOT_ACCEPTABLE,
                    "Subprotocol not acceptable: use graphql-transport-ws",
                )
                .await;
            }
            conn.stop_all();
        })
    })
}

/// A message from a subscription's task to the socket.
struct Out {
    id: String,
    generation: u64,
    text: String,
    /// The subscription is over after this message.
    last: bool,
}

struct Signed {
    user: Arc<AuthUser>,
    token: String,
    expires: Option<chrono::DateTime<Utc>>,
}

struct Connection {
    s: HttpState,
    socket: WebSocket,
    peer: SocketAddr,
    init_received: bool,
    signed: Option<Signed>,
    /// The session cookie's token (same-origin upgrades only).
    cookie: Option<String>,
    subs: HashMap<String, (u64, AbortHandle)>,
    generation: u64,
    out_tx: mpsc::Sender<Out>,
    out_rx: mpsc::Receiver<Out>,
    place: Place,
}

/// Why the loop ends: a close frame to send, or nothing (the peer left).
type Close = Option<(u16, String)>;

fn invalid(detail: &str) -> Close {
    Some((
        close::INVALID_MESSAGE,
        format!("Invalid message received: {detail}"),
    ))
}

impl Connection {
    fn new(s: HttpState, socket: WebSocket, peer: SocketAddr) -> Self {
        let (out_tx, out_rx) = mpsc::channel(256);
        Self {
            s,
            socket,
            peer,
            init_received: false,
            signed: None,
            cookie: None,
            subs: HashMap::new(),
            generation: 0,
            out_tx,
            out_rx,
            place: Place::None,
        }
    }

    async fn close(&mut self, code: u16, text: &str) {
        let frame = CloseFrame {
            code,
            reason: truncated(text, MAX_REASON).to_owned().into(),
        };
        let _ = self.socket.send(Message::Close(Some(frame))).await;
    }

    fn stop_all(&mut self) {
        for (_, (_, task)) in self.subs.drain() {
            task.abort();
        }
    }

    /// Send a message; a socket that cannot take it ends the connection.
    async fn send_json(&mut self, v: &Value) -> Close {
        match self.socket.send(Message::Text(v.to_string().into())).await {
            Ok(()) => None,
            Err(_) => Some((close::GOING_AWAY, String::new())),
        }
    }

    async fn run(&mut self) {
        let init_deadline = tokio::time::Instant::now() + self.s.app.limits.ws_init_timeout;
        let shutdown = self.s.sockets.shutdown.clone();
        let mut accounts = self.s.app.live.subscribe_accounts();
        let outcome: Close = loop {
            let expiry = self.expiry();
            tokio::select! {
                () = shutdown.cancelled() => {
                    break Some((close::GOING_AWAY, "Server shutting down".into()));
                }
                () = tokio::time::sleep_until(init_deadline), if self.signed.is_none() => {
                    break Some((close::INIT_TIMEOUT, "Connection initialisation timeout".into()));
                }
                () = tokio::time::sleep_until(expiry), if self.signed.is_some() => {
                    break Some((close::FORBIDDEN, "Forbidden: the token has expired; sign in again".into()));
                }
                changed = accounts.recv(), if self.signed.is_some() => {
                    let mine = match changed {
                        Ok(user_id) => self.signed.as_ref().is_some_and(|s| s.user.id == user_id),
                        Err(broadcast::error::RecvError::Lagged(_)) => true,
                        Err(broadcast::error::RecvError::Closed) => false,
                    };
                    if mine {
                        if let Some(c) = self.recheck_account().await {
                            break Some(c);
                        }
                    }
                }
                Some(out) = self.out_rx.recv() => {
                    let current = self.subs.get(&out.id).is_some_and(|(g, _)| *g == out.generation);
                    if !current {
                        continue;
                    }
                    if out.last {
                        self.subs.remove(&out.id);
                    }
                    if self.socket.send(Message::Text(out.text.into())).await.is_err() {
                        break None;
                    }
                }
                msg = self.socket.recv() => {
                    let outcome = match msg {
                        Some(Err(e)) if is_too_big(&e) => {
                            let max = self.s.app.limits.body_limit_bytes;
                            break Some((close::MESSAGE_TOO_BIG, format!("Message too big: the limit is {max} bytes")));
                        }
                        None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break None,
                        Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                        Some(Ok(Message::Binary(_))) => invalid("binary frames are not part of the protocol"),
                        Some(Ok(Message::Text(text))) => self.on_text(text.as_str()).await,
                    };
                    if outcome.is_some() {
                        break outcome;
                    }
                }
            }
        };
        self.stop_all();
        if let Some((code, text)) = outcome {
            self.close(code, &text).await;
        }
    }

    /// When the token stops being valid (far away when it has no expiry).
    fn expiry(&self) -> tokio::time::Instant {
        let far = tokio::time::Instant::now() + std::time::Duration::from_secs(86_400 * 365);
        let Some(exp) = self.signed.as_ref().and_then(|s| s.expires) else {
            return far;
        };
        let left = (exp - Utc::now()).to_std().unwrap_or_default();
        tokio::time::Instant::now() + left
    }

    /// The account changed: check the token again. Deactivated, or its roles,
    /// organization or rapporteur assignments changed: the connection ends
    /// (its subscriptions were filtered by what the account was).
    async fn recheck_account(&mut self) -> Close {
        let signed = self.signed.as_ref()?;
        match session::authenticate(&self.s.app, &signed.token).await {
            Ok(user) if user == *signed.user => None,
            Ok(_) => Some((
                close::FORBIDDEN,
                "Forbidden: the account's roles changed; connect again".into(),
            )),
            Err(AppError::Unauthenticated(m)) => {
                Some((close::FORBIDDEN, format!("Forbidden: {m}")))
            }
            Err(e) => {
                tracing::error!(error = ?e, "cannot re-check a live connection's account");
                Some((close::INTERNAL, "Internal error".into()))
            }
        }
    }

    async fn on_text(&mut self, text: &str) -> Close {
        let Ok(Value::Object(msg)) = serde_json::from_str::<Value>(text) else {
            return invalid("not a JSON object");
        };
        let Some(Value::String(ty)) = msg.get("type") else {
            return invalid("no `type`");
        };
        match ty.as_str() {
            "connection_init" => self.on_init(msg.get("payload")).await,
            "ping" => {
                let mut pong = json!({ "type": "pong" });
                if let Some(p @ Value::Object(_)) = msg.get("payload") {
                    pong["payload"] = p.clone();
                }
                self.send_json(&pong).await
            }
            "pong" => None,
            "subscribe" => self.on_subscribe(&msg).await,
            "complete" => {
                let Some(Value::String(id)) = msg.get("id") else {
                    return invalid("`complete` needs an `id`");
                };
                if let Some((_, task)) = self.subs.remove(id) {
                    task.abort();
                }
                None
            }
            other => invalid(&format!("unexpected type `{}`", truncated(other, 60))),
        }
    }

    async fn on_init(&mut self, payload: Option<&Value>) -> Close {
        if self.init_received {
            return Some((
                close::TOO_MANY_INIT,
                "Too many initialisation requests".into(),
            ));
        }
        self.init_received = true;
        let payload = match payload {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(m)) => m.clone(),
            Some(_) => return invalid("the `connection_init` payload must be an object"),
        };
        let token = ["authorization", "Authorization", "token"]
            .iter()
            .find_map(|k| payload.get(*k).and_then(Value::as_str))
            .map(|t| {
                t.strip_prefix("Bearer ")
                    .or_else(|| t.strip_prefix("bearer "))
                    .unwrap_or(t)
                    .trim()
                    .to_owned()
            })
            .filter(|t| !t.is_empty())
            .or_else(|| self.cookie.take());
        let Some(token) = token else {
            return Some((
                close::FORBIDDEN,
                "Forbidden: send {\"authorization\": \"Bearer <token>\"} in connection_init".into(),
            ));
        };
        match session::authenticate(&self.s.app, &token).await {
            Ok(user) => {
                let Some(place) = self
                    .s
                    .sockets
                    .take_open(self.s.app.limits.ws_max_connections)
                else {
                    return Some((
                        close::TRY_AGAIN_LATER,
                        "Try again later: too many live connections".into(),
                    ));
                };
                // Acknowledged from here on: the pending place goes back.
                self.place = place;
                self.signed = Some(Signed {
                    user: Arc::new(user),
                    expires: crate::auth::jwt::expires_at(&token),
                    token,
                });
                self.send_json(&json!({ "type": "connection_ack" })).await
            }
            Err(AppError::Unauthenticated(m)) => {
                Some((close::FORBIDDEN, format!("Forbidden: {m}")))
            }
            Err(e) => {
                tracing::error!(error = ?e, "authentication failed");
                Some((close::INTERNAL, "Internal error".into()))
            }
        }
    }

    async fn on_subscribe(&mut self, msg: &Map<String, Value>) -> Close {
        let Some(signed) = &self.signed else {
            return Some((close::UNAUTHORIZED, "Unauthorized".into()));
        };
        let user = signed.user.clone();
        let id = match msg.get("id") {
            Some(Value::String(id)) if !id.is_empty() => id.clone(),
            _ => return invalid("`subscribe` needs a non-empty string `id`"),
        };
        let Some(Value::Object(payload)) = msg.get("payload") else {
            return invalid("`subscribe` needs a `payload` object");
        };
        let Some(Value::String(query)) = payload.get("query") else {
            return invalid("`subscribe` needs `payload.query`, a string");
        };
        let operation_name = match payload.get("operationName") {
            None | Some(Value::Null) => None,
            Some(Value::String(n)) => Some(n.clone()),
            Some(_) => return invalid("`operationName` must be a string"),
        };
        let variables = match payload.get("variables") {
            None | Some(Value::Null) => None,
            Some(v @ Value::Object(_)) => Some(v.clone()),
            Some(_) => return invalid("`variables` must be an object"),
        };
        if !matches!(
            payload.get("extensions"),
            None | Some(Value::Null) | Some(Value::Object(_))
        ) {
            return invalid("`extensions` must be an object");
        }
        if self.subs.contains_key(&id) {
            return Some((
                close::DUPLICATE_SUBSCRIBER,
                format!("Subscriber for {} already exists", truncated(&id, 60)),
            ));
        }
        let max = self.s.app.limits.ws_max_subscriptions;
        if self.subs.len() >= max {
            let refusal = json!({
                "type": "error",
                "id": id,
                "payload": [{
                    "message": format!("at most {max} subscriptions may run at once on one connection"),
                    "extensions": { "code": "TOO_MANY_SUBSCRIPTIONS" }
                }]
            });
            return self.send_json(&refusal).await;
        }
        let variables = match variables {
            Some(Value::Object(m)) => Some(m),
            _ => None,
        };
        let prepared = match request::prepare(
            &self.s.app,
            query.clone(),
            operation_name,
            variables,
            Viewer::User(user),
            Some(self.peer.ip()),
        ) {
            Ok(p) => p,
            Err(refused) => {
                let refusal = json!({ "type": "error", "id": id, "payload": [refused.to_json()] });
                return self.send_json(&refusal).await;
            }
        };
        let is_subscription = prepared.ty == Some(OperationType::Subscription);
        self.generation += 1;
        let generation = self.generation;
        let request_id = format!("ws-{}", crate::service::audit::new_request_id());
        let task = tokio::spawn(crate::service::audit::REQUEST_ID.scope(
            request_id,
            run_operation(
                self.s.clone(),
                prepared,
                id.clone(),
                generation,
                is_subscription,
                self.out_tx.clone(),
            ),
        ));
        self.subs.insert(id, (generation, task.abort_handle()));
        None
    }
}
