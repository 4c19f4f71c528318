//! The pre-chat form: the site's questions before a visitor's first message — name, email and
//! fields of its own — in place of the composer. The edge renders its controls in the
//! visitor's language (every text escaped; `edge/src/pages.rs`); the browser checks them
//! (required answers, an address with a dot in its domain) before anything is taken, and the
//! answers go out with `identify` once the visitor has written.

use beckon_client::api::Traits;
use serde_json::Value;
use yew::prelude::*;

/// Reads the answers of the form's named controls (the site's fields are named `f-<key>`).
/// As `identify` takes them: `name`, `email`, and `attributes`, the site's fields.
fn answers(form: &web_sys::Element) -> Traits {
    let (mut who, mut attributes) = (Traits::new(), Traits::new());
    let Ok(controls) = form.query_selector_all("[name]") else {
        return who;
    };
    for i in 0..controls.length() {
        let Some(c) = controls.item(i) else { continue };
        let get = |k: &str| js_sys::Reflect::get(&c, &k.into()).unwrap_or_default();
        let name = get("name").as_string().unwrap_or_default();
        let value = if get("type").as_string().as_deref() == Some("checkbox") {
            if get("checked").is_truthy() {
                "yes"
            } else {
                "no"
            }
            .to_owned()
        } else {
            get("value")
                .as_string()
                .unwrap_or_default()
                .trim()
                .to_owned()
        };
        if value.is_empty() {
            continue;
        }
        match name.strip_prefix("f-") {
            Some(key) => attributes.insert(key.to_owned(), value.into()),
            None => who.insert(name, value.into()),
        };
    }
    if !attributes.is_empty() {
        who.insert("attributes".into(), Value::Object(attributes));
    }
    who
}

/// The form around its controls (`html`, from the widget's page); `on_submit` gets the answers
/// (name, email, and the site's fields as attributes). A plain function, not a component: it
/// has no state of its own.
pub fn view(html: &AttrValue, on_submit: &Callback<Traits>) -> Html {
    let on_submit = on_submit.clone();
    let onsubmit = Callback::from(move |e: SubmitEvent| {
        e.prevent_default();
        if let Some(f) = e.target_dyn_into::<web_sys::Element>() {
            on_submit.emit(answers(&f));
        }
    });
    html! {
        <form class="prechat" {onsubmit}>{ Html::from_html_unchecked(html.clone()) }</form>
    }
}
