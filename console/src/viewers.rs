//! Colleagues in a conversation: who else has it open, and who is writing a reply there, from
//! the feed's `viewers` events (this tab left out) — shown on the list and above the pane.

use beckon_shared::proto::v1::Viewer;
use beckon_shared::ConversationId;

/// The latest `viewers` event: this tab, and every tab showing a conversation.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Viewers {
    pub you: String,
    pub all: Vec<Viewer>,
}

impl Viewers {
    /// Other people in `id` — not this tab, nor this person's other tabs — each once (a
    /// person and name: people sharing an admin key differ by name), writing if any of their
    /// tabs is.
    pub fn in_conversation(&self, id: &ConversationId) -> Vec<(&str, bool)> {
        let me = self.all.iter().find(|v| v.tab == self.you);
        let mut out: Vec<(&Viewer, bool)> = Vec::new();
        for v in &self.all {
            let mine = me.is_some_and(|m| m.person == v.person && m.name == v.name);
            if v.tab == self.you || mine || v.conversation_id.as_ref() != Some(id) {
                continue;
            }
            match out
                .iter_mut()
                .find(|(o, _)| o.person == v.person && o.name == v.name)
            {
                Some(seen) => seen.1 |= v.typing,
                None => out.push((v, v.typing)),
            }
        }
        out.into_iter().map(|(v, t)| (v.name.as_str(), t)).collect()
    }

    /// "Olga is viewing", "Olga and Sam are typing…" (the writers are named first); `None`
    /// when nobody else is there.
    pub fn describe(&self, id: &ConversationId) -> Option<String> {
        let here = self.in_conversation(id);
        let (typing, viewing): (Vec<_>, Vec<_>) = here.into_iter().partition(|(_, t)| *t);
        let part = |names: &[(&str, bool)], what: &str| {
            let names: Vec<&str> = names.iter().map(|(n, _)| *n).collect();
            let verb = if names.len() == 1 { "is" } else { "are" };
            let joined = match names.split_last() {
                Some((last, [])) => (*last).to_owned(),
                Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
                None => return None,
            };
            Some(format!("{joined} {verb} {what}"))
        };
        let parts: Vec<String> = [part(&typing, "typing…"), part(&viewing, "viewing")]
            .into_iter()
            .flatten()
            .collect();
        (!parts.is_empty()).then(|| parts.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tab(tab: &str, name: &str, conversation: Option<&ConversationId>, typing: bool) -> Viewer {
        Viewer {
            tab: tab.into(),
            person: format!("pp_{name}"),
            name: name.into(),
            conversation_id: conversation.cloned(),
            typing,
        }
    }

    #[test]
    fn names_colleagues_here_once_writers_first_and_never_this_tab() {
        let a = ConversationId::parse("c_0123456789abcdef0123456789abcdef").unwrap();
        let b = ConversationId::parse("c_fedcba9876543210fedcba9876543210").unwrap();
        let mut v = Viewers {
            you: "t1".into(),
            all: vec![tab("t1", "Me", Some(&a), true)],
        };
        assert_eq!(v.describe(&a), None, "this tab is not a colleague");
        v.all.push(tab("t2", "Olga", Some(&a), false));
        assert_eq!(v.describe(&a).as_deref(), Some("Olga is viewing"));
        assert_eq!(v.describe(&b), None);
        // Olga's second tab, where she writes: named once, as writing.
        v.all.push(tab("t3", "Olga", Some(&a), true));
        v.all.push(tab("t4", "Sam", Some(&a), false));
        v.all.push(tab("t5", "Ines", Some(&a), false));
        assert_eq!(
            v.describe(&a).as_deref(),
            Some("Olga is typing…; Sam and Ines are viewing")
        );
        v.all.push(tab("t6", "Ana", Some(&a), true));
        assert_eq!(
            v.describe(&a).as_deref(),
            Some("Olga and Ana are typing…; Sam and Ines are viewing")
        );
        // This person's other tab is not a colleague; someone of the same name is.
        v.all.push(tab("t7", "Me", Some(&a), false));
        let mut namesake = tab("t8", "Me", Some(&a), false);
        namesake.person = "pp_other".into();
        v.all.push(namesake);
        assert_eq!(
            v.describe(&a).as_deref(),
            Some("Olga and Ana are typing…; Sam, Ines and Me are viewing")
        );
    }
}
