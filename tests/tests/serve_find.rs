//! `echoprobe serve` with find targets (`check = "find"`) against DCMTK's dcmqrscp holding the test study (stored
//! by DCMTK's storescu) and `echoprobe scp --record`: the known study up, an unknown UID down with the CLI's
//! too-few-matches text (agent, `/health`, `echoprobe status`, the same words as `echoprobe find`), a required value
//! not found down, a cancel after `max_matches` up; the `find` phase and the outcome names in `/metrics` (which
//! `promtool check metrics` passes); a find module through `/probe`; and the find keys' errors at `--check-config`.
//! One daemon and one peer of each kind.

use core::time::Duration;

use echoprobe_tests::codes::{HEALTHY, REQUIRED_VALUE_MISMATCH, TOO_FEW_MATCHES, USAGE};
use echoprobe_tests::find_peers::dcmqrscp_with_study;
use echoprobe_tests::monitoring::{get, must_get, promtool_check_metrics, sample};
use echoprobe_tests::peers::echoprobe_scp;
use echoprobe_tests::process::TempDir;
use echoprobe_tests::serve::{target, Serve, DEFAULTS};
use echoprobe_tests::study::{PATIENT_ID, STUDY_UID, UNKNOWN_STUDY_UID};
use echoprobe_tests::{echoprobe, run, setup};

const QUICK: Duration = Duration::from_secs(5);
const HARD: Duration = Duration::from_secs(30);

/// A `[[target]]` with a find check: `model`, the `-k` strings of `query`, and `extra` keys.
fn find_target(
    name: &str,
    port: u16,
    called: &str,
    model: &str,
    query: &[&str],
    extra: &str,
) -> String {
    let keys: Vec<String> = query.iter().map(|k| format!("{k:?}")).collect();
    format!(
        "{}check = \"find\"\nquery_model = \"{model}\"\nquery = [{}]\n{extra}",
        target(name, port, called),
        keys.join(", ")
    )
}

/// The value of the first sample of `name` whose labels include every one of `labels` (`key="value"`).
fn labelled(text: &str, name: &str, labels: &[&str]) -> Option<f64> {
    text.lines()
        .filter(|l| l.starts_with(&format!("{name}{{")))
        .find(|l| labels.iter().all(|label| l.contains(label)))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[test]
fn find_targets_against_dcmqrscp_and_echoprobe_scp() {
    let qr = dcmqrscp_with_study("QRSCP");
    let scp = echoprobe_scp(&[
        "-aet",
        "PACS",
        "--record",
        "PatientID=P1,StudyInstanceUID=1.2.3",
        "--record",
        "PatientID=P2,StudyInstanceUID=1.2.4",
    ]);
    let study = format!("StudyInstanceUID={STUDY_UID}");
    let unknown = format!("StudyInstanceUID={UNKNOWN_STUDY_UID}");
    let serve = Serve::start(&format!(
        "{DEFAULTS}{}{}{}{}{}{}\n[module.find]\ncheck = \"find\"\nquery_model = \"patient\"\nquery = [\"PatientID=P1\"]\n",
        find_target(
            "study",
            qr.port,
            "QRSCP",
            "study",
            &[&study],
            &format!("require = \"PatientID={PATIENT_ID}\"\n")
        ),
        find_target("unknown", qr.port, "QRSCP", "study", &[&unknown], ""),
        target("echo", qr.port, "QRSCP"),
        // Two records, a cancel after the first: still healthy.
        find_target("records", scp.port, "PACS", "study", &["PatientID"], "max_matches = 1\n"),
        find_target(
            "mismatch",
            scp.port,
            "PACS",
            "patient",
            &["PatientID=P1"],
            "require = \"PatientID=P9\"\n"
        ),
        find_target("worklist", scp.port, "PACS", "worklist", &["0010,0020=P2"], ""),
    ));

    for name in ["study", "echo", "records", "worklist"] {
        assert_eq!(serve.wait_state(name, "up"), "", "{name}");
        assert_eq!(serve.agent(name).unwrap(), "up\n", "{name}");
    }

    // The unknown UID: down with the CLI's text for the same query, everywhere the daemon answers.
    let reason = serve.wait_state("unknown", "down");
    let peer = format!("127.0.0.1:{}", qr.port);
    assert_eq!(
        reason,
        format!(
            "C-FIND to {peer} succeeded with 0 matches, fewer than the 1 required (--min-matches)"
        )
    );
    let cli = run(
        &mut echoprobe([
            "find",
            "-S",
            "-aet",
            "ECHOPROBE",
            "-aec",
            "QRSCP",
            "-k",
            &unknown,
            "127.0.0.1",
            &qr.port.to_string(),
        ]),
        HARD,
    );
    cli.assert_code(TOO_FEW_MATCHES)
        .assert_stderr(&format!("echoprobe: {reason}"));
    assert_eq!(serve.agent("unknown").unwrap(), format!("down #{reason}\n"));
    let health = must_get(&serve.http, "/health/unknown");
    assert_eq!(health.status, 503, "{health:?}");
    assert!(
        health.body.contains(&format!("down #{reason}")),
        "{health:?}"
    );
    assert_eq!(must_get(&serve.http, "/health/study").status, 200);
    let status = |name: &str| {
        run(
            &mut echoprobe(["status", name, "--http", serve.http.as_str()]),
            HARD,
        )
    };
    status("unknown")
        .assert_code(TOO_FEW_MATCHES)
        .assert_within(QUICK);
    status("study").assert_code(HEALTHY).assert_within(QUICK);

    // A required value no match has: the CLI's 76 and its text, with what the matches had.
    let reason = serve.wait_state("mismatch", "down");
    assert_eq!(
        reason,
        format!(
            "no match from 127.0.0.1:{} has PatientID=P9 (--require); seen: P1",
            scp.port
        )
    );
    status("mismatch")
        .assert_code(REQUIRED_VALUE_MISMATCH)
        .assert_within(QUICK);

    // /metrics: the find phase and the outcomes by the exit table's names.
    let metrics = must_get(&serve.http, "/metrics").body;
    let find_phase = labelled(
        &metrics,
        "echoprobe_check_duration_seconds_count",
        &["target=\"study\"", "phase=\"find\""],
    );
    assert!(find_phase.is_some_and(|n| n >= 1.0), "{metrics}");
    assert_eq!(
        labelled(
            &metrics,
            "echoprobe_check_duration_seconds_count",
            &["target=\"echo\"", "phase=\"find\""],
        ),
        None,
        "an echo target has no find phase"
    );
    for (name, outcome) in [
        ("study", "healthy"),
        ("unknown", "too-few-matches"),
        ("mismatch", "required-value-mismatch"),
    ] {
        let n = labelled(
            &metrics,
            "echoprobe_checks_total",
            &[
                &format!("target=\"{name}\""),
                &format!("outcome=\"{outcome}\""),
            ],
        );
        assert!(n.is_some_and(|n| n >= 1.0), "{name} {outcome}: {metrics}");
    }

    promtool_check_metrics(&metrics).assert_code(0);

    // /probe with a find module: the same find, on demand.
    let probe = |port: u16, called: &str| {
        let path = format!(
            "/probe?target=127.0.0.1:{port}&called_ae={called}&calling_ae=PROBER&module=find"
        );
        get(
            &serve.http,
            &path,
            &[("X-Prometheus-Scrape-Timeout-Seconds", "5")],
        )
        .expect("GET /probe")
    };
    let found = probe(scp.port, "PACS");
    assert_eq!(found.status, 200, "{found:?}");
    assert_eq!(
        sample(&found.body, "probe_success"),
        Some(1.0),
        "{}",
        found.body
    );
    let phase = labelled(
        &found.body,
        "probe_dicom_phase_duration_seconds",
        &["phase=\"find\""],
    );
    assert!(phase.is_some(), "{}", found.body);
    // The same module against the archive that does not have P1: the find's own verdict.
    let missing = probe(qr.port, "QRSCP");
    assert_eq!(
        sample(&missing.body, "probe_success"),
        Some(0.0),
        "{}",
        missing.body
    );
    let code = sample(&missing.body, "probe_dicom_exit_code");
    assert_eq!(code, Some(f64::from(TOO_FEW_MATCHES)), "{}", missing.body);
}

/// A find key the command line would refuse is a configuration error at `--check-config` (and at start and
/// reload), named by file and key; so is a find key on an echo target.
#[test]
fn find_keys_are_checked_at_check_config() {
    setup();
    let dir = TempDir::new("serve-find");
    let file = dir.path().join("probe.toml");
    let check = |body: &str| {
        std::fs::write(&file, body).unwrap();
        let mut cmd = echoprobe(["serve", "--check-config", "--config"]);
        cmd.arg(&file);
        run(&mut cmd, HARD)
    };
    let pacs = "[[target]]\nname = \"pacs\"\naddress = \"127.0.0.1\"\n";
    let path = file.display();
    check(&format!(
        "{pacs}check = \"find\"\nquery_model = \"study\"\nquery = [\"PatientID\", \"Nope=1\"]\n"
    ))
    .assert_code(USAGE)
    .assert_stderr(&format!(
        "{path}: `target[0].query[1]`: `Nope=1`: unknown key 'Nope'"
    ));
    check(&format!("{pacs}require = \"PatientID=P1\"\n"))
        .assert_code(USAGE)
        .assert_stderr(&format!(
            "{path}: `target[0].require`: only a find check has it"
        ));
    check(&format!(
        "{pacs}check = \"find\"\nquery_model = \"study\"\nquery = [\"PatientID\"]\nmin_matches = 200\n"
    ))
    .assert_code(USAGE)
    .assert_stderr("`target[0].min_matches`: 200 is above max_matches 100 (the default)");
    check(&format!(
        "{pacs}check = \"find\"\nquery_model = \"study\"\nquery = [\"PatientID\"]\n"
    ))
    .assert_code(HEALTHY)
    .assert_stdout("ok: 1 target");
}
