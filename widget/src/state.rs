//! The app's state as data and what can happen to it as a closed set of actions (yew's
//! reducer pattern): which view is on screen, the rule whose teaser opened the chat, and the
//! newest agent message already previewed. Effects of a change (telling the loader, the
//! session) live in the hooks that watch the state, never in the reducer.

use beckon_shared::rules::Rule;
use std::rc::Rc;
use yew::Reducible;

/// What is on screen besides the launcher.
#[derive(Clone, Debug, PartialEq)]
pub enum View {
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

impl View {
    /// How the loader sizes the iframe for this view.
    pub fn mode(&self) -> Mode {
        match self {
            View::Closed => Mode::Closed,
            View::Open => Mode::Open,
            View::Rule(_) | View::Agent { .. } => Mode::Teaser,
        }
    }
}

/// The iframe's size class, as the loader knows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Closed,
    Teaser,
    Open,
}

#[derive(Clone, Debug, PartialEq)]
pub struct State {
    pub view: View,
    /// The rule whose teaser opened the chat: its text replaces the greeting until the
    /// conversation exists.
    pub opened_from: Option<Rule>,
    /// The newest agent message previewed as a teaser (by `seq`).
    pub previewed: u64,
}

impl Default for State {
    fn default() -> State {
        State {
            view: View::Closed,
            opened_from: None,
            previewed: 0,
        }
    }
}

pub enum Action {
    Open,
    Close,
    /// A rule's teaser appears (only from the closed view).
    ShowRule(Rule),
    /// The visitor answered a rule's teaser: the chat opens with it.
    OpenFromRule(Rule),
    /// An agent's message arrived while the panel was not open.
    Preview {
        seq: u64,
        from: String,
        text: String,
    },
}

impl Reducible for State {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            Action::Open => next.view = View::Open,
            Action::Close => next.view = View::Closed,
            Action::ShowRule(rule) if self.view == View::Closed => next.view = View::Rule(rule),
            Action::ShowRule(_) => return self,
            Action::OpenFromRule(rule) => {
                next.opened_from = Some(rule);
                next.view = View::Open;
            }
            Action::Preview { seq, from, text } => {
                if seq <= self.previewed || !matches!(self.view, View::Closed | View::Agent { .. })
                {
                    return self;
                }
                next.previewed = seq;
                next.view = View::Agent { from, text };
            }
        }
        Rc::new(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use beckon_shared::rules::Rule;

    fn rule() -> Rule {
        serde_json::from_value(serde_json::json!({
            "id": "r1", "name": "R", "when": {"if": "scroll", "percent": 30},
            "message": {"text": "Need help?"}
        }))
        .unwrap()
    }

    fn after(state: State, actions: Vec<Action>) -> State {
        let mut s = Rc::new(state);
        for a in actions {
            s = s.reduce(a);
        }
        (*s).clone()
    }

    fn preview(seq: u64) -> Action {
        Action::Preview {
            seq,
            from: "Ana".into(),
            text: "Hi".into(),
        }
    }

    #[test]
    fn teasers_show_only_when_closed_and_previews_only_once() {
        let open = after(
            State::default(),
            vec![Action::Open, Action::ShowRule(rule())],
        );
        assert_eq!(open.view, View::Open, "no teaser over the open panel");
        let teased = after(State::default(), vec![Action::ShowRule(rule())]);
        assert_eq!(teased.view.mode(), Mode::Teaser);
        let answered = after(teased, vec![Action::OpenFromRule(rule())]);
        assert_eq!(
            (answered.view.mode(), answered.opened_from.is_some()),
            (Mode::Open, true)
        );
        let previewed = after(State::default(), vec![preview(3)]);
        assert_eq!(previewed.previewed, 3);
        let closed = after(previewed, vec![Action::Close, preview(3)]);
        assert_eq!(closed.view, View::Closed, "a message is previewed once");
        let newer = after(closed, vec![preview(4)]);
        assert_eq!(newer.view.mode(), Mode::Teaser);
        let over_rule = after(State::default(), vec![Action::ShowRule(rule()), preview(5)]);
        assert!(
            matches!(over_rule.view, View::Rule(_)),
            "a rule's teaser stays"
        );
    }
}
