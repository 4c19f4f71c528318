//! An open-loop WebSocket load generator for chat rooms: `rooms` rooms of `sockets` sockets
//! each, socket 0 of every room sending at a fixed rate (whatever the server answers), every
//! other socket recording when each message reaches it. It speaks two protocols — Beckon's
//! visitor socket (a conversation is a room; two sockets of one visitor are two clients) and
//! Cloudflare's `workers-chat-demo` — so both are measured by the same code on the same
//! machine.

use crate::api::Api;
use beckon_shared::proto::v1::{ClientFrame, ServerFrame};
use beckon_shared::ClientMsgId;
use futures_util::{SinkExt, StreamExt};
use serde::Serialize;
use serde_json::json;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// Who is measured.
#[derive(Clone)]
pub enum Protocol {
    /// Beckon: each room is a conversation of a fresh visitor on `site`.
    Beckon { api: Api, site: String },
    /// `workers-chat-demo` served at `base` (`http://127.0.0.1:<port>`).
    ChatDemo { base: String },
}

/// One load shape.
#[derive(Clone, Debug, Serialize)]
pub struct Scenario {
    pub name: String,
    pub rooms: usize,
    pub sockets: usize,
    pub msgs_per_room: usize,
    /// Messages per second each room's sender offers.
    pub rate_per_room: f64,
}

/// What a run measured.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Outcome {
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// Receptions offered per second (messages offered × receiving sockets).
    pub offered_per_s: f64,
    /// Receptions per second, from the first send to the last reception.
    pub delivered_per_s: f64,
    /// Receptions expected in all.
    pub expected: usize,
    pub delivered: usize,
    pub lost: usize,
    pub duplicated: usize,
    /// Server CPU (user + system) per message sent, in µs, when measured: from just before
    /// the clock starts (the rooms open and woken) until [`AFTERMATH`] after the last
    /// reception.
    #[serde(default)]
    pub cpu_us_per_msg: f64,
    /// How long opening the rooms took, in s.
    #[serde(default)]
    pub open_s: f64,
    /// The wake-up round trip of each room's sender before the clock starts (Beckon only;
    /// see [`Protocol::wake`]): p50 and p99, in ms.
    #[serde(default)]
    pub wake_p50_ms: f64,
    #[serde(default)]
    pub wake_p99_ms: f64,
}

type Sink = futures_util::stream::SplitSink<crate::api::WsStream, WsMessage>;
type Stream = futures_util::stream::SplitStream<crate::api::WsStream>;

impl Protocol {
    /// Opens one room's sockets, each ready to send and receive.
    async fn open_room(&self, room: usize, sockets: usize) -> Vec<(Sink, Stream)> {
        let mut out = Vec::with_capacity(sockets);
        match self {
            Protocol::Beckon { api, site } => {
                let c = api.start_conversation(site, None).await;
                for _ in 0..sockets {
                    out.push(api.visitor_socket(&c).await.into_parts());
                }
            }
            Protocol::ChatDemo { base } => {
                let name = format!("bench-{room}-{}", crate::free_port());
                let url = format!(
                    "{}/api/room/{name}/websocket",
                    base.replace("http://", "ws://")
                );
                for s in 0..sockets {
                    let (ws, _) = tokio_tungstenite::connect_async(url.as_str())
                        .await
                        .expect("demo socket");
                    let (mut sink, mut stream) = ws.split();
                    let hello = json!({ "name": format!("u{s}") }).to_string();
                    sink.send(WsMessage::text(hello)).await.unwrap();
                    // The demo answers {"ready": true} once the backlog is sent.
                    loop {
                        let Some(Ok(WsMessage::Text(t))) = stream.next().await else {
                            panic!("demo socket closed before ready")
                        };
                        if t.contains("\"ready\"") {
                            break;
                        }
                    }
                    out.push((sink, stream));
                }
            }
        }
        out
    }

    /// Wakes every room before the clock starts, and says how long each took (ms). The runtime
    /// evicts an object idle for a few seconds (its sockets stay open, hibernated), and
    /// opening many Beckon rooms takes longer than that (each starts a conversation through
    /// the API), so without this the first message of each would pay for re-creating its
    /// instance while the demo's, opened in a few seconds, do not. One round trip per room:
    /// a `ping` on the sender's socket, answered by the conversation's instance. The demo has
    /// no such frame, and nothing to wake.
    async fn wake(&self, rooms: &mut [Vec<(Sink, Stream)>]) -> Vec<f64> {
        if !matches!(self, Protocol::Beckon { .. }) {
            return Vec::new();
        }
        let ping = serde_json::to_string(&ClientFrame::Ping).unwrap();
        let woken = rooms.iter_mut().enumerate().map(|(r, room)| {
            let ping = ping.clone();
            async move {
                let (sink, stream) = &mut room[0];
                let t0 = Instant::now();
                sink.send(WsMessage::text(ping)).await.expect("ping");
                let pong = async {
                    while let Some(Ok(m)) = stream.next().await {
                        if let WsMessage::Text(t) = m {
                            if matches!(serde_json::from_str(&t), Ok(ServerFrame::Pong)) {
                                return true;
                            }
                        }
                    }
                    false
                };
                match tokio::time::timeout(Duration::from_secs(30), pong).await {
                    Ok(true) => t0.elapsed().as_secs_f64() * 1000.0,
                    Ok(false) => panic!("room {r}: socket closed before its pong"),
                    Err(_) => panic!("room {r}: no pong in 30 s"),
                }
            }
        });
        let mut ms = futures_util::future::join_all(woken).await;
        ms.sort_by(|a, b| a.partial_cmp(b).unwrap());
        ms
    }

    fn encode(&self, id: u64) -> String {
        match self {
            Protocol::Beckon { .. } => serde_json::to_string(&ClientFrame::Send {
                client_msg_id: ClientMsgId::parse(&format!("b{id}")).unwrap(),
                body: format!("m{id}"),
                attachments: Vec::new(),
            })
            .unwrap(),
            Protocol::ChatDemo { .. } => json!({ "message": format!("m{id}") }).to_string(),
        }
    }

    fn decode(is_beckon: bool, text: &str) -> Option<u64> {
        let body = if is_beckon {
            match serde_json::from_str::<ServerFrame>(text).ok()? {
                ServerFrame::Message { message } => message.body,
                _ => return None,
            }
        } else {
            let v: serde_json::Value = serde_json::from_str(text).ok()?;
            v.get("message")?.as_str()?.to_owned()
        };
        body.strip_prefix('m')?.parse().ok()
    }
}

/// How long after a run's last reception its server's CPU is still counted (the sockets still
/// open): the work a message leaves for later (Beckon's index publishes, within 5 s, and the
/// hub's batches a second after) is its cost too.
pub const AFTERMATH: Duration = Duration::from_secs(7);

/// Runs `s` against `p`: opens every room, then sends and records; waits at most `drain`
/// after the last send for receptions still on their way. With `cpu_of` (a process group:
/// the server, `wrangler dev` and its workerd), also the CPU it spent on the messages — not on
/// opening the rooms, which costs Beckon a conversation started over HTTP and a ticket per
/// socket, and the demo a bare upgrade.
pub async fn run(p: &Protocol, s: &Scenario, drain: Duration, cpu_of: Option<u32>) -> Outcome {
    // Open the rooms, a few at a time, then wake them all.
    let opening = Instant::now();
    let mut rooms = Vec::with_capacity(s.rooms);
    for chunk in (0..s.rooms).collect::<Vec<_>>().chunks(25) {
        let opened =
            futures_util::future::join_all(chunk.iter().map(|r| p.open_room(*r, s.sockets))).await;
        rooms.extend(opened);
    }
    let open_s = opening.elapsed().as_secs_f64();
    let woken = p.wake(&mut rooms).await;
    let cpu_before = cpu_of.map(crate::group_cpu_ms);
    let is_beckon = matches!(p, Protocol::Beckon { .. });
    let start = Instant::now() + Duration::from_millis(200);
    let send_span = Duration::from_secs_f64(s.msgs_per_room as f64 / s.rate_per_room);
    let deadline = start + send_span + drain;
    let mut senders = Vec::new();
    let mut readers = Vec::new();
    // The receiving sockets' sending halves, and then the senders': open until the end.
    let mut open = Vec::new();
    for (r, sockets) in rooms.into_iter().enumerate() {
        for (i, (sink, stream)) in sockets.into_iter().enumerate() {
            let receiving = i > 0;
            let want = if receiving { s.msgs_per_room } else { 0 };
            let reading = tokio::spawn(read(stream, is_beckon, receiving, want, deadline));
            // A sender's socket drains (acks) until the deadline, recording nothing: not waited for.
            if receiving {
                readers.push(reading);
            }
            if i == 0 {
                // Rooms start at spread-out phases so their sends do not arrive in bursts.
                let phase = (r as f64 / s.rooms as f64) / s.rate_per_room;
                let p = p.clone();
                let (n, rate) = (s.msgs_per_room, s.rate_per_room);
                let pace = Pace { start, phase, rate };
                senders.push(tokio::spawn(send(p, sink, r, n, pace)));
            } else {
                open.push(sink);
            }
        }
    }
    let mut sent_at: HashMap<u64, Instant> = HashMap::new();
    for t in senders {
        let (sent, sink) = t.await.unwrap();
        sent_at.extend(sent);
        open.push(sink);
    }
    let mut latencies = Vec::new();
    let (mut delivered, mut duplicated, mut last) = (0, 0, start);
    for t in readers {
        let got = t.await.unwrap();
        let mut seen = std::collections::HashSet::new();
        for (id, at) in got {
            if !seen.insert(id) {
                duplicated += 1;
                continue;
            }
            if let Some(sent) = sent_at.get(&id) {
                delivered += 1;
                latencies.push(at.saturating_duration_since(*sent).as_secs_f64() * 1000.0);
                last = last.max(at);
            }
        }
    }
    let cpu_us_per_msg = match (cpu_of, cpu_before) {
        (Some(pgid), Some(before)) => {
            tokio::time::sleep_until((last + AFTERMATH).into()).await;
            (crate::group_cpu_ms(pgid) - before) * 1000.0 / sent_at.len().max(1) as f64
        }
        _ => 0.0,
    };
    // Closed at the drain's deadline, as before the CPU was counted this way, so runs keep
    // the spacing the earlier reports had. What the server does on a close is not counted.
    tokio::time::sleep_until(deadline.into()).await;
    drop(open);
    latencies.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let expected = s.rooms * s.msgs_per_room * (s.sockets - 1);
    let span = last
        .saturating_duration_since(start)
        .as_secs_f64()
        .max(1e-3);
    Outcome {
        p50_ms: percentile(&latencies, 0.50),
        p99_ms: percentile(&latencies, 0.99),
        max_ms: latencies.last().copied().unwrap_or(0.0),
        offered_per_s: s.rooms as f64 * s.rate_per_room * (s.sockets - 1) as f64,
        delivered_per_s: delivered as f64 / span,
        expected,
        delivered,
        lost: expected.saturating_sub(delivered),
        duplicated,
        cpu_us_per_msg,
        open_s,
        wake_p50_ms: percentile(&woken, 0.50),
        wake_p99_ms: percentile(&woken, 0.99),
    }
}

/// The `p` quantile of sorted values (0 for none).
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// When a sender sends: from `start + phase` seconds, `rate` per second.
struct Pace {
    start: Instant,
    phase: f64,
    rate: f64,
}

/// Sends `n` messages of room `room` at its pace; when each left (message ids are
/// `room · 1e6 + i`), and the socket's sending half, still open.
async fn send(
    p: Protocol,
    mut sink: Sink,
    room: usize,
    n: usize,
    pace: Pace,
) -> (HashMap<u64, Instant>, Sink) {
    let mut sent = HashMap::with_capacity(n);
    for i in 0..n {
        let at = pace.start + Duration::from_secs_f64(pace.phase + i as f64 / pace.rate);
        tokio::time::sleep_until(at.into()).await;
        let id = room as u64 * 1_000_000 + i as u64;
        sent.insert(id, Instant::now());
        if sink.send(WsMessage::text(p.encode(id))).await.is_err() {
            break;
        }
    }
    (sent, sink)
}

/// Records every message id this socket receives (with when), until it has `want` distinct
/// ones or `deadline` passes. The sender's socket only drains.
async fn read(
    mut stream: Stream,
    is_beckon: bool,
    receiving: bool,
    want: usize,
    deadline: Instant,
) -> Vec<(u64, Instant)> {
    let mut got = Vec::with_capacity(want);
    let mut distinct = std::collections::HashSet::new();
    loop {
        if receiving && distinct.len() >= want {
            // Stay a little longer to catch duplicates.
            let grace = Instant::now() + Duration::from_millis(200);
            while let Ok(Some(Ok(WsMessage::Text(t)))) =
                tokio::time::timeout_at(grace.into(), stream.next()).await
            {
                if let Some(id) = Protocol::decode(is_beckon, &t) {
                    got.push((id, Instant::now()));
                }
            }
            return got;
        }
        match tokio::time::timeout_at(deadline.into(), stream.next()).await {
            Ok(Some(Ok(WsMessage::Text(t)))) if receiving => {
                let at = Instant::now();
                if let Some(id) = Protocol::decode(is_beckon, &t) {
                    distinct.insert(id);
                    got.push((id, at));
                }
            }
            Ok(Some(Ok(_))) => {}
            _ => return got,
        }
    }
}

/// What the presence scenario measured.
#[derive(Clone, Debug, Default, Serialize)]
pub struct PresenceOutcome {
    pub visitors: usize,
    /// Opening a presence socket (handshake to the hub's welcome).
    pub connect_p50_ms: f64,
    pub connect_p99_ms: f64,
    /// A visitor saying where it is → an open inbox showing it.
    pub seen: Outcome,
}

/// `visitors` chat apps open presence sockets on `site` (a few at a time), then each says
/// where it is, `rate` per second in all, while one inbox watches the site's live feed.
pub async fn presence(
    api: &Api,
    site: &str,
    visitors: usize,
    rate: f64,
    drain: Duration,
) -> PresenceOutcome {
    let ws_base = api.base.replacen("http", "ws", 1);
    let (inbox, _) = tokio_tungstenite::connect_async(api.feed_ws_url(site).await)
        .await
        .expect("inbox feed");
    let (_inbox_sink, mut inbox) = inbox.split();
    let url = format!("{ws_base}/api/v1/sites/{site}/presence");
    let mut connect_ms = Vec::with_capacity(visitors);
    let mut sockets = Vec::with_capacity(visitors);
    for chunk in (0..visitors).collect::<Vec<_>>().chunks(50) {
        let opened = futures_util::future::join_all(chunk.iter().map(|_| async {
            let t0 = Instant::now();
            let (ws, _) = tokio_tungstenite::connect_async(url.as_str())
                .await
                .expect("presence socket");
            let (sink, mut stream) = ws.split();
            let _welcome = stream.next().await;
            (t0.elapsed().as_secs_f64() * 1000.0, sink, stream)
        }))
        .await;
        for (ms, sink, stream) in opened {
            connect_ms.push(ms);
            // Drain what the hub sends each visitor (agent counts) so nothing backs up.
            tokio::spawn(stream.for_each(|_| async {}));
            sockets.push(sink);
        }
    }
    connect_ms.sort_by(|a, b| a.partial_cmp(b).unwrap());
    // The inbox records when each visitor's page first shows up.
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(visitors as f64 / rate) + drain;
    let watcher = tokio::spawn(async move {
        let mut seen: HashMap<usize, (Instant, usize)> = HashMap::new();
        while seen.len() < visitors {
            let Ok(Some(Ok(WsMessage::Text(t)))) =
                tokio::time::timeout_at(deadline.into(), inbox.next()).await
            else {
                break;
            };
            let at = Instant::now();
            let v: serde_json::Value = serde_json::from_str(&t).unwrap_or_default();
            let listed: Vec<&serde_json::Value> = match v["type"].as_str() {
                Some("presence") => v["visitors"]
                    .as_array()
                    .map(|a| a.iter().collect())
                    .unwrap_or_default(),
                Some("here") => vec![&v["visitor"]],
                _ => vec![],
            };
            let mut in_this_event = std::collections::HashSet::new();
            for visitor in listed {
                let Some(i) = visitor["url"]
                    .as_str()
                    .and_then(|u| u.rsplit('/').next())
                    .and_then(|n| n.parse::<usize>().ok())
                else {
                    continue;
                };
                let entry = seen.entry(i).or_insert((at, 0));
                if !in_this_event.insert(i) {
                    entry.1 += 1; // listed twice in one view of the site
                }
            }
        }
        seen
    });
    let mut said_at = Vec::with_capacity(visitors);
    for (i, sink) in sockets.iter_mut().enumerate() {
        let at = start + Duration::from_secs_f64(i as f64 / rate);
        tokio::time::sleep_until(at.into()).await;
        let here = json!({"type": "here", "url": format!("https://shop.example/p/{i}"), "title": "Bench", "since": 0});
        said_at.push(Instant::now());
        let _ = sink.send(WsMessage::text(here.to_string())).await;
    }
    let seen = watcher.await.unwrap();
    let mut latencies: Vec<f64> = seen
        .iter()
        .map(|(i, (at, _))| at.saturating_duration_since(said_at[*i]).as_secs_f64() * 1000.0)
        .collect();
    latencies.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let last = seen.values().map(|(at, _)| *at).max().unwrap_or(start);
    drop(sockets);
    PresenceOutcome {
        visitors,
        connect_p50_ms: percentile(&connect_ms, 0.5),
        connect_p99_ms: percentile(&connect_ms, 0.99),
        seen: Outcome {
            p50_ms: percentile(&latencies, 0.5),
            p99_ms: percentile(&latencies, 0.99),
            max_ms: latencies.last().copied().unwrap_or(0.0),
            offered_per_s: rate,
            delivered_per_s: seen.len() as f64
                / last
                    .saturating_duration_since(start)
                    .as_secs_f64()
                    .max(1e-3),
            expected: visitors,
            delivered: seen.len(),
            lost: visitors - seen.len(),
            duplicated: seen.values().map(|(_, d)| d).sum(),
            ..Default::default()
        },
    }
}
