//! Printing by verbosity. Progress and diagnostics go to stderr with DCMTK's level letters (`I:`, `D:`), so stdout
//! carries only the result (summary line or JSON); warnings and errors are prefixed by the program name.
//!
//! With `-lc FILE` ([`install`]), progress, debug lines, PDU dumps and warnings go where the file says instead: a
//! console stream and/or one log file, each from its own level. Errors are always printed on stderr (and also
//! written to the log file): the error line of a failed check is its result, not log output.

use core::fmt::Display;
use std::io::Write as _;
use std::sync::{Mutex, OnceLock};

pub(crate) mod config;
mod level;

pub use level::Verbosity;

use config::{LogConfig, Stream};

use crate::exit::Failure;

/// Where log lines go when a log configuration file was given.
#[derive(Debug)]
struct Sinks {
    console: Option<(Stream, Verbosity)>,
    file: Option<(Mutex<std::fs::File>, Verbosity)>,
}

static SINKS: OnceLock<Sinks> = OnceLock::new();

/// Opens what `config` asks for and sends every later log line there. Once per process; an error is a message
/// for exit code 1 (the log file cannot be opened).
pub(crate) fn install(config: &LogConfig) -> Result<(), String> {
    let file = match &config.file {
        None => None,
        Some(f) => {
            if f.create_dirs {
                if let Some(dir) = f.path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|e| {
                        format!("cannot create the log directory {}: {e}", dir.display())
                    })?;
                }
            }
            if let Some((max, backups)) = f.rolling {
                roll(&f.path, max, backups);
            }
            let mut options = std::fs::OpenOptions::new();
            options.create(true);
            if f.append {
                options.append(true);
            } else {
                options.write(true).truncate(true);
            }
            let handle = options
                .open(&f.path)
                .map_err(|e| format!("cannot open the log file {}: {e}", f.path.display()))?;
            Some((Mutex::new(handle), f.level))
        }
    };
    SINKS
        .set(Sinks {
            console: config.console,
            file,
        })
        .map_err(|_| "the log configuration was already installed".to_string())
}

/// Installs `config` ([`install`]) and prints what it does and ignores at `-v`; a usage error if its log file cannot
/// be opened (the caller prints it, with `--json` as JSON too).
pub(crate) fn configure(log: &Log, config: &LogConfig) -> Result<(), Failure> {
    if let Err(e) = install(config) {
        return Err(Failure::Usage(format!(
            "--log-config {}: {e}",
            config.source.display()
        )));
    }
    let name = config::level_name;
    log.info(format_args!(
        "log configuration {}: level {}, console {}, file {}",
        config.source.display(),
        name(config.level),
        config.console.map_or_else(
            || "none".to_string(),
            |(s, l)| format!("{} from {}", format!("{s:?}").to_lowercase(), name(l))
        ),
        config.file.as_ref().map_or_else(
            || "none".to_string(),
            |f| format!("{} from {}", f.path.display(), name(f.level))
        ),
    ));
    // Settings the file has and echoprobe ignores (DCMTK's own logger.cfg has 11): one line at -v naming them,
    // each with its reason at -d; other notes at -v.
    let (ignored, other): (Vec<&String>, Vec<&String>) = config
        .notes
        .iter()
        .partition(|n| config::ignored_key(n).is_some());
    if !ignored.is_empty() {
        let keys: Vec<&str> = ignored
            .iter()
            .filter_map(|n| config::ignored_key(n))
            .collect();
        log.info(format_args!(
            "log configuration: {} setting{} ignored (each with why at debug level): {}",
            keys.len(),
            if keys.len() == 1 { "" } else { "s" },
            config::compact_keys(&keys)
        ));
    }
    for note in other {
        log.info(format_args!("log configuration: {note}"));
    }
    for note in ignored {
        log.debug(format_args!("log configuration: {note}"));
    }
    Ok(())
}

/// A RollingFileAppender's rotation, done once when the run starts: `path` over `max` bytes becomes `path.1`
/// (`path.1` becomes `path.2`, ... up to `backups`; with 0 backups it is truncated by the caller instead).
fn roll(path: &std::path::Path, max: u64, backups: u32) {
    let too_big = std::fs::metadata(path).is_ok_and(|m| m.len() >= max);
    if !too_big {
        return;
    }
    let numbered = |i: u32| {
        let mut p = path.as_os_str().to_owned();
        p.push(format!(".{i}"));
        std::path::PathBuf::from(p)
    };
    if backups == 0 {
        let _ = std::fs::remove_file(path);
        return;
    }
    let _ = std::fs::remove_file(numbered(backups));
    for i in (1..backups).rev() {
        let _ = std::fs::rename(numbered(i), numbered(i + 1));
    }
    let _ = std::fs::rename(path, numbered(1));
}

/// Writes `text` (whole lines) at message `level` to the configured places, or to stderr without `-lc`.
fn emit(level: Verbosity, text: &str) {
    let Some(sinks) = SINKS.get() else {
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
        return;
    };
    if let Some((stream, at)) = sinks.console {
        if level <= at {
            match stream {
                Stream::Stderr => {
                    let _ = std::io::stderr().lock().write_all(text.as_bytes());
                }
                Stream::Stdout => {
                    let mut out = std::io::stdout().lock();
                    let _ = out.write_all(text.as_bytes());
                    let _ = out.flush();
                }
            }
        }
    }
    to_file(sinks, level, text);
}

fn to_file(sinks: &Sinks, level: Verbosity, text: &str) {
    if let Some((file, at)) = &sinks.file {
        if level <= *at {
            if let Ok(mut f) = file.lock() {
                let _ = f.write_all(text.as_bytes());
            }
        }
    }
}

/// A block of debug lines (PDU dumps), at `-d` level.
pub(crate) fn debug_block(text: &str) {
    emit(Verbosity::Debug, text);
}

/// Where and how much to print.
#[derive(Debug, Clone)]
pub(crate) struct Log {
    /// The program name for warnings and errors.
    pub(crate) prog: String,
    /// How much.
    pub(crate) verbosity: Verbosity,
    /// Put before `I:`/`D:` lines (e.g. `scp: ` in the demo).
    pub(crate) tag: String,
}

impl Log {
    /// A log for `prog` at `verbosity`.
    pub(crate) fn new(prog: &str, verbosity: Verbosity) -> Self {
        Log {
            prog: prog.to_string(),
            verbosity,
            tag: String::new(),
        }
    }

    /// The same log with `tag` in front of its progress lines.
    pub(crate) fn tagged(&self, tag: &str) -> Self {
        Log {
            tag: tag.to_string(),
            ..self.clone()
        }
    }

    /// Whether `-v` (or more) is on.
    pub(crate) fn verbose(&self) -> bool {
        self.verbosity >= Verbosity::Verbose
    }

    /// Whether `-d` is on.
    pub(crate) fn debug_on(&self) -> bool {
        self.verbosity >= Verbosity::Debug
    }

    /// A progress line (`-v`).
    pub(crate) fn info(&self, msg: impl Display) {
        if self.verbose() {
            emit(Verbosity::Verbose, &format!("{}I: {msg}\n", self.tag));
        }
    }

    /// A debug line (`-d`).
    pub(crate) fn debug(&self, msg: impl Display) {
        if self.debug_on() {
            emit(Verbosity::Debug, &format!("{}D: {msg}\n", self.tag));
        }
    }

    /// A warning (not with `-q`).
    pub(crate) fn warn(&self, msg: impl Display) {
        if self.verbosity >= Verbosity::Normal {
            emit(
                Verbosity::Normal,
                &format!("{}: {}warning: {msg}\n", self.prog, self.tag),
            );
        }
    }

    /// An error: always printed, even with `-q` (as DCMTK prints fatal errors with `-q`).
    pub(crate) fn error(&self, msg: impl Display) {
        let line = format!("{}: {}{msg}\n", self.prog, self.tag);
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
        if let Some(sinks) = SINKS.get() {
            to_file(sinks, Verbosity::Quiet, &line);
        }
    }

    /// The prefix for PDU dumps, if `-d` is on.
    pub(crate) fn dump_prefix(&self) -> Option<String> {
        self.debug_on().then(|| format!("{}D: ", self.tag))
    }
}

/// One line on stdout, flushed; a closed stdout is ignored (a health check must not panic on `| head`).
pub(crate) fn stdout_line(line: core::fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// One line on stderr; errors ignored.
pub(crate) fn stderr_line(line: core::fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// Milliseconds with 3 decimals below 10 ms, 1 decimal above: `0.412 ms`, `12.5 ms`.
pub(crate) fn ms(d: core::time::Duration) -> String {
    Ms(d).to_string()
}

/// [`ms`] written when shown (a log line that is off formats nothing).
pub(crate) struct Ms(pub(crate) core::time::Duration);

impl Display for Ms {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let us = self.0.as_micros();
        if us < 10_000 {
            write!(f, "{}.{:03} ms", us / 1000, us % 1000)
        } else {
            write!(f, "{}.{} ms", us / 1000, (us % 1000) / 100)
        }
    }
}

/// A core duration as milliseconds, like [`ms`].
pub(crate) fn core_ms(d: echoprobe_core::time::Duration) -> Ms {
    Ms(core::time::Duration::from_micros(d.as_micros()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn millis() {
        assert_eq!(ms(core::time::Duration::from_micros(412)), "0.412 ms");
        assert_eq!(ms(core::time::Duration::from_micros(1_900)), "1.900 ms");
        assert_eq!(ms(core::time::Duration::from_micros(12_549)), "12.5 ms");
        assert_eq!(ms(core::time::Duration::from_secs(2)), "2000.0 ms");
    }
}
