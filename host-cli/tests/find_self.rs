//! `echoprobe find` against `echoprobe scp --record/--records`, in plain TCP and over TLS (the echo's link): the
//! verdicts the SCP can show (healthy, too few matches, required value, cancel after --max-matches, a model it
//! serves) and DCMTK findscu against it. Runs inside the loopback-only namespace.

use core::time::Duration;
use std::process::Command;

use echoprobe_tests::codes::{HEALTHY, REQUIRED_VALUE_MISMATCH, TOO_FEW_MATCHES};
use echoprobe_tests::env::dcmtk;
use echoprobe_tests::peers::echoprobe_scp;
use echoprobe_tests::process::TempDir;
use echoprobe_tests::{run, CALLING_AE};

const HARD: Duration = Duration::from_secs(30);
const QUICK: Duration = Duration::from_secs(5);

fn find(args: &[&str], port: u16) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_echoprobe"));
    cmd.args(["find", "-aet", CALLING_AE, "-aec", "PROBESCP"])
        .args(args)
        .args(["127.0.0.1", &port.to_string()]);
    cmd
}

/// Three patients, one study each, in a records file.
fn records(dir: &TempDir) -> String {
    let path = dir.path().join("records");
    std::fs::write(
        &path,
        "# patient, study\n\
         PatientID=P1,PatientName=DOE^JANE,StudyInstanceUID=2.25.1001,AccessionNumber=A1\n\
         PatientID=P2,PatientName=ROE^RICHARD,StudyInstanceUID=2.25.1002,AccessionNumber=A2\n\
         \n\
         PatientID=P3,PatientName=DOE^JOHN,StudyInstanceUID=2.25.1003,AccessionNumber=A3\n",
    )
    .expect("write records");
    path.display().to_string()
}

#[test]
fn find_against_our_scp() {
    let dir = TempDir::new("find-records");
    let records = records(&dir);
    let scp = echoprobe_scp(&["-aet", "PROBESCP", "--records", &records]);
    scp.peer.wait_log("C-FIND from 3 records", QUICK);

    let out = run(
        &mut find(
            &[
                "-S",
                "-v",
                "-k",
                "PatientID=P2",
                "-k",
                "PatientName",
                "--require",
                "StudyInstanceUID=2.25.1002",
            ],
            scp.port,
        ),
        HARD,
    );
    out.assert_code(HEALTHY)
        .assert_within(QUICK)
        .assert_stdout("find study root: 1 match")
        .assert_stderr("PatientName=ROE^RICHARD");
    scp.peer.wait_log("1 find (1 match)", QUICK);

    // Wildcards: two DOEs; three needed.
    run(
        &mut find(
            &["-S", "-k", "PatientName=DOE*", "--min-matches", "3"],
            scp.port,
        ),
        HARD,
    )
    .assert_code(TOO_FEW_MATCHES)
    .assert_mentions("2 matches")
    .assert_within(QUICK);
    run(
        &mut find(
            &[
                "-P",
                "-k",
                "PatientID=P1",
                "--require",
                "PatientName=DOE^JOHN",
            ],
            scp.port,
        ),
        HARD,
    )
    .assert_code(REQUIRED_VALUE_MISMATCH)
    .assert_mentions("DOE^JANE")
    .assert_within(QUICK);
    // Universal matching, at most 2: C-CANCEL-RQ after the second, still healthy (our SCP is fast: the third
    // pending may be on its way before the cancel arrives, and is counted).
    run(
        &mut find(
            &[
                "-W",
                "--json",
                "-k",
                "AccessionNumber",
                "--max-matches",
                "2",
            ],
            scp.port,
        ),
        HARD,
    )
    .assert_code(HEALTHY)
    .assert_stdout("\"max_matches\":2,\"cancelled\":true")
    .assert_within(QUICK);
}

#[test]
fn dcmtk_findscu_against_our_scp() {
    let scp = echoprobe_scp(&[
        "-aet",
        "PROBESCP",
        "--record",
        "PatientID=P1,StudyInstanceUID=2.25.1001",
    ]);
    // findscu's exit code says nothing (0 on failures too): its log is the judge.
    let out = run(
        Command::new(dcmtk("findscu"))
            .args(["-v", "-S", "-aet", "DCMTKSCU", "-aec", "PROBESCP"])
            .args([
                "-k",
                "0008,0052=STUDY",
                "-k",
                "PatientID=P1",
                "-k",
                "StudyInstanceUID",
            ])
            .args(["127.0.0.1", &scp.port.to_string()]),
        HARD,
    );
    out.assert_within(QUICK)
        .assert_mentions("Find Response: 1 (Pending)")
        .assert_mentions("2.25.1001")
        .assert_mentions("Received Final Find Response (Success)");
}

#[test]
fn find_over_tls() {
    let dir = TempDir::new("find-tls");
    let rcgen::CertifiedKey { cert, signing_key } =
        rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).expect("certificate");
    let key = dir.path().join("key.pem");
    let crt = dir.path().join("cert.pem");
    std::fs::write(&key, signing_key.serialize_pem()).expect("write key");
    std::fs::write(&crt, cert.pem()).expect("write cert");
    let (key, crt) = (key.display().to_string(), crt.display().to_string());
    let scp = echoprobe_scp(&[
        "-aet",
        "PROBESCP",
        "+tls",
        &key,
        &crt,
        "-ic",
        "--record",
        "PatientID=P1,StudyInstanceUID=2.25.1001",
    ]);
    run(
        &mut find(
            &[
                "-S",
                "+tla",
                "+cf",
                &crt,
                "-k",
                "StudyInstanceUID=2.25.1001",
            ],
            scp.port,
        ),
        HARD,
    )
    .assert_code(HEALTHY)
    .assert_stdout(", TLS 1.3 (total ")
    .assert_within(QUICK);
}
