//! The event channel: a `SOCK_SEQPACKET` socket pair. Every process of the run holds the
//! sending end (inherited through `fork`), the supervisor reads the other. Each event is one
//! datagram, so events from processes writing at the same moment never interleave, and a
//! datagram cannot be torn as a pipe write longer than `PIPE_BUF` can.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use nix::sys::socket::{
    AddressFamily, MsgFlags, SockFlag, SockType, recv, send, setsockopt, socketpair, sockopt,
};

use super::protocol::Event;

/// The largest datagram: longer output lines are cut to fit.
pub const MAX_EVENT: usize = 1 << 20;

/// The supervisor's end.
pub struct Receiver {
    fd: OwnedFd,
    buf: Vec<u8>,
}

/// The processes' end.
pub struct Sender {
    fd: OwnedFd,
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
        },
        Sender { fd: b },
    ))
}

impl Sender {
    /// Another handle on the same socket (a `dup`).
    pub fn try_clone(&self) -> io::Result<Sender> {
        Ok(Sender {
            fd: self.fd.try_clone()?,
        })
    }

    /// Sends one event; blocks while the supervisor's queue is full. An error means the
    /// supervisor is gone.
    pub fn send(&self, event: &Event) -> io::Result<()> {
        let mut bytes = serde_json::to_vec(event).map_err(io::Error::other)?;
        if bytes.len() > MAX_EVENT {
            bytes = shrink(event);
        }
        loop {
            match send(self.fd.as_raw_fd(), &bytes, MsgFlags::MSG_NOSIGNAL) {
                Ok(_) => return Ok(()),
                Err(nix::Error::EINTR) => continue,
                Err(e) => return Err(super::observe::io_err(e)),
            }
        }
    }
}

/// An event too large for one datagram, with its text cut (only output and error lines and
/// globals can be that long).
fn shrink(event: &Event) -> Vec<u8> {
    const KEEP: usize = MAX_EVENT / 2;
    let cut = |s: &str| {
        let mut end = KEEP.min(s.len());
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}… (cut to fit procsim's event size)", &s[..end])
    };
    let small = match event {
        Event::Output { key, line } => Event::Output {
            key: key.clone(),
            line: cut(line),
        },
        Event::Error { key, message } => Event::Error {
            key: key.clone(),
            message: cut(message),
        },
        Event::Global { key, index, .. } => Event::Fault {
            key: Some(key.clone()),
            message: format!("global #{index} grew too large to report"),
        },
        other => Event::Fault {
            key: other.key().map(str::to_owned),
            message: "an event too large to send was dropped".into(),
        },
    };
    serde_json::to_vec(&small).unwrap_or_default()
}

impl Receiver {
    /// The next event if one is queued (never blocks). `Err` only for a broken socket.
    pub fn try_recv(&mut self) -> io::Result<Option<Result<Event, String>>> {
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
                    return Ok(Some(
                        serde_json::from_slice(&self.buf[..n]).map_err(|e| e.to_string()),
                    ));
                }
                Err(nix::Error::EINTR) => continue,
                Err(nix::Error::EAGAIN) => return Ok(None),
                Err(e) => return Err(super::observe::io_err(e)),
            }
        }
    }

    /// The descriptor to poll.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}
