//! Working a conversation, against the real edge: agents signed in as themselves take a
//! conversation, leave internal notes the visitor never sees, close and snooze it; a
//! visitor's new message (or the end of a snooze) opens it again; the inbox's lists filter
//! by status and assignee; every inbox tab on the site hears of each change.

use beckon_tests::api::{Api, Ws};
use beckon_tests::people::{as_person, invite, open_session, sign_in, Session};
use beckon_tests::{browser, edge, eventually, host_page, unique};
use fantoccini::key::Key;
use fantoccini::Locator;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);

/// Invites `name` as an agent of `site` and signs them in.
async fn agent(api: &Api, site: &str, name: &str) -> Session {
    let token = invite(
        api.admin(Method::POST, "/api/v1/admin/invitations"),
        json!({"email": format!("{}.{site}@shop.example", name.to_lowercase()), "role": "agent", "sites": [site]}),
    )
    .await;
    open_session(
        api,
        "/api/v1/auth/accept",
        json!({"token": token, "name": name, "password": "a long enough password"}),
    )
    .await
    .expect("joined")
}

/// Invites `name` as an agent of `site`, signs them in to the inbox in Chromium and opens the
/// first conversation of the open list.
async fn inbox_at_first(api: &Api, site: &str, name: &str) -> fantoccini::Client {
    agent(api, site, name).await;
    let c = browser::open(1280, 860).await;
    let email = format!("{}.{site}@shop.example", name.to_lowercase());
    sign_in(&c, &api.base, &email, "a long enough password").await;
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Css("button.conv"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c
}

/// The ids of the site's conversations a list with `query` shows, as `s` sees it.
async fn listed(api: &Api, s: &Session, site: &str, query: &str) -> Vec<String> {
    let r = api
        .send(as_person(
            api,
            s,
            Method::GET,
            &format!("/api/v1/admin/conversations?site={site}&{query}"),
            false,
        ))
        .await;
    assert_eq!(r.status, 200, "{query}: {:?}", r.body);
    r.body["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Waits until the site's open list, as `s` sees it, shows conversation `id`.
async fn listed_open_eventually(api: &Api, s: &Session, site: &str, id: &str, what: &str) {
    eventually(WAIT, what, || async {
        listed(api, s, site, "status=open")
            .await
            .iter()
            .any(|c| c == id)
            .then_some(())
    })
    .await;
}

/// A `PATCH` of the conversation's work as `s`.
async fn patch(api: &Api, s: &Session, id: &str, body: Value) -> (u16, Value) {
    let r = api
        .send(
            as_person(
                api,
                s,
                Method::PATCH,
                &format!("/api/v1/admin/conversations/{id}"),
                true,
            )
            .json(&body),
        )
        .await;
    (r.status, r.body)
}

/// Two seconds of what the visitor's socket gets: nothing with `secret` in it.
async fn nothing_reaches(visitor: &mut Ws, secret: &str) {
    let until = tokio::time::Instant::now() + Duration::from_secs(2);
    while let Some(text) = visitor
        .next_text(until.saturating_duration_since(tokio::time::Instant::now()))
        .await
    {
        assert!(!text.contains(secret), "the visitor got the note: {text}");
    }
}

/// The next inbox event of `kind` on a feed socket.
async fn event(feed: &mut Ws, kind: &str) -> Value {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let text = feed
            .next_text(left)
            .await
            .unwrap_or_else(|| panic!("no {kind} event"));
        let v: Value = serde_json::from_str(&text).unwrap();
        if v["type"] == kind {
            return v;
        }
    }
}

#[tokio::test]
async fn agents_take_note_close_and_snooze_and_visitors_reopen() {
    let api = Api::new(&edge::shared().url);
    let (site, other) = (unique("work"), unique("work-b"));
    api.create_site(&site).await;
    api.create_site(&other).await;
    let ana = agent(&api, &site, "Ana").await;
    let ben = agent(&api, &site, "Ben").await;
    let stranger = agent(&api, &other, "Sam").await;
    let ben_id = ben.body["person"]["id"].as_str().unwrap().to_owned();
    let sam_id = stranger.body["person"]["id"].as_str().unwrap().to_owned();
    let mut feed = Ws::connect(&api.feed_ws_url(&site).await, None)
        .await
        .expect("feed");

    // A visitor writes.
    let started = api.start_conversation(&site, None).await;
    let id = started.conversation_id.to_string();
    let mut visitor = api.visitor_socket(&started).await;
    visitor.say("my card was declined").await;
    listed_open_eventually(&api, &ana, &site, &id, "the conversation listed as open").await;
    assert!(listed(&api, &ana, &site, "assignee=none")
        .await
        .contains(&id));

    // Ana takes it (her CSRF token is needed; an admin key cannot be "me").
    let no_csrf = api
        .send(
            as_person(
                &api,
                &ana,
                Method::PATCH,
                &format!("/api/v1/admin/conversations/{id}"),
                false,
            )
            .json(&json!({"assignee": "me"})),
        )
        .await;
    assert_eq!(no_csrf.status, 403, "{:?}", no_csrf.body);
    let key_me = api
        .send(
            api.admin(Method::PATCH, &format!("/api/v1/admin/conversations/{id}"))
                .json(&json!({"assignee": "me"})),
        )
        .await;
    assert_eq!(key_me.status, 400, "{:?}", key_me.body);
    let key_mine = api
        .send(api.admin(
            Method::GET,
            &format!("/api/v1/admin/conversations?site={site}&assignee=me"),
        ))
        .await;
    assert_eq!(key_mine.status, 400, "{:?}", key_mine.body);
    let (status, work) = patch(&api, &ana, &id, json!({"assignee": "me"})).await;
    assert_eq!(status, 200, "{work}");
    assert_eq!(work["assignee"]["name"], "Ana");
    assert_eq!(work["status"], "open");
    let told = event(&mut feed, "work").await;
    assert_eq!(told["conversation_id"], json!(id));
    assert_eq!(told["work"]["assignee"]["name"], "Ana");
    assert!(listed(&api, &ana, &site, "assignee=me").await.contains(&id));
    assert!(!listed(&api, &ben, &site, "assignee=me").await.contains(&id));
    assert!(!listed(&api, &ana, &site, "assignee=none")
        .await
        .contains(&id));

    // Bad changes are refused with a reason.
    for (body, code) in [
        (json!({}), 400),
        (json!({"status": "snoozed"}), 400),
        (json!({"status": "closed", "snoozed_until": 1}), 400),
        (json!({"status": "gone"}), 400),
        (json!({"assignee": sam_id}), 404),
    ] {
        let (status, why) = patch(&api, &ana, &id, body.clone()).await;
        assert_eq!(status, code, "{body}: {why}");
    }
    // A person of another site sees nothing of it.
    let (status, _) = patch(&api, &stranger, &id, json!({"status": "closed"})).await;
    assert_eq!(status, 403);

    // A note for Ben: the feed tells every tab; the visitor never sees it, nor does the
    // conversation's history.
    let secret = "internal: refund approved by Ana";
    for (body, code) in [
        (json!({"body": "  "}), 400),
        (json!({"body": "x".repeat(4001)}), 400),
    ] {
        let r = api
            .send(
                as_person(
                    &api,
                    &ana,
                    Method::POST,
                    &format!("/api/v1/admin/conversations/{id}/notes"),
                    true,
                )
                .json(&body),
            )
            .await;
        assert_eq!(r.status, code);
    }
    let note = api
        .send(
            as_person(
                &api,
                &ana,
                Method::POST,
                &format!("/api/v1/admin/conversations/{id}/notes"),
                true,
            )
            .json(&json!({ "body": secret })),
        )
        .await;
    assert_eq!(note.status, 201, "{:?}", note.body);
    assert_eq!(note.body["author"], "Ana");
    let told = event(&mut feed, "note").await;
    assert_eq!(told["conversation_id"], json!(id));
    let notes = api
        .send(as_person(
            &api,
            &ben,
            Method::GET,
            &format!("/api/v1/admin/conversations/{id}/notes"),
            false,
        ))
        .await;
    assert_eq!(notes.body["notes"][0]["body"], secret, "{:?}", notes.body);
    // The visitor never gets the note.
    nothing_reaches(&mut visitor, "refund approved").await;
    let history = api.admin_messages(&started.conversation_id).await.messages;
    assert!(history.iter().all(|m| !m.body.contains("refund approved")));

    // Ana closes it: it leaves the open list.
    let (status, work) = patch(&api, &ana, &id, json!({"status": "closed"})).await;
    assert_eq!((status, &work["status"]), (200, &json!("closed")), "{work}");
    assert!(listed(&api, &ana, &site, "status=closed")
        .await
        .contains(&id));
    assert!(!listed(&api, &ana, &site, "status=open").await.contains(&id));
    // The visitor writes again: open again, still Ana's.
    visitor.say("one more thing").await;
    let reopened = eventually(WAIT, "reopened by the visitor", || async {
        let r = api
            .send(as_person(
                &api,
                &ben,
                Method::GET,
                &format!("/api/v1/admin/conversations?site={site}&status=open"),
                false,
            ))
            .await;
        r.body["conversations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == json!(id))
            .cloned()
    })
    .await;
    assert_eq!(reopened["work"]["assignee"]["name"], "Ana");
    assert_eq!(reopened["work"]["notes"], 1);

    // Snoozed for 10 seconds (room for a busy machine): out of the open list, then back;
    // the list says when the site's first snooze ends.
    let until = reopened["updated_at"].as_i64().unwrap().max(now_ms()) + 10_000;
    let (status, work) = patch(
        &api,
        &ana,
        &id,
        json!({"status": "snoozed", "snoozed_until": until}),
    )
    .await;
    assert_eq!(status, 200, "{work}");
    assert_eq!(work["snoozed_until"], json!(until));
    assert!(listed(&api, &ana, &site, "status=snoozed")
        .await
        .contains(&id));
    assert!(!listed(&api, &ana, &site, "status=open").await.contains(&id));
    let open_list = api
        .send(as_person(
            &api,
            &ana,
            Method::GET,
            &format!("/api/v1/admin/conversations?site={site}&status=open"),
            false,
        ))
        .await;
    assert_eq!(open_list.body["next_snooze_end"], json!(until));
    listed_open_eventually(&api, &ana, &site, &id, "back from the snooze").await;

    // Ana hands it to Ben; Ben is removed: it is nobody's again.
    let (status, work) = patch(&api, &ana, &id, json!({"assignee": ben_id})).await;
    assert_eq!((status, &work["assignee"]["name"]), (200, &json!("Ben")));
    let removed = api
        .send(api.admin(Method::DELETE, &format!("/api/v1/admin/people/{ben_id}")))
        .await;
    assert_eq!(removed.status, 204);
    // Open inboxes are told at once (after the earlier changes' events).
    loop {
        let told = event(&mut feed, "work").await;
        if told["conversation_id"] == json!(id) && told["work"].get("assignee").is_none() {
            break;
        }
    }
    assert!(listed(&api, &ana, &site, "assignee=none")
        .await
        .contains(&id));

    // Saved replies: owners keep them, agents read them.
    let replies = format!("/api/v1/admin/sites/{site}/replies");
    for (body, code) in [
        (json!({"shortcut": "two words", "body": "x"}), 400),
        (json!({"shortcut": "ok", "body": " "}), 400),
        (json!({"shortcut": "ok"}), 400),
    ] {
        let r = api
            .send(api.admin(Method::POST, &replies).json(&body))
            .await;
        assert_eq!(r.status, code, "{body}: {:?}", r.body);
    }
    let by_agent = api
        .send(
            as_person(&api, &ana, Method::POST, &replies, true)
                .json(&json!({"shortcut": "x", "body": "y"})),
        )
        .await;
    assert_eq!(by_agent.status, 403);
    for (shortcut, body) in [
        ("/Thanks", "Thank you!"),
        ("thanks", "Thank you for waiting!"),
    ] {
        let r = api
            .send(
                api.admin(Method::POST, &replies)
                    .json(&json!({"shortcut": shortcut, "body": body})),
            )
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
    }
    let listed_replies = api
        .send(as_person(&api, &ana, Method::GET, &replies, false))
        .await;
    assert_eq!(
        listed_replies.body["replies"],
        json!([{"shortcut": "thanks", "body": "Thank you for waiting!"}]),
        "one per shortcut, the last saved"
    );
    let gone = api
        .send(api.admin(Method::DELETE, &format!("{replies}/thanks")))
        .await;
    assert_eq!(gone.status, 204);
    let again = api
        .send(api.admin(Method::DELETE, &format!("{replies}/thanks")))
        .await;
    assert_eq!(again.status, 404);

    // Deleting the conversation deletes its notes.
    let deleted = api
        .send(api.admin(Method::DELETE, &format!("/api/v1/admin/conversations/{id}")))
        .await;
    assert_eq!(deleted.status, 204);
    let left = edge::shared().d1(&format!(
        "SELECT COUNT(*) AS n FROM conversation_notes WHERE conversation_id = '{id}'"
    ));
    assert_eq!(left[0]["n"], 0, "the notes are deleted");
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// The text of the first element matching `css`, or "" if there is none.
async fn text_of(c: &fantoccini::Client, css: &str) -> String {
    match c.find(Locator::Css(css)).await {
        Ok(e) => e.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

#[tokio::test]
async fn an_agent_takes_notes_on_and_closes_a_conversation_in_the_inbox() {
    let api = Api::new(&edge::shared().url);
    let site = unique("work-ui");
    api.create_site(&site).await;
    let saved = api
        .send(
            api.admin(Method::POST, &format!("/api/v1/admin/sites/{site}/replies"))
                .json(&json!({"shortcut": "lost", "body": "We are sending a new parcel today."})),
        )
        .await;
    assert_eq!(saved.status, 200, "{:?}", saved.body);
    // The conversation is relayed to the team's Telegram group too.
    let telegram = beckon_tests::fakes::telegram::FakeTelegram::start("424242:WORK-UI").await;
    let r = api
        .send(
            api.admin(Method::PUT, &format!("/api/v1/admin/sites/{site}/channels/telegram"))
                .json(&json!({
                    "settings": {"kind": "telegram", "chat_id": -1001234567890i64, "api_base": telegram.base},
                    "secrets": {"kind": "telegram", "bot_token": telegram.token,
                                "webhook_secret": "tg_hook_secret-42_a8F3kq9ZrR1x7Lm2"},
                })),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let started = api.start_conversation(&site, None).await;
    let mut visitor = api.visitor_socket(&started).await;
    visitor.say("where is my parcel?").await;

    // The open list shows it; she opens it.
    let c = inbox_at_first(&api, &site, "Ana").await;
    // She takes it: the list says it is hers.
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Css("select[aria-label='Assigned to']"))
        .await
        .unwrap()
        .select_by_label("Me")
        .await
        .unwrap();
    eventually(WAIT, "the list shows it is Ana's", || async {
        (text_of(&c, "button.conv .assigned").await == "Ana").then_some(())
    })
    .await;
    // A note for the team.
    browser::click(&c, ".notes summary").await;
    browser::type_into(
        &c,
        "textarea[aria-label='Internal note']",
        "parcel lost: reship, no charge",
    )
    .await;
    browser::click(&c, ".notes form button[type=submit]").await;
    eventually(WAIT, "the note shown", || async {
        text_of(&c, ".notes li p")
            .await
            .contains("reship")
            .then_some(())
    })
    .await;
    // Colleagues' notes arrive live, one after another.
    for text in ["second note from the office", "third note from the office"] {
        let r = api
            .send(
                api.admin(
                    Method::POST,
                    &format!(
                        "/api/v1/admin/conversations/{}/notes",
                        started.conversation_id
                    ),
                )
                .json(&json!({ "body": text })),
            )
            .await;
        assert_eq!(r.status, 201, "{:?}", r.body);
        eventually(WAIT, "the colleague's note shown", || async {
            let shown = c.find_all(Locator::Css(".notes li p")).await.ok()?;
            for n in shown {
                if n.text().await.ok()? == text {
                    return Some(());
                }
            }
            None
        })
        .await;
    }
    // A tag, typed the way people do: kept lower-case, shown on the list.
    browser::type_into(&c, "input[aria-label='Add a tag']", "Lost Parcel\u{E007}").await;
    eventually(WAIT, "the tag on the list", || async {
        (text_of(&c, "button.conv .tags-line").await == "#lost parcel").then_some(())
    })
    .await;
    // Narrowed by another tag, the list has nothing; by this one, it has it again.
    browser::click(&c, ".narrow summary").await;
    browser::type_into(&c, "input[aria-label='Tag']", "vip\u{E007}").await;
    eventually(WAIT, "nothing tagged vip", || async {
        c.find_all(Locator::Css("button.conv"))
            .await
            .ok()?
            .is_empty()
            .then_some(())
    })
    .await;
    // Typed over (select all, then the tag), as people do: the focus never leaves the field.
    browser::type_into(
        &c,
        "input[aria-label='Tag']",
        "\u{E009}a\u{E000}Lost parcel\u{E007}",
    )
    .await;
    eventually(WAIT, "the tagged conversation", || async {
        (text_of(&c, "button.conv .tags-line").await == "#lost parcel").then_some(())
    })
    .await;
    // The conversation shown again does not take the keys being typed into the filter.
    eventually(WAIT, "its pane shown", || async {
        c.find(Locator::Css("textarea[aria-label='Message']"))
            .await
            .ok()
    })
    .await;
    let focus = c
        .execute(
            "return document.activeElement.getAttribute('aria-label')",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(focus, json!("Tag"), "the focus stays in the filter");
    browser::screenshot(&c, "inbox-work-note-desktop").await;
    c.set_window_size(375, 740).await.unwrap();
    browser::screenshot(&c, "inbox-work-note-375").await;
    c.set_window_size(1280, 860).await.unwrap();
    // She answers with the saved reply: picked by its shortcut, sent under her name.
    browser::choose(&c, "select[aria-label='Insert a saved reply']", "/lost").await;
    browser::click(&c, "button[aria-label='Send']").await;
    let answer = visitor.agent_message(WAIT).await;
    assert_eq!(
        (answer.body.as_str(), answer.author.as_deref()),
        ("We are sending a new parcel today.", Some("Ana"))
    );
    // The visitor got nothing of the note, nor did Telegram: the answer after it is relayed,
    // the notes never.
    nothing_reaches(&mut visitor, "reship").await;
    let relayed = eventually(WAIT, "the answer relayed to Telegram", || async {
        let sent: Vec<String> = telegram.sent().into_iter().map(|m| m.text).collect();
        sent.iter()
            .any(|t| t.contains("We are sending a new parcel today."))
            .then_some(sent)
    })
    .await;
    assert!(
        relayed.iter().any(|t| t.contains("where is my parcel?")),
        "{relayed:?}"
    );
    assert!(
        relayed
            .iter()
            .all(|t| !t.contains("reship") && !t.contains("from the office")),
        "no note on Telegram: {relayed:?}"
    );
    // She closes it: it leaves the open list, and the closed list has it.
    c.find(Locator::XPath(
        "//div[@class='work-bar']/button[text()='Close']",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    eventually(WAIT, "gone from the open list", || async {
        c.find_all(Locator::Css("button.conv"))
            .await
            .unwrap()
            .is_empty()
            .then_some(())
    })
    .await;
    browser::choose(&c, "select[aria-label='Show']", "Closed").await;
    eventually(WAIT, "in the closed list", || async {
        (text_of(&c, "button.conv .assigned").await == "Ana · closed").then_some(())
    })
    .await;
    browser::screenshot(&c, "inbox-work-closed-desktop").await;
    // The visitor writes again: back in the open list.
    visitor.say("any news?").await;
    browser::choose(&c, "select[aria-label='Show']", "Open").await;
    eventually(WAIT, "open again", || async {
        (text_of(&c, "button.conv .assigned").await == "Ana").then_some(())
    })
    .await;
    c.close().await.unwrap();
}

/// `s`'s live feed of `site`, asking to be shown as `name` (a signed-in person is shown by
/// their own name whatever they ask).
async fn feed_as(api: &Api, s: &Session, site: &str, name: &str) -> Ws {
    let ticket = api
        .send(
            as_person(api, s, Method::POST, "/api/v1/admin/ws-ticket", true)
                .json(&json!({ "site": site, "name": name })),
        )
        .await;
    assert_eq!(ticket.status, 200, "{:?}", ticket.body);
    let url = api.ws_url(
        &format!("/api/v1/admin/sites/{site}/live"),
        ticket.body["ticket"].as_str().unwrap(),
    );
    Ws::connect(&url, None).await.expect("feed socket")
}

/// The next `viewers` event on `feed` that `fits`.
async fn viewers_until(feed: &mut Ws, what: &str, fits: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        assert!(!left.is_zero(), "no viewers event where {what}");
        let v = event(feed, "viewers").await;
        if fits(&v) {
            return v;
        }
    }
}

/// Collision avoidance on the feed: each inbox tab says which conversation it shows and when
/// its person writes there; every other tab hears it at once (named as the server knows
/// them), and a tab that closes leaves.
#[tokio::test]
async fn colleagues_hear_who_views_and_who_writes_in_a_conversation() {
    let api = Api::new(&edge::shared().url);
    let site = unique("viewers");
    api.create_site(&site).await;
    let started = api.start_conversation(&site, None).await;
    let conv = started.conversation_id.to_string();
    let (ana, sam) = (
        agent(&api, &site, "Ana").await,
        agent(&api, &site, "Sam").await,
    );
    let ana_id = ana.body["person"]["id"].as_str().unwrap().to_owned();
    let mut ana_feed = feed_as(&api, &ana, &site, "The Boss").await;
    let mut sam_feed = feed_as(&api, &sam, &site, "Sam").await;
    let ana_tab = viewers_until(&mut ana_feed, "Ana learns her tab", |_| true).await["you"]
        .as_str()
        .unwrap()
        .to_owned();

    let say = |conversation: Option<&str>, typing: bool| {
        json!({"type": "viewing", "conversation_id": conversation, "typing": typing}).to_string()
    };
    ana_feed.send_raw(&say(Some(&conv), false)).await;
    let seen = viewers_until(&mut sam_feed, "Ana views", |v| {
        v["viewers"].as_array().is_some_and(|a| !a.is_empty())
    })
    .await;
    assert_ne!(
        seen["you"],
        json!(ana_tab),
        "each tab is told which one it is"
    );
    assert_eq!(
        seen["viewers"],
        json!([{"tab": ana_tab, "person": ana_id, "name": "Ana", "conversation_id": conv, "typing": false}]),
        "named as signed in, not as asked"
    );
    // She writes; then stops.
    ana_feed.send_raw(&say(Some(&conv), true)).await;
    viewers_until(&mut sam_feed, "Ana writes", |v| {
        v["viewers"][0]["typing"] == true
    })
    .await;
    ana_feed.send_raw(&say(Some(&conv), false)).await;
    viewers_until(&mut sam_feed, "Ana stops", |v| {
        v["viewers"][0]["typing"] == false
    })
    .await;
    // Sam opens it too: Ana hears it.
    sam_feed.send_raw(&say(Some(&conv), false)).await;
    let both = viewers_until(&mut ana_feed, "both there", |v| {
        v["viewers"].as_array().is_some_and(|a| a.len() == 2)
    })
    .await;
    let names: Vec<&str> = both["viewers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"Sam") && names.contains(&"Ana"),
        "{names:?}"
    );
    // Ana's tab closes: Sam hears she left.
    ana_feed.close().await;
    let left = viewers_until(&mut sam_feed, "Ana left", |v| {
        v["viewers"].as_array().is_some_and(|a| a.len() == 1)
    })
    .await;
    assert_eq!(left["viewers"][0]["name"], "Sam");
    // A frame that is not JSON, or names no valid conversation, changes nothing.
    sam_feed.send_raw("not json").await;
    sam_feed
        .send_raw(r#"{"type":"viewing","conversation_id":"c_nope","typing":true}"#)
        .await;
    sam_feed.send_raw(&say(None, false)).await;
    let gone = viewers_until(&mut sam_feed, "Sam back to the list", |_| true).await;
    assert_eq!(gone["viewers"], json!([]));
}

/// The same in the inbox: a colleague sees who else has the conversation open, and who is
/// writing a reply, above the conversation and on the list.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_inbox_shows_colleagues_viewing_and_typing() {
    let api = Api::new(&edge::shared().url);
    let site = unique("viewers-ui");
    api.create_site(&site).await;
    let started = api.start_conversation(&site, None).await;
    let mut visitor = api.visitor_socket(&started).await;
    visitor.say("is anyone there?").await;
    let mut browsers = Vec::new();
    for name in ["Ana", "Sam"] {
        browsers.push(inbox_at_first(&api, &site, name).await);
    }
    let (ana, sam) = (&browsers[0], &browsers[1]);
    eventually(WAIT, "Sam sees Ana there", || async {
        (text_of(sam, ".colleagues").await == "Ana is viewing").then_some(())
    })
    .await;
    eventually(WAIT, "Ana sees Sam there", || async {
        (text_of(ana, ".colleagues").await == "Sam is viewing").then_some(())
    })
    .await;
    // Ana keeps typing (the state lasts 5 s after a key) while Sam's view is checked.
    let box_ = ".composer textarea";
    browser::type_into(ana, box_, "Hello! Let me check").await;
    eventually(WAIT, "Sam sees Ana typing", || async {
        browser::type_into(ana, box_, ".").await;
        let above = text_of(sam, ".colleagues").await;
        let listed = text_of(sam, "button.conv .viewing").await;
        (above == "Ana is typing…" && listed == "Ana is typing…").then_some(())
    })
    .await;
    browser::screenshot(sam, "inbox-colleague-typing").await;
    // Ana goes to Contacts: the conversation is no longer hers to collide with.
    ana.find(Locator::XPath(
        "//nav[@aria-label='Views']//button[normalize-space()='Contacts']",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    eventually(WAIT, "Ana gone from Sam's view", || async {
        text_of(sam, ".colleagues").await.is_empty().then_some(())
    })
    .await;
    // An answer: the list shows it as the conversation's latest; then Sam finds the
    // conversation by a word the visitor wrote, shown as the match.
    api.agent_reply(&started.conversation_id, "Checking now")
        .await;
    eventually(WAIT, "the answer as the latest", || async {
        (text_of(sam, "button.conv .preview").await == "You: Checking now").then_some(())
    })
    .await;
    browser::type_into(sam, "input[aria-label='Search messages']", "anyone\u{E007}").await;
    eventually(WAIT, "the search's match in the list", || async {
        (text_of(sam, "button.conv .preview").await == "is anyone there?").then_some(())
    })
    .await;
    browser::screenshot(sam, "inbox-search").await;
    sam.set_window_size(375, 800).await.unwrap();
    browser::screenshot(sam, "inbox-search-375").await;
    for c in browsers {
        c.close().await.unwrap();
    }
}

/// The site's conversations whose messages hold every word searched (full-text, the last word
/// as a prefix, accents and case ignored), as the edge indexes them after the fact; filters
/// still apply, other sites' are not found, a deleted conversation is gone from the index,
/// and bad searches are refused with a reason.
#[tokio::test]
async fn conversations_are_found_by_the_words_of_their_messages() {
    let api = Api::new(&edge::shared().url);
    let (site, other) = (unique("search"), unique("search-b"));
    api.create_site(&site).await;
    api.create_site(&other).await;
    let parcel = api.start_conversation(&site, None).await;
    let mut v = api.visitor_socket(&parcel).await;
    v.say("My parcel arrived broken, order 7781").await;
    api.agent_reply(&parcel.conversation_id, "Sorry! A new one ships today.")
        .await;
    let jakarta = api.start_conversation(&site, None).await;
    let mut v = api.visitor_socket(&jakarta).await;
    v.say("Do you ship to Jakarta?").await;
    let elsewhere = api.start_conversation(&other, None).await;
    let mut v = api.visitor_socket(&elsewhere).await;
    v.say("my parcel is late").await;
    // Texts travel to the index as JSON: quotes, a backslash, a line break and an emoji
    // come out as they went in.
    let quoted = api.start_conversation(&site, None).await;
    let tricky = "He wrote \"refund\" \\ then 🙂\nleft";
    let mut v = api.visitor_socket(&quoted).await;
    v.say(tricky).await;

    let find = |q: &str, more: &str| {
        let (api, site) = (&api, &site);
        let path = format!(
            "/api/v1/admin/conversations?site={site}&status=all&q={}{more}",
            q.replace(' ', "%20")
        );
        async move {
            let r = api.send(api.admin(Method::GET, &path)).await;
            assert_eq!(r.status, 200, "{path}: {:?}", r.body);
            r.body["conversations"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| {
                    (
                        c["id"].as_str().unwrap().to_owned(),
                        c["matched"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    let (p, j) = (
        parcel.conversation_id.to_string(),
        jakarta.conversation_id.to_string(),
    );
    // Indexed with the conversation index's next batch (a conversation nobody watches within
    // a few seconds).
    let found = eventually(WAIT, "the messages indexed", || async {
        let (a, b) = (find("parcel", "").await, find("ships", "").await);
        let (c, d) = (find("jakarta", "").await, find("refund", "").await);
        (a.len() == 1 && b.len() == 1 && c.len() == 1 && d.len() == 1).then_some((a, b))
    })
    .await;
    assert_eq!(
        find("refund", "").await,
        vec![(quoted.conversation_id.to_string(), tricky.to_owned())]
    );
    // And so do the index rows (whose preview is one line).
    let r = api
        .send(api.admin(
            Method::GET,
            &format!("/api/v1/admin/conversations?site={site}&status=all"),
        ))
        .await;
    let row = r.body["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == quoted.conversation_id.as_str())
        .cloned()
        .unwrap();
    assert_eq!(
        row["last_message"]["body"],
        tricky.replace('\n', " "),
        "{row}"
    );
    assert_eq!(found.0[0].0, p, "a visitor's word; not the other site's");
    assert!(
        found.0[0].1.contains("parcel arrived broken"),
        "{:?}",
        found.0
    );
    assert_eq!(found.1[0].0, p, "an agent's word");
    assert_eq!(found.1[0].1, "Sorry! A new one ships today.");
    assert_eq!(find("parc", "").await.len(), 1, "the last word as a prefix");
    assert_eq!(
        find("JAKÁRTA", "").await[0].0,
        j,
        "case and accents ignored"
    );
    assert_eq!(
        find("7781 broken", "").await[0].0,
        p,
        "every word, any order"
    );
    assert!(find("parcel jakarta", "").await.is_empty());
    assert!(
        find("parcel", "&status=closed").await.is_empty(),
        "filters hold"
    );
    // Operators and quotes are only text.
    assert_eq!(
        find("parcel%22%20OR%20%22jakarta", "").await.len(),
        0,
        "not an OR"
    );
    assert_eq!(find("NEAR(parcel", "").await.len(), 0);
    // Each conversation once, with its newest matching message.
    let mut both = find("ship", "").await;
    both.sort();
    let mut expected = vec![
        (p.clone(), "Sorry! A new one ships today.".to_owned()),
        (j.clone(), "Do you ship to Jakarta?".to_owned()),
    ];
    expected.sort();
    assert_eq!(both, expected, "a prefix in both conversations");
    api.agent_reply(&parcel.conversation_id, "Tracking for your parcel: PX-1")
        .await;
    eventually(WAIT, "the newest match shown", || async {
        let found = find("parcel", "").await;
        (found == vec![(p.clone(), "Tracking for your parcel: PX-1".to_owned())]).then_some(())
    })
    .await;
    for (q, why) in [("%2A%2A%2A", "no word"), (&"x".repeat(201)[..], "too long")] {
        let r = api
            .send(api.admin(
                Method::GET,
                &format!("/api/v1/admin/conversations?site={site}&q={q}"),
            ))
            .await;
        assert_eq!(r.status, 400, "{why}: {:?}", r.body);
    }
    // Deleted: no longer found.
    let r = api
        .send(api.admin(Method::DELETE, &format!("/api/v1/admin/conversations/{p}")))
        .await;
    assert_eq!(r.status, 204);
    assert!(find("parcel", "").await.is_empty());
    let left = edge::shared().d1(&format!(
        "SELECT count(*) AS n FROM message_texts WHERE conversation_id = '{p}'"
    ));
    assert_eq!(left[0]["n"], 0);
}

/// Adds an event rule `id` to `site`.
async fn add_rule(api: &Api, site: &str, id: &str) {
    let rule = json!({"id": id, "name": format!("Rule {id}"), "when": {"if": "event", "name": "seen"},
        "frequency": {"once_per_session": true}, "message": {"text": "Can we help?", "buttons": []}});
    let r = api
        .send(
            api.admin(Method::POST, &format!("/api/v1/admin/sites/{site}/rules"))
                .json(&rule),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
}

/// A new visitor's conversation started by replying to rule `id`'s teaser.
async fn from_rule(
    api: &Api,
    site: &str,
    id: &str,
) -> beckon_shared::proto::v1::StartedConversation {
    let r = api
        .send(
            api.post(&format!("/api/v1/sites/{site}/conversations"))
                .json(&json!({"origin": {"kind": "rule", "rule_id": id}})),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    serde_json::from_value(r.body).unwrap()
}

/// `s`'s answer in conversation `id`, under their own name.
async fn answer_as(api: &Api, s: &Session, id: &str, body: &str) {
    let r = api
        .send(
            as_person(
                api,
                s,
                Method::POST,
                &format!("/api/v1/admin/conversations/{id}/messages"),
                true,
            )
            .json(&json!({ "body": body })),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
}

/// The next message on the visitor's socket that the rating sent (`via: rating`).
async fn rating_message(visitor: &mut Ws) -> beckon_shared::proto::v1::Message {
    use beckon_shared::proto::v1::ServerFrame;
    match visitor
        .recv_until(WAIT, |f| {
            matches!(f, ServerFrame::Message { message } if message.via.as_deref() == Some("rating") && message.role == beckon_shared::proto::v1::Role::Bot)
        })
        .await
    {
        ServerFrame::Message { message } => message,
        _ => unreachable!(),
    }
}

/// One part of the dashboard at `url`, as CSV.
async fn csv_part(api: &Api, url: &str, site: &str, part: &str) -> String {
    let r = api
        .http
        .get(format!("{}{url}&format=csv&part={part}", api.base))
        .bearer_auth(beckon_tests::ADMIN_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
    let disposition = r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        disposition.starts_with(&format!("attachment; filename=\"beckon-{site}-{part}-")),
        "{disposition}"
    );
    r.text().await.unwrap()
}

/// The time from the visitor's first message to the first agent answer after it, from the
/// messages themselves.
async fn first_response_of(api: &Api, id: &beckon_shared::ConversationId) -> u64 {
    use beckon_shared::proto::v1::Role;
    let messages = api.admin_messages(id).await.messages;
    let asked = messages.iter().find(|m| m.role == Role::Visitor).unwrap();
    let answered = messages
        .iter()
        .find(|m| m.role == Role::Agent && m.seq > asked.seq)
        .unwrap();
    (answered.created_at - asked.created_at) as u64
}

/// Acceptance (dashboard): a scripted set of conversations — two answered by two agents,
/// closed and rated (one with a comment), one nobody answered, one a rule started (its
/// impression, the reply and a goal) — and the dashboard returns exactly their figures:
/// conversations per day by origin, the busiest hours, first-response and resolution median
/// and p90 in all and per agent, the ratings (CSAT, mean, the comment) and the rule's funnel;
/// each part downloads as CSV; a bad range is refused with its reason.
#[tokio::test]
async fn the_dashboard_counts_exactly_what_a_scripted_set_of_conversations_did() {
    use beckon_shared::proto::v1::{RATING_LABELS, RATING_QUESTION, RATING_THANKS};
    let api = Api::new(&edge::shared().url);
    let site = unique("dash");
    api.create_site(&site).await;
    let ana = agent(&api, &site, "Ana").await;
    let bo = agent(&api, &site, "Bo").await;
    add_rule(&api, &site, "welcome").await;

    // 1: Ana answers, takes and closes it; the visitor rates it "Great" and comments; the
    // comment opens it again, and she closes it again (asked once).
    let c1 = api.start_conversation(&site, None).await;
    let mut v1 = api.visitor_socket(&c1).await;
    v1.say("my order is late").await;
    let id1 = c1.conversation_id.to_string();
    answer_as(&api, &ana, &id1, "Looking into it now.").await;
    let (status, _) = patch(
        &api,
        &ana,
        &id1,
        json!({"assignee": "me", "status": "closed"}),
    )
    .await;
    assert_eq!(status, 200);
    let question = rating_message(&mut v1).await;
    assert_eq!(question.body, RATING_QUESTION);
    let labels: Vec<&str> = question.buttons.iter().map(|b| b.label.as_str()).collect();
    assert_eq!(labels, RATING_LABELS);
    // The tap is acknowledged once the thanks is there.
    v1.say(RATING_LABELS[0]).await;
    let history = api.admin_messages(&c1.conversation_id).await.messages;
    let (tap, thanks) = (&history[history.len() - 2], &history[history.len() - 1]);
    assert_eq!(
        (tap.body.as_str(), tap.via.as_deref()),
        (RATING_LABELS[0], Some("rating"))
    );
    assert_eq!(
        (thanks.body.as_str(), thanks.via.as_deref()),
        (RATING_THANKS, Some("rating"))
    );
    // The tap alone leaves it closed, and adds nothing unread (the first message still is).
    let row = eventually(WAIT, "the thanks indexed", || async {
        let row = api.admin_summary(&c1.conversation_id).await;
        (row.last_seq >= thanks.seq).then_some(row)
    })
    .await;
    assert_eq!(
        (row.work.as_ref().map(|w| w.status), row.unread),
        (Some(beckon_shared::proto::v1::WorkStatus::Closed), 1),
        "{row:?}"
    );
    v1.say("Quick and kind, thank you").await;
    listed_open_eventually(&api, &ana, &site, &id1, "the comment opens it again").await;
    let (status, _) = patch(&api, &ana, &id1, json!({"status": "closed"})).await;
    assert_eq!(status, 200);
    nothing_reaches(&mut v1, RATING_QUESTION).await;

    // 2: Bo answers and closes it; rated "Poor", no comment.
    let c2 = api.start_conversation(&site, None).await;
    let mut v2 = api.visitor_socket(&c2).await;
    v2.say("do you ship to Norway?").await;
    let id2 = c2.conversation_id.to_string();
    answer_as(&api, &bo, &id2, "Not yet, sorry.").await;
    let (status, _) = patch(
        &api,
        &bo,
        &id2,
        json!({"assignee": "me", "status": "closed"}),
    )
    .await;
    assert_eq!(status, 200);
    rating_message(&mut v2).await;
    v2.say(RATING_LABELS[3]).await;

    // 3: nobody answers.
    let c3 = api.start_conversation(&site, None).await;
    let mut v3 = api.visitor_socket(&c3).await;
    v3.say("anyone there?").await;

    // 4: from the rule: its teaser was seen, the visitor replied, and bought for 49.
    let seen = api
        .send(
            api.post(&format!("/api/v1/sites/{site}/events"))
                .header("origin", "https://shop.example")
                .json(&json!({"rule_id": "welcome", "kind": "impression"})),
        )
        .await;
    assert_eq!(seen.status, 204, "{:?}", seen.body);
    let c4 = from_rule(&api, &site, "welcome").await;
    let mut v4 = api.visitor_socket(&c4).await;
    v4.say("yes please").await;
    let goal = api
        .send(
            api.post(&format!(
                "/api/v1/conversations/{}/events",
                c4.conversation_id
            ))
            .bearer_auth(&c4.visitor_token)
            .json(&json!({"name": "purchase", "value": 49})),
        )
        .await;
    assert_eq!(goal.status, 202, "{:?}", goal.body);

    // What the dashboard must say, from the conversations themselves.
    let f1 = first_response_of(&api, &c1.conversation_id).await;
    let f2 = first_response_of(&api, &c2.conversation_id).await;
    let mut rows = Vec::new();
    for id in [
        &c1.conversation_id,
        &c2.conversation_id,
        &c3.conversation_id,
        &c4.conversation_id,
    ] {
        rows.push(api.admin_summary(id).await);
    }
    let resolution = |row: &beckon_shared::proto::v1::ConversationSummary| {
        (row.work.as_ref().unwrap().status_at - row.created_at) as u64
    };
    let (r1, r2) = (resolution(&rows[0]), resolution(&rows[1]));
    let day_of = |ms: i64| ms.div_euclid(86_400_000);
    let created: Vec<i64> = rows.iter().map(|r| r.created_at).collect();
    let (first_day, last_day) = (day_of(created[0]), day_of(created[3]));
    let date = |d: i64| {
        let (y, m, dd) = beckon_shared::rules::tz::civil_from_days(d);
        format!("{y:04}-{m:02}-{dd:02}")
    };
    let url = format!(
        "/api/v1/admin/sites/{site}/dashboard?from={}&to={}&tz=0",
        date(first_day),
        date(last_day)
    );
    let dash = eventually(WAIT, "both ratings and both first responses", || async {
        let r = api.send(api.admin(Method::GET, &url)).await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        (r.body["ratings"]["count"] == 2
            && r.body["total"]["first_response"]["count"] == 2
            && r.body["total"]["resolution"]["count"] == 2)
            .then_some(r.body)
    })
    .await;
    // Per day, by origin.
    let mut want_days = std::collections::BTreeMap::new();
    for (i, at) in created.iter().enumerate() {
        let e = want_days.entry(date(day_of(*at))).or_insert((0, 0));
        if i == 3 {
            e.1 += 1;
        } else {
            e.0 += 1;
        }
    }
    for d in dash["days"].as_array().unwrap() {
        let (visitor, rule) = want_days
            .get(d["day"].as_str().unwrap())
            .copied()
            .unwrap_or((0, 0));
        assert_eq!(
            (
                d["visitor"].as_u64(),
                d["rule"].as_u64(),
                d["broadcast"].as_u64(),
                d["business"].as_u64()
            ),
            (Some(visitor), Some(rule), Some(0), Some(0)),
            "{d}"
        );
    }
    // The busiest hours: each conversation in its weekday (Monday first) and hour.
    let mut want_hours = vec![vec![0u64; 24]; 7];
    for at in &created {
        // The calendar's weekday (0 = Sunday), Monday first.
        let weekday = (beckon_shared::rules::tz::weekday(day_of(*at)) + 6) % 7;
        want_hours[weekday as usize][(at / 3_600_000 % 24) as usize] += 1;
    }
    assert_eq!(dash["hours"], json!(want_hours));
    // Response and resolution: nearest-rank median and p90 of two values are the smaller
    // and the larger.
    let spread = |a: u64, b: u64| json!({"count": 2, "median_ms": a.min(b), "p90_ms": a.max(b)});
    let one = |a: u64| json!({"count": 1, "median_ms": a, "p90_ms": a});
    assert_eq!(dash["total"]["first_response"], spread(f1, f2));
    assert_eq!(dash["total"]["resolution"], spread(r1, r2));
    let agents = dash["agents"].as_array().unwrap();
    let names: Vec<&str> = agents
        .iter()
        .map(|a| a["agent"].as_str().unwrap_or("-"))
        .collect();
    assert_eq!(names, ["Ana", "Bo"], "{dash}");
    assert_eq!(
        (
            &agents[0]["first_response"],
            &agents[0]["resolution"],
            &agents[0]["rating_mean"]
        ),
        (&one(f1), &one(r1), &json!(5.0))
    );
    assert_eq!(
        (
            &agents[1]["first_response"],
            &agents[1]["resolution"],
            &agents[1]["rating_mean"]
        ),
        (&one(f2), &one(r2), &json!(2.0))
    );
    // Ratings: one 5, one 2.
    let ratings = &dash["ratings"];
    assert_eq!(
        (
            &ratings["scores"],
            &ratings["count"],
            &ratings["csat_percent"],
            &ratings["mean"]
        ),
        (
            &json!([0, 1, 0, 0, 1]),
            &json!(2),
            &json!(50.0),
            &json!(3.5)
        )
    );
    let comments = ratings["comments"].as_array().unwrap();
    assert_eq!(comments.len(), 1);
    assert_eq!(
        (
            &comments[0]["conversation_id"],
            &comments[0]["score"],
            &comments[0]["comment"],
            &comments[0]["agent"]
        ),
        (
            &json!(id1),
            &json!(5),
            &json!("Quick and kind, thank you"),
            &json!("Ana")
        )
    );
    // The rule's funnel.
    let rules = dash["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 1);
    let t = &rules[0]["totals"];
    assert_eq!(
        (
            &rules[0]["rule_id"],
            &t["impressions"],
            &t["replies"],
            &t["goals"],
            &t["goal_value"]
        ),
        (
            &json!("welcome"),
            &json!(1),
            &json!(1),
            &json!(1),
            &json!(49.0)
        ),
        "{}",
        rules[0]
    );
    assert_eq!(dash["broadcasts"], json!([]));

    // Every part as CSV.
    let csv = |part: &'static str| csv_part(&api, &url, &site, part);
    let agents_csv = csv("agents").await;
    let lines: Vec<&str> = agents_csv.lines().collect();
    assert_eq!(lines[0], "agent,first_responses,first_response_median_ms,first_response_p90_ms,resolved,resolution_median_ms,resolution_p90_ms,ratings,rating_mean");
    assert_eq!(lines[2], format!("Ana,1,{f1},{f1},1,{r1},{r1},1,5.00"));
    assert!(csv("ratings")
        .await
        .contains(&format!("{id1},5,\"Quick and kind, thank you\",")));
    assert!(csv("rules")
        .await
        .contains("welcome,Rule welcome,1,0,0,1,1,49"));
    assert_eq!(csv("hours").await.lines().count(), 8);
    assert_eq!(
        csv("days").await.lines().count() as i64,
        last_day - first_day + 2
    );

    // A bad range, and an agent, are refused.
    for (query, why) in [
        ("from=2026-12-01&to=2026-11-01", "from must not be after to"),
        ("from=2025-01-01&to=2026-12-31", "at most 366 days"),
        ("from=2026-02-30&to=2026-03-01", "dates like"),
        ("tz=900", "tz must be"),
        ("format=pdf", "format must be"),
        ("format=csv&part=pies", "part must be one of"),
    ] {
        let r = api
            .send(api.admin(
                Method::GET,
                &format!("/api/v1/admin/sites/{site}/dashboard?{query}"),
            ))
            .await;
        assert_eq!(r.status, 400, "{query}");
        assert!(
            r.body["error"]["message"].as_str().unwrap().contains(why),
            "{query}: {:?}",
            r.body
        );
    }
    let r = api
        .send(as_person(
            &api,
            &ana,
            Method::GET,
            &format!("/api/v1/admin/sites/{site}/dashboard"),
            false,
        ))
        .await;
    assert_eq!(r.status, 403, "an agent does not see the team's figures");
}

/// Acceptance (CSAT and the dashboard, in Chromium): an agent answers and closes a visitor's
/// conversation; the visitor, in the widget, rates it from the keyboard and adds a comment;
/// the owner's dashboard shows the figures, the rating and the comment — at desktop, tablet
/// and phone widths, with no accessibility violation.
#[tokio::test]
async fn a_visitor_rates_a_closed_conversation_and_the_owner_sees_it_on_the_dashboard() {
    use beckon_shared::proto::v1::{RATING_QUESTION, RATING_THANKS};
    let base = &edge::shared().url;
    let api = Api::new(base);
    let site = unique("csat-ui");
    api.create_site(&site).await;
    let host = host_page::serve(base, &site, None).await;
    let visitor = browser::open(1280, 800).await;
    visitor.goto(&host.url).await.unwrap();
    browser::open_chat(&visitor).await;
    browser::send_message(&visitor, "my parcel is lost").await;
    browser::wait_for_log(&visitor, &["my parcel is lost"]).await;
    let id = eventually(WAIT, "the visitor's message stored", || async {
        let r = api
            .send(api.admin(
                Method::GET,
                &format!("/api/v1/admin/conversations?site={site}"),
            ))
            .await;
        let c = &r.body["conversations"][0];
        (c["last_message"]["body"] == "my parcel is lost")
            .then(|| c["id"].as_str().map(str::to_owned))
            .flatten()
    })
    .await;
    let id = beckon_shared::ConversationId::parse(&id).unwrap();
    api.agent_reply(&id, "A new one ships today.").await;
    let r = api
        .send(
            api.admin(Method::PATCH, &format!("/api/v1/admin/conversations/{id}"))
                .json(&json!({"status": "closed"})),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);

    // The widget asks; the visitor answers from the keyboard, then comments.
    let great = eventually(WAIT, "the rating's buttons", || async {
        visitor
            .find(Locator::XPath("//button[@class='cta' and .='😀 Great']"))
            .await
            .ok()
    })
    .await;
    browser::screenshot(&visitor, "widget-rating-asked").await;
    great.send_keys("\u{E007}").await.unwrap();
    let asked = [
        "my parcel is lost",
        "A new one ships today.",
        RATING_QUESTION,
        "😀 Great",
        RATING_THANKS,
    ];
    browser::wait_for_log(&visitor, &asked).await;
    browser::send_message(&visitor, "Fast and friendly").await;
    let mut commented = asked.to_vec();
    commented.push("Fast and friendly");
    browser::wait_for_log(&visitor, &commented).await;
    // Ana's answer carries her initial as its avatar; the rating's question is the team's.
    let avatars = visitor
        .execute(
            "return [...document.querySelectorAll('.msg.theirs .author')].map(a => [a.dataset.initial, a.textContent, getComputedStyle(a, '::before').width])",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        avatars,
        json!([
            ["A", "Ana", "22px"],
            ["T", "Team", "22px"],
            ["T", "Team", "22px"]
        ]),
        "{avatars}"
    );
    browser::screenshot(&visitor, "widget-rating-desktop").await;
    visitor.set_window_size(375, 667).await.unwrap();
    browser::screenshot(&visitor, "widget-rating-375").await;
    visitor.close().await.unwrap();

    // Written with the conversation's next index flush.
    let url = format!("/api/v1/admin/sites/{site}/dashboard");
    eventually(WAIT, "the rating counted", || async {
        let r = api.send(api.admin(Method::GET, &url)).await;
        (r.body["ratings"]["comments"][0]["comment"] == "Fast and friendly").then_some(())
    })
    .await;
    let owner = browser::open(1280, 900).await;
    browser::sign_in_to_inbox(&owner, base, "Olga").await;
    browser::open_inbox_view(&owner, &site, "Dashboard").await;
    eventually(WAIT, "the dashboard", || async {
        text_of(&owner, ".dash .comments")
            .await
            .contains("Fast and friendly")
            .then_some(())
    })
    .await;
    let totals = text_of(&owner, ".dash .totals").await;
    for figure in ["Conversations\n1", "CSAT\n100%"] {
        assert!(totals.contains(figure), "{figure} in {totals:?}");
    }
    let ratings = text_of(&owner, "section[aria-labelledby='d-ratings'] .figures").await;
    assert!(ratings.contains("5.00 / 5"), "{ratings:?}");
    // Ana answered first; the rating is nobody's (it was closed unassigned), and the
    // comment opened it again: nothing resolved.
    let agents = text_of(&owner, "table.agents tbody").await;
    let rows: Vec<&str> = agents.lines().collect();
    assert_eq!(rows.len(), 2, "{agents:?}");
    assert!(
        rows[0].starts_with("Ana 1 ") && rows[0].ends_with(" 0 – – –"),
        "{agents:?}"
    );
    assert_eq!(rows[1], "Unassigned / unnamed 0 – – 0 – – 5.0 (1)");
    let violations = browser::axe(&owner).await;
    assert!(violations.is_empty(), "{violations:#?}");
    browser::screenshot(&owner, "inbox-dashboard-desktop").await;
    owner.set_window_size(1280, 2400).await.unwrap();
    browser::screenshot(&owner, "inbox-dashboard-whole").await;
    owner.set_window_size(820, 1180).await.unwrap();
    browser::screenshot(&owner, "inbox-dashboard-tablet").await;
    owner.set_window_size(375, 740).await.unwrap();
    browser::screenshot(&owner, "inbox-dashboard-375").await;
    owner.close().await.unwrap();
}

/// Tags and the list's further filters: tags are kept trimmed, lower-case, unique and sorted
/// (and refused past their limits, with the reason); the list narrows by tag, origin and
/// channel, alone or together, and refuses what it does not know.
#[tokio::test]
async fn conversations_are_tagged_and_the_list_narrows_by_tag_origin_and_channel() {
    let api = Api::new(&edge::shared().url);
    let site = unique("tags");
    api.create_site(&site).await;
    let ana = agent(&api, &site, "Ana").await;
    add_rule(&api, &site, "hello").await;
    let by_visitor = api.start_conversation(&site, None).await;
    let c2 = from_rule(&api, &site, "hello").await;
    let (c1, c2) = (
        by_visitor.conversation_id.to_string(),
        c2.conversation_id.to_string(),
    );

    let (status, work) = patch(
        &api,
        &ana,
        &c1,
        json!({"tags": [" VIP", "refund", "vip", ""]}),
    )
    .await;
    assert_eq!(
        (status, &work["tags"]),
        (200, &json!(["refund", "vip"])),
        "{work}"
    );
    let (status, work) = patch(&api, &ana, &c2, json!({"tags": ["Vip"]})).await;
    assert_eq!((status, &work["tags"]), (200, &json!(["vip"])), "{work}");
    for (bad, why) in [
        (
            json!(["a\u{7}b"]),
            "tags: \"a\\u{7}b\" is not one line of text",
        ),
        (json!(["x".repeat(41)]), "tags: \"xxxxxxxx"),
        (
            json!((0..21).map(|i| format!("t{i}")).collect::<Vec<_>>()),
            "tags: at most 20 tags, not 21",
        ),
    ] {
        let (status, body) = patch(&api, &ana, &c1, json!({ "tags": bad })).await;
        assert_eq!(status, 400, "{bad}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.starts_with(why), "{message}");
    }
    // A tag typed again is no new tag (20 and one repeated fit).
    let mut twenty: Vec<String> = (0..20).map(|i| format!("t{i}")).collect();
    twenty.push("T3".into());
    let (status, work) = patch(&api, &ana, &c2, json!({ "tags": twenty })).await;
    assert_eq!(
        (status, work["tags"].as_array().map(Vec::len)),
        (200, Some(20)),
        "{work}"
    );
    let (status, _) = patch(&api, &ana, &c2, json!({"tags": ["vip"]})).await;
    assert_eq!(status, 200);

    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    let both = sorted(vec![c1.clone(), c2.clone()]);
    for (query, want) in [
        ("tag=VIP", both.clone()),
        ("tag=refund", vec![c1.clone()]),
        ("origin=rule", vec![c2.clone()]),
        ("origin=visitor&tag=vip", vec![c1.clone()]),
        ("origin=agent", vec![]),
        ("channel=web", both.clone()),
        ("channel=whatsapp", vec![]),
        ("channel=web&origin=rule&tag=vip", vec![c2.clone()]),
    ] {
        let got = sorted(listed(&api, &ana, &site, &format!("status=all&{query}")).await);
        assert_eq!(got, want, "{query}");
    }
    for (query, why) in [
        ("origin=martian", "origin must be"),
        ("channel=fax", "channel must be"),
    ] {
        let r = api
            .send(as_person(
                &api,
                &ana,
                Method::GET,
                &format!("/api/v1/admin/conversations?site={site}&{query}"),
                false,
            ))
            .await;
        assert_eq!(r.status, 400, "{query}");
        assert!(
            r.body["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with(why),
            "{:?}",
            r.body
        );
    }
    // Taken off: `[]` removes them all.
    let (status, work) = patch(&api, &ana, &c1, json!({"tags": []})).await;
    assert_eq!((status, work.get("tags")), (200, None), "{work}");
    assert!(listed(&api, &ana, &site, "status=all&tag=refund")
        .await
        .is_empty());
}

/// A visitor's presence socket, named by their token, on `url` (`since`: the visit's start).
async fn present(api: &Api, site: &str, token: &str, url: &str, since: i64) -> Ws {
    let ws_url = format!(
        "{}/api/v1/sites/{site}/presence",
        api.base.replacen("http", "ws", 1)
    );
    let mut ws = Ws::connect(&ws_url, Some("https://shop.example"))
        .await
        .expect("presence socket");
    ws.next_text(WAIT).await.expect("the hub's welcome");
    ws.send_raw(
        &json!({"type": "here", "url": url, "title": "Checkout — Dana's order 7781", "since": since, "token": token})
            .to_string(),
    )
    .await;
    ws
}

#[tokio::test]
async fn the_sidebar_tells_who_the_visitor_is_where_they_are_and_what_they_asked_before() {
    const PHONE: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36";
    let api = Api::new(&edge::shared().url);
    let site = unique("side");
    api.create_site(&site).await;
    // Her first conversation, from a phone in Indonesian; answered and closed.
    let start = |token: Option<String>| {
        let mut req = api
            .post(&format!("/api/v1/sites/{site}/conversations"))
            .header("user-agent", PHONE)
            .header("accept-language", "id-ID,id;q=0.9,en;q=0.5")
            .json(&json!({"page_url": "https://shop.example/pricing?coupon=SECRET"}));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let api = &api;
        async move {
            let r = api.send(req).await;
            assert_eq!(r.status, 201, "{:?}", r.body);
            serde_json::from_value::<beckon_shared::proto::v1::StartedConversation>(r.body).unwrap()
        }
    };
    let first = start(None).await;
    let mut v1 = api.visitor_socket(&first).await;
    v1.say("Do you ship to Jakarta?").await;
    api.agent_reply(&first.conversation_id, "Yes, in 3 days.")
        .await;
    let closed = api
        .send(
            api.admin(
                Method::PATCH,
                &format!("/api/v1/admin/conversations/{}", first.conversation_id),
            )
            .json(&json!({"status": "closed"})),
        )
        .await;
    assert_eq!(closed.status, 200, "{:?}", closed.body);
    v1.close().await;
    // Closing asked her to rate it: the question is its last message once indexed.
    let question = beckon_shared::proto::v1::RATING_QUESTION;
    eventually(WAIT, "the rating's question indexed", || async {
        let r = api
            .send(api.admin(
                Method::GET,
                &format!("/api/v1/admin/conversations?site={site}&status=all"),
            ))
            .await;
        r.body["conversations"]
            .as_array()?
            .iter()
            .any(|c| c["last_message"]["body"] == question)
            .then_some(())
    })
    .await;
    // What the shop knows of her: an import with her id, a tag, an opt-in and its own field.
    let import = api
        .send(
            api.admin(Method::POST, &format!("/api/v1/admin/sites/{site}/contact-imports"))
                .header("content-type", "text/csv")
                .body(format!(
                    "contact_id,name,email,time_zone,tags,email_opt_in,plan\n{},Dana Cruz,dana@shop.example,Asia/Jakarta,vip,yes,gold\n",
                    first.visitor_id
                )),
        )
        .await;
    assert_eq!(import.status, 200, "{:?}", import.body);
    // A second conversation the next time, with the same token; she browses two pages.
    let second = start(Some(first.visitor_token.clone())).await;
    let mut v2 = api.visitor_socket(&second).await;
    v2.say("Where is order 7781?").await;
    let since = now_ms() - 60_000;
    let token = second.visitor_token.clone();
    let pricing = present(
        &api,
        &site,
        &token,
        "https://shop.example/pricing?coupon=SECRET#top",
        since,
    )
    .await;
    pricing.close().await;
    let mut checkout = present(
        &api,
        &site,
        &token,
        "https://shop.example/checkout?card=4242",
        since,
    )
    .await;

    let path = format!(
        "/api/v1/admin/conversations/{}/visitor",
        second.conversation_id
    );
    let profile = eventually(WAIT, "both pages and the page she is on", || async {
        let r = api.send(api.admin(Method::GET, &path)).await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        (r.body["pages"].as_array().map_or(0, Vec::len) == 2
            && r.body["now_on"]["url"] == "/checkout")
            .then_some(r.body)
    })
    .await;
    println!("profile: {profile}");
    assert_eq!(profile["visitor_id"], first.visitor_id.as_str());
    let contact = &profile["contact"];
    assert_eq!(contact["name"], "Dana Cruz");
    assert_eq!(contact["email"], "dana@shop.example");
    assert_eq!(contact["time_zone"], "Asia/Jakarta");
    assert_eq!(contact["tags"], json!(["vip"]));
    assert_eq!(contact["attributes"], json!({"plan": "gold"}));
    let consents = contact["consents"].as_array().unwrap();
    assert_eq!(consents.len(), 1, "{consents:?}");
    assert_eq!(
        (
            &consents[0]["channel"],
            &consents[0]["status"],
            &consents[0]["source"]
        ),
        (&json!("email"), &json!("in"), &json!("import"))
    );
    // The browser, coarsely; the location from the runtime's request metadata (workerd's
    // local placeholder, as Cloudflare's network would set it).
    let client = &profile["client"];
    assert_eq!(client["device"], "phone");
    assert_eq!(client["browser"], "Chrome 131");
    assert_eq!(client["os"], "Android 14");
    assert_eq!(client["language"], "id-ID");
    assert_eq!(client["country"], "US");
    assert_eq!(client["city"], "Austin");
    assert!(client.get("user_agent").is_none() && !profile.to_string().contains("Pixel"));
    // Paths only: no query, fragment, host or title.
    let pages: Vec<&str> = profile["pages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["url"].as_str().unwrap())
        .collect();
    assert_eq!(pages, ["/pricing", "/checkout"]);
    for secret in ["SECRET", "4242", "7781", "shop.example/"] {
        assert!(
            !profile["pages"].to_string().contains(secret)
                && !profile["now_on"].to_string().contains(secret),
            "{secret} leaked"
        );
    }
    // Her other conversation, with how it ended.
    let others = profile["conversations"].as_array().unwrap();
    assert_eq!(others.len(), 1, "{others:?}");
    assert_eq!(others[0]["id"], first.conversation_id.as_str());
    assert_eq!(others[0]["work"]["status"], "closed");
    assert_eq!(others[0]["last_message"]["body"], question);

    // An agent of another site may not read it; a made-up conversation is not found.
    let other_site = unique("side-other");
    api.create_site(&other_site).await;
    let stranger = agent(&api, &other_site, "Sam").await;
    let r = api
        .send(as_person(&api, &stranger, Method::GET, &path, false))
        .await;
    assert_eq!(r.status, 403, "{:?}", r.body);
    let r = api
        .send(api.admin(
            Method::GET,
            "/api/v1/admin/conversations/c_00000000000000000000000000000000/visitor",
        ))
        .await;
    assert_eq!(r.status, 404, "{:?}", r.body);

    // The inbox: Ana opens the new conversation; the sidebar says all of it.
    let c = inbox_at_first(&api, &site, "Ana").await;
    eventually(WAIT, "the sidebar", || async {
        let side = text_of(&c, ".visitor-side").await;
        (side.contains("Dana Cruz") && side.contains("/checkout") && side.contains("Austin"))
            .then_some(())
    })
    .await;
    assert_eq!(
        text_of(&c, ".visitor-side .device").await,
        "Phone · Chrome 131 · Android 14"
    );
    assert_eq!(text_of(&c, ".visitor-side .location").await, "Austin, US");
    assert_eq!(text_of(&c, ".visitor-side .now-on").await, "/checkout");
    let side = text_of(&c, ".visitor-side").await;
    for shown in [
        "dana@shop.example",
        "Asia/Jakarta",
        "id-ID",
        "plan",
        "gold",
        "#vip",
        "email: agreed (import,",
        question,
    ] {
        assert!(side.contains(shown), "{shown} missing from: {side}");
    }
    assert_eq!(
        c.find_all(Locator::Css(".visitor-side .pages li"))
            .await
            .unwrap()
            .len(),
        2
    );
    // She moves on: the sidebar follows, live.
    checkout
        .send_raw(
            &json!({"type": "here", "url": "https://shop.example/thanks", "since": since, "token": token})
                .to_string(),
        )
        .await;
    eventually(WAIT, "the new page", || async {
        (text_of(&c, ".visitor-side .now-on").await == "/thanks"
            && c.find_all(Locator::Css(".visitor-side .pages li"))
                .await
                .unwrap()
                .len()
                == 3)
            .then_some(())
    })
    .await;
    let violations = browser::axe(&c).await;
    assert!(violations.is_empty(), "{violations:#?}");
    browser::screenshot(&c, "inbox-sidebar-desktop").await;

    // The keyboard: `?` lists the shortcuts (focus on its Close), Escape puts it away.
    let active_text = || async {
        c.execute("return document.activeElement.textContent || document.activeElement.getAttribute('aria-label') || ''", vec![])
            .await
            .unwrap()
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    let key = |k: String| {
        let c = &c;
        async move {
            c.active_element()
                .await
                .unwrap()
                .send_keys(&k)
                .await
                .unwrap()
        }
    };
    let focus_list = || async {
        c.execute(
            "document.querySelector('button.conv.active').focus()",
            vec![],
        )
        .await
        .unwrap();
    };
    focus_list().await;
    key("?".into()).await;
    let dialog = c
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css("[role=dialog]"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in [
        "Keyboard shortcuts",
        "Next conversation",
        "Write an internal note",
    ] {
        assert!(dialog.contains(line), "{dialog}");
    }
    assert_eq!(active_text().await, "Close");
    let violations = browser::axe(&c).await;
    assert!(violations.is_empty(), "{violations:#?}");
    browser::screenshot(&c, "inbox-shortcuts-desktop").await;
    key(Key::Escape.to_string()).await;
    eventually(WAIT, "the list of shortcuts put away", || async {
        c.find_all(Locator::Css("[role=dialog]"))
            .await
            .unwrap()
            .is_empty()
            .then_some(())
    })
    .await;
    // `/` goes to the search box, Escape leaves it, `r` goes to the reply box.
    focus_list().await;
    key("/".into()).await;
    assert_eq!(active_text().await, "Search messages");
    key(Key::Escape.to_string()).await;
    key("r".into()).await;
    assert_eq!(active_text().await, "Message");
    key(Key::Escape.to_string()).await;
    // With both of her conversations listed, `j` and `k` move between them.
    browser::choose(&c, "select[aria-label=Show]", "All").await;
    eventually(WAIT, "both listed", || async {
        (c.find_all(Locator::Css("button.conv")).await.unwrap().len() == 2).then_some(())
    })
    .await;
    let shown = || async { text_of(&c, ".conversation [role=log]").await };
    // Opened from the keyboard, the focus stays on the list: `j` then `k` at once.
    focus_list().await;
    for (k, expect) in [
        ("j", "Do you ship to Jakarta?"),
        ("k", "Where is order 7781?"),
    ] {
        key(k.into()).await;
        eventually(WAIT, "the next conversation", || async {
            shown().await.contains(expect).then_some(())
        })
        .await;
        assert!(
            active_text().await.contains("Visitor"),
            "focus left the list"
        );
    }
    // Her earlier conversation opens from the sidebar, though the list (narrowed to the tag
    // "lead", which only the new one has) does not hold it.
    let tagged = api
        .send(
            api.admin(
                Method::PATCH,
                &format!("/api/v1/admin/conversations/{}", second.conversation_id),
            )
            .json(&json!({"tags": ["lead"]})),
        )
        .await;
    assert_eq!(tagged.status, 200, "{:?}", tagged.body);
    browser::click(&c, "details.narrow summary").await;
    browser::type_into(&c, "input[aria-label=Tag]", "lead\u{E007}").await;
    eventually(WAIT, "the narrowed list", || async {
        let n = c.find_all(Locator::Css("button.conv")).await.unwrap().len();
        (n == 1 && text_of(&c, "button.conv").await.contains("order")).then_some(())
    })
    .await;
    browser::click(&c, ".visitor-side .past button").await;
    eventually(WAIT, "the earlier conversation", || async {
        shown()
            .await
            .contains("Do you ship to Jakarta?")
            .then_some(())
    })
    .await;
    assert_eq!(
        c.find_all(Locator::Css("button.conv")).await.unwrap().len(),
        1
    );
    // Its sidebar is the same visitor's, with the other (open) conversation to go back to.
    eventually(WAIT, "its sidebar", || async {
        let past = text_of(&c, ".visitor-side .past").await;
        (text_of(&c, ".visitor-side h3").await.contains("Dana Cruz") && past.contains("· open"))
            .then_some(())
    })
    .await;
    // Tablet and phone widths: the sidebar opens on demand, over the conversation.
    for (w, h, name) in [(820, 1000, "tablet"), (375, 740, "375")] {
        c.set_window_size(w, h).await.unwrap();
        browser::click(&c, ".side-toggle").await;
        eventually(WAIT, "the sidebar shown", || async {
            c.find(Locator::Css(".visitor-side"))
                .await
                .ok()?
                .is_displayed()
                .await
                .ok()?
                .then_some(())
        })
        .await;
        browser::screenshot(&c, &format!("inbox-sidebar-{name}")).await;
        // It lies over the conversation: its own button puts it away.
        browser::click(&c, ".side-close").await;
        eventually(WAIT, "the sidebar put away", || async {
            (!c.find(Locator::Css(".visitor-side"))
                .await
                .ok()?
                .is_displayed()
                .await
                .ok()?)
            .then_some(())
        })
        .await;
    }
    c.close().await.unwrap();

    // Her export holds the pages and the browser's description; deleting her data forgets
    // the pages, and her token, still held by her open page, names her to nobody there.
    let visitor = first.visitor_id.as_str();
    let export = api
        .send(api.admin(
            Method::GET,
            &format!("/api/v1/admin/sites/{site}/contacts/{visitor}/export"),
        ))
        .await;
    assert_eq!(export.status, 200, "{:?}", export.body);
    let urls: Vec<&str> = export.body["pages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["url"].as_str().unwrap())
        .collect();
    assert_eq!(urls, ["/pricing", "/checkout", "/thanks"]);
    assert_eq!(export.body["record"]["client"]["device"], "phone");
    let gone = api
        .send(api.admin(
            Method::DELETE,
            &format!("/api/v1/admin/sites/{site}/contacts/{visitor}"),
        ))
        .await;
    assert_eq!(gone.status, 204, "{:?}", gone.body);
    let online = format!("/api/v1/admin/sites/{site}/presence");
    let r = api.send(api.admin(Method::GET, &online)).await;
    assert_eq!(r.body["visitors"][0]["url"], "/thanks", "{:?}", r.body);
    assert!(
        r.body["visitors"][0]
            .get("visitor_id")
            .is_none_or(Value::is_null),
        "{:?}",
        r.body
    );
    checkout
        .send_raw(
            &json!({"type": "here", "url": "https://shop.example/after", "token": token})
                .to_string(),
        )
        .await;
    let r = eventually(WAIT, "her next page", || async {
        let r = api.send(api.admin(Method::GET, &online)).await;
        (r.body["visitors"][0]["url"] == "/after").then_some(r.body)
    })
    .await;
    assert!(
        r["visitors"][0]
            .get("visitor_id")
            .is_none_or(Value::is_null),
        "{r:?}"
    );
    checkout.close().await;
    v2.close().await;
}

/// Issue 13 (the look: agents' avatars): an agent sets her photo in the inbox; visitors see it
/// beside her answers in the widget. A photo that is not one is refused with its reason; the
/// photo is served to anyone, immutable and inert; removed, it is gone and her initial is
/// drawn again.
#[tokio::test]
async fn an_agent_sets_her_photo_in_the_inbox_and_visitors_see_it_beside_her_answers() {
    use beckon_tests::files::{noise_png, solid_png};
    const PHOTO: &str = "/api/v1/admin/session/avatar";
    let base = &edge::shared().url;
    let api = Api::new(base);
    let site = unique("photo");
    api.create_site(&site).await;
    let ana = agent(&api, &site, "Ana").await;

    // Refused, each with its reason.
    let r = api
        .send(
            api.admin(Method::PUT, PHOTO)
                .body(solid_png(96, 96, [9, 9, 9])),
        )
        .await;
    assert_eq!(r.status, 409, "an admin key is nobody: {:?}", r.body);
    let svg = b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>".to_vec();
    for (what, bytes, status, why) in [
        (
            "an SVG",
            svg,
            415,
            "a photo must be a JPEG, PNG or WebP image",
        ),
        (
            "16 px",
            solid_png(16, 16, [0, 0, 0]),
            400,
            "the photo is 16×16 px; each side must be 32 to 2048 px",
        ),
        (
            "a PDF",
            b"%PDF-1.7\n%\xE2\xE3\n".to_vec(),
            415,
            "a photo must be a JPEG, PNG or WebP image",
        ),
    ] {
        let r = api
            .send(as_person(&api, &ana, Method::PUT, PHOTO, true).body(bytes))
            .await;
        println!("{what}: {} {}", r.status, r.body["error"]["message"]);
        assert_eq!(
            (r.status, r.body["error"]["message"].as_str()),
            (status, Some(why))
        );
    }
    let big = noise_png(430, 430);
    assert!(big.len() > 512 * 1024);
    let r = api
        .send(as_person(&api, &ana, Method::PUT, PHOTO, true).body(big.clone()))
        .await;
    println!(
        "{} bytes: {} {}",
        big.len(),
        r.status,
        r.body["error"]["message"]
    );
    assert_eq!(r.status, 413);

    // She chooses her photo in the inbox, on the People page.
    let photo = solid_png(120, 120, [14, 116, 144]);
    let file = std::env::temp_dir().join(format!("{site}-ana.png"));
    std::fs::write(&file, &photo).unwrap();
    let c = browser::open(1280, 860).await;
    let email = format!("ana.{site}@shop.example");
    sign_in(&c, &api.base, &email, "a long enough password").await;
    c.find(Locator::XPath(
        "//nav[@aria-label='Views']/button[.='People']",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Css(".your-photo input[type=file]"))
        .await
        .unwrap()
        .send_keys(file.to_str().unwrap())
        .await
        .unwrap();
    let shown = eventually(WAIT, "her photo shown", || async {
        let v = c
            .execute(
                "const i = document.querySelector('.your-photo img.photo');
                 return i && i.complete && i.naturalWidth ? [i.getAttribute('src'), i.naturalWidth, i.alt] : null;",
                vec![],
            )
            .await
            .ok()?;
        (!v.is_null()).then_some(v)
    })
    .await;
    println!("in the inbox: {shown}");
    let src = shown[0].as_str().unwrap().to_owned();
    let me = api
        .send(as_person(
            &api,
            &ana,
            Method::GET,
            "/api/v1/admin/session",
            false,
        ))
        .await;
    let ana_id = me.body["person"]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        src,
        format!(
            "/api/v1/avatars/{ana_id}?v={}",
            &beckon_tests::files::sha256(&photo)[..12]
        )
    );
    assert_eq!(me.body["person"]["avatar"], json!(src));
    assert_eq!((&shown[1], &shown[2]), (&json!(120), &json!("Ana's photo")));
    assert!(
        text_of(&c, ".settings.people")
            .await
            .contains("Only owners"),
        "an agent is told the team list is the owners'"
    );
    let violations = browser::axe(&c).await;
    println!(
        "axe-core, the People page with her photo: {} violations",
        violations.len()
    );
    assert!(violations.is_empty(), "{violations:#?}");
    browser::screenshot(&c, "inbox-your-photo").await;

    // Served to anyone, as what it is, cached five minutes, never run.
    let resp = api.http.get(format!("{base}{src}")).send().await.unwrap();
    let header = |k: &str| {
        resp.headers()
            .get(k)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(header("content-type").as_deref(), Some("image/png"));
    assert_eq!(header("x-content-type-options").as_deref(), Some("nosniff"));
    assert_eq!(
        header("cache-control").as_deref(),
        Some("public, max-age=300")
    );
    assert!(header("content-security-policy")
        .unwrap()
        .contains("sandbox"));
    assert_eq!(resp.bytes().await.unwrap().as_ref(), photo.as_slice());

    // A visitor writes; Ana answers: her photo beside her answer, over her initial.
    let host = host_page::serve(base, &site, None).await;
    let visitor = browser::open(1280, 800).await;
    visitor.goto(&host.url).await.unwrap();
    browser::open_chat(&visitor).await;
    browser::send_message(&visitor, "Is the teal one in stock?").await;
    let id = eventually(WAIT, "the visitor's conversation", || async {
        listed(&api, &ana, &site, "").await.into_iter().next()
    })
    .await;
    answer_as(&api, &ana, &id, "Yes, two left.").await;
    let beside = eventually(WAIT, "her photo beside her answer", || async {
        let v = visitor
            .execute(
                "const a = document.querySelector('.msg.theirs .author');
                 const i = a && a.querySelector('img.avatar');
                 return i && i.complete && i.naturalWidth ? [a.textContent, i.getAttribute('src'), i.alt, i.getBoundingClientRect().width, a.dataset.initial] : null;",
                vec![],
            )
            .await
            .ok()?;
        (!v.is_null()).then_some(v)
    })
    .await;
    println!("in the widget: {beside}");
    assert_eq!(beside, json!(["Ana", src, "", 22, "A"]));
    let violations = browser::axe(&visitor).await;
    println!(
        "axe-core, the panel with her photo: {} violations",
        violations.len()
    );
    assert!(violations.is_empty(), "{violations:#?}");
    browser::screenshot(&visitor, "widget-agent-photo").await;
    visitor.set_window_size(375, 667).await.unwrap();
    browser::screenshot(&visitor, "widget-agent-photo-375").await;

    // She removes it: gone for everyone; her next answer carries her initial alone.
    c.find(Locator::XPath(
        "//div[@class='your-photo']//button[.='Remove']",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    eventually(WAIT, "her initial again", || async {
        c.find(Locator::Css(".your-photo span.photo")).await.ok()
    })
    .await;
    let gone = api.http.get(format!("{base}{src}")).send().await.unwrap();
    assert_eq!(gone.status().as_u16(), 404);
    answer_as(&api, &ana, &id, "Shall I keep one for you?").await;
    let after = eventually(WAIT, "her second answer", || async {
        let v = visitor
            .execute(
                "const a = [...document.querySelectorAll('.msg.theirs .author')];
                 return a.length === 2 ? a.map(x => [x.dataset.initial, !!x.querySelector('img')]) : null;",
                vec![],
            )
            .await
            .ok()?;
        (!v.is_null()).then_some(v)
    })
    .await;
    println!("after the removal: {after}");
    assert_eq!(after[1], json!(["A", false]));
    c.close().await.ok();
    visitor.close().await.ok();

    // A person removed takes their photo along.
    let r = api
        .send(as_person(&api, &ana, Method::PUT, PHOTO, true).body(photo.clone()))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let again = format!("{base}{}", r.body["avatar"].as_str().unwrap());
    let http = api.http.clone();
    let status = |url: String| {
        let http = http.clone();
        async move { http.get(url).send().await.unwrap().status().as_u16() }
    };
    assert_eq!(status(again.clone()).await, 200);
    let r = api
        .send(api.admin(Method::DELETE, &format!("/api/v1/admin/people/{ana_id}")))
        .await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    assert_eq!(status(again).await, 404, "the photo went with her");
}
