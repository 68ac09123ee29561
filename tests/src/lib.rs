//! Harness for echoprobe's interop tests against real peers (DCMTK, pynetdicom, echoprobe itself).
//!
//! The tests in `tests/tests/*.rs` start real servers, so they must run where those servers can
//! only ever reach loopback: a fresh network namespace. `scripts/test.sh` runs them that way; by
//! hand:
//!
//! ```text
//! unshare -rn -- sh -c 'ip link set lo up && cargo test -p echoprobe-tests --offline'
//! ```
//!
//! Every test calls [`setup`] first, which *fails* the test (it never skips) when the process is
//! not in a loopback-only namespace or when a peer program is missing: in CI they run for real.
//!
//! * [`env`]: the isolation guard, peer program lookup (DCMTK, python + pynetdicom).
//! * [`net`]: free loopback ports, waiting for a port to listen.
//! * [`process`]: running a command with a hard timeout ([`process::run`]), peers as [`process::Peer`]
//!   (killed by PID on drop), temporary directories.
//! * [`peers`]: ready-made peers: DCMTK `storescp`/`dcmqrscp`, pynetdicom echoscp, `echoprobe scp`, a
//!   silent TCP listener.
//! * [`study`]: the one study the find tests store (made with `dump2dcm`, sent with `storescu`).
//! * [`find_peers`]: dcmqrscp holding that study, the pynetdicom FIND SCP and SCU.
//! * [`orthanc`]: Orthanc with its index in a private PostgreSQL, which a test can stop, start and
//!   hang.
//! * [`echoprobe`]: the echoprobe binary under test.
//! * [`fixtures`]: what several test files share: echoprobe's check of a loopback peer with the tests' AE
//!   titles, a strict `echoprobe scp`, what a peer must have seen.
//! * [`codes`]: echoprobe's exit codes, the one copy every test uses.
//! * [`monitoring`]: Prometheus, promtool, blackbox_exporter and headless Chromium as plain processes, and a
//!   small HTTP client.
//! * [`serve`]: `echoprobe serve` with a temporary config, its agent port and API; HAProxy's server states.
//! * [`scripted`]: scripted peers on 127.0.0.1 that misbehave in exactly one way, and the check
//!   that runs echoprobe against one.

pub mod codes;
pub mod echoprobe;
pub mod env;
pub mod find_peers;
pub mod fixtures;
pub mod monitoring;
pub mod net;
pub mod orthanc;
pub mod peers;
pub mod process;
pub mod scripted;
pub mod serve;
pub mod study;

pub use echoprobe::{echoprobe, echoprobe_bin};
pub use env::setup;
pub use net::free_port;
pub use process::{run, Outcome, Peer};

/// The calling AE title the tests use, as a load balancer would.
pub const CALLING_AE: &str = "LOADBALANCER";
