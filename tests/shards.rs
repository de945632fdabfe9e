//! The README's sweep across machines holds: the `procsim` line of its Slurm array job and of
//! its Kubernetes Indexed Job, run for each index in turn (the variable replaced by the value
//! the scheduler would give), write parts that, concatenated in order, are the whole sweep's
//! output.

use std::path::Path;
use std::process::Command;

/// The `procsim sweep` line of the README's fenced block of `lang` (`sh` or `yaml`) that names
/// `var`.
fn line_of(lang: &str, var: &str) -> String {
    let readme = include_str!("../README.md");
    let mut in_block = false;
    for line in readme.lines() {
        if line.starts_with("```") {
            in_block = line == format!("```{lang}");
            continue;
        }
        let text = line.trim_start().trim_start_matches("- ");
        if in_block && text.starts_with("procsim sweep") && text.contains(var) {
            return text.to_owned();
        }
    }
    panic!("no procsim line with {var} in a {lang} block of the README");
}

fn run(args: &[String], dir: &Path) -> Vec<u8> {
    let o = Command::new(env!("CARGO_BIN_EXE_procsim"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o.stdout
}

/// Runs `line` for each of the `n` shards, `expression` (the scheduler's variable) standing for
/// the shard's number and `volume` for a directory of the test's, and checks that the parts,
/// concatenated, are the output of the same line without `--shard` and `-o`.
fn check(line: &str, expression: &str, n: usize, volume: &str, name: &str) {
    let dir = std::env::temp_dir().join(format!("procsim-shards-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("out")).unwrap();
    let mut joined = Vec::new();
    for shard in 1..=n {
        let text = line
            .replace(expression, &shard.to_string())
            .replace(volume, "out/");
        let args: Vec<String> = text.split_whitespace().skip(1).map(String::from).collect();
        assert!(args.contains(&format!("{shard}/{n}")), "{text}");
        run(&args, &dir);
        let part = &args[args.iter().position(|a| a == "-o").unwrap() + 1];
        joined.extend(std::fs::read(dir.join(part)).unwrap());
    }
    let mut whole: Vec<String> = Vec::new();
    let line_one = line.replace(expression, "1");
    let mut words = line_one.split_whitespace().skip(1);
    while let Some(w) = words.next() {
        if w == "--shard" || w == "-o" {
            words.next();
        } else {
            whole.push(w.to_owned());
        }
    }
    let expected = run(&whole, &dir);
    // 8 quanta × 20 seeds, and the header.
    assert_eq!(expected.iter().filter(|&&b| b == b'\n').count(), 161);
    assert!(
        joined == expected,
        "{line}: the parts differ from the whole sweep"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_slurm_array_job_of_the_readme_makes_the_whole_sweep() {
    let line = line_of("sh", "$SLURM_ARRAY_TASK_ID");
    check(&line, "$SLURM_ARRAY_TASK_ID", 4, "/out/", "slurm");
}

#[test]
fn the_kubernetes_indexed_job_of_the_readme_makes_the_whole_sweep() {
    let line = line_of("yaml", "JOB_COMPLETION_INDEX");
    check(&line, "$((JOB_COMPLETION_INDEX + 1))", 4, "/out/", "k8s");
}
