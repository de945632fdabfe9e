//! Folding long values for a terminal: a list of ten thousand names on one line hides what
//! follows it, so a value longer than a line shows its start and says how much is left out
//! (`--format json` always has everything).

/// The most characters a folded value keeps before it says what it left out.
pub const FOLD_AT: usize = 96;

/// `text` as it is when it fits in [`FOLD_AT`] characters; else its start and what was left
/// out. A list written `[a | b | c]` keeps whole items and counts the rest
/// (`[a | b | … and 9,998 more of 10,000]`); any other text keeps its first characters and
/// counts them (`abc… (17,000 characters)`).
pub fn fold(text: &str) -> String {
    let n = text.chars().count();
    if n <= FOLD_AT {
        return text.to_owned();
    }
    if let Some(items) = list_items(text) {
        let mut out = String::from("[");
        let mut kept = 0;
        for item in &items {
            let more = item.chars().count() + if kept == 0 { 0 } else { 3 };
            if out.chars().count() + more > FOLD_AT - 24 {
                break;
            }
            if kept > 0 {
                out.push_str(" | ");
            }
            out.push_str(item);
            kept += 1;
        }
        let sep = if kept == 0 { "" } else { " | " };
        return format!(
            "{out}{sep}… and {} more of {}]",
            group(items.len() - kept),
            group(items.len())
        );
    }
    let head: String = text.chars().take(FOLD_AT - 24).collect();
    format!("{head}… ({} characters)", group(n))
}

/// Where two values written as lists first differ: `item 5 of 10,000: `x` vs `y``, or
/// `None` if either is not a list or they do not differ item by item.
pub fn first_difference(a: &str, b: &str) -> Option<String> {
    let (xs, ys) = (list_items(a)?, list_items(b)?);
    let total = xs.len().max(ys.len());
    let i = (0..total).find(|&i| xs.get(i) != ys.get(i))?;
    let show = |v: Option<&&str>| v.map_or_else(|| "(none)".to_owned(), |s| fold(s));
    Some(format!(
        "first difference at item {} of {} (sim) and {} (fork): sim {}, fork {}",
        group(i + 1),
        group(xs.len()),
        group(ys.len()),
        show(xs.get(i)),
        show(ys.get(i))
    ))
}

/// The items of a value written `[a | b | c]` (`[]` has none).
fn list_items(text: &str) -> Option<Vec<&str>> {
    let inner = text.strip_prefix('[')?.strip_suffix(']')?;
    if inner.is_empty() {
        return Some(Vec::new());
    }
    Some(inner.split(" | ").collect())
}

/// `17000` as `17,000`.
fn group(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_values_stay_whole() {
        assert_eq!(fold("[a | b]"), "[a | b]");
        assert_eq!(fold(""), "");
    }

    #[test]
    fn a_long_list_keeps_whole_items_and_counts_the_rest() {
        let names: Vec<String> = (1..=1000).map(|i| format!("P-{i}")).collect();
        let text = format!("[{}]", names.join(" | "));
        let folded = fold(&text);
        assert!(folded.chars().count() <= FOLD_AT, "{folded}");
        assert!(folded.starts_with("[P-1 | P-2 | "), "{folded}");
        let kept = folded.matches(" | ").count();
        assert!(
            folded.ends_with(&format!("… and {} more of 1,000]", group(1000 - kept))),
            "{folded}"
        );
    }

    #[test]
    fn other_long_text_is_cut_and_counted() {
        let text = "x".repeat(17_000);
        let folded = fold(&text);
        assert_eq!(folded, format!("{}… (17,000 characters)", "x".repeat(72)));
    }

    #[test]
    fn the_first_difference_is_named() {
        let a = "[a | b | c]";
        let b = "[a | x | c | d]";
        assert_eq!(
            first_difference(a, b).unwrap(),
            "first difference at item 2 of 3 (sim) and 4 (fork): sim b, fork x"
        );
        assert_eq!(first_difference(a, a), None);
        assert_eq!(first_difference("{}", a), None);
    }

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(group(7), "7");
        assert_eq!(group(1000), "1,000");
        assert_eq!(group(1_234_567), "1,234,567");
    }
}
