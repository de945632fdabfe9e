//! The five process states and the one graph that says which transitions are legal.
//!
//! Both backends report transitions as `(from, to, cause)` triples; [`StateGraph::is_legal`]
//! is the single place that decides whether such a triple may happen, so a bug in either
//! backend shows up as a transition that is not an edge of this graph.

use std::fmt;

use petgraph::dot::{Config, Dot};
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use serde::{Deserialize, Serialize};

/// The state of a process, as in every operating-systems textbook.
///
/// ```
/// use procsim::State;
/// assert_eq!(State::Ready.to_string(), "ready");
/// assert!(State::Terminated.is_final());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Created, not yet admitted: its arrival tick has not come, or its parent has not run
    /// `start`.
    New,
    /// Waiting in the ready queue for a CPU.
    Ready,
    /// On a CPU.
    Running,
    /// Waiting for I/O, a timer or a child.
    Blocked,
    /// Ended; a zombie until its parent (or init) reaps it.
    Terminated,
}

impl State {
    /// All five states, in lifecycle order.
    pub const ALL: [State; 5] = [
        State::New,
        State::Ready,
        State::Running,
        State::Blocked,
        State::Terminated,
    ];

    /// The lowercase name used in reports and scenario files.
    pub fn name(self) -> &'static str {
        match self {
            State::New => "new",
            State::Ready => "ready",
            State::Running => "running",
            State::Blocked => "blocked",
            State::Terminated => "terminated",
        }
    }

    /// Nothing leaves `terminated`.
    pub fn is_final(self) -> bool {
        self == State::Terminated
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a transition happened (SPEC section 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Cause {
    /// `new → ready`: the arrival tick was reached, or the parent ran `start`.
    Admit,
    /// `ready → running`: a CPU took the process.
    Dispatch,
    /// `running → ready`: the time slice ran out while another process was ready.
    Preempt,
    /// `running → blocked` on an `io` instruction.
    Io,
    /// `running → blocked` on a `sleep` instruction.
    Sleep,
    /// `running → blocked` waiting for one child (`join`, or the exit policy joining children).
    Join,
    /// `running → blocked` waiting for any child.
    Wait,
    /// `blocked → ready`: the I/O finished.
    IoDone,
    /// `blocked → ready`: the sleep finished.
    Wake,
    /// `blocked → ready`: the child being waited for terminated.
    ChildExit,
    /// `blocked → ready`: a `join` with a timeout waited that long; the child lives on.
    Timeout,
    /// `running → blocked` acquiring a lock another thread holds (SPEC §4a).
    Lock,
    /// `blocked → ready`: the lock it waited for was handed to it by a release.
    LockAcquired,
    /// `running → terminated`: end of program, `exit`, or an error.
    Exit,
    /// `* → terminated`: SIGKILL or SIGTERM.
    Signal,
}

impl Cause {
    /// Every cause, in the order of SPEC section 2.
    pub const ALL: [Cause; 15] = [
        Cause::Admit,
        Cause::Dispatch,
        Cause::Preempt,
        Cause::Io,
        Cause::Sleep,
        Cause::Join,
        Cause::Wait,
        Cause::IoDone,
        Cause::Wake,
        Cause::ChildExit,
        Cause::Timeout,
        Cause::Lock,
        Cause::LockAcquired,
        Cause::Exit,
        Cause::Signal,
    ];

    /// The name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            Cause::Admit => "admit",
            Cause::Dispatch => "dispatch",
            Cause::Preempt => "preempt",
            Cause::Io => "io",
            Cause::Sleep => "sleep",
            Cause::Join => "join",
            Cause::Wait => "wait",
            Cause::IoDone => "io-done",
            Cause::Wake => "wake",
            Cause::ChildExit => "child-exit",
            Cause::Timeout => "timeout",
            Cause::Lock => "lock",
            Cause::LockAcquired => "lock-acquired",
            Cause::Exit => "exit",
            Cause::Signal => "signal",
        }
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The legal transitions as a petgraph graph: nodes are [`State`]s, edges carry a [`Cause`].
///
/// ```
/// use procsim::{Cause, State, StateGraph};
/// let g = StateGraph::new();
/// assert!(g.is_legal(State::Running, State::Blocked, Cause::Io));
/// assert!(!g.is_legal(State::Blocked, State::Running, Cause::Dispatch));
/// assert!(g.to_dot().starts_with("digraph"));
/// ```
#[derive(Debug, Clone)]
pub struct StateGraph {
    graph: DiGraph<State, Cause>,
}

/// The table of SPEC section 2, as data.
const EDGES: &[(State, State, Cause)] = {
    use Cause::*;
    use State::*;
    &[
        (New, Ready, Admit),
        (Ready, Running, Dispatch),
        (Running, Ready, Preempt),
        (Running, Blocked, Io),
        (Running, Blocked, Sleep),
        (Running, Blocked, Join),
        (Running, Blocked, Wait),
        (Running, Blocked, Lock),
        (Blocked, Ready, IoDone),
        (Blocked, Ready, Wake),
        (Blocked, Ready, ChildExit),
        (Blocked, Ready, Timeout),
        (Blocked, Ready, LockAcquired),
        (Running, Terminated, Exit),
        (New, Terminated, Signal),
        (Ready, Terminated, Signal),
        (Blocked, Terminated, Signal),
        (Running, Terminated, Signal),
    ]
};

impl StateGraph {
    /// Builds the graph of SPEC section 2.
    pub fn new() -> Self {
        let mut graph = DiGraph::new();
        let nodes: Vec<NodeIndex> = State::ALL.iter().map(|s| graph.add_node(*s)).collect();
        let index = |s: State| nodes[State::ALL.iter().position(|x| *x == s).unwrap_or(0)];
        for &(from, to, cause) in EDGES {
            graph.add_edge(index(from), index(to), cause);
        }
        StateGraph { graph }
    }

    /// Whether `from → to` with this cause is an edge of the graph.
    pub fn is_legal(&self, from: State, to: State, cause: Cause) -> bool {
        self.graph.edge_references().any(|e| {
            self.graph[e.source()] == from && self.graph[e.target()] == to && *e.weight() == cause
        })
    }

    /// Every edge as `(from, to, cause)`, in the order of SPEC section 2.
    pub fn edges(&self) -> impl Iterator<Item = (State, State, Cause)> + '_ {
        self.graph
            .edge_references()
            .map(|e| (self.graph[e.source()], self.graph[e.target()], *e.weight()))
    }

    /// The graph in Graphviz DOT, one labelled edge a cause.
    pub fn to_dot(&self) -> String {
        let dot = Dot::with_attr_getters(
            &self.graph,
            &[Config::EdgeNoLabel, Config::NodeNoLabel],
            &|_, e| format!("label = \"{}\"", e.weight()),
            &|_, (_, s)| {
                let shape = if s.is_final() {
                    "doublecircle"
                } else {
                    "circle"
                };
                format!("label = \"{s}\" shape = {shape}")
            },
        );
        format!("{dot:?}")
    }
}

impl Default for StateGraph {
    fn default() -> Self {
        Self::new()
    }
}

static GRAPH: std::sync::LazyLock<StateGraph> = std::sync::LazyLock::new(StateGraph::new);

/// Whether a transition is legal, asked of one graph built once for the whole program.
pub fn is_legal_transition(from: State, to: State, cause: Cause) -> bool {
    GRAPH.is_legal(from, to, cause)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_leaves_terminated() {
        let g = StateGraph::new();
        for (from, _, _) in g.edges() {
            assert_ne!(from, State::Terminated);
        }
    }

    #[test]
    fn graph_has_the_spec_table() {
        let g = StateGraph::new();
        assert_eq!(g.edges().count(), EDGES.len());
        for &(s, t, c) in EDGES {
            assert!(is_legal_transition(s, t, c));
        }
        assert!(!g.is_legal(State::Blocked, State::Running, Cause::Dispatch));
        assert!(!g.is_legal(State::New, State::Running, Cause::Dispatch));
    }

    #[test]
    fn dot_names_every_state_and_cause() {
        let dot = StateGraph::new().to_dot();
        for s in State::ALL {
            assert!(dot.contains(&format!("\"{s}\"")), "{dot}");
        }
        for c in Cause::ALL {
            assert!(dot.contains(&format!("\"{c}\"")), "{dot}");
        }
    }
}
