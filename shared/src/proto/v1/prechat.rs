//! A site's pre-chat form: name, email and up to [`MAX_PRECHAT_FIELDS`] fields of its own,
//! asked before a visitor's first message, with labels per language. The edge renders it in
//! the visitor's language into the widget's page (`edge/src/pages.rs`); the answers come back
//! with `identify`: name and email, and the fields as contact `attributes` (only the form's own
//! fields, with answers they take: [`PrechatForm::check_answers`]).

use super::ErrorCode;
use crate::i18n::Locale;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// At most this many fields of the site's own.
pub const MAX_PRECHAT_FIELDS: usize = 5;
/// At most this many choices in a `select`.
pub const MAX_PRECHAT_CHOICES: usize = 20;
/// Labels and choices: one line of at most this many characters.
pub const MAX_PRECHAT_LABEL_CHARS: usize = 120;
/// An answer: one line of at most this many characters.
pub const MAX_PRECHAT_ANSWER_CHARS: usize = 200;

crate::named! {
/// Whether the form asks for the name or the email.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Ask {
    #[default]
    Off = "off",
    Optional = "optional",
    Required = "required",
}
}

crate::named! {
/// How a field of the site's own is answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldKind: other Unknown {
    /// One line of text.
    Text = "text",
    /// One of the field's choices.
    Select = "select",
    /// Ticked or not (`yes` / `no`); a required one must be ticked.
    Checkbox = "checkbox",
    /// A kind this widget version does not know (not shown).
    Unknown = "unknown",
}
}

/// `"prechat"` of a site (`null`: no form).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
#[serde(deny_unknown_fields)]
pub struct PrechatForm {
    #[serde(default)]
    pub name: Ask,
    #[serde(default)]
    pub email: Ask,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<PrechatField>,
}

/// A field of the site's own: it fills the contact attribute `key`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
#[serde(deny_unknown_fields)]
pub struct PrechatField {
    /// Letters, digits and `_`, at most 40.
    pub key: String,
    pub kind: FieldKind,
    /// Per language; English (`en`) is required and used for every language without one.
    pub label: BTreeMap<Locale, String>,
    #[serde(default)]
    pub required: bool,
    /// A `select`'s choices (2 to 20).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<PrechatChoice>,
}

/// One choice of a `select`: the value stored, its label per language (English required).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
#[serde(deny_unknown_fields)]
pub struct PrechatChoice {
    pub value: String,
    pub label: BTreeMap<Locale, String>,
}

fn bad<T>(message: String) -> Result<T, (ErrorCode, String)> {
    Err((ErrorCode::BadRequest, message))
}

/// One line, not empty, at most `max` characters.
fn line(s: &str, max: usize) -> bool {
    !s.trim().is_empty() && s.chars().count() <= max && !s.chars().any(char::is_control)
}

/// Checks every label: English present, each one line.
fn labels(l: &BTreeMap<Locale, String>, at: &str) -> Result<(), (ErrorCode, String)> {
    if !l.contains_key(&Locale::En) {
        return bad(format!("{at}.label needs English (\"en\")"));
    }
    for (locale, text) in l {
        if !line(text, MAX_PRECHAT_LABEL_CHARS) {
            return bad(format!(
                "{at}.label.{}: one line of at most {MAX_PRECHAT_LABEL_CHARS} characters",
                locale.code()
            ));
        }
    }
    Ok(())
}

/// A label in `locale`, else English.
pub fn label_in(l: &BTreeMap<Locale, String>, locale: Locale) -> String {
    l.get(&locale)
        .or_else(|| l.get(&Locale::En))
        .cloned()
        .unwrap_or_default()
}

impl PrechatForm {
    /// Checks the fields, their keys (unique), labels and choices; or says what is wrong.
    pub fn validated(mut self) -> Result<PrechatForm, (ErrorCode, String)> {
        // Keys name contact attributes, which a CSV import writes in lower case: a key saved
        // as typed would come back from an export under another name.
        for f in &mut self.fields {
            f.key.make_ascii_lowercase();
        }
        if self.fields.len() > MAX_PRECHAT_FIELDS {
            return bad(format!("prechat: at most {MAX_PRECHAT_FIELDS} fields"));
        }
        if self.name == Ask::Off && self.email == Ask::Off && self.fields.is_empty() {
            return bad("prechat: ask for a name, an email or a field (or set it to null)".into());
        }
        for (i, f) in self.fields.iter().enumerate() {
            let at = format!("prechat.fields[{i}]");
            let key_ok = !f.key.is_empty()
                && f.key.len() <= 40
                && f.key
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_');
            if !key_ok {
                return bad(format!(
                    "{at}.key: letters, digits and _, at most 40 (it names the contact attribute)"
                ));
            }
            if self.fields[..i].iter().any(|g| g.key == f.key) {
                return bad(format!("{at}.key: \"{}\" is used twice", f.key));
            }
            labels(&f.label, &at)?;
            match f.kind {
                FieldKind::Select => {
                    if !(2..=MAX_PRECHAT_CHOICES).contains(&f.choices.len()) {
                        return bad(format!(
                            "{at}.choices: a select has 2 to {MAX_PRECHAT_CHOICES} choices"
                        ));
                    }
                    for (j, c) in f.choices.iter().enumerate() {
                        let at = format!("{at}.choices[{j}]");
                        // Answers come back trimmed.
                        if !line(&c.value, MAX_PRECHAT_ANSWER_CHARS) || c.value.trim() != c.value {
                            return bad(format!("{at}.value: one line of at most {MAX_PRECHAT_ANSWER_CHARS} characters"));
                        }
                        labels(&c.label, &at)?;
                    }
                }
                FieldKind::Unknown => {
                    return bad(format!("{at}.kind: text, select or checkbox"));
                }
                _ if !f.choices.is_empty() => {
                    return bad(format!("{at}.choices: only a select has choices"));
                }
                _ => {}
            }
        }
        Ok(self)
    }

    /// Checks a visitor's answers (`identify`'s `attributes`): only the form's own keys, a
    /// select's own values, a checkbox's `yes` or `no`, one line each.
    pub fn check_answers(
        form: Option<&PrechatForm>,
        answers: &BTreeMap<String, String>,
    ) -> Result<(), (ErrorCode, String)> {
        for (key, value) in answers {
            let Some(f) = form.and_then(|f| f.fields.iter().find(|f| f.key == *key)) else {
                return bad(format!(
                    "attributes: \"{key}\" is not a field of this site's pre-chat form"
                ));
            };
            let ok = match f.kind {
                FieldKind::Select => f.choices.iter().any(|c| c.value == *value),
                FieldKind::Checkbox => value == "yes" || value == "no",
                _ => line(value, MAX_PRECHAT_ANSWER_CHARS),
            };
            if !ok {
                return bad(format!("attributes.{key}: not an answer this field takes"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn form(v: serde_json::Value) -> Result<PrechatForm, String> {
        serde_json::from_value::<PrechatForm>(v)
            .map_err(|e| e.to_string())?
            .validated()
            .map_err(|e| e.1)
    }

    fn shop() -> PrechatForm {
        form(json!({"name": "required", "email": "optional", "fields": [
            {"key": "order", "kind": "text", "label": {"en": "Order number", "de": "Bestellnummer"}},
            {"key": "topic", "kind": "select", "required": true, "label": {"en": "Topic"},
             "choices": [{"value": "shipping", "label": {"en": "Shipping", "de": "Versand"}},
                         {"value": "returns", "label": {"en": "Returns"}}]},
            {"key": "terms", "kind": "checkbox", "required": true, "label": {"en": "I accept the terms"}}]}))
        .unwrap()
    }

    #[test]
    fn labels_speak_the_visitors_language_or_english() {
        let f = shop();
        assert_eq!(label_in(&f.fields[0].label, Locale::De), "Bestellnummer");
        assert_eq!(label_in(&f.fields[1].label, Locale::De), "Topic");
        assert_eq!(
            label_in(&f.fields[1].choices[0].label, Locale::De),
            "Versand"
        );
        assert_eq!(
            label_in(&f.fields[1].choices[1].label, Locale::Ar),
            "Returns"
        );
    }

    #[test]
    fn a_bad_form_is_refused_with_a_reason() {
        let field = |f: serde_json::Value| form(json!({"fields": [f]})).unwrap_err();
        let e = field(json!({"key": "a b", "kind": "text", "label": {"en": "A"}}));
        assert!(e.contains("letters, digits and _"), "{e}");
        let e = field(json!({"key": "a", "kind": "text", "label": {"de": "A"}}));
        assert!(e.contains("needs English"), "{e}");
        let e = field(json!({"key": "a", "kind": "select", "label": {"en": "A"}, "choices": []}));
        assert!(e.contains("2 to 20 choices"), "{e}");
        let e = field(json!({"key": "a", "kind": "text", "label": {"en": "A"},
                             "choices": [{"value": "x", "label": {"en": "X"}}]}));
        assert!(e.contains("only a select"), "{e}");
        let e = field(json!({"key": "a", "kind": "slider", "label": {"en": "A"}}));
        assert!(e.contains("text, select or checkbox"), "{e}");
        let e = field(json!({"key": "a", "kind": "text", "label": {"en": "line\nbreak"}}));
        assert!(e.contains("one line"), "{e}");
        let six: Vec<_> = (0..6)
            .map(|i| json!({"key": format!("f{i}"), "kind": "text", "label": {"en": "F"}}))
            .collect();
        assert!(form(json!({ "fields": six }))
            .unwrap_err()
            .contains("at most 5 fields"));
        let twice = json!({"key": "a", "kind": "text", "label": {"en": "A"}});
        assert!(form(json!({"fields": [twice, twice]}))
            .unwrap_err()
            .contains("used twice"));
        assert!(form(json!({})).unwrap_err().contains("set it to null"));
        assert!(form(json!({"name": "sometimes"})).is_err());
    }

    #[test]
    fn keys_are_kept_in_lower_case_as_an_import_names_attributes() {
        let text = |key: &str| json!({"key": key, "kind": "text", "label": {"en": "A"}});
        let f = form(json!({"fields": [text("orderNumber")]})).unwrap();
        assert_eq!(f.fields[0].key, "ordernumber");
        let e = form(json!({"fields": [text("Order"), text("order")]})).unwrap_err();
        assert!(e.contains("\"order\" is used twice"), "{e}");
    }

    #[test]
    fn answers_only_fill_the_forms_own_fields() {
        let f = shop();
        let answers = |v: serde_json::Value| -> BTreeMap<String, String> {
            serde_json::from_value(v).unwrap()
        };
        let ok = answers(json!({"order": "A-1009", "topic": "returns", "terms": "yes"}));
        assert!(PrechatForm::check_answers(Some(&f), &ok).is_ok());
        for (bad, why) in [
            (json!({"plan": "enterprise"}), "not a field"),
            (json!({"topic": "refunds"}), "not an answer"),
            (json!({"terms": "maybe"}), "not an answer"),
            (json!({"order": "a\nb"}), "not an answer"),
        ] {
            let e = PrechatForm::check_answers(Some(&f), &answers(bad)).unwrap_err();
            assert!(e.1.contains(why), "{}", e.1);
        }
        assert!(PrechatForm::check_answers(None, &answers(json!({"order": "1"}))).is_err());
        assert!(PrechatForm::check_answers(None, &BTreeMap::new()).is_ok());
    }
}
