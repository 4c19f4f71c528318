//! Broadcasts against the real edge (`wrangler dev`: D1, Durable Objects, R2 and the
//! BROADCASTS queue) and the loopback Telegram and WhatsApp fakes: contacts from the widget,
//! the Telegram bot and a CSV import; consent and STOP; one broadcast with a photo to all of
//! them on each one's preferred channel, exactly once; the admin API's counts against what
//! the fakes recorded.

use beckon_shared::proto::v1::{Broadcast, Role, StartedConversation};
use beckon_tests::api::Api;
use beckon_tests::edge::{self, Edge};
use beckon_tests::fakes::telegram::FakeTelegram;
use beckon_tests::fakes::whatsapp::FakeWhatsapp;
use beckon_tests::fakes::Fault;
use beckon_tests::{eventually, files, unique, within};
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);
const CHAT: i64 = -1001234567890;
const TG_SECRET: &str = "tg_hook_secret-42_a8F3kq9ZrR1x7Lm2";
const WA_APP_SECRET: &str = "test_app_secret";
const AGENT_PHONE: &str = "16505551234";
const WABA: &str = "102290129340398";

struct Shop {
    api: Api,
    site: String,
    tg: FakeTelegram,
    wa: FakeWhatsapp,
}

impl Shop {
    /// A site with Telegram and WhatsApp set up; WhatsApp's account has the approved
    /// `spring_sale` template (image header, one body parameter).
    async fn open(prefix: &str) -> Shop {
        Shop::open_on(&edge::shared().url, prefix).await
    }

    async fn open_on(url: &str, prefix: &str) -> Shop {
        let api = Api::new(url);
        let site = unique(prefix);
        api.create_site(&site).await;
        let tg = FakeTelegram::start("777002:tg-broadcast").await;
        let wa =
            FakeWhatsapp::start("EAAG-broadcast", "106540352242922", &["new_website_chat"]).await;
        wa.add_template("spring_sale", "en_US", "APPROVED", Some("IMAGE"), 1);
        wa.add_template("draft_promo", "en_US", "PENDING", None, 0);
        wa.add_template("promo", "en_US", "APPROVED", None, 1);
        let shop = Shop { api, site, tg, wa };
        let r = shop.api.send(shop
            .admin(Method::PUT, "channels/telegram")
            .json(&json!({"settings": {"kind": "telegram", "chat_id": CHAT, "api_base": shop.tg.base},
                          "secrets": {"kind": "telegram", "bot_token": shop.tg.token, "webhook_secret": TG_SECRET}}))).await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        let r = shop.api.send(shop
            .admin(Method::PUT, "channels/whatsapp")
            .json(&json!({"settings": {"kind": "whatsapp", "phone_number_id": shop.wa.phone_number_id,
                                       "agent_numbers": [AGENT_PHONE], "template_name": "new_website_chat",
                                       "business_account_id": WABA, "api_base": shop.wa.base},
                          "secrets": {"kind": "whatsapp", "access_token": shop.wa.token,
                                      "app_secret": WA_APP_SECRET, "verify_token": "verify-me"}}))).await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        shop
    }

    /// An admin request on `/api/v1/admin/sites/{site}/{rest}`.
    fn admin(&self, method: Method, rest: &str) -> reqwest::RequestBuilder {
        self.api
            .admin(method, &format!("/api/v1/admin/sites/{}/{rest}", self.site))
    }

    fn hook(&self, kind: &str) -> String {
        format!("{}/hooks/{kind}/{}", self.api.base, self.site)
    }

    /// A web visitor who chatted (and, with a name, identified).
    async fn web_visitor(&self, name: Option<&str>) -> StartedConversation {
        let c = self.api.start_conversation(&self.site, None).await;
        if let Some(name) = name {
            self.identify(&c, json!({ "name": name })).await;
        }
        c
    }

    /// What the page says about visitor `c` (`Beckon.identify`, no proof: a claim).
    async fn identify(&self, c: &StartedConversation, traits: Value) {
        let r = self
            .api
            .send(
                self.api
                    .post(&format!("/api/v1/sites/{}/identify", self.site))
                    .bearer_auth(&c.visitor_token)
                    .json(&traits),
            )
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
    }

    /// Someone pressing Start in the site's bot, or writing `text` to it.
    async fn telegram_says(&self, user: i64, name: &str, text: &str) {
        let update = self.tg.private_update(user, name, None, text);
        assert_eq!(
            FakeTelegram::deliver(&self.hook("telegram"), Some(TG_SECRET), &update).await,
            200
        );
    }

    async fn whatsapp_says(&self, from: &str, text: &str) {
        let (_, payload) = self.wa.message_event(from, text, None);
        assert_eq!(
            FakeWhatsapp::deliver(&self.hook("whatsapp"), WA_APP_SECRET, &payload).await,
            200
        );
    }

    async fn import(&self, csv: &str) -> Value {
        let r = self
            .api
            .send(
                self.admin(Method::POST, "contact-imports")
                    .header("content-type", "text/csv")
                    .body(csv.to_owned()),
            )
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        r.body
    }

    /// Uploads a broadcast file; its attachment id.
    async fn file(&self, name: &str, bytes: Vec<u8>) -> String {
        let r = self
            .api
            .send(
                self.admin(Method::POST, &format!("broadcast-files?name={name}"))
                    .body(bytes),
            )
            .await;
        assert_eq!(r.status, 201, "{:?}", r.body);
        r.body["attachment"]["id"].as_str().unwrap().to_owned()
    }

    async fn broadcast(&self, id: &str) -> Broadcast {
        let r = self
            .api
            .send(self.admin(Method::GET, &format!("broadcasts/{id}")))
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        serde_json::from_value(r.body).unwrap()
    }
}

/// A text answer (CSV).
async fn text(req: reqwest::RequestBuilder) -> (u16, String) {
    let resp = req.send().await.expect("request reaches the edge");
    (
        resp.status().as_u16(),
        resp.text().await.unwrap_or_default(),
    )
}

fn phone(n: usize) -> String {
    format!("49151{n:07}")
}

#[tokio::test]
async fn a_photo_broadcast_reaches_a_thousand_contacts_once_each_on_their_preferred_channel() {
    let shop = Shop::open("bcast").await;

    // 400 web visitors who chatted; 200 of them told us their name (25 to 224).
    let mut web = Vec::new();
    for i in 0..400 {
        let name = (25..225).contains(&i).then(|| format!("Web{i} Visitor"));
        web.push((shop.web_visitor(name.as_deref()).await, name));
    }
    // One of them keeps the widget open: the broadcast arrives live.
    let live_index = 399;
    let mut live = shop.api.visitor_socket(&web[live_index].0).await;
    // 300 people started the bot; 20 of them then said STOP.
    let tg_user = |i: usize| 7_000_000 + i as i64;
    for i in 0..300 {
        shop.telegram_says(tg_user(i), &format!("Tg{i}"), "/start")
            .await;
    }
    for i in 280..300 {
        shop.telegram_says(tg_user(i), &format!("Tg{i}"), "STOP")
            .await;
    }
    // The contacts list knows the Telegram ones by id.
    let (status, csv_text) = text(shop.admin(Method::GET, "contacts.csv")).await;
    assert_eq!(status, 200);
    let ids_by_name: HashMap<String, String> = csv_text
        .lines()
        .skip(1)
        .filter_map(|l| {
            let cols: Vec<&str> = l.split(',').collect();
            Some((cols.get(1)?.to_string(), cols.first()?.to_string()))
        })
        .collect();
    // The import: 300 WhatsApp-only contacts (260 opted in, 40 not), and WhatsApp numbers with
    // opt-in for 50 web visitors and 30 Telegram contacts (matched by contact_id).
    let mut csv = String::from("contact_id,name,phone,whatsapp_opt_in,tags\n");
    for i in 0..300 {
        let opt = if i < 260 { "yes" } else { "no" };
        csv.push_str(&format!(",Wa{i} Person,+{},{opt},customer\n", phone(i)));
    }
    for (i, (c, _)) in web.iter().enumerate().take(50) {
        csv.push_str(&format!(
            "{},,+{},yes,customer\n",
            c.visitor_id,
            phone(1000 + i)
        ));
    }
    for i in 0..30 {
        let id = &ids_by_name[&format!("Tg{i}")];
        csv.push_str(&format!("{id},,+{},yes,customer\n", phone(2000 + i)));
    }
    let report = shop.import(&csv).await;
    assert_eq!(
        (&report["created"], &report["updated"], &report["rejected"]),
        (&json!(300), &json!(80), &json!([])),
        "{report}"
    );
    // The same file again changes nothing.
    let again = shop.import(&csv).await;
    assert_eq!(
        (&again["created"], &again["updated"], &again["unchanged"]),
        (&json!(0), &json!(0), &json!(380)),
        "{again}"
    );
    // 20 of the opted-in WhatsApp contacts say STOP: confirmed to each.
    for i in 240..260 {
        shop.whatsapp_says(&phone(i), "STOP").await;
    }
    for i in 240..260 {
        let to = phone(i);
        eventually(WAIT, "the STOP confirmation", || async {
            shop.wa
                .sent()
                .into_iter()
                .find(|s| s.to == to && s.text.contains("Reply START"))
        })
        .await;
    }
    for i in 280..300 {
        eventually(WAIT, "the Telegram STOP confirmation", || async {
            shop.tg
                .private_messages(tg_user(i))
                .into_iter()
                .find(|s| s.text.contains("Reply START"))
        })
        .await;
    }

    let photo = files::png(640, 480, 48_000);
    let file = shop.file("spring.png", photo.clone()).await;
    let input = json!({
        "name": "Spring sale",
        "text": "Hi {{first_name|there}}! Spring sale: 30% off everything.",
        "channels": ["whatsapp", "telegram", "web"],
        "files": [file],
        "whatsapp_template": {"name": "spring_sale", "language": "en_US", "parameters": ["{{first_name|there}}"]}
    });
    // The preview counts who gets it where (the widget's conversations reach the index
    // within seconds).
    let expected = json!({"web": 350, "telegram": 250, "whatsapp": 320, "email": 0, "messenger": 0, "instagram": 0, "unreachable": 40, "opted_out": 40});
    let preview = eventually(WAIT, "the preview's counts", || async {
        let r = shop
            .api
            .send(shop.admin(Method::POST, "broadcast-previews").json(&input))
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        (r.body["count"] == expected).then_some(r.body)
    })
    .await;
    let previews = preview["previews"].as_array().unwrap();
    assert_eq!(previews.len(), 3, "{preview}");
    let form = previews[0]["form"].as_str().unwrap();
    assert!(
        form.starts_with("template spring_sale (en_US) with") && form.ends_with("spring.png"),
        "{form}"
    );

    let r = shop
        .api
        .send(shop.admin(Method::POST, "broadcasts").json(&input))
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let id = r.body["id"].as_str().unwrap().to_owned();
    assert_eq!(r.body["total"]["recipients"], 920);

    // The live visitor sees it arrive, with its photo.
    let m = live.agent_message(Duration::from_secs(120)).await;
    assert_eq!(m.body, "Hi there! Spring sale: 30% off everything.");
    assert_eq!(m.attachments.len(), 1);
    assert_eq!(m.attachments[0].name, "spring.png");

    let done = eventually(Duration::from_secs(300), "every recipient sent", || async {
        let b = shop.broadcast(&id).await;
        (b.status == "done" && b.total.sent == 920).then_some(b)
    })
    .await;
    assert_eq!(done.total.failed, 0);

    // Telegram: one photo per chat, captioned with their name.
    let photos: Vec<_> = shop
        .tg
        .sent()
        .into_iter()
        .filter(|s| s.file.as_ref().is_some_and(|(m, _)| m == "sendphoto"))
        .collect();
    let chats: HashSet<i64> = photos.iter().map(|s| s.chat_id).collect();
    assert_eq!((photos.len(), chats.len()), (250, 250));
    for i in 30..280 {
        let p: Vec<_> = photos.iter().filter(|s| s.chat_id == tg_user(i)).collect();
        assert_eq!(p.len(), 1, "Tg{i}");
        assert!(
            p[0].text.contains(&format!("Hi Tg{i}! Spring sale")),
            "{}",
            p[0].text
        );
        assert_eq!(p[0].file.as_ref().unwrap().1.bytes, photo);
    }
    // Those who said STOP got the greeting and the confirmation, nothing more.
    for i in 280..300 {
        assert_eq!(shop.tg.private_messages(tg_user(i)).len(), 2, "Tg{i}");
    }

    // WhatsApp: the template with the photo header, once per number; the photo uploaded once.
    let templates: Vec<_> = shop
        .wa
        .sent()
        .into_iter()
        .filter(|s| s.template.as_deref() == Some("spring_sale"))
        .collect();
    let numbers: HashSet<&str> = templates.iter().map(|s| s.to.as_str()).collect();
    assert_eq!((templates.len(), numbers.len()), (320, 320));
    for t in &templates {
        let (kind, f, _) = t.media.as_ref().expect("a header photo");
        assert_eq!((kind.as_str(), &f.bytes), ("image", &photo));
    }
    assert_eq!(shop.wa.uploads(), 1, "the header photo is uploaded once");
    assert_eq!(
        shop.tg.uploads(),
        1,
        "Telegram gets the photo once, then its file_id"
    );
    let to = |n: String| templates.iter().find(|t| t.to == n).map(|t| t.text.clone());
    assert_eq!(to(phone(0)), Some("Wa0".into()));
    assert_eq!(
        to(phone(1000 + 25)),
        Some("Web25".into()),
        "a web visitor on WhatsApp"
    );
    assert_eq!(
        to(phone(1000)),
        Some("there".into()),
        "no name: the fallback"
    );
    assert_eq!(
        to(phone(2000)),
        Some("Tg0".into()),
        "a bot contact on WhatsApp"
    );
    for i in 240..300 {
        assert!(to(phone(i)).is_none(), "opted out or never opted in: {i}");
    }

    // The widget: one message in each of the 350 other visitors' conversations.
    for (i, (c, name)) in web.iter().enumerate().skip(50) {
        let page = shop.api.admin_messages(&c.conversation_id).await;
        let sent: Vec<_> = page
            .messages
            .iter()
            .filter(|m| m.role == Role::Agent)
            .collect();
        assert_eq!(sent.len(), 1, "web visitor {i}");
        let first = name
            .as_deref()
            .map_or("there", |n| n.split(' ').next().unwrap());
        assert_eq!(
            sent[0].body,
            format!("Hi {first}! Spring sale: 30% off everything.")
        );
        assert_eq!(sent[0].attachments[0].size, photo.len() as u64);
    }
    for (c, _) in web.iter().take(50) {
        let page = shop.api.admin_messages(&c.conversation_id).await;
        assert!(
            page.messages.iter().all(|m| m.role != Role::Agent),
            "reached on WhatsApp instead"
        );
    }

    // The admin API's counts are what the fakes recorded.
    let per = |ch: &str| {
        done.channels
            .iter()
            .find(|c| c.channel.as_str() == ch)
            .map(|c| c.funnel.sent)
            .unwrap_or(0)
    };
    assert_eq!(
        (per("whatsapp"), per("telegram"), per("web")),
        (templates.len() as u32, photos.len() as u32, 350)
    );
    let (status, results) = text(shop.admin(
        Method::GET,
        &format!("broadcasts/{id}/recipients?format=csv"),
    ))
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        results.lines().count(),
        921,
        "a header and a row per recipient"
    );
}

impl Shop {
    /// `n` people who pressed Start in the bot: Telegram users `first..first+n`.
    async fn bot_contacts(&self, first: i64, n: i64) {
        for u in first..first + n {
            self.telegram_says(u, &format!("Tg{u}"), "/start").await;
        }
    }

    /// Waits until the STOP of Telegram user `tg_user` and WhatsApp number `wa_number` was
    /// confirmed to each of them.
    async fn stop_confirmed(&self, tg_user: i64, wa_number: &str, within: Duration) {
        let confirms = |text: &str| text.contains("You will not get more messages");
        eventually(within, "both confirmations", || async {
            let tg = self
                .tg
                .private_messages(tg_user)
                .iter()
                .any(|m| confirms(&m.text));
            let wa = self
                .wa
                .sent()
                .iter()
                .any(|m| m.to == wa_number && confirms(&m.text));
            (tg && wa).then_some(())
        })
        .await;
    }

    /// Waits until the fake Telegram has had no call for a second: what the contacts' `/start`
    /// set going (their greetings, the relays to the agents' group) is done, and a fault
    /// injected now is the next broadcast send's.
    async fn telegram_quiet(&self) {
        let calls = || self.tg.faults.lock().unwrap().calls.len();
        loop {
            let before = calls();
            tokio::time::sleep(Duration::from_secs(1)).await;
            if calls() == before {
                return;
            }
        }
    }

    /// `n` WhatsApp contacts with opt-in, numbers `phone(first..first+n)`.
    async fn whatsapp_contacts(&self, first: usize, n: usize) {
        let mut csv = String::from("name,phone,whatsapp_opt_in\n");
        for i in first..first + n {
            csv.push_str(&format!("Wa{i},+{},yes\n", phone(i)));
        }
        let report = self.import(&csv).await;
        assert_eq!(report["rejected"], json!([]), "{report}");
    }

    async fn create(&self, input: &Value) -> beckon_tests::api::Reply {
        self.api
            .send(self.admin(Method::POST, "broadcasts").json(input))
            .await
    }

    async fn results(&self, id: &str) -> Vec<Value> {
        let r = self
            .api
            .send(self.admin(Method::GET, &format!("broadcasts/{id}/recipients")))
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        r.body["recipients"].as_array().unwrap().clone()
    }

    async fn act(&self, id: &str, action: &str) -> Broadcast {
        let r = self
            .api
            .send(self.admin(Method::POST, &format!("broadcasts/{id}/{action}")))
            .await;
        assert_eq!(r.status, 200, "{action}: {:?}", r.body);
        serde_json::from_value(r.body).unwrap()
    }

    /// Broadcast messages the fakes received: Telegram photos or messages by chat, WhatsApp
    /// `template`s by number.
    fn telegram_broadcasts(&self, marker: &str) -> Vec<i64> {
        self.tg
            .sent()
            .into_iter()
            .filter(|s| s.text.contains(marker))
            .map(|s| s.chat_id)
            .collect()
    }

    /// A broadcast to `person`, who started the bot, whose send Telegram tells to try again
    /// in `retry_after_secs` (a few times: a relay of the /start may still take one; it only
    /// waits); its id, once the person's row is recorded as posted.
    async fn broadcast_told_to_wait(
        &self,
        person: i64,
        retry_after_secs: u64,
        (name, marker): (&str, &str),
    ) -> String {
        self.bot_contacts(person, 1).await;
        for _ in 0..3 {
            self.tg.inject(Fault::RateLimited { retry_after_secs });
        }
        let r = self.create(&promo(name, marker)).await;
        assert_eq!(r.status, 201, "{:?}", r.body);
        let id = r.body["id"].as_str().unwrap().to_owned();
        eventually(
            WAIT,
            "the first attempt, told to wait, recorded as posted",
            || async {
                let results = self.results(&id).await;
                results[0]["conversation_id"].is_string().then_some(())
            },
        )
        .await;
        id
    }

    /// Stops `edge`, loses the alarms of every object of each of `classes` (how many, each),
    /// and starts it again on the same state: the shop on the new edge.
    fn restart_losing_alarms(self, edge: Edge, classes: &[&str]) -> (Shop, Edge, Vec<usize>) {
        let state = edge.stop();
        let lost = classes
            .iter()
            .map(|class| Edge::lose_alarms(&state, class))
            .collect();
        let edge = Edge::start_logged(Some(state), &[]);
        let shop = Shop {
            api: Api::new(&edge.url),
            ..self
        };
        (shop, edge, lost)
    }

    /// Waits up to 180 s for the one recipient of broadcast `id` to be sent.
    async fn sent_within_3_minutes(&self, id: &str, edge: &Edge) {
        let sent = within(Duration::from_secs(180), || async {
            let results = self.results(id).await;
            (results[0]["status"] == "sent").then_some(())
        })
        .await;
        assert!(
            sent.is_some(),
            "still {:?} 180 s after the restart; the Worker's errors:\n{}",
            self.results(id).await,
            worker_errors(&edge.state_dir)
        );
    }

    fn whatsapp_broadcasts(&self, template: &str) -> Vec<String> {
        self.wa
            .sent()
            .into_iter()
            .filter(|s| s.template.as_deref() == Some(template))
            .map(|s| s.to)
            .collect()
    }
}

/// A text broadcast on WhatsApp (the `promo` template, one parameter) and Telegram.
fn promo(name: &str, marker: &str) -> Value {
    json!({
        "name": name,
        "text": format!("{marker}: new arrivals, {{{{first_name|friend}}}}."),
        "channels": ["whatsapp", "telegram"],
        "whatsapp_template": {"name": "promo", "language": "en_US", "parameters": ["{{first_name|friend}}"]}
    })
}

/// The lines of every `wrangler dev` log in `state` that tell of an error.
fn worker_errors(state: &std::path::Path) -> String {
    let mut lines = Vec::new();
    for entry in std::fs::read_dir(state).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("wrangler-") && name.ends_with(".log") {
            let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
            lines.extend(
                text.lines()
                    .filter(|l| {
                        let l = l.to_lowercase();
                        l.contains("error") || l.contains("fail") || l.contains("exception")
                    })
                    .map(|l| format!("{name}: {l}")),
            );
        }
    }
    lines.join("\n")
}

fn once_each<T: std::hash::Hash + Eq + std::fmt::Debug + Clone>(sent: &[T]) -> HashSet<T> {
    let set: HashSet<T> = sent.iter().cloned().collect();
    assert_eq!(set.len(), sent.len(), "someone got it twice: {sent:?}");
    set
}

#[tokio::test]
async fn rate_limits_server_errors_and_a_restart_mid_broadcast_still_deliver_once_each() {
    // Slow paces, so the runtime can be stopped in the middle; a relay timeout longer than
    // the test needs to see a send under way.
    let vars = [
        ("BROADCAST_RATES", "telegram=6,whatsapp=6,web=50"),
        ("RELAY_TIMEOUT_MS", "20000"),
    ];
    let edge = Edge::start_logged(None, &vars);
    let shop = Shop::open_on(&edge.url, "bfault").await;
    shop.bot_contacts(8_100_000, 30).await;
    shop.whatsapp_contacts(3000, 30).await;
    // Three people blocked the bot since: theirs fail for good, with the reason.
    for u in 8_100_000..8_100_003 {
        shop.tg.block(u);
    }
    for _ in 0..3 {
        shop.tg.inject(Fault::RateLimited {
            retry_after_secs: 1,
        });
        shop.wa.inject(Fault::RateLimited {
            retry_after_secs: 1,
        });
    }
    for _ in 0..2 {
        shop.wa.inject(Fault::PairRateLimited {
            retry_after_secs: 1,
        });
    }
    for _ in 0..5 {
        shop.tg.inject(Fault::ServerError);
        shop.wa.inject(Fault::ServerError);
    }
    // WhatsApp takes the first message it accepts but answers it only after the edge gave up
    // waiting (or was stopped): whether it arrived is unknown to the edge, until WhatsApp's
    // status for it comes.
    shop.wa.answer_late(Duration::from_secs(30));
    let r = shop.create(&promo("Faults", "FAULT-PROMO")).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let id = r.body["id"].as_str().unwrap().to_owned();
    // Its status, come before its answer, is not taken for anything else's: WhatsApp is told
    // to send it again later (5xx).
    let held = eventually(WAIT, "the message answered late", || async {
        shop.wa
            .sent()
            .into_iter()
            .find(|s| s.template.as_deref() == Some("promo"))
    })
    .await;
    let early = shop.wa.status_event(&held.wamid, &held.to, "sent", None);
    assert_eq!(
        FakeWhatsapp::deliver(&shop.hook("whatsapp"), WA_APP_SECRET, &early).await,
        500,
        "a status while its send is under way"
    );
    // Stop the runtime once a few went out.
    eventually(WAIT, "the first sends", || async {
        (shop.telegram_broadcasts("FAULT-PROMO").len() + shop.whatsapp_broadcasts("promo").len()
            >= 8)
            .then_some(())
    })
    .await;
    let state = edge.stop();
    let before = (
        shop.telegram_broadcasts("FAULT-PROMO").len(),
        shop.whatsapp_broadcasts("promo").len(),
    );
    assert!(
        before.0 + before.1 < 57,
        "stopped mid-broadcast: {before:?}"
    );
    let edge = Edge::start_logged(Some(state), &vars);
    let shop = Shop {
        api: Api::new(&edge.url),
        ..shop
    };
    // The stopped tick is overdue a minute after its last look: the watch (every 30 s) then
    // queues one in its place. Recipients the stopped tick had claimed wait until the claim is
    // stale (60 s), found by that tick or the recheck 30 s after: one to two minutes here
    // alone, up to about three on a loaded machine.
    let restarted = std::time::Instant::now();
    let finished = within(Duration::from_secs(300), || async {
        let b = shop.broadcast(&id).await;
        (b.total.sent + b.total.failed == 60 && b.total.queued == 0).then_some(b)
    })
    .await;
    let Some(_) = finished else {
        // Where it stuck: each recipient's status and the runtime's errors.
        let mut seen: Vec<String> = shop
            .results(&id)
            .await
            .iter()
            .map(|r| {
                format!(
                    "{} {} {} {} {}",
                    r["channel"], r["address"], r["status"], r["reason"], r["conversation_id"]
                )
            })
            .collect();
        seen.sort();
        let b = shop.broadcast(&id).await;
        panic!(
            "the rest after the restart did not finish in 300 s: {} {:?}\n{}\nthe Worker's errors, both runs:\n{}",
            b.status,
            b.total,
            seen.join("\n"),
            worker_errors(&edge.state_dir)
        );
    };
    let rest_s = restarted.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(2)).await;
    // Never twice: every address at most once at the fakes.
    let tg = once_each(&shop.telegram_broadcasts("FAULT-PROMO"));
    let wa = once_each(&shop.whatsapp_broadcasts("promo"));
    let is_unknown = |r: &Value| {
        r["status"] == "failed"
            && r["reason"]
                .as_str()
                .is_some_and(|s| s.contains("whether it arrived is unknown"))
    };
    let wa_unknown = |results: &[Value]| -> Vec<String> {
        results
            .iter()
            .filter(|r| r["channel"] == "whatsapp" && is_unknown(r))
            .map(|r| r["address"].as_str().unwrap().to_owned())
            .collect()
    };
    let results_before = shop.results(&id).await;
    let unknown_before = wa_unknown(&results_before);
    let held_reason = results_before
        .iter()
        .find(|r| r["channel"] == "whatsapp" && r["address"] == held.to.as_str())
        .map(|r| r["reason"].as_str().unwrap_or_default().to_owned())
        .unwrap_or_default();
    assert!(
        unknown_before.contains(&held.to),
        "the message answered late is unknown to the edge: {unknown_before:?}, held {}",
        held.to
    );
    // WhatsApp's "sent" status for every message it accepted — also those of the time the
    // edge was down, which Meta delivers when it is back: a send of unknown fate that arrived
    // counts as sent after all.
    for sent in shop.wa.sent() {
        let event = shop.wa.status_event(&sent.wamid, &sent.to, "sent", None);
        assert_eq!(
            FakeWhatsapp::deliver(&shop.hook("whatsapp"), WA_APP_SECRET, &event).await,
            200
        );
    }
    let settled = within(WAIT, || async {
        let results = shop.results(&id).await;
        wa_unknown(&results)
            .iter()
            .all(|a| !wa.contains(a))
            .then_some(results)
    })
    .await;
    let Some(results) = settled else {
        panic!(
            "WhatsApp's statuses did not settle the sends that arrived: {:?} unknown, {wa:?} arrived",
            wa_unknown(&shop.results(&id).await)
        )
    };
    let unknown_after = wa_unknown(&results);
    let held_result = results
        .iter()
        .find(|r| r["channel"] == "whatsapp" && r["address"] == held.to.as_str())
        .unwrap();
    assert_eq!(held_result["status"], "sent", "{held_result}");
    assert!(held_result["reason"].is_null(), "{held_result}");
    let wa_sent = results
        .iter()
        .filter(|r| r["channel"] == "whatsapp" && r["status"] == "sent")
        .count();
    assert_eq!(
        wa_sent,
        wa.len(),
        "on WhatsApp, sent is exactly what arrived"
    );
    let failed: Vec<&Value> = results.iter().filter(|r| r["status"] == "failed").collect();
    let reason = |r: &Value| r["reason"].as_str().unwrap_or_default().to_owned();
    // The three who blocked the bot fail for good, with the reason — unless the stop cut
    // their send short, which is then said instead.
    let blocked: Vec<_> = failed
        .iter()
        .filter(|r| reason(r).contains("blocked"))
        .map(|r| r["address"].as_str().unwrap().parse::<i64>().unwrap())
        .collect();
    assert!(
        blocked.iter().all(|u| (8_100_000..8_100_003).contains(u)),
        "{failed:?}"
    );
    for u in 8_100_000..8_100_003 {
        let address = u.to_string();
        assert!(
            failed.iter().any(|r| r["address"] == address.as_str()),
            "{u} blocked the bot: {failed:?}"
        );
    }
    // A send cut short by the stop (it may have arrived) is not repeated, and says so.
    let unknown = failed
        .iter()
        .filter(|r| reason(r).contains("whether it arrived is unknown"))
        .count();
    assert_eq!(blocked.len() + unknown, failed.len(), "{failed:?}");
    assert!(unknown <= 16, "at most the sends in flight: {unknown}");
    let done = within(WAIT, || async {
        let b = shop.broadcast(&id).await;
        (b.total.sent as usize + failed.len() == 60).then_some(b)
    })
    .await
    .unwrap_or_else(|| panic!("totals: {:?}", results.len()));
    let arrived = tg.len() + wa.len();
    assert!(
        (done.total.sent as usize..=done.total.sent as usize + unknown).contains(&arrived),
        "{arrived} arrived, {} sent, {unknown} unknown",
        done.total.sent
    );
    // Every injected fault was served (and retried past).
    let served = |f: &beckon_tests::fakes::FaultQueue, what: &str| {
        f.lock()
            .unwrap()
            .calls
            .iter()
            .filter(|c| c.1.contains(what))
            .count()
    };
    assert_eq!(served(&shop.wa.faults, "PairRateLimited"), 2);
    assert_eq!(served(&shop.wa.faults, "ServerError"), 5);
    assert_eq!(served(&shop.tg.faults, "ServerError"), 5);
    assert_eq!(served(&shop.tg.faults, "RateLimited"), 3);
    let calls =
        shop.tg.faults.lock().unwrap().calls.len() + shop.wa.faults.lock().unwrap().calls.len();
    println!(
        "{arrived} delivered once each ({} sent, {unknown} of unknown fate, {} blocked), {calls} API calls with the faults; {before:?} before the restart, the rest in {rest_s:.1} s; WhatsApp's statuses settled {} of {} unknown ({} left, none arrived)",
        done.total.sent,
        blocked.len(),
        unknown_before.len() - unknown_after.len(),
        unknown_before.len(),
        unknown_after.len(),
    );
    println!("the message answered late: {held_reason}");
    edge.stop();
}

/// A runtime that stopped can lose a conversation's alarm (its storage still says when it is
/// due, but it never fires), and nothing else comes to a conversation a broadcast posted into:
/// the broadcast's watch wakes it, and its message goes — once.
#[tokio::test]
async fn a_send_whose_alarm_was_lost_in_a_stop_is_woken_by_the_watch() {
    let edge = Edge::start_logged(None, &[]);
    let shop = Shop::open_on(&edge.url, "bwake").await;
    let person = 8_300_000;
    // Telegram asks to try again in 20 s: the conversation's alarm is set for then.
    let id = shop
        .broadcast_told_to_wait(person, 20, ("Woken", "WAKE-PROMO"))
        .await;
    shop.tg.faults.lock().unwrap().clear();
    assert!(
        shop.telegram_broadcasts("WAKE-PROMO").is_empty(),
        "the broadcast's send was told to wait"
    );
    let (shop, edge, lost) = shop.restart_losing_alarms(edge, &["Conversation"]);
    let lost = lost[0];
    assert!(lost >= 1, "the conversation's alarm: {lost}");
    let restarted = std::time::Instant::now();
    shop.sent_within_3_minutes(&id, &edge).await;
    assert_eq!(shop.telegram_broadcasts("WAKE-PROMO"), vec![person]);
    let log = edge.log();
    let woken = log
        .matches("not reported for a minute, woken: 1 conversation(s)")
        .count();
    assert!(
        woken >= 1,
        "sent {:.1} s after the restart, not woken by the watch; the Worker's own lines:\n{}",
        restarted.elapsed().as_secs_f64(),
        log.lines()
            .filter(|l| !l.contains("[wrangler:info]"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    println!(
        "{lost} alarms lost; the watch woke the conversation and it sent {:.1} s after the restart",
        restarted.elapsed().as_secs_f64()
    );
    edge.stop();
}

/// The same stop, after the broadcast's last tick, losing the watch's own alarm too: no tick
/// is left to set it again, and nothing else comes to the watch or the conversation. The
/// Worker's cron trigger (every 10 minutes; `wrangler dev --test-scheduled` runs it on a
/// request) finds the broadcast still owed a report and sets the watch again, which wakes
/// the conversation: its message goes, once.
#[tokio::test]
async fn a_watch_that_lost_its_alarm_after_the_last_tick_is_set_again_by_the_cron() {
    let edge = Edge::start_logged(None, &[]);
    let shop = Shop::open_on(&edge.url, "bcron").await;
    let person = 8_400_000;
    let id = shop
        // Longer than the first test's 20 s: the retry must still be ahead at the stop.
        .broadcast_told_to_wait(person, 45, ("Swept", "SWEEP-PROMO"))
        .await;
    shop.tg.faults.lock().unwrap().clear();
    let done = eventually(WAIT, "the broadcast's last tick", || async {
        let b = shop.broadcast(&id).await;
        (b.status == "done").then_some(b)
    })
    .await;
    assert_eq!(done.total.recipients, 1);
    assert!(
        shop.telegram_broadcasts("SWEEP-PROMO").is_empty(),
        "the broadcast's send was told to wait"
    );
    let (shop, edge, lost) = shop.restart_losing_alarms(edge, &["Conversation", "BroadcastWatch"]);
    let (conversations, watches) = (lost[0], lost[1]);
    assert!(
        conversations >= 1 && watches >= 1,
        "alarms lost: {conversations} conversation(s), {watches} watch(es)"
    );
    let restarted = std::time::Instant::now();
    // The cron, every 10 s here: a watch's alarm counts as lost once it is 10 s overdue.
    let scheduled = format!("{}/__scheduled?cron=*/10+*+*+*+*", edge.url);
    let mut cron = tokio::spawn(async move {
        loop {
            let r = reqwest::get(&scheduled)
                .await
                .expect("the cron trigger runs");
            assert_eq!(r.status(), 200, "{:?}", r.text().await);
            tokio::time::sleep(Duration::from_secs(10)).await;
        }
    });
    tokio::select! {
        ended = &mut cron => panic!("the cron trigger: {ended:?}"),
        () = shop.sent_within_3_minutes(&id, &edge) => cron.abort(),
    }
    assert_eq!(shop.telegram_broadcasts("SWEEP-PROMO"), vec![person]);
    let log = edge.log();
    assert!(
        log.contains("its watch had lost its alarm, set again")
            && log.contains("not reported for a minute, woken: 1 conversation(s)"),
        "sent, but not by the watch the cron set again:\n{log}"
    );
    assert!(
        !log.contains("scheduled sweep:") && !log.contains("watching broadcast"),
        "the cron's sweep failed:\n{log}"
    );
    println!(
        "{conversations} conversation and {watches} watch alarm(s) lost; after the cron the watch \
         woke the conversation and it sent {:.1} s after the restart",
        restarted.elapsed().as_secs_f64()
    );
    edge.stop();
}

/// One person on two records: the list's record of their number with its WhatsApp opt-in,
/// and the widget visitor who later typed that number into the chat (a claim). With the web
/// first in the preference they still get the broadcast once, on WhatsApp, through the record
/// that holds the number; a visitor who typed a number nobody holds gets it in the widget, and
/// one who typed a number that opted in by START is not reached on WhatsApp through it. An
/// import that opts the typed number in by the visitor's id makes it theirs, and typing it
/// again on the next page keeps it so.
#[tokio::test]
async fn a_number_typed_in_the_widget_is_one_recipient_with_the_list_record_that_holds_it() {
    let shop = Shop::open("bclaim").await;
    let (listed, unheld, started) = ("4915100000077", "4915100000078", "4915100000079");
    let report = shop
        .import(&format!(
            "name,phone,whatsapp_opt_in\nListed Ana,+{listed},yes\n"
        ))
        .await;
    assert_eq!(
        (&report["created"], &report["rejected"]),
        (&json!(1), &json!([])),
        "{report}"
    );
    // A number that opted in by keyword (START records an opt-in only after a STOP), each
    // confirmed before the next.
    for (n, keyword) in [(1, "STOP"), (2, "START")] {
        shop.whatsapp_says(started, keyword).await;
        eventually(WAIT, "the keyword's confirmation", || async {
            let sent = shop.wa.sent();
            (sent.iter().filter(|s| s.to == started).count() >= n).then_some(())
        })
        .await;
    }
    let typed = |name: &str, phone: &str| json!({ "name": name, "phone": format!("+{phone}") });
    let vi = shop.web_visitor(None).await;
    shop.identify(&vi, typed("Vi Web", listed)).await;
    let lo = shop.web_visitor(None).await;
    shop.identify(&lo, typed("Lo Web", unheld)).await;
    let mo = shop.web_visitor(None).await;
    shop.identify(&mo, typed("Mo Web", started)).await;
    let input = |marker: &str, channels: [&str; 2]| {
        json!({
            "name": marker,
            "text": format!("{marker}: new arrivals, {{{{first_name|friend}}}}."),
            "channels": channels,
            "whatsapp_template": {"name": "promo", "language": "en_US", "parameters": ["{{first_name|friend}}"]}
        })
    };
    let preview = |input: Value| {
        let shop = &shop;
        async move {
            let counted = shop
                .api
                .send(shop.admin(Method::POST, "broadcast-previews").json(&input))
                .await
                .body;
            let count = &counted["count"];
            (count["web"].as_u64(), count["whatsapp"].as_u64())
        }
    };
    let in_widget = |c: &StartedConversation, marker: &'static str| {
        let shop = &shop;
        let conversation = c.conversation_id.clone();
        async move {
            shop.api
                .admin_messages(&conversation)
                .await
                .messages
                .into_iter()
                .filter(|m| m.body.contains(marker))
                .count()
        }
    };
    for (marker, channels) in [
        ("CLAIM-ONE", ["web", "whatsapp"]),
        ("CLAIM-TWO", ["whatsapp", "web"]),
    ] {
        let input = input(marker, channels);
        assert_eq!(preview(input.clone()).await, (Some(2), Some(1)), "{marker}");
        let r = shop.create(&input).await;
        assert_eq!(r.status, 201, "{:?}", r.body);
        let id = r.body["id"].as_str().unwrap().to_owned();
        let results = eventually(WAIT, "every recipient sent", || async {
            let results = shop.results(&id).await;
            results
                .iter()
                .all(|r| r["status"] == "sent")
                .then_some(results)
        })
        .await;
        let mut got: Vec<_> = results
            .iter()
            .map(|r| r["channel"].as_str().unwrap().to_owned())
            .collect();
        got.sort();
        assert_eq!(got, ["web", "web", "whatsapp"], "{marker}: {results:?}");
        let promos: Vec<_> = shop
            .wa
            .sent()
            .into_iter()
            .filter(|s| s.template.as_deref() == Some("promo"))
            .map(|s| (s.to, s.text))
            .collect();
        assert_eq!(
            promos.last(),
            Some(&(listed.to_owned(), "Listed".to_owned())),
            "{marker}: to the listed number, with the list record's name"
        );
        assert!(
            promos.iter().all(|(to, _)| to == listed),
            "{marker}: a typed number got it on WhatsApp: {promos:?}"
        );
        assert_eq!(
            in_widget(&vi, marker).await,
            0,
            "{marker}: the claim got it too"
        );
        assert_eq!(
            in_widget(&lo, marker).await,
            1,
            "{marker}: a number nobody holds"
        );
        assert_eq!(
            in_widget(&mo, marker).await,
            1,
            "{marker}: a START number typed"
        );
    }
    let promos = shop.wa.sent().into_iter();
    assert_eq!(
        promos
            .filter(|s| s.template.as_deref() == Some("promo"))
            .count(),
        2
    );
    // The business opts Vi's number in by their id: it is theirs, one person with the list's
    // record, and the web comes first. Typing it again on the next page changes nothing.
    let report = shop
        .import(&format!(
            "contact_id,phone,whatsapp_opt_in\n{},+{listed},yes\n",
            vi.visitor_id
        ))
        .await;
    assert_eq!(report["updated"], json!(1), "{report}");
    let first_web = input("CLAIM-THREE", ["web", "whatsapp"]);
    assert_eq!(preview(first_web.clone()).await, (Some(3), Some(0)));
    shop.identify(&vi, typed("Vi Web", listed)).await;
    assert_eq!(
        preview(first_web).await,
        (Some(3), Some(0)),
        "the same number typed again made it a claim again"
    );
}

/// A Brazilian mobile the business has with its ninth digit, which WhatsApp knows without it
/// (registered before the digit was added): the person's statuses, answer and STOP come from
/// that other `wa_id`, and still reach their conversation, the broadcast's funnel and their
/// consent.
#[tokio::test]
async fn a_number_whatsapp_knows_in_another_form_answers_and_stops() {
    let shop = Shop::open("bbrasil").await;
    let (number, wa_id) = ("5511987654321", "551187654321");
    shop.wa.registered_as(number, wa_id);
    let report = shop
        .import(&format!("name,phone,whatsapp_opt_in\nJoão,+{number},yes\n"))
        .await;
    assert_eq!(report["rejected"], json!([]), "{report}");
    // The same person in WhatsApp's form of the number is the record that holds it (and the
    // planner takes both forms as one recipient).
    let again = shop
        .import(&format!(
            "name,phone,whatsapp_opt_in\nJoão Silva,+{wa_id},yes\n"
        ))
        .await;
    assert_eq!(
        (&again["created"], &again["updated"], &again["rejected"]),
        (&json!(0), &json!(1), &json!([])),
        "{again}"
    );
    let counted = shop
        .api
        .send(
            shop.admin(Method::POST, "broadcast-previews")
                .json(&promo("Brasil", "BR-PROMO")),
        )
        .await
        .body;
    assert_eq!(counted["count"]["whatsapp"], 1, "{counted}");
    let r = shop.create(&promo("Brasil", "BR-PROMO")).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let id = r.body["id"].as_str().unwrap().to_owned();
    let sent = eventually(WAIT, "the broadcast, to the number on record", || async {
        shop.wa
            .sent()
            .into_iter()
            .find(|s| s.template.as_deref() == Some("promo") && s.to == number)
    })
    .await;
    let stage = |want: &'static str| {
        let shop = &shop;
        let id = &id;
        async move {
            eventually(WAIT, want, || async {
                let results = shop.results(id).await;
                (results.len() == 1 && results[0]["status"] == want).then_some(())
            })
            .await
        }
    };
    stage("sent").await;
    // Its statuses name the wa_id.
    let read = shop.wa.status_event(&sent.wamid, wa_id, "read", None);
    assert_eq!(
        FakeWhatsapp::deliver(&shop.hook("whatsapp"), WA_APP_SECRET, &read).await,
        200
    );
    stage("read").await;
    // The answer comes from the wa_id: it answers the broadcast, in the same conversation.
    shop.whatsapp_says(wa_id, "Oi, quero saber mais").await;
    stage("replied").await;
    let conversation = shop.results(&id).await[0]["conversation_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let page = shop
        .api
        .send(shop.api.admin(
            Method::GET,
            &format!("/api/v1/admin/conversations/{conversation}/messages"),
        ))
        .await;
    assert!(
        page.body["messages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["body"] == "Oi, quero saber mais"),
        "{:?}",
        page.body
    );
    // STOP from the wa_id: confirmed at the number on record, and honoured from then on.
    let preview = || async {
        shop.api
            .send(
                shop.admin(Method::POST, "broadcast-previews")
                    .json(&promo("Next", "BR-2")),
            )
            .await
            .body
    };
    assert_eq!(preview().await["count"]["opted_out"], 0);
    shop.whatsapp_says(wa_id, "STOP").await;
    eventually(WAIT, "the STOP confirmation", || async {
        shop.wa
            .sent()
            .into_iter()
            .find(|s| s.to == number && s.text.contains("You will not get more messages"))
    })
    .await;
    let after = preview().await;
    assert_eq!(after["count"]["opted_out"], 1, "{after}");
    // With a consent under both forms now, the number on record is still the one they are
    // known by: what they write next is in their conversation too.
    shop.whatsapp_says(wa_id, "Obrigado").await;
    eventually(WAIT, "the message after the STOP", || async {
        let page = shop
            .api
            .send(shop.api.admin(
                Method::GET,
                &format!("/api/v1/admin/conversations/{conversation}/messages"),
            ))
            .await;
        page.body["messages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["body"] == "Obrigado")
            .then_some(())
    })
    .await;
}

/// A channel removed while a broadcast's send to it waits: that recipient fails with the
/// reason instead of staying queued.
#[tokio::test]
async fn a_send_whose_channel_is_removed_meanwhile_fails_with_the_reason() {
    let shop = Shop::open("bgone").await;
    let id = shop
        .broadcast_told_to_wait(8_400_000, 5, ("Gone", "GONE-PROMO"))
        .await;
    let r = shop
        .api
        .send(shop.admin(Method::DELETE, "channels/telegram"))
        .await;
    assert!(r.status < 300, "{:?}", r.body);
    let failed = eventually(WAIT, "the recipient failed", || async {
        let results = shop.results(&id).await;
        (results[0]["status"] == "failed").then(|| results[0].clone())
    })
    .await;
    assert_eq!(failed["reason"], "the channel is not set up", "{failed}");
    assert!(shop.telegram_broadcasts("GONE-PROMO").is_empty());
}

#[tokio::test]
async fn stop_mid_broadcast_is_confirmed_and_honoured_now_and_later() {
    let vars = [("BROADCAST_RATES", "telegram=1,whatsapp=1,web=50")];
    let edge = Edge::start_with_vars(None, &vars);
    let shop = Shop::open_on(&edge.url, "bstop").await;
    shop.bot_contacts(8_200_000, 12).await;
    shop.whatsapp_contacts(4000, 12).await;
    let r = shop.create(&promo("First", "STOP-ONE")).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let id = r.body["id"].as_str().unwrap().to_owned();
    eventually(WAIT, "the first sends", || async {
        (!shop.telegram_broadcasts("STOP-ONE").is_empty()).then_some(())
    })
    .await;
    // The last Telegram and WhatsApp recipients in sending order say STOP before their turn.
    let results = shop.results(&id).await;
    let last = |ch: &str| {
        results.iter().rev().find(|r| r["channel"] == ch).unwrap()["address"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (tg_stop, wa_stop) = (last("telegram"), last("whatsapp"));
    let tg_user: i64 = tg_stop.parse().unwrap();
    shop.telegram_says(tg_user, "Stopper", "Stop").await;
    shop.whatsapp_says(&wa_stop, "STOP").await;
    shop.stop_confirmed(tg_user, &wa_stop, WAIT).await;
    let b = eventually(Duration::from_secs(120), "the broadcast done", || async {
        let b = shop.broadcast(&id).await;
        (b.status == "done" && b.total.queued == 0).then_some(b)
    })
    .await;
    assert_eq!((b.total.sent, b.total.opted_out), (22, 2));
    let tg = once_each(&shop.telegram_broadcasts("STOP-ONE"));
    let wa = once_each(&shop.whatsapp_broadcasts("promo"));
    assert!(!tg.contains(&tg_user) && !wa.contains(&wa_stop));
    let stopped: Vec<_> = shop
        .results(&id)
        .await
        .into_iter()
        .filter(|r| r["status"] == "opted_out")
        .map(|r| r["address"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(stopped.len(), 2);
    // A later broadcast leaves them out from the start.
    let r = shop.create(&promo("Second", "STOP-TWO")).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let id2 = r.body["id"].as_str().unwrap().to_owned();
    assert_eq!(r.body["total"]["recipients"], 22);
    eventually(
        Duration::from_secs(120),
        "the second broadcast done",
        || async { (shop.broadcast(&id2).await.status == "done").then_some(()) },
    )
    .await;
    assert!(!shop.telegram_broadcasts("STOP-TWO").contains(&tg_user));
    assert_eq!(
        shop.whatsapp_broadcasts("promo")
            .iter()
            .filter(|n| **n == wa_stop)
            .count(),
        0
    );
    // START takes it back.
    shop.telegram_says(tg_user, "Stopper", "START").await;
    eventually(WAIT, "the START confirmation", || async {
        shop.tg
            .private_messages(tg_user)
            .iter()
            .any(|m| m.text.contains("You will get messages"))
            .then_some(())
    })
    .await;
    let preview = shop
        .api
        .send(
            shop.admin(Method::POST, "broadcast-previews")
                .json(&promo("Third", "STOP-THREE")),
        )
        .await;
    assert_eq!(preview.body["count"]["opted_out"], 1, "{:?}", preview.body);
    edge.stop();
}

/// A message waiting for a channel's retry is held back by what happened meanwhile: its
/// person's STOP (they count as opted out) or the broadcast's cancel (cancelled) — it is never
/// sent, and the broadcast's counts say so. Telegram's refusal has a retry hint (429,
/// `retry_after`); WhatsApp's pair rate limit (131056) has none, and is retried on the
/// outbox's own backoff.
#[tokio::test]
async fn a_stop_or_a_cancel_while_a_send_waits_for_its_retry_holds_it_back() {
    let edge = Edge::start_with_vars(None, &[("BROADCAST_RATES", "telegram=1,whatsapp=1,web=50")]);
    let shop = Shop::open_on(&edge.url, "bheld").await;
    shop.bot_contacts(8_400_000, 2).await;
    shop.whatsapp_contacts(5000, 2).await;
    shop.telegram_quiet().await;
    // The first Telegram send, and every send to `number` for a while, are refused.
    let refuse = |number: &str| {
        shop.tg.inject(Fault::RateLimited {
            retry_after_secs: 10,
        });
        shop.wa.pair_limit(number, Duration::from_secs(15));
    };
    // STOP: both say it while their message waits.
    refuse(&phone(5000));
    let r = shop.create(&promo("Held", "HELD-ONE")).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let id = r.body["id"].as_str().unwrap().to_owned();
    // The recipient on each channel whose message is posted but waits for its retry, once
    // the other two got theirs (all read from one list: the counts may move between reads).
    let held = eventually(WAIT, "one waiting on each channel", || async {
        let results = shop.results(&id).await;
        let status = |r: &Value| r["status"].as_str().unwrap_or_default().to_owned();
        let waiting: Vec<(String, String)> = results
            .iter()
            .filter(|r| status(r) == "queued" && r["conversation_id"].is_string())
            .map(|r| {
                (
                    r["channel"].as_str().unwrap().to_owned(),
                    r["address"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        let sent = results
            .iter()
            .filter(|r| matches!(status(r).as_str(), "sent" | "delivered" | "read"))
            .count();
        let by_channel: HashMap<String, String> = waiting.iter().cloned().collect();
        (waiting.len() == 2 && by_channel.len() == 2 && sent == 2).then_some(by_channel)
    })
    .await;
    assert_eq!(held["whatsapp"], phone(5000));
    let (tg_user, wa_number): (i64, &str) = (held["telegram"].parse().unwrap(), &held["whatsapp"]);
    shop.telegram_says(tg_user, "Held", "STOP").await;
    shop.whatsapp_says(wa_number, "STOP").await;
    let b = eventually(Duration::from_secs(60), "the broadcast done", || async {
        let b = shop.broadcast(&id).await;
        (b.status == "done" && b.total.queued == 0).then_some(b)
    })
    .await;
    assert_eq!(
        (b.total.sent, b.total.opted_out, b.total.failed),
        (2, 2, 0),
        "{:?}",
        b.total
    );
    for r in shop.results(&id).await {
        if held.values().any(|a| r["address"] == a.as_str()) {
            assert_eq!(
                (r["status"].as_str(), r["reason"].as_str()),
                (Some("opted_out"), Some("they said STOP to these messages")),
                "{r}"
            );
        }
    }
    assert!(!shop.telegram_broadcasts("HELD-ONE").contains(&tg_user));
    assert!(!shop
        .whatsapp_broadcasts("promo")
        .iter()
        .any(|n| n == wa_number));
    // Their STOP was confirmed (WhatsApp's once the pair limit is over).
    shop.stop_confirmed(tg_user, wa_number, Duration::from_secs(60))
        .await;

    // Cancel once every message is posted (the broadcast is done) while Telegram's first send
    // still waits for its retry and every WhatsApp one for the pair limit to pass: those are
    // held back, the rest were sent.
    shop.bot_contacts(8_400_100, 5).await;
    shop.whatsapp_contacts(5100, 3).await;
    shop.telegram_quiet().await;
    shop.tg.inject(Fault::RateLimited {
        retry_after_secs: 20,
    });
    for n in [5001, 5100, 5101, 5102] {
        shop.wa.pair_limit(&phone(n), Duration::from_secs(30));
    }
    let wa_before = shop.whatsapp_broadcasts("promo").len();
    let r = shop.create(&promo("Held too", "HELD-TWO")).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let id = r.body["id"].as_str().unwrap().to_owned();
    let b = eventually(WAIT, "every message posted", || async {
        let b = shop.broadcast(&id).await;
        (b.status == "done" && b.total.sent == 5).then_some(b)
    })
    .await;
    assert_eq!(b.total.queued, 5, "{:?}", b.total);
    assert_eq!(shop.act(&id, "cancel").await.status, "cancelled");
    let b = eventually(
        Duration::from_secs(60),
        "every recipient settled",
        || async {
            let b = shop.broadcast(&id).await;
            (b.total.queued == 0).then_some(b)
        },
    )
    .await;
    assert_eq!(
        (b.total.sent, b.total.cancelled, b.total.failed),
        (5, 5, 0),
        "{:?}",
        b.total
    );
    assert_eq!(once_each(&shop.telegram_broadcasts("HELD-TWO")).len(), 5);
    assert_eq!(shop.whatsapp_broadcasts("promo").len(), wa_before);
    let held_back: Vec<Value> = shop
        .results(&id)
        .await
        .into_iter()
        .filter(|r| r["status"] == "cancelled")
        .collect();
    assert!(
        held_back
            .iter()
            .all(|r| r["reason"] == "the broadcast was cancelled before it reached them"),
        "{held_back:?}"
    );
    // Cancelled once: a second cancel is refused.
    let r = shop
        .api
        .send(shop.admin(Method::POST, &format!("broadcasts/{id}/cancel")))
        .await;
    assert_eq!((r.status, r.error_code()), (409, "conflict"));
    edge.stop();
}

#[tokio::test]
async fn cancel_stops_within_a_batch_and_pause_resumes_where_it_left_off() {
    let vars = [("BROADCAST_RATES", "telegram=4,whatsapp=4,web=50")];
    let edge = Edge::start_with_vars(None, &vars);
    let shop = Shop::open_on(&edge.url, "bpause").await;
    shop.bot_contacts(8_300_000, 40).await;
    let count = |marker: &'static str| {
        let shop = &shop;
        async move { shop.telegram_broadcasts(marker).len() }
    };
    let settled = |marker: &'static str| {
        let shop = &shop;
        async move {
            // Sent count that stays put for 3 s.
            loop {
                let a = shop.telegram_broadcasts(marker).len();
                tokio::time::sleep(Duration::from_secs(3)).await;
                if shop.telegram_broadcasts(marker).len() == a {
                    return a;
                }
            }
        }
    };
    let telegram_only = |name: &str, marker: &str| json!({"name": name, "text": format!("{marker} for you"), "channels": ["telegram"]});

    // Cancel: what was not sent is cancelled; at most one batch in flight still goes.
    let r = shop.create(&telegram_only("Cancel me", "CANCEL-ME")).await;
    let id = r.body["id"].as_str().unwrap().to_owned();
    eventually(WAIT, "a few sent", || async {
        (count("CANCEL-ME").await >= 4).then_some(())
    })
    .await;
    let at_cancel = count("CANCEL-ME").await;
    let b = shop.act(&id, "cancel").await;
    assert_eq!(b.status, "cancelled");
    let after = settled("CANCEL-ME").await;
    // At most the sends under way at the cancel (16 at a time): those of them not posted to
    // Telegram yet are refused at their send, and count as cancelled too.
    assert!(after <= at_cancel + 16, "{at_cancel} → {after}");
    let b = eventually(WAIT, "every recipient settled", || async {
        let b = shop.broadcast(&id).await;
        (b.total.queued == 0).then_some(b)
    })
    .await;
    assert_eq!(
        (b.total.cancelled as usize, b.total.sent as usize),
        (40 - after, after),
        "{:?}",
        b.total
    );
    let r = shop
        .api
        .send(shop.admin(Method::POST, &format!("broadcasts/{id}/resume")))
        .await;
    assert_eq!((r.status, r.error_code()), (409, "conflict"));

    // Pause, then resume: nothing goes while paused; afterwards everyone, once.
    let r = shop.create(&telegram_only("Pause me", "PAUSE-ME")).await;
    let id = r.body["id"].as_str().unwrap().to_owned();
    eventually(WAIT, "a few sent", || async {
        (count("PAUSE-ME").await >= 4).then_some(())
    })
    .await;
    assert_eq!(shop.act(&id, "pause").await.status, "paused");
    let paused_at = settled("PAUSE-ME").await;
    assert!(paused_at < 40);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(count("PAUSE-ME").await, paused_at, "nothing while paused");
    assert_eq!(shop.act(&id, "resume").await.status, "running");
    let b = eventually(
        Duration::from_secs(60),
        "the rest after resuming",
        || async {
            let b = shop.broadcast(&id).await;
            (b.status == "done" && b.total.sent == 40).then_some(b)
        },
    )
    .await;
    assert_eq!(b.total.cancelled, 0);
    assert_eq!(once_each(&shop.telegram_broadcasts("PAUSE-ME")).len(), 40);
    edge.stop();
}

/// 2026-12-01T00:00:00Z in ms: the test clock's day.
const DEC_1: i64 = 1_796_083_200_000;
const HOUR: i64 = 3_600_000;

impl Shop {
    /// Sets the edge's test clock (`TEST_CLOCK=on`) to `now` (ms since the epoch).
    async fn clock(&self, now: i64) {
        let r = self
            .api
            .send(
                self.api
                    .admin(Method::PUT, "/api/v1/admin/test-clock")
                    .json(&json!({ "now": now })),
            )
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
    }

    /// Contacts with WhatsApp opt-in, one per zone (`""`: none), named Z0, Z1, … from
    /// `first`.
    async fn zoned(&self, first: usize, zones: &[&str]) {
        let mut csv = String::from("name,phone,whatsapp_opt_in,time_zone\n");
        for (i, zone) in zones.iter().enumerate() {
            csv.push_str(&format!("Z{i},+{},yes,{zone}\n", phone(first + i)));
        }
        self.import(&csv).await;
    }

    async fn due(&self, id: &str) -> HashMap<String, i64> {
        self.results(id)
            .await
            .iter()
            .map(|r| {
                (
                    r["address"].as_str().unwrap().to_owned(),
                    r["due_at"].as_i64().unwrap(),
                )
            })
            .collect()
    }
}

#[tokio::test]
async fn a_local_time_schedule_sends_per_time_zone_and_quiet_hours_wait() {
    // Its own edge, whose clock the test sets.
    let edge = Edge::start_with_vars(None, &[("TEST_CLOCK", "on")]);
    let shop = Shop::open_on(&edge.url, "blocal").await;
    // Berlin (UTC+1 in December), São Paulo (UTC-3), Tokyo (UTC+9) and no zone (UTC).
    shop.zoned(
        5000,
        &["Europe/Berlin", "America/Sao_Paulo", "Asia/Tokyo", ""],
    )
    .await;
    let (berlin, sao_paulo, tokyo, utc) = (phone(5000), phone(5001), phone(5002), phone(5003));
    // The clock is every site's: an owner of one site may not set it.
    let r = shop
        .api
        .send(
            shop.api
                .admin(Method::POST, "/api/v1/admin/keys")
                .json(&json!({"label": "one site", "role": "owner", "sites": [shop.site]})),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let one_site = r.body["key"].as_str().unwrap().to_owned();
    let r = shop
        .api
        .send(
            shop.api
                .put("/api/v1/admin/test-clock")
                .bearer_auth(&one_site)
                .json(&json!({ "now": DEC_1 })),
        )
        .await;
    assert_eq!(
        (r.status, r.error_code()),
        (403, "forbidden"),
        "{:?}",
        r.body
    );
    shop.clock(DEC_1 + 8 * HOUR).await;

    // 10:00 wherever they are: Berlin at 09:00 UTC, UTC at 10:00, São Paulo at 13:00; Tokyo's
    // 10:00 (01:00 UTC) has passed today, so theirs is tomorrow's.
    let mut input = promo("Local ten", "LOCAL");
    input["channels"] = json!(["whatsapp"]);
    input["schedule"] = json!({ "local_time": "10:00" });
    let r = shop.create(&input).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let id = r.body["id"].as_str().unwrap().to_owned();
    let due = shop.due(&id).await;
    assert_eq!(due[&berlin], DEC_1 + 9 * HOUR);
    assert_eq!(due[&utc], DEC_1 + 10 * HOUR);
    assert_eq!(due[&sao_paulo], DEC_1 + 13 * HOUR);
    assert_eq!(due[&tokyo], DEC_1 + 25 * HOUR);

    // Nothing before its time; each zone at its own.
    let sent_by = |at: i64| {
        let shop = &shop;
        let due = &due;
        async move {
            shop.clock(at).await;
            eventually(Duration::from_secs(90), "the zone's messages", || async {
                let sent: Vec<String> = shop
                    .wa
                    .sent()
                    .into_iter()
                    .filter(|m| m.text.starts_with('Z'))
                    .map(|m| m.to)
                    .collect();
                let expected = due.values().filter(|d| **d <= at).count();
                (sent.len() >= expected).then_some(sent)
            })
            .await
        }
    };
    // The first tick runs at once (and finds nobody due): it queues its successor for
    // Berlin's 09:00, an hour ahead. The watch's look 30 s after the start finds that tick on
    // time and queues nothing (it used to queue one on every look, each a chain of its own).
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(shop.wa.sent().len(), 0);
    let ticks = || {
        let row = &edge.d1(&format!(
            "SELECT tick_gen, tick_due FROM broadcasts WHERE id = '{id}'"
        ))[0];
        (
            row["tick_gen"].as_i64().unwrap(),
            row["tick_due"].as_i64().unwrap(),
        )
    };
    let waiting = ticks();
    assert_eq!(
        waiting.0, 2,
        "the first tick and its successor: {waiting:?}"
    );
    assert!(waiting.1 > DEC_1 + 9 * HOUR, "{waiting:?}");
    tokio::time::sleep(Duration::from_secs(35)).await;
    assert_eq!(
        ticks(),
        waiting,
        "the watch queued a tick beside one on time"
    );
    let mut sent = sent_by(DEC_1 + 9 * HOUR).await;
    assert_eq!(sent, vec![berlin.clone()]);
    sent = sent_by(DEC_1 + 10 * HOUR).await;
    assert_eq!(sent, vec![berlin.clone(), utc.clone()]);
    sent = sent_by(DEC_1 + 13 * HOUR).await;
    assert_eq!(sent, vec![berlin.clone(), utc.clone(), sao_paulo.clone()]);
    let b = eventually(WAIT, "three reported sent", || async {
        let b = shop.broadcast(&id).await;
        (b.total.sent == 3).then_some(b)
    })
    .await;
    assert_eq!(
        (b.status.as_str(), b.total.queued),
        ("running", 1),
        "Tokyo waits"
    );
    sent = sent_by(DEC_1 + 25 * HOUR).await;
    assert_eq!(once_each(&sent).len(), 4);
    eventually(WAIT, "done", || async {
        let b = shop.broadcast(&id).await;
        (b.status == "done").then_some(())
    })
    .await;

    // Sent now with quiet hours 21:00–08:00 at 06:00 UTC: Tokyo (15:00) at once; Berlin
    // (07:00) at 08:00 theirs, 07:00 UTC; UTC's at 08:00; São Paulo (03:00) at 11:00 UTC.
    let now = DEC_1 + 30 * HOUR;
    shop.clock(now).await;
    let mut input = promo("Quiet", "QUIET");
    input["channels"] = json!(["whatsapp"]);
    input["schedule"] = json!({ "quiet_hours": { "from": "21:00", "to": "08:00" } });
    input["whatsapp_template"] =
        json!({"name": "promo", "language": "en_US", "parameters": ["quiet"]});
    let r = shop.create(&input).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let id = r.body["id"].as_str().unwrap().to_owned();
    let due = shop.due(&id).await;
    // (the clock runs on from `now`)
    assert!(
        (now..now + 10_000).contains(&due[&tokyo]),
        "{}",
        due[&tokyo] - now
    );
    assert_eq!(due[&berlin], DEC_1 + 31 * HOUR);
    assert_eq!(due[&utc], DEC_1 + 32 * HOUR);
    assert_eq!(due[&sao_paulo], DEC_1 + 35 * HOUR);
    let quiet = |at: i64| {
        let shop = &shop;
        let due = &due;
        async move {
            shop.clock(at).await;
            eventually(Duration::from_secs(90), "the quiet broadcast", || async {
                let sent: Vec<String> = shop
                    .wa
                    .sent()
                    .into_iter()
                    .filter(|m| m.text == "quiet")
                    .map(|m| m.to)
                    .collect();
                let expected = due.values().filter(|d| **d <= at).count();
                (sent.len() >= expected).then_some(sent)
            })
            .await
        }
    };
    assert_eq!(quiet(now).await, vec![tokyo.clone()]);
    // The broadcast says when the next ones are due: Berlin's end of quiet hours.
    let b = eventually(WAIT, "Berlin next", || async {
        let b = shop.broadcast(&id).await;
        (b.next_at == Some(DEC_1 + 31 * HOUR)).then_some(b)
    })
    .await;
    assert_eq!(b.status, "running");
    assert_eq!(
        quiet(DEC_1 + 31 * HOUR).await,
        vec![tokyo.clone(), berlin.clone()]
    );
    assert_eq!(quiet(DEC_1 + 35 * HOUR).await.len(), 4);
    eventually(WAIT, "nobody left to wait for", || async {
        shop.broadcast(&id).await.next_at.is_none().then_some(())
    })
    .await;

    // Paused before its time and resumed inside the quiet hours: nobody gets it before they
    // end (UTC's 08:00 the next day), though it was due at 20:30.
    let evening = DEC_1 + 44 * HOUR + 30 * 60_000;
    shop.clock(evening - 10 * 60_000).await;
    let mut late = promo("Late", "LATE");
    late["channels"] = json!(["whatsapp"]);
    late["whatsapp_template"] =
        json!({"name": "promo", "language": "en_US", "parameters": ["late"]});
    late["schedule"] = json!({ "at": evening, "quiet_hours": { "from": "21:00", "to": "08:00" } });
    let r = shop.create(&late).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let late_id = r.body["id"].as_str().unwrap().to_owned();
    shop.act(&late_id, "pause").await;
    shop.clock(DEC_1 + 46 * HOUR).await;
    shop.act(&late_id, "resume").await;
    let moved = eventually(Duration::from_secs(60), "UTC's moved to 08:00", || async {
        let due = shop.due(&late_id).await;
        (due[&utc] == DEC_1 + 56 * HOUR).then_some(due)
    })
    .await;
    // Tokyo (07:00 there) waits until 08:00 theirs; São Paulo (19:00) is outside: sent.
    assert_eq!(moved[&tokyo], DEC_1 + 47 * HOUR);
    eventually(Duration::from_secs(60), "São Paulo's", || async {
        let sent: Vec<String> = shop
            .wa
            .sent()
            .into_iter()
            .filter(|m| m.text == "late")
            .map(|m| m.to)
            .collect();
        (sent == vec![sao_paulo.clone()]).then_some(())
    })
    .await;
    assert!(!shop
        .wa
        .sent()
        .iter()
        .any(|m| m.text == "late" && m.to == utc));

    // Quiet hours are checked like the rest.
    let mut bad = promo("Bad quiet", "BADQ");
    bad["schedule"] = json!({ "quiet_hours": { "from": "21:00", "to": "21:00" } });
    let r = shop.create(&bad).await;
    assert_eq!(r.status, 400, "{:?}", r.body);
    edge.stop();
}

/// A text that fits until it is filled in: the recipient whose name makes it too long fails,
/// with the reason, and the broadcast goes on and ends (it was once taken again every minute,
/// and the broadcast never ended).
#[tokio::test]
async fn a_text_too_long_once_filled_in_fails_that_recipient_and_the_broadcast_ends() {
    let shop = Shop::open("blong").await;
    let long = "L".repeat(80);
    let report = shop
        .import(&format!(
            "name,phone,whatsapp_opt_in\n{long},+{},yes\nBo,+{},yes\n",
            phone(7000),
            phone(7001)
        ))
        .await;
    assert_eq!(report["rejected"], json!([]), "{report}");
    let mut input = promo("Long", "LONG");
    input["text"] = json!(format!("{} {{{{first_name}}}}", "x".repeat(3950)));
    let r = shop.create(&input).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let id = r.body["id"].as_str().unwrap().to_owned();
    let b = eventually(WAIT, "the broadcast done", || async {
        let b = shop.broadcast(&id).await;
        (b.status == "done" && b.total.queued == 0).then_some(b)
    })
    .await;
    assert_eq!((b.total.sent, b.total.failed), (1, 1), "{:?}", b.total);
    let results = shop.results(&id).await;
    let of = |number: String| {
        results
            .iter()
            .find(|r| r["address"] == number.as_str())
            .map(|r| (r["status"].clone(), r["reason"].clone()))
    };
    assert_eq!(
        of(phone(7000)),
        Some((json!("failed"), json!("The message is too long.")))
    );
    assert_eq!(of(phone(7001)).map(|s| s.0), Some(json!("sent")));
    assert_eq!(
        shop.whatsapp_broadcasts("promo")
            .iter()
            .filter(|n| **n == phone(7000))
            .count(),
        0
    );
}

/// A broadcast too large for one D1 batch whose store fails half-way (its last batch, here
/// made to fail): nothing of it is sent, it is not listed, nothing of it stays in D1 — and the
/// next try is one broadcast, sent once to everyone. (It was once written as running from the
/// first batch: the cron's watch sent to the part stored, and the retry sent to them again.)
#[tokio::test]
async fn a_broadcast_whose_store_fails_half_way_sends_nothing_and_leaves_nothing() {
    let vars = [("TEST_CLOCK", "on"), ("TEST_BROADCAST_STORE_FAILS", "on")];
    let edge = Edge::start_with_vars(None, &vars);
    let shop = Shop::open_on(&edge.url, "bhalf").await;
    // 1 + 50 statements of 10 rows, and the status: two batches.
    shop.whatsapp_contacts(8000, 500).await;
    let input = promo("Half", "HALF");
    let r = shop.create(&input).await;
    assert_eq!(
        (r.status, r.error_code()),
        (500, "internal"),
        "{:?}",
        r.body
    );
    let listed = shop.api.send(shop.admin(Method::GET, "broadcasts")).await;
    assert_eq!(listed.status, 200, "{:?}", listed.body);
    assert_eq!(listed.body["broadcasts"], json!([]), "{:?}", listed.body);
    let rows = |sql: &str| edge.d1(sql)[0]["n"].as_i64().unwrap();
    assert_eq!(rows("SELECT COUNT(*) AS n FROM broadcasts"), 0);
    assert_eq!(rows("SELECT COUNT(*) AS n FROM broadcast_recipients"), 0);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(shop.whatsapp_broadcasts("promo").is_empty());
    // Had the undo failed too, the half-stored rows would stay `preparing` (shown nowhere,
    // sent by nothing): the cron takes them away once they are an hour old, and leaves a
    // store under way alone.
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let hours_ago = |h: i64| now_ms - h * 3_600_000;
    edge.d1(&format!(
        "INSERT INTO broadcasts (id, site_key, name, spec, status, created_at, send_at)
           VALUES ('b_left', '{site}', 'Left', '{{}}', 'preparing', {old}, {old}),
                  ('b_now', '{site}', 'Now', '{{}}', 'preparing', {new}, {new});
         INSERT INTO broadcast_recipients (broadcast_id, channel, address, contact_id, body, due_at, updated_at)
           VALUES ('b_left', 'whatsapp', '1', 'v_1', 'x', 0, 0), ('b_now', 'whatsapp', '1', 'v_1', 'x', 0, 0);",
        site = shop.site,
        old = hours_ago(2),
        new = hours_ago(0),
    ));
    let scheduled = format!("{}/__scheduled?cron=*/10+*+*+*+*", edge.url);
    let r = reqwest::get(&scheduled)
        .await
        .expect("the cron trigger runs");
    assert_eq!(r.status(), 200);
    let left = edge
        .d1("SELECT id FROM broadcasts UNION ALL SELECT broadcast_id FROM broadcast_recipients");
    let left: Vec<&str> = left.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(left, vec!["b_now", "b_now"]);
    edge.d1("DELETE FROM broadcast_recipients; DELETE FROM broadcasts;");
    let state = edge.stop();

    // The same state without the failure: one broadcast, everyone once.
    let edge = Edge::start_with_vars(Some(state), &[("TEST_CLOCK", "on")]);
    let shop = Shop {
        api: Api::new(&edge.url),
        ..shop
    };
    let r = shop.create(&input).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let id = r.body["id"].as_str().unwrap().to_owned();
    eventually(Duration::from_secs(120), "the broadcast done", || async {
        let b = shop.broadcast(&id).await;
        (b.status == "done" && b.total.queued == 0).then_some(())
    })
    .await;
    assert_eq!(once_each(&shop.whatsapp_broadcasts("promo")).len(), 500);
    assert_eq!(shop.whatsapp_broadcasts("promo").len(), 500);
    edge.stop();
}

#[tokio::test]
async fn bad_broadcasts_are_refused_before_anything_is_sent() {
    let shop = Shop::open("bbad").await;
    shop.bot_contacts(8_400_000, 3).await;
    shop.whatsapp_contacts(6000, 3).await;
    let refused = |r: beckon_tests::api::Reply, status: u16, needle: &str| {
        assert_eq!(r.status, status, "{:?}", r.body);
        let message = r.body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(
            message.contains(needle),
            "{message:?} should say {needle:?}"
        );
    };
    let base = promo("Bad", "BAD");
    // An audience nobody matches.
    let mut input = base.clone();
    input["audience"] = json!({"tags": ["nobody-has-this"]});
    refused(shop.create(&input).await, 400, "empty audience");
    // Unknown and unapproved templates.
    let mut input = base.clone();
    input["whatsapp_template"]["name"] = json!("no_such_template");
    refused(
        shop.create(&input).await,
        400,
        "no template \"no_such_template\"",
    );
    let mut input = base.clone();
    input["whatsapp_template"] = json!({"name": "draft_promo", "language": "en_US"});
    refused(shop.create(&input).await, 400, "pending, not approved");
    // WhatsApp without a template.
    let mut input = base.clone();
    input.as_object_mut().unwrap().remove("whatsapp_template");
    refused(
        shop.create(&input).await,
        400,
        "whatsapp_template is required",
    );
    // A template whose header wants a photo, without one; with one too large for WhatsApp.
    let mut input = base.clone();
    input["whatsapp_template"] =
        json!({"name": "spring_sale", "language": "en_US", "parameters": ["x"]});
    refused(
        shop.create(&input).await,
        400,
        "needs a photo in its header: attach one",
    );
    let big = shop
        .file("big.png", files::png(4000, 3000, 6 * 1024 * 1024))
        .await;
    input["files"] = json!([big]);
    refused(shop.create(&input).await, 400, "too large for WhatsApp");
    // A variable with no value for someone and no fallback.
    let mut input = base.clone();
    input["text"] = json!("Your code: {{coupon}}");
    input["channels"] = json!(["telegram"]);
    refused(
        shop.create(&input).await,
        400,
        "{{coupon}} has no value for 3 recipient(s)",
    );
    let mut input = base.clone();
    input["text"] = json!("Hi {{first_name");
    refused(shop.create(&input).await, 400, "never closed");
    // A channel the site has not set up; a file that is not one of ours.
    let mut input = base.clone();
    input["channels"] = json!(["telegram", "slack"]);
    let r = shop.create(&input).await;
    assert_eq!(r.status, 400, "{:?}", r.body);
    let mut input = base.clone();
    input["files"] = json!(["a_0123456789abcdef0123456789abcdef"]);
    refused(shop.create(&input).await, 400, "no broadcast file");
    // Nothing was sent, nothing was created.
    assert!(shop.whatsapp_broadcasts("promo").is_empty());
    assert!(shop.telegram_broadcasts("BAD").is_empty());
    let list = shop.api.send(shop.admin(Method::GET, "broadcasts")).await;
    assert_eq!(list.body["broadcasts"], json!([]));
    // Malformed CSV rows are reported one by one; a file without an identifying column is
    // refused whole.
    let report = shop
        .import("name,phone,email,whatsapp_opt_in\nA,+49 1,,yes\nB,,b@,no\nC,,,\nD,+4915199999999,,maybe\n")
        .await;
    let lines: Vec<i64> = report["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["line"].as_i64().unwrap())
        .collect();
    assert_eq!(lines, vec![2, 3, 4, 5], "{report}");
    let r = shop
        .api
        .send(
            shop.admin(Method::POST, "contact-imports")
                .body("name,plan\nA,gold\n"),
        )
        .await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn deliveries_reads_replies_and_goals_fill_the_funnel() {
    let shop = Shop::open("bfunnel").await;
    shop.bot_contacts(8_500_000, 2).await;
    shop.whatsapp_contacts(7000, 2).await;
    let web = shop.web_visitor(Some("Lia Web")).await;
    let reader = shop.web_visitor(Some("Noa Web")).await;
    let mut input = promo("Funnel", "FUNNEL");
    input["channels"] = json!(["whatsapp", "telegram", "web"]);
    let r = shop.create(&input).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let id = r.body["id"].as_str().unwrap().to_owned();
    eventually(Duration::from_secs(60), "all sent", || async {
        (shop.broadcast(&id).await.total.sent == 6).then_some(())
    })
    .await;
    // WhatsApp reports one message delivered and read.
    let sent = shop
        .wa
        .sent()
        .into_iter()
        .find(|s| s.to == phone(7000) && s.template.as_deref() == Some("promo"))
        .unwrap();
    for status in ["delivered", "read"] {
        let event = shop.wa.status_event(&sent.wamid, &sent.to, status, None);
        assert_eq!(
            FakeWhatsapp::deliver(&shop.hook("whatsapp"), WA_APP_SECRET, &event).await,
            200
        );
    }
    // One Telegram contact and the web visitor answer; the visitor then buys.
    shop.telegram_says(8_500_000, "Tg8500000", "Yes please, size M")
        .await;
    let mut ws = shop.api.visitor_socket(&web).await;
    ws.send(&beckon_shared::proto::v1::ClientFrame::Send {
        client_msg_id: beckon_tests::api::client_id("funnel-reply"),
        body: "Is it also in blue?".into(),
        attachments: Vec::new(),
    })
    .await;
    // Another visitor only reads it in the widget.
    let mut noa = shop.api.visitor_socket(&reader).await;
    let seen = shop
        .api
        .admin_messages(&reader.conversation_id)
        .await
        .messages
        .last()
        .unwrap()
        .seq;
    noa.send(&beckon_shared::proto::v1::ClientFrame::Read { seq: seen })
        .await;
    let goal = |value: f64| {
        shop.api
            .post(&format!(
                "/api/v1/conversations/{}/events",
                web.conversation_id
            ))
            .bearer_auth(&web.visitor_token)
            .json(&json!({"name": "purchase", "value": value}))
    };
    let b = eventually(Duration::from_secs(60), "the funnel", || async {
        let b = shop.broadcast(&id).await;
        // Whoever answered has read it: the funnel counts them at every stage before.
        (b.total.read == 4 && b.total.replied == 2).then_some(b)
    })
    .await;
    let counted = shop.api.send(goal(49.9)).await;
    assert_eq!(counted.status, 202, "{:?}", counted.body);
    assert_eq!(
        (
            &counted.body["counted"],
            &counted.body["credited_broadcast"]
        ),
        (&json!(true), &json!(id))
    );
    let again = shop.api.send(goal(49.9)).await;
    assert_eq!(
        again.body["counted"], false,
        "once per conversation and goal"
    );
    let b2 = shop.broadcast(&id).await;
    let funnel = |ch: &str| {
        b2.channels
            .iter()
            .find(|c| c.channel.as_str() == ch)
            .unwrap()
            .funnel
            .clone()
    };
    let (wa, tg, webf) = (funnel("whatsapp"), funnel("telegram"), funnel("web"));
    assert_eq!((wa.sent, wa.delivered, wa.read, wa.replied), (2, 1, 1, 0));
    assert_eq!((tg.sent, tg.replied), (2, 1));
    assert_eq!(
        (webf.sent, webf.read, webf.replied, webf.goals),
        (2, 2, 1, 1)
    );
    assert!((webf.goal_value - 49.9).abs() < 1e-9);
    assert_eq!((b.total.replied, b2.total.goals), (2, 1));
    // The agents' Telegram topic shows what was answered, then the answer.
    let topic: Vec<String> = eventually(WAIT, "the answer relayed to the agents", || async {
        let texts: Vec<String> = shop
            .tg
            .sent()
            .into_iter()
            .filter(|s| s.chat_id == CHAT)
            .map(|s| s.text)
            .collect();
        (texts.len() >= 2).then_some(texts)
    })
    .await;
    assert!(topic.iter().any(|t| t.contains("FUNNEL")), "{topic:?}");
    assert!(
        topic.iter().any(|t| t.contains("Yes please, size M")),
        "{topic:?}"
    );
}

#[tokio::test]
async fn saved_audiences_contacts_search_and_the_widget_mute() {
    let shop = Shop::open("baud").await;
    shop.import(
        "name,phone,whatsapp_opt_in,tags,plan,language\n\
         Ana Pro,+4915100007001,yes,vip;customer,pro,pt-BR\n\
         Bo Basic,+4915100007002,yes,vip,basic,en\n\
         Cy Pro,+4915100007003,no,customer,pro,en\n\
         Di 50%_off,+4915100007004,yes,vip,pro,de\n",
    )
    .await;
    shop.bot_contacts(8_700_000, 2).await;
    let web = shop.web_visitor(Some("Eve Web")).await;

    // The live count of an unsaved filter.
    let count = |filter: Value| {
        let shop = &shop;
        async move {
            let r = shop
                .api
                .send(shop.admin(Method::POST, "audience-counts").json(&filter))
                .await;
            assert_eq!(r.status, 200, "{:?}", r.body);
            r.body
        }
    };
    let vip = count(json!({"tags": ["vip"]})).await;
    assert_eq!(
        (vip["contacts"].as_u64(), vip["whatsapp"].as_u64()),
        (Some(3), Some(3))
    );
    let pro = count(json!({"attributes": {"plan": "pro"}})).await;
    assert_eq!(
        (
            pro["contacts"].as_u64(),
            pro["whatsapp"].as_u64(),
            pro["unreachable"].as_u64()
        ),
        (Some(3), Some(2), Some(1))
    );
    let on_telegram = count(json!({"reachable_on": ["telegram"]})).await;
    assert_eq!(
        (
            on_telegram["contacts"].as_u64(),
            on_telegram["telegram"].as_u64()
        ),
        (Some(2), Some(2))
    );
    let pt = count(json!({"language": "pt"})).await;
    assert_eq!(pt["contacts"], 1);

    // Saved, listed, renamed, used by a broadcast, deleted.
    let r = shop
        .api
        .send(shop.admin(Method::POST, "audiences").json(&json!({
            "name": "Pro on WhatsApp",
            "filter": {"attributes": {"plan": "pro"}, "reachable_on": ["whatsapp"]}
        })))
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(
        (
            r.body["reach"]["contacts"].as_u64(),
            r.body["reach"]["whatsapp"].as_u64()
        ),
        (Some(2), Some(2))
    );
    let id = r.body["id"].as_str().unwrap().to_owned();
    let again = shop
        .api
        .send(
            shop.admin(Method::POST, "audiences")
                .json(&json!({"name": "Pro on WhatsApp"})),
        )
        .await;
    assert_eq!(again.status, 409, "{:?}", again.body);
    let too_many = shop
        .api
        .send(shop.admin(Method::POST, "audiences").json(&json!({
            "name": "Tags", "filter": {"tags": (0..21).map(|i| format!("t{i}")).collect::<Vec<_>>()}
        })))
        .await;
    assert_eq!(too_many.status, 400, "{:?}", too_many.body);
    assert!(too_many.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("at most 20 tags"));
    let r = shop.api.send(shop.admin(Method::GET, "audiences")).await;
    assert_eq!(r.body["audiences"][0]["name"], "Pro on WhatsApp");
    let r = shop
        .api
        .send(shop.admin(Method::PUT, &format!("audiences/{id}")).json(&json!({
            "name": "Pro customers", "filter": {"attributes": {"plan": "pro"}, "reachable_on": ["whatsapp"]}
        })))
        .await;
    assert_eq!(
        (r.status, r.body["name"].as_str()),
        (200, Some("Pro customers"))
    );

    let mut input = promo("To pros", "PROS");
    input["channels"] = json!(["whatsapp"]);
    input["audience_id"] = json!(id);
    let both = {
        let mut b = input.clone();
        b["audience"] = json!({"tags": ["vip"]});
        shop.create(&b).await
    };
    assert_eq!(both.status, 400, "{:?}", both.body);
    let unknown = {
        let mut u = input.clone();
        u["audience_id"] = json!("u_00000000000000000000000000000000");
        shop.create(&u).await
    };
    assert_eq!(unknown.status, 404, "{:?}", unknown.body);
    let r = shop.create(&input).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let bid = r.body["id"].as_str().unwrap().to_owned();
    let mut to: Vec<String> = shop
        .results(&bid)
        .await
        .iter()
        .map(|r| r["address"].as_str().unwrap().to_owned())
        .collect();
    to.sort();
    assert_eq!(to, vec!["4915100007001", "4915100007004"]);
    let r = shop
        .api
        .send(shop.admin(Method::DELETE, &format!("audiences/{id}")))
        .await;
    assert_eq!(r.status, 204);
    let r = shop
        .api
        .send(shop.admin(Method::GET, &format!("audiences/{id}")))
        .await;
    assert_eq!(r.status, 404);

    // Contacts: search (a `%` or `_` is itself), tag, with their consents.
    let list = |query: &str| {
        let shop = &shop;
        let query = query.to_owned();
        async move {
            let r = shop
                .api
                .send(shop.admin(Method::GET, &format!("contacts?{query}")))
                .await;
            assert_eq!(r.status, 200, "{:?}", r.body);
            r.body["contacts"].as_array().unwrap().clone()
        }
    };
    let names = |v: &[Value]| -> Vec<String> {
        let mut n: Vec<String> = v
            .iter()
            .map(|c| c["name"].as_str().unwrap_or_default().to_owned())
            .collect();
        n.sort();
        n
    };
    assert_eq!(names(&list("q=pro").await), vec!["Ana Pro", "Cy Pro"]);
    assert_eq!(names(&list("q=50%25_").await), vec!["Di 50%_off"]);
    assert_eq!(names(&list("q=%2B4915100007002").await), vec!["Bo Basic"]);
    assert_eq!(
        names(&list("tag=customer").await),
        vec!["Ana Pro", "Cy Pro"]
    );
    let ana = &list("q=Ana").await[0];
    assert_eq!(ana["tags"], json!(["customer", "vip"]));
    assert_eq!(
        (
            ana["consents"][0]["channel"].as_str(),
            ana["consents"][0]["status"].as_str(),
            ana["consents"][0]["source"].as_str()
        ),
        (Some("whatsapp"), Some("in"), Some("import"))
    );
    let page = shop
        .api
        .send(shop.admin(Method::GET, "contacts?limit=2"))
        .await;
    assert_eq!(page.body["contacts"].as_array().unwrap().len(), 2);
    // Imported together, seen at the same moment: pages of 1 still list each once.
    let mut seen: Vec<String> = Vec::new();
    let mut before = String::new();
    loop {
        let r = shop
            .api
            .send(shop.admin(Method::GET, &format!("contacts?limit=1{before}")))
            .await;
        seen.extend(
            r.body["contacts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["visitor_id"].as_str().unwrap().to_owned()),
        );
        match r.body["next_before"].as_str() {
            Some(b) => before = format!("&before={b}"),
            None => break,
        }
    }
    assert_eq!((seen.len(), once_each(&seen).len()), (7, 7), "{seen:?}");
    for bad in ["limit=0", "limit=201", "before=soon", "before=12:v_nope"] {
        let r = shop
            .api
            .send(shop.admin(Method::GET, &format!("contacts?{bad}")))
            .await;
        assert_eq!(r.status, 400, "{bad}: {:?}", r.body);
    }

    // The widget's mute: recorded as the visitor's consent, honoured by the next broadcast,
    // undone by unmuting; only with the visitor's own token, of this site.
    let mute = |muted: Option<bool>, token: &str| {
        let shop = &shop;
        let token = token.to_owned();
        async move {
            let path = format!("/api/v1/sites/{}/announcements", shop.site);
            let req = match muted {
                Some(m) => shop.api.put(&path).json(&json!({ "muted": m })),
                None => shop.api.get(&path),
            };
            shop.api.send(req.bearer_auth(token)).await
        }
    };
    let web_preview = || async {
        let r = shop
            .api
            .send(shop.admin(Method::POST, "broadcast-previews").json(&json!({
                "name": "Web", "text": "Hello", "channels": ["web"]
            })))
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        (
            r.body["count"]["web"].as_u64().unwrap(),
            r.body["count"]["opted_out"].as_u64().unwrap(),
        )
    };
    assert_eq!(mute(None, &web.visitor_token).await.body["muted"], false);
    assert_eq!(web_preview().await, (1, 0));
    let r = mute(Some(true), &web.visitor_token).await;
    assert_eq!((r.status, r.body["muted"].as_bool()), (200, Some(true)));
    assert_eq!(mute(None, &web.visitor_token).await.body["muted"], true);
    assert_eq!(web_preview().await, (0, 1));
    let eve = &list("q=Eve").await[0];
    assert_eq!(
        (
            eve["consents"][0]["status"].as_str(),
            eve["consents"][0]["source"].as_str()
        ),
        (Some("out"), Some("widget"))
    );
    mute(Some(false), &web.visitor_token).await;
    assert_eq!(web_preview().await, (1, 0));
    assert_eq!(mute(None, "not-a-token").await.status, 401);
    assert_eq!(mute(Some(true), &web.visitor_token).await.status, 200);
    let r = shop
        .api
        .send(
            shop.api
                .put(&format!("/api/v1/sites/{}/announcements", shop.site))
                .bearer_auth(&web.visitor_token)
                .json(&json!({"muted": "yes"})),
        )
        .await;
    assert_eq!(r.status, 400, "{:?}", r.body);
}

#[tokio::test]
async fn buttons_reach_each_channel_and_a_press_is_the_answer() {
    let shop = Shop::open("bbtn").await;
    shop.wa
        .add_template("sale_buttons", "en_US", "APPROVED", None, 1);
    shop.wa.template_buttons(
        "sale_buttons",
        &[
            ("QUICK_REPLY", "Yes please", None),
            ("URL", "Shop", Some("https://shop.example/sale")),
        ],
    );
    shop.bot_contacts(8_800_000, 1).await;
    shop.whatsapp_contacts(7100, 1).await;
    let web = shop.web_visitor(Some("Wendy Web")).await;
    let buttons = json!([
        {"label": "Yes please", "action": "reply"},
        {"label": "Shop", "action": "link", "url": "https://shop.example/sale"}
    ]);
    let input = json!({
        "name": "Buttons", "text": "BTN sale, {{first_name|friend}}!",
        "channels": ["whatsapp", "telegram", "web"],
        "whatsapp_template": {"name": "sale_buttons", "language": "en_US", "parameters": ["{{first_name|friend}}"]},
        "buttons": buttons,
    });

    // Refused up front, each with its reason.
    let refused = |change: &dyn Fn(&mut Value), expected: &'static str| {
        let mut bad = input.clone();
        change(&mut bad);
        let shop = &shop;
        async move {
            let r = shop.create(&bad).await;
            assert_eq!(r.status, 400, "{expected}: {:?}", r.body);
            let m = r.body["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            assert!(m.contains(expected), "{m}");
        }
    };
    refused(&|b| b["buttons"] = json!([{"label": "a", "action": "reply"}, {"label": "b", "action": "reply"}, {"label": "c", "action": "reply"}, {"label": "d", "action": "reply"}]), "at most 3 buttons").await;
    refused(
        &|b| b["buttons"][0]["label"] = json!("A label over twenty chars"),
        "1-20 characters",
    )
    .await;
    refused(
        &|b| b["buttons"][1]["url"] = json!("/sale"),
        "full http(s) URL",
    )
    .await;
    refused(
        &|b| b["buttons"][0]["action"] = json!("open"),
        "reply or link",
    )
    .await;
    refused(
        &|b| b["buttons"][1]["label"] = json!("Yes please"),
        "two buttons",
    )
    .await;
    refused(
        &|b| b["buttons"][1]["url"] = json!("https://shop.example/other"),
        "fixed at approval",
    )
    .await;
    refused(
        &|b| b["whatsapp_template"]["name"] = json!("promo"),
        "has no buttons",
    )
    .await;
    assert!(shop.wa.sent().is_empty());
    assert!(!shop.tg.sent().iter().any(|s| s.text.contains("BTN")));

    let r = shop.create(&input).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let id = r.body["id"].as_str().unwrap().to_owned();
    eventually(WAIT, "sent on all three", || async {
        let b = shop.broadcast(&id).await;
        (b.total.sent == 3).then_some(())
    })
    .await;

    // Telegram: an inline keyboard, the link as a URL button, the reply as a callback button.
    let sent = shop
        .tg
        .private_messages(8_800_000)
        .into_iter()
        .find(|s| s.text.contains("BTN"))
        .expect("the broadcast on Telegram");
    assert_eq!(
        sent.reply_markup,
        Some(json!({"inline_keyboard": [
            [{"text": "Yes please", "callback_data": "r:0"}],
            [{"text": "Shop", "url": "https://shop.example/sale"}]
        ]}))
    );
    // WhatsApp: the template with its quick reply's payload (the fake checks it fits).
    assert_eq!(shop.whatsapp_broadcasts("sale_buttons"), vec![phone(7100)]);
    // The web visitor: the message carries its buttons.
    let messages = shop
        .api
        .send(
            shop.api
                .get(&format!(
                    "/api/v1/conversations/{}/messages",
                    web.conversation_id
                ))
                .bearer_auth(&web.visitor_token),
        )
        .await;
    let last = messages.body["messages"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        (last["via"].as_str(), &last["buttons"]),
        (Some("broadcast"), &buttons),
        "{last}"
    );

    // Pressing "Yes please" on Telegram and tapping it on WhatsApp: each is that person's
    // answer (the press is answered, so the app stops waiting).
    let press = shop.tg.press(&sent, 0);
    assert_eq!(
        FakeTelegram::deliver(&shop.hook("telegram"), Some(TG_SECRET), &press).await,
        200
    );
    let query = press["callback_query"]["id"].as_str().unwrap().to_owned();
    eventually(WAIT, "the press answered", || async {
        shop.tg.answered().contains(&query).then_some(())
    })
    .await;
    let (_, tap) = shop
        .wa
        .button_event(&phone(7100), "Yes please", "Yes please");
    assert_eq!(
        FakeWhatsapp::deliver(&shop.hook("whatsapp"), WA_APP_SECRET, &tap).await,
        200
    );
    let results = eventually(WAIT, "both replied", || async {
        let r = shop.results(&id).await;
        let replied = r.iter().filter(|x| x["status"] == "replied").count();
        (replied == 2).then_some(r)
    })
    .await;
    for r in results.iter().filter(|r| r["channel"] != "web") {
        let conversation =
            beckon_shared::ConversationId::parse(r["conversation_id"].as_str().unwrap()).unwrap();
        let page = shop.api.admin_messages(&conversation).await;
        assert_eq!(
            page.messages.last().map(|m| m.body.as_str()),
            Some("Yes please"),
            "{}",
            r["channel"]
        );
    }
}

impl Shop {
    /// A Telegram broadcast of `file` to the shop's bot contacts, until `n` are sent.
    async fn telegram_file_broadcast(&self, name: &str, file: &str, n: u32) {
        let input = json!({"name": name, "text": "FILE {{first_name|friend}}",
                           "channels": ["telegram"], "files": [file]});
        let r = self.create(&input).await;
        assert_eq!(r.status, 201, "{:?}", r.body);
        let id = r.body["id"].as_str().unwrap().to_owned();
        eventually(WAIT, "sent", || async {
            (self.broadcast(&id).await.total.sent == n).then_some(())
        })
        .await;
    }
}

#[tokio::test]
async fn a_file_goes_to_telegram_once_and_again_to_a_new_bot() {
    let mut shop = Shop::open("bfile").await;
    shop.bot_contacts(8_900_000, 3).await;
    let photo = beckon_tests::files::png(320, 240, 20_000);
    let file = shop.file("promo.png", photo.clone()).await;
    let photos = |tg: &FakeTelegram| -> usize {
        tg.sent()
            .iter()
            .filter(|s| {
                s.file
                    .as_ref()
                    .is_some_and(|(m, f)| m == "sendphoto" && f.bytes == photo)
            })
            .count()
    };
    shop.telegram_file_broadcast("First", &file, 3).await;
    assert_eq!(
        (photos(&shop.tg), shop.tg.uploads()),
        (3, 1),
        "uploaded once, then by id"
    );
    shop.telegram_file_broadcast("Second", &file, 3).await;
    assert_eq!(
        (photos(&shop.tg), shop.tg.uploads()),
        (6, 1),
        "a later broadcast reuses the id"
    );

    // The site moves to another bot, which knows nothing of the old id: the file is uploaded
    // to it again and its new id kept.
    shop.tg = FakeTelegram::start("777009:tg-new-bot").await;
    let r = shop.api.send(shop
        .admin(Method::PUT, "channels/telegram")
        .json(&json!({"settings": {"kind": "telegram", "chat_id": CHAT, "api_base": shop.tg.base},
                      "secrets": {"kind": "telegram", "bot_token": shop.tg.token, "webhook_secret": TG_SECRET}}))).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    shop.bot_contacts(8_900_000, 3).await;
    shop.telegram_file_broadcast("Third", &file, 3).await;
    let uploads = shop.tg.uploads();
    assert_eq!(photos(&shop.tg), 3);
    assert!((1..=3).contains(&uploads), "{uploads}");
    shop.telegram_file_broadcast("Fourth", &file, 3).await;
    assert_eq!(
        (photos(&shop.tg), shop.tg.uploads()),
        (6, uploads),
        "the new id is kept"
    );
}

/// A person's data request: everything held about a visitor exported (record, consent, every
/// message and file of both their conversations, the notes on them, the broadcast they got),
/// then deleted — after which no API returns anything of theirs, their files are gone from
/// R2 and no table holds their id or address — and both requests logged with who and how
/// much. Another visitor's data is untouched.
#[tokio::test]
async fn a_visitors_data_is_exported_whole_then_deleted_and_both_are_logged() {
    let shop = Shop::open("data-request").await;
    let ana = shop.web_visitor(Some("Ana Souza")).await;
    let second = shop
        .api
        .start_conversation(&shop.site, Some(&ana.visitor_token))
        .await;
    assert_eq!(ana.visitor_id, second.visitor_id);
    let bo = shop.web_visitor(Some("Bo Berg")).await;

    // Each of Ana's conversations: a message with text and a file; an agent's answer in the
    // first, with an internal note on it. Bo writes too.
    let mut sent_files = Vec::new();
    for (i, c) in [&ana, &second, &bo].into_iter().enumerate() {
        let up = files::Uploader::visitor(&shop.api, c);
        let bytes = files::png(200 + i as u32, 100, 5_000 + i);
        let done = up
            .upload(&format!("f{i}"), "receipt.png", &bytes, None)
            .await
            .unwrap();
        let mut ws = shop.api.visitor_socket(c).await;
        ws.send(&beckon_shared::proto::v1::ClientFrame::Send {
            client_msg_id: beckon_tests::api::client_id(&format!("dr-{i}")),
            body: format!("order {i} arrived broken"),
            attachments: vec![done.attachment.unwrap().id],
        })
        .await;
        ws.recv_until(WAIT, |f| {
            matches!(f, beckon_shared::proto::v1::ServerFrame::Message { .. })
        })
        .await;
        sent_files.push(bytes);
    }
    shop.api
        .agent_reply(&ana.conversation_id, "Sorry! A new one is on its way.")
        .await;
    let note = shop
        .api
        .send(
            shop.api
                .admin(
                    Method::POST,
                    &format!("/api/v1/admin/conversations/{}/notes", ana.conversation_id),
                )
                .json(&json!({"body": "Refund approved by Ana's manager"})),
        )
        .await;
    assert_eq!(note.status, 201, "{:?}", note.body);
    // Muted and unmuted in the widget: a consent on her web address.
    let mute = |muted: bool| {
        let shop = &shop;
        let token = ana.visitor_token.clone();
        async move {
            let r = shop
                .api
                .send(
                    shop.api
                        .put(&format!("/api/v1/sites/{}/announcements", shop.site))
                        .bearer_auth(token)
                        .json(&json!({ "muted": muted })),
                )
                .await;
            assert_eq!(r.status, 200, "{:?}", r.body);
        }
    };
    mute(true).await;
    mute(false).await;
    // A broadcast to the site's web visitors, sent in full.
    let r = shop
        .api
        .send(shop.admin(Method::POST, "broadcasts").json(&json!({
            "name": "Thanks", "text": "Thank you, {{first_name|friend}}!", "channels": ["web"]
        })))
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let broadcast = r.body["id"].as_str().unwrap().to_owned();
    eventually(WAIT, "the broadcast sent", || async {
        let b = shop.broadcast(&broadcast).await;
        (b.status == "done" && b.total.sent == 2).then_some(())
    })
    .await;
    // Then she stops them: an opt-out on her web address (which is her visitor id).
    mute(true).await;

    // The export: everything, with files that download byte for byte.
    let path = format!("contacts/{}/export", ana.visitor_id);
    let resp = shop.admin(Method::GET, &path).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["content-disposition"],
        format!(
            "attachment; filename=\"beckon-{}-{}.json\"",
            shop.site, ana.visitor_id
        )
        .as_str()
    );
    let export: beckon_shared::proto::v1::VisitorExport = resp.json().await.unwrap();
    assert_eq!(export.visitor_id, ana.visitor_id);
    assert_eq!(export.record["name"], "Ana Souza");
    assert_eq!(export.record["id"], ana.visitor_id.as_str());
    assert!(
        export
            .consents
            .iter()
            .any(|k| k["channel"] == "web" && k["status"] == "out" && k["source"] == "widget"),
        "{:?}",
        export.consents
    );
    assert_eq!(export.conversations.len(), 2);
    for c in [&ana, &second] {
        let held = shop.api.admin_messages(&c.conversation_id).await.messages;
        let exported = export
            .conversations
            .iter()
            .find(|e| e.summary.id == c.conversation_id)
            .expect("each of her conversations");
        let ids = |m: &[beckon_shared::proto::v1::Message]| {
            m.iter().map(|m| m.id.clone()).collect::<Vec<_>>()
        };
        assert_eq!(ids(&exported.messages), ids(&held), "every message");
        assert!(!held.is_empty());
    }
    let bodies: Vec<&str> = export
        .conversations
        .iter()
        .flat_map(|c| c.messages.iter().map(|m| m.body.as_str()))
        .collect();
    for expected in [
        "order 0 arrived broken",
        "order 1 arrived broken",
        "Sorry! A new one is on its way.",
        "Thank you, Ana!",
    ] {
        assert!(bodies.contains(&expected), "{expected} in {bodies:?}");
    }
    let first = export
        .conversations
        .iter()
        .find(|e| e.summary.id == ana.conversation_id)
        .unwrap();
    assert_eq!(first.notes.len(), 1);
    assert_eq!(first.notes[0].body, "Refund approved by Ana's manager");
    let urls: Vec<String> = export
        .conversations
        .iter()
        .flat_map(|c| &c.messages)
        .flat_map(|m| &m.attachments)
        .map(|a| a.url.clone())
        .collect();
    assert_eq!(urls.len(), 2, "both of her files");
    let mut downloaded = Vec::new();
    for url in &urls {
        assert!(url.starts_with(&shop.api.base), "absolute: {url}");
        let resp = shop.api.http.get(url).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        downloaded.push(resp.bytes().await.unwrap().to_vec());
    }
    downloaded.sort();
    let mut hers = sent_files[..2].to_vec();
    hers.sort();
    assert_eq!(downloaded, hers, "her files, byte for byte");
    assert_eq!(export.broadcasts.len(), 1, "{:?}", export.broadcasts);
    assert_eq!(export.broadcasts[0]["body"], "Thank you, Ana!");
    assert_eq!(export.broadcasts[0]["name"], "Thanks");

    // The deletion.
    let r = shop
        .api
        .send(shop.admin(Method::DELETE, &format!("contacts/{}", ana.visitor_id)))
        .await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    for url in &urls {
        let gone = shop.api.http.get(url).send().await.unwrap();
        assert_eq!(gone.status(), 404, "file gone");
    }
    for c in [&ana, &second] {
        let id = &c.conversation_id;
        for rest in ["", "/messages", "/notes"] {
            let r = shop
                .api
                .send(shop.api.admin(
                    Method::GET,
                    &format!("/api/v1/admin/conversations/{id}{rest}"),
                ))
                .await;
            assert_eq!(r.status, 404, "{rest}: {:?}", r.body);
        }
    }
    let r = shop.api.send(shop.admin(Method::GET, &path)).await;
    assert_eq!(r.status, 404, "export after delete: {:?}", r.body);
    let listed = shop
        .api
        .send(shop.admin(Method::GET, "contacts?q=Souza"))
        .await;
    assert_eq!(listed.body["contacts"], json!([]));
    let all = shop
        .api
        .send(shop.api.admin(
            Method::GET,
            &format!("/api/v1/admin/conversations?site={}&status=all", shop.site),
        ))
        .await;
    assert_eq!(all.status, 200, "{:?}", all.body);
    let listed = all.body.to_string();
    assert!(!listed.contains(ana.visitor_id.as_str()) && listed.contains(bo.visitor_id.as_str()));
    let recipients = shop
        .api
        .send(shop.admin(Method::GET, &format!("broadcasts/{broadcast}/recipients")))
        .await;
    assert_eq!(recipients.status, 200);
    let text = recipients.body.to_string();
    assert!(
        !text.contains("Ana") && !text.contains(ana.visitor_id.as_str()),
        "{text}"
    );
    assert_eq!(
        shop.broadcast(&broadcast).await.total.sent,
        2,
        "totals kept"
    );
    let bo_export = shop
        .api
        .send(shop.admin(Method::GET, &format!("contacts/{}/export", bo.visitor_id)))
        .await;
    assert_eq!(bo_export.status, 200);
    let bo_messages = bo_export.body["conversations"][0]["messages"]
        .as_array()
        .unwrap();
    assert!(
        bo_messages.iter().any(
            |m| m["body"] == "order 2 arrived broken" && m["attachments"][0]["url"].is_string()
        ),
        "{bo_messages:?}"
    );

    // The log: newest first, who, and how much each covered.
    let id = ana.visitor_id.as_str();
    let log = shop
        .api
        .send(shop.admin(Method::GET, "data-requests"))
        .await;
    assert_eq!(log.status, 200, "{:?}", log.body);
    let requests = log.body["requests"].as_array().unwrap();
    let summary: Vec<(String, String, u64, u64, u64, String)> = requests
        .iter()
        .map(|r| {
            (
                r["kind"].as_str().unwrap().to_owned(),
                r["visitor_id"].as_str().unwrap().to_owned(),
                r["conversations"].as_u64().unwrap(),
                r["messages"].as_u64().unwrap(),
                r["files"].as_u64().unwrap(),
                r["by"]["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let messages = bodies.len() as u64;
    let bo_id = bo.visitor_id.to_string();
    assert_eq!(
        summary,
        vec![
            (
                "export".into(),
                bo_id,
                1,
                bo_messages.len() as u64,
                1,
                "Admin key".into()
            ),
            (
                "delete".into(),
                id.to_owned(),
                2,
                messages,
                2,
                "Admin key".into()
            ),
            (
                "export".into(),
                id.to_owned(),
                2,
                messages,
                2,
                "Admin key".into()
            ),
        ]
    );
    // No table holds her id (her address on the web) any more. Last: each check spawns
    // `wrangler d1 execute` (seconds), and the client's idle connections may be closed meanwhile.
    for (table, column) in [
        ("visitors", "id"),
        ("conversations", "visitor_id"),
        ("contact_threads", "visitor_id"),
        ("consents", "address"),
        ("broadcast_recipients", "contact_id"),
        ("broadcast_recipients", "address"),
    ] {
        let rows = edge::shared().d1(&format!(
            "SELECT count(*) AS n FROM {table} WHERE {column} = '{id}'"
        ));
        assert_eq!(rows[0]["n"], 0, "{table}.{column}");
    }
    for c in [&ana, &second] {
        for table in [
            "conversation_notes",
            "webhook_deliveries",
            "channel_threads",
            "message_texts",
        ] {
            let rows = edge::shared().d1(&format!(
                "SELECT count(*) AS n FROM {table} WHERE conversation_id = '{}'",
                c.conversation_id
            ));
            assert_eq!(rows[0]["n"], 0, "{table}");
        }
    }
}

/// A contact deleted at their request who then starts the bot again is a new contact: the
/// next broadcast reaches them and is counted, nothing of the deleted conversation (the
/// derived id is the same, its messages count from 1 again) taken for the new one's. A
/// conversation deleted while a broadcast's send to it waits cancels that send, with the
/// reason.
#[tokio::test]
async fn a_deleted_contact_who_comes_back_gets_the_next_broadcast() {
    let shop = Shop::open("bcomeback").await;
    let user = 8_300_000;
    shop.bot_contacts(user, 1).await;
    let send = |marker: &'static str| {
        let shop = &shop;
        async move {
            let r = shop
                .create(&json!({"name": marker, "text": format!("{marker}: hello"), "channels": ["telegram"]}))
                .await;
            assert_eq!(r.status, 201, "{:?}", r.body);
            let id = r.body["id"].as_str().unwrap().to_owned();
            let results = eventually(WAIT, marker, || async {
                let results = shop.results(&id).await;
                results
                    .iter()
                    .all(|r| r["status"] != "queued")
                    .then_some(results)
            })
            .await;
            (shop.broadcast(&id).await, results)
        }
    };
    let (first, _) = send("FIRST-PROMO").await;
    assert_eq!(first.total.sent, 1);
    let contacts = shop.api.send(shop.admin(Method::GET, "contacts")).await;
    let id = contacts.body["contacts"][0]["visitor_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = shop
        .api
        .send(shop.admin(Method::DELETE, &format!("contacts/{id}")))
        .await;
    assert_eq!(r.status, 204, "{:?}", r.body);

    shop.telegram_says(user, "Tg again", "/start").await;
    let (second, results) = send("SECOND-PROMO").await;
    assert_eq!(results.len(), 1, "{results:?}");
    assert_eq!(results[0]["status"], "sent", "{results:?}");
    assert_eq!(second.total.sent, 1, "{second:?}");
    assert_eq!(shop.telegram_broadcasts("SECOND-PROMO"), vec![user]);
    assert_eq!(shop.telegram_broadcasts("FIRST-PROMO"), vec![user]);
    println!(
        "after the deletion, the same Telegram user got the next broadcast once: {:?}",
        results[0]
    );

    // A broadcast whose send waits (Telegram asks for a minute's pause) when the person's
    // conversation is deleted: cancelled, with the reason, and never sent.
    shop.tg.inject(Fault::RateLimited {
        retry_after_secs: 60,
    });
    let r = shop
        .create(&json!({"name": "third", "text": "THIRD-PROMO: hello", "channels": ["telegram"]}))
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let third = r.body["id"].as_str().unwrap().to_owned();
    eventually(WAIT, "the third's send told to wait", || async {
        let calls = shop.tg.faults.lock().unwrap().calls.clone();
        calls
            .iter()
            .any(|c| c.1.contains("RateLimited"))
            .then_some(())
    })
    .await;
    let conversation = results[0]["conversation_id"].as_str().unwrap();
    let r = shop
        .api
        .send(shop.api.admin(
            Method::DELETE,
            &format!("/api/v1/admin/conversations/{conversation}"),
        ))
        .await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    let results = shop.results(&third).await;
    assert_eq!(results.len(), 1, "{results:?}");
    assert_eq!(
        (&results[0]["status"], &results[0]["reason"]),
        (&json!("cancelled"), &json!("the conversation was deleted")),
        "{results:?}"
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(shop.telegram_broadcasts("THIRD-PROMO").is_empty());
    println!(
        "its conversation deleted while the send waited: {:?}",
        results[0]
    );
}

/// Migration 0035 on SQLite (what D1 runs), after every migration before it: a WhatsApp
/// opt-out recorded under one form of a Brazilian or Mexican mobile now holds for its other
/// form too, unless the person said START on that form later; other numbers and channels are
/// untouched.
#[test]
fn older_whatsapp_opt_outs_hold_for_the_other_form_of_the_number() {
    let root = beckon_tests::repo_root();
    let script = r#"
        const { DatabaseSync } = require('node:sqlite');
        const fs = require('fs');
        const dir = process.argv[1];
        const files = fs.readdirSync(dir).filter((f) => /^\d{4}_.*\.sql$/.test(f)).sort();
        const at = files.findIndex((f) => f.startsWith('0035_'));
        const db = new DatabaseSync(':memory:');
        for (const f of files.slice(0, at)) db.exec(fs.readFileSync(`${dir}/${f}`, 'utf8'));
        const put = db.prepare('INSERT INTO consents (site_key, channel, address, status, source, updated_at) VALUES (?, ?, ?, ?, ?, ?)');
        for (const row of JSON.parse(process.argv[2])) put.run(...row);
        db.exec(fs.readFileSync(`${dir}/${files[at]}`, 'utf8'));
        const all = db.prepare('SELECT channel, address, status, updated_at FROM consents ORDER BY channel, address').all();
        console.log(JSON.stringify(all.map((r) => [r.channel, r.address, r.status, r.updated_at])));
    "#;
    let before = json!([
        // Brazil, STOP without the ninth digit, and with it.
        ["s", "whatsapp", "551187654321", "out", "keyword", 10],
        ["s", "whatsapp", "5511976543210", "out", "keyword", 10],
        // Mexico, with the 1 and without it.
        ["s", "whatsapp", "5215512345678", "out", "keyword", 10],
        ["s", "whatsapp", "525587654321", "out", "keyword", 10],
        // An older opt-in of the other form gives way; a later START of it stays.
        ["s", "whatsapp", "5511966667777", "out", "keyword", 30],
        ["s", "whatsapp", "551166667777", "in", "import", 5],
        ["s", "whatsapp", "5511977778888", "out", "keyword", 10],
        ["s", "whatsapp", "551177778888", "in", "keyword", 20],
        // A later import's opt-in does not undo a STOP.
        ["s", "whatsapp", "5511988887777", "out", "keyword", 10],
        ["s", "whatsapp", "551188887777", "in", "import", 20],
        // One form only: a landline, another country; and another channel.
        ["s", "whatsapp", "551133334444", "out", "keyword", 10],
        ["s", "whatsapp", "4915100000001", "out", "keyword", 10],
        ["s", "telegram", "551187654321", "out", "keyword", 10],
    ]);
    let out = std::process::Command::new(root.join("node_modules/.bin/node"))
        .args(["--no-warnings", "-e", script])
        .arg(root.join("migrations"))
        .arg(before.to_string())
        .output()
        .expect("node");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after: Value = serde_json::from_slice(&out.stdout).expect("JSON rows");
    assert_eq!(
        after,
        json!([
            ["telegram", "551187654321", "out", 10],
            ["whatsapp", "4915100000001", "out", 10],
            ["whatsapp", "5215512345678", "out", 10],
            ["whatsapp", "5215587654321", "out", 10],
            ["whatsapp", "525512345678", "out", 10],
            ["whatsapp", "525587654321", "out", 10],
            ["whatsapp", "551133334444", "out", 10],
            ["whatsapp", "551166667777", "out", 30],
            ["whatsapp", "551176543210", "out", 10],
            ["whatsapp", "551177778888", "in", 20],
            ["whatsapp", "551187654321", "out", 10],
            ["whatsapp", "551188887777", "out", 10],
            ["whatsapp", "5511966667777", "out", 30],
            ["whatsapp", "5511976543210", "out", 10],
            ["whatsapp", "5511977778888", "out", 10],
            ["whatsapp", "5511987654321", "out", 10],
            ["whatsapp", "5511988887777", "out", 10],
        ])
    );
}
