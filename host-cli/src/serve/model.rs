//! What the probe daemon's parts tell each other: the engine (configuration, schedule, checks, rise/fall, agent
//! port) implements [`Daemon`]; the HTTP side (health, metrics, `/probe`, API, status page) reads it through that
//! trait and records nothing itself. [`MetricsSink`] is the other direction: the engine reports every finished
//! check to it.

use core::future::Future;
use core::net::IpAddr;
use core::pin::Pin;
use core::time::Duration;
use std::time::SystemTime;

use crate::echo::CheckResult;
use crate::report::Timeline;

/// A future the daemon's traits return (object safe, `Send`).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A target's published state, HAProxy's two: up after `rise` good checks in a row, down after `fall` bad ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    /// Answers DICOM.
    Up,
    /// Does not, or no check has completed yet.
    Down,
}

/// One finished check, as the daemon keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckRecord {
    /// When it started (wall clock).
    pub at: SystemTime,
    /// Its exit code (the CLI's table: [`crate::exit`]); 0 is good.
    pub exit_code: u8,
    /// The exit-code table row's name (`healthy`, `rejected`, `acse-timeout`, ...).
    pub result: &'static str,
    /// The CLI's one-line text for a failure (what `echoprobe` prints after `echoprobe: `); empty when healthy.
    pub reason: String,
    /// From start to verdict.
    pub total: Duration,
    /// Each phase.
    pub timeline: Timeline,
}

/// A target as the daemon sees it now.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetStatus {
    /// The configured name (`[[target]] name`), unique.
    pub name: String,
    /// `host:port` as configured (IPv6 in brackets).
    pub peer: String,
    /// Called AE title.
    pub called_ae: String,
    /// Calling AE title.
    pub calling_ae: String,
    /// Up or down.
    pub health: Health,
    /// Why it is down (`no check completed yet` before the first check ends), or empty when up.
    pub reason: String,
    /// Since when it has had this health.
    pub since: SystemTime,
    /// The exit code of the verdict the target has now: 0 when up, else the last failed check's code (the
    /// `echoprobe status NAME` exit code).
    pub exit_code: u8,
    /// Checks finished since the daemon (or this target's configuration) started.
    pub checks: u64,
    /// The most recent checks, oldest first (a bounded number).
    pub recent: Vec<CheckRecord>,
}

/// A check to run on demand (`/probe`): where and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeSpec {
    /// Host name or IP address.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Called AE title.
    pub called_ae: String,
    /// Calling AE title.
    pub calling_ae: String,
    /// The configured module it came from (`None`: the `[defaults]`); selects TLS and timeouts.
    pub module: Option<String>,
}

/// What the HTTP side may ask of the engine.
pub trait Daemon: Send + Sync + 'static {
    /// Every configured target, in configuration order.
    fn targets(&self) -> Vec<TargetStatus>;
    /// At most `max` targets from the `from`th on (0 the first), in configuration order: the API and the page take
    /// them a few at a time, never every target's history at once.
    fn targets_from(&self, from: usize, max: usize) -> Vec<TargetStatus> {
        self.targets().into_iter().skip(from).take(max).collect()
    }
    /// How many targets are up, and how many there are.
    fn up_count(&self) -> (usize, usize) {
        let all = self.targets();
        let up = all.iter().filter(|t| t.health == Health::Up).count();
        (up, all.len())
    }
    /// One target by name.
    fn target(&self, name: &str) -> Option<TargetStatus>;
    /// Whether a module of this name is configured (`None`: the defaults, always there).
    fn has_module(&self, module: Option<&str>) -> bool;
    /// Runs one check now, bounded by `deadline` (on top of the module's own timeouts). Never panics; every
    /// failure of the check is in the result's verdict. Refused without connecting when any address `spec.host`
    /// resolves to is outside `[probe] allow` (default: the configured targets' addresses): the allow-list is
    /// checked after resolution, on the very addresses the check would use.
    fn probe(
        &self,
        spec: ProbeSpec,
        deadline: Duration,
    ) -> BoxFuture<'_, Result<Probed, ProbeRefused>>;
}

/// A `/probe` check's result, and how long the probe took: the name's resolution, the allow-list and the check, not
/// the wait for the check's start on the schedule's grid (at most a tick, 10 ms).
#[derive(Debug)]
pub struct Probed {
    /// The check's result.
    pub result: CheckResult,
    /// The probe's duration (`probe_duration_seconds`).
    pub duration: Duration,
}

/// Why `/probe` did not run a check (an HTTP 403, and a log line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeRefused {
    /// `spec.host` resolved to an address outside the allow-list.
    NotAllowed(IpAddr),
    /// The module is not configured.
    UnknownModule(String),
}

/// Where the engine reports checks and state changes (the Prometheus metrics).
pub trait MetricsSink: Send + Sync + 'static {
    /// A scheduled check of `target` finished; `health` is the target's state after it.
    fn observe(&self, target: &str, record: &CheckRecord, health: Health);
    /// `target` left the configuration (reload): drop its series.
    fn forget(&self, target: &str);
    /// `target` is configured and has no check finished yet (at load, and when a reload changes it): its
    /// series that exist before any check (up, 0) appear now.
    fn known(&self, _target: &str) {}
    /// A scheduled check started `lag` after its planned start (the schedule's lateness, daemon-wide).
    fn lag(&self, _lag: core::time::Duration) {}
}
