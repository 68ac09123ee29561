//! Orthanc (Debian's) with its index in PostgreSQL: the archive whose database the find check must see
//! die while its DICOM side still answers C-ECHO.
//!
//! [`Postgres`] is a private cluster in a temp dir: `initdb` once, then `postgres` in the foreground
//! as the `postgres` user (PostgreSQL refuses root) listening only on a Unix socket in that dir, so
//! it needs no TCP port at all. [`Postgres::stop`] runs `pg_ctl stop` and checks that
//! `postmaster.pid` is gone; [`Postgres::freeze`] stops the postmaster and its backends with
//! SIGSTOP (a hung database), [`Postgres::thaw`] resumes them. [`Orthanc`] runs `Orthanc CONFIG`
//! with the PostgreSQL index plugin on a loopback port, `DicomAlwaysAllowFind` on and the plugin's
//! connection retries at their minimum (one retry, one second apart), so that a query against a
//! dead database fails in about a second instead of fifty.
//!
//! Every process is stopped by its PID when its guard drops (a frozen cluster is thawed first). Needs root (not the
//! mapped root of `unshare -r`): PostgreSQL refuses root, so it runs as the `postgres` user.

use core::time::Duration;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread;
use std::time::Instant;

use crate::env::setup;
use crate::net::{free_port, spawn_listening};
use crate::peers::START_TIMEOUT;
use crate::process::{children_of, run, Peer, TempDir};

/// Debian's PostgreSQL 15 programs (`ECHOPROBE_PG_BIN` overrides the directory).
fn pg_bin(program: &str) -> PathBuf {
    let dir =
        std::env::var_os("ECHOPROBE_PG_BIN").unwrap_or_else(|| "/usr/lib/postgresql/15/bin".into());
    let path = PathBuf::from(dir).join(program);
    assert!(
        path.is_file(),
        "PostgreSQL's {program} missing at {}: run scripts/install-deps.sh",
        path.display()
    );
    path
}

/// Debian's Orthanc (`ECHOPROBE_ORTHANC` overrides).
fn orthanc_bin() -> PathBuf {
    let path = PathBuf::from(
        std::env::var_os("ECHOPROBE_ORTHANC").unwrap_or_else(|| "/usr/sbin/Orthanc".into()),
    );
    assert!(
        path.is_file(),
        "Orthanc missing at {}: run scripts/install-deps.sh",
        path.display()
    );
    path
}

/// The PostgreSQL index plugin of Debian's orthanc-postgresql.
const PG_INDEX_PLUGIN: &str = "/usr/share/orthanc/plugins/libOrthancPostgreSQLIndex.so";

/// The user PostgreSQL runs as, its uid and gid (from /etc/passwd).
fn postgres_user() -> (u32, u32) {
    let passwd = fs::read_to_string("/etc/passwd").expect("read /etc/passwd");
    passwd
        .lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.first() == Some(&"postgres")).then(|| {
                (
                    f.get(2).and_then(|u| u.parse().ok()).unwrap_or(0),
                    f.get(3).and_then(|g| g.parse().ok()).unwrap_or(0),
                )
            })
        })
        .expect("no postgres user: run scripts/install-deps.sh (package postgresql)")
}

/// Whether this process is root outside any user namespace (`unshare -r` maps a user to a root that cannot switch
/// to the postgres user).
fn real_root() -> bool {
    fs::read_to_string("/proc/self/uid_map")
        .is_ok_and(|m| m.split_whitespace().collect::<Vec<_>>() == ["0", "0", "4294967295"])
        && fs::read_to_string("/proc/self/status").is_ok_and(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .is_some_and(|l| l.split_whitespace().nth(2) == Some("0"))
        })
}

/// `program` run as the postgres user: `setpriv` execs it, so the PID we get is the program's own.
fn as_postgres(program: &Path) -> Command {
    assert!(
        real_root(),
        "the Orthanc tests run PostgreSQL as the postgres user, which needs root outside a user namespace \
         (scripts/test.sh as root: `unshare -n`, not `unshare -rn`)"
    );
    let (uid, gid) = postgres_user();
    let mut cmd = Command::new("setpriv");
    cmd.args([
        &format!("--reuid={uid}"),
        &format!("--regid={gid}"),
        "--clear-groups",
        "--",
    ])
    .arg(program);
    cmd
}

/// A private PostgreSQL cluster on a Unix socket.
#[derive(Debug)]
pub struct Postgres {
    /// The postmaster (None while stopped).
    server: Option<Peer>,
    /// Whether [`Postgres::freeze`] stopped it.
    frozen: Vec<u32>,
    data: PathBuf,
    /// The socket directory (also the libpq "host").
    socket_dir: PathBuf,
    _dir: TempDir,
}

impl Postgres {
    /// initdb into a fresh temp dir and start the server.
    pub fn start() -> Postgres {
        setup();
        let dir = TempDir::new("postgres");
        let (uid, gid) = postgres_user();
        std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid)).expect("chown the cluster dir");
        let data = dir.path().join("data");
        let out = run(
            as_postgres(&pg_bin("initdb"))
                .args(["-A", "trust", "-U", "postgres", "--no-sync", "-D"])
                .arg(&data)
                .env("LC_ALL", "C"),
            Duration::from_secs(60),
        );
        out.assert_code(0);
        let mut pg = Postgres {
            server: None,
            frozen: Vec::new(),
            data,
            socket_dir: dir.path().to_path_buf(),
            _dir: dir,
        };
        pg.resume_service();
        pg
    }

    /// The socket directory, which libpq takes as the host name.
    pub fn socket_dir(&self) -> &Path {
        &self.socket_dir
    }

    /// The postmaster's PID while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.server.as_ref().map(Peer::pid)
    }

    /// Starts the server again after [`Postgres::stop`] (or for the first time) and waits until it
    /// accepts connections.
    pub fn resume_service(&mut self) {
        assert!(self.server.is_none(), "PostgreSQL already runs");
        let mut cmd = as_postgres(&pg_bin("postgres"));
        cmd.arg("-D")
            .arg(&self.data)
            .arg("-k")
            .arg(&self.socket_dir)
            .args(["-c", "listen_addresses=", "-c", "fsync=off"])
            .env("LC_ALL", "C");
        let server = Peer::spawn("postgres", &mut cmd);
        server.wait_log(
            "database system is ready to accept connections",
            START_TIMEOUT,
        );
        self.server = Some(server);
    }

    /// `pg_ctl stop -m fast`, then waits for the postmaster to exit and checks that
    /// `postmaster.pid` is gone (the old PID alone proves nothing).
    pub fn stop(&mut self) {
        let mut server = self.server.take().expect("PostgreSQL is not running");
        run(
            as_postgres(&pg_bin("pg_ctl"))
                .args(["stop", "-m", "fast", "-w", "-t", "20", "-D"])
                .arg(&self.data),
            Duration::from_secs(30),
        )
        .assert_code(0);
        server.wait_exit(Duration::from_secs(20));
        let pidfile = self.data.join("postmaster.pid");
        assert!(
            !pidfile.exists(),
            "{} still exists after pg_ctl stop",
            pidfile.display()
        );
    }

    /// Hangs the database: SIGSTOP to the postmaster and every backend (its children). Returns
    /// how many processes were stopped.
    pub fn freeze(&mut self) -> usize {
        let pid = self.pid().expect("PostgreSQL is not running");
        let mut pids = children_of(pid);
        pids.push(pid);
        signal("STOP", &pids);
        self.frozen = pids;
        self.frozen.len()
    }

    /// Resumes what [`Postgres::freeze`] stopped.
    pub fn thaw(&mut self) {
        let pids = core::mem::take(&mut self.frozen);
        signal("CONT", &pids);
    }

    /// Everything the server logged since its last start.
    pub fn log(&self) -> String {
        self.server.as_ref().map(Peer::log).unwrap_or_default()
    }
}

fn signal(name: &str, pids: &[u32]) {
    if pids.is_empty() {
        return;
    }
    let status = Command::new("kill")
        .arg(format!("-{name}"))
        .args(pids.iter().map(u32::to_string))
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -{name} {pids:?} failed");
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.thaw();
        if let Some(mut server) = self.server.take() {
            // Immediate shutdown by signal to the postmaster's PID (SIGQUIT), then SIGKILL for
            // whatever is left (Peer's drop kills the postmaster and its children).
            signal("QUIT", &[server.pid()]);
            let start = Instant::now();
            while server.try_exit().is_none() && start.elapsed() < Duration::from_secs(5) {
                thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

/// Orthanc with its index in a [`Postgres`] of its own.
#[derive(Debug)]
pub struct Orthanc {
    /// Its DICOM port on 127.0.0.1 (it binds every interface: the namespace has only loopback).
    pub port: u16,
    /// The database behind it.
    pub postgres: Postgres,
    server: Peer,
    _dir: TempDir,
}

/// Orthanc's AE title in these tests.
pub const ORTHANC_AE: &str = "ORTHANC";

impl Orthanc {
    /// Starts PostgreSQL, then Orthanc on a free port, and waits until Orthanc listens.
    pub fn start() -> Orthanc {
        let postgres = Postgres::start();
        let dir = TempDir::new("orthanc");
        let storage = dir.path().join("storage");
        fs::create_dir_all(&storage).expect("mkdir orthanc storage");
        let port = free_port();
        let config = format!(
            r#"{{
  "Name": "echoprobe-tests",
  "StorageDirectory": "{storage}",
  "IndexDirectory": "{storage}",
  "Plugins": ["{PG_INDEX_PLUGIN}"],
  "HttpServerEnabled": false,
  "RemoteAccessAllowed": false,
  "DicomServerEnabled": true,
  "DicomAet": "{ORTHANC_AE}",
  "DicomPort": {port},
  "DicomCheckCalledAet": true,
  "DicomAlwaysAllowEcho": true,
  "DicomAlwaysAllowStore": true,
  "DicomAlwaysAllowFind": true,
  "PostgreSQL": {{
    "EnableIndex": true,
    "EnableStorage": false,
    "Host": "{socket}",
    "Port": 5432,
    "Database": "postgres",
    "Username": "postgres",
    "Password": "",
    "Lock": false,
    "MaximumConnectionRetries": 1,
    "ConnectionRetryInterval": 1
  }}
}}
"#,
            storage = storage.display(),
            socket = postgres.socket_dir().display(),
        );
        let path = dir.path().join("orthanc.json");
        fs::write(&path, config).expect("write orthanc.json");
        let server = spawn_listening(
            "orthanc",
            Command::new(orthanc_bin()).arg(&path),
            port,
            START_TIMEOUT,
        );
        Orthanc {
            port,
            postgres,
            server,
            _dir: dir,
        }
    }

    /// The port as a string, for command lines.
    pub fn port_arg(&self) -> String {
        self.port.to_string()
    }

    /// Everything Orthanc logged so far.
    pub fn log(&self) -> String {
        self.server.log()
    }

    /// Orthanc's PID.
    pub fn pid(&self) -> u32 {
        self.server.pid()
    }
}

impl Drop for Orthanc {
    fn drop(&mut self) {
        // Orthanc first (its DICOM threads may hang on a frozen database: SIGKILL by PID), then
        // the database (the field's own drop thaws and stops it).
        self.server.kill();
    }
}
