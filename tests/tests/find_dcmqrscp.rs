//! `echoprobe find` against DCMTK's dcmqrscp with a real database (a storage area in a temp dir) holding one study
//! stored by DCMTK's storescu: the healthy find, an unknown UID (too few matches), a value the study does not have
//! (required value mismatch), a model dcmqrscp does not serve (no FIND context), a wrong called AE (rejected).

use core::time::Duration;

use echoprobe_tests::codes::{
    HEALTHY, NO_FIND_CONTEXT, REJECTED, REQUIRED_VALUE_MISMATCH, TOO_FEW_MATCHES,
};
use echoprobe_tests::find_peers::dcmqrscp_with_study;
use echoprobe_tests::study::{PATIENT_ID, STUDY_UID, UNKNOWN_STUDY_UID};
use echoprobe_tests::{echoprobe, run, CALLING_AE};

const HARD: Duration = Duration::from_secs(30);
const QUICK: Duration = Duration::from_secs(5);

/// `echoprobe find -S -aet LOADBALANCER -aec AEC [args] 127.0.0.1 PORT`.
fn find(aec: &str, port: &str, args: &[&str]) -> std::process::Command {
    let mut cmd = echoprobe(["find", "-S", "-aet", CALLING_AE, "-aec", aec]);
    cmd.args(args).args(["127.0.0.1", port]);
    cmd
}

#[test]
fn find_the_stored_study_then_what_is_not_there() {
    let scp = dcmqrscp_with_study("QRSCP");
    let port = scp.port_arg();
    let uid = format!("StudyInstanceUID={STUDY_UID}");
    let require = format!("--require=PatientID={PATIENT_ID}");

    let out = run(
        &mut find(
            "QRSCP",
            &port,
            &["-v", "-k", &uid, "-k", "PatientID", &require],
        ),
        HARD,
    );
    out.assert_code(HEALTHY)
        .assert_within(QUICK)
        .assert_stdout("healthy")
        .assert_stdout("1 match")
        // -v shows the match's keys.
        .assert_stderr(&format!("PatientID={PATIENT_ID}"));

    // By tag, as findscu spells it.
    run(
        &mut find(
            "QRSCP",
            &port,
            &[
                "-k",
                "0008,0052=STUDY",
                "-k",
                &format!("0020,000D={STUDY_UID}"),
            ],
        ),
        HARD,
    )
    .assert_code(HEALTHY)
    .assert_within(QUICK);

    run(
        &mut find(
            "QRSCP",
            &port,
            &["-k", &format!("StudyInstanceUID={UNKNOWN_STUDY_UID}")],
        ),
        HARD,
    )
    .assert_code(TOO_FEW_MATCHES)
    .assert_mentions("0 matches")
    .assert_within(QUICK);

    run(
        &mut find(
            "QRSCP",
            &port,
            &["-k", &uid, "--require", "PatientID=SOMEONE-ELSE"],
        ),
        HARD,
    )
    .assert_code(REQUIRED_VALUE_MISMATCH)
    .assert_mentions(PATIENT_ID)
    .assert_within(QUICK);

    // --min-matches 2 with one study.
    run(
        &mut find("QRSCP", &port, &["-k", &uid, "--min-matches", "2"]),
        HARD,
    )
    .assert_code(TOO_FEW_MATCHES)
    .assert_within(QUICK);
}

#[test]
fn worklist_model_is_not_served_by_dcmqrscp() {
    let scp = dcmqrscp_with_study("QRSCP");
    let mut cmd = echoprobe(["find", "-W", "-aet", CALLING_AE, "-aec", "QRSCP"]);
    cmd.args(["-k", "PatientID", "127.0.0.1", &scp.port_arg()]);
    run(&mut cmd, HARD)
        .assert_code(NO_FIND_CONTEXT)
        .assert_within(QUICK);
}

#[test]
fn wrong_called_ae_is_rejected() {
    let scp = dcmqrscp_with_study("QRSCP");
    run(
        &mut find(
            "WRONG",
            &scp.port_arg(),
            &["-k", &format!("StudyInstanceUID={STUDY_UID}")],
        ),
        HARD,
    )
    .assert_code(REJECTED)
    .assert_mentions("1/1/7")
    .assert_within(QUICK);
}
