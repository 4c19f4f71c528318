//! The root component: holds the [`State`], wires the visitor's [`Session`], the proactive
//! rules ([`Rules`]), the presence socket and the host bridge to it, and renders the chat
//! panel or a teaser.
//!
//! Teasers come from two places: a proactive rule whose condition now holds (shown at most
//! once at a time, within its caps, with impression/open/dismiss counted per rule), and an
//! agent's message arriving while the panel is closed (a preview; agents can also start a
//! conversation with a visitor who is on the site).

use crate::bridge::{Bridge, FromHost, ToHost};
use crate::components::ChatView;
use crate::hooks::{use_host_bridge, use_presence, use_teaser_sizing};
use crate::proactive::Rules;
use crate::state::{Action, Mode, State, View};
use beckon_client::api::{self, CallError, Traits};
use beckon_client::components::Teaser;
use beckon_client::i18n;
use beckon_client::session::{Auth, Session, SessionEvent, Snapshot};
use beckon_shared::i18n::Text;
use beckon_shared::proto::v1::{
    ConversationOrigin, GoalEvent, HubFrame, IdentifyResult, Role, TeaserEvent, TeaserEventKind,
    WidgetBoot,
};
use beckon_shared::rules::hours::{closed_until, next_change};
use beckon_shared::rules::{resolve_on_host, CtaAction, Rule};
use beckon_shared::SiteKey;
use std::cell::RefCell;
use std::rc::Rc;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct AppProps {
    pub boot: Rc<WidgetBoot>,
    /// The boot's `rules`, unread: [`Rules`] takes them and reads them once the app's second
    /// part is in.
    pub rules: Rc<RefCell<serde_json::Value>>,
}

pub(crate) fn root_element() -> Option<web_sys::HtmlElement> {
    let el = web_sys::window()?.document()?.document_element()?;
    wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(el).ok()
}

/// Counts a teaser event (aggregate counters; failures only cost a count).
fn count(site: &SiteKey, rule: &Rule, kind: TeaserEventKind) {
    let (site, event) = (
        site.clone(),
        TeaserEvent {
            rule_id: rule.id.clone(),
            kind,
        },
    );
    wasm_bindgen_futures::spawn_local(async move {
        let _ = api::teaser_event(&site, &event).await;
    });
}

/// Who the visitor is, until the edge has it: what the page said (`Beckon.identify`) and the
/// pre-chat form's answers.
#[derive(Default)]
struct Pending {
    page: Option<Traits>,
    form: Option<Traits>,
    /// How many times the page said who the visitor is: a call puts its page's words back
    /// only if the page said nothing newer meanwhile.
    said: u32,
}

impl Pending {
    /// Puts back what a call (made when the page had said `said` things) did not deliver.
    fn keep(&mut self, said: u32, page: Option<Traits>, form: Option<Traits>) {
        if self.said == said {
            self.page = self.page.take().or(page);
        }
        self.form = self.form.take().or(form);
    }
}

type PendingRef = Rc<RefCell<Pending>>;

/// Sends who the visitor is: a proven identity at once (it may bring back the person's
/// conversations from another browser), a claim once the visitor has a token. The page's
/// fields go first, the form adds what the page did not say. Nothing is lost: a call that does
/// not get through is made again with the visitor's next message; one the edge refuses (the
/// page's fields are wrong) is made again with the form's answers alone.
fn send_identity(site: &SiteKey, session: &Session, pending: &PendingRef) {
    let token = session.token();
    let proven = pending.borrow().page.as_ref().is_some_and(api::proven);
    if token.is_none() && !proven {
        return;
    }
    let (page, form, said) = {
        let mut p = pending.borrow_mut();
        (p.page.take(), p.form.take(), p.said)
    };
    let mut who = form.clone().unwrap_or_default();
    who.extend(page.clone().unwrap_or_default());
    if who.is_empty() {
        return;
    }
    let (site, session, pending) = (site.clone(), session.clone(), pending.clone());
    wasm_bindgen_futures::spawn_local(async move {
        match api::identify(&site, token.as_deref(), &who).await {
            // Known from another browser: become them, with their latest conversation.
            Ok(IdentifyResult {
                visitor_token: Some(theirs),
                conversation_id,
                ..
            }) => session.become_identity(theirs, conversation_id),
            // Not known yet: sent again with the token the first conversation brings (at once
            // if it came while this call was out).
            Ok(_) if token.is_none() => {
                pending.borrow_mut().keep(said, page, form);
                if session.token().is_some() {
                    send_identity(&site, &session, &pending);
                }
            }
            Ok(_) => {}
            // Refused: the page's fields are wrong (the answer says why, in the frame's
            // network log); the form's answers go alone.
            Err(CallError::Refused {
                status: 400..=428 | 430..=499,
                ..
            }) => {
                if page.is_some() && form.is_some() {
                    pending.borrow_mut().keep(said, None, form);
                    send_identity(&site, &session, &pending);
                }
            }
            // Not through (offline, the edge busy): sent again with the next message.
            Err(_) => pending.borrow_mut().keep(said, page, form),
        }
    });
}

/// The document's language and direction, and the launcher's words in it (the site's label
/// too): once, at start. The app never changes language: `Beckon.setLocale` after it loaded
/// replaces it with one the edge serves in the new language, the site's own words included.
fn speak(bridge: &Bridge, boot: &WidgetBoot) {
    let tx = i18n::current();
    if let Some(root) = root_element() {
        let _ = root.set_attribute("lang", tx.locale.code());
        let _ = root.set_attribute("dir", tx.locale.dir());
    }
    bridge.post(&ToHost::Labels {
        o: tx.t(Text::OpenChat).to_owned(),
        c: tx.t(Text::CloseChat).to_owned(),
        f: tx.f(Text::ChatTitle, &[("name", &boot.config.name)]),
        d: tx.locale.dir(),
        l: boot.launcher_label.clone(),
    });
}

#[function_component]
pub fn App(props: &AppProps) -> Html {
    let boot = &props.boot;
    let site = boot.config.site.clone();
    let state = use_reducer(State::default);
    let snapshot = use_state(|| Rc::new(Snapshot::default()));
    let bridge = (*use_memo(boot.host_origin.clone(), |origin| {
        Bridge::new(origin.clone())
    }))
    .clone();
    let proactive =
        use_mut_ref(|| Rules::new(site.clone(), props.rules.take(), boot.agents_online));
    // The rules engine is in the app's second part: the rules are read once it is in (fetched
    // now), then evaluated.
    let rules_read = use_state(|| false);
    {
        let (proactive, read) = (proactive.clone(), rules_read.setter());
        use_effect_with((), move |_| {
            if proactive.borrow().waiting() {
                wasm_bindgen_futures::spawn_local(async move {
                    if beckon_client::split::ready().await.is_ok() {
                        proactive.borrow_mut().read();
                        read.set(true);
                    }
                });
            }
        });
    }
    // `Beckon.identify` before the visitor has a token waits for the first conversation.
    let pending_identity = use_mut_ref(Pending::default);

    let session = (*use_memo((), {
        let (setter, bridge, site) = (snapshot.setter(), bridge.clone(), site.clone());
        let challenge = boot.challenge.clone();
        move |_| {
            let events = Callback::from(move |event| match event {
                SessionEvent::Unread(n) => bridge.post(&ToHost::Unread {
                    n,
                    l: i18n::current().count(Text::Unread, n),
                }),
                SessionEvent::Engaged => bridge.post(&ToHost::Engaged { n: 0 }),
            });
            Session::new(
                Auth::Visitor { site, challenge },
                Callback::from(move |s| setter.set(s)),
                events,
            )
        }
    }))
    .clone();

    // The mute control, once a broadcast reached the visitor: their setting, then changes.
    let muted = use_state(|| None::<bool>);
    let got_broadcast = snapshot
        .transcript
        .messages()
        .iter()
        .any(|m| m.via.as_deref() == Some("broadcast"));
    {
        let (muted, session, site) = (muted.clone(), session.clone(), site.clone());
        use_effect_with(got_broadcast, move |got| {
            if let (true, None, Some((_, token))) = (*got, *muted, session.credentials()) {
                wasm_bindgen_futures::spawn_local(async move {
                    if let Ok(m) = api::announcements(&site, &token, None).await {
                        muted.set(Some(m));
                    }
                });
            }
        });
    }
    let on_mute = {
        let (muted, session, site) = (muted.clone(), session.clone(), site.clone());
        Callback::from(move |set: bool| {
            let Some((_, token)) = session.credentials() else {
                return;
            };
            let (muted, site) = (muted.clone(), site.clone());
            wasm_bindgen_futures::spawn_local(async move {
                if let Ok(m) = api::announcements(&site, &token, Some(set)).await {
                    muted.set(Some(m));
                }
            });
        })
    };

    // Every view change: the session knows whether it is seen, the loader sizes the iframe.
    {
        let (bridge, session, mode) = (bridge.clone(), session.clone(), state.view.mode());
        use_effect_with(mode, move |mode| {
            session.set_open(*mode == Mode::Open);
            if *mode != Mode::Teaser {
                bridge.post(&ToHost::Mode {
                    mode: *mode,
                    h: None,
                });
            }
        });
    }
    use_teaser_sizing(
        &bridge,
        state.view.mode() == Mode::Teaser,
        state.view.clone(),
    );

    // Whether a rule's teaser should show now.
    let evaluate = {
        let (proactive, state, session, site) = (
            proactive.clone(),
            state.clone(),
            session.clone(),
            site.clone(),
        );
        Rc::new(move || {
            if state.view != View::Closed || session.credentials().is_some() {
                return;
            }
            let rule = proactive.borrow_mut().candidate();
            if let Some(rule) = rule {
                proactive.borrow_mut().shown(&rule.id);
                count(&site, &rule, TeaserEventKind::Impression);
                state.dispatch(Action::ShowRule(rule));
            }
        })
    };
    {
        let evaluate = evaluate.clone();
        use_effect_with(*rules_read, move |read| {
            if *read {
                evaluate();
            }
        });
    }

    // Preview agent messages that arrive while the panel is closed; tell the page's
    // `Beckon.on('message')` of each message from the business that arrives while the page is
    // open (not the history it loads), once.
    {
        let (state, bridge, s) = (state.clone(), bridge.clone(), (*snapshot).clone());
        let told = use_mut_ref(|| 0u64);
        let last = s.transcript.messages().last().map(|m| m.seq);
        use_effect_with(last, move |_| {
            let mut told = told.borrow_mut();
            for m in s.transcript.messages() {
                let live = s.live_after.is_some_and(|l| m.seq > l) && m.seq.0 > *told;
                if live && m.role != Role::Visitor {
                    bridge.post(&ToHost::Event {
                        name: "message".into(),
                        data: serde_json::json!({"text": m.body, "from": m.author, "seq": m.seq.0}),
                    });
                }
            }
            // (Lower after a welcome dropped a message lost with its commit: its successor is
            // told.)
            *told = last.map_or(*told, |l| l.0);
            let unread = s.transcript.unread();
            let last = s.transcript.messages().last().cloned();
            if let Some(m) = last.filter(|m| m.role == Role::Agent && unread > 0) {
                state.dispatch(Action::Preview {
                    seq: m.seq.0,
                    from: m
                        .author
                        .unwrap_or_else(|| i18n::current().t(Text::Team).to_owned()),
                    text: m.body,
                });
            }
        });
    }

    // Whether an agent has the inbox open (the away form shows while nobody does).
    let agents_online = use_state(|| boot.agents_online);
    // When the page was served, by this browser's clock: the site's open windows are counted
    // on from the edge's time then (the visitor's clock may be off).
    let served = *use_state(js_sys::Date::now);
    let secs = ((js_sys::Date::now() - served) / 1000.0) as u32;
    // Drawn again when the site opens or closes while the page is open.
    {
        let update = use_force_update();
        let next = boot.open.as_deref().and_then(|w| next_change(w, secs));
        use_effect_with(next, move |next| {
            let timeout = next.map(|at| {
                gloo_timers::callback::Timeout::new((at - secs) * 1000 + 500, move || {
                    update.force_update()
                })
            });
            move || drop(timeout)
        });
    }
    // The site's pre-chat form, until answered on this page (before the first message only).
    let prechat_done = use_state(|| false);
    // Whether the browser has yet to ask about notifications (told by `attention.js` on sites
    // that offer them).
    let notify_offer = use_state(|| false);
    let presence = use_presence(&site, &session, {
        let (proactive, session, evaluate) = (proactive.clone(), session.clone(), evaluate.clone());
        let online = agents_online.setter();
        Callback::from(move |frame| match frame {
            HubFrame::Welcome { agents_online, .. }
            | HubFrame::Agents {
                online: agents_online,
            } => {
                online.set(agents_online > 0);
                proactive.borrow_mut().set_agents_online(agents_online > 0);
                evaluate();
            }
            HubFrame::Conversation {
                conversation_id,
                visitor_token,
            } => session.adopt(conversation_id, visitor_token),
            _ => {}
        })
    });

    // Messages from the loader (re-registered when the view changes: signals only evaluate
    // rules while the panel is closed).
    {
        let (state, session, proactive, presence, evaluate, pending, site) = (
            state.clone(),
            session.clone(),
            proactive.clone(),
            presence.clone(),
            evaluate.clone(),
            pending_identity.clone(),
            site.clone(),
        );
        let closed = state.view == View::Closed;
        let offer = notify_offer.setter();
        use_host_bridge(&bridge, state.view.clone(), move |msg| match msg {
            FromHost::Notify { s } => offer.set(s == "default"),
            FromHost::Open => state.dispatch(Action::Open),
            FromHost::Close => state.dispatch(Action::Close),
            FromHost::Page {
                url,
                title,
                referrer,
            } => {
                session.set_page(url.clone(), referrer);
                presence.moved(url, title);
            }
            FromHost::Sig { sig, w, c } => {
                // On a phone the panel covers the page: boot.js keeps Tab inside it.
                if let Some(root) = root_element() {
                    let _ = root.toggle_attribute_with_force("data-phone", (1..=480).contains(&w));
                }
                // Seconds on the site (the rest is for the rules).
                presence.started(sig.get("s").and_then(|s| s.as_u64()).unwrap_or(0) as u32);
                if session.credentials().is_some() {
                    proactive.borrow_mut().known_visitor();
                }
                proactive.borrow_mut().observe(sig, w, c);
                if closed {
                    evaluate();
                }
            }
            FromHost::Trigger { name } => {
                proactive.borrow_mut().trigger(name);
                if closed {
                    evaluate();
                }
            }
            FromHost::Identify { traits } => {
                if let serde_json::Value::Object(who) = traits {
                    {
                        let mut p = pending.borrow_mut();
                        p.page = Some(api::page_traits(who));
                        p.said += 1;
                    }
                    send_identity(&site, &session, &pending);
                }
            }
            FromHost::Track { name, props } => {
                if let Some((id, token)) = session.credentials() {
                    let goal = GoalEvent {
                        name,
                        value: props.get("value").and_then(|v| v.as_f64()),
                    };
                    wasm_bindgen_futures::spawn_local(async move {
                        if let Ok(goal) = goal.validated() {
                            let _ = api::goal_event(&id, &token, &goal).await;
                        }
                    });
                }
            }
            FromHost::Unknown => {}
        });
    }

    // Send a pending identity once the visitor has a token, and again with each message
    // while one did not get through.
    {
        let (session, pending, site) = (session.clone(), pending_identity.clone(), site.clone());
        let deps = (
            session.credentials().is_some(),
            snapshot.transcript.messages().len(),
        );
        use_effect_with(deps, move |(has, _)| {
            if *has {
                send_identity(&site, &session, &pending);
            }
        });
    }

    // Ready once: the loader then flushes what it queued, and keeps its mark of a visitor with
    // a conversation, or takes it away.
    {
        let (bridge, boot) = (bridge.clone(), boot.clone());
        let none = usize::from(session.credentials().is_none());
        use_effect_with((), move |_| {
            bridge.post(&ToHost::Ready);
            bridge.post(&ToHost::Engaged { n: none });
            speak(&bridge, &boot);
        });
    }

    let open_from_rule = {
        let (session, state, site) = (session.clone(), state.clone(), site.clone());
        Callback::from(move |rule: Rule| {
            count(&site, &rule, TeaserEventKind::Open);
            session.set_origin(Some(ConversationOrigin::Rule {
                rule_id: rule.id.to_string(),
            }));
            state.dispatch(Action::OpenFromRule(rule));
        })
    };
    let dispatch = |action: fn() -> Action| {
        let state = state.clone();
        Callback::from(move |_| state.dispatch(action()))
    };

    let view = match &state.view {
        View::Rule(rule) => {
            let on_open = {
                let (open, rule) = (open_from_rule.clone(), rule.clone());
                Callback::from(move |_| open.emit(rule.clone()))
            };
            let on_dismiss = {
                let (proactive, state, site, rule) =
                    (proactive.clone(), state.clone(), site.clone(), rule.clone());
                Callback::from(move |_| {
                    proactive.borrow_mut().dismissed(&rule.id);
                    count(&site, &rule, TeaserEventKind::Dismiss);
                    state.dispatch(Action::Close);
                })
            };
            let host = boot.host_origin.clone();
            let on_button = {
                let (open, session, rule, host) = (
                    open_from_rule.clone(),
                    session.clone(),
                    rule.clone(),
                    host.clone(),
                );
                Callback::from(move |i: usize| {
                    let Some(button) = rule.message.buttons.get(i) else {
                        return;
                    };
                    match &button.action {
                        CtaAction::Reply => {
                            open.emit(rule.clone());
                            session.send(&button.label);
                        }
                        CtaAction::Open => open.emit(rule.clone()),
                        CtaAction::Link { url } => {
                            if let Some(w) = web_sys::window() {
                                let _ = w.open_with_url_and_target_and_features(
                                    &resolve_on_host(url, &host),
                                    "_blank",
                                    "noopener,noreferrer",
                                );
                            }
                        }
                    }
                })
            };
            html! {
                <Teaser from={AttrValue::from(boot.config.name.clone())} text={AttrValue::from(rule.message.text.clone())}
                    image_url={rule.message.image_url.as_deref().map(|u| AttrValue::from(resolve_on_host(u, &host)))} buttons={rule.message.buttons.clone()}
                    {on_open} {on_dismiss} {on_button} />
            }
        }
        View::Agent { from, text } => html! {
            <Teaser from={AttrValue::from(from.clone())} text={AttrValue::from(text.clone())}
                on_open={dispatch(|| Action::Open)} on_dismiss={dispatch(|| Action::Close)} on_button={Callback::noop()} />
        },
        View::Closed | View::Open => {
            let on_send = {
                let session = session.clone();
                Callback::from(move |text: String| session.send(&text))
            };
            let on_reply = {
                let session = session.clone();
                Callback::from(move |label: String| {
                    session.send(&label);
                })
            };
            let on_typing = {
                let session = session.clone();
                Callback::from(move |active| session.typing(active))
            };
            let on_discard = {
                let session = session.clone();
                Callback::from(move |id| session.discard(&id))
            };
            let on_files = {
                let session = session.clone();
                Callback::from(move |files| session.attach(files))
            };
            let on_cancel_upload = {
                let session = session.clone();
                Callback::from(move |key| session.cancel_upload(&key))
            };
            let on_away_email = {
                let session = session.clone();
                Callback::from(move |email: String| session.leave_away_email(&email))
            };
            // Outside the site's hours, or nobody to answer soon: say when they can expect one.
            let closed = boot.open.as_deref().and_then(|w| closed_until(w, secs));
            let tx = i18n::current();
            let unavailable = match closed {
                Some(Some(opens)) => {
                    let at = boot.now + i64::from(opens) * 1000;
                    Some(tx.f(Text::StatusBack, &[("when", &tx.clock(at, true))]))
                }
                Some(None) => Some(tx.t(Text::StatusAway).to_owned()),
                None if !*agents_online && !boot.relayed => Some(tx.t(Text::StatusAway).to_owned()),
                None => None,
            }
            .map(AttrValue::from);
            // Once the visitor wrote, while closed or nobody is online, on a site that answers
            // by email.
            let t = &snapshot.transcript;
            let wrote = t.messages().iter().any(|m| m.role == Role::Visitor);
            let away = (boot.away_email && (closed.is_some() || !*agents_online) && wrote)
                .then(|| AttrValue::from(t.away_email().unwrap_or_default().to_owned()));
            let prechat = boot
                .prechat
                .clone()
                .filter(|_| !*prechat_done && t.messages().is_empty())
                .map(AttrValue::from);
            // The answers wait, with any identity the page gave, for the visitor's token.
            let on_prechat = {
                let (session, pending, site) =
                    (session.clone(), pending_identity.clone(), site.clone());
                let done = prechat_done.setter();
                Callback::from(move |answers: Traits| {
                    pending.borrow_mut().form = Some(answers);
                    done.set(true);
                    send_identity(&site, &session, &pending);
                })
            };
            let notify = *notify_offer && wrote;
            // `attention.js` asks the browser (which a cross-origin frame may not), then says
            // what it decided.
            let on_notify = {
                let (bridge, offer) = (bridge.clone(), notify_offer.setter());
                Callback::from(move |()| {
                    offer.set(false);
                    // The button goes: the focus goes to the message box, not the page.
                    if let Some(input) = web_sys::window()
                        .and_then(|w| w.document())
                        .and_then(|d| d.query_selector(".input").ok().flatten())
                        .and_then(|e| {
                            wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(e).ok()
                        })
                    {
                        let _ = input.focus();
                    }
                    bridge.post(&ToHost::Event {
                        name: "_notify".into(),
                        data: serde_json::Value::Null,
                    });
                })
            };
            let greeting = match (
                &state.opened_from,
                snapshot.transcript.messages().is_empty(),
            ) {
                (Some(rule), true) => Some(rule.message.text.clone()),
                (Some(_), false) => None,
                (None, _) => Some(boot.config.greeting.clone()),
            };
            html! {
                <ChatView config={Rc::new(boot.config.clone())} snapshot={(*snapshot).clone()} greeting={greeting.map(AttrValue::from)}
                    {on_send} on_close={dispatch(|| Action::Close)} {on_typing} {on_discard} {on_files} {on_cancel_upload}
                    muted={(*muted).filter(|_| got_broadcast)} {on_mute} on_reply={on_reply} {away} {on_away_email} {unavailable} {prechat} {on_prechat}
                    {notify} {on_notify} />
            }
        }
    };
    view
}
