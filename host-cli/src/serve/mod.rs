//! `echoprobe serve`: the probe daemon. It checks every configured target on its own schedule with the same check
//! as the command line, and publishes each target's state to HAProxy agent-checks, HTTP health checks, Prometheus,
//! a status page and `echoprobe status`. [`model`] is what its parts tell each other.

pub mod http;
pub mod model;
