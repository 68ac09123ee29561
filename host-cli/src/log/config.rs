//! `-lc/--log-config FILE`: DCMTK's log4cplus-style logger configuration, mapped onto echoprobe's logging.
//!
//! echoprobe has one logger with four levels (errors, warnings, `-v` progress `I:`, `-d` debug `D:` with PDU dumps)
//! and two places to write: the console and one log file. A DCMTK logger file is honoured where it maps onto that:
//!
//! - `log4cplus.rootLogger = LEVEL, APPENDER...`: the level as `-ll` maps it (TRACE/DEBUG/ALL = `-d`, INFO = `-v`,
//!   WARN = default, ERROR/FATAL = `-q`, OFF = `-q` too: the one error line of a failed check is the check's result,
//!   not log output, and is always printed on stderr).
//! - `ConsoleAppender`: progress and warnings on stderr with `logToStderr = true`, else on stdout (as log4cplus does).
//! - `FileAppender` / `RollingFileAppender` (one file): progress, debug lines, PDU dumps, warnings and errors go to
//!   `File` (appended with `Append = true`, else truncated, as log4cplus); a rolling file is rotated when the run
//!   starts if it is over `MaxFileSize` (`MaxBackupIndex` files kept). Errors are still printed on stderr too; the
//!   summary line and `--json` stay on stdout.
//! - `NullAppender`: discards.
//! - `Threshold` on an appender: that appender gets only messages at or above it.
//! - Variables: `${appname}` (the program name: `echoscu` or `echoprobe`), `${pid}`, `${hostname}`, other properties
//!   of the file, then environment variables.
//!
//! Layout keys (`layout`, `layout.ConversionPattern`, ...), `ImmediateFlush` (every line is flushed anyway), lock file
//! keys, levels of named loggers (`log4cplus.logger.dcmtk.apps.storescu.progress = INFO`: echoprobe has one logger),
//! `additivity` and appenders defined but not used are ignored: one line at `-v` names them, and each is said with
//! its reason at `-d` (nothing at the default level). Anything whose
//! meaning we cannot honour is refused with exit code 1, naming the key: other appenders (syslog, socket, daily
//! rolling, ...), filters, appenders of named loggers, a second log file, unknown keys and variables.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::level::Verbosity;
use crate::exit::Failure;

/// Where the console appender writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stream {
    /// `logToStderr = true`.
    Stderr,
    /// log4cplus's default.
    Stdout,
}

/// A log file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileSink {
    /// `File`, variables expanded.
    pub(crate) path: PathBuf,
    /// `Append` (log4cplus default: false, truncate).
    pub(crate) append: bool,
    /// Messages at or above this level.
    pub(crate) level: Verbosity,
    /// `RollingFileAppender`: (`MaxFileSize` bytes, `MaxBackupIndex`).
    pub(crate) rolling: Option<(u64, u32)>,
    /// `CreateDirs`.
    pub(crate) create_dirs: bool,
}

/// What a logger configuration file asks for, in echoprobe's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogConfig {
    /// The file it came from.
    pub(crate) source: PathBuf,
    /// The root logger's level: how much is produced at all (and whether the summary line is printed).
    pub(crate) level: Verbosity,
    /// The console appender: where and from which level (None: no console output but errors).
    pub(crate) console: Option<(Stream, Verbosity)>,
    /// The log file, if any.
    pub(crate) file: Option<FileSink>,
    /// What was ignored and why, and other remarks (see [`ignored_key`]).
    pub(crate) notes: Vec<String>,
}

/// The key of a note that says a setting was ignored (`KEY ignored: why`), as this module writes them.
pub(crate) fn ignored_key(note: &str) -> Option<&str> {
    note.split_once(" ignored: ").map(|(key, _)| key)
}

/// Keys listed compactly: without `log4cplus.`, those under the same two first parts grouped in braces, in order of
/// first appearance: `logger.dcmtk.{apps.storescu.progress,dcmnet.responses}, appender.console.layout`.
pub(crate) fn compact_keys(keys: &[&str]) -> String {
    let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
    for key in keys {
        let key = key.strip_prefix("log4cplus.").unwrap_or(key);
        let split = key
            .match_indices('.')
            .nth(1)
            .map_or((key, ""), |(i, _)| (&key[..i], &key[i + 1..]));
        match groups.iter_mut().find(|(head, _)| *head == split.0) {
            Some((_, tails)) => tails.push(split.1),
            None => groups.push((split.0, vec![split.1])),
        }
    }
    let parts: Vec<String> = groups
        .iter()
        .map(|(head, tails)| match tails.as_slice() {
            [""] => head.to_string(),
            [one] => format!("{head}.{one}"),
            _ => format!("{head}.{{{}}}", tails.join(",")),
        })
        .collect();
    parts.join(", ")
}

/// The log4cplus name of the lowest level a verbosity lets through.
pub(crate) fn level_name(v: Verbosity) -> &'static str {
    match v {
        Verbosity::Quiet => "ERROR",
        Verbosity::Normal => "WARN",
        Verbosity::Verbose => "INFO",
        Verbosity::Debug => "DEBUG",
    }
}

/// A log4cplus level: None is OFF.
fn parse_level(key: &str, value: &str) -> Result<Option<Verbosity>, Failure> {
    match value.trim().to_ascii_uppercase().as_str() {
        "TRACE" | "DEBUG" | "ALL" => Ok(Some(Verbosity::Debug)),
        "INFO" => Ok(Some(Verbosity::Verbose)),
        "WARN" => Ok(Some(Verbosity::Normal)),
        "ERROR" | "FATAL" => Ok(Some(Verbosity::Quiet)),
        "OFF" => Ok(None),
        other => Err(refuse(
            key,
            &format!("unknown log level '{other}' (TRACE, DEBUG, INFO, WARN, ERROR, FATAL, OFF)"),
        )),
    }
}

fn refuse(key: &str, why: &str) -> Failure {
    Failure::Usage(format!("log config: {key}: {why}"))
}

fn parse_bool(key: &str, value: &str) -> Result<bool, Failure> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err(refuse(key, &format!("'{value}' is not true or false"))),
    }
}

/// `5MB`, `500KB`, `1048576` (log4cplus: at least 200 KB).
fn parse_size(key: &str, value: &str) -> Result<u64, Failure> {
    let v = value.trim().to_ascii_uppercase();
    let (digits, unit) = if let Some(d) = v.strip_suffix("MB") {
        (d, 1024 * 1024)
    } else if let Some(d) = v.strip_suffix("KB") {
        (d, 1024)
    } else {
        (v.as_str(), 1)
    };
    let n: u64 = digits
        .trim()
        .parse()
        .map_err(|_| refuse(key, &format!("'{value}' is not a size (e.g. 5MB, 500KB)")))?;
    Ok(n.saturating_mul(unit).max(200 * 1024))
}

/// The machine's host name (Linux: /proc; else /etc/hostname).
fn hostname() -> Option<String> {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .find_map(|p| std::fs::read_to_string(p).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// Expands `${name}` in `value` (nested up to 8 deep).
fn expand(
    key: &str,
    value: &str,
    props: &BTreeMap<String, String>,
    prog: &str,
    depth: u8,
) -> Result<String, Failure> {
    if depth > 8 {
        return Err(refuse(key, "variables nest more than 8 deep (a loop?)"));
    }
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        out.push_str(rest.get(..start).unwrap_or_default());
        let after = rest.get(start + 2..).unwrap_or_default();
        let Some(end) = after.find('}') else {
            return Err(refuse(key, "unterminated ${ in the value"));
        };
        let name = after.get(..end).unwrap_or_default();
        let replacement = match name {
            "appname" => prog.to_string(),
            "pid" => std::process::id().to_string(),
            "hostname" => hostname()
                .ok_or_else(|| refuse(key, "${hostname}: cannot read the host name"))?,
            "date" | "time" => {
                return Err(refuse(
                    key,
                    &format!("${{{name}}} is not supported: write the name out"),
                ))
            }
            _ => match props.get(name) {
                Some(v) => expand(key, v, props, prog, depth + 1)?,
                None => std::env::var(name).map_err(|_| {
                    refuse(
                        key,
                        &format!("unknown variable ${{{name}}} (no such property or environment variable)"),
                    )
                })?,
            },
        };
        out.push_str(&replacement);
        rest = after.get(end + 1..).unwrap_or_default();
    }
    out.push_str(rest);
    Ok(out)
}

/// Reads and interprets the file at `path`; `prog` is `${appname}`.
pub(crate) fn load(path: &str, prog: &str) -> Result<LogConfig, Failure> {
    let text = crate::exit::read_named_file("--log-config file", path, 1024 * 1024, "1 MiB")?;
    let mut cfg = parse(&text, prog)?;
    cfg.source = PathBuf::from(path);
    Ok(cfg)
}

/// Interprets the text of a logger configuration file.
pub(crate) fn parse(text: &str, prog: &str) -> Result<LogConfig, Failure> {
    // Properties: `key = value`, `#` or `!` comments; the last definition of a key wins (as in log4cplus).
    let mut props = BTreeMap::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with('!') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(Failure::Usage(format!(
                "log config: line {}: expected 'key = value': {line}",
                n + 1
            )));
        };
        props.insert(key.trim().to_string(), value.trim().to_string());
    }
    let mut notes = Vec::new();

    // The root logger: level and appender names.
    let root_key = "log4cplus.rootLogger";
    let root = match props.get(root_key) {
        Some(v) => expand(root_key, v, &props, prog, 0)?,
        None => {
            return Err(Failure::Usage(format!(
                "log config: no {root_key} (nothing would be logged where the file means it to be)"
            )))
        }
    };
    let mut parts = root.split(',').map(str::trim);
    let level_text = parts.next().unwrap_or_default();
    let level = if level_text.is_empty() || level_text.eq_ignore_ascii_case("INHERIT") {
        notes.push(format!(
            "{root_key} sets no level: the default (WARN) applies"
        ));
        Some(Verbosity::Normal)
    } else {
        parse_level(root_key, level_text)?
    };
    let used: Vec<&str> = parts.filter(|p| !p.is_empty()).collect();

    // Every log4cplus.* key other than the root logger and the appenders used by it.
    for key in props.keys() {
        let Some(rest) = key.strip_prefix("log4cplus.") else {
            continue; // a variable for ${...}
        };
        if rest == "rootLogger" {
            continue;
        }
        if let Some(name) = rest.strip_prefix("logger.") {
            let value = props.get(key).map(String::as_str).unwrap_or_default();
            let mut p = value.split(',').map(str::trim);
            let _level = p.next();
            if p.any(|a| !a.is_empty()) {
                return Err(refuse(
                    key,
                    "appenders of a named logger are not supported (echoprobe has one logger: attach \
                     appenders to log4cplus.rootLogger)",
                ));
            }
            notes.push(format!(
                "{key} ignored: echoprobe has one logger ({name} is a DCMTK logger), the root level applies"
            ));
            continue;
        }
        if rest.starts_with("additivity.") {
            notes.push(format!("{key} ignored: echoprobe has one logger"));
            continue;
        }
        if matches!(rest, "configDebug" | "quietMode" | "disableOverride") {
            notes.push(format!("{key} ignored: log4cplus internals"));
            continue;
        }
        if let Some(appender) = rest.strip_prefix("appender.") {
            let name = appender.split('.').next().unwrap_or_default();
            if !used.contains(&name) {
                if !appender.contains('.') {
                    notes.push(format!(
                        "appender {name} ignored: not attached to {root_key}"
                    ));
                }
                continue;
            }
            continue; // checked below, per appender
        }
        return Err(refuse(key, "unknown key (not supported by echoprobe)"));
    }

    let mut console: Option<(Stream, Verbosity)> = None;
    let mut file: Option<FileSink> = None;
    for name in &used {
        let class_key = format!("log4cplus.appender.{name}");
        let Some(class) = props.get(&class_key) else {
            // log4cplus reports "Invalid appender" and goes on without it: so do we (a broken log setup must not
            // turn a health check that DCMTK runs into exit code 1).
            notes.push(format!(
                "appender {name} ignored: {root_key} uses it but {class_key} is not defined"
            ));
            continue;
        };
        let class = class.trim();
        let class = class.strip_prefix("log4cplus::").unwrap_or(class);
        if !matches!(
            class,
            "ConsoleAppender" | "FileAppender" | "RollingFileAppender" | "NullAppender"
        ) {
            return Err(refuse(
                &class_key,
                &format!(
                    "{class} is not supported by echoprobe (only ConsoleAppender, FileAppender, \
                     RollingFileAppender and NullAppender)"
                ),
            ));
        }
        let prefix = format!("{class_key}.");
        let mut threshold: Option<Verbosity> = level;
        let mut to_stderr = false;
        let mut path: Option<String> = None;
        let mut append = false;
        let mut create_dirs = false;
        let mut max_size: u64 = 10 * 1024 * 1024;
        let mut backups: u32 = 1;
        for (key, value) in props.range(prefix.clone()..) {
            let Some(prop) = key.strip_prefix(prefix.as_str()) else {
                break;
            };
            let value = expand(key, value, &props, prog, 0)?;
            let file_class = matches!(class, "FileAppender" | "RollingFileAppender");
            match prop {
                "Threshold" => {
                    threshold = match (level, parse_level(key, &value)?) {
                        (Some(root), Some(t)) => Some(root.min(t)),
                        _ => None,
                    }
                }
                "layout" => notes.push(format!(
                    "{key} ignored: echoprobe writes its own line format (I:, D:, warning:)"
                )),
                p if p.starts_with("layout.") => notes.push(format!(
                    "{key} ignored: echoprobe writes its own line format (I:, D:, warning:)"
                )),
                "ImmediateFlush" => {
                    parse_bool(key, &value)?;
                    notes.push(format!("{key} ignored: every line is flushed at once"));
                }
                "logToStderr" if class == "ConsoleAppender" => to_stderr = parse_bool(key, &value)?,
                "File" if file_class => path = Some(value),
                "Append" if file_class => append = parse_bool(key, &value)?,
                "CreateDirs" if file_class => create_dirs = parse_bool(key, &value)?,
                "UseLockFile" | "LockFile" | "Locale" | "BufferSize" | "ReopenDelay"
                    if file_class =>
                {
                    notes.push(format!(
                        "{key} ignored: echoprobe writes whole lines in append mode, UTF-8, unbuffered"
                    ))
                }
                "MaxFileSize" if class == "RollingFileAppender" => {
                    max_size = parse_size(key, &value)?
                }
                "MaxBackupIndex" if class == "RollingFileAppender" => {
                    backups = value.trim().parse::<u32>().map_err(|_| {
                        refuse(key, &format!("'{value}' is not a number"))
                    })?;
                }
                p if p.starts_with("filters.") => {
                    return Err(refuse(
                        key,
                        "filters are not supported (use Threshold on the appender)",
                    ))
                }
                _ => {
                    return Err(refuse(
                        key,
                        &format!("not supported for a {class} by echoprobe"),
                    ))
                }
            }
        }
        match class {
            "ConsoleAppender" => {
                let stream = if to_stderr {
                    Stream::Stderr
                } else {
                    Stream::Stdout
                };
                match (&console, threshold) {
                    (_, None) => {
                        notes.push(format!("appender {name}: threshold OFF, writes nothing"))
                    }
                    (Some((s, _)), Some(_)) if *s != stream => return Err(refuse(
                        &class_key,
                        "two console appenders, one on stdout and one on stderr, are not supported",
                    )),
                    (Some((s, t)), Some(l)) => console = Some((*s, (*t).max(l))),
                    (None, Some(l)) => console = Some((stream, l)),
                }
            }
            "FileAppender" | "RollingFileAppender" => {
                let Some(path) = path.filter(|p| !p.is_empty()) else {
                    return Err(refuse(
                        &format!("{class_key}.File"),
                        "a file appender needs a File",
                    ));
                };
                let Some(t) = threshold else {
                    notes.push(format!("appender {name}: threshold OFF, writes nothing"));
                    continue;
                };
                if file.is_some() {
                    return Err(refuse(
                        &class_key,
                        "more than one log file is not supported",
                    ));
                }
                file = Some(FileSink {
                    path: PathBuf::from(path),
                    append,
                    level: t,
                    rolling: (class == "RollingFileAppender").then_some((max_size, backups)),
                    create_dirs,
                });
            }
            _ => notes.push(format!("appender {name}: NullAppender, writes nothing")),
        }
    }
    Ok(LogConfig {
        source: PathBuf::new(),
        level: level.unwrap_or(Verbosity::Quiet),
        console,
        file,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> LogConfig {
        match parse(text, "echoscu") {
            Ok(c) => c,
            Err(e) => panic!("{e}\n{text}"),
        }
    }

    fn refused(text: &str) -> String {
        match parse(text, "echoscu") {
            Err(f) => {
                assert_eq!(f.code(), 1);
                f.to_string()
            }
            Ok(c) => panic!("accepted: {c:?}\n{text}"),
        }
    }

    /// DCMTK's own etc/dcmtk/logger.cfg (Debian: /etc/dcmtk/logger.cfg), its active lines.
    const DCMTK_LOGGER_CFG: &str = "\
log4cplus.rootLogger = DEBUG, console, logfile
log4cplus.appender.console = log4cplus::ConsoleAppender
log4cplus.appender.console.Threshold = INFO
log4cplus.appender.console.logToStderr = true
log4cplus.appender.console.ImmediateFlush = true
log4cplus.appender.logfile = log4cplus::FileAppender
log4cplus.appender.logfile.File = ${appname}.log
log4cplus.appender.logfile.Append = true
log4cplus.appender.logfile.ImmediateFlush = true
log4cplus.appender.console.layout = log4cplus::PatternLayout
log4cplus.appender.logfile.layout = log4cplus::PatternLayout
log4cplus.appender.console.layout.ConversionPattern = %D{%H:%M:%S} %5p: %m%n
log4cplus.appender.logfile.layout.ConversionPattern = %D{%Y-%m-%d %H:%M:%S.%q} %5p: %m%n
log4cplus.logger.dcmtk.apps.storescu.progress = INFO
log4cplus.logger.dcmtk.apps.storescp.progress = INFO
log4cplus.logger.dcmtk.apps.movescu.progress  = INFO
log4cplus.logger.dcmtk.dcmqrdb.progress       = INFO
log4cplus.logger.dcmtk.dcmnet.responses = INFO
#log4cplus.appender.dcmnet_logger = log4cplus::RollingFileAppender
";

    #[test]
    fn dcmtk_logger_cfg() {
        let c = ok(DCMTK_LOGGER_CFG);
        assert_eq!(c.level, Verbosity::Debug);
        assert_eq!(c.console, Some((Stream::Stderr, Verbosity::Verbose)));
        let f = c.file.unwrap();
        assert_eq!(f.path, PathBuf::from("echoscu.log"));
        assert!(f.append && f.rolling.is_none());
        assert_eq!(f.level, Verbosity::Debug);
        let notes = c.notes.join("\n");
        assert!(notes.contains("ConversionPattern ignored"), "{notes}");
        assert!(notes.contains("dcmtk.dcmnet.responses ignored"), "{notes}");
        assert!(notes.contains("ImmediateFlush ignored"), "{notes}");
    }

    #[test]
    fn ignored_keys_compactly() {
        let c = ok(DCMTK_LOGGER_CFG);
        let keys: Vec<&str> = c.notes.iter().filter_map(|n| ignored_key(n)).collect();
        assert_eq!(keys.len(), 11, "{keys:?}");
        assert_eq!(
            compact_keys(&keys),
            "logger.dcmtk.{apps.movescu.progress,apps.storescp.progress,apps.storescu.progress,dcmnet.responses,\
             dcmqrdb.progress}, appender.console.{ImmediateFlush,layout,layout.ConversionPattern}, \
             appender.logfile.{ImmediateFlush,layout,layout.ConversionPattern}"
        );
        assert_eq!(
            compact_keys(&["appender s", "log4cplus.configDebug"]),
            "appender s, configDebug"
        );
    }

    #[test]
    fn levels() {
        for (l, v) in [
            ("TRACE", Verbosity::Debug),
            ("debug", Verbosity::Debug),
            ("INFO", Verbosity::Verbose),
            ("WARN", Verbosity::Normal),
            ("ERROR", Verbosity::Quiet),
            ("FATAL", Verbosity::Quiet),
            ("OFF", Verbosity::Quiet),
        ] {
            let c = ok(&format!(
                "log4cplus.rootLogger = {l}, c\nlog4cplus.appender.c = log4cplus::ConsoleAppender\n"
            ));
            assert_eq!(c.level, v, "{l}");
        }
        // OFF: the console gets nothing (errors are still printed, outside the logger).
        let c = ok(
            "log4cplus.rootLogger = OFF, c\nlog4cplus.appender.c = log4cplus::ConsoleAppender\n",
        );
        assert_eq!(c.console, None);
        // Default stream: stdout, as log4cplus.
        let c = ok(
            "log4cplus.rootLogger = INFO, c\nlog4cplus.appender.c = log4cplus::ConsoleAppender\n",
        );
        assert_eq!(c.console, Some((Stream::Stdout, Verbosity::Verbose)));
        assert!(refused("log4cplus.rootLogger = LOUD, c\n").contains("unknown log level 'LOUD'"));
    }

    #[test]
    fn rolling_file_and_variables() {
        std::env::set_var("ECHOPROBE_LOGCFG_TEST_DIR", "/var/log/x");
        let c = ok("\
dir = ${ECHOPROBE_LOGCFG_TEST_DIR}/${appname}
log4cplus.rootLogger = INFO, f
log4cplus.appender.f = log4cplus::RollingFileAppender
log4cplus.appender.f.File = ${dir}-${pid}.log
log4cplus.appender.f.MaxFileSize = 5MB
log4cplus.appender.f.MaxBackupIndex = 3
log4cplus.appender.f.Threshold = WARN
");
        let f = c.file.unwrap();
        assert_eq!(
            f.path,
            PathBuf::from(format!("/var/log/x/echoscu-{}.log", std::process::id()))
        );
        assert_eq!(f.rolling, Some((5 * 1024 * 1024, 3)));
        assert!(!f.append);
        assert_eq!(f.level, Verbosity::Normal);
        assert_eq!(c.console, None);
    }

    #[test]
    fn refusals_name_the_key() {
        for (text, needle) in [
            (
                "log4cplus.rootLogger = INFO, s\nlog4cplus.appender.s = log4cplus::SyslogAppender\n",
                "log4cplus.appender.s: SyslogAppender is not supported",
            ),
            (
                "log4cplus.rootLogger = INFO, s\nlog4cplus.appender.s = log4cplus::SocketAppender\n",
                "SocketAppender is not supported",
            ),
            (
                "log4cplus.rootLogger = INFO, s\nlog4cplus.appender.s = log4cplus::DailyRollingFileAppender\n",
                "DailyRollingFileAppender is not supported",
            ),
            (
                "log4cplus.rootLogger = INFO, c\nlog4cplus.appender.c = log4cplus::ConsoleAppender\n\
                 log4cplus.appender.c.filters.1 = log4cplus::spi::DenyAllFilter\n",
                "log4cplus.appender.c.filters.1: filters are not supported",
            ),
            (
                "log4cplus.rootLogger = INFO, c\nlog4cplus.logger.dcmtk.dcmnet = INHERIT, c\n\
                 log4cplus.appender.c = log4cplus::ConsoleAppender\n",
                "log4cplus.logger.dcmtk.dcmnet: appenders of a named logger",
            ),
            (
                "log4cplus.rootLogger = INFO, a, b\nlog4cplus.appender.a = log4cplus::FileAppender\n\
                 log4cplus.appender.a.File = a.log\nlog4cplus.appender.b = log4cplus::FileAppender\n\
                 log4cplus.appender.b.File = b.log\n",
                "more than one log file",
            ),
            ("log4cplus.appender.c = log4cplus::ConsoleAppender\n", "no log4cplus.rootLogger"),
            (
                "log4cplus.rootLogger = INFO, f\nlog4cplus.appender.f = log4cplus::FileAppender\n",
                "log4cplus.appender.f.File: a file appender needs a File",
            ),
            (
                "log4cplus.rootLogger = INFO, f\nlog4cplus.appender.f = log4cplus::FileAppender\n\
                 log4cplus.appender.f.File = ${nope_ECHOPROBE_UNSET}.log\n",
                "unknown variable ${nope_ECHOPROBE_UNSET}",
            ),
            (
                "log4cplus.rootLogger = INFO, f\nlog4cplus.appender.f = log4cplus::FileAppender\n\
                 log4cplus.appender.f.File = ${date}.log\n",
                "${date} is not supported",
            ),
            (
                "log4cplus.rootLogger = INFO, c\nlog4cplus.appender.c = log4cplus::ConsoleAppender\n\
                 log4cplus.appender.c.Colour = red\n",
                "log4cplus.appender.c.Colour: not supported for a ConsoleAppender",
            ),
            ("log4cplus.rootLogger = INFO\nlog4cplus.nonsense = 1\n", "log4cplus.nonsense: unknown key"),
            ("log4cplus.rootLogger INFO\n", "line 1: expected 'key = value'"),
            ("a = ${b}\nb = ${a}\nlog4cplus.rootLogger = ${a}\n", "nest more than 8"),
        ] {
            let msg = refused(text);
            assert!(msg.contains(needle), "{msg}\n--- wanted {needle:?} for\n{text}");
        }
    }

    #[test]
    fn an_undefined_appender_is_ignored_like_log4cplus_does() {
        let c = ok("log4cplus.rootLogger = INFO, console\n");
        assert_eq!(
            (c.level, c.console, c.file.is_none()),
            (Verbosity::Verbose, None, true)
        );
        assert!(
            c.notes.join("\n").contains("appender console ignored"),
            "{c:?}"
        );
    }

    #[test]
    fn unused_appenders_and_additivity_are_notes() {
        let c = ok("\
log4cplus.rootLogger = WARN, c
log4cplus.appender.c = log4cplus::ConsoleAppender
log4cplus.appender.c.logToStderr = true
log4cplus.appender.s = log4cplus::SyslogAppender
log4cplus.additivity.dcmtk.dcmnet = false
log4cplus.appender.n = log4cplus::NullAppender
");
        assert_eq!(c.console, Some((Stream::Stderr, Verbosity::Normal)));
        let notes = c.notes.join("\n");
        assert!(notes.contains("appender s ignored"), "{notes}");
        assert!(notes.contains("additivity.dcmtk.dcmnet ignored"), "{notes}");
    }
}
