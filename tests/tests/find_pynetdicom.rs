//! The find check against pynetdicom, both ways: `echoprobe find` against pynetdicom's Q/R FIND SCP answering from
//! an in-memory list (`tests/py/findscp.py`), and a pynetdicom FIND SCU (`tests/py/findscu.py`) against
//! `echoprobe scp --record`.

use core::time::Duration;

use echoprobe_tests::codes::{FIND_FAILURE_STATUS, HEALTHY, REJECTED, TOO_FEW_MATCHES};
use echoprobe_tests::find_peers::{py_findscp, py_findscu};
use echoprobe_tests::peers::echoprobe_scp;
use echoprobe_tests::{echoprobe, run, CALLING_AE};

const HARD: Duration = Duration::from_secs(30);
const QUICK: Duration = Duration::from_secs(5);
/// pynetdicom's SCU needs ~0.5 s to import before it connects.
const PY_QUICK: Duration = Duration::from_secs(10);

const RECORDS: [&str; 3] = [
    "PatientID=P1,PatientName=DOE^JANE,StudyInstanceUID=1.2.826.0.1.3680043.10.543.7.1",
    "PatientID=P2,PatientName=ROE^RICHARD,StudyInstanceUID=1.2.826.0.1.3680043.10.543.7.2",
    "PatientID=P3,PatientName=POE^EDGAR,StudyInstanceUID=1.2.826.0.1.3680043.10.543.7.3",
];

fn find(port: &str, args: &[&str]) -> std::process::Command {
    let mut cmd = echoprobe(["find", "-S", "-aet", CALLING_AE, "-aec", "PYFINDSCP"]);
    cmd.args(args).args(["127.0.0.1", port]);
    cmd
}

#[test]
fn echoprobe_find_to_pynetdicom() {
    let scp = py_findscp("PYFINDSCP", &RECORDS, None);
    let port = scp.port_arg();
    run(
        &mut find(
            &port,
            &[
                "-k",
                "PatientID=P2",
                "-k",
                "StudyInstanceUID",
                "--require",
                "StudyInstanceUID=1.2.826.0.1.3680043.10.543.7.2",
            ],
        ),
        HARD,
    )
    .assert_code(HEALTHY)
    .assert_within(QUICK);
    scp.peer.wait_log(
        "find level=STUDY keys=QueryRetrieveLevel,PatientID,StudyInstanceUID",
        QUICK,
    );
    scp.peer.wait_log("match 1", QUICK);

    run(&mut find(&port, &["-k", "PatientID=NOBODY"]), HARD)
        .assert_code(TOO_FEW_MATCHES)
        .assert_within(QUICK);

    // Three match; --max-matches 1 cancels after the first and is still healthy.
    let out = run(
        &mut find(
            &port,
            &["--json", "-k", "PatientID=P*", "--max-matches", "1"],
        ),
        HARD,
    );
    out.assert_code(HEALTHY).assert_within(QUICK);
    out.assert_stdout("\"cancelled\":true");

    run(
        &mut find(&port, &["-aec", "WRONG", "-k", "PatientID"]),
        HARD,
    )
    .assert_code(REJECTED)
    .assert_within(QUICK);
}

#[test]
fn echoprobe_find_sees_a_failure_status() {
    let scp = py_findscp("PYFINDSCP", &RECORDS, Some(0xC000));
    run(&mut find(&scp.port_arg(), &["-k", "PatientID=P1"]), HARD)
        .assert_code(FIND_FAILURE_STATUS)
        .assert_mentions("0xC000")
        .assert_within(QUICK);
}

#[test]
fn pynetdicom_find_to_echoprobe_scp() {
    let scp = echoprobe_scp(&[
        "-aet", "PROBESCP", "--record", RECORDS[0], "--record", RECORDS[1],
    ]);
    let out = run(
        &mut py_findscu(
            scp.port,
            &[
                "--aec",
                "PROBESCP",
                "--key",
                "QueryRetrieveLevel=STUDY",
                "--key",
                "PatientID=P1",
                "--key",
                "PatientName=",
                "--key",
                "StudyInstanceUID=",
            ],
        ),
        HARD,
    );
    out.assert_code(0).assert_within(PY_QUICK);
    out.assert_stdout("match 1 ")
        .assert_stdout("PatientName=DOE^JANE")
        .assert_stdout("StudyInstanceUID=1.2.826.0.1.3680043.10.543.7.1")
        .assert_stdout("status 0x0000");
    assert!(!out.stdout.contains("match 2"), "{out}");

    // Universal matching: both records.
    let out = run(
        &mut py_findscu(
            scp.port,
            &[
                "--aec",
                "PROBESCP",
                "--model",
                "patient",
                "--key",
                "QueryRetrieveLevel=PATIENT",
                "--key",
                "PatientID=",
            ],
        ),
        HARD,
    );
    out.assert_code(0).assert_within(PY_QUICK);
    out.assert_stdout("match 2 ");
}

#[test]
fn echoprobe_worklist_find_to_pynetdicom() {
    let scp = py_findscp(
        "PYFINDSCP",
        &["PatientID=P1,AccessionNumber=A1,ScheduledStationAETitle=CT1"],
        None,
    );
    let mut cmd = echoprobe(["find", "-W", "-aet", CALLING_AE, "-aec", "PYFINDSCP"]);
    cmd.args([
        "-k",
        "ScheduledStationAETitle=CT1",
        "--require",
        "AccessionNumber=A1",
        "127.0.0.1",
        &scp.port_arg(),
    ]);
    run(&mut cmd, HARD)
        .assert_code(HEALTHY)
        .assert_stdout("find worklist: 1 match")
        .assert_within(QUICK);
    // A worklist query has no level: the keys as given, and the required one as a return key.
    scp.peer.wait_log(
        "find level= keys=AccessionNumber,ScheduledStationAETitle",
        QUICK,
    );
}
