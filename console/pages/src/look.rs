//! The widget's settings (owners): name, greeting, colour, theme, the launcher's corner, offsets,
//! icon and label, the font, and attention — with the real widget beside the form, showing the
//! unsaved draft (`POST …/preview` checks it as saving would, and its link runs the loader and
//! the chat with it), closed or open, at desktop or phone width. Saving is one `PATCH`.

use crate::broadcasts::{admin, input_value, url};
use beckon_shared::SiteKey;
use gloo_timers::callback::{Interval, Timeout};
use serde_json::{json, Value};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct LookProps {
    pub admin_key: AttrValue,
    pub site: SiteKey,
}

/// How long the form must be still before the preview follows it (ms).
const SETTLE_MS: u32 = 400;

/// How often the preview's link is renewed (ms; a link works for 10 minutes).
const RENEW_MS: u32 = 8 * 60 * 1000;

/// The fields of a site's settings (`GET …/sites/{site}`) this page edits, as the draft it sends.
fn draft_of(site: &Value) -> Value {
    let l = &site["launcher"];
    json!({
        "name": site["name"],
        "greeting": site["greeting"],
        "accent": site["accent"],
        "theme": site["theme"],
        "position": site["position"],
        "launcher": { "icon": l["icon"], "x": l["x"], "y": l["y"], "label": l["label"] },
        "font": site["font"],
        "attention": site["attention"],
    })
}

/// `draft` with `value` at `path`; an empty text is `null` (no label, no font: the defaults).
fn with(draft: &Value, path: &[&str], value: Value) -> Value {
    let mut out = draft.clone();
    let (last, parents) = path.split_last().expect("a path");
    let at = parents.iter().try_fold(&mut out, |v, k| v.get_mut(*k));
    let empty = value.as_str().is_some_and(|s| s.trim().is_empty());
    let value = if empty && matches!(*last, "label" | "font") {
        Value::Null
    } else {
        value
    };
    if let Some(Value::Object(object)) = at {
        object.insert((*last).into(), value);
    }
    out
}

/// The form's values (`None` until the site's settings are read).
#[derive(PartialEq)]
struct Draft(Option<Value>);

enum Edit {
    Load(Value),
    /// A field's new value, applied to the draft as it is then (several changes may come
    /// between two renders).
    Set(&'static [&'static str], Value),
}

impl Reducible for Draft {
    type Action = Edit;
    fn reduce(self: std::rc::Rc<Self>, edit: Edit) -> std::rc::Rc<Self> {
        std::rc::Rc::new(Draft(match (edit, &self.0) {
            (Edit::Load(v), _) => Some(v),
            (Edit::Set(path, value), Some(d)) => Some(with(d, path, value)),
            (Edit::Set(..), None) => None,
        }))
    }
}

/// What a control edits and how.
enum Control {
    /// One line, at most this many characters; empty is the default.
    Line(u32, &'static str),
    Area,
    Color,
    /// Pixels, 0 to 240.
    Offset,
    Choice(&'static [(&'static str, &'static str)]),
    Check,
}

/// A control: its label, where its value is in the draft, and how it edits it.
type Field = (&'static str, &'static [&'static str], Control);

/// The form: groups of controls, with the group's legend (none: loose in the form) and whether
/// they go two by two.
const FIELDS: &[(Option<&str>, bool, &[Field])] = &[
    (
        None,
        false,
        &[
            (
                "Business name (the chat's title)",
                &["name"],
                Control::Line(80, ""),
            ),
            (
                "Greeting (the first line of an empty chat)",
                &["greeting"],
                Control::Area,
            ),
        ],
    ),
    (
        None,
        true,
        &[
            ("Colour", &["accent"], Control::Color),
            (
                "Theme",
                &["theme"],
                Control::Choice(&[
                    ("light", "Light"),
                    ("dark", "Dark"),
                    ("system", "As the visitor's device"),
                ]),
            ),
        ],
    ),
    (
        Some("Launcher"),
        true,
        &[
            (
                "Corner",
                &["position"],
                Control::Choice(&[("right", "Bottom right"), ("left", "Bottom left")]),
            ),
            (
                "Icon",
                &["launcher", "icon"],
                Control::Choice(&[
                    ("chat", "Speech bubble"),
                    ("help", "Question mark"),
                    ("mail", "Envelope"),
                ]),
            ),
            (
                "From the side (px, 0–240)",
                &["launcher", "x"],
                Control::Offset,
            ),
            (
                "From the bottom (px, 0–240)",
                &["launcher", "y"],
                Control::Offset,
            ),
            (
                "Label beside the icon (optional, up to 32 characters)",
                &["launcher", "label"],
                Control::Line(32, "Questions?"),
            ),
        ],
    ),
    (
        None,
        false,
        &[(
            "Font (optional: families installed on visitors' devices, e.g. Georgia, serif)",
            &["font"],
            Control::Line(200, "The system's"),
        )],
    ),
    (
        Some("While the chat is closed, an answer…"),
        false,
        &[
            (
                "counts in the page's title: (1) Your shop",
                &["attention", "title"],
                Control::Check,
            ),
            (
                "plays a short chime",
                &["attention", "sound"],
                Control::Check,
            ),
            (
                "shows a browser notification (visitors are asked first)",
                &["attention", "notify"],
                Control::Check,
            ),
        ],
    ),
];

/// One group of [`FIELDS`].
fn group(
    (legend, pairs, fields): &(Option<&str>, bool, &[Field]),
    draft: &Value,
    change: &Callback<(&'static [&'static str], Value)>,
) -> Html {
    let controls = html! { <>{ for fields.iter().map(|f| control(f, draft, change)) }</> };
    let controls = if *pairs {
        html! { <div class="pair">{ controls }</div> }
    } else {
        controls
    };
    match legend {
        Some(l) => html! { <fieldset><legend>{ *l }</legend>{ controls }</fieldset> },
        None => controls,
    }
}

/// One control of [`FIELDS`], showing `draft`'s value and telling `change` its new one.
fn control(
    (label, path, kind): &Field,
    draft: &Value,
    change: &Callback<(&'static [&'static str], Value)>,
) -> Html {
    let path: &'static [&'static str] = path;
    let now = path.iter().fold(draft, |v, k| &v[*k]);
    let text = match now {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.as_u64().unwrap_or_default().to_string(),
        _ => String::new(),
    };
    let check = matches!(kind, Control::Check);
    let number = matches!(kind, Control::Offset);
    let onchange = change.reform(move |e: Event| {
        let value = if check {
            Value::Bool(checked(&e))
        } else {
            let raw = input_value(&e);
            // An offset is a whole number of px (a fraction cut off; empty: the default, 20);
            // the edge says when it is out of range.
            match (number, raw.trim()) {
                (true, "") => 20.into(),
                // (Whole px: no float parsing, which would weigh ~14 KB here.)
                (true, n) => n
                    .split('.')
                    .next()
                    .and_then(|n| n.parse::<i64>().ok())
                    .map_or(raw.into(), Value::from),
                (false, _) => raw.into(),
            }
        };
        (path, value)
    });
    let input = match kind {
        Control::Line(max, hint) => {
            html! { <input value={text} maxlength={max.to_string()} placeholder={*hint} {onchange} /> }
        }
        Control::Area => html! { <textarea rows="2" value={text} {onchange} /> },
        Control::Color => html! { <input type="color" value={text} {onchange} /> },
        Control::Offset => {
            html! { <input type="number" min="0" max="240" value={text} {onchange} /> }
        }
        Control::Choice(options) => html! {
            <select {onchange}>
                { for options.iter().map(|(v, l)| html! { <option value={*v} selected={text == *v}>{ *l }</option> }) }
            </select>
        },
        Control::Check => {
            let on = now.as_bool().unwrap_or(false);
            return html! { <label class="check"><input type="checkbox" checked={on} {onchange} />{ *label }</label> };
        }
    };
    html! { <label>{ *label }{ input }</label> }
}

/// Whether the checkbox that fired `e` is ticked.
fn checked(e: &Event) -> bool {
    e.target_dyn_into::<web_sys::HtmlInputElement>()
        .is_some_and(|i| i.checked())
}

#[function_component]
pub fn LookPage(props: &LookProps) -> Html {
    let draft = use_reducer(|| Draft(None));
    let preview = use_state(|| None::<String>);
    let error = use_state(|| None::<String>);
    let saved = use_state(|| None::<&'static str>);
    let open = use_state(|| true);
    let phone = use_state(|| false);
    {
        let (draft, error) = (draft.clone(), error.clone());
        let (key, path) = (props.admin_key.to_string(), url(&props.site, ""));
        use_effect_with(props.site.clone(), move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                match admin(&key, "GET", path.trim_end_matches('/'), None).await {
                    Ok(site) => draft.dispatch(Edit::Load(draft_of(&site))),
                    Err(e) => error.set(Some(e.describe())),
                }
            });
        });
    }
    // A preview link works for 10 minutes: a fresh one well before. (Open / Closed and the
    // width reload the preview with the link it has: one load each.)
    let renew = use_state(|| 0u32);
    {
        let renew = renew.clone();
        use_effect_with((), move |_| {
            let mut n = 0;
            let every = Interval::new(RENEW_MS, move || {
                n += 1;
                renew.set(n);
            });
            move || drop(every)
        });
    }
    // The preview follows the draft once it has been still a moment; a draft that would not
    // save says why instead. Only the latest request's answer counts.
    let latest = use_mut_ref(|| 0u32);
    {
        let (preview, error) = (preview.clone(), error.clone());
        let (key, path) = (props.admin_key.to_string(), url(&props.site, "preview"));
        use_effect_with((draft.0.clone(), *renew), move |(draft, _)| {
            let timer = draft.clone().map(|body| {
                Timeout::new(SETTLE_MS, move || {
                    *latest.borrow_mut() += 1;
                    let mine = *latest.borrow();
                    wasm_bindgen_futures::spawn_local(async move {
                        let answer = admin(&key, "POST", &path, Some(body)).await;
                        if *latest.borrow() != mine {
                            return;
                        }
                        match answer {
                            Ok(v) => {
                                preview.set(v["url"].as_str().map(str::to_owned));
                                error.set(None);
                            }
                            Err(e) => error.set(Some(e.describe())),
                        }
                    });
                })
            });
            move || drop(timer)
        });
    }
    let Some(current) = draft.0.clone() else {
        return html! {
            <section class="settings look" aria-label="Widget">
                <h2>{ "Widget" }</h2>
                if let Some(e) = &*error { <p class="error" role="alert">{ e }</p> } else { <p role="status">{ "Loading…" }</p> }
            </section>
        };
    };
    // A field's change: the draft with its new value.
    let change = {
        let (draft, saved) = (draft.clone(), saved.clone());
        Callback::from(move |(path, value): (&'static [&'static str], Value)| {
            draft.dispatch(Edit::Set(path, value));
            saved.set(None);
        })
    };
    let onsubmit = {
        let (draft, error, saved) = (draft.clone(), error.clone(), saved.clone());
        let (key, path) = (props.admin_key.to_string(), url(&props.site, ""));
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let Some(body) = draft.0.clone() else { return };
            let (error, saved, key, path) =
                (error.clone(), saved.clone(), key.clone(), path.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match admin(&key, "PATCH", path.trim_end_matches('/'), Some(body)).await {
                    Ok(_) => {
                        error.set(None);
                        saved.set(Some(
                            "Saved: visitors get it on their next page (within a minute).",
                        ));
                    }
                    Err(e) => error.set(Some(e.describe())),
                }
            });
        })
    };
    let src = (*preview).as_ref().map(|u| {
        if *open {
            format!("{u}&open=1")
        } else {
            u.clone()
        }
    });
    let choice = |state: &UseStateHandle<bool>, value: bool, label: &'static str| {
        let s = state.clone();
        html! {
            <button type="button" aria-pressed={(**state == value).to_string()} onclick={Callback::from(move |_| s.set(value))}>{ label }</button>
        }
    };
    html! {
        <section class="settings look" aria-label="Widget">
            <h2>{ "Widget" }</h2>
            <p class="lead">{ "How the chat looks on your site. The preview is the real widget with your changes, before you save them. Opening hours, the pre-chat form and words in other languages are set through the API (see the README)." }</p>
            <div class="look-columns">
                <form class="broadcast-form look-form" {onsubmit} aria-label="Widget settings">
                    { for FIELDS.iter().map(|g| group(g, &current, &change)) }
                    if let Some(e) = &*error { <p class="error" role="alert">{ e }</p> }
                    if let Some(s) = *saved { <p class="done" role="status">{ s }</p> }
                    <button type="submit">{ "Save" }</button>
                </form>
                <div class="look-preview">
                    <div class="preview-controls">
                        <div class="actions" role="group" aria-label="Panel">{ choice(&open, true, "Open") }{ choice(&open, false, "Closed") }</div>
                        <div class="actions" role="group" aria-label="Width">{ choice(&phone, false, "Desktop") }{ choice(&phone, true, "Phone") }</div>
                    </div>
                    if let Some(src) = src {
                        <iframe class={classes!("look-frame", phone.then_some("phone"))} title="Preview of the widget" {src} />
                    } else {
                        <p role="status">{ "Preparing the preview…" }</p>
                    }
                    <p class="hint">{ "A message written in the preview is a real conversation, like one from your site." }</p>
                </div>
            </div>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_draft_takes_the_edited_fields_and_empty_texts_are_the_defaults() {
        let site = json!({"name": "Shop", "greeting": "Hi", "accent": "#0f766e", "theme": "light",
            "position": "right", "launcher": {"icon": "chat", "x": 20, "y": 20, "label": "Ask"},
            "font": null, "attention": {"title": false, "sound": false, "notify": false},
            "allowed_origins": ["https://shop.example"], "rate_tier": "standard"});
        let d = draft_of(&site);
        assert_eq!(d.get("allowed_origins"), None, "only what the page edits");
        assert_eq!(d["launcher"]["label"], "Ask");
        let d = with(&d, &["launcher", "label"], " ".into());
        assert_eq!(d["launcher"]["label"], Value::Null, "no label");
        let d = with(&d, &["font"], "".into());
        assert_eq!(d["font"], Value::Null);
        let d = with(&d, &["launcher", "x"], 48.into());
        assert_eq!(
            d["launcher"],
            json!({"icon": "chat", "x": 48, "y": 20, "label": null})
        );
        let d = with(&d, &["attention", "sound"], true.into());
        assert_eq!(d["attention"]["sound"], true);
    }
}
