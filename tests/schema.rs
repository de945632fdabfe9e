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

/// `expect.sim`'s report fields: the schema takes a value exactly when loading the scenario
/// does (one table, `kind_of` in src/scenario/expect.rs, gives both), so an editor that checks
/// against the schema never passes a file that procsim refuses, nor the other way round.
#[test]
fn expect_field_types_in_the_schema_are_those_procsim_checks() {
    let v = validator();
    let values = [
        "null", "0", "3", "3.0", "3.5", "-1", "\"x\"", "true", "[]", "{}",
    ];
    let mut checked = 0;
    for (section, fields) in [
        ("summary", procsim::report::SUMMARY_FIELDS),
        ("processes", procsim::report::PROCESS_FIELDS),
    ] {
        for field in fields {
            for value in values {
                let expect = if section == "summary" {
                    format!(r#"{{"summary": {{"{field}": {value}}}}}"#)
                } else {
                    format!(r#"{{"processes": {{"MainProcess": {{"{field}": {value}}}}}}}"#)
                };
                let text = format!(
                    r#"{{"programs": {{"m": {{"body": [{{"cpu": 3}}]}}}},
                        "processes": [{{"program": "m", "name": "MainProcess"}}],
                        "expect": {{"sim": {expect}}}}}"#
                );
                let doc: Json = serde_json::from_str(&text).unwrap();
                let schema_ok = v.is_valid(&doc);
                let load = procsim::load_str(&text);
                assert_eq!(
                    schema_ok,
                    load.is_ok(),
                    "{section}.{field} = {value}: schema {schema_ok}, procsim {:?}",
                    load.err().map(|e| e.to_string())
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 300, "{checked}");
}
