//! `--json` against its documentation: README's "JSON output" tables (every field with its type and when it is null;
//! every `result` with its exit code) checked against the binary's real output, and against the exit-code table.
//! Every peer is echoprobe's own demo SCP or a closed port on 127.0.0.1.

mod common;

use std::collections::BTreeMap;

use common::json::{run, type_ok};
use serde_json::Value;

/// One documented field: its type and whether it may be null.
#[derive(Debug)]
struct Field {
    ty: String,
    nullable: bool,
}

/// README's "JSON output" section.
fn section() -> String {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("read README.md");
    let start = readme
        .find("### JSON output\n")
        .expect("README has a section JSON output");
    let rest = &readme[start + 4..];
    let end = rest.find("\n#").map_or(rest.len(), |e| e + 1);
    rest[..end].to_string()
}

/// The rows (cells without backticks) of the table whose header starts with `header`.
fn table(section: &str, header: &str) -> Vec<Vec<String>> {
    let mut lines = section.lines().skip_while(|l| !l.starts_with(header));
    assert!(lines.next().is_some(), "no table {header}");
    assert!(lines.next().is_some_and(|l| l.starts_with("|---")));
    lines
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            l.trim_matches('|')
                .split(" | ")
                .map(|c| c.trim().replace('`', ""))
                .collect()
        })
        .collect()
}

/// The field table: dotted path -> field.
fn schema() -> BTreeMap<String, Field> {
    let mut fields = BTreeMap::new();
    for row in table(&section(), "| field | type | null when |") {
        let ty = row[1].clone();
        assert!(
            [
                "string",
                "integer",
                "number",
                "boolean",
                "object",
                "array of number"
            ]
            .contains(&ty.as_str()),
            "{row:?}"
        );
        let field = Field {
            ty,
            nullable: row[2] != "never",
        };
        assert!(fields.insert(row[0].clone(), field).is_none(), "{row:?}");
    }
    fields
}

/// Every key of `v` (objects inside too) is documented, every documented field is there with its type or null.
fn conforms(v: &Value, schema: &BTreeMap<String, Field>, what: &str) {
    fn walk(prefix: &str, v: &Value, schema: &BTreeMap<String, Field>, what: &str) {
        let Some(obj) = v.as_object() else { return };
        for (k, v) in obj {
            let path = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            assert!(
                schema.contains_key(&path),
                "{what}: undocumented field {path}"
            );
            walk(&path, v, schema, what);
        }
    }
    walk("", v, schema, what);
    for (path, field) in schema {
        let (parent, key) = match path.rsplit_once('.') {
            Some((p, k)) => (v.pointer(&format!("/{}", p.replace('.', "/"))), k),
            None => (Some(v), path.as_str()),
        };
        // The fields of an object that is null are not there.
        let Some(parent) = parent.filter(|p| !p.is_null()) else {
            continue;
        };
        let value = parent
            .get(key)
            .unwrap_or_else(|| panic!("{what}: no field {path}"));
        if value.is_null() {
            assert!(field.nullable, "{what}: {path} is null");
        } else {
            assert!(
                type_ok(&field.ty, value),
                "{what}: {path} is not a {}: {value}",
                field.ty
            );
        }
    }
}

fn closed_port() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port().to_string()
}

#[test]
fn output_matches_the_documented_schema() {
    let schema = schema();
    let echoes = |v: &Value| v["timeline_ms"]["echoes"].as_array().unwrap().len() as u64;

    // Healthy, three echoes.
    let (code, healthy, _) = run(&["demo", "--json", "--repeat", "3"]);
    assert_eq!(code, 0);
    conforms(&healthy, &schema, "healthy");
    assert_eq!(
        (&healthy["result"], &healthy["healthy"]),
        (&"healthy".into(), &true.into())
    );
    assert_eq!(
        (healthy["echoes_answered"].as_u64(), echoes(&healthy)),
        (Some(3), 3)
    );
    assert_eq!(healthy["dimse_status_hex"], "0x0000");
    let rtt = &healthy["rtt_ms"];
    assert!(
        rtt["min"].as_f64() <= rtt["avg"].as_f64() && rtt["avg"].as_f64() <= rtt["max"].as_f64()
    );
    let timeline = &healthy["timeline_ms"];
    for phase in ["connect", "associate", "release"] {
        assert!(
            timeline[phase].as_f64().is_some_and(|t| t > 0.0),
            "{timeline}"
        );
    }
    assert!(timeline["tls"].is_null());
    let ts = healthy["timestamp"].as_str().unwrap();
    assert!(
        ts.len() == 24 && ts.ends_with('Z') && ts.as_bytes()[10] == b'T',
        "{ts}"
    );

    // The same with a TLS session, as a TLS check reports it.
    let mut over_tls = healthy.clone();
    over_tls["tls"] = serde_json::to_value(echoprobe::report::Tls {
        version: "TLS 1.3".into(),
        cipher_suite: "TLS13_AES_256_GCM_SHA384".into(),
        peer_certificates: 2,
    })
    .unwrap();
    over_tls["timeline_ms"]["tls"] = 1.5.into();
    conforms(&over_tls, &schema, "healthy over TLS");

    // A failure status: a round trip all the same.
    let (code, failed, _) = run(&["demo", "--json", "--status", "0x0110"]);
    assert_eq!(code, 68);
    conforms(&failed, &schema, "failure status");
    assert_eq!(failed["result"], "failure-status");
    assert_eq!(
        (&failed["dimse_status"], &failed["dimse_status_hex"]),
        (&272.into(), &"0x0110".into())
    );
    assert_eq!(
        (
            failed["echoes_answered"].as_u64(),
            failed["echoes_ok"].as_u64()
        ),
        (Some(1), Some(0))
    );
    assert!(
        failed["rtt_ms"]["max"].as_f64().is_some_and(|t| t > 0.0),
        "{failed}"
    );
    assert_eq!(echoes(&failed), 1);

    // Refused: no round trip, so no rtt (not zeros).
    let port = closed_port();
    let (code, refused, _) = run(&["--json", "127.0.0.1", &port]);
    assert_eq!(code, 63);
    conforms(&refused, &schema, "refused");
    assert_eq!(refused["result"], "unreachable");
    assert!(refused["rtt_ms"].is_null() && refused["dimse_status"].is_null());
    assert!(refused["timeline_ms"]["connect"].is_null());
    assert_eq!(echoes(&refused), 0);

    // Our TLS files missing: 84, before connecting.
    let (code, files, _) = run(&[
        "--json",
        "+tls",
        "/nonexistent/k.pem",
        "/nonexistent/c.pem",
        "-ic",
        "127.0.0.1",
        &port,
    ]);
    assert_eq!(code, 84);
    conforms(&files, &schema, "TLS files");
    assert_eq!(files["result"], "tls-local-files");

    // Usage errors: the message is stderr's, what is not known is null.
    for args in [
        &["--json", "--bogus"][..],
        &["--json", "-to", "x", "127.0.0.1", "104"],
        &["--json"],
    ] {
        let (code, usage, err) = run(args);
        assert_eq!(code, 1, "{args:?}");
        conforms(&usage, &schema, "usage");
        assert_eq!(usage["result"], "usage");
        assert_eq!(usage["exit_code"], 1);
        assert_eq!(
            format!("echoprobe: {}\n", usage["message"].as_str().unwrap()),
            err
        );
        assert!(usage["peer"].is_null() && usage["total_ms"].is_null());
    }
}

/// Every `result` the code can produce (the exit-code table) is documented with its exit code, and nothing else.
#[test]
fn every_result_is_documented() {
    let mut documented: Vec<(String, u8)> = table(&section(), "| result | exit code |")
        .into_iter()
        .map(|r| (r[0].clone(), r[1].parse().expect("exit code")))
        .collect();
    let mut table: Vec<(String, u8)> = echoprobe::exit::ROWS
        .iter()
        .map(|r| (r.result.to_string(), r.code))
        .collect();
    documented.sort();
    table.sort();
    assert_eq!(documented, table);
}
