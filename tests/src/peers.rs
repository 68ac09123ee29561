//! Ready-made peers, each listening on a fresh loopback port and killed when dropped.
//!
//! DCMTK's servers listen on every interface; that is only acceptable because [`crate::setup`]
//! has checked that the namespace has nothing but loopback. Each constructor calls it again.

use core::net::Ipv4Addr;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use core::time::Duration;
use std::fs;
use std::io::ErrorKind;
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::sync::Arc;
use std::thread;

use crate::env::{crate_file, dcmtk, python, setup};
use crate::net::{free_port, spawn_listening};
use crate::process::{Peer, TempDir};

/// How long a peer may take to start listening (pynetdicom imports take ~1 s on a busy machine).
pub const START_TIMEOUT: Duration = Duration::from_secs(20);

/// A started server: the process guard and its port.
#[derive(Debug)]
pub struct Server {
    pub peer: Peer,
    pub port: u16,
    /// Files the server needs (config, storage), removed after it is killed.
    _dir: Option<TempDir>,
}

impl Server {
    fn start(name: &str, port: u16, cmd: &mut Command, dir: Option<TempDir>) -> Server {
        let peer = spawn_listening(name, cmd, port, START_TIMEOUT);
        Server {
            peer,
            port,
            _dir: dir,
        }
    }

    /// The port as a string, for command lines.
    pub fn port_arg(&self) -> String {
        self.port.to_string()
    }

    /// Everything the server printed so far.
    pub fn log(&self) -> String {
        self.peer.log()
    }
}

/// DCMTK `storescp --aetitle AE -d PORT`: accepts Verification from anyone with any called AE.
/// `-d` makes it log the AE titles of each association.
pub fn storescp(ae: &str) -> Server {
    setup();
    let port = free_port();
    let dir = TempDir::new("storescp-out");
    let mut cmd = Command::new(dcmtk("storescp"));
    cmd.args(["--aetitle", ae, "-d", "--output-directory"])
        .arg(dir.path())
        .arg(port.to_string());
    Server::start("storescp", port, &mut cmd, Some(dir))
}

/// DCMTK `dcmqrscp` whose only AE title is `ae`, open to any calling AE: it rejects a wrong called
/// AE title with 1/1/7. It forks a child per association (`--single-process` segfaults after the
/// first association in Debian's 3.6.7); [`Peer`] kills the children too.
pub fn dcmqrscp(ae: &str) -> Server {
    setup();
    let port = free_port();
    let dir = TempDir::new("dcmqrscp");
    let storage = dir.path().join("db");
    fs::create_dir_all(&storage).expect("mkdir dcmqrscp storage");
    let cfg = dir.path().join("dcmqrscp.cfg");
    fs::write(
        &cfg,
        format!(
            "NetworkTCPPort = {port}\nMaxPDUSize = 16384\nMaxAssociations = 16\n\n\
             HostTable BEGIN\nHostTable END\n\nVendorTable BEGIN\nVendorTable END\n\n\
             AETable BEGIN\n{ae} {} RW (10, 64mb) ANY\nAETable END\n",
            storage.display()
        ),
    )
    .expect("write dcmqrscp.cfg");
    let mut cmd = Command::new(dcmtk("dcmqrscp"));
    cmd.arg("-c").arg(&cfg).arg("-v").arg(port.to_string());
    Server::start("dcmqrscp", port, &mut cmd, Some(dir))
}

/// Options of the pynetdicom echoscp (`tests/py/echoscp.py`).
#[derive(Debug, Clone, Default)]
pub struct PyScpOptions<'a> {
    /// Its AE title (default PYECHOSCP).
    pub ae: Option<&'a str>,
    /// Reject called AE titles other than `ae` (1/1/7).
    pub require_called_aet: bool,
    /// Accept only these calling AE titles (others 1/1/3); empty: any.
    pub require_calling_aet: &'a [&'a str],
    /// The status it answers C-ECHO with (default 0x0000).
    pub status: Option<u16>,
}

/// pynetdicom echoscp on 127.0.0.1. Its log has one line per event (see the script).
pub fn py_echoscp(opts: &PyScpOptions<'_>) -> Server {
    setup();
    let port = free_port();
    let mut cmd = Command::new(python());
    cmd.arg(crate_file("py/echoscp.py")).arg(port.to_string());
    cmd.args([
        "--ae-title",
        opts.ae.unwrap_or("PYECHOSCP"),
        "--bind",
        "127.0.0.1",
    ]);
    if opts.require_called_aet {
        cmd.arg("--require-called-aet");
    }
    for ae in opts.require_calling_aet {
        cmd.args(["--require-calling-aet", ae]);
    }
    if let Some(status) = opts.status {
        cmd.arg("--status").arg(format!("0x{status:04X}"));
    }
    Server::start("pynetdicom-echoscp", port, &mut cmd, None)
}

/// A `Command` for the pynetdicom echoscu (`tests/py/echoscu.py HOST PORT ...`); exit codes are
/// documented in the script.
pub fn py_echoscu(port: u16, extra: &[&str]) -> Command {
    py_scu("py/echoscu.py", port, extra)
}

/// A `Command` for the pynetdicom SCU `script` (below tests/): `script 127.0.0.1 PORT [extra]`.
pub(crate) fn py_scu(script: &str, port: u16, extra: &[&str]) -> Command {
    let mut cmd = Command::new(python());
    cmd.arg(crate_file(script))
        .args(["127.0.0.1", &port.to_string()])
        .args(extra);
    cmd
}

/// A `Command` for DCMTK's `echoscu -aet AET -aec AEC [extra] 127.0.0.1 PORT` (exit 0 healthy,
/// 1 otherwise).
pub fn dcmtk_echoscu(aet: &str, aec: &str, port: u16, extra: &[&str]) -> Command {
    let mut cmd = Command::new(dcmtk("echoscu"));
    cmd.args(["-aet", aet, "-aec", aec])
        .args(extra)
        .args(["127.0.0.1", &port.to_string()]);
    cmd
}

/// `echoprobe scp -v --bind 127.0.0.1 [args] PORT`.
pub fn echoprobe_scp(args: &[&str]) -> Server {
    echoprobe_scp_on("127.0.0.1", args)
}

/// `echoprobe scp -v --bind ADDR [args] PORT` (ADDR a loopback address: 127.0.0.1, ::1, ...).
pub fn echoprobe_scp_on(bind: &str, args: &[&str]) -> Server {
    setup();
    let port = free_port();
    let mut cmd = crate::echoprobe(["scp", "-v", "--bind", bind]);
    cmd.args(args).arg(port.to_string());
    Server::start("echoprobe-scp", port, &mut cmd, None)
}

/// HAProxy in the foreground (`haproxy -db -f CFG`) with `config`, which must make it listen on
/// loopback `port` (take it from [`free_port`]). The config is written to a temp dir that lives as
/// long as the server.
pub fn haproxy(config: &str, port: u16) -> Server {
    setup();
    let haproxy =
        std::env::var_os("ECHOPROBE_HAPROXY").unwrap_or_else(|| "/usr/sbin/haproxy".into());
    let dir = TempDir::new("haproxy");
    let cfg = dir.path().join("haproxy.cfg");
    fs::write(&cfg, config).expect("write haproxy.cfg");
    let mut check = Command::new(&haproxy);
    let out = check
        .arg("-c")
        .arg("-f")
        .arg(&cfg)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "haproxy not runnable at {} ({e}): run scripts/install-deps.sh",
                haproxy.to_string_lossy()
            )
        });
    assert!(
        out.status.success(),
        "haproxy -c rejects the config:\n{config}\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut cmd = Command::new(&haproxy);
    cmd.arg("-db").arg("-f").arg(&cfg);
    Server::start("haproxy", port, &mut cmd, Some(dir))
}

/// A TCP listener on 127.0.0.1 that accepts connections and never sends a byte (nor reads one).
/// Connections stay open until the guard is dropped.
#[derive(Debug)]
pub struct SilentPeer {
    pub port: u16,
    accepted: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<thread::JoinHandle<()>>,
}

impl SilentPeer {
    /// Start it (at most 64 connections are held; later ones are closed right away).
    pub fn start() -> SilentPeer {
        setup();
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind silent peer");
        listener
            .set_nonblocking(true)
            .expect("nonblocking listener");
        let port = listener.local_addr().expect("local addr").port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (a, s) = (accepted.clone(), stop.clone());
        let thread = thread::spawn(move || {
            let mut held: Vec<TcpStream> = Vec::new();
            while !s.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((conn, _)) => {
                        a.fetch_add(1, Ordering::Relaxed);
                        if held.len() < 64 {
                            held.push(conn);
                        }
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {
                        thread::sleep(Duration::from_millis(5))
                    }
                    Err(_) => thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        SilentPeer {
            port,
            accepted,
            stop,
            thread: Some(thread),
        }
    }

    /// How many connections it accepted.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::Relaxed)
    }
}

impl Drop for SilentPeer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
