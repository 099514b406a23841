//! The status line on a terminal while recording: records, rate, bytes
//! written, losses and pauses, redrawn a few times a second in place and
//! erased at the end, so a long recording shows it is alive without
//! scrolling anything away. Only when stderr is a terminal, live output is
//! off and no recorded command prints on that terminal (`cmd::record`
//! decides): in a file or a journal a line redrawn with carriage returns
//! is noise, and a command's output would run into it; the one-a-minute
//! line stays for those.

use std::{
    io::Write as _,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use recorder::event::Counters;

use super::writer::Progress;

/// How often the line is redrawn.
pub const EVERY: Duration = Duration::from_millis(250);

/// Erases the line the cursor is on: back to its start, clear to its end.
const ERASE: &str = "\r\x1b[K";

/// Whether the status line is on the terminal now. Process-wide, because
/// the writer thread's warnings ([`print_message`]) must erase it first; read and
/// written only with stderr locked, so a warning and a redraw never
/// interleave.
static DRAWN: AtomicBool = AtomicBool::new(false);

/// Prints one line on stderr the way every message during a recording
/// must: erasing the status line first if it is drawn (the next redraw puts
/// it back below), in one write, so the message never runs into it.
pub fn print_message(args: std::fmt::Arguments<'_>) {
    let mut err = std::io::stderr().lock();
    // Best effort, as eprintln! would be, minus its panic.
    let _ = err.write_all(message_text(args).as_bytes());
}

/// The bytes [`print_message`] writes; call with stderr locked.
fn message_text(args: std::fmt::Arguments<'_>) -> String {
    let mut out = String::new();
    if DRAWN.swap(false, Ordering::Relaxed) {
        out.push_str(ERASE);
    }
    let _ = std::fmt::write(&mut out, args);
    out.push('\n');
    out
}

/// `eprintln!` for messages printed while a status line may be drawn.
macro_rules! message {
    ($($arg:tt)*) => {
        $crate::record::status::print_message(format_args!($($arg)*))
    };
}
pub(crate) use message;

pub struct StatusLine {
    progress: Arc<Progress>,
    /// The rate is over the last second or so, not since the start, so a
    /// burst shows.
    rate_since: (Instant, u64),
    rate: f64,
}

impl StatusLine {
    pub fn new(progress: Arc<Progress>) -> Self {
        Self {
            progress,
            rate_since: (Instant::now(), 0),
            rate: 0.0,
        }
    }

    /// Redraws the line with the kernel's counters `c`.
    pub fn draw(&mut self, c: &Counters) {
        let (t0, n0) = self.rate_since;
        let el = t0.elapsed();
        if el >= Duration::from_secs(1) {
            self.rate = c.emitted.saturating_sub(n0) as f64 / el.as_secs_f64();
            self.rate_since = (Instant::now(), c.emitted);
        }
        let bytes = self.progress.bytes.load(Ordering::Relaxed);
        let mut line = text(c, self.rate, bytes);
        // A line longer than the terminal wraps, and a wrapped line cannot
        // be erased with a carriage return.
        line.truncate(terminal_width().saturating_sub(1));
        let mut err = std::io::stderr().lock();
        DRAWN.store(true, Ordering::Relaxed);
        // Best effort: a terminal that went away is no reason to stop.
        let _ = write!(err, "{ERASE}{line}");
    }

    /// Erases the line, if drawn (before other output, and at the end).
    pub fn erase(&mut self) {
        let mut err = std::io::stderr().lock();
        if DRAWN.swap(false, Ordering::Relaxed) {
            let _ = write!(err, "{ERASE}");
        }
    }
}

/// `recorder: 12345 records, 2301/s, 1.2 MB written, 0 lost, 0 pauses`
/// (ASCII only, so that truncating bytes cuts no character).
fn text(c: &Counters, rate: f64, bytes: u64) -> String {
    format!(
        "recorder: {} records, {:.0}/s, {} written, {} lost, {} pauses",
        c.emitted,
        rate,
        human_bytes(bytes),
        c.lost(),
        c.paused
    )
}

fn human_bytes(b: u64) -> String {
    const UNITS: [&str; 4] = ["kB", "MB", "GB", "TB"];
    if b < 1000 {
        return format!("{b} B");
    }
    let mut v = b as f64;
    let mut unit = "B";
    for u in UNITS {
        if v < 1000.0 {
            break;
        }
        v /= 1000.0;
        unit = u;
    }
    format!("{v:.1} {unit}")
}

/// Columns of the terminal on stderr; 80 when it does not say.
fn terminal_width() -> usize {
    let mut ws = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes a winsize into the struct we pass.
    let r = unsafe { libc::ioctl(libc::STDERR_FILENO, libc::TIOCGWINSZ, &mut ws) };
    if r == 0 && ws.ws_col > 0 {
        usize::from(ws.ws_col)
    } else {
        80
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_text() {
        let c = Counters {
            emitted: 12345,
            ring_full: 3,
            paused: 2,
            ..Default::default()
        };
        assert_eq!(
            text(&c, 2301.4, 1_234_567),
            "recorder: 12345 records, 2301/s, 1.2 MB written, 3 lost, 2 pauses"
        );
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(4_096), "4.1 kB");
    }

    /// A warning printed while the status line is drawn erases it first
    /// (it used to be appended to the line), and only then.
    #[test]
    fn message_erases_a_drawn_line_once() {
        DRAWN.store(true, Ordering::Relaxed);
        assert_eq!(
            message_text(format_args!("recorder: warning: {}", "disk full")),
            "\r\x1b[Krecorder: warning: disk full\n"
        );
        assert!(!DRAWN.load(Ordering::Relaxed));
        assert_eq!(message_text(format_args!("again")), "again\n");
    }
}
