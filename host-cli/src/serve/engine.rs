//! The engine: every target and its state (the rise/fall verdict and kept checks in `history`), its schedule task, the
//! concurrency cap, and [`Daemon`] for the HTTP side. A reload keeps the state and the task of every target whose
//! configuration is unchanged.

use core::net::{IpAddr, SocketAddr};
use core::pin::pin;
use core::time::Duration;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};
use std::time::SystemTime;

use echoprobe_config::{Check, Cidr, Config, Settings, Target};
use echoprobe_core::health::RiseFall;
use tokio::sync::{mpsc, oneshot, watch, Semaphore};
use tokio::task::JoinHandle;

use super::check::{self, Prepared, Stop, Unprepared};
use super::history::Live;
use super::model::{
    BoxFuture, CheckRecord, Daemon, Health, MetricsSink, ProbeRefused, ProbeSpec, Probed,
    TargetStatus,
};
use super::{agent, schedule};
use crate::echo::CheckResult;
use crate::exit::{self, Failure};

/// The reason of a target no check of which has finished.
pub(crate) const NO_CHECK_YET: &str = "no check completed yet";

/// A configuration with everything the checks need made once (TLS files read, options parsed).
#[derive(Clone)]
pub(crate) struct Loaded {
    /// The configuration; once the engine runs it ([`Engine::apply`]), its targets are in their states and its
    /// `targets` is empty.
    pub(crate) config: Config,
    /// Each target's options, in `config.targets` order; moved into the targets' states with them.
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
            live: Mutex::new(Live::new(
                NO_CHECK_YET,
                target.settings.tls.is_some(),
                target.settings.interval_ms,
                matches!(target.settings.check, Check::Find(_)),
            )),
            target,
            prepared,
            history,
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
    /// The same targets by name: an agent or `/health` lookup and a reload's matching of old and new targets
    /// take one hash each, not a walk over every target.
    by_name: HashSet<ByName>,
    /// Counts configurations applied (a reload empties the `/probe` cache).
    generation: u64,
}

/// A target in [`State::by_name`]: hashed and compared by its name (unique in a configuration), so the set finds it
/// by a `&str`.
struct ByName(Arc<TargetState>);

impl PartialEq for ByName {
    fn eq(&self, other: &Self) -> bool {
        self.0.target.name == other.0.target.name
    }
}

impl Eq for ByName {}

impl core::hash::Hash for ByName {
    fn hash<H: core::hash::Hasher>(&self, h: &mut H) {
        self.0.target.name.as_str().hash(h);
    }
}

impl core::borrow::Borrow<str> for ByName {
    fn borrow(&self) -> &str {
        &self.0.target.name
    }
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

/// A `/probe` check for the local runner: what to check, where, and where its result goes (with how long it waited
/// for its start on the grid).
type Job = (
    Arc<Prepared>,
    Option<Vec<SocketAddr>>,
    oneshot::Sender<(CheckResult, Duration)>,
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
        mut loaded: Loaded,
        metrics: Arc<dyn MetricsSink>,
    ) -> (Arc<Engine>, mpsc::UnboundedReceiver<Job>) {
        // Not run: its targets are not needed (the first `apply` brings them).
        loaded.config.targets = Vec::new();
        loaded.targets = Vec::new();
        let slots = Arc::new(Semaphore::new(loaded.config.serve.max_concurrent as usize));
        let (probes, jobs) = mpsc::unbounded_channel();
        let engine = Arc::new(Engine {
            probes,
            state: RwLock::new(State {
                loaded: Arc::new(loaded),
                targets: Vec::new(),
                by_name: HashSet::new(),
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
    /// `stop` turning true aborts them. Each starts when [`schedule::probe_start`] says (the grid counting from the
    /// engine's `origin`): the probes that come close together start together, as the scheduled checks do, and the
    /// runtime wakes once for them and for their replies (at 1,000 probes a second this took a third off the
    /// daemon's CPU per probe, half its task switches); a lone probe starts at once.
    pub(crate) async fn run_probes(
        origin: tokio::time::Instant,
        stop: watch::Receiver<bool>,
        mut jobs: mpsc::UnboundedReceiver<Job>,
    ) {
        let mut previous = None;
        while let Some((prepared, addrs, answer)) = jobs.recv().await {
            let stop = stop.clone();
            let came = tokio::time::Instant::now();
            let since = came.saturating_duration_since(origin);
            let grid = schedule::probe_start(previous.replace(since), since).map(|at| origin + at);
            tokio::task::spawn_local(async move {
                if let Some(start) = grid {
                    tokio::time::sleep_until(start).await;
                }
                let waited = came.elapsed();
                // Boxed: the task holds a pointer, so the runtime's moves of the task's future (into the task at
                // the spawn, over it at the end) copy a few bytes, not the check's several-KB state.
                let mut stop = Stop::new(stop);
                let check = Box::pin(check::check(&prepared, &mut stop, addrs));
                let _ = answer.send((check.await, waited));
            });
        }
    }

    /// The instant the schedule's times count from.
    pub(crate) fn origin(&self) -> tokio::time::Instant {
        self.origin
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|p| p.into_inner())
    }

    /// The running configuration.
    pub(crate) fn config(&self) -> Arc<Loaded> {
        self.read().loaded.clone()
    }

    fn find(&self, name: &str) -> Option<Arc<TargetState>> {
        self.read().by_name.get(name).map(|t| t.0.clone())
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
    pub(crate) fn apply(self: &Arc<Self>, mut loaded: Loaded) {
        let mut state = self.state.write().unwrap_or_else(|p| p.into_inner());
        let history = loaded.config.serve.history as usize;
        // Each target's settings move into its state (one copy of each, not two).
        let targets = core::mem::take(&mut loaded.config.targets);
        let prepared = core::mem::take(&mut loaded.targets);
        let mut kept = Vec::with_capacity(targets.len());
        let mut fresh = Vec::new();
        for (t, p) in targets.into_iter().zip(prepared) {
            let same = state
                .by_name
                .get(t.name.as_str())
                .map(|old| &old.0)
                .filter(|old| old.target == t && old.history == history);
            match same {
                Some(old) => kept.push(old.clone()),
                None => {
                    self.metrics.known(&t.name);
                    let new = Arc::new(TargetState::new(t, p, history));
                    fresh.push(new.clone());
                    kept.push(new);
                }
            }
        }
        // Hashed by the name alone, which a target never changes (its live state is what is mutable).
        #[allow(clippy::mutable_key_type)]
        let by_name: HashSet<ByName> = kept.iter().map(|t| ByName(t.clone())).collect();
        for old in &state.targets {
            let new = by_name.get(old.target.name.as_str());
            if !new.is_some_and(|k| Arc::ptr_eq(&k.0, old)) {
                old.stop.send_replace(true);
                if new.is_none() {
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
        state.by_name = by_name;
        state.loaded = Arc::new(loaded);
        state.generation += 1;
    }

    /// One target's schedule: check, record, wait; until stopped or aborted.
    async fn run_target(self: Arc<Self>, t: Arc<TargetState>, first: Duration) {
        let interval = Duration::from_millis(u64::from(t.target.settings.interval_ms));
        let mut planned = first;
        let mut stop = Stop::new(t.stop.subscribe());
        loop {
            let start = tokio::time::sleep_until(self.origin + planned);
            if stop.until(pin!(start)).await.is_none() {
                return;
            }
            let Some(permit) = stop.until(pin!(self.slots.acquire())).await else {
                return;
            };
            self.metrics
                .lag(self.origin.elapsed().saturating_sub(planned));
            // Boxed: the check's future (several KB) lives only while it runs, not in every idle target's task.
            let result = Box::pin(check::check(&t.prepared, &mut stop, None)).await;
            drop(permit);
            if stop.is_stopped() {
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
    ) -> Result<Probed, ProbeRefused> {
        let started = tokio::time::Instant::now();
        let probed = |result, waited: Duration| Probed {
            result,
            duration: started.elapsed().saturating_sub(waited),
        };
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
            Err(f) => {
                return Ok(probed(
                    CheckResult::failed(key.peer(), f.failure()),
                    Duration::ZERO,
                ))
            }
        };
        let _permit = self.slots.clone().acquire_owned().await;
        // The check connects to the very addresses just allowed (a name is not resolved twice).
        let (answer, result) = oneshot::channel();
        let stopping =
            || CheckResult::failed(key.peer(), Failure::Local("the daemon is stopping".into()));
        if self.probes.send((prepared, resolved, answer)).is_err() {
            return Ok(probed(stopping(), Duration::ZERO));
        }
        let (result, waited) = result
            .await
            .unwrap_or_else(|_| (stopping(), Duration::ZERO));
        Ok(probed(result, waited))
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

    fn targets_from(&self, from: usize, max: usize) -> Vec<TargetStatus> {
        let state = self.read();
        let end = from.saturating_add(max).min(state.targets.len());
        state
            .targets
            .get(from..end)
            .unwrap_or_default()
            .iter()
            .map(|t| t.status())
            .collect()
    }

    fn up_count(&self) -> (usize, usize) {
        let state = self.read();
        let up = state
            .targets
            .iter()
            .filter(|t| {
                t.live
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .health
                    .is_up()
            })
            .count();
        (up, state.targets.len())
    }

    fn has_module(&self, module: Option<&str>) -> bool {
        module.is_none_or(|m| self.config().modules.contains_key(m))
    }

    fn probe(
        &self,
        spec: ProbeSpec,
        deadline: Duration,
    ) -> BoxFuture<'_, Result<Probed, ProbeRefused>> {
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
            t.live.lock().unwrap().failures_kept(),
            2,
            "one per failed check kept"
        );
    }

    #[test]
    fn the_history_keeps_each_start_failure_and_a_find_query() {
        let t = TargetState::new(
            Target {
                name: "mwl".into(),
                address: "127.0.0.1".into(),
                agent_port: None,
                settings: Settings {
                    check: Check::Find(echoprobe_config::Find {
                        model: echoprobe_config::QueryModel::Worklist,
                        query: vec!["PatientID".into()],
                        min_matches: None,
                        max_matches: None,
                        require: None,
                    }),
                    ..Settings::default()
                },
            },
            Arc::new(Prepared::new("127.0.0.1", &Settings::default()).unwrap()),
            4,
        );
        let base = 1_764_000_000_000u64;
        // Gaps of every size, a clock stepped back, a failure without a reason.
        let starts = [
            base,
            base + 10_000,
            base + 10_007,
            base + 3_000,
            base + 86_410_000,
            base + 86_410_001,
        ];
        let mut records = Vec::new();
        for (i, at) in starts.iter().enumerate() {
            let mut r = record_of(&if i % 2 == 0 { good() } else { bad() });
            if i == 3 {
                r.reason.clear();
            }
            r.at = std::time::UNIX_EPOCH + Duration::from_millis(*at);
            r.timeline.find = Some(Duration::from_micros(2500 + i as u64));
            t.live.lock().unwrap().push(&r, 4);
            records.push(r);
        }
        let s = t.status();
        assert_eq!(s.recent, records[2..]);
        assert_eq!(s.recent[1].reason, "");
        assert_eq!(s.recent[1].exit_code, exit::NO_PRESENTATION_CONTEXT);
        assert!(s.recent.iter().all(|r| r.timeline.echoes.is_empty()));
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
