//! `echoprobe find --json` against its documentation: README "Deep check: find"'s table of the `find` object (every
//! field with its type and when it is null) checked against the binary's output (`demo --find --json`, echoprobe's
//! own C-FIND SCP on 127.0.0.1); the other fields are the echo's (README "JSON output", `json.rs`).

mod common;

use std::collections::BTreeMap;

use common::json::{run, type_ok};
use serde_json::Value;

/// The rows of README's `| find field |` table: path -> (type, nullable).
fn schema() -> BTreeMap<String, (String, bool)> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("read README.md");
    let start = readme
        .find("### Deep check: find\n")
        .expect("README has a section Deep check: find");
    let mut lines = readme[start..]
        .lines()
        .skip_while(|l| !l.starts_with("| find field | type | null when |"));
    assert!(lines.next().is_some(), "no find field table");
    assert!(lines.next().is_some_and(|l| l.starts_with("|---")));
    let mut fields = BTreeMap::new();
    for line in lines.take_while(|l| l.starts_with('|')) {
        let cells: Vec<String> = line
            .trim_matches('|')
            .split(" | ")
            .map(|c| c.trim().replace('`', ""))
            .collect();
        fields.insert(cells[0].clone(), (cells[1].clone(), cells[2] != "never"));
    }
    assert!(fields.len() > 10, "{fields:?}");
    fields
}

/// Every documented field is there with its type (or null where allowed); nothing under `find` is undocumented.
fn conforms(v: &Value, schema: &BTreeMap<String, (String, bool)>) {
    fn walk(path: &str, v: &Value, schema: &BTreeMap<String, (String, bool)>) {
        assert!(schema.contains_key(path), "undocumented field {path}");
        let (ty, _) = &schema[path];
        if ty != "object" {
            return;
        }
        if let Some(obj) = v.as_object() {
            // The keys of `find.query` are the query's, not fields.
            if path == "find.query" {
                return;
            }
            for (k, child) in obj {
                walk(&format!("{path}.{k}"), child, schema);
            }
        }
    }
    walk("find", &v["find"], schema);
    for (path, (ty, nullable)) in schema {
        let value = v
            .pointer(&format!("/{}", path.replace('.', "/")))
            .unwrap_or_else(|| panic!("no field {path} in {v}"));
        if value.is_null() {
            assert!(nullable, "{path} is null in {v}");
        } else {
            assert!(type_ok(ty, value), "{path} is not a {ty}: {value}");
        }
    }
}

#[test]
fn find_json_matches_the_documented_schema() {
    let schema = schema();
    let (code, healthy, _) = run(&["demo", "--find", "--json"]);
    assert_eq!(code, 0, "{healthy}");
    conforms(&healthy, &schema);
    let find = &healthy["find"];
    assert_eq!(find["model"], "study root");
    assert_eq!(find["matches"], 1);
    assert_eq!(find["required_seen"], true);
    assert_eq!(find["keys"][0]["PatientID"], "DEMO1");
    assert_eq!(find["query"]["QueryRetrieveLevel"], "STUDY");
    assert_eq!(find["status_hex"], "0x0000");
    assert!(find["timeline_ms"]["query"]
        .as_f64()
        .is_some_and(|t| t > 0.0));
    assert_eq!(
        find["timeline_ms"]["responses"].as_array().map(Vec::len),
        Some(2),
        "one pending, one final"
    );
    assert_eq!(
        (&healthy["result"], &healthy["echoes_sent"]),
        (&"healthy".into(), &0.into())
    );

    // The other fields are the echo's: the same names as an echo's report.
    let (_, echo, _) = run(&["demo", "--json"]);
    let mut names: Vec<&String> = healthy.as_object().unwrap().keys().collect();
    names.retain(|k| *k != "find");
    let mut echo_names: Vec<&String> = echo.as_object().unwrap().keys().collect();
    names.sort();
    echo_names.sort();
    assert_eq!(names, echo_names);
    assert!(echo.get("find").is_none(), "an echo's report has no find");
}
