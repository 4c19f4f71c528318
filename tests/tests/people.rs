//! People who sign in to the inbox as themselves, against the real edge and Chromium: an
//! owner invites, the invited person chooses a name and password and is signed in with an
//! `HttpOnly; Secure; SameSite=Strict` session cookie; state-changing calls need the session's
//! CSRF token and our own origin; a removed person's sessions end and their open inbox loses
//! its live feed at once; signing out everywhere ends every session.

use beckon_tests::api::Api;
use beckon_tests::people::{as_person, invite, open_session, sign_in};
use beckon_tests::{browser, edge, eventually, unique};
use fantoccini::Locator;
use reqwest::Method;
use serde_json::json;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);

#[tokio::test]
async fn an_owner_invites_people_who_sign_in_as_themselves_and_lose_access_when_removed() {
    let api = Api::new(&edge::shared().url);
    let (shop, other) = (unique("ppl"), unique("ppl-b"));
    api.create_site(&shop).await;
    api.create_site(&other).await;
    let olga_email = format!("olga.{shop}@shop.example");

    // The operator's key invites Olga as an owner of the shop; bad input is refused first.
    let bad = api
        .send(
            api.admin(Method::POST, "/api/v1/admin/invitations")
                .json(&json!({"email": "not-an-address", "role": "owner"})),
        )
        .await;
    assert_eq!(bad.status, 400, "{:?}", bad.body);
    let token = invite(
        api.admin(Method::POST, "/api/v1/admin/invitations"),
        json!({"email": olga_email.to_uppercase(), "role": "owner", "sites": [shop]}),
    )
    .await;
    // Too short a password, a made-up invitation: refused; then she joins.
    let short = open_session(
        &api,
        "/api/v1/auth/accept",
        json!({"token": token, "name": "Olga", "password": "short"}),
    )
    .await;
    assert_eq!(short.unwrap_err().status, 400);
    let forged = open_session(
        &api,
        "/api/v1/auth/accept",
        json!({"token": "inv_made-up", "name": "Olga", "password": "a long enough password"}),
    )
    .await;
    assert_eq!(forged.unwrap_err().status, 401);
    let olga = open_session(
        &api,
        "/api/v1/auth/accept",
        json!({"token": token, "name": "Olga Berg", "password": "correct horse battery"}),
    )
    .await
    .expect("joined");
    for attribute in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
        assert!(olga.set_cookie.contains(attribute), "{}", olga.set_cookie);
    }
    assert_eq!(
        olga.body["person"]["email"],
        json!(olga_email),
        "kept lowercase"
    );
    assert_eq!(olga.body["person"]["sites"], json!([shop]));
    // The link works once.
    let again = open_session(
        &api,
        "/api/v1/auth/accept",
        json!({"token": token, "name": "Eve", "password": "another long password"}),
    )
    .await;
    assert_eq!(again.unwrap_err().status, 401);

    // Her session reads like a key of her role and sites.
    let me = api
        .send(as_person(
            &api,
            &olga,
            Method::GET,
            "/api/v1/admin/session",
            false,
        ))
        .await;
    assert_eq!(
        (me.status, &me.body["person"]["name"]),
        (200, &json!("Olga Berg"))
    );
    let sites = api
        .send(as_person(
            &api,
            &olga,
            Method::GET,
            "/api/v1/admin/sites",
            false,
        ))
        .await;
    let keys: Vec<&str> = sites.body["sites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, vec![shop.as_str()]);
    // Changing anything needs the CSRF token — hers, from our own origin.
    let ana_email = format!("ana.{shop}@shop.example");
    let invitation = json!({"email": ana_email, "sites": [shop]});
    let no_token = api
        .send(
            as_person(
                &api,
                &olga,
                Method::POST,
                "/api/v1/admin/invitations",
                false,
            )
            .json(&invitation),
        )
        .await;
    assert_eq!(
        (no_token.status, no_token.error_code()),
        (403, "forbidden"),
        "{:?}",
        no_token.body
    );
    let elsewhere = api
        .send(
            as_person(&api, &olga, Method::POST, "/api/v1/admin/invitations", true)
                .header("origin", "https://evil.example")
                .json(&invitation),
        )
        .await;
    assert_eq!(elsewhere.status, 403, "{:?}", elsewhere.body);
    // Not for a site she does not own.
    let not_hers = api
        .send(
            as_person(&api, &olga, Method::POST, "/api/v1/admin/invitations", true)
                .json(&json!({"email": "x@shop.example", "sites": [other]})),
        )
        .await;
    assert_eq!(not_hers.status, 403, "{:?}", not_hers.body);
    let ana_token = invite(
        as_person(&api, &olga, Method::POST, "/api/v1/admin/invitations", true),
        invitation,
    )
    .await;
    let ana = open_session(
        &api,
        "/api/v1/auth/accept",
        json!({"token": ana_token, "name": "Ana Lima", "password": "ana's long password"}),
    )
    .await
    .expect("Ana joined");
    // Another session's token does not fit hers.
    let crossed = api
        .send(
            as_person(&api, &olga, Method::DELETE, "/api/v1/admin/session", false)
                .header("x-csrf-token", &ana.csrf),
        )
        .await;
    assert_eq!(crossed.status, 403);
    // An agent may not invite.
    let agent_invites = api
        .send(
            as_person(&api, &ana, Method::POST, "/api/v1/admin/invitations", true)
                .json(&json!({"email": "y@shop.example", "sites": [shop]})),
        )
        .await;
    assert_eq!(agent_invites.status, 403);
    // A key has no session to describe.
    let keyed = api
        .send(api.admin(Method::GET, "/api/v1/admin/session"))
        .await;
    assert_eq!(keyed.status, 409);

    // Sign-ins come from our own page, as JSON (no login CSRF from another site's form).
    let foreign = api
        .send(
            api.post("/api/v1/auth/sign-in")
                .header("origin", "https://evil.example")
                .json(&json!({"email": olga_email, "password": "correct horse battery"})),
        )
        .await;
    assert_eq!(foreign.status, 403, "{:?}", foreign.body);
    let form = api
        .send(
            api.post("/api/v1/auth/sign-in")
                .header("content-type", "text/plain")
                .body(
                    json!({"email": olga_email, "password": "correct horse battery"}).to_string(),
                ),
        )
        .await;
    assert_eq!(form.status, 400, "{:?}", form.body);
    // An invitation made with a key that is revoked since is void.
    let key = api
        .send(
            api.admin(Method::POST, "/api/v1/admin/keys")
                .json(&json!({"label": "shop owner", "role": "owner", "sites": [shop]})),
        )
        .await;
    assert_eq!(key.status, 201, "{:?}", key.body);
    let by_key = invite(
        api.http
            .post(format!("{}/api/v1/admin/invitations", api.base))
            .bearer_auth(key.body["key"].as_str().unwrap()),
        json!({"email": format!("zed.{shop}@shop.example"), "sites": [shop]}),
    )
    .await;
    let revoked = api
        .send(api.admin(
            Method::DELETE,
            &format!("/api/v1/admin/keys/{}", key.body["id"].as_str().unwrap()),
        ))
        .await;
    assert_eq!(revoked.status, 204);
    let void = open_session(
        &api,
        "/api/v1/auth/accept",
        json!({"token": by_key, "name": "Zed", "password": "zed's long password"}),
    )
    .await;
    assert_eq!(void.unwrap_err().status, 401);

    // Signing in: a wrong password and an unknown email are the same refusal.
    for (email, password) in [
        (olga_email.as_str(), "wrong password!"),
        ("nobody@shop.example", "correct horse battery"),
    ] {
        let r = open_session(
            &api,
            "/api/v1/auth/sign-in",
            json!({"email": email, "password": password}),
        )
        .await;
        let r = r.unwrap_err();
        assert_eq!(
            (r.status, r.body["error"]["message"].as_str()),
            (401, Some("wrong email or password"))
        );
    }

    // Ana signs in in a browser and sees the inbox live.
    let c = browser::open(1280, 900).await;
    sign_in(&c, &api.base, &ana_email, "ana's long password").await;
    // What the inbox's live indicator says ("" once signed out: there is none).
    let live = || async {
        match c.find(Locator::Css(".bar .live")).await {
            Ok(e) => e.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    };
    eventually(WAIT, "the live feed", || async {
        (live().await == "Live").then_some(())
    })
    .await;
    browser::screenshot(&c, "inbox-signed-in-as-person-desktop").await;
    // A reload keeps her signed in (the cookie), without asking again.
    c.refresh().await.unwrap();
    c.wait()
        .for_element(Locator::Css("nav[aria-label=Views]"))
        .await
        .unwrap();
    eventually(WAIT, "live again", || async {
        (live().await == "Live").then_some(())
    })
    .await;

    // Olga, signed in in her browser, sees both of them in People (and the sign-in form on a
    // phone, for the record).
    let owner = browser::open(1280, 900).await;
    sign_in(&owner, &api.base, &olga_email, "correct horse battery").await;
    browser::open_inbox_view(&owner, &shop, "People").await;
    eventually(WAIT, "two people listed", || async {
        let rows = owner.find_all(Locator::Css(".people-list li")).await.ok()?;
        (rows.len() == 2).then_some(())
    })
    .await;
    browser::screenshot(&owner, "inbox-people-desktop").await;
    owner.close().await.unwrap();
    let phone = browser::open(375, 667).await;
    phone.goto(&format!("{}/console/", api.base)).await.unwrap();
    phone
        .wait()
        .for_element(Locator::Css("#email"))
        .await
        .unwrap();
    browser::screenshot(&phone, "inbox-sign-in-375").await;
    phone.close().await.unwrap();

    // Olga sees her in People and removes her: Ana's feed closes within a second and stays
    // closed; her session is over.
    let people = api
        .send(as_person(
            &api,
            &olga,
            Method::GET,
            "/api/v1/admin/people",
            false,
        ))
        .await;
    let listed: Vec<&str> = people.body["people"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(
        listed.contains(&"Ana Lima") && listed.contains(&"Olga Berg"),
        "{listed:?}"
    );
    let ana_id = ana.body["person"]["id"].as_str().unwrap().to_owned();
    // A script's feed socket with Ana's session, beside her browser's.
    let ticket = api
        .send(
            as_person(&api, &ana, Method::POST, "/api/v1/admin/ws-ticket", true)
                .json(&json!({ "site": shop })),
        )
        .await;
    assert_eq!(ticket.status, 200, "{:?}", ticket.body);
    let url = api.ws_url(
        &format!("/api/v1/admin/sites/{shop}/live"),
        ticket.body["ticket"].as_str().unwrap(),
    );
    let (mut feed, _) = tokio_tungstenite::connect_async(url.as_str())
        .await
        .expect("Ana's feed socket");
    let asked_at = std::time::Instant::now();
    let removed = api
        .send(as_person(
            &api,
            &olga,
            Method::DELETE,
            &format!("/api/v1/admin/people/{ana_id}"),
            true,
        ))
        .await;
    assert_eq!(removed.status, 204, "{:?}", removed.body);
    // Removed once answered: her feed is closed by the server at once (the close frame
    // arrives within a second)...
    let removed_at = std::time::Instant::now();
    println!(
        "removing a person took {} ms (their sessions deleted, their sockets closed)",
        asked_at.elapsed().as_millis()
    );
    let closed = tokio::time::timeout(Duration::from_secs(1), async {
        use futures_util::StreamExt;
        loop {
            match feed.next().await {
                Some(Ok(tokio_tungstenite::tungstenite::Message::Close(_)))
                | None
                | Some(Err(_)) => return removed_at.elapsed(),
                Some(Ok(_)) => {}
            }
        }
    })
    .await
    .expect("the feed socket is closed within a second of the removal");
    println!(
        "removed person's feed socket closed by the server {} ms after the removal was answered",
        closed.as_millis()
    );
    // ...and her browser's inbox shows it disconnected (Chrome reports a server-closed
    // socket after its closing handshake, up to 2 seconds later).
    eventually(Duration::from_secs(5), "the feed closed", || async {
        (live().await != "Live").then_some(())
    })
    .await;
    let took = removed_at.elapsed();
    println!(
        "removed person's inbox showed its feed disconnected {} ms after the removal was answered",
        took.as_millis()
    );
    assert!(took < Duration::from_secs(3), "{took:?}");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_ne!(
        live().await,
        "Live",
        "a removed person's inbox does not reconnect"
    );
    // It signs itself out: the sign-in form is back.
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Css("#person-form"))
        .await
        .expect("the removed person's inbox shows the sign-in form");
    let gone = api
        .send(as_person(
            &api,
            &ana,
            Method::GET,
            "/api/v1/admin/session",
            false,
        ))
        .await;
    assert_eq!(gone.status, 401);
    let cannot = open_session(
        &api,
        "/api/v1/auth/sign-in",
        json!({"email": ana_email, "password": "ana's long password"}),
    )
    .await;
    assert_eq!(cannot.unwrap_err().status, 401);
    c.close().await.unwrap();

    // Olga signs in on a second device, then signs out everywhere: both sessions end.
    let second = open_session(
        &api,
        "/api/v1/auth/sign-in",
        json!({"email": olga_email, "password": "correct horse battery"}),
    )
    .await
    .expect("signed in again");
    // A ticket minted before signing out everywhere opens nothing after.
    let early = api
        .send(
            as_person(&api, &second, Method::POST, "/api/v1/admin/ws-ticket", true)
                .json(&json!({ "site": shop })),
        )
        .await;
    assert_eq!(early.status, 200, "{:?}", early.body);
    let out = api
        .send(as_person(
            &api,
            &second,
            Method::DELETE,
            "/api/v1/admin/sessions",
            true,
        ))
        .await;
    assert_eq!(out.status, 204);
    for s in [&olga, &second] {
        let r = api
            .send(as_person(
                &api,
                s,
                Method::GET,
                "/api/v1/admin/session",
                false,
            ))
            .await;
        assert_eq!(r.status, 401);
    }
    let url = api.ws_url(
        &format!("/api/v1/admin/sites/{shop}/live"),
        early.body["ticket"].as_str().unwrap(),
    );
    assert!(
        tokio_tungstenite::connect_async(url.as_str())
            .await
            .is_err(),
        "a ticket from before signing out everywhere is refused"
    );
}

/// An owner, signed in as herself, exports everything about a contact and then deletes it,
/// from the Contacts page; the log names her and what each request covered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_exports_and_deletes_a_contacts_data_from_the_inbox() {
    let base = &edge::shared().url;
    let api = Api::new(base);
    let shop = unique("ppl-data");
    api.create_site(&shop).await;
    let email = format!("olga.{shop}@shop.example");
    let token = invite(
        api.admin(Method::POST, "/api/v1/admin/invitations"),
        json!({"email": email, "role": "owner", "sites": [shop]}),
    )
    .await;
    open_session(
        &api,
        "/api/v1/auth/accept",
        json!({"token": token, "name": "Olga Berg", "password": "correct horse battery"}),
    )
    .await
    .expect("joined");
    // A visitor who chatted and told the page her name.
    let dana = api.start_conversation(&shop, None).await;
    let r = api
        .send(
            api.post(&format!("/api/v1/sites/{shop}/identify"))
                .bearer_auth(&dana.visitor_token)
                .json(&json!({"name": "Dana Cruz"})),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    api.agent_reply(&dana.conversation_id, "Welcome, Dana!")
        .await;

    let c = browser::open(1280, 900).await;
    sign_in(&c, base, &email, "correct horse battery").await;
    browser::open_inbox_view(&c, &shop, "Contacts").await;
    let export = "button[aria-label='Export all data about Dana Cruz']";
    c.wait().for_element(Locator::Css(export)).await.unwrap();
    browser::click(&c, export).await;
    let summary = |n: usize| format!("Data requests ({n})");
    eventually(WAIT, "the export logged", || async {
        let s = c.find(Locator::Css(".data-requests summary")).await.ok()?;
        (s.text().await.ok()? == summary(1)).then_some(())
    })
    .await;
    browser::click(&c, ".data-requests summary").await;
    let entries = c
        .find(Locator::Css(".data-requests li"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        entries.contains("Olga Berg exported")
            && entries.contains("1 conversation, 1 message, 0 files"),
        "{entries}"
    );

    browser::screenshot(&c, "inbox-contacts-data-export").await;

    // Deleting asks first; once confirmed, she is gone from the list and the log says so.
    browser::click(&c, "button[aria-label='Delete all data about Dana Cruz']").await;
    eventually(WAIT, "the confirmation", || async {
        c.accept_alert().await.ok()
    })
    .await;
    let done = eventually(WAIT, "the deletion", || async {
        let t = c
            .find(Locator::Css("p.done"))
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        t.starts_with("Deleted").then_some(t)
    })
    .await;
    assert_eq!(done, "Deleted everything about Dana Cruz.");
    eventually(WAIT, "the list without her, the log with it", || async {
        let gone = c.find(Locator::Css(export)).await.is_err();
        let s = c.find(Locator::Css(".data-requests summary")).await.ok()?;
        (gone && s.text().await.ok()? == summary(2)).then_some(())
    })
    .await;
    let newest = c
        .find(Locator::Css(".data-requests li"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(newest.contains("Olga Berg deleted"), "{newest}");
    let after = api
        .send(api.admin(
            Method::GET,
            &format!(
                "/api/v1/admin/sites/{shop}/contacts/{}/export",
                dana.visitor_id
            ),
        ))
        .await;
    assert_eq!(after.status, 404);
    browser::screenshot(&c, "inbox-contacts-data-requests").await;
    c.set_window_size(375, 800).await.unwrap();
    browser::screenshot(&c, "inbox-contacts-data-requests-375").await;
    c.close().await.unwrap();
}
