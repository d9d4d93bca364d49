//! Benchmark: live fan-out (alone and under mixed request load) and
//! full-text search, end to end against the release server binary.
//!
//! - Fan-out: 1,000 WebSocket subscribers (graphql-transport-ws) on one review
//!   cycle's `cycleEvents`; 50 comments submitted over HTTP one after another
//!   (20 ms apart). Latency of each (comment, subscriber) delivery, from just
//!   before the `submitComment` request is sent to the subscriber's receipt of
//!   the `next` message; deliveries received against expected, duplicates,
//!   anything else the subscribers were told (errors, closes).
//! - Mixed load: 16 writers submitting comments over HTTP in a loop and 8
//!   readers asking for the cycle page (sections, blocks, 100 comments with
//!   replies) in a loop, for 20 s, on a server with the default request pool
//!   (10 connections), while 1,000 subscribers listen to the cycle: latency of
//!   each delivery of a writer's comment (as for the fan-out), deliveries
//!   received against expected, the requests' own times.
//! - Search: 100,000 comments of generated English and French
//!   e-government / environment text, seeded through the CSV import endpoint
//!   (20 uploads of 5,000 rows), then 200 `searchComments` queries (rare
//!   words, common words, two words, French words written without accents),
//!   one after another: latency and mean `totalCount`; then the same queries
//!   again after `ANALYZE` (on a restarted server), as the planner's
//!   statistics change the plans (autovacuum is often off on test servers,
//!   and nothing analyses an SQLite database).
//!
//! `cargo bench --bench live` (SQLite); PostgreSQL too with
//! `BENCH_POSTGRES_URL` (or `TEST_POSTGRES_URL`). Smaller runs:
//! `LIVE_SUBSCRIBERS`, `LIVE_COMMENTS`, `SEARCH_COMMENTS`, `SEARCH_QUERIES`;
//! `SEARCH_BUDGET_SECS` (300) stops the queries when they take longer in all;
//! `LIVE_ROUNDS` repeats the fan-out (0 skips it); `SEARCH_COMMENTS=0` skips
//! the search; the mixed load: `LIVE_MIXED_SECS` (0 skips it), `LIVE_WRITERS`,
//! `LIVE_READERS`, `LIVE_WRITER_PAUSE_MS`, `LIVE_MIXED_POOL`;
//! `LIVE_ONLY`, `LIVE_SQLITE_DIR`, `LIVE_HOLD_SECS`: see `main`;
//! `BENCH_SERVER_BIN` runs another server binary (a build of an older commit).

mod common;

use std::collections::{HashMap, HashSet};
use std::process::Child;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

use kitreview::clock::SystemClock;
use kitreview::config::LimitArgs;
use kitreview::domain::comments::{AnchorKind, CommentType};
use kitreview::domain::cycle::Visibility;
use kitreview::domain::ids::{GlobalId, NodeKind};
use kitreview::service::comments::{self, AnchorInput, TextInput};
use kitreview::service::modules::RevisionInput;
use kitreview::service::{cycles, modules, session, Actor};

/// However long anything may take before the benchmark gives up on it.
const TIMEOUT: Duration = Duration::from_secs(60);
const PROTOCOL: &str = "graphql-transport-ws";
/// WebSocket handshakes in flight at once while connecting the subscribers.
const CONNECTING: usize = 64;
const PAUSE: Duration = Duration::from_millis(20);
const UPLOAD_ROWS: usize = 5_000;

const SUBSCRIPTION: &str =
    "subscription($c: ID!) { cycleEvents(cycleId: $c) { kind comment { id number body } } }";
/// The mixed load's subscription: also the comment's `submittedAt`, the
/// server's clock when it took the submission (before its transaction began).
const MIXED_SUBSCRIPTION: &str = "subscription($c: ID!) { cycleEvents(cycleId: $c) { kind comment { id number body submittedAt } } }";
const SUBMIT: &str = "mutation($c: ID!, $b: String!) { submitComment(input: {cycleId: $c, anchor: {kind: DOCUMENT}, type: GENERAL, body: $b}) { comment { id number } } }";
const SEARCH: &str = "query($q: String!) { searchComments(query: $q, first: 20) { totalCount edges { node { score comment { id number } snippets { field text highlights { start length } } } } } }";

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The release server, killed when dropped (also on a panic).
struct Server(Child);

impl Server {
    fn start(url: &str, port: u16) -> Self {
        Server(common::start_server(url, port))
    }

    fn start_with(url: &str, port: u16, env: &[(&str, &str)]) -> Self {
        Server(common::start_server_with(url, port, env))
    }

    fn pid(&self) -> u32 {
        self.0.id()
    }

    /// `Some(status)` when the server has exited.
    fn exited(&mut self) -> Option<String> {
        match self.0.try_wait() {
            Ok(Some(status)) => Some(status.to_string()),
            Ok(None) => None,
            Err(e) => Some(format!("unknown ({e})")),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// p50, p99 and max of `v` (sorted here), in milliseconds.
fn percentiles(v: &mut [Duration]) -> (f64, f64, f64) {
    if v.is_empty() {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    v.sort_unstable();
    let at = |p: f64| ms(v[((v.len() - 1) as f64 * p).round() as usize]);
    (at(0.50), at(0.99), ms(v[v.len() - 1]))
}

/// p50, p99 and max of milliseconds `v` (sorted here), which may be negative.
fn percentiles_ms(v: &mut [f64]) -> (f64, f64, f64) {
    if v.is_empty() {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    v.sort_unstable_by(f64::total_cmp);
    let at = |p: f64| v[((v.len() - 1) as f64 * p).round() as usize];
    (at(0.50), at(0.99), v[v.len() - 1])
}

// ---------------------------------------------------------------------------
// Seeding

/// 20 sections of 5 paragraphs.
fn revision() -> String {
    let titles = [
        "Scope",
        "Gouvernance des données",
        "Digital identity",
        "Réseaux et connectivité",
        "Open data",
        "Services publics en ligne",
        "Cybersecurity",
        "Environnement et déchets électroniques",
        "Climate monitoring",
        "Inclusion numérique",
    ];
    let mut md = String::from("# Module 1: Live benchmark\n\n");
    for s in 1..=20 {
        md.push_str(&format!("## {s} {}\n\n", titles[(s - 1) % titles.len()]));
        for p in 1..=5 {
            md.push_str(&format!(
                "Paragraph {s}.{p}: the national assessment covers infrastructure, policy, \
                 governance and the environmental footprint of digital services.\n\n"
            ));
        }
    }
    md
}

struct Seeded {
    cycle_gid: String,
    /// The mixed-load case's cycle (on a second module) and its revision:
    /// `MIXED_COMMENTS` comments to start with, and replies.
    mixed_cycle_gid: String,
    mixed_revision_gid: String,
    /// One per user; user 0 is the rapporteur, the others members of
    /// four delegations.
    tokens: Vec<String>,
    /// The country code of each user's organization (the import's MB/NC).
    countries: Vec<String>,
}

const COUNTRIES: [(&str, &str); 5] = [
    ("France", "FR"),
    ("Kenya", "KE"),
    ("Brazil", "BR"),
    ("Egypt", "EG"),
    ("India", "IN"),
];

/// A rapporteur, four delegations, a revision and an OPEN cycle (every
/// delegation sees every comment), no comments yet.
async fn seed(url: &str) -> Seeded {
    let state = kitreview::app::build_state(
        &common::db_args(url),
        &common::auth(),
        LimitArgs::default(),
        false,
        Arc::new(SystemClock),
    )
    .await
    .expect("state");
    let common::Base {
        users,
        rapporteur,
        module_id,
    } = common::base(&state, &COUNTRIES).await;
    let rev = modules::create_revision(
        &state,
        Actor::User(&rapporteur),
        RevisionInput {
            module_id,
            base_revision_id: None,
            markdown: revision(),
            summary: "bench",
            addressed_comment_ids: &[],
            idempotency_key: None,
        },
    )
    .await
    .expect("revision");
    let now = chrono::Utc::now();
    let cycle = cycles::open(
        &state,
        &rapporteur,
        rev.id,
        "Live benchmark cycle",
        now - chrono::Duration::hours(1),
        now + chrono::Duration::days(30),
        Visibility::Open,
    )
    .await
    .expect("cycle");
    let (mixed_cycle, mixed_revision) = seed_mixed(&state, &users, &rapporteur, module_id).await;
    let tokens = users.iter().map(|u| common::token(&state, u)).collect();
    state.db.close().await;
    Seeded {
        cycle_gid: GlobalId::new(NodeKind::ReviewCycle, cycle.id).to_string(),
        mixed_cycle_gid: GlobalId::new(NodeKind::ReviewCycle, mixed_cycle).to_string(),
        mixed_revision_gid: GlobalId::new(NodeKind::Revision, mixed_revision).to_string(),
        tokens,
        countries: COUNTRIES.iter().map(|(_, cc)| cc.to_string()).collect(),
    }
}

/// Comments the mixed-load cycle starts with (a third of them quotes), each
/// with one or two replies.
const MIXED_COMMENTS: usize = 100;

/// A second module of the same kit, its revision and an OPEN cycle with
/// `MIXED_COMMENTS` comments anchored to its blocks, for the mixed-load case
/// (a module has one cycle at a time). Returns the cycle's and the revision's ids.
async fn seed_mixed(
    state: &kitreview::state::AppState,
    users: &[kitreview::db::accounts::UserRow],
    rapporteur: &kitreview::auth::AuthUser,
    module_id: i64,
) -> (i64, i64) {
    let kit_id = {
        let mut pooled = state.db.read().await.expect("db");
        kitreview::db::modules::modules_by_ids(&mut pooled.conn(), &[module_id])
            .await
            .expect("module")
            .first()
            .expect("the module")
            .kit_id
    };
    let module = modules::create_module(state, Actor::Operator, kit_id, 2, "Mixed load")
        .await
        .expect("module");
    let rev = modules::create_revision(
        state,
        Actor::User(rapporteur),
        RevisionInput {
            module_id: module.id,
            base_revision_id: None,
            markdown: revision(),
            summary: "bench",
            addressed_comment_ids: &[],
            idempotency_key: None,
        },
    )
    .await
    .expect("revision");
    let now = chrono::Utc::now();
    let cycle = cycles::open(
        state,
        rapporteur,
        rev.id,
        "Mixed-load cycle",
        now - chrono::Duration::hours(1),
        now + chrono::Duration::days(30),
        Visibility::Open,
    )
    .await
    .expect("cycle");
    let mut viewers = Vec::new();
    for u in users {
        viewers.push(session::auth_user(state, u.id).await.expect("viewer"));
    }
    let blocks = {
        let mut pooled = state.db.read().await.expect("db");
        kitreview::db::modules::blocks_of(&mut pooled.conn(), &[rev.id])
            .await
            .expect("blocks")
    };
    for i in 0..MIXED_COMMENTS {
        let b = &blocks[i % blocks.len()];
        let quote = i % 3 == 0;
        let anchor = AnchorInput {
            kind: if quote {
                AnchorKind::Quote
            } else {
                AnchorKind::Block
            },
            section_anchor_id: None,
            block_anchor_id: Some(b.anchor_id.clone()),
            quote: quote.then(|| kitreview::domain::comments::QuoteSelector {
                exact: "infrastructure, policy".into(),
                ..Default::default()
            }),
        };
        let text = TextInput {
            comment_type: [
                CommentType::General,
                CommentType::Technical,
                CommentType::Editorial,
            ][i % 3],
            body: format!("Seeded note {i}: wording to revisit before the meeting."),
            proposed_change: (i % 2 == 0).then(|| "reworded".to_owned()),
            language: Some("en".into()),
        };
        let c = comments::submit_new(state, &viewers[1 + i % 4], cycle.id, &anchor, &text, None)
            .await
            .expect("comment");
        for r in 0..(1 + i % 2) {
            comments::add_reply(state, &viewers[(i + r) % 5], c.id, "Noted.", None)
                .await
                .expect("reply");
        }
    }
    (cycle.id, rev.id)
}

/// POST a GraphQL request; whatever goes wrong on the way (the connection,
/// an HTTP error without JSON) comes back as a GraphQL-style `errors`.
async fn graphql(http: &reqwest::Client, port: u16, token: &str, body: Value) -> Value {
    let failed = |m: String| json!({ "errors": [ { "message": m } ] });
    let res = match http
        .post(format!("http://127.0.0.1:{port}/graphql"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
    {
        Ok(r) => r,
        Err(e) => return failed(format!("request failed: {e}")),
    };
    let status = res.status();
    let text = match res.text().await {
        Ok(t) => t,
        Err(e) => return failed(format!("HTTP {status}, body unreadable: {e}")),
    };
    serde_json::from_str(&text)
        .unwrap_or_else(|_| failed(format!("HTTP {status}, not JSON: {}", short(&text))))
}

// ---------------------------------------------------------------------------
// Fan-out

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// What a subscriber saw.
enum Seen {
    /// A `next` carrying a submitted comment.
    Comment {
        sub: usize,
        number: i64,
        id: String,
        at: Instant,
        /// Milliseconds from the comment's `submittedAt` to the receipt, by
        /// the wall clock (the server's is the same machine's), when asked for.
        stamped: Option<f64>,
    },
    /// A `next` of another kind of event.
    Other,
    /// Anything else: errors, `complete`, the socket closing.
    Problem(String),
}

fn text(v: Value) -> Message {
    Message::Text(v.to_string().into())
}

/// Connect, sign in, subscribe to the cycle's events.
async fn open(port: u16, token: &str, cycle: &str, query: &str) -> Result<Ws, String> {
    let mut req = format!("ws://127.0.0.1:{port}/graphql")
        .into_client_request()
        .map_err(|e| format!("request: {e}"))?;
    req.headers_mut()
        .insert("Sec-WebSocket-Protocol", HeaderValue::from_static(PROTOCOL));
    let (mut ws, res) = tokio_tungstenite::connect_async(req)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let chosen = res
        .headers()
        .get("sec-websocket-protocol")
        .and_then(|v| v.to_str().ok());
    if chosen != Some(PROTOCOL) {
        return Err(format!("subprotocol {chosen:?}"));
    }
    ws.send(text(json!({
        "type": "connection_init",
        "payload": { "authorization": format!("Bearer {token}") }
    })))
    .await
    .map_err(|e| format!("send connection_init: {e}"))?;
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) => {
                let v: Value = serde_json::from_str(t.as_str()).unwrap_or(Value::Null);
                if v["type"] == "connection_ack" {
                    break;
                }
                return Err(format!("before the ack: {}", t.as_str()));
            }
            Some(Ok(Message::Close(f))) => return Err(format!("closed before the ack: {f:?}")),
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(format!("before the ack: {e}")),
            None => return Err("the socket ended before the ack".into()),
        }
    }
    ws.send(text(json!({
        "type": "subscribe",
        "id": "1",
        "payload": { "query": query, "variables": { "c": cycle } }
    })))
    .await
    .map_err(|e| format!("send subscribe: {e}"))?;
    Ok(ws)
}

fn short(s: &str) -> String {
    s.chars().take(300).collect()
}

/// Read one subscriber's socket until told to stop.
async fn listen(
    sub: usize,
    mut ws: Ws,
    seen: mpsc::UnboundedSender<Seen>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = stop.changed() => {
                let _ = tokio::time::timeout(Duration::from_secs(5), ws.close(None)).await;
                return;
            }
            msg = ws.next() => {
                let at = Instant::now();
                let wall = chrono::Utc::now();
                let t = match msg {
                    Some(Ok(Message::Text(t))) => t,
                    Some(Ok(Message::Close(f))) => {
                        let _ = seen.send(Seen::Problem(format!("socket closed by the server: {f:?}")));
                        return;
                    }
                    Some(Ok(_)) => continue,
                    Some(Err(e)) => {
                        let _ = seen.send(Seen::Problem(format!("socket error: {e}")));
                        return;
                    }
                    None => {
                        let _ = seen.send(Seen::Problem("socket ended".into()));
                        return;
                    }
                };
                let v: Value = serde_json::from_str(t.as_str()).unwrap_or(Value::Null);
                let event = &v["payload"]["data"]["cycleEvents"];
                let report = match v["type"].as_str() {
                    Some("next") if v["payload"].get("errors").is_some() => {
                        Seen::Problem(format!("next with errors: {}", short(&v["payload"]["errors"].to_string())))
                    }
                    Some("next") if event["kind"] == "COMMENT_SUBMITTED" => {
                        match (event["comment"]["number"].as_i64(), event["comment"]["id"].as_str()) {
                            (Some(number), Some(id)) => {
                                let stamped = event["comment"]["submittedAt"]
                                    .as_str()
                                    .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
                                    .and_then(|t| (wall - t.with_timezone(&chrono::Utc)).num_microseconds())
                                    .map(|us| us as f64 / 1000.0);
                                Seen::Comment { sub, number, id: id.to_owned(), at, stamped }
                            }
                            _ => Seen::Problem(format!("COMMENT_SUBMITTED without a comment: {}", short(t.as_str()))),
                        }
                    }
                    Some("next") => Seen::Other,
                    _ => Seen::Problem(format!("message: {}", short(t.as_str()))),
                };
                if seen.send(report).is_err() {
                    return;
                }
            }
        }
    }
}

/// Every delivery so far: `(comment number, subscriber) -> receipt times`.
#[derive(Default)]
struct Tally {
    got: HashMap<(i64, usize), Vec<Instant>>,
    /// The ids the subscribers were given with each number.
    seen_ids: HashMap<i64, HashSet<String>>,
    other: usize,
    problems: HashMap<String, usize>,
}

impl Tally {
    fn take(&mut self, s: Seen) {
        match s {
            Seen::Comment {
                sub,
                number,
                id,
                at,
                ..
            } => {
                if !self.seen_ids.get(&number).is_some_and(|s| s.contains(&id)) {
                    self.seen_ids.entry(number).or_default().insert(id);
                }
                self.got.entry((number, sub)).or_default().push(at);
            }
            Seen::Other => self.other += 1,
            Seen::Problem(p) => *self.problems.entry(p).or_default() += 1,
        }
    }

    /// Take what has arrived, waiting at most `wait` for the first.
    async fn drain(&mut self, rx: &mut mpsc::UnboundedReceiver<Seen>, wait: Duration) {
        if let Ok(Some(s)) = tokio::time::timeout(wait, rx.recv()).await {
            self.take(s);
        }
        while let Ok(s) = rx.try_recv() {
            self.take(s);
        }
    }

    /// Subscribers that received `number`.
    fn reached(&self, number: i64, subscribers: usize) -> usize {
        (0..subscribers)
            .filter(|s| self.got.contains_key(&(number, *s)))
            .count()
    }
}

async fn submit(
    http: &reqwest::Client,
    port: u16,
    token: &str,
    cycle: &str,
    body: &str,
) -> Result<(i64, String), String> {
    let v = graphql(
        http,
        port,
        token,
        json!({ "query": SUBMIT, "variables": { "c": cycle, "b": body } }),
    )
    .await;
    let c = &v["data"]["submitComment"]["comment"];
    match (c["number"].as_i64(), c["id"].as_str()) {
        (Some(n), Some(id)) if v.get("errors").is_none() => Ok((n, id.to_owned())),
        _ => Err(short(&v.to_string())),
    }
}

/// Subscribers on one cycle, each socket read by a task of its own.
struct Subscribers {
    /// Those that connected, by index (of `0..asked`).
    connected: Vec<usize>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    seen: mpsc::UnboundedReceiver<Seen>,
    stop: watch::Sender<bool>,
}

impl Subscribers {
    /// Connect `n` subscribers to `cycle` (as the users of `tokens` in turn),
    /// `CONNECTING` handshakes at a time; `case` prefixes what is printed.
    async fn connect(
        case: &str,
        (tokens, query): (&[&str], &str),
        cycle: &str,
        n: usize,
        port: u16,
    ) -> Self {
        let started = Instant::now();
        let opened: Vec<(usize, Result<Ws, String>)> = futures_util::stream::iter(0..n)
            .map(|i| {
                let token = tokens[i % tokens.len()];
                async move {
                    let r = match tokio::time::timeout(TIMEOUT, open(port, token, cycle, query))
                        .await
                    {
                        Ok(r) => r,
                        Err(_) => Err("timed out connecting".into()),
                    };
                    (i, r)
                }
            })
            .buffer_unordered(CONNECTING)
            .collect()
            .await;
        let connect_time = started.elapsed();
        let (seen_tx, seen) = mpsc::unbounded_channel();
        let (stop, stop_rx) = watch::channel(false);
        let mut failed: HashMap<String, usize> = HashMap::new();
        let mut tasks = Vec::new();
        let mut connected = Vec::new();
        for (i, r) in opened {
            match r {
                Ok(ws) => {
                    connected.push(i);
                    tasks.push(tokio::spawn(listen(
                        i,
                        ws,
                        seen_tx.clone(),
                        stop_rx.clone(),
                    )));
                }
                Err(e) => *failed.entry(e).or_default() += 1,
            }
        }
        println!(
            "{case}: {}/{n} subscribers connected in {:.0} ms{}",
            connected.len(),
            ms(connect_time),
            if failed.is_empty() {
                String::new()
            } else {
                format!("; FAILED: {failed:?}")
            }
        );
        Subscribers {
            connected,
            tasks,
            seen,
            stop,
        }
    }

    /// Close every socket; what they had read is still in `seen`.
    async fn close(&mut self) {
        let _ = self.stop.send(true);
        for t in self.tasks.drain(..) {
            let _ = tokio::time::timeout(Duration::from_secs(10), t).await;
        }
    }
}

/// The server takes each subscription on its own time (there is no
/// acknowledgement): comments, at most 10, until every subscriber has had
/// one. Returns their numbers (none when `submitComment` failed) and the time taken.
async fn warm_up(
    case: &str,
    subs: &mut Subscribers,
    tally: &mut Tally,
    ids: &mut HashMap<i64, String>,
    (http, port): (&reqwest::Client, u16),
    submitter: &str,
    cycle: &str,
) -> (Vec<i64>, Duration) {
    let warm_started = Instant::now();
    let mut warm_numbers = Vec::new();
    for round in 0..10 {
        match submit(
            http,
            port,
            submitter,
            cycle,
            &format!("Warm-up comment {round}"),
        )
        .await
        {
            Ok((n, id)) => {
                ids.insert(n, id);
                warm_numbers.push(n);
            }
            Err(e) => {
                println!("{case}: warm-up submitComment FAILED: {e}");
                break;
            }
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut all_ready = false;
        while Instant::now() < deadline {
            tally.drain(&mut subs.seen, Duration::from_millis(50)).await;
            all_ready = subs.connected.iter().all(|s| {
                warm_numbers
                    .iter()
                    .any(|n| tally.got.contains_key(&(*n, *s)))
            });
            if all_ready {
                break;
            }
        }
        if all_ready {
            break;
        }
    }
    (warm_numbers, warm_started.elapsed())
}

/// How many of `subs` have received one of `numbers`.
fn live_count(subs: &Subscribers, tally: &Tally, numbers: &[i64]) -> usize {
    subs.connected
        .iter()
        .filter(|s| numbers.iter().any(|n| tally.got.contains_key(&(*n, **s))))
        .count()
}

async fn fan_out(
    label: &str,
    seeded: &Seeded,
    server: &mut Server,
    http: &reqwest::Client,
    port: u16,
) {
    let subscribers = env_usize("LIVE_SUBSCRIBERS", 1_000);
    let comments = env_usize("LIVE_COMMENTS", 50);
    let cycle = seeded.cycle_gid.as_str();
    let case = format!("live fan-out ({label})");
    // Subscribers as the rapporteur and every delegation (the submitter's too).
    let readers: Vec<&str> = seeded.tokens.iter().map(String::as_str).collect();
    let submitter = seeded.tokens[1].as_str();
    let rss_idle = common::rss_kib(server.pid());

    let mut subs =
        Subscribers::connect(&case, (&readers, SUBSCRIPTION), cycle, subscribers, port).await;
    let mut tally = Tally::default();
    let mut ids: HashMap<i64, String> = HashMap::new();
    let (warm_numbers, warm_time) = warm_up(
        &case,
        &mut subs,
        &mut tally,
        &mut ids,
        (http, port),
        submitter,
        cycle,
    )
    .await;
    if warm_numbers.is_empty() {
        subs.close().await;
        return;
    }
    println!(
        "{case}: {}/{} subscribers live after {} warm-up comment(s), {:.0} ms; server RSS {:.1} MiB idle, {:.1} MiB with the subscribers",
        live_count(&subs, &tally, &warm_numbers),
        subs.connected.len(),
        warm_numbers.len(),
        ms(warm_time),
        rss_idle as f64 / 1024.0,
        common::rss_kib(server.pid()) as f64 / 1024.0,
    );
    let connected = subs.connected.clone();
    let seen_rx = &mut subs.seen;
    // Let the warm-up's stragglers in before measuring.
    tally.drain(seen_rx, Duration::from_millis(200)).await;

    // The measured comments.
    let mut sent: HashMap<i64, Instant> = HashMap::new();
    let mut order = Vec::new();
    let mut http_times = Vec::new();
    let mut submit_errors = Vec::new();
    for k in 0..comments {
        let body = format!("Live comment {k}: the indicator on données ouvertes needs a baseline.");
        let t0 = Instant::now();
        match tokio::time::timeout(TIMEOUT, submit(http, port, submitter, cycle, &body)).await {
            Ok(Ok((n, id))) => {
                http_times.push(t0.elapsed());
                sent.insert(n, t0);
                ids.insert(n, id);
                order.push(n);
            }
            Ok(Err(e)) => submit_errors.push(e),
            Err(_) => submit_errors.push("submitComment timed out".into()),
        }
        tally.drain(seen_rx, Duration::ZERO).await;
        tokio::time::sleep(PAUSE).await;
    }
    let expected = connected.len() * order.len();
    let unique = |t: &Tally| {
        order
            .iter()
            .map(|n| t.reached(*n, subscribers))
            .sum::<usize>()
    };
    let deadline = Instant::now() + TIMEOUT;
    while unique(&tally) < expected && Instant::now() < deadline {
        tally.drain(seen_rx, Duration::from_millis(100)).await;
    }
    let waited_all = unique(&tally) >= expected;
    // Late duplicates, if any.
    tally.drain(seen_rx, Duration::from_millis(500)).await;
    subs.close().await;
    while let Ok(s) = subs.seen.try_recv() {
        tally.take(s);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_after = common::rss_kib(server.pid());

    let mut latencies = Vec::with_capacity(expected);
    let mut duplicates = 0;
    let mut per_comment_max = Vec::new();
    for n in &order {
        let t0 = sent[n];
        let mut worst = Duration::ZERO;
        for s in &connected {
            if let Some(times) = tally.got.get(&(*n, *s)) {
                duplicates += times.len() - 1;
                let d = times[0].saturating_duration_since(t0);
                worst = worst.max(d);
                latencies.push(d);
            }
        }
        per_comment_max.push(worst);
    }
    let warm_dups: usize = warm_numbers
        .iter()
        .flat_map(|n| connected.iter().map(move |s| (*n, *s)))
        .filter_map(|k| tally.got.get(&k))
        .map(|t| t.len() - 1)
        .sum();
    let strays = tally
        .got
        .keys()
        .filter(|(n, _)| !sent.contains_key(n) && !warm_numbers.contains(n))
        .count();
    let wrong_ids = tally
        .seen_ids
        .iter()
        .filter(|(n, seen)| {
            ids.get(n)
                .is_none_or(|id| seen.len() != 1 || !seen.contains(id))
        })
        .count();
    let delivered = latencies.len();
    let (p50, p99, max) = percentiles(&mut latencies);
    let (h50, h99, hmax) = percentiles(&mut http_times);
    let (c50, _, _) = percentiles(&mut per_comment_max);
    println!(
        "live fan-out ({label}): {} subscribers x {} comments: delivered {delivered}/{expected}, missing {}, dup {duplicates}; p50 {p50:.1} ms p99 {p99:.1} ms max {max:.1} ms",
        connected.len(),
        order.len(),
        expected - delivered,
    );
    println!(
        "live fan-out ({label}): last subscriber reached per comment: median {c50:.1} ms; submitComment HTTP p50 {h50:.1} ms p99 {h99:.1} ms max {hmax:.1} ms{}",
        if waited_all { "" } else { "; GAVE UP WAITING after 60 s" }
    );
    println!(
        "live fan-out ({label}): server RSS 2 s after the subscribers left: {:.1} MiB",
        rss_after as f64 / 1024.0
    );
    if !submit_errors.is_empty() {
        println!(
            "live fan-out ({label}): {} submitComment FAILED, first: {}",
            submit_errors.len(),
            submit_errors[0]
        );
    }
    if warm_dups > 0 || strays > 0 || wrong_ids > 0 || tally.other > 0 {
        println!(
            "live fan-out ({label}): warm-up duplicates {warm_dups}, deliveries of unknown comments {strays}, comments delivered with the wrong id {wrong_ids}, other events {}",
            tally.other
        );
    }
    if expected > delivered {
        let mut short_of: Vec<(i64, usize)> = order
            .iter()
            .map(|n| (*n, tally.reached(*n, subscribers)))
            .filter(|(_, r)| *r < connected.len())
            .collect();
        short_of.truncate(10);
        println!(
            "live fan-out ({label}): comments not delivered to everyone (number, subscribers reached): {short_of:?}"
        );
    }
    for (p, count) in &tally.problems {
        println!("live fan-out ({label}): subscribers were told {count} time(s): {p}");
    }
    if let Some(status) = server.exited() {
        println!("live fan-out ({label}): THE SERVER EXITED: {status}");
    }
}

// ---------------------------------------------------------------------------
// Mixed load

/// A subscriber's first receipt of a comment, and milliseconds since the
/// comment's `submittedAt`.
type Receipt = (Instant, Option<f64>);

/// First receipts of comments by number, one slot per subscriber.
#[derive(Default)]
struct Receipts {
    first: HashMap<i64, Vec<Option<Receipt>>>,
    /// The id the subscribers were first given with each number, and how
    /// often they were given another.
    ids: HashMap<i64, String>,
    wrong_ids: usize,
    duplicates: usize,
    other: usize,
    problems: HashMap<String, usize>,
}

impl Receipts {
    fn take(&mut self, s: Seen, subscribers: usize) {
        match s {
            Seen::Comment {
                sub,
                number,
                id,
                at,
                stamped,
            } => {
                match self.ids.get(&number) {
                    Some(known) if *known != id => self.wrong_ids += 1,
                    Some(_) => {}
                    None => {
                        self.ids.insert(number, id);
                    }
                }
                let slots = self
                    .first
                    .entry(number)
                    .or_insert_with(|| vec![None; subscribers]);
                match slots.get_mut(sub) {
                    Some(slot @ None) => *slot = Some((at, stamped)),
                    Some(Some(_)) => self.duplicates += 1,
                    None => {}
                }
            }
            Seen::Other => self.other += 1,
            Seen::Problem(p) => *self.problems.entry(p).or_default() += 1,
        }
    }

    /// Take what has arrived, waiting at most `wait` for the first.
    async fn drain(
        &mut self,
        rx: &mut mpsc::UnboundedReceiver<Seen>,
        subscribers: usize,
        wait: Duration,
    ) {
        if let Ok(Some(s)) = tokio::time::timeout(wait, rx.recv()).await {
            self.take(s, subscribers);
        }
        while let Ok(s) = rx.try_recv() {
            self.take(s, subscribers);
        }
    }

    /// Deliveries of `numbers` so far.
    fn count(&self, numbers: &[i64]) -> usize {
        numbers
            .iter()
            .filter_map(|n| self.first.get(n))
            .map(|slots| slots.iter().flatten().count())
            .sum()
    }
}

/// A comment a writer had accepted.
struct Written {
    number: i64,
    id: String,
    /// Just before its request was sent.
    sent: Instant,
    took: Duration,
}

/// Submit comments one after another (with `pause` between) until `until`;
/// writer `writer` of `writers` starts that share of a pause late, so that
/// paused writers do not move in step.
async fn write_loop(
    http: reqwest::Client,
    port: u16,
    token: String,
    cycle: String,
    (writer, writers): (usize, usize),
    until: Instant,
    pause: Duration,
) -> (Vec<Written>, Vec<String>) {
    let (mut written, mut errors) = (Vec::new(), Vec::new());
    tokio::time::sleep(pause.mul_f64(writer as f64 / writers.max(1) as f64)).await;
    let mut k = 0;
    while Instant::now() < until {
        // Words no search query of this benchmark looks for.
        let body = format!("Mixed-load note {k} from writer {writer}: wording to revisit.");
        k += 1;
        let sent = Instant::now();
        match tokio::time::timeout(TIMEOUT, submit(&http, port, &token, &cycle, &body)).await {
            Ok(Ok((number, id))) => written.push(Written {
                number,
                id,
                sent,
                took: sent.elapsed(),
            }),
            Ok(Err(e)) => errors.push(e),
            Err(_) => errors.push("submitComment timed out".into()),
        }
        if !pause.is_zero() {
            tokio::time::sleep(pause.min(until.saturating_duration_since(Instant::now()))).await;
        }
    }
    (written, errors)
}

/// Ask for the cycle page one request after another until `until`.
async fn read_loop(
    http: reqwest::Client,
    port: u16,
    token: String,
    body: Value,
    until: Instant,
) -> (Vec<Duration>, Vec<String>) {
    let (mut times, mut errors) = (Vec::new(), Vec::new());
    while Instant::now() < until {
        let t0 = Instant::now();
        match tokio::time::timeout(TIMEOUT, graphql(&http, port, &token, body.clone())).await {
            Ok(v) if v.get("errors").is_some() => errors.push(short(&v["errors"].to_string())),
            Ok(v) if v["data"]["cycle"]["comments"]["nodes"].as_array().is_none() => {
                errors.push(format!("no comments: {}", short(&v.to_string())))
            }
            Ok(_) => times.push(t0.elapsed()),
            Err(_) => errors.push("the cycle page timed out".into()),
        }
    }
    (times, errors)
}

/// Mixed load on a server with the default request pool: `LIVE_WRITERS`
/// (16) tasks submit comments over HTTP in a loop and `LIVE_READERS` (8) ask
/// for the cycle page in a loop, for `LIVE_MIXED_SECS` (20), while
/// `LIVE_SUBSCRIBERS` (1,000) listen to the cycle. Latency of each
/// (writer's comment, subscriber) delivery, from just before the
/// `submitComment` request is sent to the subscriber's receipt; deliveries
/// received against expected; the requests' own times. `LIVE_WRITER_PAUSE_MS`
/// (0) puts a pause after each writer's submission.
async fn mixed(
    label: &str,
    seeded: &Seeded,
    server: &mut Server,
    http: &reqwest::Client,
    port: u16,
    pool: &str,
) {
    let secs = env_usize("LIVE_MIXED_SECS", 20);
    let writers = env_usize("LIVE_WRITERS", 16);
    let readers = env_usize("LIVE_READERS", 8);
    let subscribers = env_usize("LIVE_SUBSCRIBERS", 1_000);
    let pause = Duration::from_millis(env_usize("LIVE_WRITER_PAUSE_MS", 0) as u64);
    let cycle = seeded.mixed_cycle_gid.as_str();
    let case = format!("live mixed ({label})");
    let tokens: Vec<&str> = seeded.tokens.iter().map(String::as_str).collect();
    println!(
        "{case}: request pool {pool} (KITREVIEW_DB_MAX_CONNECTIONS), {writers} writers{}, {readers} readers of the cycle page, {subscribers} subscribers, {secs} s",
        if pause.is_zero() { String::new() } else { format!(" ({} ms apart)", pause.as_millis()) }
    );

    let mut subs = Subscribers::connect(
        &case,
        (&tokens, MIXED_SUBSCRIPTION),
        cycle,
        subscribers,
        port,
    )
    .await;
    let mut tally = Tally::default();
    let (warm_numbers, warm_time) = warm_up(
        &case,
        &mut subs,
        &mut tally,
        &mut HashMap::new(),
        (http, port),
        tokens[1],
        cycle,
    )
    .await;
    if warm_numbers.is_empty() {
        subs.close().await;
        return;
    }
    println!(
        "{case}: {}/{} subscribers live after {} warm-up comment(s), {:.0} ms",
        live_count(&subs, &tally, &warm_numbers),
        subs.connected.len(),
        warm_numbers.len(),
        ms(warm_time),
    );
    tally
        .drain(&mut subs.seen, Duration::from_millis(200))
        .await;
    drop(tally);

    let mut receipts = Receipts::default();
    let started = Instant::now();
    let until = started + Duration::from_secs(secs as u64);
    let page = json!({ "query": common::CYCLE_PAGE, "variables": { "c": cycle, "r": seeded.mixed_revision_gid } });
    let write_tasks: Vec<_> = (0..writers)
        .map(|w| {
            // The four delegations in turn.
            let token = seeded.tokens[1 + w % 4].clone();
            tokio::spawn(write_loop(
                http.clone(),
                port,
                token,
                cycle.to_owned(),
                (w, writers),
                until,
                pause,
            ))
        })
        .collect();
    let read_tasks: Vec<_> = (0..readers)
        .map(|r| {
            let token = seeded.tokens[r % seeded.tokens.len()].clone();
            tokio::spawn(read_loop(http.clone(), port, token, page.clone(), until))
        })
        .collect();
    while Instant::now() < until {
        receipts
            .drain(&mut subs.seen, subscribers, Duration::from_millis(50))
            .await;
    }
    let mut written = Vec::new();
    let mut submit_errors = Vec::new();
    for t in write_tasks {
        match t.await {
            Ok((w, e)) => {
                written.extend(w);
                submit_errors.extend(e);
            }
            Err(e) => submit_errors.push(format!("writer task: {e}")),
        }
        receipts
            .drain(&mut subs.seen, subscribers, Duration::ZERO)
            .await;
    }
    let ran = started.elapsed();
    let mut page_times = Vec::new();
    let mut page_errors = Vec::new();
    for t in read_tasks {
        match t.await {
            Ok((d, e)) => {
                page_times.extend(d);
                page_errors.extend(e);
            }
            Err(e) => page_errors.push(format!("reader task: {e}")),
        }
        receipts
            .drain(&mut subs.seen, subscribers, Duration::ZERO)
            .await;
    }
    let numbers: Vec<i64> = written.iter().map(|w| w.number).collect();
    let connected = subs.connected.clone();
    let expected = connected.len() * numbers.len();
    let deadline = Instant::now() + TIMEOUT;
    while receipts.count(&numbers) < expected && Instant::now() < deadline {
        receipts
            .drain(&mut subs.seen, subscribers, Duration::from_millis(100))
            .await;
    }
    let drained_after = started.elapsed().saturating_sub(ran);
    let waited_all = receipts.count(&numbers) >= expected;
    // Late duplicates, if any.
    receipts
        .drain(&mut subs.seen, subscribers, Duration::from_millis(500))
        .await;
    subs.close().await;
    while let Ok(s) = subs.seen.try_recv() {
        receipts.take(s, subscribers);
    }

    let mut latencies = Vec::with_capacity(expected);
    let mut per_comment_max = Vec::with_capacity(written.len());
    // p99 of the comments sent in each quarter of the run: does the lag grow?
    let mut quarters: Vec<Vec<Duration>> = vec![Vec::new(); 4];
    // The commit lies between the comment's stamp (or the request's sending)
    // and the writer's response: the lag from the commit is at most the time
    // since the stamp and at least the time since the response.
    let mut since_stamp = Vec::with_capacity(expected);
    let mut since_answer = Vec::with_capacity(expected);
    let mut wrong_ids = receipts.wrong_ids;
    for w in &written {
        if receipts.ids.get(&w.number).is_some_and(|id| *id != w.id) {
            wrong_ids += 1;
        }
        let Some(slots) = receipts.first.get(&w.number) else {
            continue;
        };
        let quarter = ((w.sent - started).as_secs_f64() / secs.max(1) as f64 * 4.0) as usize;
        let mut worst = Duration::ZERO;
        let answered = w.sent + w.took;
        for s in &connected {
            if let Some(Some((at, stamp))) = slots.get(*s) {
                let d = at.saturating_duration_since(w.sent);
                worst = worst.max(d);
                latencies.push(d);
                quarters[quarter.min(3)].push(d);
                if let Some(ms) = stamp {
                    since_stamp.push(*ms);
                }
                since_answer.push(if *at >= answered {
                    ms(*at - answered)
                } else {
                    -ms(answered - *at)
                });
            }
        }
        per_comment_max.push(worst);
    }
    let strays = receipts
        .first
        .keys()
        .filter(|n| !numbers.contains(n) && !warm_numbers.contains(n))
        .count();
    let delivered = latencies.len();
    let (p50, p99, max) = percentiles(&mut latencies);
    let (c50, c99, _) = percentiles(&mut per_comment_max);
    let (s50, s99, smax) = percentiles_ms(&mut since_stamp);
    let (a50, a99, amax) = percentiles_ms(&mut since_answer);
    let mut http_times: Vec<Duration> = written.iter().map(|w| w.took).collect();
    let (h50, h99, hmax) = percentiles(&mut http_times);
    let pages = page_times.len();
    let (g50, g99, gmax) = percentiles(&mut page_times);
    let secs_f = ran.as_secs_f64();
    println!(
        "{case}: {} subscribers x {} comments: delivered {delivered}/{expected}, missing {}, dup {}; p50 {p50:.1} ms p99 {p99:.1} ms max {max:.1} ms",
        connected.len(),
        written.len(),
        expected - delivered,
        receipts.duplicates,
    );
    let quarter_p99: Vec<String> = quarters
        .iter_mut()
        .map(|q| format!("{:.1}", percentiles(q).1))
        .collect();
    println!(
        "{case}: since the comment's submittedAt (taken before its transaction begins): p50 {s50:.1} ms p99 {s99:.1} ms max {smax:.1} ms; since the writer's response (negative: before it): p50 {a50:.1} ms p99 {a99:.1} ms max {amax:.1} ms",
    );
    println!(
        "{case}: last subscriber reached per comment: median {c50:.1} ms, p99 {c99:.1} ms; delivery p99 by quarter of the run (ms): {}; all delivered {:.1} s after the load stopped{}",
        quarter_p99.join(" / "),
        drained_after.as_secs_f64(),
        if waited_all { "" } else { "; GAVE UP WAITING after 60 s" }
    );
    println!(
        "{case}: submitComment {} accepted ({:.0}/s), {} failed, HTTP p50 {h50:.1} ms p99 {h99:.1} ms max {hmax:.1} ms; cycle page {pages} answered ({:.0}/s), {} failed, p50 {g50:.1} ms p99 {g99:.1} ms max {gmax:.1} ms",
        written.len(),
        written.len() as f64 / secs_f,
        submit_errors.len(),
        pages as f64 / secs_f,
        page_errors.len(),
    );
    println!(
        "{case}: server RSS {:.1} MiB, peak {:.1} MiB",
        common::rss_kib(server.pid()) as f64 / 1024.0,
        common::peak_kib(server.pid()) as f64 / 1024.0
    );
    for (what, errors) in [
        ("submitComment", &submit_errors),
        ("cycle page", &page_errors),
    ] {
        if let Some(first) = errors.first() {
            println!("{case}: {} {what} FAILED, first: {first}", errors.len());
        }
    }
    if strays > 0 || wrong_ids > 0 || receipts.other > 0 {
        println!(
            "{case}: deliveries of unknown comments {strays}, comments delivered with the wrong id {wrong_ids}, other events {}",
            receipts.other
        );
    }
    for (p, count) in &receipts.problems {
        println!("{case}: subscribers were told {count} time(s): {p}");
    }
    if let Some(status) = server.exited() {
        println!("{case}: THE SERVER EXITED: {status}");
    }
}

// ---------------------------------------------------------------------------
// Search

#[rustfmt::skip]
const EN: &[&str] = &[
    "the", "of", "and", "to", "in", "for", "on", "with", "by", "is", "are", "should", "be",
    "this", "that", "from", "as", "at", "or", "which", "data", "government", "digital",
    "services", "public", "national", "policy", "citizens", "access", "network", "networks",
    "security", "environment", "environmental", "climate", "energy", "information", "online",
    "development", "infrastructure", "platform", "management", "strategy", "framework",
    "indicators", "assessment", "readiness", "administration", "regulation", "privacy",
    "protection", "identity", "electronic", "open", "broadband", "mobile", "connectivity",
    "rural", "urban", "agencies", "ministry", "local", "authorities", "stakeholders",
    "capacity", "training", "skills", "literacy", "inclusion", "gender", "accessibility",
    "disabilities", "emissions", "waste", "recycling", "equipment", "devices", "sustainable",
    "sustainability", "monitoring", "reporting", "standards", "interoperability", "cloud",
    "computing", "storage", "centres", "cybersecurity", "resilience", "disaster", "early",
    "warning", "systems", "satellite", "sensors", "water", "air", "quality", "pollution",
    "carbon", "footprint", "renewable", "efficiency", "procurement", "budget", "funding",
    "investment", "partnership", "private", "sector", "operators", "spectrum", "licensing",
    "tariffs", "affordability", "coverage", "households", "schools", "health", "hospitals",
    "payments", "taxation", "registry", "records", "archives", "transparency", "accountability",
    "participation", "consultation", "feedback", "survey", "statistics", "methodology",
    "baseline", "targets", "review", "section", "paragraph", "clarify", "propose", "replace",
    "delete", "add", "reference", "example", "definition", "annex", "table", "figure",
    "measured", "weighted", "published", "updated", "country", "countries", "regional",
    "international", "cooperation",
];

#[rustfmt::skip]
const FR: &[&str] = &[
    "le", "la", "les", "de", "des", "du", "et", "à", "en", "pour", "sur", "dans", "par", "avec",
    "est", "sont", "doit", "une", "un", "ce", "qui", "au", "aux", "données", "gouvernement",
    "État", "numérique", "services", "publics", "public", "nationale", "politique", "citoyens",
    "accès", "réseaux", "réseau", "sécurité", "environnement", "climat", "énergie",
    "information", "développement", "infrastructure", "plateforme", "gestion", "stratégie",
    "cadre", "indicateurs", "évaluation", "administration", "réglementation", "vie", "privée",
    "protection", "identité", "électronique", "ouvertes", "haut", "débit", "mobile",
    "connectivité", "rurales", "zones", "collectivités", "territoriales", "ministère",
    "autorités", "acteurs", "capacités", "formation", "compétences", "inclusion", "genre",
    "accessibilité", "handicap", "émissions", "déchets", "recyclage", "équipements",
    "appareils", "durable", "durabilité", "suivi", "rapports", "normes", "interopérabilité",
    "informatique", "stockage", "centres", "cybersécurité", "résilience", "catastrophes",
    "alerte", "précoce", "systèmes", "satellite", "capteurs", "eau", "qualité", "pollution",
    "carbone", "empreinte", "renouvelables", "efficacité", "marchés", "budget", "financement",
    "investissement", "partenariat", "secteur", "privé", "opérateurs", "spectre", "licences",
    "tarifs", "coût", "couverture", "ménages", "écoles", "santé", "hôpitaux", "paiements",
    "fiscalité", "registre", "dossiers", "archives", "transparence", "responsabilité",
    "participation", "consultation", "société", "civile", "enquête", "statistiques",
    "méthodologie", "référence", "objectifs", "révision", "paragraphe", "préciser", "proposer",
    "remplacer", "supprimer", "ajouter", "exemple", "définition", "annexe", "tableau", "figure",
    "mesuré", "pondéré", "publié", "pays", "régional", "international", "coopération",
    "télécommunications", "régulation",
];

/// Words that occur in a few dozen comments each.
#[rustfmt::skip]
const EN_RARE: &[&str] = &[
    "photovoltaic", "geospatial", "blockchain", "biodiversity", "desalination", "methane",
    "mangroves", "drought", "wildfire", "microgrid", "telemedicine", "geolocation",
    "cryptography", "biometrics", "ransomware", "phishing", "deforestation", "permafrost",
    "hydropower", "chatbot", "algorithmic", "pseudonymisation", "ombudsman", "broadcasting",
    "fibre", "submarine", "landslide", "heatwave", "aquifer", "geothermal",
];

#[rustfmt::skip]
const FR_RARE: &[&str] = &[
    "photovoltaïque", "géospatiales", "biodiversité", "dessalement", "méthane", "sécheresse",
    "incendies", "télémédecine", "géolocalisation", "cryptographie", "biométrie",
    "rançongiciel", "hameçonnage", "déforestation", "hydroélectricité", "anonymisation",
    "médiateur", "câbles", "inondations", "glissements", "érosion", "littoral", "algorithmes",
    "dématérialisation", "téléprocédures", "guichet", "francophonie", "canicule", "nappes",
    "géothermie",
];

/// Ranks drawn with Zipf's law.
struct Zipf(Vec<f64>);

impl Zipf {
    fn new(n: usize) -> Self {
        let mut total = 0.0;
        Zipf(
            (0..n)
                .map(|r| {
                    total += 1.0 / (r as f64 + 1.0);
                    total
                })
                .collect(),
        )
    }

    fn sample(&self, rng: &mut StdRng) -> usize {
        let u = rng.gen::<f64>() * self.0[self.0.len() - 1];
        self.0.partition_point(|c| *c < u).min(self.0.len() - 1)
    }
}

fn sentence(rng: &mut StdRng, words: &[&str], rare: &[&str], zipf: &Zipf, n: usize) -> String {
    let mut out = String::new();
    for i in 0..n {
        let w = if rng.gen_bool(0.0006) {
            rare[rng.gen_range(0..rare.len())]
        } else {
            words[zipf.sample(rng)]
        };
        if i == 0 {
            let mut c = w.chars();
            if let Some(f) = c.next() {
                out.extend(f.to_uppercase());
                out.push_str(c.as_str());
            }
        } else {
            out.push_str(if rng.gen_bool(0.08) { ", " } else { " " });
            out.push_str(w);
        }
    }
    out.push('.');
    out
}

/// One upload: `rows` comments of the delegation `country`.
fn sheet(rng: &mut StdRng, country: &str, rows: usize) -> Vec<u8> {
    let (en, fr) = (Zipf::new(EN.len()), Zipf::new(FR.len()));
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "MB/NC",
        "Clause",
        "Paragraph/Figure/Table",
        "Type of comment",
        "Comment",
        "Proposed change",
        "Language",
    ])
    .expect("csv");
    for _ in 0..rows {
        let french = rng.gen_bool(0.4);
        let (words, rare, zipf, lang) = if french {
            (FR, FR_RARE, &fr, "fr")
        } else {
            (EN, EN_RARE, &en, "en")
        };
        let section = rng.gen_range(1..=20);
        let (clause, location) = match rng.gen_range(0..10) {
            0 => ("General".to_owned(), String::new()),
            1..=3 => (section.to_string(), String::new()),
            _ => (
                section.to_string(),
                format!("Paragraph {}", rng.gen_range(1..=5)),
            ),
        };
        let n = rng.gen_range(15..40);
        let body = sentence(rng, words, rare, zipf, n);
        let proposed = if rng.gen_bool(0.3) {
            let n = rng.gen_range(8..20);
            sentence(rng, words, rare, zipf, n)
        } else {
            String::new()
        };
        let ty = ["ge", "te", "ed"][rng.gen_range(0..3)];
        w.write_record([country, &clause, &location, ty, &body, &proposed, lang])
            .expect("csv");
    }
    w.into_inner().expect("csv")
}

/// Upload `total` generated comments, `UPLOAD_ROWS` at a time, each upload
/// by the next delegation. Returns the time taken and the slowest upload.
async fn seed_search(
    seeded: &Seeded,
    http: &reqwest::Client,
    port: u16,
    total: usize,
) -> Result<(Duration, Duration), String> {
    let mut rng = StdRng::seed_from_u64(17);
    let started = Instant::now();
    let mut slowest = Duration::ZERO;
    let mut done = 0;
    let mut k = 0;
    while done < total {
        let rows = UPLOAD_ROWS.min(total - done);
        let who = 1 + k % 4;
        let bytes = sheet(&mut rng, &seeded.countries[who], rows);
        let t0 = Instant::now();
        let res = http
            .post(format!(
                "http://127.0.0.1:{port}/imports/cycles/{}/comments",
                seeded.cycle_gid
            ))
            .bearer_auth(&seeded.tokens[who])
            .header("content-type", "text/csv; charset=utf-8")
            .body(bytes)
            .send()
            .await
            .map_err(|e| format!("upload {k} failed: {e}"))?;
        let status = res.status();
        let body = res.text().await.unwrap_or_default();
        let took = t0.elapsed();
        slowest = slowest.max(took);
        let imported = serde_json::from_str::<Value>(&body)
            .ok()
            .and_then(|v| v["imported"].as_u64())
            .unwrap_or(0) as usize;
        if !status.is_success() || imported != rows {
            return Err(format!(
                "upload {k} answered {status} after {:.1} s, imported {imported}/{rows}: {}",
                took.as_secs_f64(),
                short(&body)
            ));
        }
        done += rows;
        k += 1;
    }
    Ok((started.elapsed(), slowest))
}

/// The queries: rare words, common words, two words, accent-free French.
fn queries(n: usize) -> Vec<(&'static str, String)> {
    let mut rng = StdRng::seed_from_u64(4242);
    let rare: Vec<&str> = EN_RARE.iter().chain(FR_RARE).copied().collect();
    let common = [
        "data",
        "government",
        "digital",
        "services",
        "public",
        "security",
        "climate",
        "données",
        "gouvernement",
        "numérique",
        "réseaux",
        "État",
        "société",
        "énergie",
    ];
    let plain = [
        "etat",
        "donnees",
        "reseaux",
        "societe",
        "securite",
        "electronique",
        "numerique",
        "energie",
        "developpement",
        "evaluation",
        "biodiversite",
        "telemedecine",
        "dechets",
        "strategie",
    ];
    // Content words of middling frequency (past the function words).
    let (en_mid, fr_mid) = (&EN[20..90], &FR[23..95]);
    (0..n)
        .map(|i| match i % 4 {
            0 => ("rare word", rare[rng.gen_range(0..rare.len())].to_owned()),
            1 => (
                "common word",
                common[rng.gen_range(0..common.len())].to_owned(),
            ),
            2 => {
                let mid = if rng.gen_bool(0.5) { en_mid } else { fr_mid };
                let a = mid[rng.gen_range(0..mid.len())];
                let mut b = mid[rng.gen_range(0..mid.len())];
                while b == a {
                    b = mid[rng.gen_range(0..mid.len())];
                }
                ("two words", format!("{a} {b}"))
            }
            _ => (
                "no accents",
                plain[rng.gen_range(0..plain.len())].to_owned(),
            ),
        })
        .collect()
}

/// Seed the comments to search; false when that failed.
async fn seed_for_search(label: &str, seeded: &Seeded, http: &reqwest::Client, port: u16) -> bool {
    let total = env_usize("SEARCH_COMMENTS", 100_000);
    let (took, slowest) = match seed_search(seeded, http, port, total).await {
        Ok(v) => v,
        Err(e) => {
            println!("search ({label}): seeding FAILED: {e}");
            return false;
        }
    };
    println!(
        "search ({label}): seeded {total} comments in {} uploads: {:.1} s ({:.0} comments/s), slowest upload {:.1} s",
        total.div_ceil(UPLOAD_ROWS),
        took.as_secs_f64(),
        total as f64 / took.as_secs_f64(),
        slowest.as_secs_f64()
    );
    true
}

/// Refresh the planner's statistics, as PostgreSQL's autovacuum would (it
/// may be off, as on test servers) and as nothing does on SQLite.
async fn analyze(url: &str) -> Result<Duration, String> {
    use sqlx::Connection as _;
    let t0 = Instant::now();
    if url.starts_with("sqlite:") {
        let mut c = sqlx::SqliteConnection::connect(url)
            .await
            .map_err(|e| e.to_string())?;
        sqlx::Executor::execute(&mut c, "ANALYZE")
            .await
            .map_err(|e| e.to_string())?;
        c.close().await.map_err(|e| e.to_string())?;
    } else {
        let mut c = sqlx::PgConnection::connect(url)
            .await
            .map_err(|e| e.to_string())?;
        sqlx::Executor::execute(&mut c, "ANALYZE")
            .await
            .map_err(|e| e.to_string())?;
        c.close().await.map_err(|e| e.to_string())?;
    }
    Ok(t0.elapsed())
}

/// The queries, one after another, as the rapporteur (who sees every comment).
async fn search(
    label: &str,
    seeded: &Seeded,
    server: &mut Server,
    http: &reqwest::Client,
    port: u16,
) {
    let total = env_usize("SEARCH_COMMENTS", 100_000);
    let n = env_usize("SEARCH_QUERIES", 200);
    let budget = Duration::from_secs(env_usize("SEARCH_BUDGET_SECS", 300) as u64);
    let token = seeded.tokens[0].as_str();
    let run = |q: String| async move {
        let t0 = Instant::now();
        let v = tokio::time::timeout(
            TIMEOUT,
            graphql(
                http,
                port,
                token,
                json!({ "query": SEARCH, "variables": { "q": q } }),
            ),
        )
        .await;
        (
            t0.elapsed(),
            v.unwrap_or_else(|_| json!({ "errors": ["timed out"] })),
        )
    };
    // A few queries first, not measured.
    let started = Instant::now();
    for q in ["indicators", "etat", "canicule"] {
        let (d, v) = run(q.to_owned()).await;
        if v.get("errors").is_some() || d > Duration::from_secs(1) {
            println!(
                "search ({label}): warm-up query {q:?}: {:.0} ms{}",
                ms(d),
                v.get("errors")
                    .map(|e| format!(", errors: {}", short(&e.to_string())))
                    .unwrap_or_default()
            );
        }
    }
    let mut all = Vec::new();
    let mut by_kind: Vec<(&str, Vec<Duration>, i64)> = Vec::new();
    let mut counts = 0i64;
    let mut errors: Vec<String> = Vec::new();
    let mut zero = Vec::new();
    let mut failed_times = Vec::new();
    let mut asked = 0;
    for (kind, q) in queries(n) {
        if started.elapsed() > budget {
            break;
        }
        asked += 1;
        let (d, v) = run(q.clone()).await;
        if let Some(e) = v.get("errors") {
            errors.push(format!(
                "{kind} {q:?} after {:.0} ms: {}",
                ms(d),
                short(&e.to_string())
            ));
            failed_times.push(d);
            continue;
        }
        let found = &v["data"]["searchComments"];
        let count = found["totalCount"].as_i64().unwrap_or(0);
        let edges = found["edges"].as_array().map_or(0, Vec::len);
        if count == 0 {
            zero.push(q.clone());
        }
        let with_snippets = found["edges"].as_array().map_or(0, |e| {
            e.iter()
                .filter(|e| {
                    e["node"]["snippets"]
                        .as_array()
                        .is_some_and(|s| !s.is_empty())
                })
                .count()
        });
        if edges != with_snippets {
            errors.push(format!(
                "{q:?}: {} of {edges} hits without a snippet",
                edges - with_snippets
            ));
        }
        counts += count;
        all.push(d);
        match by_kind.iter_mut().find(|(k, _, _)| *k == kind) {
            Some((_, v, c)) => {
                v.push(d);
                *c += count;
            }
            None => by_kind.push((kind, vec![d], count)),
        }
    }
    let answered = all.len();
    let (p50, p99, max) = percentiles(&mut all);
    println!(
        "search ({label}): {total} comments, {answered} queries: p50 {p50:.1} ms p99 {p99:.1} ms max {max:.1} ms, mean totalCount {:.0}",
        counts as f64 / answered.max(1) as f64
    );
    if asked < n {
        println!(
            "search ({label}): STOPPED after {asked} of {n} queries: over the {} s budget (SEARCH_BUDGET_SECS)",
            budget.as_secs()
        );
    }
    for (kind, mut v, c) in by_kind {
        let len = v.len();
        let (p50, p99, max) = percentiles(&mut v);
        println!(
            "search ({label}):   {kind:<11} x{len}: p50 {p50:.1} ms p99 {p99:.1} ms max {max:.1} ms, mean totalCount {:.0}",
            c as f64 / len as f64
        );
    }
    if !zero.is_empty() {
        zero.sort();
        zero.dedup();
        println!("search ({label}): queries that found nothing: {zero:?}");
    }
    if !errors.is_empty() {
        let (_, _, slowest) = percentiles(&mut failed_times);
        println!(
            "search ({label}): {} of {asked} queries FAILED (slowest failure {slowest:.0} ms):",
            errors.len(),
        );
        for e in errors.iter().take(8) {
            println!("search ({label}):   {e}");
        }
    }
    println!(
        "search ({label}): server RSS {:.1} MiB, peak {:.1} MiB",
        common::rss_kib(server.pid()) as f64 / 1024.0,
        common::peak_kib(server.pid()) as f64 / 1024.0
    );
    if let Some(status) = server.exited() {
        println!("search ({label}): THE SERVER EXITED: {status}");
    }
}

async fn run(label: &str, url: &str, port: u16) {
    let seeded = seed(url).await;
    let mut server = Server::start(url, port);
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(300))
        .build()
        .expect("client");
    common::wait_ready(&http, port).await;
    // LIVE_ROUNDS repeats the fan-out (does the server give memory back?).
    for _ in 0..env_usize("LIVE_ROUNDS", 1) {
        fan_out(label, &seeded, &mut server, &http, port).await;
    }
    // The mixed load, on a server with the default request pool (10;
    // `LIVE_MIXED_POOL`), as deployed.
    if env_usize("LIVE_MIXED_SECS", 20) > 0 {
        drop(server);
        let pool = env_usize("LIVE_MIXED_POOL", 10).to_string();
        let mut mixed_server =
            Server::start_with(url, port, &[("KITREVIEW_DB_MAX_CONNECTIONS", &pool)]);
        common::wait_ready(&http, port).await;
        mixed(label, &seeded, &mut mixed_server, &http, port, &pool).await;
        drop(mixed_server);
        server = Server::start(url, port);
        common::wait_ready(&http, port).await;
    }
    if env_usize("SEARCH_COMMENTS", 100_000) == 0
        || !seed_for_search(label, &seeded, &http, port).await
    {
        return;
    }
    search(label, &seeded, &mut server, &http, port).await;
    // Again with fresh planner statistics, on a restarted server.
    drop(server);
    match analyze(url).await {
        Ok(d) => println!("search ({label}): ANALYZE took {:.1} s", d.as_secs_f64()),
        Err(e) => {
            println!("search ({label}): ANALYZE FAILED: {e}");
            return;
        }
    }
    let mut server = Server::start(url, port);
    common::wait_ready(&http, port).await;
    search(
        &format!("{label}, after ANALYZE"),
        &seeded,
        &mut server,
        &http,
        port,
    )
    .await;
}

/// With `LIVE_HOLD_SECS`, keep the PostgreSQL database that long after the
/// run (before it is dropped), to look at it.
async fn hold(url: &str) {
    let secs = env_usize("LIVE_HOLD_SECS", 0);
    if secs > 0 {
        println!("(keeping {url} for {secs} s)");
        tokio::time::sleep(Duration::from_secs(secs as u64)).await;
    }
}

#[tokio::main]
async fn main() {
    // LIVE_ONLY=sqlite or LIVE_ONLY=postgresql runs one database only;
    // LIVE_SQLITE_DIR keeps the SQLite database there, to look at afterwards.
    let only = std::env::var("LIVE_ONLY").unwrap_or_default();
    let dir = tempfile::tempdir().expect("dir");
    if only.is_empty() || only == "sqlite" {
        let path = match std::env::var_os("LIVE_SQLITE_DIR") {
            Some(d) => std::path::PathBuf::from(d).join(format!("live-{}.db", std::process::id())),
            None => dir.path().join("live.db"),
        };
        let url = format!("sqlite:{}", path.display());
        run("sqlite", &url, 18781).await;
    }
    if only.is_empty() || only == "postgresql" {
        common::with_postgres("kitreview_live", |url| async move {
            run("postgresql", &url, 18782).await;
            hold(&url).await;
        })
        .await;
    }
}
