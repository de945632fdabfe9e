//! The settings of a sweep and its other arguments: `--set PATH=V1,V2,…`, `--seeds`, `--shard`,
//! and how a setting's value is put into a scenario's document.

use serde_json::{Map, Value as Json};

use super::SweepError;

/// One setting: a JSON path in the scenario (or `gen.NAME`) and the values it takes.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    /// `kernel.quantum`, `processes[0].arrival`, `gen.cpu_bound`, …
    pub path: String,
    /// The values, in the order given.
    pub values: Vec<Json>,
}

impl Setting {
    /// Parses `PATH=V1,V2,…`. Each value is read as JSON when it is JSON (`4`, `true`,
    /// `"x"`, `["wake","admit","preempt"]`), else as a string (`posix`); `A..B` between two
    /// integers stands for every integer from A to B included. Commas inside brackets or
    /// quotes do not split values.
    ///
    /// ```
    /// use procsim::study::sweep::Setting;
    /// let s = Setting::parse("kernel.quantum=1..3,8").unwrap();
    /// assert_eq!(s.path, "kernel.quantum");
    /// assert_eq!(s.values, [1, 2, 3, 8].map(|v| serde_json::json!(v)));
    /// ```
    pub fn parse(arg: &str) -> Result<Setting, SweepError> {
        let bad = |reason: &str| SweepError::Setting {
            arg: arg.to_owned(),
            reason: reason.to_owned(),
        };
        let (path, list) = arg
            .split_once('=')
            .ok_or_else(|| bad("expected PATH=VALUE[,VALUE…], such as kernel.quantum=1,2,4"))?;
        let path = path.trim();
        if path.is_empty() {
            return Err(bad("the path before `=` is empty"));
        }
        let mut values = Vec::new();
        for item in split_top_level(list) {
            let item = item.trim();
            if item.is_empty() {
                return Err(bad(
                    "an empty value (two commas in a row, or a comma at an end)",
                ));
            }
            if let Some((a, b)) = item.split_once("..")
                && let (Ok(a), Ok(b)) = (a.trim().parse::<i64>(), b.trim().parse::<i64>())
            {
                if a > b {
                    return Err(bad(&format!("the range {item} is empty")));
                }
                if b - a >= 100_000 {
                    return Err(bad(&format!(
                        "the range {item} has more than 100000 values"
                    )));
                }
                values.extend((a..=b).map(Json::from));
                continue;
            }
            values.push(serde_json::from_str(item).unwrap_or_else(|_| Json::from(item)));
        }
        Ok(Setting {
            path: path.to_owned(),
            values,
        })
    }

    /// Whether this setting is a generator parameter (`gen.NAME`).
    pub fn is_gen(&self) -> bool {
        self.path.starts_with("gen.")
    }
}

/// Splits at commas that are not inside brackets, braces or a string.
fn split_top_level(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut in_str, mut escaped, mut start) = (0i32, false, false, 0);
    for (i, c) in s.char_indices() {
        if in_str {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_str = true,
            '[' | '{' => depth += 1,
            ']' | '}' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

/// Parses `--seeds`: `A..B` (both included, as in the shell's `{A..B}`), `A..=B`, or a list
/// `1,5,9` (lists and ranges can be mixed).
///
/// ```
/// assert_eq!(procsim::study::sweep::parse_seeds("1..3,10").unwrap(), [1, 2, 3, 10]);
/// ```
pub fn parse_seeds(arg: &str) -> Result<Vec<u64>, SweepError> {
    let bad = |why: String| SweepError::Usage(format!("--seeds {arg}: {why}"));
    let mut seeds = Vec::new();
    for item in arg.split(',') {
        let item = item.trim();
        let num = |s: &str| {
            s.trim()
                .parse::<u64>()
                .map_err(|_| bad(format!("`{s}` is not a seed (a whole number ≥ 0)")))
        };
        if let Some((a, b)) = item.split_once("..") {
            let (a, b) = (num(a)?, num(b.strip_prefix('=').unwrap_or(b))?);
            if a > b {
                return Err(bad(format!("the range {item} is empty")));
            }
            if b - a >= 10_000_000 {
                return Err(bad(format!("the range {item} is too large")));
            }
            seeds.extend(a..=b);
        } else {
            seeds.push(num(item)?);
        }
    }
    Ok(seeds)
}

/// Parses `--shard I/N`: the I-th (from 1) of N slices.
///
/// ```
/// assert_eq!(procsim::study::sweep::parse_shard("2/4").unwrap(), (2, 4));
/// assert!(procsim::study::sweep::parse_shard("0/4").is_err());
/// ```
pub fn parse_shard(arg: &str) -> Result<(usize, usize), SweepError> {
    let bad = || {
        SweepError::Usage(format!(
            "--shard {arg}: expected I/N with 1 ≤ I ≤ N, such as 1/4 (the first of 4 slices)"
        ))
    };
    let (i, n) = arg.split_once('/').ok_or_else(bad)?;
    let (i, n) = (
        i.trim().parse::<usize>().map_err(|_| bad())?,
        n.trim().parse::<usize>().map_err(|_| bad())?,
    );
    if n == 0 || i == 0 || i > n {
        return Err(bad());
    }
    Ok((i, n))
}

/// Sets `path` (dots, and `[i]` or `.i` for array items) in `doc` to `value`, creating objects
/// on the way where keys are missing.
pub(super) fn set_path(doc: &mut Json, path: &str, value: Json) -> Result<(), String> {
    let normal = path.replace('[', ".").replace(']', "");
    let parts: Vec<&str> = normal.split('.').filter(|p| !p.is_empty()).collect();
    if parts.is_empty() {
        return Err("empty path".into());
    }
    let mut cur = doc;
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        let here = parts[..i].join(".");
        let place = if here.is_empty() {
            "the top level".to_owned()
        } else {
            format!("`{here}`")
        };
        cur = match cur {
            Json::Object(map) => {
                if last {
                    map.insert((*part).to_owned(), value);
                    return Ok(());
                }
                map.entry((*part).to_owned())
                    .or_insert_with(|| Json::Object(Map::new()))
            }
            Json::Array(items) => {
                let len = items.len();
                let idx: usize = part
                    .parse()
                    .map_err(|_| format!("{place} is a list: `{part}` is not an index"))?;
                let slot = items
                    .get_mut(idx)
                    .ok_or_else(|| format!("{place} has {len} items, no index {idx}"))?;
                if last {
                    *slot = value;
                    return Ok(());
                }
                slot
            }
            other => {
                let kind = match other {
                    Json::Null => "null",
                    Json::Bool(_) => "a boolean",
                    Json::Number(_) => "a number",
                    Json::String(_) => "a string",
                    _ => "a value",
                };
                return Err(format!("{place} is {kind}, not an object or a list"));
            }
        };
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn settings_parse_values_and_paths() {
        let s = Setting::parse(
            r#"kernel.tick_order=["wake","admit","preempt"],["admit","wake","preempt"]"#,
        )
        .unwrap();
        assert_eq!(s.values.len(), 2);
        let s = Setting::parse("kernel.exit_policy=posix,multiprocessing").unwrap();
        assert_eq!(s.values, [json!("posix"), json!("multiprocessing")]);
        assert!(Setting::parse("kernel.quantum").is_err());
        assert!(Setting::parse("kernel.quantum=1,,2").is_err());
        assert!(Setting::parse("kernel.quantum=5..1").is_err());

        let mut doc = json!({"processes": [{"program": "m"}]});
        set_path(&mut doc, "kernel.quantum", json!(3)).unwrap();
        set_path(&mut doc, "processes[0].arrival", json!(2)).unwrap();
        assert_eq!(
            doc,
            json!({"kernel": {"quantum": 3}, "processes": [{"program": "m", "arrival": 2}]})
        );
        assert!(
            set_path(&mut doc, "processes[3].arrival", json!(2))
                .unwrap_err()
                .contains("has 1 items")
        );
        assert!(
            set_path(&mut doc, "kernel.quantum.x", json!(2))
                .unwrap_err()
                .contains("is a number")
        );
    }
}
