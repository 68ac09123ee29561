//! The proof of the find check: Orthanc (Debian's) with its index in PostgreSQL. While the database is up, echo and
//! find are healthy; with PostgreSQL stopped Orthanc still answers C-ECHO, and only the find check sees that the
//! archive can find nothing (0xC000, exit code 74); PostgreSQL back, find healthy again; with the database hung
//! (SIGSTOP), the find check is unhealthy within its bounds.
//!
//! One test, in phases: Orthanc and PostgreSQL start once for this binary (about 2 s) and the phases must run in
//! order (each changes the database's state).

use core::time::Duration;
use std::process::Command;

use echoprobe_tests::codes::{DIMSE_TIMEOUT, FIND_FAILURE_STATUS, HEALTHY};
use echoprobe_tests::orthanc::{Orthanc, ORTHANC_AE};
use echoprobe_tests::process::TempDir;
use echoprobe_tests::study::{self, PATIENT_ID, STUDY_UID};
use echoprobe_tests::{echoprobe, run, CALLING_AE};

const HARD: Duration = Duration::from_secs(30);
const QUICK: Duration = Duration::from_secs(5);

fn echo(orthanc: &Orthanc) -> Command {
    echoprobe([
        "-aet",
        CALLING_AE,
        "-aec",
        ORTHANC_AE,
        "-td",
        "2",
        "127.0.0.1",
        &orthanc.port_arg(),
    ])
}

/// The echo check: healthy, within [`QUICK`] (Orthanc answers C-ECHO in every phase).
#[track_caller]
fn assert_echo_healthy(orthanc: &Orthanc) {
    run(&mut echo(orthanc), HARD)
        .assert_code(HEALTHY)
        .assert_within(QUICK);
}

/// The find check of the stored study: -td 2, --deadline 4.
fn find(orthanc: &Orthanc) -> Command {
    let mut cmd = echoprobe(["find", "-S", "-aet", CALLING_AE, "-aec", ORTHANC_AE]);
    cmd.args(["-td", "2", "--deadline", "4"])
        .args(["-k", &format!("StudyInstanceUID={STUDY_UID}")])
        .arg(format!("--require=PatientID={PATIENT_ID}"))
        .args(["127.0.0.1", &orthanc.port_arg()]);
    cmd
}

#[test]
fn find_sees_the_database_die_where_echo_does_not() {
    let mut orthanc = Orthanc::start();
    let dir = TempDir::new("study");
    study::store(ORTHANC_AE, orthanc.port, &study::make_file(dir.path()));

    // 1. All up: both healthy.
    assert_echo_healthy(&orthanc);
    run(&mut find(&orthanc), HARD)
        .assert_code(HEALTHY)
        .assert_stdout("1 match")
        .assert_within(QUICK);

    // 2. PostgreSQL stopped (pg_ctl stop; postmaster.pid gone). Orthanc still answers C-ECHO (observed: healthy,
    //    every time); the find gets 0xC000 (unable to process): observed in 20 ms the first time, then about 1 s
    //    (the plugin's one retry, one second apart).
    orthanc.postgres.stop();
    assert_echo_healthy(&orthanc);
    run(&mut find(&orthanc), HARD)
        .assert_code(FIND_FAILURE_STATUS)
        .assert_mentions("0xC000")
        .assert_within(QUICK);
    assert_echo_healthy(&orthanc);

    // 3. PostgreSQL back: Orthanc reconnects by itself, the find is healthy again.
    orthanc.postgres.resume_service();
    run(&mut find(&orthanc), HARD)
        .assert_code(HEALTHY)
        .assert_within(QUICK);

    // 4. The database hung (postmaster and backends stopped): Orthanc accepts the association and the C-FIND-RQ but
    //    never answers it, so the find ends by its DIMSE timeout (-td 2, observed 2.02..2.08 s), well within the
    //    deadline (4 s).
    let frozen = orthanc.postgres.freeze();
    assert!(frozen >= 1);
    run(&mut find(&orthanc), HARD)
        .assert_code(DIMSE_TIMEOUT)
        .assert_mentions("no C-FIND-RSP")
        .assert_within(Duration::from_millis(4500));
    // Echo while the database hangs: observed healthy after one stuck find (Orthanc has four DICOM threads; from
    // the fourth stuck find on, every thread waits on the database and C-ECHO gets no answer either: 67).
    assert_echo_healthy(&orthanc);
    orthanc.postgres.thaw();
}
