//! echoprobe-core: the DICOM Upper Layer (PS3.8) and the C-ECHO exchange (PS3.7) as a sans-IO
//! state machine.
//!
//! * [`wire`]: PDU views and representations, framing.
//! * [`dimse`]: the command set (implicit VR little endian, group 0000) and C-ECHO messages.
//! * [`assoc`]: the association state machine for both roles; it never touches a socket or a
//!   clock. Callers feed bytes and `now`, and take bytes to send, timeouts and events.
//! * [`check`]: the health-check verdict built on top of the requestor role.
//! * `find` (feature `find`): C-FIND and its verdict; the acceptor's matching with `find-scp`.
//! * [`health`]: rise/fall over single checks (a target's published up/down).
//! * [`io`]: thin drivers over `embedded-io` (blocking) and `embedded-io-async` (feature `async`).
//!
//! Feature `golden` exposes `wire::golden`, the PDUs captured from real peers (see
//! `docs/captures.md`), for other crates' tests; the crate's own tests always have it.
#![no_std]
#![forbid(unsafe_code)]
#![warn(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

#[cfg(all(feature = "defmt", feature = "log"))]
compile_error!("features `defmt` and `log` are mutually exclusive");

#[cfg(test)]
extern crate std;

pub mod assoc;
pub mod check;
pub mod dimse;
#[cfg(feature = "find")]
pub mod find;
pub mod health;
pub mod io;
pub mod text;
pub mod time;
pub mod wire;

pub use assoc::{AcceptPolicy, Association, Config, Event, Role};
pub use check::{CheckOptions, Checker, Outcome};
pub use io::blocking::Transport;
