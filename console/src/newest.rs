//! Only the newest answer counts: a page that asks again before an earlier answer came back
//! (a filter being typed, a search changed, another site chosen) applies the answer to its
//! last question only, whatever order the answers arrive in.

use std::{cell::Cell, rc::Rc};
use yew::prelude::*;

/// How many questions a page asked; shared by all its copies.
#[derive(Clone, Default)]
pub struct Newest(Rc<Cell<u32>>);

impl Newest {
    /// A new question: the answers to every earlier one are stale from now on.
    pub fn ask(&self) -> Asked {
        let n = self.0.get().wrapping_add(1);
        self.0.set(n);
        Asked(self.0.clone(), n)
    }
}

/// One question asked.
pub struct Asked(Rc<Cell<u32>>, u32);

impl Asked {
    /// Whether no question was asked since this one.
    pub fn is_newest(&self) -> bool {
        self.0.get() == self.1
    }
}

/// The component's counter, the same one on every render.
#[hook]
pub fn use_newest() -> Newest {
    (*use_state(Newest::default)).clone()
}
