//! The event channel: a `SOCK_SEQPACKET` socket pair. Every process of the run holds the
//! sending end (inherited through `fork`), the supervisor reads the other. Each event is one
//! datagram, so events from processes writing at the same moment never interleave, and a
//! datagram cannot be torn as a pipe write longer than `PIPE_BUF` can.
//!
//! A global's new value may be larger than a datagram (a value may hold
//! [`crate::process::MAX_VALUE_WEIGHT`] characters or items, and its JSON more bytes than
//! that): it is sent as pieces of its JSON text, in order, one datagram each, and the
//! receiver puts them back together, so every value the model allows is reported whole.

use std::collections::HashMap;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use nix::sys::socket::{
    AddressFamily, MsgFlags, SockFlag, SockType, recv, send, setsockopt, socketpair, sockopt,
};

use serde::{Deserialize, Serialize};

use super::protocol::{Event, Key};
use crate::model::Value;

/// The largest datagram: longer output lines are cut to fit.
pub const MAX_EVENT: usize = 1 << 20;

/// The bytes of JSON text a piece of a large global carries: a quarter of a datagram, as
/// the piece's own JSON may double it (each `"` and `\\` escaped).
const PIECE: usize = MAX_EVENT / 4;

/// The first byte of a datagram that holds a [`Piece`] (an event's JSON starts with `{` or `[`).
const PIECE_MARK: u8 = b'+';

/// A piece of the JSON text of a global's new value too large for one datagram.
#[derive(Debug, Serialize, Deserialize)]
struct Piece {
    key: Key,
    index: u32,
    text: String,
    /// Whether this is the last piece (then the value is whole).
    last: bool,
}

/// The supervisor's end.
pub struct Receiver {
    fd: OwnedFd,
    buf: Vec<u8>,
    /// The JSON text received so far of each large global being sent in pieces.
    pieces: HashMap<(Key, u32), String>,
    /// The length of the last datagram's text in `buf`, when [`Receiver::try_recv`] read
    /// its events from that text alone (not a piece of a global, not an error).
    last: Option<usize>,
}

/// The processes' end.
pub struct Sender {
    fd: OwnedFd,
    /// Reused for every datagram (see `Proc::flush` on why the hot path does not allocate).
    buf: std::cell::RefCell<Vec<u8>>,
}

/// A new channel.
pub fn pair() -> io::Result<(Receiver, Sender)> {
    let (a, b) = socketpair(
        AddressFamily::Unix,
        SockType::SeqPacket,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .map_err(super::observe::io_err)?;
    // Root may raise the buffer past wmem_max; anyone else gets what the system allows.
    let size = MAX_EVENT * 2;
    if setsockopt(&b, sockopt::SndBufForce, &size).is_err() {
        let _ = setsockopt(&b, sockopt::SndBuf, &size);
    }
    if setsockopt(&a, sockopt::RcvBufForce, &(size * 4)).is_err() {
        let _ = setsockopt(&a, sockopt::RcvBuf, &(size * 4));
    }
    Ok((
        Receiver {
            fd: a,
            buf: vec![0; MAX_EVENT + 4096],
            pieces: HashMap::new(),
            last: None,
        },
        Sender {
            fd: b,
            buf: std::cell::RefCell::new(Vec::with_capacity(4096)),
        },
    ))
}

impl Sender {
    /// Another handle on the same socket (a `dup`).
    pub fn try_clone(&self) -> io::Result<Sender> {
        Ok(Sender {
            fd: self.fd.try_clone()?,
            buf: std::cell::RefCell::new(Vec::with_capacity(4096)),
        })
    }

    /// Sends one event; blocks while the supervisor's queue is full. An error means the
    /// supervisor is gone.
    pub fn send(&self, event: &Event) -> io::Result<()> {
        let mut bytes = serde_json::to_vec(event).map_err(io::Error::other)?;
        if bytes.len() > MAX_EVENT {
            if let Event::Global { key, index, value } = event {
                return self.send_in_pieces(key, *index, value);
            }
            bytes = shrink(event);
        }
        self.send_bytes(&bytes)
    }

    /// Sends a global's value as pieces of its JSON text, one datagram each.
    fn send_in_pieces(&self, key: &Key, index: u32, value: &Value) -> io::Result<()> {
        let text = serde_json::to_string(value).map_err(io::Error::other)?;
        let mut rest = text.as_str();
        loop {
            let mut end = PIECE.min(rest.len());
            while !rest.is_char_boundary(end) {
                end -= 1;
            }
            let (piece, after) = rest.split_at(end);
            rest = after;
            let mut bytes = vec![PIECE_MARK];
            let piece = Piece {
                key: key.clone(),
                index,
                text: piece.to_owned(),
                last: rest.is_empty(),
            };
            serde_json::to_writer(&mut bytes, &piece).map_err(io::Error::other)?;
            self.send_bytes(&bytes)?;
            if rest.is_empty() {
                return Ok(());
            }
        }
    }

    /// Sends several events in one datagram (a JSON array), or one by one when together they
    /// would not fit.
    pub fn send_all(&self, events: &[Event]) -> io::Result<()> {
        let mut buf = self.buf.borrow_mut();
        buf.clear();
        let written = match events {
            [one] => serde_json::to_writer(&mut *buf, one),
            many => serde_json::to_writer(&mut *buf, many),
        };
        written.map_err(io::Error::other)?;
        if buf.len() > MAX_EVENT {
            drop(buf);
            return events.iter().try_for_each(|e| self.send(e));
        }
        let r = self.send_bytes(&buf);
        if buf.capacity() > 1 << 16 {
            // One huge line should not keep its buffer (and its pages) for ever.
            *buf = Vec::with_capacity(4096);
        }
        r
    }

    fn send_bytes(&self, bytes: &[u8]) -> io::Result<()> {
        loop {
            match send(self.fd.as_raw_fd(), bytes, MsgFlags::MSG_NOSIGNAL) {
                Ok(_) => return Ok(()),
                Err(nix::Error::EINTR) => continue,
                Err(e) => return Err(super::observe::io_err(e)),
            }
        }
    }
}

/// An event too large for one datagram, with its text cut (only output and error lines can
/// be that long: globals are sent in pieces), and a `fence` event that says so: a cut is never
/// silent.
fn shrink(event: &Event) -> Vec<u8> {
    const KEEP: usize = MAX_EVENT / 2;
    let said = |key: &str, what: &str, len: usize| Event::Fence {
        key: Some(Key::Owned(key.to_owned())),
        message: format!(
            "event-size fence: {what} of {len} bytes was cut to its first {KEEP} bytes (a real process sends each event in one datagram of at most {MAX_EVENT} bytes)"
        ),
    };
    let cut = |s: &str| {
        let mut end = KEEP.min(s.len());
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}… (cut to fit procsim's event size)", &s[..end])
    };
    let small = match event {
        Event::Output { key, line } => {
            let events = [
                Event::Output {
                    key: key.clone(),
                    line: cut(line),
                },
                said(key, "an output line", line.len()),
            ];
            return serde_json::to_vec(&events).unwrap_or_default();
        }
        Event::Error { key, message } => {
            let events = [
                Event::Error {
                    key: key.clone(),
                    message: cut(message),
                },
                said(key, "an error message", message.len()),
            ];
            return serde_json::to_vec(&events).unwrap_or_default();
        }
        Event::Global { key, index, .. } => Event::Fault {
            key: Some(key.clone()),
            message: format!("global #{index} grew too large to report"),
        },
        other => Event::Fault {
            key: other.key().map(|k| Key::Owned(k.to_owned())),
            message: "an event too large to send was dropped".into(),
        },
    };
    serde_json::to_vec(&small).unwrap_or_default()
}

impl Receiver {
    /// In a top-level child of the supervisor, which never receives: frees the receive
    /// buffer (1 MiB, a mapping of its own that every later fork would duplicate; see
    /// `fork/trim.rs`). The descriptor is left to the caller, which closes it by number.
    pub fn free_buffer(&mut self) {
        self.buf = Vec::new();
        self.pieces = HashMap::new();
        self.last = None;
    }

    /// The next datagram's events if one is queued (never blocks): none for a piece of a
    /// large global but the last, which gives the whole `Global` event. `Err` only for a broken
    /// socket.
    pub fn try_recv(&mut self) -> io::Result<Option<Result<Vec<Event>, String>>> {
        self.last = None;
        loop {
            match recv(
                self.fd.as_raw_fd(),
                &mut self.buf,
                MsgFlags::MSG_DONTWAIT | MsgFlags::MSG_TRUNC,
            ) {
                Ok(0) => return Ok(None),
                Ok(n) if n > self.buf.len() => {
                    return Ok(Some(Err(format!("an event of {n} bytes was cut"))));
                }
                Ok(n) => {
                    let bytes = &self.buf[..n];
                    if let Some(piece) = bytes.strip_prefix(&[PIECE_MARK]) {
                        return Ok(Some(join_piece(&mut self.pieces, piece)));
                    }
                    let parsed = if bytes.first() == Some(&b'[') {
                        serde_json::from_slice::<Vec<Event>>(bytes)
                    } else {
                        serde_json::from_slice::<Event>(bytes).map(|e| vec![e])
                    };
                    if parsed.is_ok() {
                        self.last = Some(n);
                    }
                    return Ok(Some(parsed.map_err(|e| e.to_string())));
                }
                Err(nix::Error::EINTR) => continue,
                Err(nix::Error::EAGAIN) => return Ok(None),
                Err(e) => return Err(super::observe::io_err(e)),
            }
        }
    }

    /// The JSON text of the events the last [`Receiver::try_recv`] gave, when they were
    /// read from one datagram's text alone (an event or an array of events, as the sender
    /// wrote it): the supervisor can pass it on as it is rather than write each event again.
    pub fn last_text(&self) -> Option<&[u8]> {
        self.last.map(|n| &self.buf[..n])
    }

    /// The descriptor to poll.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// Adds a piece of a large global; the whole `Global` event after the last.
fn join_piece(
    pieces: &mut HashMap<(Key, u32), String>,
    bytes: &[u8],
) -> Result<Vec<Event>, String> {
    let piece: Piece = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    let at = (piece.key, piece.index);
    let text = pieces.entry(at.clone()).or_default();
    text.push_str(&piece.text);
    if !piece.last {
        return Ok(Vec::new());
    }
    let text = pieces.remove(&at).unwrap_or_default();
    let value: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    let (key, index) = at;
    Ok(vec![Event::Global { key, index, value }])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A global as large as a value may grow, whose JSON is larger than a datagram (each
    /// `"` is escaped), arrives whole, and events after it in order.
    #[test]
    fn a_global_larger_than_a_datagram_arrives_whole() {
        let (mut rx, tx) = pair().unwrap();
        let big = Value::Str("\"x".repeat(crate::process::MAX_VALUE_WEIGHT as usize / 2));
        let global = Event::Global {
            key: "0:1".into(),
            index: 2,
            value: big,
        };
        assert!(serde_json::to_vec(&global).unwrap().len() > MAX_EVENT);
        let after = Event::Output {
            key: "0:1".into(),
            line: "after".into(),
        };
        // Sent from another thread: the socket holds less than the whole value.
        let sent = [global.clone(), after.clone()];
        let sender = std::thread::spawn(move || tx.send_all(&sent).unwrap());
        let mut got = Vec::new();
        while got.len() < 2 {
            match rx.try_recv().unwrap() {
                Some(events) => got.extend(events.unwrap()),
                None => std::thread::sleep(std::time::Duration::from_millis(1)),
            }
        }
        sender.join().unwrap();
        assert_eq!(got, vec![global, after]);
        assert!(rx.pieces.is_empty());
    }

    #[test]
    fn a_line_cut_to_fit_an_event_is_said() {
        let long = "x".repeat(MAX_EVENT + 10);
        let bytes = shrink(&Event::Output {
            key: "0".into(),
            line: long.clone(),
        });
        assert!(bytes.len() <= MAX_EVENT);
        let events: Vec<Event> = serde_json::from_slice(&bytes).unwrap();
        match &events[..] {
            [Event::Output { line, .. }, Event::Fence { key, message }] => {
                assert!(
                    line.len() < long.len() && line.ends_with("(cut to fit procsim's event size)")
                );
                assert_eq!(key.as_deref(), Some("0"));
                assert!(
                    message.starts_with(&format!(
                        "event-size fence: an output line of {} bytes was cut",
                        long.len()
                    )),
                    "{message}"
                );
            }
            other => panic!("{other:?}"),
        }
    }
}
