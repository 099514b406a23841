//! `recorder report`: one self-contained HTML file about a log, to attach
//! to a bug ticket and open offline in any browser.
//!
//! The log is read twice, streaming: once as `recorder info` reads it (its
//! very words are the page's context section), once through the read
//! filters, where every event goes through the same [`Formatter`] as
//! `recorder dump -y` and the calls feed [`data::Gather`]. The result is
//! one JSON document ([`PageData`]) inlined into a page whose style and
//! script (`page.css`, `page.js`, hand-written for it, no library) are
//! inlined too: the file needs no network.
//!
//! Size is bounded: aggregates cover every call, the calls themselves are
//! embedded only up to `--max-calls` (see [`data`]); the page says when the
//! cap applied.

pub mod data;

use std::io::{Read, Write};
use std::path::Path;

use serde::Serialize;

use super::{Events, FilterSpec, ReadError, info, multi_threaded};
use crate::decode::{Arch, DecodeError, Formatter};
use crate::event::Event;

/// Bump when the embedded document changes shape (the golden files show
/// the change; the page reads only this version).
pub const DATA_VERSION: u32 = 1;

const CSS: &str = include_str!("page.css");
const JS: &str = include_str!("page.js");

/// How to make the page.
#[derive(Debug, Clone)]
pub struct Options {
    /// Calls embedded with their decoded line, at most (log order).
    pub max_calls: usize,
    /// Bytes of each string or buffer shown in a line (dump's `-s`).
    pub string_limit: usize,
    /// The command that made the page, shown in it.
    pub made_by: String,
}

/// The document the page's script reads.
#[derive(Debug, Clone, Serialize)]
pub struct PageData {
    pub version: u32,
    /// The log's file name.
    pub title: String,
    pub made_by: String,
    /// `recorder info`'s text, as it prints it.
    pub info: String,
    pub complete: bool,
    pub verdict: String,
    /// Where reading stopped on a damaged log.
    pub damage: Option<String>,
    /// A lean log: what the page shows where durations would be (the
    /// latency section, the timeline's call lengths).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_durations: Option<&'static str>,
    pub arch: String,
    pub hostname: String,
    pub processes: Vec<Process>,
    #[serde(flatten)]
    pub data: data::Finished,
}

/// A node of the process tree.
#[derive(Debug, Clone, Serialize)]
pub struct Process {
    pub pid: u32,
    pub parent: Option<u32>,
    pub names: Vec<String>,
    pub threads: usize,
    pub calls: u64,
    pub errors: u64,
    /// `exit 42`, `killed by SIGSEGV`: `recorder info`'s words.
    pub end: String,
    /// A crash signal (SIGSEGV, ...) with no handler ended it.
    pub crashed: bool,
}

/// `recorder report`: writes the page about `path` (events through `spec`)
/// to `out` and the completeness summary to `err`. A damaged log gets a
/// page about everything before the damage, then the error.
pub fn run(
    path: &Path,
    spec: &FilterSpec,
    opts: &Options,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), ReadError> {
    let (data, res) = gather(path, spec, opts, err)?;
    write_page(out, &data)?;
    out.flush()?;
    ReadError::stopped(path, res)
}

/// Reads `path` and builds the page's document; the error, if reading
/// stopped at damage.
pub fn gather(
    path: &Path,
    spec: &FilterSpec,
    opts: &Options,
    err: &mut dyn Write,
) -> Result<(PageData, Result<(), crate::log::LogError>), ReadError> {
    let file_bytes = crate::read::file_len(path)?;
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let (report, info_res) = info::gather(
        Events::open(path, &FilterSpec::default())?.with_tasks(),
        file_bytes,
    );
    let mut info_text = Vec::new();
    report.write_text(&mut info_text, &name)?;

    let mut events = Events::open(path, spec)?.with_tasks();
    events.write_warnings(err)?;
    let header = events.header().clone();
    let arch = Arch::from_name(&header.arch)
        .ok_or_else(|| DecodeError::UnknownArch(header.arch.clone()))?;
    let mut fmt = Formatter::new(&header)?;
    fmt.multi_thread = multi_threaded(path, spec)?;
    fmt.max_str = match opts.string_limit {
        0 => usize::MAX,
        n => n,
    };
    fmt.show_duration = false;
    fmt.decode_fds(true);
    let span = report
        .span_ns
        .unwrap_or((header.start_mono_ns, header.start_mono_ns));
    let g = data::Gather::new(
        arch,
        header.start_mono_ns,
        span,
        opts.max_calls,
        opts.string_limit,
    )
    .durations(!header.lean);
    let (g, res) = feed(&mut events, &mut fmt, g);
    writeln!(err, "{}", events.summary())?;
    let damage = res
        .as_ref()
        .err()
        .or(info_res.as_ref().err())
        .map(|e| format!("stopped reading: {e}"));
    let page = PageData {
        version: DATA_VERSION,
        title: name,
        made_by: opts.made_by.clone(),
        info: String::from_utf8_lossy(&info_text).into_owned(),
        complete: report.completeness.complete,
        verdict: report.completeness.verdict.clone(),
        damage,
        no_durations: header.lean.then_some(crate::read::stats::NO_DURATIONS),
        arch: header.arch.clone(),
        hostname: header.hostname.clone(),
        processes: processes(&report),
        data: g.finish(),
    };
    Ok((page, res))
}

/// Every event through the formatter, as `dump -y` would (the ones not
/// kept only update the descriptor names), and the kept ones into `g`.
fn feed<R: Read>(
    events: &mut Events<R>,
    fmt: &mut Formatter,
    mut g: data::Gather,
) -> (data::Gather, Result<(), crate::log::LogError>) {
    loop {
        let (ev, keep) = match events.next_any() {
            Ok(Some(e)) => e,
            Ok(None) => return (g, Ok(())),
            Err(e) => return (g, Err(e)),
        };
        if !keep {
            fmt.track(&ev);
            continue;
        }
        let line = fmt.render_text(&ev);
        let line = String::from_utf8_lossy(line.strip_suffix(b"\n").unwrap_or(line));
        let tasks = events.tasks();
        let name = || match (ev.tid(), ev.tgid()) {
            (Some(t), Some(p)) => tasks.comm(t, p).unwrap_or("?").to_owned(),
            _ => "?".to_owned(),
        };
        match &ev {
            Event::Syscall(sc) => g.call(sc, &line, &name),
            _ => g.marker(&ev, &line, &name),
        }
    }
}

/// The process tree's nodes, from `recorder info`'s table.
fn processes(report: &info::InfoReport) -> Vec<Process> {
    report
        .processes
        .iter()
        .map(|p| Process {
            pid: p.pid,
            parent: p.parent,
            names: p.names.clone(),
            threads: p.threads.len(),
            calls: p.calls,
            errors: p.errors,
            end: p.end(),
            crashed: p
                .fatal_signal
                .is_some_and(|s| crate::event::SignalEvent::CRASH_SIGNALS.contains(&s)),
        })
        .collect()
}

/// The page: the document inlined as JSON (with every `<` escaped, so no
/// string in it can close the script element), then style and script.
pub fn write_page(out: &mut dyn Write, data: &PageData) -> std::io::Result<()> {
    let json = serde_json::to_string(data).map_err(std::io::Error::from)?;
    let json = json.replace('<', "\\u003c");
    let title = html_escape(&format!("recorder report: {}", data.title));
    write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n\
         <noscript>This report draws itself with JavaScript; the data is in the \
         script element with id \"report-data\" (JSON).</noscript>\n\
         <script type=\"application/json\" id=\"report-data\">{json}</script>\n\
         <script>\n{JS}</script>\n</body>\n</html>\n"
    )
}

/// The embedded document of a page written by [`write_page`], for tests.
pub fn embedded_json(page: &str) -> Option<&str> {
    let start = page.find("id=\"report-data\">")? + "id=\"report-data\">".len();
    let len = page[start..].find("</script>")?;
    Some(&page[start..start + len])
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
