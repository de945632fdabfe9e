//! The names of top-level processes, copies of a `count` included, are unique (checked in one
//! pass through a hash map: 100,000 named processes cost 100,000 look-ups, not 10^10).

use std::collections::HashMap;

use super::{ErrorKind, Scenario, ScenarioError};

/// Every top-level process's name, each copy of a `count` included, once. An `expect` block
/// names processes, so two with one name would make it check whichever came first.
///
/// The caller has bounded the sum of the `count`s (by `max_processes`), so naming every copy
/// costs at most that many strings.
pub(crate) fn check_unique(s: &Scenario) -> Result<(), ScenarioError> {
    // Name → the entry that has it.
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (i, e) in s.processes.iter().enumerate() {
        for copy in 1..=e.count {
            let name = s.top_level_name(i, copy);
            if let Some(j) = seen.insert(name, i) {
                let name = s.top_level_name(i, copy);
                let how = |k: usize| {
                    let e = &s.processes[k];
                    if e.count > 1 {
                        format!(
                            "processes[{k}] (count {} names its copies `{}` … `{}`)",
                            e.count,
                            s.top_level_name(k, 1),
                            s.top_level_name(k, e.count)
                        )
                    } else {
                        format!("processes[{k}]")
                    }
                };
                let message = if j == i {
                    format!("two copies of {} are both named `{name}`", how(i))
                } else {
                    format!(
                        "two top-level processes are both named `{name}`: {} and {}; give each a distinct \"name\"",
                        how(j),
                        how(i)
                    )
                };
                return Err(ScenarioError::new(
                    ErrorKind::Invalid,
                    format!("processes[{i}]"),
                    message,
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::Scenario;

    fn err(processes: &str) -> String {
        let text = format!(r#"{{"programs": {{"w": {{"body": []}}}}, "processes": {processes}}}"#);
        Scenario::from_str(&text).unwrap_err().to_string()
    }

    #[test]
    fn a_copy_named_like_an_explicit_process_is_an_error() {
        let e = err(r#"[{"program": "w", "count": 3}, {"program": "w", "name": "w-2"}]"#);
        assert!(
            e.contains("processes[1]: two top-level processes are both named `w-2`: processes[0] (count 3 names its copies `w-1` … `w-3`) and processes[1]"),
            "{e}"
        );
        let e = err(r#"[{"program": "w", "name": "w-2"}, {"program": "w", "count": 3}]"#);
        assert!(e.contains("both named `w-2`"), "{e}");
        let e = err(r#"[{"program": "w"}, {"program": "w"}]"#);
        assert!(
            e.contains("processes[1]: two top-level processes are both named `w`"),
            "{e}"
        );
    }

    #[test]
    fn many_distinct_names_pass() {
        let entries: Vec<String> = (0..2000)
            .map(|i| format!(r#"{{"program": "w", "name": "n{i}"}}"#))
            .collect();
        let text = format!(
            r#"{{"programs": {{"w": {{"body": []}}}}, "processes": [{}]}}"#,
            entries.join(",")
        );
        Scenario::from_str(&text).unwrap();
    }
}
