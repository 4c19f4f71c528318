//! Integration tests of the edge's HTTP and WebSocket API against the real runtime
//! (`wrangler dev`: workerd with local D1 and Durable Objects).

use beckon_shared::proto::v1::{close, ClientFrame, ErrorCode, InboxEvent, Role, ServerFrame};
use beckon_shared::{ConversationId, Seq};
use beckon_tests::api::{client_id, Api, Ws, WsEvent};
use beckon_tests::{edge, eventually, unique};
use reqwest::Method;
use serde_json::json;
use std::collections::HashSet;
use std::time::Duration;

const T: Duration = Duration::from_secs(10);

fn api() -> Api {
    Api::new(&edge::shared().url)
}

#[tokio::test]
async fn visitor_message_reaches_the_agent_and_the_reply_arrives_live() {
    let api = api();
    let site = unique("live");
    api.create_site(&site).await;
    let started = api.start_conversation(&site, None).await;
    let mut ws = visitor_tab(&api, &started).await;
    assert!(ws.hello(0).await.is_empty());

    ws.send(&ClientFrame::Send {
        client_msg_id: client_id("first"),
        body: "  Do you ship to Canada?  ".into(),
        attachments: Vec::new(),
    })
    .await;
    let ack = ws
        .recv_until(T, |f| matches!(f, ServerFrame::Ack { .. }))
        .await;
    let ServerFrame::Ack { seq, duplicate, .. } = ack else {
        unreachable!()
    };
    assert_eq!((seq, duplicate), (Seq(1), false));

    let posted = api
        .agent_reply(&started.conversation_id, "Yes, 3-5 business days.")
        .await;
    assert_eq!(posted.message.seq, Seq(2));
    let live = ws
        .recv_until(
            T,
            |f| matches!(f, ServerFrame::Message { message } if message.role == Role::Agent),
        )
        .await;
    let ServerFrame::Message { message } = live else {
        unreachable!()
    };
    assert_eq!(message.body, "Yes, 3-5 business days.");
    assert_eq!(message.author.as_deref(), Some("Ana"));

    let page = api.admin_messages(&started.conversation_id).await;
    let bodies: Vec<_> = page
        .messages
        .iter()
        .map(|m| (m.seq.0, m.role, m.body.as_str()))
        .collect();
    assert_eq!(
        bodies,
        [
            (1, Role::Visitor, "Do you ship to Canada?"),
            (2, Role::Agent, "Yes, 3-5 business days.")
        ]
    );

    let summary = api.admin_summary(&started.conversation_id).await;
    assert_eq!(summary.last_seq, Seq(2));
    assert_eq!(
        summary.page_url.as_deref(),
        Some("https://shop.example/pricing")
    );
    let list = api
        .send(api.admin(
            Method::GET,
            &format!("/api/v1/admin/conversations?site={site}"),
        ))
        .await;
    assert_eq!(
        list.body["conversations"][0]["id"],
        json!(started.conversation_id.as_str())
    );
    assert_eq!(
        list.body["conversations"][0]["last_message"]["body"],
        json!("Yes, 3-5 business days.")
    );

    // The visitor's own history endpoint shows the same, in order.
    let own = api
        .send(
            api.get(&format!(
                "/api/v1/conversations/{}/messages",
                started.conversation_id
            ))
            .bearer_auth(&started.visitor_token),
        )
        .await;
    assert_eq!(own.status, 200);
    assert_eq!(own.body["messages"].as_array().unwrap().len(), 2);
    ws.close().await;
}

/// The hot path's order: the other sockets get a message before it is written, the sender its
/// frame and its ack after; a retried send is acked again and fanned out to nobody.
#[tokio::test]
async fn a_message_reaches_every_socket_once_and_its_sender_with_its_ack() {
    let api = api();
    let site = unique("fanout");
    api.create_site(&site).await;
    let started = api.start_conversation(&site, None).await;
    let visitor_url = || api.visitor_ws_url(&started.conversation_id, &started.visitor_token);
    let mut sender = Ws::connect(&visitor_url().await, None).await.unwrap();
    let mut other_tab = Ws::connect(&visitor_url().await, None).await.unwrap();
    let mut agent = Ws::connect(&api.agent_ws_url(&started.conversation_id).await, None)
        .await
        .unwrap();
    for ws in [&mut sender, &mut other_tab, &mut agent] {
        assert!(ws.hello(0).await.is_empty());
    }
    let send = |id: &str, body: &str| ClientFrame::Send {
        client_msg_id: client_id(id),
        body: body.into(),
        attachments: Vec::new(),
    };
    sender.send(&send("one", "first")).await;
    // The sender: its message's frame, then its ack.
    let mut frames = Vec::new();
    while !matches!(frames.last(), Some(ServerFrame::Ack { .. })) {
        match sender.next_event(T).await {
            WsEvent::Frame(f @ (ServerFrame::Message { .. } | ServerFrame::Ack { .. })) => {
                frames.push(f)
            }
            WsEvent::Frame(_) => {}
            other => panic!("the sender's socket ended: {other:?}"),
        }
    }
    match &frames[..] {
        [ServerFrame::Message { message }, ServerFrame::Ack {
            seq,
            duplicate: false,
            ..
        }] => assert_eq!(
            (message.seq, *seq, message.body.as_str()),
            (Seq(1), Seq(1), "first")
        ),
        other => panic!("the sender got {other:?}"),
    }
    // The same send again (a retry): acked as a duplicate, sent to nobody.
    sender.send(&send("one", "first")).await;
    let ack = sender
        .recv_until(T, |f| matches!(f, ServerFrame::Ack { .. }))
        .await;
    assert!(
        matches!(
            ack,
            ServerFrame::Ack {
                seq: Seq(1),
                duplicate: true,
                ..
            }
        ),
        "{ack:?}"
    );
    sender.send(&send("two", "second")).await;
    for ws in [&mut other_tab, &mut agent] {
        let mut got = Vec::new();
        while got.last() != Some(&2) {
            if let ServerFrame::Message { message } = ws
                .recv_until(T, |f| matches!(f, ServerFrame::Message { .. }))
                .await
            {
                got.push(message.seq.0);
            }
        }
        assert_eq!(got, [1, 2], "each message once");
    }
    let page = api.admin_messages(&started.conversation_id).await;
    let bodies: Vec<_> = page.messages.iter().map(|m| m.body.as_str()).collect();
    assert_eq!(bodies, ["first", "second"]);
    for ws in [sender, other_tab, agent] {
        ws.close().await;
    }
}

/// Acceptance: 200 messages over a WebSocket that is dropped and resumed several times, with
/// some sends retried under the same client id → exactly 200 messages, seq 1..200, no gaps,
/// no duplicates, in the order they were written.
#[tokio::test]
async fn two_hundred_messages_survive_drops_and_retries_exactly_once() {
    let api = api();
    let site = unique("resume");
    api.create_site(&site).await;
    let started = api.start_conversation(&site, None).await;

    const N: usize = 200;
    let send = |n: usize| ClientFrame::Send {
        client_msg_id: client_id(&format!("msg-{n}")),
        body: format!("message {n}"),
        attachments: Vec::new(),
    };
    let mut acked: HashSet<usize> = HashSet::new(); // acknowledged by an ack frame
    let mut next = 1; // next message number to send for the first time
    let mut seen_seq = 0u64; // highest contiguous seq the client holds
    let (mut drops, mut retried, mut duplicate_acks, mut round) = (0, 0, 0, 0);
    while acked.len() < N {
        round += 1;
        let mut ws = visitor_tab(&api, &started).await;
        // Like the widget: hello from the last contiguous seq, then at once retry every send
        // that has no ack yet (same client ids), then carry on with new ones.
        ws.send(&ClientFrame::Hello {
            resume_from: Seq(seen_seq),
        })
        .await;
        for n in (1..next).filter(|n| !acked.contains(n)) {
            ws.send(&send(n)).await;
            retried += 1;
        }
        let burst_end = (next + 37).min(N + 1);
        for n in next..burst_end {
            ws.send(&send(n)).await;
        }
        next = burst_end;
        // Every other round drops the socket before reading anything at all; the others after
        // about half the acks. The last round reads to the end.
        let wait_for = if next > N {
            usize::MAX
        } else if round % 2 == 0 {
            0
        } else {
            18
        };
        let mut acks_now = 0;
        while acks_now < wait_for && acked.len() < N {
            match ws.next_event(T).await {
                WsEvent::Frame(ServerFrame::Ack {
                    client_msg_id,
                    duplicate,
                    seq,
                    ..
                }) => {
                    let n: usize = client_msg_id
                        .as_str()
                        .trim_start_matches("msg-")
                        .parse()
                        .unwrap();
                    assert_eq!(seq, Seq(n as u64), "message {n} got seq {seq}");
                    duplicate_acks += usize::from(duplicate);
                    acked.insert(n);
                    acks_now += 1;
                }
                WsEvent::Frame(ServerFrame::Message { message }) => {
                    if message.seq.0 == seen_seq + 1 {
                        seen_seq = message.seq.0;
                    }
                }
                WsEvent::Frame(ServerFrame::Error { code, .. }) => {
                    panic!("unexpected error {code:?}")
                }
                WsEvent::Frame(_) => {}
                other => panic!("socket ended early: {other:?}"),
            }
        }
        if acked.len() < N {
            ws.drop_connection();
            drops += 1;
        } else {
            ws.close().await;
        }
    }
    assert!(drops >= 4, "only {drops} drops");
    assert!(
        retried > 0 && duplicate_acks > 0,
        "retried {retried}, duplicate acks {duplicate_acks}"
    );

    let page = api.admin_messages(&started.conversation_id).await;
    assert_eq!(page.messages.len(), N, "exactly {N} messages stored");
    assert_eq!(page.last_seq, Seq(N as u64));
    for (i, m) in page.messages.iter().enumerate() {
        assert_eq!(m.seq, Seq(i as u64 + 1), "gap-free seq");
        assert_eq!(
            m.body,
            format!("message {}", i + 1),
            "stored once, in order"
        );
    }
    let ids: HashSet<_> = page
        .messages
        .iter()
        .map(|m| m.client_msg_id.clone())
        .collect();
    assert_eq!(ids.len(), N, "no duplicates");
    println!(
        "200 messages: {drops} drops, {retried} retried sends, {duplicate_acks} duplicate acks"
    );
}

#[tokio::test]
async fn malformed_and_oversize_frames_get_clear_errors_and_store_nothing() {
    let api = api();
    let site = unique("frames");
    api.create_site(&site).await;
    let started = api.start_conversation(&site, None).await;

    // A frame before hello is refused and the socket closed with 1008.
    let mut ws = visitor_tab(&api, &started).await;
    ws.send(&ClientFrame::Send {
        client_msg_id: client_id("early"),
        body: "hi".into(),
        attachments: Vec::new(),
    })
    .await;
    assert!(matches!(
        ws.recv().await,
        Some(ServerFrame::Error {
            code: ErrorCode::BadFrame,
            ..
        })
    ));
    assert!(matches!(
        ws.next_event(T).await,
        WsEvent::Closed {
            code: Some(close::POLICY_VIOLATION),
            ..
        }
    ));

    // Hello is said once per socket (each replays the history, holding everyone's messages):
    // a second one is refused and the socket closed with 1008.
    let mut ws = visitor_tab(&api, &started).await;
    ws.hello(0).await;
    ws.send(&ClientFrame::Hello {
        resume_from: beckon_shared::Seq(0),
    })
    .await;
    match ws.recv().await {
        Some(ServerFrame::Error {
            code: ErrorCode::BadFrame,
            message,
            ..
        }) => assert_eq!(message, "hello was already said on this socket"),
        other => panic!("a second hello: {other:?}"),
    }
    assert!(matches!(
        ws.next_event(T).await,
        WsEvent::Closed {
            code: Some(close::POLICY_VIOLATION),
            ..
        }
    ));

    let mut ws = visitor_tab(&api, &started).await;
    ws.hello(0).await;
    for junk in [
        "not json",
        r#"{"type":"teleport"}"#,
        r#"{"type":"send","body":"no id"}"#,
        r#"{"type":"send","client_msg_id":"bad id!","body":"x"}"#,
    ] {
        ws.send_raw(junk).await;
        match ws.recv().await {
            Some(ServerFrame::Error {
                code: ErrorCode::BadFrame,
                message,
                ..
            }) => assert!(!message.is_empty()),
            other => panic!("{junk}: {other:?}"),
        }
    }
    let too_long = "x".repeat(beckon_shared::limits::MAX_MESSAGE_CHARS + 1);
    ws.send(&ClientFrame::Send {
        client_msg_id: client_id("long"),
        body: too_long,
        attachments: Vec::new(),
    })
    .await;
    match ws.recv().await {
        Some(ServerFrame::Error {
            code: ErrorCode::MessageTooLong,
            client_msg_id,
            ..
        }) => assert_eq!(client_msg_id, Some(client_id("long"))),
        other => panic!("{other:?}"),
    }
    ws.send(&ClientFrame::Send {
        client_msg_id: client_id("blank"),
        body: " \n ".into(),
        attachments: Vec::new(),
    })
    .await;
    assert!(matches!(
        ws.recv().await,
        Some(ServerFrame::Error {
            code: ErrorCode::EmptyMessage,
            ..
        })
    ));
    // The socket survived all of that.
    ws.send(&ClientFrame::Ping).await;
    assert_eq!(ws.recv().await, Some(ServerFrame::Pong));

    // A frame over 32 KiB closes with 1009; a binary frame with 1003.
    ws.send_raw(&format!(
        r#"{{"type":"send","client_msg_id":"big","body":"{}"}}"#,
        "y".repeat(40_000)
    ))
    .await;
    assert!(matches!(
        ws.next_event(T).await,
        WsEvent::Closed {
            code: Some(close::MESSAGE_TOO_BIG),
            ..
        }
    ));
    let mut ws = visitor_tab(&api, &started).await;
    ws.hello(0).await;
    ws.send_binary(vec![1, 2, 3]).await;
    assert!(matches!(
        ws.next_event(T).await,
        WsEvent::Closed {
            code: Some(close::UNSUPPORTED_DATA),
            ..
        }
    ));

    let page = api.admin_messages(&started.conversation_id).await;
    assert!(
        page.messages.is_empty(),
        "nothing stored: {:?}",
        page.messages
    );
}

#[tokio::test]
async fn bad_credentials_origins_and_ids_are_refused_with_the_right_status() {
    let api = api();
    let site = unique("auth");
    api.create_site(&site).await;
    let a = api.start_conversation(&site, None).await;
    let b = api.start_conversation(&site, None).await;
    let base_ws = edge::shared().url.replacen("http", "ws", 1);
    let unknown = ConversationId::from_random([9; 16]);

    let refused = |r: Result<Ws, beckon_tests::api::Refused>| match r {
        Ok(_) => panic!("handshake should be refused"),
        Err(e) => (
            e.status,
            e.body["error"]["code"].as_str().unwrap_or("").to_owned(),
        ),
    };
    let ws = |path: String| format!("{base_ws}{path}");
    // Sockets open with a single-use ticket only: none, a visitor token in its place, a
    // forged one, one for another conversation, one already used.
    let socket = |id: &ConversationId| format!("/api/v1/conversations/{id}/ws");
    assert_eq!(
        refused(Ws::connect(&ws(socket(&a.conversation_id)), None).await),
        (401, "unauthorized".into())
    );
    assert_eq!(
        refused(
            Ws::connect(
                &format!(
                    "{}?token={}",
                    ws(socket(&a.conversation_id)),
                    a.visitor_token
                ),
                None
            )
            .await
        ),
        (401, "unauthorized".into())
    );
    let ticket = api
        .visitor_ticket(&a.conversation_id, &a.visitor_token)
        .await
        .unwrap();
    assert_eq!(
        refused(
            Ws::connect(
                &api.ws_url(&socket(&a.conversation_id), &format!("{}x", ticket.ticket)),
                None
            )
            .await
        ),
        (401, "invalid_token".into())
    );
    assert_eq!(
        refused(
            Ws::connect(
                &api.ws_url(&socket(&b.conversation_id), &ticket.ticket),
                None
            )
            .await
        ),
        (401, "invalid_token".into())
    );
    let once = api.ws_url(&socket(&a.conversation_id), &ticket.ticket);
    assert!(Ws::connect(&once, None).await.is_ok());
    assert_eq!(
        refused(Ws::connect(&once, None).await),
        (401, "invalid_token".into())
    );
    assert_eq!(
        refused(Ws::connect(&ws("/api/v1/conversations/c_nope/ws?ticket=x".into()), None).await),
        (400, "invalid_id".into())
    );
    // Tickets are minted for a valid token of this conversation's visitor only.
    let mut forged = a.visitor_token.clone();
    forged.pop();
    forged.push(if a.visitor_token.ends_with('A') {
        'B'
    } else {
        'A'
    });
    let mint = |id: &ConversationId, token: &str| {
        let (api, id, token) = (&api, id.clone(), token.to_owned());
        async move {
            let r = api.visitor_ticket(&id, &token).await.unwrap_err();
            (r.status, r.error_code().to_owned())
        }
    };
    assert_eq!(
        mint(&a.conversation_id, &forged).await,
        (401, "invalid_token".into())
    );
    assert_eq!(
        mint(&a.conversation_id, &b.visitor_token).await,
        (403, "forbidden".into())
    );
    assert_eq!(
        mint(&unknown, &a.visitor_token).await,
        (404, "conversation_not_found".into())
    );
    // A browser on a page that is not allowed.
    assert_eq!(
        refused(
            Ws::connect(
                &api.visitor_ws_url(&a.conversation_id, &a.visitor_token)
                    .await,
                Some("https://evil.example")
            )
            .await
        ),
        (403, "origin_not_allowed".into())
    );
    // Allowed origins work: the exact one, loopback (this site allows it), and our own.
    for origin in [
        "https://shop.example",
        "http://127.0.0.1:4321",
        edge::shared().url.as_str(),
    ] {
        assert!(
            Ws::connect(
                &api.visitor_ws_url(&a.conversation_id, &a.visitor_token)
                    .await,
                Some(origin)
            )
            .await
            .is_ok(),
            "{origin}"
        );
    }

    // HTTP: history with missing/forged/other tokens; unknown conversation.
    let hist = |id: &ConversationId| api.get(&format!("/api/v1/conversations/{id}/messages"));
    let r = api.send(hist(&a.conversation_id)).await;
    assert_eq!((r.status, r.error_code()), (401, "unauthorized"));
    let r = api
        .send(hist(&a.conversation_id).bearer_auth(&forged))
        .await;
    assert_eq!((r.status, r.error_code()), (401, "invalid_token"));
    let r = api
        .send(hist(&a.conversation_id).bearer_auth(&b.visitor_token))
        .await;
    assert_eq!((r.status, r.error_code()), (403, "forbidden"));
    let r = api.send(hist(&unknown).bearer_auth(&a.visitor_token)).await;
    assert_eq!((r.status, r.error_code()), (404, "conversation_not_found"));

    // Starting conversations: wrong origin, unknown site, forged token, bad bodies.
    let start = |s: &str| api.post(&format!("/api/v1/sites/{s}/conversations"));
    let r = api
        .send(
            start(&site)
                .header("origin", "https://evil.example")
                .json(&json!({})),
        )
        .await;
    assert_eq!((r.status, r.error_code()), (403, "origin_not_allowed"));
    let r = api.send(start("no-such-site").json(&json!({}))).await;
    assert_eq!((r.status, r.error_code()), (404, "site_not_found"));
    let r = api
        .send(start(&site).bearer_auth(&forged).json(&json!({})))
        .await;
    assert_eq!((r.status, r.error_code()), (401, "invalid_token"));
    let r = api
        .send(
            start(&site)
                .header("content-type", "application/json")
                .body("{not json"),
        )
        .await;
    assert_eq!((r.status, r.error_code()), (400, "bad_request"));
    assert!(r.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("invalid JSON"));
    let r = api
        .send(start(&site).json(&json!({"page_url": "x".repeat(70_000)})))
        .await;
    assert_eq!((r.status, r.error_code()), (413, "payload_too_large"));
    // The same sent without a length (chunked) is refused once it passes the cap, never read
    // whole first; a small one without a length reads as usual.
    let chunked = |body: String| {
        let pieces: Vec<Result<Vec<u8>, std::io::Error>> = body
            .into_bytes()
            .chunks(8192)
            .map(|c| Ok(c.to_vec()))
            .collect();
        start(&site)
            .header("content-type", "application/json")
            .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
                pieces,
            )))
    };
    let r = api
        .send(chunked(
            json!({"page_url": "x".repeat(200_000)}).to_string(),
        ))
        .await;
    assert_eq!((r.status, r.error_code()), (413, "payload_too_large"));
    let r = api.send(chunked(json!({}).to_string())).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    // One that passes the cap and then never ends is answered at the cap, not waited for.
    let head = format!("{{\"page_url\": \"{}", "x".repeat(70_000));
    let endless = futures_util::StreamExt::chain(
        futures_util::stream::iter([Ok::<_, std::io::Error>(head.into_bytes())]),
        futures_util::stream::pending(),
    );
    let r = tokio::time::timeout(
        Duration::from_secs(15),
        api.send(
            start(&site)
                .header("content-type", "application/json")
                .body(reqwest::Body::wrap_stream(endless)),
        ),
    )
    .await
    .expect("answered before the body ended");
    assert_eq!((r.status, r.error_code()), (413, "payload_too_large"));
    let r = api
        .send(start(&site).json(&json!({"origin": {"kind": "agent"}})))
        .await;
    assert_eq!((r.status, r.error_code()), (400, "bad_request"));

    // Admin API: missing and wrong keys, browsers from other origins.
    let r = api.send(api.get("/api/v1/admin/conversations")).await;
    assert_eq!((r.status, r.error_code()), (401, "unauthorized"));
    let r = api
        .send(
            api.get("/api/v1/admin/conversations")
                .bearer_auth("wrong-key"),
        )
        .await;
    assert_eq!((r.status, r.error_code()), (401, "invalid_token"));
    let r = api
        .send(
            api.admin(Method::GET, "/api/v1/admin/conversations")
                .header("origin", "https://evil.example"),
        )
        .await;
    assert_eq!((r.status, r.error_code()), (403, "origin_not_allowed"));
    let r = api
        .send(
            api.post(&format!(
                "/api/v1/admin/conversations/{}/messages",
                a.conversation_id
            ))
            .bearer_auth("wrong-key")
            .json(&json!({"body": "hi"})),
        )
        .await;
    assert_eq!(r.status, 401);

    // Unknown routes and methods.
    let r = api.send(api.get("/api/v1/nope")).await;
    assert_eq!((r.status, r.error_code()), (404, "not_found"));
    let r = api
        .send(api.http.delete(format!("{}/api/v1/admin/sites", api.base)))
        .await;
    assert_eq!((r.status, r.error_code()), (405, "method_not_allowed"));

    // Nothing of the refused requests was stored: still exactly the two conversations, empty,
    // and the one started with a chunked body.
    let list = api
        .send(api.admin(
            Method::GET,
            &format!("/api/v1/admin/conversations?site={site}"),
        ))
        .await;
    assert_eq!(
        list.body["conversations"].as_array().unwrap().len(),
        3,
        "{:?}",
        list.body
    );
    for id in [&a.conversation_id, &b.conversation_id] {
        assert!(api.admin_messages(id).await.messages.is_empty());
    }
}

#[tokio::test]
async fn returning_visitor_keeps_its_identity_and_sees_only_its_conversations() {
    let api = api();
    let site = unique("return");
    api.create_site(&site).await;
    let first = api.start_conversation(&site, None).await;
    let second = api
        .start_conversation(&site, Some(&first.visitor_token))
        .await;
    assert_eq!(first.visitor_id, second.visitor_id);
    assert_ne!(first.conversation_id, second.conversation_id);
    // Its token opens both; a token for another site is refused.
    for id in [&first.conversation_id, &second.conversation_id] {
        assert!(
            Ws::connect(&api.visitor_ws_url(id, &first.visitor_token).await, None)
                .await
                .is_ok()
        );
    }
    let other = unique("other");
    api.create_site(&other).await;
    let r = api
        .send(
            api.post(&format!("/api/v1/sites/{other}/conversations"))
                .bearer_auth(&first.visitor_token)
                .json(&json!({})),
        )
        .await;
    assert_eq!((r.status, r.error_code()), (403, "forbidden"));
}

#[tokio::test]
async fn agent_sockets_typing_and_read_cursors() {
    let api = api();
    let site = unique("cursors");
    api.create_site(&site).await;
    let c = api.start_conversation(&site, None).await;
    let mut visitor = api.visitor_socket(&c).await;

    let agent_url = api.agent_ws_url(&c.conversation_id).await;
    // A forged ticket is refused.
    let bad = format!("{agent_url}x");
    assert_eq!(
        Ws::connect(&bad, None).await.err().map(|e| e.status),
        Some(401)
    );
    let mut agent = Ws::connect(&agent_url, Some(&api.base)).await.unwrap();
    agent.hello(0).await;

    visitor.send(&ClientFrame::Typing { active: true }).await;
    assert_eq!(
        agent
            .recv_until(T, |f| matches!(f, ServerFrame::Typing { .. }))
            .await,
        ServerFrame::Typing {
            role: Role::Visitor,
            active: true
        }
    );
    visitor
        .send(&ClientFrame::Send {
            client_msg_id: client_id("q1"),
            body: "Hello?".into(),
            attachments: Vec::new(),
        })
        .await;
    visitor
        .send(&ClientFrame::Send {
            client_msg_id: client_id("q2"),
            body: "Anyone?".into(),
            attachments: Vec::new(),
        })
        .await;
    agent
        .recv_until(
            T,
            |f| matches!(f, ServerFrame::Message { message } if message.seq == Seq(2)),
        )
        .await;
    assert_eq!(api.admin_summary(&c.conversation_id).await.unread, 2);

    agent
        .send(&ClientFrame::Send {
            client_msg_id: client_id("a1"),
            body: "Hi! I'm here.".into(),
            attachments: Vec::new(),
        })
        .await;
    let m = visitor
        .recv_until(
            T,
            |f| matches!(f, ServerFrame::Message { message } if message.role == Role::Agent),
        )
        .await;
    let ServerFrame::Message { message } = m else {
        unreachable!()
    };
    assert_eq!(
        (message.author.as_deref(), message.via.as_deref()),
        (Some("Ana"), Some("inbox"))
    );

    agent.send(&ClientFrame::Read { seq: Seq(99) }).await;
    assert_eq!(
        visitor
            .recv_until(T, |f| matches!(f, ServerFrame::Read { .. }))
            .await,
        ServerFrame::Read {
            role: Role::Agent,
            seq: Seq(3)
        },
        "cursor clamps to the last message"
    );
    let summary = api.admin_summary(&c.conversation_id).await;
    assert_eq!((summary.agent_read_seq, summary.unread), (Seq(3), 0));
}

/// A flood of typing frames reaches the other side as a few, ending "stopped"; a conversation
/// holds at most 20 of its visitor's sockets open, and takes a new one once one closed.
#[tokio::test]
async fn a_typing_flood_and_a_socket_flood_are_held_to_their_caps() {
    let api = api();
    let site = unique("floods");
    api.create_site(&site).await;
    let c = api.start_conversation(&site, None).await;
    let mut visitor = api.visitor_socket(&c).await;
    let mut agent = agent_watching(&api, &c).await;
    for i in 0..400 {
        visitor
            .send(&ClientFrame::Typing { active: i % 2 == 0 })
            .await;
    }
    visitor
        .send(&send_frame("after-flood", "Done typing"))
        .await;
    let mut typing = Vec::new();
    loop {
        match agent.recv_until(T, |_| true).await {
            ServerFrame::Typing { active, .. } => typing.push(active),
            ServerFrame::Message { message } if message.body == "Done typing" => break,
            _ => {}
        }
    }
    println!("400 typing frames: {} went out", typing.len());
    assert!((10..=14).contains(&typing.len()), "{typing:?}");
    assert_eq!(typing.last(), Some(&false), "left shown typing: {typing:?}");

    // 19 more tabs make 20; the 21st is refused with the reason.
    let mut tabs = Vec::new();
    for _ in 0..19 {
        tabs.push(visitor_tab(&api, &c).await);
    }
    let url = api
        .visitor_ws_url(&c.conversation_id, &c.visitor_token)
        .await;
    let refused = Ws::connect(&url, None).await.err().expect("a 21st socket");
    assert_eq!(refused.status, 429, "{:?}", refused.body);
    let why = refused.body["error"]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(why.contains("close one first"), "{:?}", refused.body);
    // The agents' sockets are counted apart: one more opens.
    agent_watching(&api, &c).await;
    // Once a tab closed, a new one opens.
    drop(tabs.pop());
    eventually(T, "a socket once a tab closed", || async {
        let url = api
            .visitor_ws_url(&c.conversation_id, &c.visitor_token)
            .await;
        Ws::connect(&url, None).await.ok()
    })
    .await;
}

/// How long the edges of the next tests keep a socket's message between its fan-out and its
/// write (`TEST_WRITE_DELAY_MS`, honoured with `TEST_CLOCK=on`, added to the turn of the
/// runtime, or the millisecond, it waits otherwise) — when another socket got it: with none,
/// it is written at once.
const WRITE_DELAY: Duration = Duration::from_millis(2_000);

/// A conversation on an edge of its own with [`WRITE_DELAY`], and its visitor's socket.
async fn conversation_with_write_delay(
    name: &str,
) -> (
    edge::Edge,
    Api,
    beckon_shared::proto::v1::StartedConversation,
    Ws,
) {
    let ms = WRITE_DELAY.as_millis().to_string();
    let edge =
        edge::Edge::start_with_vars(None, &[("TEST_WRITE_DELAY_MS", &ms), ("TEST_CLOCK", "on")]);
    let api = Api::new(&edge.url);
    let site = unique(name);
    api.create_site(&site).await;
    let c = api.start_conversation(&site, None).await;
    let visitor = api.visitor_socket(&c).await;
    (edge, api, c, visitor)
}

/// An agent's socket on the conversation (said hello): the visitor's messages are fanned out
/// to it, so their writes wait.
async fn agent_watching(api: &Api, c: &beckon_shared::proto::v1::StartedConversation) -> Ws {
    let mut agent = Ws::connect(&api.agent_ws_url(&c.conversation_id).await, Some(&api.base))
        .await
        .unwrap();
    agent.hello(0).await;
    agent
}

/// A tab of the visitor's: its socket, open, no hello yet.
async fn visitor_tab(api: &Api, c: &beckon_shared::proto::v1::StartedConversation) -> Ws {
    Ws::connect(
        &api.visitor_ws_url(&c.conversation_id, &c.visitor_token)
            .await,
        None,
    )
    .await
    .expect("the visitor's socket")
}

/// Waits for the socket's next ack, which must be for `seq`.
async fn expect_ack(ws: &mut Ws, seq: Seq) {
    let ack = ws
        .recv_until(T, |f| matches!(f, ServerFrame::Ack { .. }))
        .await;
    assert!(
        matches!(ack, ServerFrame::Ack { seq: s, .. } if s == seq),
        "{ack:?}"
    );
}

fn send_frame(id: &str, body: &str) -> ClientFrame {
    ClientFrame::Send {
        client_msg_id: client_id(id),
        body: body.into(),
        attachments: Vec::new(),
    }
}

/// A message sent on a socket is fanned out to the others first and written one turn of the
/// runtime later (so its frames leave before the write's work). This edge stretches that wait,
/// so that what comes meanwhile surely comes in the middle: the agent reading the message, the
/// same message sent again, a new tab's hello, the history over HTTP and an agent's reply over
/// HTTP. Each must wait for the write (they end after it), see the message stored once, and
/// keep the order.
#[tokio::test]
async fn what_comes_between_a_messages_fan_out_and_its_write_waits_for_the_write() {
    let (_edge, api, c, mut visitor) = conversation_with_write_delay("halfway").await;
    let mut agent = agent_watching(&api, &c).await;
    // The new tab's socket is open before; only its hello comes in the middle.
    let mut tab = visitor_tab(&api, &c).await;

    let question = send_frame("half-1", "Is the blue one in stock?");
    // The write comes at least WRITE_DELAY after this.
    let asked = std::time::Instant::now();
    visitor.send(&question).await;
    let ServerFrame::Message { message } = agent
        .recv_until(T, |f| matches!(f, ServerFrame::Message { .. }))
        .await
    else {
        unreachable!()
    };
    assert_eq!((message.seq, message.role), (Seq(1), Role::Visitor));
    // Not written yet: its sender has no answer.
    assert!(
        matches!(
            visitor.next_event(Duration::from_millis(200)).await,
            WsEvent::Timeout
        ),
        "the sender heard back before the write's delay was up"
    );

    agent.send(&ClientFrame::Read { seq: Seq(1) }).await;
    visitor.send(&question).await;
    let sent = asked.elapsed();
    let ended = || asked.elapsed();
    let ((history, history_at), (replayed, replayed_at), (reply, reply_at)) = tokio::join!(
        async { (api.admin_messages(&c.conversation_id).await, ended()) },
        async { (tab.hello(0).await, ended()) },
        async {
            let r = api
                .agent_reply(&c.conversation_id, "Yes, three left.")
                .await;
            (r, ended())
        },
    );
    // They came in the middle and waited for the write.
    assert!(sent < WRITE_DELAY / 2, "sent {sent:?} after the message");
    for (what, at) in [
        ("the history", history_at),
        ("the new tab's replay", replayed_at),
        ("the reply", reply_at),
    ] {
        assert!(
            at >= WRITE_DELAY,
            "{what} ended {at:?} after the message was sent, before its write"
        );
    }
    // The sender's answers, and the agent's read (which may come between them).
    let (mut answers, mut read) = (Vec::new(), None);
    while answers.len() < 2 || read.is_none() {
        match visitor
            .recv_until(T, |f| {
                matches!(
                    f,
                    ServerFrame::Ack { .. } | ServerFrame::Error { .. } | ServerFrame::Read { .. }
                )
            })
            .await
        {
            ServerFrame::Ack { seq, duplicate, .. } => answers.push((seq, duplicate)),
            ServerFrame::Read { role, seq } => read = Some((role, seq)),
            other => panic!("the sender's answer: {other:?}"),
        }
    }
    assert_eq!(
        answers,
        [(Seq(1), false), (Seq(1), true)],
        "the message, then the same sent again"
    );
    assert_eq!(read, Some((Role::Agent, Seq(1))), "the agent's read of it");
    // Each has the message; the reply, posted at the same time, may come before them or not.
    for (what, seqs) in [
        (
            "the history read meanwhile",
            history.messages.iter().map(|m| m.seq).collect(),
        ),
        (
            "the new tab's replay",
            replayed.iter().map(|m| m.seq).collect::<Vec<_>>(),
        ),
    ] {
        assert!(
            seqs == [Seq(1)] || seqs == [Seq(1), Seq(2)],
            "{what}: {seqs:?}"
        );
    }
    assert_eq!(reply.message.seq, Seq(2), "the reply posted meanwhile");
    let stored = api.admin_messages(&c.conversation_id).await.messages;
    assert_eq!(
        stored
            .iter()
            .map(|m| (m.seq, m.body.as_str()))
            .collect::<Vec<_>>(),
        [
            (Seq(1), "Is the blue one in stock?"),
            (Seq(2), "Yes, three left.")
        ]
    );
}

/// A socket's messages wait for the send turn while an earlier one is between its fan-out and
/// its write, and take it in the order they came, whenever they came: two wait while the first
/// is written, and a fourth comes while the second holds the turn.
#[tokio::test]
async fn messages_waiting_for_the_send_turn_are_stored_in_the_order_they_came() {
    let (_edge, api, c, mut visitor) = conversation_with_write_delay("turns").await;
    let _agent = agent_watching(&api, &c).await;
    for n in 1..=3 {
        visitor
            .send(&send_frame(&format!("turn-{n}"), &format!("line {n}")))
            .await;
    }
    expect_ack(&mut visitor, Seq(1)).await;
    visitor.send(&send_frame("turn-4", "line 4")).await;
    let mut acks = Vec::new();
    while acks.len() < 3 {
        if let ServerFrame::Ack {
            client_msg_id, seq, ..
        } = visitor
            .recv_until(T, |f| matches!(f, ServerFrame::Ack { .. }))
            .await
        {
            acks.push((client_msg_id.as_str().to_owned(), seq));
        }
    }
    assert_eq!(
        acks,
        [
            ("turn-2".to_owned(), Seq(2)),
            ("turn-3".to_owned(), Seq(3)),
            ("turn-4".to_owned(), Seq(4))
        ]
    );

    // A new tab's hello comes while a message holds the turn, and the tab types and sends
    // right after it, as the widget does: neither overtakes the hello (a frame before hello is
    // refused and its socket closed).
    visitor.send(&send_frame("turn-5", "line 5")).await;
    let mut tab = visitor_tab(&api, &c).await;
    tab.send(&ClientFrame::Hello {
        resume_from: Seq(0),
    })
    .await;
    tab.send(&ClientFrame::Typing { active: true }).await;
    tab.send(&send_frame("turn-6", "line 6")).await;
    let mut replayed = Vec::new();
    let answer = loop {
        match tab.next_event(T).await {
            WsEvent::Frame(ServerFrame::Message { message }) => replayed.push(message.seq.0),
            WsEvent::Frame(f @ (ServerFrame::Ack { .. } | ServerFrame::Error { .. })) => break f,
            WsEvent::Frame(_) => {}
            other => panic!("the tab's socket: {other:?}"),
        }
    };
    assert_eq!(
        replayed,
        [1, 2, 3, 4, 5, 6],
        "the tab's replay, then its own message"
    );
    assert!(
        matches!(answer, ServerFrame::Ack { seq: Seq(6), .. }),
        "the tab's message: {answer:?}"
    );
}

/// A message no other socket shows has no frames to let go before its write: it is written
/// and acknowledged at once, on an edge that keeps the others' waiting [`WRITE_DELAY`].
#[tokio::test]
async fn a_message_no_other_socket_shows_is_written_at_once() {
    let (_edge, _api, _c, mut visitor) = conversation_with_write_delay("alone").await;
    let sent = std::time::Instant::now();
    visitor.send(&send_frame("alone-1", "anyone there?")).await;
    expect_ack(&mut visitor, Seq(1)).await;
    // With the wait, the ack could not come before WRITE_DELAY.
    assert!(
        sent.elapsed() < WRITE_DELAY,
        "acknowledged {:?} after the send, with no other socket open",
        sent.elapsed()
    );
}

/// A visitor who sends and closes the tab at once: the socket closes while its messages wait
/// for the send turn behind the first one's write. Each is stored all the same, in the order
/// its socket sent it — after a clean close and after a dropped connection alike (the two
/// sockets' messages may interleave: the runtime hands a socket its next frame once the one
/// before is handled). (The bench caught 950 of 1,000
/// such messages lost: the close took the socket off the list before they had their turn.)
#[tokio::test]
async fn messages_sent_just_before_the_socket_closes_are_all_stored() {
    let (_edge, api, c, mut visitor) = conversation_with_write_delay("closing").await;
    let _agent = agent_watching(&api, &c).await;
    let mut tab = visitor_tab(&api, &c).await;
    tab.hello(0).await;
    for n in 1..=3 {
        visitor
            .send(&send_frame(&format!("bye-{n}"), &format!("line {n}")))
            .await;
    }
    visitor.close().await;
    for n in 4..=5 {
        tab.send(&send_frame(&format!("bye-{n}"), &format!("line {n}")))
            .await;
    }
    tab.drop_connection();

    // Each write waits WRITE_DELAY; the history waits for the last.
    let deadline = std::time::Instant::now() + WRITE_DELAY * 5 + T;
    let stored = loop {
        let stored = api.admin_messages(&c.conversation_id).await.messages;
        if stored.len() >= 5 || std::time::Instant::now() > deadline {
            break stored;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let bodies: Vec<&str> = stored.iter().map(|m| m.body.as_str()).collect();
    assert_eq!(
        stored.iter().map(|m| m.seq.0).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5],
        "{bodies:?}"
    );
    let sent_by = |lines: &[&str]| -> Vec<&str> {
        bodies
            .iter()
            .copied()
            .filter(|b| lines.contains(b))
            .collect()
    };
    let (first, second) = (["line 1", "line 2", "line 3"], ["line 4", "line 5"]);
    assert_eq!(sent_by(&first), first, "the closed socket's: {bodies:?}");
    assert_eq!(sent_by(&second), second, "the dropped one's: {bodies:?}");
}

/// A conversation deleted while a message holds the send turn: the deletion waits for that
/// message's write, and then closes every socket — a tab opened while it waited too (closed
/// before the wait, that one stayed open on a conversation that no longer exists).
#[tokio::test]
async fn a_deletion_closes_the_sockets_opened_while_it_waited_for_a_write() {
    let (_edge, api, c, mut visitor) = conversation_with_write_delay("erased").await;
    let _agent = agent_watching(&api, &c).await;
    visitor.send(&send_frame("last-1", "one more thing")).await;
    let path = format!("/api/v1/admin/conversations/{}", c.conversation_id);
    let (deleted, mut late) =
        tokio::join!(api.send(api.admin(reqwest::Method::DELETE, &path)), async {
            // The deletion waits for the write by now (WRITE_DELAY).
            tokio::time::sleep(WRITE_DELAY / 2).await;
            visitor_tab(&api, &c).await
        });
    assert_eq!(deleted.status, 204, "{:?}", deleted.body);
    let closed = loop {
        match late.next_event(T).await {
            WsEvent::Frame(_) => continue,
            other => break other,
        }
    };
    assert!(
        matches!(
            closed,
            WsEvent::Closed {
                code: Some(4404),
                ..
            }
        ),
        "the tab opened while the deletion waited: {closed:?}"
    );
}

#[tokio::test]
async fn inbox_feed_streams_conversation_changes() {
    let api = api();
    let site = unique("feed");
    api.create_site(&site).await;
    let mut feed = Ws::connect(&api.feed_ws_url(&site).await, None)
        .await
        .unwrap();
    let c = api.start_conversation(&site, None).await;
    let mut visitor = api.visitor_socket(&c).await;
    visitor
        .send(&ClientFrame::Send {
            client_msg_id: client_id("hi"),
            body: "Is the Guji in stock?".into(),
            attachments: Vec::new(),
        })
        .await;
    loop {
        let text = feed.next_text(T).await.expect("an inbox event");
        let InboxEvent::Conversation { summary } = serde_json::from_str(&text).unwrap() else {
            continue;
        };
        assert_eq!(summary.id, c.conversation_id);
        if summary.last_seq == Seq(1) {
            assert_eq!(summary.last_message.unwrap().body, "Is the Guji in stock?");
            assert_eq!(summary.unread, 1);
            break;
        }
    }
    // Tickets are checked: none, or a forged one, is refused.
    let base = api.base.replacen("http", "ws", 1);
    assert_eq!(
        Ws::connect(&format!("{base}/api/v1/admin/sites/{site}/live"), None)
            .await
            .err()
            .map(|e| e.status),
        Some(401)
    );
    assert_eq!(
        Ws::connect(
            &format!("{base}/api/v1/admin/sites/{site}/live?ticket=wt2.e30.AAAA"),
            None
        )
        .await
        .err()
        .map(|e| e.status),
        Some(401)
    );
}

#[tokio::test]
async fn admin_sites_keys_and_documents() {
    let api = api();
    let key = unique("admin");
    let site = api.create_site(&key).await;
    assert_eq!(site.allowed_origins, ["https://shop.example"]);
    let r = api
        .send(
            api.admin(Method::POST, "/api/v1/admin/sites")
                .json(&json!({"key": key, "name": "x", "greeting": "x", "accent": "#000"})),
        )
        .await;
    assert_eq!((r.status, r.error_code()), (409, "conflict"));
    let r = api
        .send(
            api.admin(Method::POST, "/api/v1/admin/sites")
                .json(&json!({"key": "Bad Key", "name": "x", "greeting": "x", "accent": "#000"})),
        )
        .await;
    assert_eq!(r.status, 400);
    let r = api
        .send(api.admin(Method::POST, "/api/v1/admin/sites").json(&json!({"key": unique("x"), "name": "x", "greeting": "x", "accent": "#000", "allowed_origins": ["https://a.example/path"]})))
        .await;
    assert_eq!((r.status, r.error_code()), (400, "bad_request"));
    let r = api
        .patch_site(&key, json!({"greeting": "Welcome back!"}))
        .await;
    assert_eq!(
        (r.status, r.body["greeting"].as_str()),
        (200, Some("Welcome back!"))
    );
    let cfg = api
        .send(api.get(&format!("/api/v1/sites/{key}/config")))
        .await;
    assert_eq!(cfg.body["greeting"], json!("Welcome back!"));
    assert!(
        cfg.body.get("allowed_origins").is_none(),
        "public config hides settings"
    );

    // Keys: created keys work until revoked; only hashes are listed.
    let created = api
        .send(
            api.admin(Method::POST, "/api/v1/admin/keys")
                .json(&json!({"label": "CI", "role": "owner"})),
        )
        .await;
    assert_eq!(created.status, 201);
    let new_key = created.body["key"].as_str().unwrap().to_owned();
    let id = created.body["id"].as_str().unwrap().to_owned();
    let r = api
        .send(api.get("/api/v1/admin/sites").bearer_auth(&new_key))
        .await;
    assert_eq!(r.status, 200);
    let listed = api.send(api.admin(Method::GET, "/api/v1/admin/keys")).await;
    assert!(
        !listed.body.to_string().contains(&new_key),
        "keys are never returned again"
    );
    let r = api
        .send(
            api.http
                .delete(format!("{}/api/v1/admin/keys/{id}", api.base))
                .bearer_auth(&new_key),
        )
        .await;
    assert_eq!(
        (r.status, r.error_code()),
        (409, "conflict"),
        "a key cannot revoke itself"
    );
    let r = api
        .send(api.admin(Method::DELETE, &format!("/api/v1/admin/keys/{id}")))
        .await;
    assert_eq!(r.status, 204);
    let r = api
        .send(api.get("/api/v1/admin/sites").bearer_auth(&new_key))
        .await;
    assert_eq!((r.status, r.error_code()), (401, "invalid_token"));

    // OpenAPI document and the widget frame with its CSP.
    let doc = api.send(api.get("/api/v1/openapi.json")).await;
    assert_eq!(doc.body["openapi"], json!("3.1.0"));
    let frame = api
        .http
        .get(format!(
            "{}/frame/{key}?host=https://shop.example",
            api.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(frame.status(), 200);
    let csp = frame.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("frame-ancestors 'self'")
            && csp.contains("https://shop.example")
            && csp.contains("'wasm-unsafe-eval'"),
        "{csp}"
    );
    let refused = api
        .http
        .get(format!(
            "{}/frame/{key}?host=https://evil.example",
            api.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
}

/// `/beckon.d.ts` is served as text and declares every public call of the loader's
/// `window.Beckon` (read from the loader's source, so a new call without a declaration fails).
#[tokio::test]
async fn the_typescript_declarations_cover_the_loaders_api() {
    let loader =
        std::fs::read_to_string(beckon_tests::repo_root().join("widget/loader/beckon.js")).unwrap();
    let start = loader.find("var api = {").expect("the loader's api object");
    let end = start + loader[start..].find("w.Beckon = api;").unwrap();
    // Its members, `name: …` or `name(…) {…}`, at the object's indentation.
    let calls: Vec<&str> = loader[start..end]
        .lines()
        .filter_map(|l| {
            let member = l.strip_prefix("    ")?;
            let name = member.split([':', '(']).next()?;
            (member.len() > name.len() && !name.is_empty()).then_some(name)
        })
        .filter(|k| !k.starts_with('_') && k.chars().all(|c| c.is_ascii_alphabetic()))
        .collect();
    assert!(calls.len() >= 8, "{calls:?}");
    let r = api().get("/beckon.d.ts").send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let dts = r.text().await.unwrap();
    for call in &calls {
        assert!(
            dts.contains(&format!("    {call}("))
                || dts.contains(&format!("    {call}<"))
                || dts.contains(&format!("    readonly {call}:")),
            "beckon.d.ts lacks {call}"
        );
    }
    println!("beckon.d.ts declares {} calls: {calls:?}", calls.len());
}

/// The embed snippet's script, `/api/v1/sites/{site}/beckon.js`, is the loader followed by the
/// site's boot script, as the two separate requests give them (with the wake-up code and the
/// attention tag for a site that has them; never a preview's draft); an unknown site gets a
/// console warning that runs, a malformed key a 400.
#[tokio::test]
async fn the_embed_script_is_the_loader_and_the_sites_boot_script_in_one() {
    let api = api();
    let site = unique("embed");
    api.create_site(&site).await;
    let get = |path: String| {
        let r = api.get(&path).header("accept-language", "fr");
        async move {
            let r = r.send().await.unwrap();
            let header = |h: &str| {
                r.headers()
                    .get(h)
                    .map(|v| v.to_str().unwrap().to_owned())
                    .unwrap_or_default()
            };
            let heads = (
                header("content-type"),
                header("cache-control"),
                header("vary"),
            );
            (r.status().as_u16(), heads, r.text().await.unwrap())
        }
    };
    let (status, heads, embed) = get(format!("/api/v1/sites/{site}/beckon.js")).await;
    assert_eq!(status, 200, "{embed}");
    assert_eq!(
        heads,
        (
            "text/javascript; charset=utf-8".to_owned(),
            "public, max-age=60".to_owned(),
            "accept-language".to_owned()
        )
    );
    let (_, _, loader) = get("/beckon.js".into()).await;
    let (_, _, boot) = get(format!("/api/v1/sites/{site}/boot.js?v=3")).await;
    assert_eq!(embed, format!("{}\n{boot}", loader.trim_end()));
    assert!(
        boot.starts_with("window.Beckon&&Beckon._boot&&Beckon._boot({")
            && boot.ends_with(r#""d":"ltr"});"#)
            && boot.contains(r#""o":"Ouvrir le chat""#),
        "{boot}"
    );
    println!(
        "embed script: {} B, {} B gzip (loader {} B gzip)",
        embed.len(),
        beckon_tests::gzip_len(embed.as_bytes()),
        beckon_tests::gzip_len(loader.as_bytes())
    );

    // A token in the query changes nothing here: the saved settings, cached as ever.
    let (_, heads, again) = get(format!("/api/v1/sites/{site}/beckon.js?p=eyJ.abc")).await;
    assert_eq!((heads.1.as_str(), &again), ("public, max-age=60", &embed));

    // Visits counted and attention on: the wake-up code inline, then attention's tag.
    let r = api
        .patch_site(
            &site,
            json!({"remember_visitors": true, "attention": {"title": true}}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let (_, _, boot) = get(format!("/api/v1/sites/{site}/boot.js?v=3")).await;
    let (_, _, embed) = get(format!("/api/v1/sites/{site}/beckon.js")).await;
    assert_eq!(embed, format!("{}\n{boot}", loader.trim_end()));
    let (_, _, wakeup) = get("/wakeup.js".into()).await;
    let wakeup_at = embed
        .find(wakeup.trim_end())
        .expect("the wake-up code inline");
    let attention_at = embed.find(r#"new URL("/attention.js",d.currentScript.src)"#);
    assert!(attention_at.is_some_and(|at| at > wakeup_at), "{embed}");

    // An unknown site: a warning that runs, from the embed script and from the first snippet's
    // boot script alike (its loader has no error handler for it).
    for script in ["beckon.js", "boot.js?v=3"] {
        let (status, heads, unknown) = get(format!("/api/v1/sites/no-such-site-x/{script}")).await;
        assert_eq!(
            (status, heads.1.as_str(), unknown.as_str()),
            (
                200,
                "no-store",
                r#"console.warn("Beckon: unknown site \"no-such-site-x\"");"#
            ),
            "{script}"
        );
    }
    let (status, _, bad) = get("/api/v1/sites/Not_A_Key/beckon.js".into()).await;
    assert_eq!(status, 400, "{bad}");
}
