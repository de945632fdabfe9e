//! The names of top-level processes, copies of a `count` included, are unique, checked
//! without naming every copy: a million copies of one entry cost one look-up, not a million
//! strings in a hash map (80 MB while loading, of which glibc kept 31 MB for the whole run:
//! more than the process table of RR-IO-v1 at 10^6 lacked of its target, issue #13).
//!
//! A copy's name is `{base}-{n}`, `n` in decimal from 1 to the count, so the last `-` of such
//! a name splits it into its base and its number: two copied entries collide if and only if
//! their bases are equal (both have a copy 1), and a single name collides with a copy if and
//! only if it splits into that entry's base and a number within its count.

use std::collections::HashMap;

use super::{ErrorKind, Scenario, ScenarioError};

/// Every top-level process's name, each copy of a `count` included, once. An `expect` block
/// names processes, so two with one name would make it check whichever came first.
///
/// The error is the one a pass over every copy's name, in order, would find first: the
/// first entry with a name made before, at its first such copy, and the entry that made it.
pub(crate) fn check_unique(s: &Scenario) -> Result<(), ScenarioError> {
    // The name of an entry of one process → the entry.
    let mut singles: HashMap<String, usize> = HashMap::new();
    // Those names that read as a copy's, `base-n`: base → (n, entry).
    let mut numbered: HashMap<String, Vec<(u64, usize)>> = HashMap::new();
    // The base of an entry of several copies → the entry.
    let mut bases: HashMap<&str, usize> = HashMap::new();
    for (i, e) in s.processes.iter().enumerate() {
        if e.count == 0 {
            continue;
        }
        if e.count == 1 {
            let name = s.top_level_name(i, 1);
            let earlier = singles.get(&name).copied().or_else(|| {
                let (base, n) = copy_number(&name)?;
                let &k = bases.get(base)?;
                (n <= s.processes[k].count).then_some(k)
            });
            if let Some(j) = earlier {
                return Err(collision(s, i, 1, j));
            }
            if let Some((base, n)) = copy_number(&name) {
                numbered.entry(base.to_owned()).or_default().push((n, i));
            }
            singles.insert(name, i);
            continue;
        }
        let base = base_of(s, i);
        // The first copy named before: copy 1 if an earlier entry has this base, or the
        // least number among the single names that read as this base's copies.
        let mut first = bases.get(base).map(|&k| (1, k));
        for &(n, j) in numbered.get(base).into_iter().flatten() {
            if n <= e.count && first.is_none_or(|(m, _)| n < m) {
                first = Some((n, j));
            }
        }
        if let Some((copy, j)) = first {
            return Err(collision(s, i, copy, j));
        }
        bases.insert(base, i);
    }
    Ok(())
}

/// The base of an entry of several copies: its copies are `{base}-1` … (as
/// [`Scenario::top_level_name`] makes them).
fn base_of(s: &Scenario, i: usize) -> &str {
    let e = &s.processes[i];
    e.name.as_deref().unwrap_or(&e.program)
}

/// `base-n` with `n` written as a copy's number is written (decimal, from 1, no leading
/// zero): the base and `n`.
fn copy_number(name: &str) -> Option<(&str, u64)> {
    let (base, digits) = name.rsplit_once('-')?;
    if digits.is_empty() || digits.starts_with('0') || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((base, digits.parse().ok()?))
}

/// Copy `copy` of entry `i` is named like a process of entry `j`, made before it.
fn collision(s: &Scenario, i: usize, copy: u64, j: usize) -> ScenarioError {
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
    ScenarioError::new(ErrorKind::Invalid, format!("processes[{i}]"), message)
}

/// The longest name, in bytes, that a process (top-level or made by `fork`, `spawn` or
/// `thread`), a program or a global may have. A name is copied into every row, event and
/// picture that shows its process, and a top-level name into each of its `count` copies: one
/// name of a million characters with `count: 4000` made a report of 4 GB of names, and
/// `--format html` peaked at 19.5 GB before its names ceiling stopped it. Default names are
/// not bounded by this: a child's spells out its ancestors' (`Process-1:1:…`), and the ceiling
/// on the names a held report keeps bounds those (`crate::sim::HELD_NAMES_CEILING`).
pub const MAX_NAME_BYTES: usize = 65_536;

/// Every name the scenario writes is at most [`MAX_NAME_BYTES`] long.
pub(crate) fn check_lengths(s: &Scenario) -> Result<(), ScenarioError> {
    let too_long = |path: String, what: &str, name: &str| {
        let start: String = name.chars().take(24).collect();
        ScenarioError::new(
            ErrorKind::Invalid,
            path,
            format!(
                "{what} `{start}…` is {} bytes long; a name may be at most {MAX_NAME_BYTES}",
                name.len()
            ),
        )
    };
    if let Some(name) = s.globals.keys().find(|n| n.len() > MAX_NAME_BYTES) {
        return Err(too_long("globals".into(), "the global", name));
    }
    if let Some(name) = s.programs.keys().find(|n| n.len() > MAX_NAME_BYTES) {
        return Err(too_long("programs".into(), "the program", name));
    }
    for (i, e) in s.processes.iter().enumerate() {
        if let Some(name) = e.name.as_deref().filter(|n| n.len() > MAX_NAME_BYTES) {
            return Err(too_long(format!("processes[{i}].name"), "the name", name));
        }
    }
    let mut first = None;
    for (program, p) in s.programs.iter() {
        let path = format!("programs.{program}.body");
        super::visit_spawns(&p.body, &path, true, &mut |path, spawn| {
            if first.is_none()
                && let Some(name) = spawn.name.as_deref().filter(|n| n.len() > MAX_NAME_BYTES)
            {
                first = Some(too_long(format!("{path}.name"), "the name", name));
            }
        });
        if let Some(e) = first {
            return Err(e);
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

    /// A name of [`super::MAX_NAME_BYTES`] passes; a byte more is refused where it is
    /// written, whether a process's, a child's, a program's or a global's.
    #[test]
    fn names_past_the_longest_are_refused_where_written() {
        let at = "n".repeat(super::MAX_NAME_BYTES);
        let past = "n".repeat(super::MAX_NAME_BYTES + 1);
        let scenario = |top: &str, child: &str, program: &str, global: &str| {
            format!(
                r#"{{"globals": {{"{global}": 1}}, "programs": {{"{program}": {{"body": [{{"repeat": {{"times": 1, "body": [{{"fork": {{"program": "{program}", "name": "{child}"}}}}]}}}}]}}}},
                "processes": [{{"program": "{program}", "name": "{top}"}}]}}"#
            )
        };
        assert!(Scenario::from_str(&scenario(&at, &at, &at, &at)).is_ok());
        for (text, path) in [
            (scenario(&past, "c", "w", "g"), "processes[0].name"),
            (
                scenario("t", &past, "w", "g"),
                "programs.w.body[0].repeat.body[0].fork.name",
            ),
            (scenario("t", "c", &past, "g"), "programs"),
            (scenario("t", "c", "w", &past), "globals"),
        ] {
            let e = Scenario::from_str(&text).unwrap_err().to_string();
            assert!(
                e.starts_with(&format!("<input>: {path}: "))
                    && e.contains("is 65537 bytes long; a name may be at most 65536"),
                "{e}"
            );
        }
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

    /// The check before this one: every copy's name in a hash map, in order. The check must
    /// give the same answer, the same error included, on every scenario.
    fn by_listing(s: &Scenario) -> Result<(), String> {
        let mut seen: std::collections::HashMap<String, usize> = Default::default();
        for (i, e) in s.processes.iter().enumerate() {
            for copy in 1..=e.count {
                if let Some(j) = seen.insert(s.top_level_name(i, copy), i) {
                    return Err(super::collision(s, i, copy, j).to_string());
                }
            }
        }
        Ok(())
    }

    #[test]
    fn agrees_with_naming_every_copy() {
        // Names chosen to collide every way: plain, like a copy of another, like a copy with
        // a leading zero or a number past the count, and bases that contain `-`.
        let names = [
            None,
            Some("w"),
            Some("w-1"),
            Some("w-2"),
            Some("w-3"),
            Some("w-01"),
            Some("w-0"),
            Some("w-1-1"),
            Some("a"),
            Some("a-2"),
            Some("w-"),
        ];
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        let (mut errors, mut fine) = (0, 0);
        for _ in 0..3000 {
            let entries: Vec<String> = (0..1 + next(5))
                .map(|_| {
                    let count = 1 + next(3);
                    match names[next(names.len() as u64) as usize] {
                        Some(n) => {
                            format!(r#"{{"program": "w", "name": "{n}", "count": {count}}}"#)
                        }
                        None => format!(r#"{{"program": "w", "count": {count}}}"#),
                    }
                })
                .collect();
            let text = format!(
                r#"{{"programs": {{"w": {{"body": []}}}}, "processes": [{}]}}"#,
                entries.join(",")
            );
            let s: Scenario = serde_json::from_str(&text).unwrap();
            let got = super::check_unique(&s).map_err(|e| e.to_string());
            assert_eq!(got, by_listing(&s), "{text}");
            if got.is_err() {
                errors += 1;
            } else {
                fine += 1;
            }
        }
        assert!(errors > 500 && fine > 500, "{errors} errors, {fine} fine");
    }
}
