//! The config file (`--config PATH`, TOML): what the command line can say
//! about a recording, for a service that runs all day. Keys are the record
//! command's long flag names (`comm`, `capture-size`, `rotate-size`, ...);
//! flags given on the command line override the file.
//!
//! Pure parsing, no I/O: the binary reads the file. Errors name the key and
//! the line: a typo in a service's config must not be guessed at.

use std::{ops::Range, path::PathBuf, time::Duration};

use serde::Deserialize;
use toml::Spanned;

use crate::cli::{Threshold, parse_duration, parse_size, parse_threshold};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Syntax errors, unknown keys, wrong types (toml's message has the line).
    #[error(transparent)]
    Toml(#[from] toml::de::Error),
    #[error("line {line}: `{key}`: {message}")]
    Value {
        key: &'static str,
        line: usize,
        message: String,
    },
}

/// A size: `4096` or `"64K"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum SizeValue {
    Int(u64),
    Str(String),
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Raw {
    pid: Option<Vec<u32>>,
    comm: Option<Vec<String>>,
    no_follow: Option<bool>,
    output: Option<PathBuf>,
    capture_size: Option<Spanned<SizeValue>>,
    ring_size: Option<Spanned<SizeValue>>,
    wakeup_threshold: Option<Spanned<String>>,
    overflow: Option<Spanned<String>>,
    mode: Option<Spanned<String>>,
    flush_interval: Option<Spanned<String>>,
    rotate_size: Option<Spanned<SizeValue>>,
    rotate_count: Option<u32>,
    quiet: Option<bool>,
    snapshot_dir: Option<PathBuf>,
    snapshot_window: Option<Spanned<String>>,
    snapshot_on_failure: Option<bool>,
    trace: Option<Vec<Spanned<String>>>,
}

/// A parsed, validated config file. `None`: not set in the file.
#[derive(Debug, Default, PartialEq)]
pub struct FileConfig {
    pub pids: Option<Vec<u32>>,
    pub comms: Option<Vec<String>>,
    pub no_follow: Option<bool>,
    pub output: Option<PathBuf>,
    pub capture_size: Option<u64>,
    pub ring_size: Option<u64>,
    pub wakeup_threshold: Option<Threshold>,
    pub overflow: Option<crate::cli::Overflow>,
    pub mode: Option<crate::cli::CallMode>,
    pub flush_interval: Option<Duration>,
    pub rotate_size: Option<u64>,
    pub rotate_count: Option<u32>,
    pub quiet: Option<bool>,
    pub snapshot_dir: Option<PathBuf>,
    pub snapshot_window: Option<Duration>,
    pub snapshot_on_failure: Option<bool>,
    /// `trace = ["openat", "%process"]`: `-e`, one expression per element.
    pub trace: Option<Vec<crate::read::TraceExpr>>,
}

fn line_of(text: &str, span: Range<usize>) -> usize {
    text[..span.start.min(text.len())].matches('\n').count() + 1
}

fn value<T, V>(
    text: &str,
    key: &'static str,
    v: Option<Spanned<V>>,
    parse: impl Fn(&V) -> Result<T, String>,
) -> Result<Option<T>, ConfigError> {
    v.map(|s| {
        parse(s.get_ref()).map_err(|message| ConfigError::Value {
            key,
            line: line_of(text, s.span()),
            message,
        })
    })
    .transpose()
}

fn size(v: &SizeValue) -> Result<u64, String> {
    match v {
        SizeValue::Int(n) => Ok(*n),
        SizeValue::Str(s) => parse_size(s),
    }
}

/// `trace = [...]`: each element an `-e` expression.
fn trace_exprs(
    text: &str,
    v: Vec<Spanned<String>>,
) -> Result<Vec<crate::read::TraceExpr>, ConfigError> {
    v.into_iter()
        .map(|e| {
            crate::read::parse_trace(e.get_ref()).map_err(|message| ConfigError::Value {
                key: "trace",
                line: line_of(text, e.span()),
                message,
            })
        })
        .collect()
}

impl FileConfig {
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let raw: Raw = toml::from_str(text)?;
        Ok(Self {
            pids: raw.pid,
            comms: raw.comm,
            no_follow: raw.no_follow,
            output: raw.output,
            capture_size: value(text, "capture-size", raw.capture_size, size)?,
            ring_size: value(text, "ring-size", raw.ring_size, size)?,
            wakeup_threshold: value(text, "wakeup-threshold", raw.wakeup_threshold, |s| {
                parse_threshold(s)
            })?,
            overflow: value(text, "overflow", raw.overflow, |s| {
                <crate::cli::Overflow as clap::ValueEnum>::from_str(s, false)
                    .map_err(|_| format!("{s:?}: expected \"pause\" or \"drop\""))
            })?,
            mode: value(text, "mode", raw.mode, |s| {
                <crate::cli::CallMode as clap::ValueEnum>::from_str(s, false)
                    .map_err(|_| format!("{s:?}: expected \"full\" or \"lean\""))
            })?,
            flush_interval: value(text, "flush-interval", raw.flush_interval, |s| {
                parse_duration(s)
            })?,
            rotate_size: value(text, "rotate-size", raw.rotate_size, size)?,
            rotate_count: raw.rotate_count,
            quiet: raw.quiet,
            snapshot_dir: raw.snapshot_dir,
            snapshot_window: value(text, "snapshot-window", raw.snapshot_window, |s| {
                parse_duration(s)
            })?,
            snapshot_on_failure: raw.snapshot_on_failure,
            trace: raw.trace.map(|v| trace_exprs(text, v)).transpose()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_file() {
        let c = FileConfig::parse(
            r#"
comm = ["myapp", "helper"]
pid = [42]
no-follow = true
output = "/var/log/recorder/myapp.rec"
capture-size = "8K"
ring-size = 16777216
wakeup-threshold = "10%"
mode = "lean"
flush-interval = "500ms"
rotate-size = "64M"
rotate-count = 8
quiet = true
trace = ["%process", "!%memory"]
"#,
        )
        .unwrap();
        assert_eq!(
            c.comms.as_deref(),
            Some(&["myapp".to_owned(), "helper".to_owned()][..])
        );
        assert_eq!(c.pids, Some(vec![42]));
        assert_eq!(c.no_follow, Some(true));
        assert_eq!(c.mode, Some(crate::cli::CallMode::Lean));
        assert_eq!(c.capture_size, Some(8192));
        assert_eq!(c.ring_size, Some(16 << 20));
        assert_eq!(c.wakeup_threshold, Some(Threshold::Percent(10.0)));
        assert_eq!(c.flush_interval, Some(Duration::from_millis(500)));
        assert_eq!(c.rotate_size, Some(64 << 20));
        assert_eq!(c.rotate_count, Some(8));
        let trace: Vec<String> = c.trace.unwrap().iter().map(|e| e.to_string()).collect();
        assert_eq!(trace, ["%process", "!%memory"]);
        let e = FileConfig::parse("\ntrace = [\"openat\", \"opne\"]\n")
            .unwrap_err()
            .to_string();
        assert_eq!(e, "line 2: `trace`: unknown syscall \"opne\"");
    }

    /// The config the package installs must load.
    #[test]
    fn packaged_default_config_parses() {
        let text = include_str!("../../packaging/recorder.toml");
        let c = FileConfig::parse(text).unwrap();
        assert_eq!(
            c.output.as_deref(),
            Some(std::path::Path::new("/var/log/recorder/recorder.rec"))
        );
        assert_eq!(c.rotate_size, Some(64 << 20));
        assert_eq!(c.rotate_count, Some(8));
        assert!(c.comms.is_some());
    }

    #[test]
    fn empty_file_sets_nothing() {
        assert_eq!(FileConfig::parse("").unwrap(), FileConfig::default());
    }

    #[test]
    fn unknown_key_names_key_and_line() {
        let e = FileConfig::parse("comm = [\"a\"]\n\ncaptur-size = 10\n").unwrap_err();
        // What the binary prints: the whole chain, where toml's message
        // once came twice (as the message and again as the source).
        let e = format!("{:#}", anyhow::Error::from(e));
        assert_eq!(e.matches("TOML parse error at line 3").count(), 1, "{e}");
        assert!(e.contains("unknown field `captur-size`"), "{e}");
    }

    #[test]
    fn bad_value_names_key_and_line() {
        let e = FileConfig::parse("comm = [\"a\"]\nring-size = \"12Q\"\n")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "line 2: `ring-size`: unknown size suffix \"Q\" (use K, M or G)"
        );
        let e = FileConfig::parse("flush-interval = \"soon\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("line 1: `flush-interval`:"), "{e}");
    }

    #[test]
    fn wrong_type_is_an_error_with_a_line() {
        let e = FileConfig::parse("\nrotate-count = \"eight\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2"), "{e}");
        assert!(e.contains("rotate-count"), "{e}");
    }
}
