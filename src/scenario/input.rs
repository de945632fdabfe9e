//! Reading a scenario's bytes: a size limit, and the byte-order mark some editors write.

use std::io::Read;

use super::{ErrorKind, ScenarioError};

/// The largest scenario file procsim reads: 256 MiB, above the 168 MB that
/// `procsim gen --processes 1000000` writes. Without a limit `validate /dev/zero` (or a
/// endless pipe on `-`) reads until memory runs out.
pub const MAX_SCENARIO_BYTES: u64 = 256 << 20;

/// Reads at most [`MAX_SCENARIO_BYTES`] from `source`; more is an error naming the limit.
/// `size`, the length a file says it has, sizes the buffer: grown by doubling, a 168 MB file
/// would take a 256 MiB buffer.
pub(crate) fn read_limited(source: impl Read, size: Option<u64>) -> Result<Vec<u8>, ScenarioError> {
    let mut bytes = Vec::new();
    if let Some(n) = size {
        bytes.reserve_exact(n.min(MAX_SCENARIO_BYTES) as usize + 1);
    }
    source
        .take(MAX_SCENARIO_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| ScenarioError::new(ErrorKind::Io, "", format!("cannot read: {e}")))?;
    if bytes.len() as u64 > MAX_SCENARIO_BYTES {
        return Err(ScenarioError::new(
            ErrorKind::Io,
            "",
            format!(
                "the file is larger than {} MiB, the most procsim reads as a scenario",
                MAX_SCENARIO_BYTES >> 20
            ),
        ));
    }
    Ok(bytes)
}

/// `bytes` without a leading UTF-8 byte-order mark (Notepad writes one; JSON parsers need not
/// accept it, and serde_json's error for it, `1:1: expected value`, says nothing useful).
pub(crate) fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endless_source_stops_at_the_limit() {
        let e = read_limited(std::io::repeat(0), None).unwrap_err();
        assert!(e.message().contains("larger than 256 MiB"), "{e}");
        assert_eq!(read_limited(&b"{}"[..], Some(2)).unwrap(), b"{}");
    }

    #[test]
    fn a_bom_is_dropped() {
        assert_eq!(strip_bom(b"\xEF\xBB\xBF{}"), b"{}");
        assert_eq!(strip_bom(b"{}"), b"{}");
    }
}
