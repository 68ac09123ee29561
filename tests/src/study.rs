//! The one study the find tests store into real archives (dcmqrscp, Orthanc) and then look for: a
//! tiny Secondary Capture image made at test time with DCMTK's `dump2dcm` from a text dump, sent
//! with DCMTK's `storescu`.

use core::time::Duration;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::env::dcmtk;
use crate::process::run;

/// The study's Patient ID (0010,0020).
pub const PATIENT_ID: &str = "EPFIND1";
/// The study's Patient's Name (0010,0010).
pub const PATIENT_NAME: &str = "PROBE^FIND";
/// The study's Study Instance UID (0020,000D); UIDs under the 2.25 root are free to make up.
pub const STUDY_UID: &str = "2.25.318273690472515310358316218733152101";
/// Its one series (0020,000E).
pub const SERIES_UID: &str = "2.25.318273690472515310358316218733152102";
/// Its one image (0008,0018).
pub const SOP_UID: &str = "2.25.318273690472515310358316218733152103";
/// Its Accession Number (0008,0050).
pub const ACCESSION: &str = "EPACC0001";
/// A Study Instance UID that no archive holds.
pub const UNKNOWN_STUDY_UID: &str = "2.25.318273690472515310358316218733159999";

/// The image as a `dump2dcm` text dump (PS3.10 file, Explicit VR Little Endian).
fn dump() -> String {
    format!(
        "(0002,0001) OB 00\\01\n\
         (0002,0002) UI =SecondaryCaptureImageStorage\n\
         (0002,0003) UI [{SOP_UID}]\n\
         (0002,0010) UI =LittleEndianExplicit\n\
         (0008,0016) UI =SecondaryCaptureImageStorage\n\
         (0008,0018) UI [{SOP_UID}]\n\
         (0008,0020) DA [20260101]\n\
         (0008,0030) TM [120000]\n\
         (0008,0050) SH [{ACCESSION}]\n\
         (0008,0060) CS [OT]\n\
         (0008,0064) CS [WSD]\n\
         (0008,1030) LO [echoprobe find check]\n\
         (0010,0010) PN [{PATIENT_NAME}]\n\
         (0010,0020) LO [{PATIENT_ID}]\n\
         (0010,0030) DA [19700101]\n\
         (0010,0040) CS [O]\n\
         (0020,000d) UI [{STUDY_UID}]\n\
         (0020,000e) UI [{SERIES_UID}]\n\
         (0020,0010) SH [STUDY1]\n\
         (0020,0011) IS [1]\n\
         (0020,0013) IS [1]\n\
         (0028,0002) US 1\n\
         (0028,0004) CS [MONOCHROME2]\n\
         (0028,0010) US 2\n\
         (0028,0011) US 2\n\
         (0028,0100) US 8\n\
         (0028,0101) US 8\n\
         (0028,0102) US 7\n\
         (0028,0103) US 0\n\
         (7fe0,0010) OB 00\\01\\02\\03\n"
    )
}

/// Writes the study's one image into `dir` (with `dump2dcm`) and returns its path.
pub fn make_file(dir: &Path) -> PathBuf {
    let text = dir.join("study.dump");
    let file = dir.join("study.dcm");
    fs::write(&text, dump()).expect("write study.dump");
    run(
        Command::new(dcmtk("dump2dcm"))
            .args(["--write-file"])
            .arg(&text)
            .arg(&file),
        Duration::from_secs(20),
    )
    .assert_code(0);
    assert!(file.is_file(), "dump2dcm wrote no {}", file.display());
    file
}

/// Sends `file` to `called` at 127.0.0.1:`port` with DCMTK's `storescu -v` and fails the test
/// unless the C-STORE-RSP says success (storescu's exit code alone does not say so).
pub fn store(called: &str, port: u16, file: &Path) {
    let out = run(
        Command::new(dcmtk("storescu"))
            .args(["-v", "-aet", "STORESCU", "-aec", called, "127.0.0.1"])
            .arg(port.to_string())
            .arg(file),
        Duration::from_secs(30),
    );
    out.assert_code(0);
    out.assert_mentions("Received Store Response (Success)");
}
