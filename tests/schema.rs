//! The JSON Schema of scenario files accepts every shipped scenario and refuses the malformed
//! ones that a schema can see; the committed copy in `docs/` is up to date.

use std::path::PathBuf;

use serde_json::Value as Json;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn validator() -> jsonschema::Validator {
    jsonschema::validator_for(&procsim::scenario::json_schema()).expect("the schema is valid")
}

#[test]
fn every_scenario_in_scenarios_is_valid_against_the_schema() {
    let v = validator();
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 8);
    for f in files {
        let doc: Json = serde_json::from_slice(&std::fs::read(&f).unwrap()).unwrap();
        let errors: Vec<String> = v
            .iter_errors(&doc)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{}: {}", f.display(), errors.join("; "));
    }
}

#[test]
fn malformed_scenarios_are_refused_by_the_schema() {
    let v = validator();
    // The bad fixtures whose fault is one of shape or range, which a schema can express.
    for name in [
        "count-zero",
        "cpus-too-many",
        "cpus-zero",
        "fractional-number",
        "instruction-two-keys",
        "instruction-zero-keys",
        "join-unknown-field",
        "negative-number",
        "pid-max-too-large",
        "pid-max-too-small",
        "quantum-zero",
        "tick-order-not-permutation",
        "tick-order-unknown-group",
        "unknown-expect-summary-field",
        "unknown-field-expect",
        "unknown-field-kernel",
        "unknown-field-process",
        "unknown-field-program",
        "unknown-field-spawn",
        "unknown-field-top",
        "unknown-instruction",
        "wrong-type",
    ] {
        let path = root().join("tests/bad").join(format!("{name}.json"));
        let doc: Json = serde_json::from_slice(&std::fs::read(&path).unwrap())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!v.is_valid(&doc), "{name} should not be valid");
    }
}

#[test]
fn instructions_have_exactly_one_known_key() {
    let v = validator();
    let with = |instr: &str| -> Json {
        serde_json::from_str(&format!(
            r#"{{"programs": {{"m": {{"body": [{instr}]}}}}, "processes": [{{"program": "m"}}]}}"#
        ))
        .unwrap()
    };
    for ok in [
        r#"{"cpu": 3}"#,
        r#"{"cpu": "$n"}"#,
        r#"{"io": {"uniform": [1, 4]}}"#,
        r#"{"join": "w"}"#,
        r#"{"fork": {"as": "w", "program": "m", "args": [1, "x", [2]], "kwargs": {"b": 2}}}"#,
        r#"{"repeat": {"times": 2, "body": [{"cpu": 1}]}}"#,
        r#"{"wait": {}}"#,
    ] {
        assert!(v.is_valid(&with(ok)), "{ok}");
    }
    for bad in [
        r#"{"cpu": 3, "io": 1}"#,
        r#"{}"#,
        r#"{"cpuu": 3}"#,
        r#"{"cpu": 1.5}"#,
        r#"{"io": {"uniform": [1]}}"#,
        r#"{"fork": {"as": "w"}}"#,
        r#"{"join": 3}"#,
        r#""cpu""#,
    ] {
        assert!(!v.is_valid(&with(bad)), "{bad}");
    }
    // The editor hint is accepted by procsim too.
    let mut doc = with(r#"{"cpu": 1}"#);
    doc["$schema"] = "../docs/scenario.schema.json".into();
    assert!(v.is_valid(&doc));
    procsim::load_str(&doc.to_string()).unwrap();
}

#[test]
fn the_committed_schema_is_up_to_date() {
    let committed = std::fs::read_to_string(root().join("docs/scenario.schema.json"))
        .expect("docs/scenario.schema.json exists (procsim schema > docs/scenario.schema.json)");
    let current = serde_json::to_string_pretty(&procsim::scenario::json_schema()).unwrap() + "\n";
    assert!(
        committed == current,
        "docs/scenario.schema.json is stale: run `procsim schema > docs/scenario.schema.json`"
    );
}
