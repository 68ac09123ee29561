//! The engine: every target's state (rise/fall, reason, history), its schedule task, the concurrency cap, and
//! [`Daemon`] for the HTTP side. A reload keeps the state and the task of every target whose configuration is
//! unchanged.

use core::net::{IpAddr, SocketAddr};
use core::time::Duration;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, RwLock};
use std::time::SystemTime;

use echoprobe_config::{Cidr, Config, Settings, Target};
use echoprobe_core::health::RiseFall;
use tokio::sync::{mpsc, oneshot, watch, Semaphore};
use tokio::task::JoinHandle;

use super::check::{self, Prepared, Unprepared};
use super::model::{
    BoxFuture, CheckRecord, Daemon, Health, MetricsSink, ProbeRefused, ProbeSpec, TargetStatus,
};
use super::{agent, schedule};
use crate::echo::CheckResult;
use crate::exit::{self, Failure};

/// The reason of a target no check of which has finished.
pub(crate) const NO_CHECK_YET: &str = "no check completed yet";

/// A configuration with everything the checks need made once (TLS files read, options parsed).
#[derive(Clone)]
pub(crate) struct Loaded {
    pub(crate) config: Config,
    /// Shared with the targets' states (one copy of each target's options).
    targets: Vec<Arc<Prepared>>,
    modules: BTreeMap<String, Settings>,
    /// `[probe] allow`, or the targets' own addresses.
    allow: Vec<Cidr>,
}

impl Loaded {
    /// Prepares every target's check; an error names the target.
    pub(crate) fn new(config: Config) -> Result<Loaded, String> {
        let mut targets = Vec::with_capacity(config.targets.len());
        for (i, t) in config.targets.iter().enumerate() {
            targets.push(Arc::new(
                Prepared::new(&t.address, &t.settings)
                    .map_err(|e| e.at(&format!("target[{i}]"), Some(&t.name)))?,
            ));
        }
        for (name, m) in &config.modules {
            Prepared::new("localhost", m).map_err(|e| e.at(&format!("module.{name}"), None))?;
        }
        Prepared::new("localhost", &config.defaults).map_err(|e| e.at("defaults", None))?;
        let allow = match &config.probe_allow {
            Some(list) => list.clone(),
            None => config
                .targets
                .iter()
                .flat_map(|t| addresses(&t.address))
                .map(|addr| Cidr {
                    addr,
                    prefix: if addr.is_ipv4() { 32 } else { 128 },
                })
                .collect(),
        };
        Ok(Loaded {
            modules: config.modules.clone(),
            config,
            targets,
            allow,
        })
    }
}

/// What `host` resolves to now (an IP literal is itself; a name that does not resolve allows nothing).
fn addresses(host: &str) -> Vec<IpAddr> {
    crate::net::resolve(
        host,
        0,
        crate::net::Family::Any,
        Some(Duration::from_secs(2)),
    )
    .map(|a| a.iter().map(SocketAddr::ip).collect())
    .unwrap_or_default()
}

/// What changes as checks finish.
struct Live {
    health: RiseFall,
    reason: String,
    since: SystemTime,
    exit_code: u8,
    checks: u64,
    /// The last checks, oldest first; the newest is check number `checks`.
    recent: VecDeque<Recent>,
    /// The reasons of the failed ones among them, by check number (a reason the check before had too is shared).
    reasons: VecDeque<(u64, Arc<str>)>,
}

/// One check of a target's history, in 32 bytes: what the page and the API show of it, times in microseconds
/// (as they print them), [`Recent::NONE`] for a phase not reached; its reason is in [`Live::reasons`].
#[derive(Debug, Clone, Copy)]
struct Recent {
    /// Start, Unix seconds and milliseconds (the API prints milliseconds); the top bit of `at_ms` is
    /// [`Recent::FIND`].
    at_secs: u32,
    at_ms: u16,
    exit_code: u8,
    /// Its row of the exit-code table (the result name).
    row: u8,
    total: u32,
    connect: u32,
    tls: u32,
    associate: u32,
    /// The C-ECHO round trip (the daemon's check sends one), or a find check's query ([`Recent::FIND`]).
    echo: u32,
    release: u32,
}

impl Recent {
    const NONE: u32 = u32::MAX;
    /// In `at_ms`: the check was a find, and `echo` holds its query's duration.
    const FIND: u16 = 0x8000;

    fn of(r: &CheckRecord) -> Recent {
        let us = |d: Duration| u32::try_from(d.as_micros()).unwrap_or(Recent::NONE - 1);
        let phase = |d: Option<Duration>| d.map_or(Recent::NONE, us);
        let at =
            r.at.duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default();
        let row = exit::ROWS
            .iter()
            .position(|row| row.result == r.result)
            .unwrap_or(0);
        Recent {
            at_secs: u32::try_from(at.as_secs()).unwrap_or(u32::MAX),
            at_ms: (at.subsec_millis()) as u16
                | if r.timeline.find.is_some() {
                    Recent::FIND
                } else {
                    0
                },
            exit_code: r.exit_code,
            row: u8::try_from(row).unwrap_or(0),
            total: us(r.total),
            connect: phase(r.timeline.connect),
            tls: phase(r.timeline.tls),
            associate: phase(r.timeline.associate),
            echo: phase(r.timeline.echoes.first().copied().or(r.timeline.find)),
            release: phase(r.timeline.release),
        }
    }

    fn record(&self, reason: &str) -> CheckRecord {
        let d = |us: u32| Duration::from_micros(u64::from(us));
        let phase = |us: u32| (us != Recent::NONE).then(|| d(us));
        CheckRecord {
            at: std::time::UNIX_EPOCH
                + Duration::from_secs(u64::from(self.at_secs))
                + Duration::from_millis(u64::from(self.at_ms & !Recent::FIND)),
            exit_code: self.exit_code,
            result: exit::ROWS
                .get(usize::from(self.row))
                .map_or("", |row| row.result),
            reason: reason.to_string(),
            total: d(self.total),
            timeline: crate::report::Timeline {
                connect: phase(self.connect),
                tls: phase(self.tls),
                associate: phase(self.associate),
                echoes: if self.at_ms & Recent::FIND == 0 {
                    phase(self.echo).into_iter().collect()
                } else {
                    Vec::new()
                },
                find: if self.at_ms & Recent::FIND == 0 {
                    None
                } else {
                    phase(self.echo)
                },
                release: phase(self.release),
            },
        }
    }
}

/// One configured target with its state.
pub(crate) struct TargetState {
    target: Target,
    prepared: Arc<Prepared>,
    history: usize,
    live: Mutex<Live>,
    task: Mutex<Option<JoinHandle<()>>>,
    /// True once the target is removed or changed by a reload, or the daemon stops: its check in flight sends
    /// A-ABORT and closes, and its task ends.
    stop: watch::Sender<bool>,
}

impl TargetState {
    fn new(target: Target, prepared: Arc<Prepared>, history: usize) -> Self {
        TargetState {
            target,
            prepared,
            history,
            live: Mutex::new(Live {
                health: RiseFall::new(),
                reason: NO_CHECK_YET.to_string(),
                since: SystemTime::now(),
                exit_code: exit::LOCAL,
                checks: 0,
                recent: VecDeque::new(),
                reasons: VecDeque::new(),
            }),
            task: Mutex::new(None),
            stop: watch::Sender::new(false),
        }
    }

    fn status(&self) -> TargetStatus {
        let live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        let o = &self.prepared.options;
        TargetStatus {
            name: self.target.name.clone(),
            peer: crate::echo::peer_label(&o.peer, o.port),
            called_ae: o.called.clone(),
            calling_ae: o.calling.clone(),
            health: health(live.health),
            reason: live.reason.clone(),
            since: live.since,
            exit_code: live.exit_code,
            checks: live.checks,
            recent: live.records(),
        }
    }

    /// Folds a finished check in; returns the record, the health after it, and whether it changed.
    fn record(&self, result: &CheckResult) -> (CheckRecord, Health, bool) {
        let record = record_of(result);
        let s = &self.target.settings;
        let mut live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        let changed = live
            .health
            .record(record.exit_code == exit::HEALTHY, s.rise, s.fall);
        live.push(&record, self.history);
        if live.health.is_up() {
            live.reason.clear();
            live.exit_code = exit::HEALTHY;
        } else if record.exit_code != exit::HEALTHY {
            live.reason.clone_from(&record.reason);
            live.exit_code = record.exit_code;
        }
        if changed {
            live.since = SystemTime::now();
        }
        (record, health(live.health), changed)
    }
}

impl Live {
    /// Counts a finished check and keeps it, the oldest beyond `history` dropped.
    fn push(&mut self, record: &CheckRecord, history: usize) {
        self.checks += 1;
        if self.recent.len() >= history {
            self.recent.pop_front();
        }
        if history > 0 {
            if self.recent.capacity() == 0 {
                self.recent.reserve_exact(history);
            }
            self.recent.push_back(Recent::of(record));
            if !record.reason.is_empty() {
                let reason = match self.reasons.back() {
                    Some((_, last)) if **last == *record.reason => last.clone(),
                    _ => Arc::from(record.reason.as_str()),
                };
                self.reasons.push_back((self.checks, reason));
            }
        }
        let oldest = self.checks + 1 - self.recent.len() as u64;
        while self.reasons.front().is_some_and(|(n, _)| *n < oldest) {
            self.reasons.pop_front();
        }
    }

    /// The kept checks, oldest first, as the page and the API show them.
    fn records(&self) -> Vec<CheckRecord> {
        let first = self.checks + 1 - self.recent.len() as u64;
        let mut reasons = self.reasons.iter().peekable();
        (first..)
            .zip(&self.recent)
            .map(|(n, r)| {
                while reasons.peek().is_some_and(|(m, _)| *m < n) {
                    reasons.next();
                }
                let reason = match reasons.peek() {
                    Some((m, text)) if *m == n => text,
                    _ => "",
                };
                r.record(reason)
            })
            .collect()
    }
}

fn health(h: RiseFall) -> Health {
    if h.is_up() {
        Health::Up
    } else {
        Health::Down
    }
}

/// A finished check as the daemon keeps it.
pub(crate) fn record_of(r: &CheckResult) -> CheckRecord {
    let (result, reason) = match &r.verdict {
        Ok(_) => (exit::End::Healthy.result(), String::new()),
        Err(f) => (f.kind(), f.to_string()),
    };
    CheckRecord {
        at: r.started,
        exit_code: r.code(),
        result,
        reason,
        total: r.total,
        timeline: r.timeline.clone(),
    }
}

/// The running configuration.
struct State {
    loaded: Arc<Loaded>,
    targets: Vec<Arc<TargetState>>,
    /// Counts configurations applied (a reload empties the `/probe` cache).
    generation: u64,
}

/// What a `/probe` check's options are made from: the request and its time bound in milliseconds.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct ProbeKey {
    module: Option<String>,
    host: String,
    port: u16,
    called_ae: String,
    calling_ae: String,
    limit_ms: u32,
}

impl ProbeKey {
    /// `spec`'s strings moved in (a probe whose check is prepared already copies none).
    fn new(spec: ProbeSpec, deadline: Duration) -> Self {
        ProbeKey {
            module: spec.module,
            host: spec.host,
            port: spec.port,
            called_ae: spec.called_ae,
            calling_ae: spec.calling_ae,
            limit_ms: u32::try_from(deadline.as_millis())
                .unwrap_or(u32::MAX)
                .max(1),
        }
    }

    /// The check's peer, `host:port` (IPv6 in brackets).
    fn peer(&self) -> String {
        crate::echo::peer_label(&self.host, self.port)
    }
}

/// The `/probe` checks already prepared (the CLI's option parser and the TLS setup run once per distinct request,
/// not per probe), for one configuration; emptied when full.
#[derive(Default)]
struct ProbeCache {
    generation: u64,
    prepared: HashMap<ProbeKey, Arc<Prepared>>,
}

/// The most distinct `/probe` requests kept prepared.
const PROBE_CACHE: usize = 1024;

/// A `/probe` check for the local runner: what to check, where, and where the result goes.
type Job = (
    Arc<Prepared>,
    Option<Vec<SocketAddr>>,
    oneshot::Sender<CheckResult>,
);

/// The engine.
pub(crate) struct Engine {
    /// The checks of `/probe` go to [`Engine::run_probes`] (the core's async driver's futures are not `Send`: every
    /// check runs on the daemon's one thread, in its `LocalSet`).
    probes: mpsc::UnboundedSender<Job>,
    state: RwLock<State>,
    metrics: Arc<dyn MetricsSink>,
    slots: Arc<Semaphore>,
    origin: tokio::time::Instant,
    probe_cache: Mutex<ProbeCache>,
}

impl Engine {
    /// An engine with no targets yet (see [`Engine::apply`]; [`Engine::wait_stopped`] stops them).
    pub(crate) fn new(
        loaded: Loaded,
        metrics: Arc<dyn MetricsSink>,
    ) -> (Arc<Engine>, mpsc::UnboundedReceiver<Job>) {
        let slots = Arc::new(Semaphore::new(loaded.config.serve.max_concurrent as usize));
        let (probes, jobs) = mpsc::unbounded_channel();
        let engine = Arc::new(Engine {
            probes,
            state: RwLock::new(State {
                loaded: Arc::new(loaded),
                targets: Vec::new(),
                generation: 0,
            }),
            metrics,
            slots,
            origin: tokio::time::Instant::now(),
            probe_cache: Mutex::new(ProbeCache::default()),
        });
        (engine, jobs)
    }

    /// Runs the `/probe` checks sent by [`Daemon::probe`], each as its own local task, until the engine is gone;
    /// `stop` turning true aborts them.
    pub(crate) async fn run_probes(
        stop: watch::Receiver<bool>,
        mut jobs: mpsc::UnboundedReceiver<Job>,
    ) {
        while let Some((prepared, addrs, answer)) = jobs.recv().await {
            let stop = stop.clone();
            tokio::task::spawn_local(async move {
                // Boxed: the task holds a pointer, so the runtime's moves of the task's future (into the task at
                // the spawn, over it at the end) copy a few bytes, not the check's several-KB state.
                let check = Box::pin(check::check(&prepared, &stop, addrs));
                let _ = answer.send(check.await);
            });
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|p| p.into_inner())
    }

    /// The running configuration.
    pub(crate) fn config(&self) -> Arc<Loaded> {
        self.read().loaded.clone()
    }

    fn find(&self, name: &str) -> Option<Arc<TargetState>> {
        self.read()
            .targets
            .iter()
            .find(|t| t.target.name == name)
            .cloned()
    }

    /// The agent line for `name`.
    pub(crate) fn agent_line(&self, name: &str) -> String {
        match self.find(name) {
            Some(t) => {
                let live = t.live.lock().unwrap_or_else(|p| p.into_inner());
                agent::answer(name, Some((health(live.health), &live.reason)))
            }
            None => agent::answer(name, None),
        }
    }

    /// Runs `loaded` (at start, and at each reload): unchanged targets keep their state and schedule; new and
    /// changed ones start spread over their interval; removed ones, and the old settings of changed ones, stop as at
    /// a daemon's stop (a check in flight sends A-ABORT and closes).
    pub(crate) fn apply(self: &Arc<Self>, loaded: Loaded) {
        let mut state = self.state.write().unwrap_or_else(|p| p.into_inner());
        let history = loaded.config.serve.history as usize;
        let mut kept = Vec::with_capacity(loaded.config.targets.len());
        let mut fresh = Vec::new();
        for (t, p) in loaded.config.targets.iter().zip(&loaded.targets) {
            let same = state
                .targets
                .iter()
                .find(|old| old.target == *t && old.history == history);
            match same {
                Some(old) => kept.push(old.clone()),
                None => {
                    let new = Arc::new(TargetState::new(t.clone(), p.clone(), history));
                    self.metrics.known(&t.name);
                    fresh.push(new.clone());
                    kept.push(new);
                }
            }
        }
        for old in &state.targets {
            if !kept.iter().any(|k| Arc::ptr_eq(k, old)) {
                old.stop.send_replace(true);
                if !kept.iter().any(|k| k.target.name == old.target.name) {
                    self.metrics.forget(&old.target.name);
                }
            }
        }
        let now = self.origin.elapsed();
        for (i, t) in fresh.iter().enumerate() {
            let interval = Duration::from_millis(u64::from(t.target.settings.interval_ms));
            let first = schedule::first_start(now, i, fresh.len(), interval);
            let task = tokio::task::spawn_local(self.clone().run_target(t.clone(), first));
            *t.task.lock().unwrap_or_else(|p| p.into_inner()) = Some(task);
        }
        state.targets = kept;
        state.loaded = Arc::new(loaded);
        state.generation += 1;
    }

    /// One target's schedule: check, record, wait; until stopped or aborted.
    async fn run_target(self: Arc<Self>, t: Arc<TargetState>, first: Duration) {
        let interval = Duration::from_millis(u64::from(t.target.settings.interval_ms));
        let mut planned = first;
        let mut stop = t.stop.subscribe();
        loop {
            tokio::select! {
                () = tokio::time::sleep_until(self.origin + planned) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
            let permit = tokio::select! {
                p = self.slots.clone().acquire_owned() => p,
                _ = stop.wait_for(|s| *s) => return,
            };
            self.metrics
                .lag(self.origin.elapsed().saturating_sub(planned));
            // Boxed: the check's future (several KB) lives only while it runs, not in every idle target's task.
            let result = Box::pin(check::check(&t.prepared, &stop, None)).await;
            drop(permit);
            if *stop.borrow() {
                return;
            }
            let (record, health, changed) = t.record(&result);
            self.metrics.observe(&t.target.name, &record, health);
            if changed {
                log_change(&t.target.name, health, &record.reason);
            }
            planned = schedule::next_start(planned, interval, self.origin.elapsed());
        }
    }

    /// Stops every target (its check in flight sends A-ABORT and closes) and waits for their tasks to end, at most
    /// `limit`.
    pub(crate) async fn wait_stopped(&self, limit: Duration) {
        let tasks: Vec<JoinHandle<()>> = self
            .read()
            .targets
            .iter()
            .filter_map(|t| {
                t.stop.send_replace(true);
                t.task.lock().unwrap_or_else(|p| p.into_inner()).take()
            })
            .collect();
        let _ = tokio::time::timeout(limit, async {
            for t in tasks {
                let _ = t.await;
            }
        })
        .await;
    }

    /// The settings a `/probe` of `key` uses: its module's (`module`), for its port, AE titles and time bound.
    fn probe_settings(module: &Settings, key: &ProbeKey) -> Settings {
        let mut s = module.clone();
        s.port = key.port;
        s.called_ae.clone_from(&key.called_ae);
        s.calling_ae.clone_from(&key.calling_ae);
        s.deadline_ms = Some(s.deadline_ms.map_or(key.limit_ms, |d| d.min(key.limit_ms)));
        s
    }

    async fn probe_check(
        &self,
        spec: ProbeSpec,
        deadline: Duration,
    ) -> Result<CheckResult, ProbeRefused> {
        // One configuration for the settings, the allow-list and the cache.
        let (loaded, generation) = {
            let state = self.read();
            (state.loaded.clone(), state.generation)
        };
        let key = ProbeKey::new(spec, deadline);
        let module = match &key.module {
            None => &loaded.config.defaults,
            Some(m) => loaded
                .modules
                .get(m)
                .ok_or_else(|| ProbeRefused::UnknownModule(m.clone()))?,
        };
        let allow = &loaded.allow;
        let port = key.port;
        // An IP literal is itself; only a name goes to the blocking pool.
        let resolved = match key.host.parse::<IpAddr>() {
            Ok(ip) => Some(vec![SocketAddr::new(ip, port)]),
            Err(_) => {
                let host = key.host.clone();
                tokio::task::spawn_blocking(move || {
                    crate::net::resolve(&host, port, crate::net::Family::Any, Some(deadline))
                })
                .await
                .ok()
                .and_then(Result::ok)
            }
        };
        if let Some(addrs) = &resolved {
            if let Some(bad) = addrs
                .iter()
                .map(SocketAddr::ip)
                .find(|ip| !allow.iter().any(|c| c.contains(*ip)))
            {
                // The HTTP side logs the refusal (with the target as asked).
                return Err(ProbeRefused::NotAllowed(bad));
            }
        }
        let prepared = match self.prepared_probe(module, &key, generation) {
            Ok(p) => p,
            Err(f) => return Ok(CheckResult::failed(key.peer(), f.failure())),
        };
        let _permit = self.slots.clone().acquire_owned().await;
        // The check connects to the very addresses just allowed (a name is not resolved twice).
        let (answer, result) = oneshot::channel();
        let stopping =
            || CheckResult::failed(key.peer(), Failure::Local("the daemon is stopping".into()));
        if self.probes.send((prepared, resolved, answer)).is_err() {
            return Ok(stopping());
        }
        Ok(result.await.unwrap_or_else(|_| stopping()))
    }
}

impl Engine {
    /// The prepared check of a `/probe` with `settings`, from the cache when the same request came before under
    /// the same configuration.
    fn prepared_probe(
        &self,
        module: &Settings,
        key: &ProbeKey,
        generation: u64,
    ) -> Result<Arc<Prepared>, Unprepared> {
        {
            let cache = self.probe_cache.lock().unwrap_or_else(|p| p.into_inner());
            if cache.generation == generation {
                if let Some(p) = cache.prepared.get(key) {
                    return Ok(p.clone());
                }
            }
        }
        let settings = Self::probe_settings(module, key);
        let prepared = Arc::new(Prepared::new(&key.host, &settings)?);
        let mut cache = self.probe_cache.lock().unwrap_or_else(|p| p.into_inner());
        if cache.generation != generation || cache.prepared.len() >= PROBE_CACHE {
            cache.prepared.clear();
            cache.generation = generation;
        }
        cache.prepared.insert(key.clone(), prepared.clone());
        Ok(prepared)
    }
}

/// The one line a state change logs (made whole first: one write, not one per piece).
fn log_change(name: &str, health: Health, reason: &str) {
    let line = match health {
        Health::Up => format!("echoprobe serve: target {name} is up"),
        Health::Down => format!(
            "echoprobe serve: target {name} is down: {}",
            agent::one_line(reason, 512)
        ),
    };
    crate::log::stderr_line(format_args!("{line}"));
}

impl Daemon for Engine {
    fn targets(&self) -> Vec<TargetStatus> {
        self.read().targets.iter().map(|t| t.status()).collect()
    }

    fn target(&self, name: &str) -> Option<TargetStatus> {
        self.find(name).map(|t| t.status())
    }

    fn has_module(&self, module: Option<&str>) -> bool {
        module.is_none_or(|m| self.config().modules.contains_key(m))
    }

    fn probe(
        &self,
        spec: ProbeSpec,
        deadline: Duration,
    ) -> BoxFuture<'_, Result<CheckResult, ProbeRefused>> {
        Box::pin(self.probe_check(spec, deadline))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use echoprobe_core::check::Release;

    fn target(rise: u8, fall: u8) -> TargetState {
        let t = Target {
            name: "pacs".into(),
            address: "127.0.0.1".into(),
            agent_port: None,
            settings: Settings {
                rise,
                fall,
                ..Settings::default()
            },
        };
        let p = Prepared::new(&t.address, &t.settings).unwrap();
        TargetState::new(t, Arc::new(p), 3)
    }

    fn good() -> CheckResult {
        let mut r = CheckResult::failed("127.0.0.1:104".into(), Failure::Local(String::new()));
        r.verdict = Ok(Release::Released);
        r
    }

    fn bad() -> CheckResult {
        CheckResult::failed(
            "127.0.0.1:104".into(),
            Failure::NoPresentationContext {
                peer: "127.0.0.1:104".into(),
            },
        )
    }

    #[test]
    fn starts_down_rises_falls_and_keeps_a_bounded_history() {
        let t = target(2, 2);
        let s = t.status();
        assert_eq!((s.health, s.reason.as_str()), (Health::Down, NO_CHECK_YET));
        assert_eq!((s.exit_code, s.checks), (exit::LOCAL, 0));

        assert_eq!(t.record(&good()).1, Health::Down);
        let (record, health, changed) = t.record(&good());
        assert_eq!((health, changed), (Health::Up, true));
        assert_eq!(
            (record.exit_code, record.result, record.reason.as_str()),
            (0, "healthy", "")
        );
        let s = t.status();
        assert_eq!((s.exit_code, s.reason.as_str()), (0, ""));

        // One bad check of fall 2: still up, reason stays empty (up), the record has the failure.
        let (record, health, changed) = t.record(&bad());
        assert_eq!((health, changed), (Health::Up, false));
        assert_eq!(record.exit_code, exit::NO_PRESENTATION_CONTEXT);
        assert_eq!(record.reason, bad().verdict.unwrap_err().to_string());
        let (_, health, changed) = t.record(&bad());
        assert_eq!((health, changed), (Health::Down, true));
        let s = t.status();
        assert_eq!(s.exit_code, exit::NO_PRESENTATION_CONTEXT);
        assert_eq!(s.reason, bad().verdict.unwrap_err().to_string());
        // A good check while down (rise 2) keeps the verdict and its reason.
        assert_eq!(t.record(&good()).1, Health::Down);
        let s = t.status();
        assert_eq!(s.exit_code, exit::NO_PRESENTATION_CONTEXT);
        assert_eq!(s.checks, 5);
        assert_eq!(s.recent.len(), 3, "history bounded at 3");
        assert_eq!(s.recent.last().map(|r| r.exit_code), Some(0));
    }

    #[test]
    fn the_history_keeps_what_the_page_and_the_api_show() {
        let t = target(1, 1);
        let mut records = Vec::new();
        for (i, r) in [bad(), good(), bad(), bad(), good()].iter().enumerate() {
            let mut r = record_of(r);
            r.at = std::time::UNIX_EPOCH + Duration::from_micros(1_764_000_000_123_456 + i as u64);
            r.total = Duration::from_micros(1234 + i as u64);
            r.timeline.connect = Some(Duration::from_micros(101));
            r.timeline.echoes = vec![Duration::from_micros(303)];
            t.live.lock().unwrap().push(&r, 3);
            // What the API prints of `at`: milliseconds.
            r.at = std::time::UNIX_EPOCH + Duration::from_millis(1_764_000_000_123);
            records.push(r);
        }
        let s = t.status();
        assert_eq!(s.checks, 5);
        assert_eq!(s.recent, records[2..]);
        assert_eq!(
            t.live.lock().unwrap().reasons.len(),
            2,
            "one per failed check kept"
        );
        assert!(
            core::mem::size_of::<Recent>() <= 32,
            "{}",
            core::mem::size_of::<Recent>()
        );
    }

    #[tokio::test]
    async fn a_probe_reuses_its_prepared_check_until_a_reload() {
        let config = |ae: &str| {
            let text = format!(
                "[defaults]\ncalling_ae = \"{ae}\"\n\n[probe]\nallow = [\"127.0.0.0/8\"]\n"
            );
            Loaded::new(Config::parse(&text, "t.toml", std::path::Path::new("/")).unwrap()).unwrap()
        };
        let metrics: Arc<dyn MetricsSink> = Arc::new(crate::serve::http::Metrics::new());
        let (engine, _jobs) = Engine::new(config("FIRST"), metrics);
        engine.apply(config("FIRST"));
        let spec = ProbeSpec {
            host: "127.0.0.1".into(),
            port: 104,
            called_ae: "ANY-SCP".into(),
            calling_ae: "ECHOPROBE".into(),
            module: None,
        };
        let key = ProbeKey::new(spec, Duration::from_secs(9));
        let prepared = |engine: &Engine| {
            let state = engine.read();
            let defaults = &state.loaded.config.defaults;
            engine
                .prepared_probe(defaults, &key, state.generation)
                .unwrap()
        };
        let first = prepared(&engine);
        assert!(
            Arc::ptr_eq(&first, &prepared(&engine)),
            "the same request, prepared once"
        );
        engine.apply(config("SECOND"));
        assert!(
            !Arc::ptr_eq(&first, &prepared(&engine)),
            "a reload prepares again"
        );
    }

    #[test]
    fn the_agent_line_of_a_target() {
        let t = target(1, 1);
        t.record(&bad());
        let live = t.live.lock().unwrap();
        let line = agent::answer("pacs", Some((health(live.health), &live.reason)));
        assert_eq!(line, format!("down #{}\n", bad().verdict.unwrap_err()));
    }
}
