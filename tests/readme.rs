//! The README's examples are real: every `console` block's commands run through the binary,
//! and the lines shown must be what it prints (in order; `…` stands for lines left out).

use std::process::Command;

struct Example {
    args: Vec<String>,
    merge_stderr: bool,
    expected: Vec<String>,
}

fn examples() -> Vec<Example> {
    let readme = include_str!("../README.md");
    let mut out = Vec::new();
    let mut in_block = false;
    for line in readme.lines() {
        if line.starts_with("```console") {
            in_block = true;
            continue;
        }
        if in_block && line.starts_with("```") {
            in_block = false;
            continue;
        }
        if !in_block {
            continue;
        }
        if let Some(cmd) = line.strip_prefix("$ procsim") {
            let mut args: Vec<String> = cmd.split_whitespace().map(String::from).collect();
            let merge_stderr = args.last().is_some_and(|a| a == "2>&1");
            if merge_stderr {
                args.pop();
            }
            out.push(Example {
                args,
                merge_stderr,
                expected: Vec::new(),
            });
        } else if let Some(ex) = out.last_mut() {
            ex.expected.push(line.to_owned());
        }
    }
    out
}

#[test]
fn every_console_example_in_the_readme_is_what_procsim_prints() {
    let examples = examples();
    assert!(
        examples.len() >= 8,
        "found only {} examples",
        examples.len()
    );
    for ex in examples {
        let o = Command::new(env!("CARGO_BIN_EXE_procsim"))
            .args(&ex.args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap();
        let mut text = String::from_utf8_lossy(&o.stdout).into_owned();
        if ex.merge_stderr {
            text.push_str(&String::from_utf8_lossy(&o.stderr));
        }
        let actual: Vec<&str> = text.lines().collect();
        let elided = ex.expected.iter().any(|l| l == "…");
        if !elided {
            assert_eq!(
                actual,
                ex.expected.iter().map(String::as_str).collect::<Vec<_>>(),
                "procsim {}",
                ex.args.join(" ")
            );
            continue;
        }
        // Every shown line appears, in order.
        let mut rest = actual.iter();
        for want in ex.expected.iter().filter(|l| *l != "…") {
            assert!(
                rest.any(|got| got == want),
                "procsim {}: line not found (in order): {want:?}\n{text}",
                ex.args.join(" ")
            );
        }
    }
}

#[test]
fn every_json_scenario_in_the_readme_is_valid_and_meets_its_expectations() {
    let readme = include_str!("../README.md");
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in readme.lines() {
        match &mut current {
            None if line.starts_with("```json") => current = Some(String::new()),
            Some(text) if line.starts_with("```") => {
                blocks.push(std::mem::take(text));
                current = None;
            }
            Some(text) => {
                text.push_str(line);
                text.push('\n');
            }
            None => {}
        }
    }
    assert!(!blocks.is_empty());
    for text in blocks {
        let scenario = procsim::Scenario::from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        let plan = procsim::load_str(&text).unwrap();
        let report = procsim::Sim::new(plan, procsim::SimOptions::default()).run();
        if let Some(expect) = &scenario.expect {
            let misses = procsim::study::check::check(expect, &report);
            assert!(misses.is_empty(), "{misses:?}\n{text}");
        }
    }
}
