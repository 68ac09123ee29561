//! `echoprobe find`: findscu's syntax for what it shares with it (`-W`/`-P`/`-S`, `-k`), the echo's options for the
//! rest (the same clap definition, so the link, the timeouts and TLS are the echo's), and the verdict's own options
//! (`--min-matches`, `--max-matches`, `--require`). Also the query keys' keyword table and the records
//! `echoprobe scp --record/--records` answers C-FIND from.

use clap::{ArgAction, Args};
use echoprobe_config::query;
use echoprobe_core::dimse::dataset::{self, Vr, KEYWORDS};

use super::values::parse_count;
use super::EchoOptions;
use crate::exit::Failure;

pub use echoprobe_core::find::Model;

/// A model's name in messages and `--json`.
pub(crate) fn model_name(model: Model) -> &'static str {
    match model {
        Model::Worklist => "worklist",
        Model::PatientRoot => "patient root",
        Model::StudyRoot => "study root",
    }
}

/// The Query/Retrieve Level added when the query has none (worklists have no level).
fn default_level(model: Model) -> Option<&'static str> {
    match model {
        Model::Worklist => None,
        Model::PatientRoot => Some("PATIENT"),
        Model::StudyRoot => Some("STUDY"),
    }
}

/// A tag: group << 16 | element.
pub(crate) type Tag = u32;

/// One attribute of a query or a record: tag, VR (for Explicit VR Little Endian) and value (empty: a return key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    /// The tag.
    pub tag: Tag,
    /// Its VR (`UN` for a tag outside the core's keyword table).
    pub vr: Vr,
    /// The value as text (multiple values separated by `\`); empty for a return key or universal matching.
    pub value: String,
}

impl Key {
    /// The key as the core encodes it.
    pub(crate) fn as_core(&self) -> dataset::Key<'_> {
        dataset::Key {
            tag: self.tag,
            vr: self.vr,
            value: self.value.as_bytes(),
        }
    }

    /// `KEYWORD` if the tag has one in the core's keyword table, else `gggg,eeee`.
    pub fn name(&self) -> String {
        keyword_of(self.tag).map_or_else(|| tag_text(self.tag), str::to_string)
    }
}

/// `gggg,eeee`.
pub(crate) fn tag_text(tag: Tag) -> String {
    format!("{:04X},{:04X}", tag >> 16, tag & 0xFFFF)
}

/// The keyword of `tag` in the core's keyword table (the common Query/Retrieve and worklist keys, PS3.6 names).
pub(crate) fn keyword_of(tag: Tag) -> Option<&'static str> {
    KEYWORDS.iter().find(|k| k.1 == tag).map(|k| k.0)
}

/// `KEY=VALUE` or `KEY` (an empty value), KEY a keyword or `gggg,eeee`, as findscu's `-k` (the config crate's reader,
/// which the daemon and the firmware's build use too).
pub(crate) fn parse_key(s: &str) -> Result<Key, String> {
    let (tag, vr, value) = query::parse_key(s)?;
    Ok(Key {
        tag,
        vr,
        value: value.to_string(),
    })
}

/// `--require KEY=VALUE`: a key with a value.
pub(crate) fn parse_required(s: &str) -> Result<Key, String> {
    let key = parse_key(s)?;
    if key.value.is_empty() {
        return Err("--require takes KEY=VALUE with a value".to_string());
    }
    Ok(key)
}

/// A record for the SCP: `KEY=VALUE,KEY=VALUE,...` (no commas inside values).
pub(crate) fn parse_record(s: &str) -> Result<Vec<Key>, String> {
    let mut record: Vec<Key> = Vec::new();
    for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        if !item.contains('=') {
            return Err(format!("record item '{item}' is not KEY=VALUE"));
        }
        let key = parse_key(item)?;
        if record.iter().any(|k| k.tag == key.tag) {
            return Err(format!("record names {} twice", key.name()));
        }
        record.push(key);
    }
    if record.is_empty() {
        return Err("empty record".to_string());
    }
    record.sort_by_key(|k| k.tag);
    Ok(record)
}

/// The records of `--records FILE`: one per line in `--record`'s syntax; empty lines and `#` comments skipped. At
/// most 1 MiB and 10000 records.
pub(crate) fn load_records(path: &str) -> Result<Vec<Vec<Key>>, Failure> {
    let text = crate::exit::read_named_file("records file", path, 1024 * 1024, "1 MiB")?;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        out.push(parse_record(line).map_err(|e| Failure::Usage(format!("{path}:{}: {e}", n + 1)))?);
        if out.len() > 10_000 {
            return Err(Failure::Usage(format!(
                "records file {path} has more than 10000 records"
            )));
        }
    }
    Ok(out)
}

/// The options only `find` has (the rest are the echo's, [`super::command`]'s `EchoCli`).
#[derive(Args, Debug, Default)]
pub(super) struct FindArgs {
    /// [-W] use the modality worklist information model (default, as findscu)
    #[arg(help_heading = "query options")]
    #[arg(long, action = ArgAction::SetTrue, overrides_with_all = ["patient", "study"])]
    pub(super) worklist: bool,
    /// [-P] use the patient root information model
    #[arg(help_heading = "query options")]
    #[arg(long, action = ArgAction::SetTrue, overrides_with_all = ["worklist", "study"])]
    pub(super) patient: bool,
    /// [-S] use the study root information model
    #[arg(help_heading = "query options")]
    #[arg(long, action = ArgAction::SetTrue, overrides_with_all = ["worklist", "patient"])]
    pub(super) study: bool,
    /// [-k] a query key: gggg,eeee=value or keyword=value; no value: a return key (repeatable)
    #[arg(help_heading = "query options")]
    #[arg(long, value_name = "key", value_parser = parse_key, action = ArgAction::Append)]
    pub(super) key: Vec<Key>,
    /// healthy only with at least n matches (default: 1; 0 allowed)
    #[arg(help_heading = "query options")]
    #[arg(long, value_name = "n", value_parser = clap::value_parser!(u32))]
    pub(super) min_matches: Option<u32>,
    /// send C-CANCEL-RQ after n matches (default: 100)
    #[arg(help_heading = "query options")]
    #[arg(long, value_name = "n", value_parser = parse_count)]
    pub(super) max_matches: Option<u32>,
    /// healthy only if some match has this value: KEY=VALUE, KEY a keyword or gggg,eeee (added as a return key)
    #[arg(help_heading = "query options")]
    #[arg(long, value_name = "key=value", value_parser = parse_required)]
    pub(super) require: Option<Key>,
}

/// The long options of [`FindArgs`], which `find` takes out of its arguments before the echo's parser sees them.
pub(super) fn find_longs() -> Vec<String> {
    <FindArgs as Args>::augment_args(clap::Command::new("find"))
        .get_arguments()
        .filter_map(|a| a.get_long().map(|l| format!("--{l}")))
        .collect()
}

/// The default `--max-matches`: a health check never drags a whole archive over the wire.
pub(crate) const DEFAULT_MAX_MATCHES: u32 = 100;

/// `echoprobe find [options] peer port`, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct FindOptions {
    /// Everything the echo has: peer, AE titles, timeouts (`-td` bounds each C-FIND-RSP), deadline, TLS, `--json`,
    /// verbosity (`--abort` is refused: the find check always releases).
    pub link: EchoOptions,
    /// `-W`/`-P`/`-S`.
    pub model: Model,
    /// The identifier, in the order given, with the Query/Retrieve Level added if missing and the `--require` key
    /// added as a return key if missing.
    pub keys: Vec<Key>,
    /// `--min-matches` (default 1).
    pub min_matches: u32,
    /// `--max-matches` (default 100).
    pub max_matches: u32,
    /// `--require KEY=VALUE`.
    pub require: Option<Key>,
}

impl FindArgs {
    /// The find options over the echo's `link` options.
    pub(super) fn into_options(self, link: EchoOptions) -> Result<FindOptions, Failure> {
        let model = super::chosen(
            [
                (self.study, Model::StudyRoot),
                (self.patient, Model::PatientRoot),
            ],
            Model::Worklist,
        );
        let mut keys: Vec<Key> = Vec::new();
        for key in self.key {
            // findscu: a later -k for the same tag overrides the earlier one.
            match keys.iter_mut().find(|k| k.tag == key.tag) {
                Some(k) => *k = key,
                None => keys.push(key),
            }
        }
        if keys.is_empty() {
            return Err(Failure::Usage(
                "no query keys: give at least one -k (e.g. -k StudyInstanceUID=1.2.3)".to_string(),
            ));
        }
        const LEVEL: Tag = 0x0008_0052;
        if let Some(level) = default_level(model) {
            if !keys.iter().any(|k| k.tag == LEVEL) {
                keys.insert(
                    0,
                    Key {
                        tag: LEVEL,
                        vr: Vr::CS,
                        value: level.to_string(),
                    },
                );
            }
        }
        if let Some(req) = &self.require {
            if !keys.iter().any(|k| k.tag == req.tag) {
                keys.push(Key {
                    value: String::new(),
                    ..req.clone()
                });
            }
        }
        keys.sort_by_key(|k| k.tag);
        Ok(FindOptions {
            link,
            model,
            keys,
            min_matches: self.min_matches.unwrap_or(1),
            max_matches: self.max_matches.unwrap_or(DEFAULT_MAX_MATCHES),
            require: self.require,
        })
    }
}

/// The options `--record`/`--records` of `scp` (flattened into its clap definition).
#[derive(Args, Debug, Default)]
pub(super) struct RecordArgs {
    /// answer C-FIND from this record: KEY=VALUE,KEY=VALUE,... (repeatable)
    #[arg(help_heading = "find options")]
    #[arg(long, value_name = "record", value_parser = parse_record, action = ArgAction::Append)]
    pub(super) record: Vec<Vec<Key>>,
    /// answer C-FIND from the records in this file, one per line as --record
    #[arg(help_heading = "find options")]
    #[arg(long, value_name = "filename")]
    pub(super) records: Option<String>,
}

impl RecordArgs {
    /// Every record: `--record`s first, then the file's.
    pub(super) fn all(self) -> Result<Vec<Vec<Key>>, Failure> {
        let mut out = self.record;
        if let Some(path) = &self.records {
            out.extend(load_records(path)?);
        }
        Ok(out)
    }
}

/// `find -h`.
pub(crate) fn help_find(prog: &str) -> String {
    let keywords: Vec<&str> = KEYWORDS.iter().map(|k| k.0).collect();
    let mut keyword_lines = String::new();
    let mut line = String::from(" ");
    for k in keywords {
        if line.len() + k.len() + 1 > 78 {
            keyword_lines.push_str(&line);
            keyword_lines.push('\n');
            line = String::from(" ");
        }
        line.push(' ');
        line.push_str(k);
    }
    keyword_lines.push_str(&line);
    format!(
        "{prog} find: DICOM query (C-FIND) check, a truthful and bounded findscu
usage: {prog} find [options] peer port

parameters:
  peer                         hostname or IP address of DICOM peer
  port                         tcp/ip port number of peer

query options (findscu's spelling):
  -W      --worklist           use modality worklist information model (default)
  -P      --patient            use patient root information model
  -S      --study              use study root information model
  -k      --key                [k]ey: gggg,eeee=\"str\" or keyword=\"str\"
                               a query key; without a value a return key
                               (repeatable; a later -k for a tag overrides)
                               -P/-S add QueryRetrieveLevel PATIENT/STUDY if no
                               -k gives it
verdict options:
          --min-matches        [n]umber: integer (default: 1)
                               healthy only with at least n matches (exit 75)
          --max-matches        [n]umber: integer (default: {max})
                               send C-CANCEL-RQ after n matches (still healthy)
          --require            [k]ey=value: string
                               healthy only if some match has this value
                               (exit 76; the key is added as a return key)

Every other option is the echo's (see {prog} -h): -aet, -aec, -to, -ts, -ta,
-td (bounds each C-FIND-RSP), -pdu, -i4/-i6/-i0, --deadline, --json,
-q/-v/-d/-ll/-lc and TLS (+tls, +tla, +cf, ...). -v prints each match's keys.

keywords (-k, --require; other attributes by tag):
{keyword_lines}

healthy: the final C-FIND-RSP is success (or cancel after our C-CANCEL-RQ), at
least --min-matches matched, and --require's value is in some match.

{table}",
        max = DEFAULT_MAX_MATCHES,
        table = crate::exit::help_table(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_by_tag_and_keyword() {
        let k = parse_key("0008,0052=STUDY").unwrap();
        assert_eq!(
            (k.tag, k.vr, k.value.as_str()),
            (0x0008_0052, Vr::CS, "STUDY")
        );
        let k = parse_key("StudyInstanceUID=1.2.3").unwrap();
        assert_eq!(
            (k.tag, k.vr, k.value.as_str()),
            (0x0020_000D, Vr::UI, "1.2.3")
        );
        let k = parse_key("patientid").unwrap();
        assert_eq!((k.tag, k.value.as_str()), (0x0010_0020, ""));
        let k = parse_key("(0009,1010)=x").unwrap();
        assert_eq!(
            (k.tag, k.vr, k.name().as_str()),
            (0x0009_1010, Vr::UN, "0009,1010")
        );
        assert_eq!(
            parse_key("PatientName=DOE^J").unwrap().name(),
            "PatientName"
        );
        for bad in [
            "Nope=1",
            "0008,00=1",
            "0000,0100=1",
            "0002,0010=1",
            "PatientID=a\nb",
        ] {
            assert!(parse_key(bad).is_err(), "{bad}");
        }
        assert!(parse_required("PatientID").is_err());
    }

    #[test]
    fn every_keyword_of_the_table_parses() {
        for (name, tag, vr) in KEYWORDS {
            assert_eq!(query::parse_name(name), Ok(*tag));
            assert_eq!(query::vr_of(*tag), *vr);
        }
    }

    fn find(args: &[&str]) -> Result<FindOptions, String> {
        let args = args.iter().map(|s| s.to_string()).collect();
        match super::super::parse("echoprobe", args) {
            Ok(super::super::Invocation::Find(o, _)) => Ok(o),
            Ok(other) => panic!("{other:?}"),
            Err(f) => Err(f.to_string()),
        }
    }

    #[test]
    fn find_command_lines() {
        let o = find(&[
            "find",
            "-S",
            "-aet",
            "LB",
            "-aec",
            "PACS",
            "-k",
            "StudyInstanceUID=1.2.3",
            "-k",
            "PatientID",
            "--min-matches",
            "0",
            "--max-matches",
            "5",
            "--require",
            "PatientID=P1",
            "-td",
            "3",
            "--json",
            "pacs",
            "104",
        ])
        .unwrap();
        assert_eq!(o.model, Model::StudyRoot);
        assert_eq!((o.link.peer.as_str(), o.link.port), ("pacs", 104));
        assert_eq!(
            (o.link.calling.as_str(), o.link.called.as_str()),
            ("LB", "PACS")
        );
        assert_eq!(o.link.dimse_timeout, core::time::Duration::from_secs(3));
        assert!(o.link.json);
        assert_eq!((o.min_matches, o.max_matches), (0, 5));
        assert_eq!(o.require.as_ref().map(|k| k.value.as_str()), Some("P1"));
        // The level added, keys sorted by tag.
        let names: Vec<String> = o.keys.iter().map(Key::name).collect();
        assert_eq!(
            names,
            ["QueryRetrieveLevel", "PatientID", "StudyInstanceUID"]
        );
        assert_eq!(o.keys[0].value, "STUDY");

        // findscu's default model is the worklist (no level); the required key is added as a return key.
        let o = find(&[
            "find",
            "-k",
            "AccessionNumber=A1",
            "--require",
            "PatientID=P",
            "h",
            "1",
        ])
        .unwrap();
        assert_eq!(o.model, Model::Worklist);
        let names: Vec<String> = o.keys.iter().map(Key::name).collect();
        assert_eq!(names, ["AccessionNumber", "PatientID"]);
        assert_eq!((o.min_matches, o.max_matches), (1, DEFAULT_MAX_MATCHES));
        // A later -k for a tag overrides; the last model wins.
        let o = find(&[
            "find",
            "-S",
            "-P",
            "-k",
            "PatientID=1",
            "-k",
            "0010,0020=2",
            "h",
            "1",
        ])
        .unwrap();
        assert_eq!(o.model, Model::PatientRoot);
        assert_eq!(o.keys[1].value, "2");
        assert_eq!(o.keys[0].value, "PATIENT");

        for bad in [
            &["find"][..],
            &["find", "h", "1"],
            &["find", "-k", "Nope=1", "h", "1"],
            &["find", "-k", "PatientID", "--repeat", "2", "h", "1"],
            &["find", "-k", "PatientID", "-pts", "2", "h", "1"],
            &["find", "-k", "PatientID", "--abort", "h", "1"],
            &["find", "-k", "PatientID", "--max-matches", "0", "h", "1"],
            &[
                "find",
                "-k",
                "PatientID",
                "--require",
                "PatientID",
                "h",
                "1",
            ],
            &["find", "-k", "PatientID", "h"],
        ] {
            assert!(find(bad).is_err(), "{bad:?}");
        }
        assert!(matches!(
            super::super::parse("echoprobe", vec!["find".into(), "-h".into()]),
            Ok(super::super::Invocation::Help(h)) if h.contains("--min-matches")
        ));
    }

    #[test]
    fn records() {
        let r = parse_record("StudyInstanceUID=1.2.3, PatientID=P1").unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].tag, 0x0010_0020, "sorted by tag");
        assert!(parse_record("").is_err());
        assert!(parse_record("PatientID").is_err());
        assert!(parse_record("PatientID=1,PatientID=2").is_err());
        let dir = std::env::temp_dir().join(format!("echoprobe-records-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("records");
        std::fs::write(&file, "# two\nPatientID=P1\n\nPatientID=P2,StudyID=S\n").unwrap();
        assert_eq!(load_records(file.to_str().unwrap()).unwrap().len(), 2);
        std::fs::write(&file, "PatientID=P1\nbogus\n").unwrap();
        let e = load_records(file.to_str().unwrap())
            .unwrap_err()
            .to_string();
        assert!(e.contains(":2: "), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
