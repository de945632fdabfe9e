//! The limits a run is held to that both backends count the same way: output lines and
//! bytes, and the values the processes hold. Each check returns the message that stops the
//! run (the caller says when: the simulated kernel adds the tick).

use super::KernelConfig;

/// The most bytes one line of output may hold. A `print` of a few large values (each up to
/// [`crate::program::MAX_VALUE_WEIGHT`]) would otherwise make a line of hundreds of
/// megabytes; past this, the process fails with a `MemoryError`, as a value that grows too
/// large does. It is below what the fork backend's channel carries in one message, so the two
/// backends agree on every line they print.
pub const MAX_LINE_BYTES: usize = 256 * 1024;

/// The bytes of output a run has made so far, against `max_output_bytes`; with the lines the
/// caller counts, against `max_output`.
#[derive(Debug, Clone, Copy, Default)]
pub struct OutputMeter {
    bytes: u64,
}

impl OutputMeter {
    /// Counts line number `lines` (from 1), of `len` bytes; `Err` with the reason when it
    /// passes a limit (the line is then not kept).
    pub fn count(&mut self, lines: u64, len: usize, kernel: &KernelConfig) -> Result<(), String> {
        self.bytes = self.bytes.saturating_add(len as u64);
        if lines > kernel.max_output {
            return Err(format!(
                "kernel.max_output ({} lines) reached; raise it if the output is wanted",
                kernel.max_output
            ));
        }
        if self.bytes > kernel.max_output_bytes {
            return Err(format!(
                "kernel.max_output_bytes ({} bytes of output in all) reached; raise it if the output is wanted",
                kernel.max_output_bytes
            ));
        }
        Ok(())
    }
}

/// The bytes ([`crate::Value::footprint`]) of the globals the run's processes hold, against
/// `kernel.max_value_bytes`. Each process's globals count, whether it shares them with its
/// parent (until one of them changes one) or not: the report lists them for every process, and
/// a real fork copies them. So a small file cannot make a report of gigabytes (a megabyte
/// string in 4,000 children), nor one process grow thousands of values each as large as
/// [`crate::process::MAX_VALUE_WEIGHT`] allows. An ended process's globals still count: they
/// are in the report.
#[derive(Debug, Clone, Copy, Default)]
pub struct ValuesHeld {
    held: u64,
}

impl ValuesHeld {
    /// Counts a change of what the processes hold: `before` bytes no longer, `after` now (a
    /// new process's globals: `0` before; a global that changed: its old and new footprint).
    /// `Err` with the reason when the total passes the limit (the change is made: the run
    /// stops).
    pub fn change(&mut self, before: u64, after: u64, kernel: &KernelConfig) -> Result<(), String> {
        self.held = self.held.saturating_sub(before).saturating_add(after);
        let max = kernel.max_value_bytes;
        if self.held > max {
            return Err(format!(
                "kernel.max_value_bytes ({max} bytes of globals held by the processes, each process's own counted) reached; raise it if the values are wanted"
            ));
        }
        Ok(())
    }

    /// Bytes held now.
    pub fn held(&self) -> u64 {
        self.held
    }
}

/// The bytes a process's globals take ([`crate::Value::footprint`] of each).
pub fn bytes_of(globals: &[crate::Value]) -> u64 {
    globals
        .iter()
        .fold(0u64, |w, v| w.saturating_add(v.footprint()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_held_are_counted_up_and_down() {
        let k = KernelConfig {
            max_value_bytes: 100,
            ..KernelConfig::default()
        };
        let mut m = ValuesHeld::default();
        m.change(0, 60, &k).unwrap();
        m.change(10, 50, &k).unwrap();
        assert_eq!(m.held(), 100);
        let e = m.change(0, 1, &k).unwrap_err();
        assert!(e.contains("kernel.max_value_bytes (100 bytes"), "{e}");
        assert_eq!(m.held(), 101);
    }

    #[test]
    fn lines_and_bytes_are_both_limited() {
        let k = KernelConfig {
            max_output: 3,
            max_output_bytes: 10,
            ..KernelConfig::default()
        };
        let mut m = OutputMeter::default();
        assert!(m.count(1, 4, &k).is_ok());
        assert!(m.count(2, 6, &k).is_ok());
        let e = m.count(3, 1, &k).unwrap_err();
        assert!(e.contains("kernel.max_output_bytes (10 bytes"), "{e}");
        let mut m = OutputMeter::default();
        for line in 1..=3 {
            m.count(line, 0, &k).unwrap();
        }
        let e = m.count(4, 0, &k).unwrap_err();
        assert!(e.contains("kernel.max_output (3 lines)"), "{e}");
    }
}
