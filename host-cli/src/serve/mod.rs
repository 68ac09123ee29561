//! `echoprobe serve`: the probe daemon. It checks every configured target on its own schedule with the same check
//! as the command line, and publishes each target's state to HAProxy agent-checks, HTTP health checks, Prometheus,
//! a status page and `echoprobe status`. [`model`] is what its parts tell each other.
//!
//! Files by job: `engine` (targets' state, schedule tasks, reloads, [`model::Daemon`]), `schedule` (when checks
//! start), `check` (the async check), `agent` (the agent-check port), `status` (the `echoprobe status` client),
//! `http` (the HTTP side), this file (start, listeners, signals).
//!
//! Signals: SIGHUP reloads the configuration (a bad file keeps the running one and logs why; targets whose settings
//! are unchanged keep their state and history; a listener is rebound only if its address changed); SIGTERM and
//! SIGINT stop: in-flight checks send A-ABORT and close, and the process exits within a second.
//!
//! Exit codes: 0 after a stop by signal or a good `--check-config`, 1 for a bad configuration, 60 when a listener
//! cannot be bound at start.

mod agent;
mod check;
mod engine;
mod history;
pub mod http;
pub mod model;
mod schedule;
mod status;

use core::net::SocketAddr;
use core::time::Duration;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub(crate) use status::run as run_status;

use crate::cli::ServeOptions;
use crate::exit;
use engine::{Engine, Loaded};
use http::{Metrics, WebSettings};

/// How long a stop waits for in-flight checks to send their A-ABORT and close.
const STOP_GRACE: Duration = Duration::from_millis(600);

/// One line on the daemon's log (stderr).
fn log_line(msg: core::fmt::Arguments<'_>) {
    crate::log::stderr_line(format_args!("echoprobe serve: {msg}"));
}

/// Reads and checks the configuration, the TLS files of every target and of the web listener included.
fn load(path: &Path) -> Result<Loaded, String> {
    let config = echoprobe_config::Config::load(path).map_err(|e| e.to_string())?;
    web_settings(&config.web)
        .check()
        .map_err(|e| format!("{}: `web`: {e}", path.display()))?;
    Loaded::new(config).map_err(|e| format!("{}: {e}", path.display()))
}

fn web_settings(web: &echoprobe_config::Web) -> WebSettings {
    WebSettings {
        tls: web.tls.clone(),
        basic_auth: web
            .basic_auth
            .iter()
            .map(|(u, h)| (u.clone(), h.clone()))
            .collect(),
    }
}

/// Runs `echoprobe serve`; returns the exit code.
pub(crate) fn run(prog: &str, options: &ServeOptions) -> u8 {
    let loaded = match load(&options.config) {
        Ok(l) => l,
        Err(e) => {
            crate::log::stderr_line(format_args!("{prog}: {e}"));
            return exit::USAGE;
        }
    };
    if options.check_config {
        crate::log::stdout_line(format_args!(
            "{}: ok: {}",
            options.config.display(),
            loaded.config.summary()
        ));
        return exit::HEALTHY;
    }
    raise_open_files();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            crate::log::stderr_line(format_args!("{prog}: cannot start the runtime: {e}"));
            return exit::LOCAL;
        }
    };
    // Every check runs on this one thread (the core's async driver's futures are not `Send`).
    // The daemon's own loop is a task too: `run_until` polls its future on every wake-up of any task (every check's
    // I/O), and a join handle is cheaper to poll than the loop's signal streams.
    let local = tokio::task::LocalSet::new();
    let path = options.config.clone();
    let code = runtime.block_on(local.run_until(async move {
        tokio::task::spawn_local(async move { daemon(&path, loaded).await })
            .await
            .unwrap_or(exit::LOCAL)
    }));
    // Name lookups still running on the blocking pool are not waited for.
    runtime.shutdown_timeout(Duration::from_millis(50));
    code
}

/// [`load`] on the blocking pool (reading files, loading TLS keys and resolving the targets' names for the
/// `/probe` allow-list must not hold up checks and answers).
async fn reload(path: &Path) -> Result<Loaded, String> {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || load(&path))
        .await
        .unwrap_or_else(|e| Err(format!("reload failed: {e}")))
}

/// Raises the soft limit of open files to the hard one: every check, agent and HTTP connection is a descriptor, and
/// thousands of idle clients must not leave none for the checks.
fn raise_open_files() {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let limit = getrlimit(Resource::Nofile);
    // `None` is unlimited.
    let below = match (limit.current, limit.maximum) {
        (Some(current), Some(maximum)) => current < maximum,
        (Some(_), None) => true,
        (None, _) => false,
    };
    if below {
        let _ = setrlimit(
            Resource::Nofile,
            Rlimit {
                current: limit.maximum,
                maximum: limit.maximum,
            },
        );
    }
}

/// The daemon until a stop signal.
async fn daemon(path: &Path, loaded: Loaded) -> u8 {
    let (stop_tx, stop) = watch::channel(false);
    let metrics = Arc::new(Metrics::new());
    let (engine, probes) = Engine::new(loaded.clone(), metrics.clone());
    tokio::task::spawn_local(Engine::run_probes(engine.origin(), stop, probes));
    let mut listeners = Listeners::default();
    if let Err(e) = listeners
        .apply(&loaded.config, &engine, &metrics, true)
        .await
    {
        log_line(format_args!("{e}"));
        return exit::LOCAL;
    }
    let summary = loaded.config.summary();
    engine.apply(loaded);
    log_line(format_args!("started: {summary}"));

    let (mut hup, mut term, mut int) = match (
        signal(SignalKind::hangup()),
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(h), Ok(t), Ok(i)) => (h, t, i),
        _ => {
            log_line(format_args!("cannot install the signal handlers"));
            return exit::LOCAL;
        }
    };
    // Listening, checking, and signals in place: systemd's Type=notify may call the service started.
    if let Err(e) = crate::notify::ready() {
        log_line(format_args!(
            "cannot tell systemd that the daemon is ready: {e}"
        ));
    }
    loop {
        tokio::select! {
            _ = hup.recv() => match reload(path).await {
                Ok(loaded) => {
                    let _ = listeners.apply(&loaded.config, &engine, &metrics, false).await;
                    let summary = loaded.config.summary();
                    engine.apply(loaded);
                    log_line(format_args!("reloaded: {summary}"));
                }
                Err(e) => log_line(format_args!(
                    "reload failed, keeping the running configuration: {e}"
                )),
            },
            _ = term.recv() => break,
            _ = int.recv() => break,
        }
    }
    log_line(format_args!("stopping"));
    let _ = stop_tx.send(true);
    engine.wait_stopped(STOP_GRACE).await;
    listeners.close().await;
    exit::HEALTHY
}

/// The listening tasks, by address.
#[derive(Default)]
struct Listeners {
    agent: Option<(SocketAddr, JoinHandle<()>)>,
    /// Per-target agent ports: address -> (target, task).
    ports: BTreeMap<SocketAddr, (String, JoinHandle<()>)>,
    http: Option<(SocketAddr, WebSettings, JoinHandle<()>)>,
}

async fn bind(what: &str, addr: SocketAddr) -> Result<TcpListener, String> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr} ({what}): {e}"))
}

async fn end(task: JoinHandle<()>) {
    task.abort();
    let _ = task.await;
}

impl Listeners {
    /// Binds what `config` names and is not bound yet (or changed); closes what it no longer names. At start
    /// (`strict`) a failure is returned; at a reload it is logged and the rest goes on.
    async fn apply(
        &mut self,
        config: &echoprobe_config::Config,
        engine: &Arc<Engine>,
        metrics: &Arc<Metrics>,
        strict: bool,
    ) -> Result<(), String> {
        let mut failures = Vec::new();
        let agent = config.listen.agent;
        if self.agent.as_ref().is_none_or(|(a, _)| *a != agent) {
            if let Some((_, task)) = self.agent.take() {
                end(task).await;
            }
            match bind("agent", agent).await {
                Ok(l) => {
                    log_line(format_args!("agent-check on {}", local(&l, agent)));
                    let task = tokio::spawn(agent::serve(l, engine.clone(), None));
                    self.agent = Some((agent, task));
                }
                Err(e) => failures.push(e),
            }
        }

        let wanted: BTreeMap<SocketAddr, String> = config
            .targets
            .iter()
            .filter_map(|t| {
                t.agent_port
                    .map(|p| (SocketAddr::new(agent.ip(), p), t.name.clone()))
            })
            .collect();
        let stale: Vec<SocketAddr> = self
            .ports
            .iter()
            .filter(|(a, (name, _))| wanted.get(a) != Some(name))
            .map(|(a, _)| *a)
            .collect();
        for a in stale {
            if let Some((_, task)) = self.ports.remove(&a) {
                end(task).await;
            }
        }
        for (addr, name) in wanted {
            if self.ports.contains_key(&addr) {
                continue;
            }
            match bind(&format!("agent for {name}"), addr).await {
                Ok(l) => {
                    let task = tokio::spawn(agent::serve(l, engine.clone(), Some(name.clone())));
                    self.ports.insert(addr, (name, task));
                }
                Err(e) => failures.push(e),
            }
        }

        let http = config.listen.http;
        let web = web_settings(&config.web);
        if self
            .http
            .as_ref()
            .is_none_or(|(a, w, _)| *a != http || *w != web)
        {
            if let Some((_, _, task)) = self.http.take() {
                end(task).await;
            }
            match bind("http", http).await {
                Ok(l) => {
                    log_line(format_args!("http on {}", local(&l, http)));
                    let daemon: Arc<dyn model::Daemon> = engine.clone();
                    let serving = http::serve(l, daemon, metrics.clone(), web.clone());
                    let task = tokio::spawn(async move {
                        if let Err(e) = serving.await {
                            log_line(format_args!("http: {e}"));
                        }
                    });
                    self.http = Some((http, web, task));
                }
                Err(e) => failures.push(e),
            }
        }
        for e in &failures {
            if !strict {
                log_line(format_args!("{e}"));
            }
        }
        match failures.into_iter().next() {
            Some(e) if strict => Err(e),
            _ => Ok(()),
        }
    }

    /// Stops every listener.
    async fn close(&mut self) {
        if let Some((_, task)) = self.agent.take() {
            end(task).await;
        }
        if let Some((_, _, task)) = self.http.take() {
            end(task).await;
        }
        for (_, (_, task)) in core::mem::take(&mut self.ports) {
            end(task).await;
        }
    }
}

/// The address a listener got (the port the OS chose for port 0).
fn local(l: &TcpListener, asked: SocketAddr) -> SocketAddr {
    l.local_addr().unwrap_or(asked)
}
