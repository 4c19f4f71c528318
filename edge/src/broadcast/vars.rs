//! Variables in a broadcast's text: `{{first_name}}`, or `{{first_name|there}}` with a
//! fallback for recipients without a value. Parsed once when the broadcast is accepted;
//! rendering a recipient without a value and without a fallback is an error, so such a
//! broadcast is refused before anything is sent.

/// A parsed text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Text {
    parts: Vec<Part>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Literal(String),
    Var {
        name: String,
        fallback: Option<String>,
    },
}

/// The longest variable name.
const MAX_NAME: usize = 40;

impl Text {
    /// Parses `s`; the error says what is wrong and where.
    pub fn parse(s: &str) -> Result<Text, String> {
        let mut parts = Vec::new();
        let mut rest = s;
        while let Some(start) = rest.find("{{") {
            if start > 0 {
                parts.push(Part::Literal(rest[..start].to_owned()));
            }
            let after = &rest[start + 2..];
            let end = after.find("}}").ok_or_else(|| {
                format!(
                    "\"{{{{\" at character {} is never closed with \"}}}}\"",
                    s.len() - rest.len() + start + 1
                )
            })?;
            let inner = &after[..end];
            let (name, fallback) = match inner.split_once('|') {
                Some((n, f)) => (n.trim(), Some(f.trim().to_owned())),
                None => (inner.trim(), None),
            };
            let valid = !name.is_empty()
                && name.len() <= MAX_NAME
                && name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if !valid {
                return Err(format!(
                    "{{{{{inner}}}}} is not a variable: use names like {{{{first_name}}}} (a-z, 0-9, _), optionally with a fallback: {{{{first_name|there}}}}"
                ));
            }
            parts.push(Part::Var {
                name: name.to_owned(),
                fallback,
            });
            rest = &after[end + 2..];
        }
        if !rest.is_empty() {
            parts.push(Part::Literal(rest.to_owned()));
        }
        Ok(Text { parts })
    }

    /// The variable names used, in order of first use.
    pub fn variables(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for p in &self.parts {
            if let Part::Var { name, .. } = p {
                if !names.contains(&name.as_str()) {
                    names.push(name);
                }
            }
        }
        names
    }

    /// The text for one recipient; `Err(name)` names a variable with neither a value nor a
    /// fallback. Empty values count as missing.
    pub fn render(&self, value: impl Fn(&str) -> Option<String>) -> Result<String, String> {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Literal(s) => out.push_str(s),
                Part::Var { name, fallback } => {
                    match value(name).filter(|v| !v.trim().is_empty()) {
                        Some(v) => out.push_str(&v),
                        None => match fallback {
                            Some(f) => out.push_str(f),
                            None => return Err(name.clone()),
                        },
                    }
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ana(name: &str) -> Option<String> {
        match name {
            "first_name" => Some("Ana".into()),
            "city" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn fills_values_and_fallbacks() {
        let t = Text::parse("Hi {{first_name}}, sale in {{ city | your city }}! {{first_name}}")
            .unwrap();
        assert_eq!(t.variables(), vec!["first_name", "city"]);
        assert_eq!(t.render(ana).unwrap(), "Hi Ana, sale in your city! Ana");
        assert_eq!(
            t.render(|_| None),
            Err("first_name".to_owned()),
            "no value and no fallback"
        );
        let plain = Text::parse("No variables { here }").unwrap();
        assert_eq!(plain.render(|_| None).unwrap(), "No variables { here }");
        assert!(plain.variables().is_empty());
    }

    #[test]
    fn refuses_malformed_variables() {
        assert!(Text::parse("Hi {{first_name")
            .unwrap_err()
            .contains("never closed"));
        assert!(Text::parse("Hi {{First Name}}").is_err());
        assert!(Text::parse("Hi {{}}").is_err());
        assert!(Text::parse("Hi {{|x}}").is_err());
        assert_eq!(
            Text::parse("{{a|}}").unwrap().render(|_| None).unwrap(),
            "",
            "an empty fallback is a fallback"
        );
    }
}
