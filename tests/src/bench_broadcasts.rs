//! `make bench`'s broadcast section: how fast a broadcast fans out through the edge (queue,
//! conversations, outboxes) to the loopback fakes with the production paces configured
//! (Telegram 30 messages/s, WhatsApp 80/s per number, the widget 50/s), and how close each
//! channel gets to its limit.

use crate::api::Api;
use crate::fakes::telegram::FakeTelegram;
use crate::fakes::whatsapp::FakeWhatsapp;
use crate::report::{f1, Section};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const TG_SECRET: &str = "bench_broadcast_secret_0123456789abcd";

async fn put(api: &Api, site: &str, kind: &str, body: Value) {
    let r = api
        .send(
            api.admin(
                reqwest::Method::PUT,
                &format!("/api/v1/admin/sites/{site}/channels/{kind}"),
            )
            .json(&body),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
}

/// Starts a broadcast; when the edge accepted it.
async fn broadcast(api: &Api, site: &str, channel: &str, marker: &str) -> (String, Instant) {
    let r = api
        .send(
            api.admin(
                reqwest::Method::POST,
                &format!("/api/v1/admin/sites/{site}/broadcasts"),
            )
            .json(&json!({
                "name": marker, "text": format!("{marker} {{{{first_name|friend}}}}"), "channels": [channel],
                "whatsapp_template": {"name": "promo", "language": "en_US", "parameters": ["{{first_name|friend}}"]}
            })),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    (r.body["id"].as_str().unwrap().to_owned(), Instant::now())
}

/// Waits until `count()` reaches `n` (or `limit` passes); the sends' first and last times.
async fn until(n: usize, limit: Duration, mut times: impl FnMut() -> Vec<Instant>) -> Vec<Instant> {
    let deadline = Instant::now() + limit;
    loop {
        let t = times();
        if t.len() >= n || Instant::now() > deadline {
            return t;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

struct Run {
    channel: &'static str,
    limit: f64,
    recipients: usize,
    delivered: usize,
    fan_out: Duration,
    rate: f64,
}

fn run(channel: &'static str, limit: f64, n: usize, started: Instant, t: &[Instant]) -> Run {
    let (first, last) = (t.iter().min().copied(), t.iter().max().copied());
    let span = match (first, last) {
        (Some(f), Some(l)) if l > f => (l - f).as_secs_f64(),
        _ => f64::NAN,
    };
    Run {
        channel,
        limit,
        recipients: n,
        delivered: t.len(),
        fan_out: last.map_or(Duration::ZERO, |l| l - started),
        rate: (t.len().saturating_sub(1)) as f64 / span,
    }
}

pub async fn section(api: &Api) -> Section {
    let mut sec = Section::new(
        "Broadcasts (loopback WhatsApp and Telegram fakes, production paces)",
        &[
            "channel",
            "recipients",
            "delivered",
            "fan-out time",
            "recipients/s",
            "limit",
            "ratio",
        ],
    );
    let site = "bench-broadcasts";
    api.create_site(site).await;
    let wa = FakeWhatsapp::start("EAAG-bench", "106540352240000", &["new_website_chat"]).await;
    wa.add_template("promo", "en_US", "APPROVED", None, 1);
    let tg = FakeTelegram::start("4243:BENCH-BROADCAST").await;
    put(api, site, "whatsapp", json!({
        "settings": {"kind": "whatsapp", "phone_number_id": wa.phone_number_id, "agent_numbers": ["16505551234"],
                     "template_name": "new_website_chat", "business_account_id": "102290129340000", "api_base": wa.base},
        "secrets": {"kind": "whatsapp", "access_token": wa.token, "app_secret": "bench", "verify_token": "bench"}})).await;
    put(
        api,
        site,
        "telegram",
        json!({
        "settings": {"kind": "telegram", "chat_id": -1001234567899i64, "api_base": tg.base},
        "secrets": {"kind": "telegram", "bot_token": tg.token, "webhook_secret": TG_SECRET}}),
    )
    .await;

    const WA_N: usize = 10_000;
    const TG_N: i64 = 1_000;
    const WEB_N: usize = 1_000;
    eprintln!("broadcasts: {WA_N} WhatsApp contacts (import), {TG_N} Telegram, {WEB_N} web");
    let mut csv = String::from("name,phone,whatsapp_opt_in\n");
    for i in 0..WA_N {
        csv.push_str(&format!("Bench{i} Person,+49152{i:07},yes\n"));
    }
    let t0 = Instant::now();
    let r = api
        .send(
            api.admin(
                reqwest::Method::POST,
                &format!("/api/v1/admin/sites/{site}/contact-imports"),
            )
            .body(csv),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let import = t0.elapsed();
    let hook = format!("{}/hooks/telegram/{site}", api.base);
    for chunk in (0..TG_N).collect::<Vec<_>>().chunks(8) {
        let sends = chunk.iter().map(|u| {
            let update = tg.private_update(9_000_000 + u, &format!("Tg{u}"), None, "/start");
            let hook = hook.clone();
            async move { FakeTelegram::deliver(&hook, Some(TG_SECRET), &update).await }
        });
        futures_util::future::join_all(sends).await;
    }
    let web: Vec<_> = {
        let mut out = Vec::new();
        for _ in 0..WEB_N / 8 {
            let starts = (0..8).map(|_| api.start_conversation(site, None));
            out.extend(futures_util::future::join_all(starts).await);
        }
        out
    };
    tg.wait_for(TG_N as usize, Duration::from_secs(120)).await; // the greetings
    tokio::time::sleep(Duration::from_secs(6)).await; // the widget's conversations indexed

    eprintln!("broadcasts: WhatsApp");
    let (_, started) = broadcast(api, site, "whatsapp", "BENCH-WA").await;
    let t = until(WA_N, Duration::from_secs(900), || {
        wa.sent()
            .into_iter()
            .filter(|s| s.template.as_deref() == Some("promo"))
            .map(|s| s.at)
            .collect()
    })
    .await;
    let wa_run = run("WhatsApp", 80.0, WA_N, started, &t);
    eprintln!("broadcasts: Telegram");
    let (_, started) = broadcast(api, site, "telegram", "BENCH-TG").await;
    let t = until(TG_N as usize, Duration::from_secs(300), || {
        tg.sent()
            .into_iter()
            .filter(|s| s.text.contains("BENCH-TG"))
            .map(|s| s.at)
            .collect()
    })
    .await;
    let tg_run = run("Telegram", 30.0, TG_N as usize, started, &t);
    eprintln!("broadcasts: web");
    let (id, started) = broadcast(api, site, "web", "BENCH-WEB").await;
    let deadline = started + Duration::from_secs(300);
    let web_done = loop {
        let b = api
            .send(api.admin(
                reqwest::Method::GET,
                &format!("/api/v1/admin/sites/{site}/broadcasts/{id}"),
            ))
            .await;
        let sent = b.body["total"]["sent"].as_u64().unwrap_or(0) as usize;
        if sent >= web.len() || Instant::now() > deadline {
            break (sent, started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let web_run = Run {
        channel: "website chat",
        limit: 50.0,
        recipients: WEB_N,
        delivered: web_done.0,
        fan_out: web_done.1,
        rate: web_done.0 as f64 / web_done.1.as_secs_f64(),
    };
    let runs = [wa_run, tg_run, web_run];
    for r in &runs {
        sec.rows.push(vec![
            r.channel.into(),
            r.recipients.to_string(),
            r.delivered.to_string(),
            format!("{} s", f1(r.fan_out.as_secs_f64())),
            f1(r.rate),
            format!("{}/s", r.limit),
            format!("{:.2}", r.rate / r.limit),
        ]);
    }
    sec.text.push(format!(
        "{WA_N} contacts imported from one CSV in {} s. Fan-out time: from the broadcast's acceptance to the last send the fake recorded (the widget: until the admin API counted every recipient sent). Recipients/s: between the first and the last send. Ratio: recipients/s over the pace the edge keeps to (the channel's production limit; the widget's is ours).",
        f1(import.as_secs_f64())
    ));
    sec.data = json!(runs.iter().map(|r| json!({
        "channel": r.channel, "recipients": r.recipients, "delivered": r.delivered,
        "fan_out_s": r.fan_out.as_secs_f64(), "rate": r.rate, "limit": r.limit, "ratio": r.rate / r.limit
    })).collect::<Vec<_>>());
    sec
}
