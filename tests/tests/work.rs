//! Working a conversation, against the real edge: agents signed in as themselves take a
//! conversation, leave internal notes the visitor never sees, close and snooze it; a
//! visitor's new message (or the end of a snooze) opens it again; the inbox's lists filter
//! by status and assignee; every inbox tab on the site hears of each change.

use beckon_tests::api::{Api, Ws};
use beckon_tests::people::{as_person, invite, open_session, sign_in, Session};
use beckon_tests::{browser, edge, eventually, unique};
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
    let email = format!("ana.{site}@shop.example");
    let token = invite(
        api.admin(Method::POST, "/api/v1/admin/invitations"),
        json!({"email": email, "role": "agent", "sites": [site]}),
    )
    .await;
    open_session(
        &api,
        "/api/v1/auth/accept",
        json!({"token": token, "name": "Ana", "password": "a long enough password"}),
    )
    .await
    .expect("joined");
    let saved = api
        .send(
            api.admin(Method::POST, &format!("/api/v1/admin/sites/{site}/replies"))
                .json(&json!({"shortcut": "lost", "body": "We are sending a new parcel today."})),
        )
        .await;
    assert_eq!(saved.status, 200, "{:?}", saved.body);
    let started = api.start_conversation(&site, None).await;
    let mut visitor = api.visitor_socket(&started).await;
    visitor.say("where is my parcel?").await;

    let c = browser::open(1280, 860).await;
    sign_in(&c, &api.base, &email, "a long enough password").await;
    // The open list shows it; she opens it.
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Css("button.conv"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
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
    // The visitor got nothing of the note.
    nothing_reaches(&mut visitor, "reship").await;
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
