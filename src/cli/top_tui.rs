//! `procsim top` on a terminal: the task manager's view (`procsim::report::render_top`) drawn
//! frame by frame, with play/pause, stepping and speed keys (crossterm).
//!
//! The terminal is put back (raw mode off, main screen, cursor shown) on every way out: `q`,
//! Esc, Ctrl-C (a key in raw mode), SIGINT/SIGTERM/SIGHUP from elsewhere, an error, and a
//! panic (the hook restores it before the message is printed).

use std::io::{self, IsTerminal, Write};
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Duration, Instant};

use anyhow::bail;
use crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use crossterm::{cursor, execute, queue, terminal};
use procsim::Report;
use procsim::report::{Replay, Spans, render_top, run_end};

/// The smallest terminal the view fits in.
const MIN_COLS: u16 = 60;
const MIN_ROWS: u16 = 10;

/// The signal that asked the view to stop (0: none); the loop sees it within one poll.
static STOP: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_signal(sig: libc::c_int) {
    STOP.store(sig, Ordering::SeqCst);
}

/// Puts the terminal back. Safe to call more than once.
fn restore() {
    let mut out = io::stdout();
    let _ = execute!(out, cursor::Show, terminal::LeaveAlternateScreen);
    let _ = terminal::disable_raw_mode();
}

/// Restores the terminal when dropped: the normal way out and an early `?`.
struct Guard;

impl Drop for Guard {
    fn drop(&mut self) {
        restore();
    }
}

fn install_handlers() -> anyhow::Result<()> {
    use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};
    let action = SigAction::new(
        SigHandler::Handler(on_signal),
        SaFlags::empty(),
        SigSet::empty(),
    );
    for sig in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP] {
        // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
        unsafe { sigaction(sig, &action) }?;
    }
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        previous(info);
    }));
    Ok(())
}

/// Where the player is: events applied and the moment shown.
struct Player<'a> {
    report: &'a Report,
    replay: Replay<'a>,
    t: u64,
    /// Time played within the current unit (playing advances by fractions of a unit a frame).
    fraction: f64,
    end: u64,
    playing: bool,
    /// Time units a second of playing advances.
    speed: u64,
}

impl<'a> Player<'a> {
    fn new(report: &'a Report) -> Player<'a> {
        let end = run_end(report);
        let mut replay = Replay::with_threads(report);
        replay.advance_to(0);
        Player {
            report,
            replay,
            t: 0,
            fraction: 0.0,
            end,
            playing: false,
            // The whole run in about 20 seconds, at least one unit a second.
            speed: (end / 20).max(1),
        }
    }

    fn step_forward(&mut self) {
        if self.replay.step() {
            self.t = self.replay.time();
        } else {
            self.t = self.end;
        }
    }

    fn step_back(&mut self) {
        let k = self.replay.applied().saturating_sub(1);
        let mut replay = Replay::with_threads(self.report);
        while replay.applied() < k {
            replay.step();
        }
        self.t = replay.time();
        self.replay = replay;
    }

    fn play(&mut self, elapsed: Duration) {
        let units = self.speed as f64 * elapsed.as_secs_f64() + self.fraction;
        let ticks = units.floor();
        self.fraction = units - ticks;
        let ticks = ticks as u64;
        self.t = self.t.saturating_add(ticks).min(self.end);
        self.replay.advance_to(self.t);
        if self.t >= self.end {
            self.playing = false;
        }
    }
}

/// Runs the interactive view until the user quits; the signal that stopped it, if one did.
pub(crate) fn run(report: &Report, spans: &Spans) -> anyhow::Result<Option<i32>> {
    if !io::stdout().is_terminal() || !io::stdin().is_terminal() {
        bail!("procsim top needs a terminal; --at T prints the view at T as text");
    }
    install_handlers()?;
    terminal::enable_raw_mode()?;
    let _guard = Guard;
    execute!(io::stdout(), terminal::EnterAlternateScreen, cursor::Hide)?;
    let mut player = Player::new(report);
    let mut last = Instant::now();
    loop {
        match STOP.load(Ordering::SeqCst) {
            0 => {}
            sig => return Ok(Some(sig)),
        }
        let (cols, rows) = terminal::size()?;
        if too_small_line(cols, rows).is_none() {
            // `bail!` drops the guard first: the message goes to a terminal given back.
            bail!(
                "the terminal is {cols}x{rows}, too small to show even that it is too small; \
                 procsim top needs {MIN_COLS}x{MIN_ROWS} (--at T prints the view at T as text)"
            );
        }
        draw(report, spans, &player)?;
        // Our own wait comes first: on a terminal that has hung up, crossterm's poll reads
        // end-of-file in a loop and never returns (seen: 45 % CPU for hours, deaf to SIGTERM).
        let Some(ready) = wait_for_input(100) else {
            return Ok(Some(libc::SIGHUP));
        };
        if ready && event::poll(Duration::ZERO)? {
            match event::read()? {
                Event::Key(key) if key.kind != KeyEventKind::Release => match key.code {
                    KeyCode::Char('q') | KeyCode::Esc => return Ok(None),
                    KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                        return Ok(None);
                    }
                    KeyCode::Char(' ') => {
                        if player.t >= player.end {
                            player = Player {
                                speed: player.speed,
                                ..Player::new(report)
                            };
                        }
                        player.playing = !player.playing;
                    }
                    KeyCode::Right => {
                        player.playing = false;
                        player.step_forward();
                    }
                    KeyCode::Left => {
                        player.playing = false;
                        player.step_back();
                    }
                    KeyCode::Char('+') | KeyCode::Char('=') => {
                        player.speed = player.speed.saturating_mul(2);
                    }
                    KeyCode::Char('-') => player.speed = (player.speed / 2).max(1),
                    _ => {}
                },
                _ => {}
            }
        }
        let now = Instant::now();
        if player.playing {
            player.play(now - last);
        }
        last = now;
    }
}

/// Waits up to `ms` milliseconds for input on standard input: `Some(true)` when there is some,
/// `Some(false)` when none came, `None` when the terminal is gone (hung up, or an error).
fn wait_for_input(ms: libc::c_int) -> Option<bool> {
    let mut fd = libc::pollfd {
        fd: libc::STDIN_FILENO,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: `fd` is one valid, initialised pollfd that lives across the call.
    let n = unsafe { libc::poll(&mut fd, 1, ms) };
    if n < 0 {
        // A signal interrupted the wait: the loop looks at STOP next.
        return (io::Error::last_os_error().kind() == io::ErrorKind::Interrupted).then_some(false);
    }
    if fd.revents & (libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0 {
        return None;
    }
    Some(fd.revents & libc::POLLIN != 0)
}

/// The line that says a `cols` × `rows` terminal is too small for the view: the longest of
/// the wordings that fits on one row; `None` when not even the shortest does (then the view
/// gives up and says so on standard error, once the terminal is back).
fn too_small_line(cols: u16, rows: u16) -> Option<String> {
    [
        format!(
            "Terminal too small: {cols}x{rows}; procsim top needs {MIN_COLS}x{MIN_ROWS}. Enlarge it, or press q."
        ),
        format!("Too small: {cols}x{rows}, needs {MIN_COLS}x{MIN_ROWS}; q quits"),
        "Too small; q quits".to_owned(),
    ]
    .into_iter()
    .find(|m| m.chars().count() <= usize::from(cols))
}

fn draw(report: &Report, spans: &Spans, player: &Player) -> io::Result<()> {
    let (cols, rows) = terminal::size()?;
    let mut out = io::stdout().lock();
    queue!(
        out,
        terminal::Clear(terminal::ClearType::All),
        cursor::MoveTo(0, 0)
    )?;
    if cols < MIN_COLS || rows < MIN_ROWS {
        // One line, never wrapped: the longest wording that fits (`too_small` is the caller's
        // check that one does).
        let msg = too_small_line(cols, rows).unwrap_or_default();
        queue!(out, cursor::MoveTo(0, 0))?;
        out.write_all(msg.as_bytes())?;
        return out.flush();
    }
    let snap = player.replay.view(player.t);
    let text = render_top(report, spans, &snap, usize::from(cols));
    let body_rows = usize::from(rows) - 1;
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().take(body_rows).enumerate() {
        queue!(out, cursor::MoveTo(0, i as u16))?;
        let clipped: String = line.chars().take(usize::from(cols)).collect();
        out.write_all(clipped.as_bytes())?;
    }
    let hidden = lines.len().saturating_sub(body_rows);
    let help = format!(
        "{}  space play/pause  \u{2190}/\u{2192} one event  +/- speed ({}/s)  q quit{}",
        if player.playing { "playing" } else { "paused " },
        player.speed,
        if hidden > 0 {
            format!("  ({hidden} lines below)")
        } else {
            String::new()
        }
    );
    queue!(out, cursor::MoveTo(0, rows - 1))?;
    let clipped: String = help.chars().take(usize::from(cols)).collect();
    out.write_all(clipped.as_bytes())?;
    out.flush()
}
