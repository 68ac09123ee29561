//! `-lc/--log-config FILE` through the built binary, against `echoprobe scp` on 127.0.0.1: DCMTK's own shipped
//! logger.cfg as it is, a log file instead of stderr, levels, a rolling file, and the refusals (exit code 1, naming
//! the key, before any network traffic).

use core::time::Duration;
use std::path::Path;
use std::process::Command;

use echoprobe_tests::process::{Outcome, Peer, TempDir};
use echoprobe_tests::run;

mod common;

/// `echoprobe scp` on 127.0.0.1, any free port: the guard and the port.
fn scp() -> (Peer, String) {
    let (peer, port) = common::scp_on("127.0.0.1");
    (peer, port.to_string())
}

/// A port nobody listens on.
fn closed_port() -> String {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind")
        .port()
        .to_string()
}

/// Runs echoprobe in `dir` with `args`.
fn echoprobe(dir: &Path, args: &[&str]) -> Outcome {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_echoprobe"));
    cmd.current_dir(dir)
        .args(["-to", "2", "--deadline", "10"])
        .args(args);
    run(&mut cmd, Duration::from_secs(20))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn write_cfg(dir: &TempDir, text: &str) -> String {
    let p = dir.path().join("logger.cfg");
    std::fs::write(&p, text).expect("write");
    p.display().to_string()
}

#[test]
fn dcmtk_shipped_logger_cfg_as_is() {
    // Debian's dcmtk package (installed by scripts/install-deps.sh) ships it; it must work unchanged.
    let shipped = "/etc/dcmtk/logger.cfg";
    assert!(
        Path::new(shipped).exists(),
        "{shipped} is missing: install dcmtk (scripts/install-deps.sh)"
    );
    let (_scp, port) = scp();
    let dir = TempDir::new("lc-dcmtk");
    for round in 1..=2 {
        let out = echoprobe(dir.path(), &["-lc", shipped, "127.0.0.1", &port]);
        out.assert_code(0);
        // Root DEBUG; the console appender (stderr) from INFO; the file appender ${appname}.log from DEBUG.
        assert!(out.stdout.contains("healthy, 1 echo"), "{out}");
        assert!(out.stderr.contains("I: Association Accepted"), "{out}");
        assert!(
            !out.stderr.contains("D: "),
            "debug lines on the console:\n{out}"
        );
        let log = read(&dir.path().join("echoprobe.log"));
        // What is ignored, each with why, at debug level: in the file.
        assert!(log.contains("ConversionPattern ignored"), "{log}");
        assert!(log.contains("D: sent A-ASSOCIATE-RQ"), "{log}");
        assert!(log.contains("I: Association Accepted"), "{log}");
        // Append = true: the second run adds to the first.
        assert_eq!(
            log.matches("I: Association Released").count(),
            round,
            "{log}"
        );
    }
}

#[test]
fn file_appender_takes_the_log_and_errors_still_reach_stderr() {
    let (_scp, port) = scp();
    let dir = TempDir::new("lc-file");
    // A file appender only, at `level`, into ${appname}-`name`.log.
    let file_only = |level: &str, name: &str| {
        write_cfg(
            &dir,
            &format!(
                "log4cplus.rootLogger = {level}, file\n\
                 log4cplus.appender.file = log4cplus::FileAppender\n\
                 log4cplus.appender.file.File = ${{appname}}-{name}.log\n\
                 log4cplus.appender.file.layout = log4cplus::PatternLayout\n"
            ),
        )
    };
    let cfg = file_only("INFO", "check");
    let out = echoprobe(dir.path(), &["-lc", &cfg, "127.0.0.1", &port]);
    out.assert_code(0);
    assert!(out.stderr.is_empty(), "no console appender, yet:\n{out}");
    assert!(out.stdout.contains("healthy"), "{out}");
    let log_path = dir.path().join("echoprobe-check.log");
    let log = read(&log_path);
    assert!(log.contains("I: Association Accepted"), "{log}");
    assert!(!log.contains("D: "), "{log}");

    // Append is false by default (log4cplus): the next run replaces the file. A failure: the error line on stderr
    // and in the file.
    let out = echoprobe(dir.path(), &["-lc", &cfg, "127.0.0.1", &closed_port()]);
    out.assert_code(63).assert_mentions("cannot connect");
    let log = read(&log_path);
    assert!(!log.contains("Association Accepted"), "{log}");
    assert!(
        log.contains("echoprobe: cannot connect to 127.0.0.1:"),
        "{log}"
    );

    // The same file at DEBUG: each ignored setting with why.
    let cfg = file_only("DEBUG", "debug");
    let out = echoprobe(dir.path(), &["-lc", &cfg, "127.0.0.1", &port]);
    out.assert_code(0);
    let log = read(&dir.path().join("echoprobe-debug.log"));
    assert!(log.contains("layout ignored"), "{log}");
}

/// DCMTK's logger.cfg names 11 settings echoprobe ignores: at the console's INFO (`-v`) one line names them all,
/// at DEBUG (`-d`) each comes with why, at WARN (the default level) nothing is said.
#[test]
fn dcmtk_logger_cfg_says_what_it_ignores_once() {
    let shipped = "/etc/dcmtk/logger.cfg";
    let text = read(Path::new(shipped));
    let threshold = "log4cplus.appender.console.Threshold = INFO";
    assert!(text.contains(threshold), "{text}");
    let dir = TempDir::new("lc-said-once");
    let port = closed_port();
    let ignored = |out: &Outcome| {
        out.stderr
            .lines()
            .filter(|l| l.contains("ignored"))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };

    // As shipped (console from INFO): one line.
    let out = echoprobe(dir.path(), &["-lc", shipped, "127.0.0.1", &port]);
    out.assert_code(63);
    assert_eq!(
        ignored(&out),
        ["I: log configuration: 11 settings ignored (each with why at debug level): \
          logger.dcmtk.{apps.movescu.progress,apps.storescp.progress,apps.storescu.progress,dcmnet.responses,\
          dcmqrdb.progress}, appender.console.{ImmediateFlush,layout,layout.ConversionPattern}, \
          appender.logfile.{ImmediateFlush,layout,layout.ConversionPattern}"],
        "{out}"
    );
    // Console from WARN, the default level: nothing.
    let cfg = write_cfg(
        &dir,
        &text.replace(threshold, "log4cplus.appender.console.Threshold = WARN"),
    );
    let out = echoprobe(dir.path(), &["-lc", &cfg, "127.0.0.1", &port]);
    out.assert_code(63);
    assert_eq!(ignored(&out), Vec::<String>::new(), "{out}");
    // Console from DEBUG: the line and each setting with why.
    let cfg = write_cfg(
        &dir,
        &text.replace(threshold, "log4cplus.appender.console.Threshold = DEBUG"),
    );
    let out = echoprobe(dir.path(), &["-lc", &cfg, "127.0.0.1", &port]);
    out.assert_code(63);
    let lines = ignored(&out);
    assert_eq!(lines.len(), 12, "{out}");
    assert!(
        out.stderr.contains(
            "D: log configuration: log4cplus.appender.console.layout.ConversionPattern ignored: echoprobe \
             writes its own line format"
        ),
        "{out}"
    );
}

/// A log configuration that cannot be installed (its log file cannot be opened) is a usage error: exit code 1, and
/// with `--json` the usage report on stdout, as for the command line's errors.
#[test]
fn an_unusable_log_file_with_json_prints_the_usage_report() {
    let dir = TempDir::new("lc-json");
    std::fs::write(dir.path().join("not-a-dir"), "").expect("write");
    let cfg = write_cfg(
        &dir,
        "log4cplus.rootLogger = INFO, file\n\
         log4cplus.appender.file = log4cplus::FileAppender\n\
         log4cplus.appender.file.File = not-a-dir/echoprobe.log\n",
    );
    let out = echoprobe(
        dir.path(),
        &["--json", "-lc", &cfg, "127.0.0.1", &closed_port()],
    );
    out.assert_code(1)
        .assert_stderr("cannot open the log file not-a-dir/echoprobe.log");
    assert_eq!(out.stdout.lines().count(), 1, "{out}");
    out.assert_stdout(
        "\"healthy\":false,\"exit_code\":1,\"result\":\"usage\",\"message\":\"--log-config ",
    );
    out.assert_stdout("cannot open the log file not-a-dir/echoprobe.log");
    // Without --json: the error line only.
    let out = echoprobe(dir.path(), &["-lc", &cfg, "127.0.0.1", &closed_port()]);
    out.assert_code(1);
    assert_eq!(out.stdout, "", "{out}");
}

#[test]
fn levels_and_console_streams() {
    let (_scp, port) = scp();
    let dir = TempDir::new("lc-levels");
    let console = |level: &str, stderr: bool| {
        format!(
            "log4cplus.rootLogger = {level}, c\n\
             log4cplus.appender.c = log4cplus::ConsoleAppender\n\
             log4cplus.appender.c.logToStderr = {stderr}\n"
        )
    };
    // OFF and ERROR: no summary, nothing printed when healthy; the error line when not.
    for level in ["OFF", "ERROR", "FATAL"] {
        let cfg = write_cfg(&dir, &console(level, true));
        let out = echoprobe(dir.path(), &["-lc", &cfg, "127.0.0.1", &port]);
        out.assert_code(0);
        assert!(
            out.stdout.is_empty() && out.stderr.is_empty(),
            "{level}:\n{out}"
        );
        let out = echoprobe(dir.path(), &["-lc", &cfg, "127.0.0.1", &closed_port()]);
        out.assert_code(63).assert_mentions("cannot connect");
    }
    // WARN: the default output.
    let cfg = write_cfg(&dir, &console("WARN", true));
    let out = echoprobe(dir.path(), &["-lc", &cfg, "127.0.0.1", &port]);
    out.assert_code(0);
    assert!(
        out.stdout.contains("healthy") && out.stderr.is_empty(),
        "{out}"
    );
    // DEBUG on stderr: PDU dumps there.
    let cfg = write_cfg(&dir, &console("DEBUG", true));
    let out = echoprobe(dir.path(), &["-lc", &cfg, "127.0.0.1", &port]);
    out.assert_code(0)
        .assert_mentions("D: received A-ASSOCIATE-AC");
    // INFO without logToStderr: log4cplus's default, stdout.
    let cfg = write_cfg(&dir, &console("INFO", false));
    let out = echoprobe(dir.path(), &["-lc", &cfg, "127.0.0.1", &port]);
    out.assert_code(0);
    assert!(out.stdout.contains("I: Association Accepted"), "{out}");
    assert!(out.stderr.is_empty(), "{out}");
}

#[test]
fn rolling_file_is_rotated_when_over_its_size() {
    let (_scp, port) = scp();
    let dir = TempDir::new("lc-rolling");
    let cfg = write_cfg(
        &dir,
        "log4cplus.rootLogger = INFO, r\n\
         log4cplus.appender.r = log4cplus::RollingFileAppender\n\
         log4cplus.appender.r.File = logs/check.log\n\
         log4cplus.appender.r.CreateDirs = true\n\
         log4cplus.appender.r.Append = true\n\
         log4cplus.appender.r.MaxFileSize = 200KB\n\
         log4cplus.appender.r.MaxBackupIndex = 2\n",
    );
    let out = echoprobe(dir.path(), &["-lc", &cfg, "127.0.0.1", &port]);
    out.assert_code(0);
    let log = dir.path().join("logs/check.log");
    assert!(read(&log).contains("Association Released"));
    // Over 200 KB: moved to check.log.1 when the next run starts.
    std::fs::write(&log, "x".repeat(210 * 1024)).expect("write");
    let out = echoprobe(dir.path(), &["-lc", &cfg, "127.0.0.1", &port]);
    out.assert_code(0);
    assert_eq!(
        std::fs::metadata(dir.path().join("logs/check.log.1"))
            .expect("check.log.1")
            .len(),
        210 * 1024
    );
    assert!(read(&log).starts_with("I: "), "{}", read(&log));
}

#[test]
fn what_cannot_be_honoured_is_refused_naming_the_key() {
    let dir = TempDir::new("lc-refused");
    let port = closed_port();
    for (text, key) in [
        (
            "log4cplus.rootLogger = INFO, s\nlog4cplus.appender.s = log4cplus::SyslogAppender\n",
            "log4cplus.appender.s: SyslogAppender is not supported",
        ),
        (
            "log4cplus.rootLogger = INFO, s\nlog4cplus.appender.s = log4cplus::SocketAppender\n\
             log4cplus.appender.s.host = 127.0.0.1\n",
            "log4cplus.appender.s: SocketAppender is not supported",
        ),
        (
            "log4cplus.rootLogger = INFO, c\nlog4cplus.appender.c = log4cplus::ConsoleAppender\n\
             log4cplus.appender.c.filters.1 = log4cplus::spi::DenyAllFilter\n",
            "log4cplus.appender.c.filters.1",
        ),
    ] {
        let cfg = write_cfg(&dir, text);
        // Refused before any connect: exit 1, not 63.
        echoprobe(dir.path(), &["-lc", &cfg, "127.0.0.1", &port])
            .assert_code(1)
            .assert_mentions(key);
    }
    let cfg = write_cfg(&dir, "log4cplus.rootLogger = INFO\n");
    for other in [&["-v"][..], &["-q"], &["-d"], &["-ll", "info"]] {
        let mut args = other.to_vec();
        args.extend(["--log-config", &cfg, "127.0.0.1", &port]);
        echoprobe(dir.path(), &args)
            .assert_code(1)
            .assert_mentions("--log-config not allowed with");
    }
    echoprobe(
        dir.path(),
        &["-lc", "/nonexistent/logger.cfg", "127.0.0.1", &port],
    )
    .assert_code(1)
    .assert_mentions("cannot read --log-config file");
    // A log file that cannot be opened: 1, said clearly.
    let cfg = write_cfg(
        &dir,
        "log4cplus.rootLogger = INFO, f\nlog4cplus.appender.f = log4cplus::FileAppender\n\
         log4cplus.appender.f.File = /nonexistent/dir/x.log\n",
    );
    echoprobe(dir.path(), &["-lc", &cfg, "127.0.0.1", &port])
        .assert_code(1)
        .assert_mentions("cannot open the log file /nonexistent/dir/x.log");
}

#[test]
fn the_scp_takes_a_log_config_too() {
    let dir = TempDir::new("lc-scp");
    let cfg = write_cfg(
        &dir,
        "log4cplus.rootLogger = INFO, f\n\
         log4cplus.appender.f = log4cplus::FileAppender\n\
         log4cplus.appender.f.File = ${appname}-scp.log\n",
    );
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_echoprobe"));
    cmd.current_dir(dir.path()).args([
        "scp",
        "-lc",
        &cfg,
        "--bind",
        "127.0.0.1",
        "--exit-after",
        "1",
        "0",
    ]);
    let mut scp = Peer::spawn("echoprobe-scp-lc", &mut cmd);
    let (_, addr) = common::listening(&scp, common::SCP_START);
    let port = addr.port().to_string();
    echoprobe(dir.path(), &["127.0.0.1", &port]).assert_code(0);
    assert!(
        scp.wait_exit(Duration::from_secs(10)).success(),
        "{}",
        scp.log()
    );
    let file = read(&dir.path().join("echoprobe-scp.log"));
    assert!(file.contains("I: "), "{file}");
    assert!(
        !scp.log().contains("I: "),
        "progress went to the console:\n{}",
        scp.log()
    );
}
