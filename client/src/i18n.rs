//! The texts of the visitor's language in the browser: a [`Catalog`] (the edge's, from the
//! widget's page), English where it has no translation. Everything reads the one [`current`]
//! catalog — components as they render, and the rest (an upload's refusal, a notice) when it
//! happens. An app keeps its language: `Beckon.setLocale` after it loaded starts a new one in
//! the new language. The inbox sets none and speaks English.

use beckon_shared::i18n::{fill, Locale, Text};
use serde_json::{Map, Value};
use std::cell::RefCell;
use std::rc::Rc;

#[derive(Debug, Default)]
pub struct Catalog {
    pub locale: Locale,
    texts: Map<String, Value>,
}

impl Catalog {
    pub fn new(locale: Locale, texts: Map<String, Value>) -> Catalog {
        Catalog { locale, texts }
    }

    /// `t`, or its English.
    pub fn t(&self, t: Text) -> &str {
        self.texts
            .get(t.key())
            .and_then(Value::as_str)
            .unwrap_or(t.en())
    }

    /// `t` with its placeholders filled.
    pub fn f(&self, t: Text, values: &[(&str, &str)]) -> String {
        fill(self.t(t), values)
    }

    /// A counted text for `n`: the plural form `Intl.PluralRules` chooses in this language
    /// (`other` if the catalog lacks it), `{n}` filled.
    pub fn count(&self, t: Text, n: usize) -> String {
        let n_text = n.to_string();
        let Some(forms) = self.texts.get(t.key()).and_then(Value::as_object) else {
            return fill(t.en(), &[("n", &n_text)]);
        };
        let locales = js_sys::Array::of1(&self.locale.code().into());
        let category = js_sys::Intl::PluralRules::new(&locales, &js_sys::Object::new())
            .select(n as f64)
            .as_string()
            .unwrap_or_default();
        let form = forms
            .get(&category)
            .or_else(|| forms.get("other"))
            .and_then(Value::as_str)
            .unwrap_or(t.en());
        fill(form, &[("n", &n_text)])
    }

    /// A time of day as the visitor's language writes it (`14:05`, `2:05 PM`, `٢:٠٥ م`), after
    /// its short weekday with `weekday` (`Mon 09:00`).
    pub fn clock(&self, ms: i64, weekday: bool) -> String {
        let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
        let options = js_sys::Object::new();
        if weekday {
            let _ = js_sys::Reflect::set(&options, &"weekday".into(), &"short".into());
        }
        let _ = js_sys::Reflect::set(&options, &"hour".into(), &"numeric".into());
        let _ = js_sys::Reflect::set(&options, &"minute".into(), &"2-digit".into());
        d.to_locale_time_string_with_options(self.locale.code(), &options)
            .into()
    }
}

/// Why the edge refused something, for the person in front of the browser: in English the
/// edge's own sentence (it says most), in another language the translation of its code.
pub fn refusal(code: beckon_shared::proto::v1::ErrorCode, message: &str) -> String {
    let tx = current();
    // `Unknown` refusals are the client's own (a cancelled upload), already in the language.
    let ours = code == beckon_shared::proto::v1::ErrorCode::Unknown;
    if (tx.locale == Locale::En || ours) && !message.is_empty() {
        message.to_owned()
    } else {
        tx.t(Text::for_error(code)).to_owned()
    }
}

thread_local! {
    static CURRENT: RefCell<Rc<Catalog>> = RefCell::default();
}

/// The catalog in use (English until the app sets one).
pub fn current() -> Rc<Catalog> {
    CURRENT.with(|c| c.borrow().clone())
}

pub fn set(catalog: Rc<Catalog>) {
    CURRENT.with(|c| *c.borrow_mut() = catalog);
}
