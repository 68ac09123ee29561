//! Child processes: one-shot commands with a hard timeout, long-running peers killed on drop.

use core::fmt;
use core::sync::atomic::{AtomicU32, Ordering};
use core::time::Duration;
use std::fs::{self, File};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::Instant;

/// Fail the test unless less than `limit` has passed since `start` (the bound of a whole test of many steps, each
/// waited for with its own bound).
#[track_caller]
pub fn assert_took_under(start: Instant, limit: Duration) {
    assert!(start.elapsed() < limit, "took {:?}", start.elapsed());
}

/// What a finished (or killed) command did.
#[derive(Debug)]
pub struct Outcome {
    /// The command line, for messages.
    pub command: String,
    /// Exit code; `None` if killed by a signal (also after a timeout).
    pub code: Option<i32>,
    /// Whether we killed it because it overran its timeout.
    pub timed_out: bool,
    /// Wall time from spawn to exit.
    pub elapsed: Duration,
    pub stdout: String,
    pub stderr: String,
}

impl Outcome {
    /// stdout and stderr together, for "the message mentions X" checks.
    pub fn output(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }

    /// Fail the test unless the command exited with `code`, showing everything it printed.
    #[track_caller]
    pub fn assert_code(&self, code: impl Into<i32>) -> &Self {
        let code = code.into();
        assert!(
            self.code == Some(code) && !self.timed_out,
            "expected exit code {code}, got {}\n{self}",
            self.describe_end()
        );
        self
    }

    /// Fail the test unless the command finished within `limit`.
    #[track_caller]
    pub fn assert_within(&self, limit: Duration) -> &Self {
        assert!(
            self.elapsed <= limit,
            "took {:?}, limit {limit:?}\n{self}",
            self.elapsed
        );
        self
    }

    /// Fail the test unless stdout or stderr contains `needle`.
    #[track_caller]
    pub fn assert_mentions(&self, needle: &str) -> &Self {
        self.assert_in("output", &self.output(), needle)
    }

    /// Fail the test unless stderr contains `needle`.
    #[track_caller]
    pub fn assert_stderr(&self, needle: &str) -> &Self {
        self.assert_in("stderr", &self.stderr, needle)
    }

    /// Fail the test unless stdout contains `needle`.
    #[track_caller]
    pub fn assert_stdout(&self, needle: &str) -> &Self {
        self.assert_in("stdout", &self.stdout, needle)
    }

    #[track_caller]
    fn assert_in(&self, what: &str, text: &str, needle: &str) -> &Self {
        assert!(
            text.contains(needle),
            "{what} does not mention {needle:?}\n{self}"
        );
        self
    }

    fn describe_end(&self) -> String {
        match (self.timed_out, self.code) {
            (true, _) => format!("a timeout (killed after {:?})", self.elapsed),
            (false, Some(c)) => format!("exit code {c}"),
            (false, None) => "death by a signal".to_string(),
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "$ {}", self.command)?;
        writeln!(f, "-> {} after {:?}", self.describe_end(), self.elapsed)?;
        writeln!(f, "--- stdout ---\n{}", self.stdout.trim_end())?;
        write!(f, "--- stderr ---\n{}", self.stderr.trim_end())
    }
}

/// `program args...` as one line, for messages.
pub fn command_line(cmd: &Command) -> String {
    let mut line = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        line.push(' ');
        line.push_str(&arg.to_string_lossy());
    }
    line
}

/// Run `cmd` to completion with stdin closed, killing it after `timeout`. Captures everything.
pub fn run(cmd: &mut Command, timeout: Duration) -> Outcome {
    let command = command_line(cmd);
    let start = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start `{command}`: {e}"));
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let mut timed_out = false;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for child") {
            break status;
        }
        if start.elapsed() >= timeout {
            timed_out = true;
            let _ = child.kill();
            break child.wait().expect("wait for killed child");
        }
        thread::sleep(Duration::from_millis(2));
    };
    let elapsed = start.elapsed();
    Outcome {
        command,
        code: status.code(),
        timed_out,
        elapsed,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    }
}

fn drain<R: Read + Send + 'static>(pipe: Option<R>) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut buf);
        }
        String::from_utf8_lossy(&buf).into_owned()
    })
}

/// A temporary directory, removed on drop.
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    /// A fresh directory under the system temp dir, named after `tag`.
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("echoprobe-tests-{}-{n}-{tag}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("mkdir {}: {e}", dir.display()));
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// A long-running peer process. Its stdout and stderr go to one log file; dropping the guard
/// kills it by PID (SIGKILL) and reaps it.
#[derive(Debug)]
pub struct Peer {
    name: String,
    child: Child,
    log: PathBuf,
    exited: Option<ExitStatus>,
    _dir: TempDir,
}

impl Peer {
    /// Spawn `cmd` as a peer called `name` (for messages).
    pub fn spawn(name: &str, cmd: &mut Command) -> Peer {
        let dir = TempDir::new(name);
        let log = dir.path().join("log");
        let file = File::create(&log).expect("create peer log");
        let err = file.try_clone().expect("dup peer log");
        let line = command_line(cmd);
        let child = cmd
            .stdin(Stdio::null())
            .stdout(file)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start peer {name} `{line}`: {e}"));
        Peer {
            name: name.to_string(),
            child,
            log,
            exited: None,
            _dir: dir,
        }
    }

    /// The peer's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Everything the peer printed so far.
    pub fn log(&self) -> String {
        fs::read(&self.log)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }

    /// The exit status if the peer has exited.
    pub fn try_exit(&mut self) -> Option<ExitStatus> {
        if self.exited.is_none() {
            self.exited = self.child.try_wait().ok().flatten();
        }
        self.exited
    }

    /// Wait until the log contains `needle`, at most `timeout`; fail the test with the log if not.
    #[track_caller]
    pub fn wait_log(&self, needle: &str, timeout: Duration) -> String {
        let start = Instant::now();
        loop {
            let log = self.log();
            if log.contains(needle) {
                return log;
            }
            assert!(
                start.elapsed() < timeout,
                "{} did not log {needle:?} within {timeout:?}; its log:\n{log}",
                self.name
            );
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Wait for the peer to exit on its own, at most `timeout`; kill it and fail the test if not.
    #[track_caller]
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.try_exit() {
                return status;
            }
            if start.elapsed() >= timeout {
                self.kill();
                panic!(
                    "{} did not exit within {timeout:?}; its log:\n{}",
                    self.name,
                    self.log()
                );
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// Kill (SIGKILL, by PID) its children (e.g. dcmqrscp's per-association forks), then it, and
    /// reap it. Idempotent.
    pub fn kill(&mut self) {
        if self.try_exit().is_none() {
            let children = children_of(self.child.id());
            if !children.is_empty() {
                let _ = Command::new("kill")
                    .arg("-KILL")
                    .args(children.iter().map(u32::to_string))
                    .status();
            }
            let _ = self.child.kill();
            self.exited = self.child.wait().ok();
        }
    }
}

/// The direct children of `pid` (from `/proc/PID/task/*/children`).
pub fn children_of(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    if let Ok(tasks) = fs::read_dir(format!("/proc/{pid}/task")) {
        for task in tasks.flatten() {
            if let Ok(list) = fs::read_to_string(task.path().join("children")) {
                out.extend(
                    list.split_whitespace()
                        .filter_map(|p| p.parse::<u32>().ok()),
                );
            }
        }
    }
    out
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.kill();
    }
}
