//! Broadcasts against the real edge (`wrangler dev`: D1, Durable Objects, R2 and the
//! BROADCASTS queue) and the loopback Telegram and WhatsApp fakes: contacts from the widget,
//! the Telegram bot and a CSV import; consent and STOP; one broadcast with a photo to all of
//! them on each one's preferred channel, exactly once; the admin API's counts against what
//! the fakes recorded.

use beckon_shared::proto::v1::{Broadcast, Role, StartedConversation};
use beckon_tests::api::Api;
use beckon_tests::edge;
use beckon_tests::fakes::telegram::FakeTelegram;
use beckon_tests::fakes::whatsapp::FakeWhatsapp;
use beckon_tests::{eventually, files, unique};
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
        let api = Api::new(&edge::shared().url);
        let site = unique(prefix);
        api.create_site(&site).await;
        let tg = FakeTelegram::start("777002:tg-broadcast").await;
        let wa =
            FakeWhatsapp::start("EAAG-broadcast", "106540352242922", &["new_website_chat"]).await;
        wa.add_template("spring_sale", "en_US", "APPROVED", Some("IMAGE"), 1);
        wa.add_template("draft_promo", "en_US", "PENDING", None, 0);
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
            let r = self
                .api
                .send(
                    self.api
                        .post(&format!("/api/v1/sites/{}/identify", self.site))
                        .bearer_auth(&c.visitor_token)
                        .json(&json!({ "name": name })),
                )
                .await;
            assert_eq!(r.status, 204, "{:?}", r.body);
        }
        c
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
    let expected =
        json!({"web": 350, "telegram": 250, "whatsapp": 320, "unreachable": 40, "opted_out": 40});
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
