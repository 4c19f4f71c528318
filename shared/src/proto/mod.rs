//! Versioned wire protocol. `v1` is spoken today; a future `v2` would live beside it so old
//! widgets keep working while they are cached on visitors' machines.

pub mod v1;
