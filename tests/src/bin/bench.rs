//! `make bench`: relay latency and throughput against the real edge (`wrangler dev`) and the
//! loopback Telegram fake. Prints a report; asserts nothing (targets are read, not enforced).
//!
//! - latency: a visitor message sent over the WebSocket → the fake Telegram API received the
//!   relay (p50/p90/p99 over sequential messages), and the sender's ack latency;
//! - throughput: messages relayed per second from one conversation sending as fast as it
//!   can, and from 50 conversations sending at once.

use beckon_shared::proto::v1::{ClientFrame, ServerFrame};
use beckon_tests::api::{client_id, Api, Ws};
use beckon_tests::edge::Edge;
use beckon_tests::fakes::telegram::FakeTelegram;
use serde_json::json;
use std::time::{Duration, Instant};

const CHAT: i64 = -1001234567890;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

async fn open_visitor(api: &Api, site: &str) -> Ws {
    let c = api.start_conversation(site, None).await;
    api.visitor_socket(&c).await
}

async fn send(ws: &mut Ws, id: String, body: String) {
    ws.send(&ClientFrame::Send {
        client_msg_id: client_id(&id),
        body,
    })
    .await;
}

async fn wait_ack(ws: &mut Ws) {
    ws.recv_until(Duration::from_secs(30), |f| {
        matches!(f, ServerFrame::Ack { .. })
    })
    .await;
}

#[tokio::main]
async fn main() {
    eprintln!("starting wrangler dev and the Telegram fake…");
    let edge = Edge::start(None);
    let api = Api::new(&edge.url);
    let fake = FakeTelegram::start("4242:BENCH").await;
    let site = "bench";
    api.create_site(site).await;
    let r = api
        .send(api.admin(reqwest::Method::PUT, &format!("/api/v1/admin/sites/{site}/channels/telegram")).json(&json!({
            "settings": {"kind": "telegram", "chat_id": CHAT, "api_base": fake.base},
            "secrets": {"kind": "telegram", "bot_token": "4242:BENCH", "webhook_secret": "bench_secret"}
        })))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);

    // Latency: one message at a time.
    const N_LATENCY: usize = 200;
    let mut ws = open_visitor(&api, site).await;
    // Warm up (first relay creates the topic).
    send(&mut ws, "warm".into(), "warm up".into()).await;
    wait_ack(&mut ws).await;
    fake.wait_for(1, Duration::from_secs(30)).await;
    let mut relay = Vec::with_capacity(N_LATENCY);
    let mut ack = Vec::with_capacity(N_LATENCY);
    for i in 0..N_LATENCY {
        let before = fake.sent().len();
        let t0 = Instant::now();
        send(&mut ws, format!("lat-{i}"), format!("latency probe {i}")).await;
        wait_ack(&mut ws).await;
        ack.push(t0.elapsed());
        assert!(
            fake.wait_for(before + 1, Duration::from_secs(30)).await > before,
            "relay {i} never arrived"
        );
        let at = fake.sent()[before].at;
        relay.push(at.saturating_duration_since(t0));
    }
    relay.sort();
    ack.sort();

    // Throughput, one conversation sending as fast as it can.
    const N_ONE: usize = 500;
    let mut ws = open_visitor(&api, site).await;
    let base = fake.sent().len();
    let t0 = Instant::now();
    for i in 0..N_ONE {
        send(&mut ws, format!("one-{i}"), format!("burst {i}")).await;
    }
    let got = fake.wait_for(base + N_ONE, Duration::from_secs(300)).await - base;
    let one_secs = t0.elapsed().as_secs_f64();
    let sent_one = fake.sent();
    // The first relay of a conversation also carries the site and page header.
    let in_order = sent_one[base..]
        .iter()
        .map(|m| m.text.rsplit("</b>: ").next().unwrap_or("").to_owned())
        .collect::<Vec<_>>()
        == (0..N_ONE).map(|i| format!("burst {i}")).collect::<Vec<_>>();

    // Throughput, 50 conversations at once.
    const CONVS: usize = 50;
    const PER: usize = 20;
    let mut sockets = Vec::new();
    for _ in 0..CONVS {
        sockets.push(open_visitor(&api, site).await);
    }
    let base = fake.sent().len();
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for (c, mut ws) in sockets.into_iter().enumerate() {
        tasks.push(tokio::spawn(async move {
            for i in 0..PER {
                send(
                    &mut ws,
                    format!("c{c}-{i}"),
                    format!("conversation {c} message {i}"),
                )
                .await;
            }
            ws
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    // Each new conversation's first relay also opens its topic (no extra message).
    let total = CONVS * PER;
    let got_many = fake.wait_for(base + total, Duration::from_secs(600)).await - base;
    let many_secs = t0.elapsed().as_secs_f64();

    println!();
    println!(
        "Beckon relay bench (wrangler dev {} + loopback Telegram fake)",
        edge.url
    );
    println!("  visitor message → fake Telegram received, {N_LATENCY} sequential messages:");
    println!(
        "    p50 {}   p90 {}   p99 {}   max {}",
        ms(percentile(&relay, 0.5)),
        ms(percentile(&relay, 0.9)),
        ms(percentile(&relay, 0.99)),
        ms(*relay.last().unwrap())
    );
    println!("  visitor send → ack on the WebSocket:");
    println!(
        "    p50 {}   p90 {}   p99 {}",
        ms(percentile(&ack, 0.5)),
        ms(percentile(&ack, 0.9)),
        ms(percentile(&ack, 0.99))
    );
    println!("  sustained relay throughput, 1 conversation:   {got}/{N_ONE} relayed in {one_secs:.2} s = {:.0} msg/s (in order: {in_order})", got as f64 / one_secs);
    println!("  sustained relay throughput, {CONVS} conversations: {got_many}/{total} relayed in {many_secs:.2} s = {:.0} msg/s", got_many as f64 / many_secs);
    drop(edge);
}
