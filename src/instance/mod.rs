//! One daemon per database: the pieces the daemon and its clients both use
//! to agree on which process serves a database and how to reach it.
//!
//! - [`lock`]: the single-instance lock the daemon holds for its life.
//! - [`socket`]: binding, connecting to and checking the local socket.
//! - [`spawn`]: starting a daemon detached, reaping it, and signalling an
//!   old one to stop.
//!
//! # Invariants
//! - Only the holder of the lock removes or binds the socket file, so a live
//!   daemon's socket is never unlinked by a newcomer.
//! - Nothing here decides *when* to start or replace a daemon: that is the
//!   client's start-up ([`crate::client`]); this module only acts.

pub mod lock;
pub mod socket;
pub mod spawn;
