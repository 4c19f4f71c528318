//! Proactive rules: the site's list, and an editor with a live preview of the teaser. The
//! condition tree is edited as JSON (with examples to start from); the API validates it and
//! says what is wrong.

use beckon_client::api;
use beckon_client::components::Teaser;
use beckon_shared::rules::{CtaButton, Frequency, Rule};
use beckon_shared::{RuleId, SiteKey};
use serde_json::json;
use web_sys::{HtmlInputElement, HtmlSelectElement, HtmlTextAreaElement};
use yew::prelude::*;

/// Starting points for the condition editor.
const EXAMPLES: &[(&str, &str)] = &[
    (
        "Scrolled 30% of any page",
        r#"{"if": "scroll", "percent": 30}"#,
    ),
    (
        "20 seconds on the pricing page",
        r#"{"if": "all", "of": [{"if": "url", "glob": "/pricing*"}, {"if": "active_time", "secs": 20}]}"#,
    ),
    ("About to leave (exit intent)", r#"{"if": "exit_intent"}"#),
    (
        "The page called Beckon.trigger('pricing_viewed')",
        r#"{"if": "event", "name": "pricing_viewed"}"#,
    ),
    (
        "Returning visitor from the newsletter",
        r#"{"if": "all", "of": [{"if": "returning", "is": true}, {"if": "utm", "param": "source", "equals": "newsletter"}]}"#,
    ),
    (
        "Weekdays 9-17 in Berlin, agents online",
        r#"{"if": "all", "of": [{"if": "business_hours", "tz": "Europe/Berlin", "days": ["mon", "tue", "wed", "thu", "fri"], "open": "09:00", "close": "17:00"}, {"if": "agents_online", "is": true}]}"#,
    ),
    (
        "Mobile visitors reading in German",
        r#"{"if": "all", "of": [{"if": "device", "is": "mobile"}, {"if": "language", "prefix": "de"}]}"#,
    ),
];

#[derive(Clone, Debug, PartialEq, Default)]
struct Draft {
    existing: bool,
    id: String,
    name: String,
    enabled: bool,
    priority: String,
    text: String,
    image_url: String,
    buttons: String,
    once_per_visitor: bool,
    once_per_session: bool,
    cooldown: String,
    when: String,
}

/// JSON indented for a person to edit. The browser indents it: serde_json's pretty printer
/// would add its own copy of every serializer to the download.
fn indented(v: &impl serde::Serialize) -> String {
    let compact = serde_json::to_string(v).unwrap_or_default();
    #[cfg(target_arch = "wasm32")]
    if let Some(s) = js_sys::JSON::parse(&compact)
        .and_then(|v| {
            js_sys::JSON::stringify_with_replacer_and_space(
                &v,
                &wasm_bindgen::JsValue::NULL,
                &wasm_bindgen::JsValue::from(2),
            )
        })
        .ok()
        .and_then(|s| s.as_string())
    {
        return s;
    }
    compact
}

impl Draft {
    fn new() -> Draft {
        Draft {
            enabled: true,
            priority: "0".into(),
            when: EXAMPLES[0].1.into(),
            buttons: "[]".into(),
            ..Default::default()
        }
    }

    fn from_rule(r: &Rule) -> Draft {
        Draft {
            existing: true,
            id: r.id.to_string(),
            name: r.name.clone(),
            enabled: r.enabled,
            priority: r.priority.to_string(),
            text: r.message.text.clone(),
            image_url: r.message.image_url.clone().unwrap_or_default(),
            buttons: serde_json::to_string(&r.message.buttons).unwrap_or_else(|_| "[]".into()),
            once_per_visitor: r.frequency.once_per_visitor,
            once_per_session: r.frequency.once_per_session,
            cooldown: r
                .frequency
                .cooldown_secs
                .map(|c| c.to_string())
                .unwrap_or_default(),
            when: indented(&r.when),
        }
    }

    /// The rule, or what is wrong with the form.
    fn rule(&self) -> Result<Rule, String> {
        let when = beckon_shared::json::parse(&self.when)
            .map_err(|e| format!("Conditions are not valid JSON: {e}"))?;
        let buttons: Vec<CtaButton> =
            beckon_shared::json::decode(if self.buttons.trim().is_empty() {
                "[]"
            } else {
                &self.buttons
            })
            .map_err(|e| format!("Buttons are not valid: {e}"))?;
        let priority: i32 = self
            .priority
            .trim()
            .parse()
            .map_err(|_| "Priority must be a whole number.".to_owned())?;
        let cooldown = match self.cooldown.trim() {
            "" => None,
            c => Some(
                c.parse::<u64>()
                    .map_err(|_| "Cooldown must be a number of seconds.".to_owned())?,
            ),
        };
        let value = json!({
            "id": self.id.trim(), "name": self.name, "enabled": self.enabled, "priority": priority, "when": when,
            "message": {"text": self.text, "image_url": Some(self.image_url.trim()).filter(|u| !u.is_empty()), "buttons": buttons},
            "frequency": Frequency { once_per_visitor: self.once_per_visitor, once_per_session: self.once_per_session, cooldown_secs: cooldown },
        });
        <Rule as beckon_shared::json::FromJson>::from_json(value)
            .map_err(|e| format!("The rule is not valid: {e}"))
    }
}

#[derive(Properties, PartialEq)]
pub struct RulesPageProps {
    pub admin_key: AttrValue,
    pub site: SiteKey,
    pub site_name: AttrValue,
}

#[function_component]
pub fn RulesPage(props: &RulesPageProps) -> Html {
    let rules = use_state(|| None::<Vec<Rule>>);
    let draft = use_state(|| None::<Draft>);
    let message = use_state(|| None::<(bool, String)>);
    let reload = {
        let (rules, message, key, site) = (
            rules.clone(),
            message.clone(),
            props.admin_key.to_string(),
            props.site.clone(),
        );
        Callback::from(move |_| {
            let (rules, message, key, site) =
                (rules.clone(), message.clone(), key.clone(), site.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match api::list_rules(&key, &site).await {
                    Ok(list) => rules.set(Some(list)),
                    Err(f) => message.set(Some((false, f.describe()))),
                }
            });
        })
    };
    {
        let reload = reload.clone();
        use_effect_with(props.site.clone(), move |_| reload.emit(()));
    }
    let new_rule = {
        let draft = draft.clone();
        Callback::from(move |_| draft.set(Some(Draft::new())))
    };
    let editor = draft.as_ref().map(|d| {
        let on_done = {
            let (draft, reload, message) = (draft.clone(), reload.clone(), message.clone());
            Callback::from(move |m: String| {
                draft.set(None);
                message.set(Some((true, m)));
                reload.emit(());
            })
        };
        let on_cancel = {
            let draft = draft.clone();
            Callback::from(move |_| draft.set(None))
        };
        html! { <RuleEditor draft={d.clone()} admin_key={props.admin_key.clone()} site={props.site.clone()} site_name={props.site_name.clone()} {on_done} {on_cancel} /> }
    });
    html! {
        <section class="settings" aria-labelledby="rules-h">
            <h2 id="rules-h">{ "Proactive rules" }</h2>
            <p class="lead">{ "Reach visitors first: when a rule's conditions hold, its message appears beside the chat button; replies start a conversation that names the rule." }</p>
            if let Some((ok, text)) = &*message { <p class={if *ok { "ok" } else { "error" }} role="status">{ text }</p> }
            if let Some(editor) = editor { { editor } } else {
                <button type="button" class="primary" onclick={new_rule}>{ "New rule" }</button>
                <ul class="rule-list">
                    { for rules.iter().flatten().map(|r| {
                        let edit = { let draft = draft.clone(); let d = Draft::from_rule(r); Callback::from(move |_| draft.set(Some(d.clone()))) };
                        html! {
                            <li key={r.id.to_string()}>
                                <div>
                                    <strong>{ &r.name }</strong>
                                    <span class="meta">{ format!("{} · priority {}{}", r.id, r.priority, if r.enabled { "" } else { " · paused" }) }</span>
                                    <span class="teaser-line">{ &r.message.text }</span>
                                </div>
                                <button type="button" class="secondary" onclick={edit} aria-label={format!("Edit {}", r.name)}>{ "Edit" }</button>
                            </li>
                        }
                    }) }
                </ul>
                if rules.as_ref().is_some_and(|r| r.is_empty()) { <p class="empty">{ "No rules yet." }</p> }
            }
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct RuleEditorProps {
    draft: Draft,
    admin_key: AttrValue,
    site: SiteKey,
    site_name: AttrValue,
    on_done: Callback<String>,
    on_cancel: Callback<()>,
}

#[function_component]
fn RuleEditor(props: &RuleEditorProps) -> Html {
    let draft = use_state(|| props.draft.clone());
    let error = use_state(|| None::<String>);
    let busy = use_state(|| false);
    // One input handler per field.
    let field = |set: fn(&mut Draft, String)| {
        let draft = draft.clone();
        Callback::from(move |e: InputEvent| {
            let value = e
                .target_dyn_into::<HtmlInputElement>()
                .map(|i| i.value())
                .or_else(|| {
                    e.target_dyn_into::<HtmlTextAreaElement>()
                        .map(|t| t.value())
                })
                .unwrap_or_default();
            let mut next = (*draft).clone();
            set(&mut next, value);
            draft.set(next);
        })
    };
    let check = |set: fn(&mut Draft, bool)| {
        let draft = draft.clone();
        Callback::from(move |e: Event| {
            let checked = e
                .target_dyn_into::<HtmlInputElement>()
                .is_some_and(|i| i.checked());
            let mut next = (*draft).clone();
            set(&mut next, checked);
            draft.set(next);
        })
    };
    let on_example = {
        let draft = draft.clone();
        Callback::from(move |e: Event| {
            if let Some(i) = e
                .target_dyn_into::<HtmlSelectElement>()
                .and_then(|s| s.value().parse::<usize>().ok())
            {
                let mut next = (*draft).clone();
                next.when = EXAMPLES[i].1.into();
                draft.set(next);
            }
        })
    };
    let save = {
        let (draft, error, busy) = (draft.clone(), error.clone(), busy.clone());
        let (key, site, on_done) = (
            props.admin_key.to_string(),
            props.site.clone(),
            props.on_done.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let rule = match draft.rule() {
                Ok(r) => r,
                Err(m) => return error.set(Some(m)),
            };
            let existing = draft.existing;
            busy.set(true);
            let (error, busy, key, site, on_done) = (
                error.clone(),
                busy.clone(),
                key.clone(),
                site.clone(),
                on_done.clone(),
            );
            wasm_bindgen_futures::spawn_local(async move {
                match api::save_rule(&key, &site, &rule, existing).await {
                    Ok(r) => on_done.emit(format!("Saved rule \u{201c}{}\u{201d}.", r.name)),
                    Err(f) => error.set(Some(f.describe())),
                }
                busy.set(false);
            });
        })
    };
    let delete = {
        let (draft, error) = (draft.clone(), error.clone());
        let (key, site, on_done) = (
            props.admin_key.to_string(),
            props.site.clone(),
            props.on_done.clone(),
        );
        Callback::from(move |_: MouseEvent| {
            let Ok(id) = RuleId::parse(draft.id.trim()) else {
                return;
            };
            let (error, key, site, on_done) =
                (error.clone(), key.clone(), site.clone(), on_done.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match api::delete_rule(&key, &site, &id).await {
                    Ok(()) => on_done.emit(format!("Deleted rule {id}.")),
                    Err(f) => error.set(Some(f.describe())),
                }
            });
        })
    };
    let cancel = props.on_cancel.reform(|_: MouseEvent| ());
    let d = &*draft;
    let preview_buttons: Vec<CtaButton> =
        beckon_shared::json::decode(&d.buttons).unwrap_or_default();
    html! {
        <div class="rule-editor">
            <form class="channel-card" onsubmit={save} aria-label="Rule">
                <div class="grid">
                    <label for="rule-id">{ "Id (a-z, 0-9, -, _)" }
                        <input id="rule-id" value={d.id.clone()} oninput={field(|d, v| d.id = v)} disabled={d.existing} /></label>
                    <label for="rule-name">{ "Name" }<input id="rule-name" value={d.name.clone()} oninput={field(|d, v| d.name = v)} /></label>
                    <label for="rule-priority">{ "Priority (higher wins)" }
                        <input id="rule-priority" value={d.priority.clone()} oninput={field(|d, v| d.priority = v)} /></label>
                </div>
                <label class="wide" for="rule-text">{ "Message" }
                    <textarea id="rule-text" rows="2" value={d.text.clone()} oninput={field(|d, v| d.text = v)} /></label>
                <div class="grid">
                    <label for="rule-image">{ "Image URL (optional)" }
                        <input id="rule-image" value={d.image_url.clone()} oninput={field(|d, v| d.image_url = v)} /></label>
                    <label for="rule-cooldown">{ "Cooldown, seconds (optional)" }
                        <input id="rule-cooldown" value={d.cooldown.clone()} oninput={field(|d, v| d.cooldown = v)} /></label>
                </div>
                <label class="wide" for="rule-buttons">{ r#"Buttons (JSON): [{"label": "Help me choose", "action": "reply"}, {"label": "Pricing", "action": "link", "url": "/pricing"}]"# }
                    <textarea id="rule-buttons" rows="2" value={d.buttons.clone()} oninput={field(|d, v| d.buttons = v)} /></label>
                <label class="check"><input type="checkbox" checked={d.once_per_visitor} onchange={check(|d, v| d.once_per_visitor = v)} />{ " Once per visitor" }</label>
                <label class="check"><input type="checkbox" checked={d.once_per_session} onchange={check(|d, v| d.once_per_session = v)} />{ " Once per session" }</label>
                <label class="check"><input type="checkbox" checked={d.enabled} onchange={check(|d, v| d.enabled = v)} />{ " Enabled" }</label>
                <label class="wide" for="rule-example">{ "Start from an example" }
                    <select id="rule-example" onchange={on_example}>
                        <option value="" selected=true disabled=true>{ "Choose…" }</option>
                        { for EXAMPLES.iter().enumerate().map(|(i, (label, _))| html! { <option value={i.to_string()}>{ *label }</option> }) }
                    </select>
                </label>
                <label class="wide" for="rule-when">{ "Conditions (JSON)" }
                    <textarea id="rule-when" class="code" rows="8" value={d.when.clone()} oninput={field(|d, v| d.when = v)} /></label>
                if let Some(e) = &*error { <p class="error" role="alert">{ e }</p> }
                <div class="actions">
                    <button type="submit" disabled={*busy}>{ "Save rule" }</button>
                    <button type="button" class="secondary" onclick={cancel}>{ "Cancel" }</button>
                    if d.existing { <button type="button" class="danger" onclick={delete}>{ "Delete" }</button> }
                </div>
            </form>
            <aside class="preview" aria-label="Teaser preview">
                <h3>{ "Preview" }</h3>
                <div class="preview-frame">
                    <Teaser from={props.site_name.clone()} text={AttrValue::from(if d.text.is_empty() { "Your message".to_owned() } else { d.text.clone() })}
                        image_url={Some(d.image_url.clone()).filter(|u| !u.is_empty()).map(AttrValue::from)} buttons={preview_buttons}
                        on_open={Callback::noop()} on_dismiss={Callback::noop()} on_button={Callback::noop()} />
                </div>
            </aside>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drafts_round_trip_to_rules() {
        let mut d = Draft::new();
        d.id = "pricing-help".into();
        d.name = "Pricing help".into();
        d.text = "Questions about plans?".into();
        d.buttons = r#"[{"label": "Yes", "action": "reply"}]"#.into();
        d.once_per_visitor = true;
        d.cooldown = "600".into();
        let rule = d.rule().unwrap();
        assert_eq!(rule.frequency.cooldown_secs, Some(600));
        assert_eq!(Draft::from_rule(&rule).rule().unwrap(), rule);
        d.when = "{not json".into();
        assert!(d.rule().unwrap_err().contains("not valid JSON"));
        for (_, example) in EXAMPLES {
            let mut e = Draft::new();
            e.id = "x".into();
            e.name = "x".into();
            e.text = "x".into();
            e.when = (*example).into();
            assert!(e.rule().unwrap().validated().is_ok(), "{example}");
        }
    }
}
