//! The limits a run is held to that both backends count the same way: output lines and
//! bytes. Each check returns the message that stops the run (the caller says when: the
//! simulated kernel adds the tick).

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

#[cfg(test)]
mod tests {
    use super::*;

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
