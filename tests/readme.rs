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

/// The README's pictures, each with the command that the README gives for it (the output's
/// name changed to a file in a scratch folder). Every picture the README shows must be here.
const PICTURES: [(&str, &[&str]); 4] = [
    (
        "docs/demo-gantt.svg",
        &["run", "scenarios/demo.json", "--format", "svg"],
    ),
    (
        "docs/sweep-quantum.svg",
        &[
            "sweep",
            "scenarios/gen-12.json",
            "--set",
            "kernel.quantum=1,2,4,8,16,32,64",
            "--set",
            "kernel.context_switch=0,1,2",
            "--plot",
        ],
    ),
    (
        "docs/sweep-stallings.svg",
        &[
            "sweep",
            "scenarios/sched-stallings-fcfs.json",
            "--set",
            "kernel.policy=fcfs,rr,sjf,srtf,hrrn,mlfq,cfs,eevdf",
            "--plot",
        ],
    ),
    (
        "docs/sweep-policies.svg",
        &[
            "sweep",
            "scenarios/gen-12.json",
            "--set",
            "kernel.policy=rr,fcfs,sjf,srtf,priority,hrrn,mlfq,lottery,stride,cfs,eevdf",
            "--set",
            "kernel.context_switch=0,1",
            "--plot",
        ],
    ),
];

/// A picture kept in `docs/` goes stale silently when what draws it changes (the policies'
/// plot once showed a lottery schedule three rounds old); this remakes each one.
#[test]
fn every_picture_in_the_readme_is_what_its_command_draws() {
    let readme = include_str!("../README.md");
    let shown: Vec<&str> = readme
        .split("](docs/")
        .skip(1)
        .filter_map(|rest| rest.split(')').next())
        .filter(|name| name.ends_with(".svg"))
        .collect();
    for name in &shown {
        assert!(
            PICTURES
                .iter()
                .any(|(file, _)| *file == format!("docs/{name}")),
            "the README shows docs/{name}, which this test does not remake"
        );
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = std::env::temp_dir().join(format!("procsim-readme-pictures-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (file, args) in PICTURES {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_procsim"));
        cmd.args(args).current_dir(root);
        let made = if args.last() == Some(&"--plot") {
            let out = dir.join(std::path::Path::new(file).file_name().unwrap());
            let _ = std::fs::remove_file(&out);
            let o = cmd.arg(&out).output().unwrap();
            assert!(
                o.status.success(),
                "{file}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            std::fs::read(&out).unwrap()
        } else {
            let o = cmd.output().unwrap();
            assert!(
                o.status.success(),
                "{file}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            o.stdout
        };
        let kept = std::fs::read(root.join(file)).unwrap();
        assert!(
            made == kept,
            "{file} is not what `procsim {}` draws today: remake it (the README gives the command)",
            args.join(" ")
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
