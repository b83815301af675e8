//! The daemon side: the writer actor that owns the store.

pub mod actor;
