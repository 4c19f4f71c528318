//! The root component: wires the visitor's [`Session`], the proactive rules ([`Proactive`]),
//! the presence socket and the host bridge together, and renders either the chat panel or a
//! teaser.
//!
//! Teasers come from two places: a proactive rule whose condition now holds (shown at most
//! once at a time, within its caps, with impression/open/dismiss counted per rule), and an
//! agent's message arriving while the panel is closed (a preview; agents can also start a
//! conversation with a visitor who is on the site).

use crate::bridge::{Bridge, FromHost, ToHost};
use crate::components::ChatView;
use crate::proactive::Proactive;
use beckon_client::api;
use beckon_client::components::Teaser;
use beckon_client::reconnecting::{Reconnecting, SocketEvent, UrlSource};
use beckon_client::session::{Auth, Session, SessionEvent, Snapshot};
use beckon_shared::proto::v1::{
    ConversationOrigin, GoalEvent, Identify, Role, TeaserEvent, TeaserEventKind, WidgetBoot,
};
use beckon_shared::rules::{resolve_on_host, CtaAction, Rule};
use beckon_shared::{ConversationId, SiteKey};
use serde::Deserialize;
use std::rc::Rc;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct AppProps {
    pub boot: Rc<WidgetBoot>,
}

/// Sets the site's accent colour as a CSS variable (through the CSSOM, which the iframe's
/// CSP permits, unlike inline style attributes).
pub fn apply_theme(accent: &str) {
    if let Some(el) = root_element() {
        let _ = el.style().set_property("--accent", accent);
    }
}

fn root_element() -> Option<web_sys::HtmlElement> {
    let el = web_sys::window()?.document()?.document_element()?;
    wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(el).ok()
}

/// What is on screen besides the launcher.
#[derive(Clone, Debug, PartialEq)]
enum View {
    Closed,
    /// A proactive rule's teaser.
    Rule(Rule),
    /// A preview of an agent's message that arrived while the panel was closed.
    Agent {
        from: String,
        text: String,
    },
    Open,
}

/// Messages from the site's hub on the presence socket.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum HubMessage {
    Welcome {
        #[serde(default)]
        agents_online: usize,
    },
    Agents {
        online: usize,
    },
    /// An agent started a conversation with this visitor.
    Conversation {
        conversation_id: ConversationId,
        visitor_token: String,
    },
    #[serde(other)]
    Other,
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

/// Sends the identity `Beckon.identify` gave, if the visitor has a token yet.
fn send_identity(
    site: &SiteKey,
    session: &Session,
    pending: &Rc<std::cell::RefCell<Option<Identify>>>,
) {
    let Some((_, token)) = session.credentials() else {
        return;
    };
    let Some(who) = pending.borrow_mut().take() else {
        return;
    };
    let site = site.clone();
    wasm_bindgen_futures::spawn_local(async move {
        let _ = api::identify(&site, &token, &who).await;
    });
}

/// The page the visitor is on, for the presence socket.
#[derive(Clone, Default)]
struct Whereabouts {
    url: String,
    title: String,
    since: i64,
}

fn here_frame(w: &Whereabouts, token: Option<String>) -> String {
    serde_json::json!({"type": "here", "url": w.url, "title": w.title, "since": w.since, "token": token}).to_string()
}

#[function_component]
pub fn App(props: &AppProps) -> Html {
    let boot = &props.boot;
    let site = boot.config.site.clone();
    let snapshot = use_state(|| Rc::new(Snapshot::default()));
    let view = use_state(|| View::Closed);
    // The rule whose teaser opened the chat: its text replaces the greeting until the
    // conversation exists.
    let opened_from = use_state(|| None::<Rule>);
    let bridge = use_memo(boot.host_origin.clone(), |origin| {
        Bridge::new(origin.clone())
    });
    let proactive =
        use_mut_ref(|| Proactive::new(site.clone(), boot.rules.clone(), boot.agents_online));
    let whereabouts = use_mut_ref(Whereabouts::default);
    let presence = use_mut_ref(|| None::<Rc<Reconnecting>>);
    let previewed = use_mut_ref(|| 0u64);
    // `Beckon.identify` before the visitor has a token waits for the first conversation.
    let pending_identity = use_mut_ref(|| None::<Identify>);

    let session = {
        let setter = snapshot.setter();
        let bridge = (*bridge).clone();
        let site = site.clone();
        use_memo((), move |_| {
            let events = Callback::from(move |event| match event {
                SessionEvent::Unread(n) => bridge.post(&ToHost::Unread { n }),
                SessionEvent::Engaged => bridge.post(&ToHost::Engaged),
            });
            Session::new(
                Auth::Visitor { site },
                Callback::from(move |s| setter.set(s)),
                events,
            )
        })
    };

    // Show a view: tell the loader how to size the iframe.
    let set_view = {
        let (view, bridge, session) = (view.clone(), (*bridge).clone(), (*session).clone());
        Callback::from(move |next: View| {
            let mode = match &next {
                View::Closed => "closed",
                View::Open => "open",
                _ => "teaser",
            };
            session.set_open(next == View::Open);
            if mode != "teaser" {
                bridge.post(&ToHost::Mode { mode, h: None });
            }
            view.set(next);
        })
    };

    // After a teaser renders, size the iframe to it.
    {
        let bridge = (*bridge).clone();
        let teaser_showing = matches!(*view, View::Rule(_) | View::Agent { .. });
        let key = format!("{:?}", *view);
        use_effect_with(key, move |_| {
            if let Some(root) = root_element() {
                let _ = root
                    .class_list()
                    .toggle_with_force("teaser-mode", teaser_showing);
            }
            let mut timers = Vec::new();
            if teaser_showing {
                // The iframe has no layout until the loader shows it: show it at a default
                // height, then fit it to the teaser once laid out (again after images load).
                bridge.post(&ToHost::Mode {
                    mode: "teaser",
                    h: Some(200),
                });
                for delay in [60, 400, 1500] {
                    let bridge = bridge.clone();
                    timers.push(gloo_timers::callback::Timeout::new(delay, move || {
                        let height = web_sys::window()
                            .and_then(|w| w.document())
                            .and_then(|d| d.get_element_by_id("teaser"))
                            .and_then(|e| {
                                wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(e).ok()
                            })
                            .map(|e| e.offset_height() as u32)
                            .filter(|h| *h > 0);
                        if let Some(h) = height {
                            bridge.post(&ToHost::Mode {
                                mode: "teaser",
                                h: Some(h + 24),
                            });
                        }
                    }));
                }
            }
            move || drop(timers)
        });
    }

    // Decide whether a rule's teaser should show now.
    let evaluate = {
        let (proactive, view, set_view, session, site) = (
            proactive.clone(),
            view.clone(),
            set_view.clone(),
            (*session).clone(),
            site.clone(),
        );
        Rc::new(move || {
            if *view != View::Closed || session.credentials().is_some() {
                return;
            }
            let rule = proactive.borrow_mut().candidate(false);
            if let Some(rule) = rule {
                proactive.borrow_mut().shown(&rule.id);
                count(&site, &rule, TeaserEventKind::Impression);
                set_view.emit(View::Rule(rule));
            }
        })
    };

    // Preview agent messages that arrive while the panel is closed.
    {
        let (view, previewed) = (view.clone(), previewed.clone());
        let last = snapshot.transcript.messages().last().cloned();
        let unread = snapshot.transcript.unread();
        let set_view = set_view.clone();
        use_effect_with(last.as_ref().map(|m| m.seq), move |_| {
            if let Some(m) = last {
                let fresh = m.seq.0 > *previewed.borrow() && m.role == Role::Agent && unread > 0;
                if fresh && matches!(*view, View::Closed | View::Agent { .. }) {
                    *previewed.borrow_mut() = m.seq.0;
                    set_view.emit(View::Agent {
                        from: m.author.unwrap_or_else(|| "Team".into()),
                        text: m.body,
                    });
                }
            }
        });
    }

    // The presence socket: "online now" for agents, agent availability for rules, and
    // conversations agents start with this visitor.
    {
        let (presence, whereabouts, proactive, session, evaluate) = (
            presence.clone(),
            whereabouts.clone(),
            proactive.clone(),
            (*session).clone(),
            evaluate.clone(),
        );
        let site = site.clone();
        use_effect_with((), move |_| {
            let path = format!("/api/v1/sites/{site}/presence");
            let url: UrlSource = Rc::new(move || {
                let path = path.clone();
                Box::pin(async move { api::ws_url(&path) })
            });
            let on_event = {
                let (whereabouts, session, slot) =
                    (whereabouts.clone(), session.clone(), presence.clone());
                Callback::from(move |e| match e {
                    SocketEvent::Open => {
                        let frame =
                            here_frame(&whereabouts.borrow(), session.credentials().map(|c| c.1));
                        if let Some(socket) = slot.borrow().as_ref() {
                            socket.send(&frame);
                        }
                    }
                    SocketEvent::Message(text) => match serde_json::from_str::<HubMessage>(&text) {
                        Ok(HubMessage::Welcome { agents_online })
                        | Ok(HubMessage::Agents {
                            online: agents_online,
                        }) => {
                            proactive.borrow_mut().set_agents_online(agents_online > 0);
                            evaluate();
                        }
                        Ok(HubMessage::Conversation {
                            conversation_id,
                            visitor_token,
                        }) => session.adopt(conversation_id, visitor_token),
                        _ => {}
                    },
                    SocketEvent::Closed => {}
                })
            };
            *presence.borrow_mut() = Some(Rc::new(Reconnecting::open(url, on_event)));
            // Dropping the socket also breaks the callback ↔ socket reference cycle.
            move || drop(presence.borrow_mut().take())
        });
    }

    // Messages from the loader.
    {
        let (pending_identity, site) = (pending_identity.clone(), site.clone());
        let (bridge, session, proactive, whereabouts, presence, evaluate, view, set_view) = (
            (*bridge).clone(),
            (*session).clone(),
            proactive.clone(),
            whereabouts.clone(),
            presence.clone(),
            evaluate.clone(),
            view.clone(),
            set_view.clone(),
        );
        let current_view = (*view).clone();
        use_effect_with(current_view, move |current| {
            let current = current.clone();
            let listener = bridge.listen(move |msg| match msg {
                FromHost::Open => set_view.emit(View::Open),
                FromHost::Close => set_view.emit(View::Closed),
                FromHost::Page {
                    url,
                    title,
                    referrer,
                } => {
                    session.set_page(url.clone(), referrer);
                    let mut w = whereabouts.borrow_mut();
                    w.url = url;
                    w.title = title;
                    if let Some(p) = presence.borrow().as_ref() {
                        p.send(&here_frame(&w, session.credentials().map(|c| c.1)));
                    }
                }
                FromHost::Sig { sig, w, c } => {
                    {
                        let mut wa = whereabouts.borrow_mut();
                        if wa.since == 0 {
                            wa.since = js_sys::Date::now() as i64 - i64::from(sig.s) * 1000;
                        }
                    }
                    if session.credentials().is_some() {
                        proactive.borrow_mut().known_visitor();
                    }
                    proactive.borrow_mut().observe(sig, w, c);
                    if current == View::Closed {
                        evaluate();
                    }
                }
                FromHost::Trigger { name } => {
                    proactive.borrow_mut().trigger(name);
                    if current == View::Closed {
                        evaluate();
                    }
                }
                FromHost::Identify { traits } => {
                    if let Ok(who) = serde_json::from_value::<Identify>(traits) {
                        *pending_identity.borrow_mut() = Some(who);
                        send_identity(&site, &session, &pending_identity);
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
                _ => {}
            });
            move || drop(listener)
        });
    }

    // Send a pending identity once the visitor has a token.
    {
        let (session, pending, site) = ((*session).clone(), pending_identity.clone(), site.clone());
        let has_credentials = session.credentials().is_some();
        use_effect_with(has_credentials, move |has| {
            if *has {
                send_identity(&site, &session, &pending);
            }
        });
    }

    // Ready once: the loader then flushes what it queued.
    {
        let bridge = (*bridge).clone();
        use_effect_with((), move |_| bridge.post(&ToHost::Ready));
    }

    let open_from_rule = {
        let (session, opened_from, set_view, site) = (
            (*session).clone(),
            opened_from.clone(),
            set_view.clone(),
            site.clone(),
        );
        Callback::from(move |rule: Rule| {
            count(&site, &rule, TeaserEventKind::Open);
            session.set_origin(Some(ConversationOrigin::Rule {
                rule_id: rule.id.to_string(),
            }));
            opened_from.set(Some(rule));
            set_view.emit(View::Open);
        })
    };

    let content = match &*view {
        View::Rule(rule) => {
            let on_open = {
                let (open, rule) = (open_from_rule.clone(), rule.clone());
                Callback::from(move |_| open.emit(rule.clone()))
            };
            let on_dismiss = {
                let (proactive, set_view, site, rule) = (
                    proactive.clone(),
                    set_view.clone(),
                    site.clone(),
                    rule.clone(),
                );
                Callback::from(move |_| {
                    proactive.borrow_mut().dismissed(&rule.id);
                    count(&site, &rule, TeaserEventKind::Dismiss);
                    set_view.emit(View::Closed);
                })
            };
            let host = boot.host_origin.clone();
            let on_button = {
                let (open, session, rule, host) = (
                    open_from_rule.clone(),
                    (*session).clone(),
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
        View::Agent { from, text } => {
            let on_open = {
                let set_view = set_view.clone();
                Callback::from(move |_| set_view.emit(View::Open))
            };
            let on_dismiss = {
                let set_view = set_view.clone();
                Callback::from(move |_| set_view.emit(View::Closed))
            };
            html! {
                <Teaser from={AttrValue::from(from.clone())} text={AttrValue::from(text.clone())} {on_open} {on_dismiss} on_button={Callback::noop()} />
            }
        }
        View::Closed | View::Open => {
            let on_send = {
                let session = (*session).clone();
                Callback::from(move |text: String| session.send(&text))
            };
            let on_close = {
                let set_view = set_view.clone();
                Callback::from(move |_| set_view.emit(View::Closed))
            };
            let on_typing = {
                let session = (*session).clone();
                Callback::from(move |active| session.typing(active))
            };
            let on_discard = {
                let session = (*session).clone();
                Callback::from(move |id| session.discard(&id))
            };
            let greeting = match (&*opened_from, snapshot.transcript.messages().is_empty()) {
                (Some(rule), true) => Some(rule.message.text.clone()),
                (Some(_), false) => None,
                (None, _) => Some(boot.config.greeting.clone()),
            };
            html! {
                <ChatView config={Rc::new(boot.config.clone())} snapshot={(*snapshot).clone()} greeting={greeting.map(AttrValue::from)}
                    {on_send} {on_close} {on_typing} {on_discard} />
            }
        }
    };
    content
}
