//! Component tests of the chat panel, rendered by yew in a real (headless) Chromium:
//! accessible names, escaping of message text, delivery states and the greeting.

use beckon_client::session::{Snapshot, Status};
use beckon_shared::proto::v1::{
    ErrorCode, Identify, LauncherPosition, Message, ReadCursors, Role, ServerFrame, SiteConfig,
};
use beckon_shared::transcript::Transcript;
use beckon_shared::{ClientMsgId, ConversationId, MessageId, Seq, SiteKey};
use beckon_widget::components::{ChatView, ChatViewProps};
use std::rc::Rc;
use std::time::Duration;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use yew::{AttrValue, Callback};

wasm_bindgen_test_configure!(run_in_browser);

fn config() -> Rc<SiteConfig> {
    Rc::new(SiteConfig {
        site: SiteKey::parse("demo").unwrap(),
        name: "Northwind <Coffee>".into(),
        greeting: "Hi there!".into(),
        accent: "#0f766e".into(),
        accent_text: "#ffffff".into(),
        position: LauncherPosition::Right,
        remember_visitors: false,
        wakeup: Default::default(),
        theme: Default::default(),
        icon: String::new(),
        x: 20,
        y: 20,
        font: String::new(),
    })
}

fn message(seq: u64, role: Role, body: &str) -> Message {
    Message {
        id: MessageId::from_random([seq as u8; 16]),
        seq: Seq(seq),
        role,
        body: body.into(),
        created_at: 1_767_225_600_000,
        attachments: vec![],
        client_msg_id: None,
        author: (role == Role::Agent).then(|| "Ana".into()),
        avatar: None,
        via: None,
        buttons: vec![],
    }
}

fn props(snapshot: Snapshot) -> ChatViewProps {
    ChatViewProps {
        config: config(),
        snapshot: Rc::new(snapshot),
        greeting: Some("Hi there!".into()),
        on_send: Callback::from(|_| true),
        on_close: Callback::noop(),
        on_typing: Callback::noop(),
        on_discard: Callback::noop(),
        on_files: Callback::noop(),
        on_cancel_upload: Callback::noop(),
        muted: None,
        on_mute: Callback::noop(),
        on_reply: Callback::noop(),
        away: None,
        on_away_email: Callback::noop(),
        unavailable: None,
        prechat: None,
        on_prechat: Callback::noop(),
        notify: false,
        on_notify: Callback::noop(),
    }
}

async fn render_with(props: ChatViewProps) -> web_sys::Element {
    let document = web_sys::window().unwrap().document().unwrap();
    let root = document.create_element("div").unwrap();
    document.body().unwrap().append_child(&root).unwrap();
    yew::Renderer::<ChatView>::with_root_and_props(root.clone(), props).render();
    yew::platform::time::sleep(Duration::from_millis(20)).await;
    root
}

async fn render(snapshot: Snapshot) -> web_sys::Element {
    render_with(props(snapshot)).await
}

/// Submits the form at `selector` as a person would: the browser checks it first, and a form
/// that fails the checks is not submitted.
fn submit(root: &web_sys::Element, selector: &str) {
    root.query_selector(selector)
        .unwrap()
        .unwrap()
        .dyn_into::<web_sys::HtmlFormElement>()
        .unwrap()
        .request_submit()
        .unwrap()
}

fn texts(root: &web_sys::Element, selector: &str) -> Vec<String> {
    let list = root.query_selector_all(selector).unwrap();
    (0..list.length())
        .map(|i| list.item(i).unwrap().text_content().unwrap_or_default())
        .collect()
}

#[wasm_bindgen_test]
async fn has_the_accessible_names_the_brief_promises() {
    let root = render(Snapshot::default()).await;
    let log = root.query_selector("[role=log]").unwrap().expect("a log");
    assert_eq!(log.get_attribute("aria-live").as_deref(), Some("polite"));
    assert!(root
        .query_selector("textarea[aria-label='Message']")
        .unwrap()
        .is_some());
    assert!(root
        .query_selector("button[aria-label='Send']")
        .unwrap()
        .is_some());
    assert!(root
        .query_selector("button[aria-label='Close chat']")
        .unwrap()
        .is_some());
    assert_eq!(texts(&root, ".greeting .body"), ["Hi there!"]);
}

#[wasm_bindgen_test]
async fn message_text_is_rendered_as_text_never_as_markup() {
    let mut t = Transcript::new(Role::Visitor);
    t.insert(message(
        1,
        Role::Agent,
        "<img src=x onerror=alert(1)><b>bold</b>",
    ));
    let root = render(Snapshot {
        transcript: t,
        status: Status::Online,
        open: true,
        notice: None,
        uploads: Vec::new(),
        live_after: None,
    })
    .await;
    assert!(root.query_selector("[role=log] img").unwrap().is_none());
    assert!(root.query_selector("[role=log] b").unwrap().is_none());
    assert_eq!(
        texts(&root, "li.theirs:not(.greeting) .body"),
        ["<img src=x onerror=alert(1)><b>bold</b>"]
    );
    assert_eq!(texts(&root, ".name"), ["Northwind <Coffee>"]);
    assert_eq!(texts(&root, "li.theirs:not(.greeting) .author"), ["Ana"]);
}

#[wasm_bindgen_test]
async fn an_agents_photo_is_drawn_over_her_initial_and_read_as_her_name() {
    let mut t = Transcript::new(Role::Visitor);
    let mut with_photo = message(1, Role::Agent, "Yes, two left.");
    with_photo.avatar = Some(format!("/api/v1/avatars/{}", "ab".repeat(32)));
    t.insert(with_photo);
    t.insert(message(2, Role::Agent, "Shall I keep one?"));
    let root = render(Snapshot {
        transcript: t,
        status: Status::Online,
        open: true,
        notice: None,
        uploads: Vec::new(),
        live_after: None,
    })
    .await;
    let authors = root.query_selector_all("li.theirs .author").unwrap();
    let first: web_sys::Element = authors.get(0).unwrap().dyn_into().unwrap();
    let img = first.query_selector("img.avatar").unwrap().unwrap();
    assert_eq!(
        img.get_attribute("src").as_deref(),
        Some(format!("/api/v1/avatars/{}", "ab".repeat(32)).as_str())
    );
    assert_eq!(img.get_attribute("alt").as_deref(), Some(""), "decorative");
    assert_eq!(first.get_attribute("data-initial").as_deref(), Some("A"));
    assert_eq!(first.text_content().as_deref(), Some("Ana"));
    let second: web_sys::Element = authors.get(1).unwrap().dyn_into().unwrap();
    assert!(
        second.query_selector("img").unwrap().is_none(),
        "no photo: the initial"
    );
}

#[wasm_bindgen_test]
async fn shows_sending_delivered_seen_and_failed() {
    let mut t = Transcript::new(Role::Visitor);
    let mut delivered = message(1, Role::Visitor, "first");
    delivered.client_msg_id = Some(ClientMsgId::parse("a").unwrap());
    t.insert(delivered);
    t.insert(message(2, Role::Visitor, "second"));
    t.apply(ServerFrame::Welcome {
        conversation_id: ConversationId::from_random([1; 16]),
        origin: Default::default(),
        last_seq: Seq(2),
        read: ReadCursors {
            visitor: Seq(2),
            agent: Seq(1),
        },
        away_email: None,
    });
    t.queue(ClientMsgId::parse("p1").unwrap(), "in flight".into(), 0);
    t.queue(ClientMsgId::parse("p2").unwrap(), "refused".into(), 0);
    t.apply(ServerFrame::error(
        ErrorCode::MessageTooLong,
        Some(ClientMsgId::parse("p2").unwrap()),
    ));
    let root = render(Snapshot {
        transcript: t,
        status: Status::Offline,
        open: true,
        notice: Some("The message is too long.".into()),
        uploads: Vec::new(),
        live_after: None,
    })
    .await;
    assert_eq!(
        texts(&root, "li.mine .delivery"),
        ["Seen", "Delivered", "Sending…", "Not sent"]
    );
    assert_eq!(texts(&root, "li.failed .discard"), ["Remove"]);
    assert_eq!(texts(&root, "[role=alert]"), ["The message is too long."]);
    assert_eq!(texts(&root, "[role=status]"), ["Offline — reconnecting…"]);
}

#[wasm_bindgen_test]
async fn a_broadcasts_buttons_and_the_mute_control() {
    use beckon_shared::rules::{CtaAction, CtaButton};
    let mut t = Transcript::new(Role::Visitor);
    let mut sale = message(1, Role::Agent, "Sale today");
    sale.via = Some("broadcast".into());
    sale.buttons = vec![
        CtaButton {
            label: "Yes please".into(),
            action: CtaAction::Reply,
        },
        CtaButton {
            label: "Shop".into(),
            action: CtaAction::Link {
                url: "https://shop.example/sale".into(),
            },
        },
        CtaButton {
            label: "Evil".into(),
            action: CtaAction::Link {
                url: "javascript:alert(1)".into(),
            },
        },
    ];
    t.insert(sale);
    let replies = Rc::new(std::cell::RefCell::new(Vec::<String>::new()));
    let mutes = Rc::new(std::cell::RefCell::new(Vec::<bool>::new()));
    let root = render_with(ChatViewProps {
        greeting: None,
        muted: Some(false),
        on_mute: {
            let m = mutes.clone();
            Callback::from(move |v| m.borrow_mut().push(v))
        },
        on_reply: {
            let r = replies.clone();
            Callback::from(move |l| r.borrow_mut().push(l))
        },
        ..props(Snapshot {
            transcript: t,
            status: Status::Online,
            open: true,
            notice: None,
            uploads: vec![],
            live_after: None,
        })
    })
    .await;
    // A reply button and a link (a link that is not http(s) is not rendered).
    assert_eq!(texts(&root, ".buttons .cta"), ["Yes please", "Shop"]);
    let link = root.query_selector("a.cta").unwrap().unwrap();
    assert_eq!(
        (link.get_attribute("href"), link.get_attribute("rel")),
        (
            Some("https://shop.example/sale".into()),
            Some("noopener noreferrer".into())
        )
    );
    let click = |css: &str| {
        root.query_selector(css)
            .unwrap()
            .unwrap()
            .dyn_into::<web_sys::HtmlElement>()
            .unwrap()
            .click()
    };
    click("button.cta");
    click(".announce button");
    assert_eq!(*replies.borrow(), ["Yes please"]);
    assert_eq!(*mutes.borrow(), [true], "Mute asks for muted");
    assert_eq!(texts(&root, ".announce button"), ["Mute announcements"]);
}

/// While nobody is online: the form asks for an address (labelled, `type=email`); a shape
/// the edge would refuse (no dot in the domain) is held back by the browser; a good one goes
/// out as typed; once left, the panel says where the answer goes and "Change" asks again.
#[wasm_bindgen_test]
async fn the_away_form_takes_an_address_and_change_asks_again() {
    let left = Rc::new(std::cell::RefCell::new(Vec::<String>::new()));
    let on_away_email = {
        let left = left.clone();
        Callback::from(move |e: String| left.borrow_mut().push(e))
    };
    let root = render_with(ChatViewProps {
        away: Some("".into()),
        on_away_email: on_away_email.clone(),
        ..props(Snapshot::default())
    })
    .await;
    let input = root
        .query_selector("form.away input#away-email[type=email]")
        .unwrap()
        .unwrap()
        .dyn_into::<web_sys::HtmlInputElement>()
        .unwrap();
    assert_eq!(texts(&root, "form.away label[for=away-email]").len(), 1);
    let submit = |root: &web_sys::Element| submit(root, "form.away");
    input.set_value("ana@localhost");
    submit(&root);
    assert!(left.borrow().is_empty(), "a@b without a dot is not sent");
    input.set_value("Ana@Example.com");
    submit(&root);
    assert_eq!(
        *left.borrow(),
        ["Ana@Example.com"],
        "the edge makes it lowercase"
    );

    let root = render_with(ChatViewProps {
        away: Some("ana@example.com".into()),
        on_away_email,
        ..props(Snapshot::default())
    })
    .await;
    let shown = texts(&root, "p.announce");
    assert!(
        shown[0].contains("we'll answer at ana@example.com"),
        "{shown:?}"
    );
    root.query_selector("p.announce button.link")
        .unwrap()
        .unwrap()
        .dyn_into::<web_sys::HtmlElement>()
        .unwrap()
        .click();
    assert_eq!(
        *left.borrow(),
        ["Ana@Example.com", ""],
        "Change forgets the address"
    );
}

/// While nobody can answer soon the status line says so (and when the site opens) instead of
/// the usual reply time; a lost connection is still said first.
#[wasm_bindgen_test]
async fn the_status_line_says_when_an_answer_can_be_expected() {
    let online = Snapshot {
        status: Status::Online,
        ..Snapshot::default()
    };
    let root = render(online.clone()).await;
    assert_eq!(
        texts(&root, "[role=status]"),
        ["We typically reply in a few minutes"]
    );
    let back = || Some(AttrValue::from("Away · back Mon 9:00 AM"));
    let root = render_with(ChatViewProps {
        unavailable: back(),
        ..props(online)
    })
    .await;
    assert_eq!(texts(&root, "[role=status]"), ["Away · back Mon 9:00 AM"]);
    let root = render_with(ChatViewProps {
        unavailable: back(),
        ..props(Snapshot {
            status: Status::Offline,
            ..Snapshot::default()
        })
    })
    .await;
    assert_eq!(texts(&root, "[role=status]"), ["Offline — reconnecting…"]);
}

/// The pre-chat form stands in for the composer: labelled controls (optional ones say so), the
/// browser holds back a malformed address or a missing required answer, and the answers come
/// out as an identity with the site's fields as attributes.
#[wasm_bindgen_test]
async fn the_prechat_form_asks_before_the_first_message() {
    // As the edge renders it (`edge/src/pages.rs`, whose unit test pins the same markup).
    let form = concat!(
        "<p>Before we start, tell us a little about you.</p>",
        r#"<label><span>Name</span><input name="name" type="text" autocomplete="name" maxlength="80" required></label>"#,
        r#"<label><span>Email <small>(optional)</small></span><input name="email" type="email" autocomplete="email" maxlength="254" pattern=".+@.+[.].+"></label>"#,
        r#"<label><span>Order number <small>(optional)</small></span><input name="f-order" maxlength="200"></label>"#,
        r#"<label><span>Topic</span><select name="f-topic" required><option value="">—</option><option value="shipping">Shipping</option><option value="returns">Returns</option></select></label>"#,
        r#"<label class="check"><input type="checkbox" name="f-terms" required>I accept the terms</label>"#,
        r#"<button type="submit" class="cta">Start chat</button>"#
    );
    let given = Rc::new(std::cell::RefCell::new(Vec::<serde_json::Value>::new()));
    let on_prechat = {
        let given = given.clone();
        Callback::from(move |who| given.borrow_mut().push(serde_json::Value::Object(who)))
    };
    let root = render_with(ChatViewProps {
        prechat: Some(form.into()),
        on_prechat,
        ..props(Snapshot::default())
    })
    .await;
    assert!(
        root.query_selector("textarea").unwrap().is_none(),
        "no composer yet"
    );
    assert_eq!(
        texts(&root, "form.prechat label"),
        [
            "Name",
            "Email (optional)",
            "Order number (optional)",
            "Topic—ShippingReturns",
            "I accept the terms"
        ]
    );
    let control = |name: &str| {
        root.query_selector(&format!("form.prechat [name='{name}']"))
            .unwrap()
            .unwrap_or_else(|| panic!("{name}"))
    };
    let set = |name: &str, value: &str| {
        js_sys::Reflect::set(&control(name), &"value".into(), &value.into()).unwrap();
    };
    let submit = || submit(&root, "form.prechat");
    set("name", "Ana");
    set("email", "ana@localhost");
    set("f-topic", "returns");
    js_sys::Reflect::set(&control("f-terms"), &"checked".into(), &true.into()).unwrap();
    submit();
    assert!(given.borrow().is_empty(), "ana@localhost is not an address");
    set("email", "ana@example.com");
    js_sys::Reflect::set(&control("f-terms"), &"checked".into(), &false.into()).unwrap();
    submit();
    assert!(given.borrow().is_empty(), "the terms must be accepted");
    js_sys::Reflect::set(&control("f-terms"), &"checked".into(), &true.into()).unwrap();
    set("f-order", "  A-1009 ");
    submit();
    let given = given.borrow();
    assert_eq!(given.len(), 1);
    // As `identify` takes it (the edge reads it as `Identify`).
    let who: Identify = serde_json::from_value(given[0].clone()).unwrap();
    assert_eq!(who.name.as_deref(), Some("Ana"));
    assert_eq!(who.email.as_deref(), Some("ana@example.com"));
    let attributes: Vec<(&str, &str)> = who
        .attributes
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        attributes,
        [("order", "A-1009"), ("terms", "yes"), ("topic", "returns")]
    );
}
