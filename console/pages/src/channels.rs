//! Settings → Channels: set up Telegram, Slack, WhatsApp, Discord, Messenger & Instagram, email and webhook relays for the site, see each
//! channel's health (a failing channel shows its last error), copy the webhook URL to register
//! with the channel, send a test message, or remove the channel. Secrets are write-only: the
//! form never shows them, and leaving them empty keeps the stored ones. Outbound webhooks
//! also show their delivery log, each event replayable.

use beckon_client::api;
use beckon_client::api::ChannelView;
use beckon_shared::proto::v1::{ChannelKind, ChannelStatus};
use beckon_shared::SiteKey;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use web_sys::HtmlInputElement;
use yew::prelude::*;

/// One form field: (name, label, secret?, hint).
type Field = (&'static str, &'static str, bool, &'static str);

fn fields(kind: ChannelKind) -> &'static [Field] {
    match kind {
        ChannelKind::Telegram => &[
            ("chat_id", "Forum supergroup id", false, "-1001234567890"),
            (
                "bot_token",
                "Bot token (from @BotFather)",
                true,
                "123456:ABC-…",
            ),
            (
                "webhook_secret",
                "Webhook secret token",
                true,
                "32+ letters, digits, _ and -",
            ),
            (
                "api_base",
                "API base (leave empty for api.telegram.org)",
                false,
                "https://api.telegram.org",
            ),
        ],
        ChannelKind::Slack => &[
            ("channel_id", "Channel id", false, "C0123ABCDEF"),
            ("bot_token", "Bot token", true, "xoxb-…"),
            (
                "signing_secret",
                "Signing secret",
                true,
                "from Basic Information",
            ),
            (
                "api_base",
                "API base (leave empty for slack.com/api)",
                false,
                "https://slack.com/api",
            ),
        ],
        ChannelKind::Whatsapp => &[
            (
                "phone_number_id",
                "Phone number id",
                false,
                "106540352242922",
            ),
            (
                "agent_numbers",
                "Agents' WhatsApp numbers (comma-separated)",
                false,
                "16505551234, 4915112345678",
            ),
            (
                "template_name",
                "Approved template",
                false,
                "new_website_chat",
            ),
            ("template_language", "Template language", false, "en_US"),
            ("access_token", "Access token (system user)", true, "EAAG…"),
            (
                "app_secret",
                "App secret",
                true,
                "from App settings → Basic",
            ),
            (
                "verify_token",
                "Webhook verify token",
                true,
                "any string you choose",
            ),
            ("graph_version", "Graph API version", false, "v23.0"),
            (
                "api_base",
                "API base (leave empty for graph.facebook.com)",
                false,
                "https://graph.facebook.com",
            ),
        ],
        ChannelKind::Discord => &[
            ("webhook_id", "Webhook id", false, "1250000000000000000"),
            ("webhook_token", "Webhook token", true, "from its URL"),
            (
                "public_key",
                "App public key (for /reply)",
                false,
                "optional",
            ),
            ("api_base", "API base", false, "https://discord.com/api"),
        ],
        ChannelKind::Messenger => &[
            ("page_id", "Page id", false, "104000000000000"),
            ("instagram_id", "Instagram account id", false, "optional"),
            ("page_access_token", "Page access token", true, "EAAG…"),
            (
                "app_secret",
                "App secret",
                true,
                "from App settings → Basic",
            ),
            (
                "verify_token",
                "Webhook verify token",
                true,
                "any string you choose",
            ),
            ("graph_version", "Graph API version", false, "v23.0"),
            (
                "api_base",
                "API base (leave empty for graph.facebook.com)",
                false,
                "https://graph.facebook.com",
            ),
        ],
        ChannelKind::Email => &[
            ("to", "Support addresses", false, "support@shop.example"),
            ("from", "Sender address", false, "chat@notify.shop.example"),
            ("from_name", "Sender name", false, "optional"),
            (
                "reply_domain",
                "Reply domain",
                false,
                "inbound.shop.example (Email Routing → this Worker)",
            ),
            ("api_key", "API key", true, "re_…"),
            ("api_base", "API base", false, "https://api.resend.com"),
        ],
        ChannelKind::Webhook => &[
            (
                "url",
                "Endpoint URL",
                false,
                "https://crm.example.com/hooks/beckon",
            ),
            ("secret", "Signing secret", true, "whsec_…"),
        ],
    }
}

/// The form's values for an existing channel (secrets stay empty).
fn initial(info: Option<&ChannelView>) -> BTreeMap<&'static str, String> {
    let mut v = BTreeMap::new();
    let Some(info) = info else { return v };
    for (k, val) in info.settings.as_object().into_iter().flatten() {
        let key = fields(info.kind).iter().find(|f| f.0 == k).map(|f| f.0);
        if let Some(key) = key {
            let text = match val {
                Value::String(s) => s.clone(),
                Value::Array(a) => a
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(", "),
                Value::Null => String::new(),
                other => other.to_string(),
            };
            v.insert(key, text);
        }
    }
    v
}

/// Builds the `ChannelInput` body, or says what is missing.
fn body(
    kind: ChannelKind,
    values: &BTreeMap<&'static str, String>,
    enabled: bool,
) -> Result<Value, String> {
    let mut settings = Map::new();
    let mut secrets = Map::new();
    settings.insert("kind".into(), kind.as_str().into());
    secrets.insert("kind".into(), kind.as_str().into());
    for (name, label, secret, _) in fields(kind) {
        let v = values
            .get(name)
            .map(|s| s.trim().to_owned())
            .unwrap_or_default();
        if *secret {
            if !v.is_empty() {
                secrets.insert((*name).into(), v.into());
            }
            continue;
        }
        if v.is_empty() {
            if matches!(
                *name,
                "api_base"
                    | "graph_version"
                    | "template_language"
                    | "public_key"
                    | "instagram_id"
                    | "from_name"
            ) {
                continue;
            }
            return Err(format!("{label} is required."));
        }
        let value = match *name {
            "chat_id" => v
                .parse::<i64>()
                .map(Value::from)
                .map_err(|_| format!("{label} must be a number like -1001234567890."))?,
            "agent_numbers" | "to" => Value::Array(
                v.split(',')
                    .map(|n| Value::from(n.trim()))
                    .filter(|n| n != "")
                    .collect(),
            ),
            _ => v.into(),
        };
        settings.insert((*name).into(), value);
    }
    let secret_count = fields(kind).iter().filter(|f| f.2).count();
    let mut input = json!({"settings": settings, "enabled": enabled});
    match secrets.len() - 1 {
        0 => {}
        n if n == secret_count => input["secrets"] = Value::Object(secrets),
        _ => {
            return Err(
                "Fill in every secret to change them, or none to keep the stored ones.".into(),
            )
        }
    }
    Ok(input)
}

#[derive(Properties, PartialEq)]
pub struct ChannelsPageProps {
    pub admin_key: AttrValue,
    pub site: SiteKey,
    /// Called after a change, so the inbox can refresh its health badge.
    pub on_change: Callback<()>,
}

#[function_component]
pub fn ChannelsPage(props: &ChannelsPageProps) -> Html {
    let channels = use_state(|| None::<Vec<ChannelView>>);
    let error = use_state(|| None::<String>);
    let reload = {
        let (channels, error, key, site) = (
            channels.clone(),
            error.clone(),
            props.admin_key.to_string(),
            props.site.clone(),
        );
        Callback::from(move |_| {
            let (channels, error, key, site) =
                (channels.clone(), error.clone(), key.clone(), site.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match api::list_channels(&key, &site).await {
                    Ok(list) => channels.set(Some(list)),
                    Err(f) => error.set(Some(f.describe())),
                }
            });
        })
    };
    {
        let reload = reload.clone();
        use_effect_with(props.site.clone(), move |_| reload.emit(()));
    }
    let on_saved = {
        let (reload, on_change) = (reload.clone(), props.on_change.clone());
        Callback::from(move |_| {
            reload.emit(());
            on_change.emit(());
        })
    };
    html! {
        <section class="settings" aria-labelledby="channels-h">
            <h2 id="channels-h">{ "Channels" }</h2>
            <p class="lead">{ "Relay every conversation into the apps your team already uses. Agents answer in the conversation's thread; the first answer reaches the visitor and the other channels see it." }</p>
            if let Some(e) = &*error { <p class="error" role="alert">{ e }</p> }
            if let Some(list) = &*channels {
                { for ChannelKind::ALL.iter().copied().map(|kind| {
                    let info = list.iter().find(|c| c.kind == kind).cloned();
                    html! { <ChannelCard key={kind.as_str()} {kind} {info} admin_key={props.admin_key.clone()} site={props.site.clone()} on_saved={on_saved.clone()} /> }
                }) }
            } else {
                <p class="empty">{ "Loading…" }</p>
            }
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct ChannelCardProps {
    kind: ChannelKind,
    info: Option<ChannelView>,
    admin_key: AttrValue,
    site: SiteKey,
    on_saved: Callback<()>,
}

#[function_component]
fn ChannelCard(props: &ChannelCardProps) -> Html {
    let kind = props.kind;
    let values = use_state(|| initial(props.info.as_ref()));
    let enabled = use_state(|| props.info.as_ref().is_none_or(|i| i.enabled));
    let message = use_state(|| None::<(bool, String)>);
    let busy = use_state(|| false);
    {
        let (values, enabled) = (values.clone(), enabled.clone());
        use_effect_with(props.info.clone(), move |info| {
            values.set(initial(info.as_ref()));
            enabled.set(info.as_ref().is_none_or(|i| i.enabled));
        });
    }
    let run = |work: &'static str| {
        let (values, enabled, message, busy) = (
            values.clone(),
            enabled.clone(),
            message.clone(),
            busy.clone(),
        );
        let (key, site, on_saved) = (
            props.admin_key.to_string(),
            props.site.clone(),
            props.on_saved.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let input = match work {
                "save" => match body(kind, &values, *enabled) {
                    Ok(b) => Some(b),
                    Err(m) => return message.set(Some((false, m))),
                },
                _ => None,
            };
            busy.set(true);
            let (message, busy, key, site, on_saved) = (
                message.clone(),
                busy.clone(),
                key.clone(),
                site.clone(),
                on_saved.clone(),
            );
            wasm_bindgen_futures::spawn_local(async move {
                let outcome = match (work, input) {
                    ("save", Some(b)) => api::put_channel(&key, &site, kind, &b)
                        .await
                        .map(|_| (true, "Saved.".to_owned())),
                    ("test", _) => api::test_channel(&key, &site, kind)
                        .await
                        .map(|r| (r.ok, r.detail)),
                    ("log" | "replay", _) => deliveries(&key, &site, work == "replay").await,
                    _ => api::delete_channel(&key, &site, kind)
                        .await
                        .map(|_| (true, "Removed.".to_owned())),
                };
                message.set(Some(outcome.unwrap_or_else(|f| (false, f.describe()))));
                busy.set(false);
                on_saved.emit(());
            });
        })
    };
    let on_save = run("save");
    let on_test = run("test").reform(|e: MouseEvent| {
        e.prevent_default();
        SubmitEvent::new("submit").unwrap()
    });
    let on_log = run("log").reform(|e: MouseEvent| {
        e.prevent_default();
        SubmitEvent::new("submit").unwrap()
    });
    let on_replay = run("replay").reform(|e: MouseEvent| {
        e.prevent_default();
        SubmitEvent::new("submit").unwrap()
    });
    let on_remove = run("remove").reform(|e: MouseEvent| {
        e.prevent_default();
        SubmitEvent::new("submit").unwrap()
    });
    let on_enabled = {
        let enabled = enabled.clone();
        Callback::from(move |e: Event| {
            enabled.set(
                e.target_dyn_into::<HtmlInputElement>()
                    .is_some_and(|i| i.checked()),
            )
        })
    };
    let (badge, badge_class) = match props.info.as_ref().map(|i| (i.enabled, i.status)) {
        None => ("Not set up", "off"),
        Some((false, _)) => ("Paused", "off"),
        Some((true, ChannelStatus::Failing)) => ("Failing", "bad"),
        Some((true, ChannelStatus::Ok)) => ("Working", "good"),
        Some((true, _)) => ("Set up", "neutral"),
    };
    let has_secrets = props.info.as_ref().is_some_and(|i| i.has_secrets);
    let id = |name: &str| format!("{}-{name}", kind.as_str());
    html! {
        <form class="channel-card" onsubmit={on_save} aria-labelledby={id("h")}>
            <header>
                <h3 id={id("h")}>{ kind.label() }</h3>
                <span class={classes!("badge", badge_class)}>{ badge }</span>
            </header>
            if let Some(info) = &props.info {
                if let Some(err) = info.last_error.as_ref().filter(|_| info.status == ChannelStatus::Failing) {
                    <p class="error" role="alert">{ format!("Relays are failing: {err}") }</p>
                }
                // Email has no webhook: replies come through Email Routing (see the reply domain).
                if kind != ChannelKind::Email {
                    <p class="webhook">{ "Webhook URL: " }<code>{ &info.webhook_url }</code></p>
                }
            }
            <div class="grid">
                { for fields(kind).iter().map(|(name, label, secret, hint)| {
                    let values = values.clone();
                    let value = values.get(name).cloned().unwrap_or_default();
                    let oninput = Callback::from(move |e: InputEvent| {
                        if let Some(i) = e.target_dyn_into::<HtmlInputElement>() {
                            let mut next = (*values).clone();
                            next.insert(name, i.value());
                            values.set(next);
                        }
                    });
                    let placeholder = if *secret && has_secrets { "•••••• (unchanged)" } else { hint };
                    html! {
                        <label for={id(name)}>{ *label }
                            <input id={id(name)} type={if *secret { "password" } else { "text" }} autocomplete="off"
                                {value} {oninput} {placeholder} />
                        </label>
                    }
                }) }
            </div>
            <label class="check"><input type="checkbox" checked={*enabled} onchange={on_enabled} />
                { if kind.relays_to_agents() { " Relay conversations to this channel" } else { " Take messages sent here into the inbox" } }</label>
            <div class="actions">
                <button type="submit" disabled={*busy}>{ "Save" }</button>
                if props.info.is_some() {
                    if kind.relays_to_agents() {
                        <button type="button" class="secondary" disabled={*busy} onclick={on_test}>{ "Send test message" }</button>
                    }
                    if kind == ChannelKind::Webhook {
                        <button type="button" class="secondary" disabled={*busy} onclick={on_log}>{ "Recent deliveries" }</button>
                        <button type="button" class="secondary" disabled={*busy} onclick={on_replay}>{ "Replay failing" }</button>
                    }
                    <button type="button" class="danger" disabled={*busy} onclick={on_remove}>{ "Remove" }</button>
                }
            </div>
            if let Some((ok, text)) = &*message {
                <p class={if *ok { "ok lines" } else { "error lines" }} role="status">{ text }</p>
            }
        </form>
    }
}

/// The delivery log, one event per line, newest first; whether none is failing.
fn log_lines(log: &Value) -> (bool, String) {
    let rows = log["deliveries"].as_array().map_or(&[][..], Vec::as_slice);
    if rows.is_empty() {
        return (true, "No events in the last 30 days.".into());
    }
    let lines: Vec<String> = rows
        .iter()
        .map(|d| {
            format!(
                "{} {}: {}",
                d["event_type"].as_str().unwrap_or("?"),
                d["event_id"].as_str().unwrap_or("?"),
                describe(d)
            )
        })
        .collect();
    let ok = rows.iter().all(|d| d["status"] == "delivered");
    (ok, lines.join("\n"))
}

/// The delivery log as text; first, if `replay`, every failing event sent again.
async fn deliveries(
    key: &str,
    site: &SiteKey,
    replay: bool,
) -> Result<(bool, String), api::CallError> {
    let mut replayed = String::new();
    if replay {
        let failing = api::webhook_deliveries(key, site, "&status=failing").await?;
        let rows = failing["deliveries"]
            .as_array()
            .map_or(&[][..], Vec::as_slice);
        for d in rows {
            api::replay_webhook(key, site, d["event_id"].as_str().unwrap_or_default()).await?;
        }
        replayed = format!("Replayed {} failing event(s).\n", rows.len());
    }
    let (ok, lines) = log_lines(&api::webhook_deliveries(key, site, "").await?);
    Ok((ok, replayed + &lines))
}

/// "delivered, HTTP 204, 1 attempt(s)", "failing, HTTP 503, 3 attempt(s): …".
fn describe(d: &Value) -> String {
    let answer = match d["response_status"].as_u64() {
        Some(s) => format!("HTTP {s}"),
        None => "no answer".into(),
    };
    let mut out = format!(
        "{}, {answer}, {} attempt(s)",
        d["status"].as_str().unwrap_or("?"),
        d["attempts"]
    );
    if let (Some("failing"), Some(e)) = (d["status"].as_str(), d["last_error"].as_str()) {
        out.push_str(": ");
        out.push_str(e);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_bodies_and_refuses_partial_secrets() {
        let mut v = BTreeMap::new();
        v.insert("channel_id", "C123".to_owned());
        let b = body(ChannelKind::Slack, &v, true).unwrap();
        assert_eq!(
            b["settings"],
            json!({"kind": "slack", "channel_id": "C123"})
        );
        assert!(
            b.get("secrets").is_none(),
            "empty secrets keep the stored ones"
        );
        v.insert("bot_token", "xoxb-1".to_owned());
        assert!(
            body(ChannelKind::Slack, &v, true).is_err(),
            "half the secrets is refused"
        );
        v.insert("signing_secret", "s".to_owned());
        assert_eq!(
            body(ChannelKind::Slack, &v, false).unwrap()["secrets"]["bot_token"],
            "xoxb-1"
        );
        let mut w = BTreeMap::new();
        w.insert("phone_number_id", "1".to_owned());
        w.insert("agent_numbers", "1650, 49151 ,".to_owned());
        w.insert("template_name", "t".to_owned());
        assert_eq!(
            body(ChannelKind::Whatsapp, &w, true).unwrap()["settings"]["agent_numbers"],
            json!(["1650", "49151"])
        );
        let mut t = BTreeMap::new();
        t.insert("chat_id", "abc".to_owned());
        assert!(body(ChannelKind::Telegram, &t, true)
            .unwrap_err()
            .contains("number"));
    }
}
