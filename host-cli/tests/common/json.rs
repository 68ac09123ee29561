//! Running the binary for one `--json` object, and the types README "JSON output" names.

use std::process::Command;

use serde_json::Value;

/// Runs the binary: its exit code, the one JSON object on stdout (the demo's SCP writes its own lines there too;
/// the report is the one line that is a JSON object), and stderr.
pub(crate) fn run(args: &[&str]) -> (i32, Value, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_echoprobe"))
        .args(args)
        .output()
        .expect("run echoprobe");
    let stdout = String::from_utf8(out.stdout).expect("utf-8");
    let objects: Vec<&str> = stdout.lines().filter(|l| l.starts_with('{')).collect();
    assert_eq!(objects.len(), 1, "{args:?}: {stdout}");
    let v: Value = serde_json::from_str(objects[0]).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    (
        out.status.code().expect("exit code"),
        v,
        String::from_utf8(out.stderr).expect("utf-8"),
    )
}

/// Whether `v` has the README's type `ty`; a type the README should not name panics.
pub(crate) fn type_ok(ty: &str, v: &Value) -> bool {
    match ty {
        "string" => v.is_string(),
        "integer" => v.is_u64() || v.is_i64(),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        "object" => v.is_object(),
        "array of number" => v.as_array().is_some_and(|a| a.iter().all(Value::is_number)),
        "array of object" => v.as_array().is_some_and(|a| a.iter().all(Value::is_object)),
        other => panic!("README names an unknown type {other}"),
    }
}
