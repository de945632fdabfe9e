//! The process tree a run made, as Graphviz DOT (petgraph).

use petgraph::dot::{Config, Dot};
use petgraph::graph::{DiGraph, NodeIndex};

use super::Report;
use super::text::escape;

/// `s` as the inside of a DOT quoted string: control characters escaped as text (so a label
/// shows `\x1b`, never a raw byte), then `\` and `"`, so a name can neither close the label
/// nor start an escape Graphviz would interpret.
fn dot_escaped(s: &str) -> String {
    escape(s).replace('\\', "\\\\").replace('"', "\\\"")
}

/// The process tree of a finished run: init at the root, an edge from each parent to each
/// child (dashed where init adopted an orphan), each node labelled with name, pid and exit code.
///
/// ```
/// let plan = procsim::load_str(r#"{"programs": {"m": {"body": [
///     {"fork": {"as": "w", "program": "c"}}, {"join": "w"}]}, "c": {"body": []}},
///     "processes": [{"program": "m"}]}"#).unwrap();
/// let dot = procsim::report::tree_dot(&procsim::Sim::new(plan, Default::default()).run());
/// assert!(dot.contains("MainProcess"));
/// assert!(dot.contains("Process-1"));
/// ```
pub fn tree_dot(report: &Report) -> String {
    let mut g: DiGraph<String, &'static str> = DiGraph::new();
    let init = g.add_node("init\\npid 1".to_owned());
    let nodes: Vec<NodeIndex> = report
        .processes
        .iter()
        .map(|p| {
            let status = match (&p.signal, p.exitcode) {
                (Some(sig), Some(code)) => format!("exit {code} ({sig})"),
                (None, Some(code)) => format!("exit {code}"),
                (_, None) => "did not end".to_owned(),
            };
            let daemon = if p.daemon { ", daemon" } else { "" };
            g.add_node(format!(
                "{}\\npid {}{daemon}\\n{status}",
                dot_escaped(&p.name),
                p.pid
            ))
        })
        .collect();
    for (i, p) in report.processes.iter().enumerate() {
        match (p.creator, p.ppid) {
            (None, _) => {
                g.add_edge(init, nodes[i], "child");
            }
            (Some(c), 1) => {
                g.add_edge(nodes[c as usize], nodes[i], "created");
                g.add_edge(init, nodes[i], "adopted");
            }
            (Some(c), _) => {
                g.add_edge(nodes[c as usize], nodes[i], "child");
            }
        }
    }
    let dot = Dot::with_attr_getters(
        &g,
        &[Config::EdgeNoLabel, Config::NodeNoLabel],
        &|_, e| match *e.weight() {
            "adopted" => "style = dashed, label = \"adopted\"".to_owned(),
            "created" => "style = dotted, label = \"created\"".to_owned(),
            _ => String::new(),
        },
        &|_, (_, label)| format!("label = \"{label}\" shape = box"),
    );
    format!("{dot:?}")
}

#[cfg(test)]
mod tests {
    use super::dot_escaped;

    #[test]
    fn labels_cannot_close_the_string() {
        assert_eq!(dot_escaped(r#"a\"b"#), r#"a\\\"b"#);
        assert_eq!(dot_escaped("x\ny"), r"x\\ny");
        assert_eq!(dot_escaped(r#"\""#), r#"\\\""#);
    }
}
