//! Reading what the tracers leave behind: the recorder's exit summary
//! ([`RecorderSummary`]: records written and lost) and the text logs of
//! strace and perf trace ([`TextLog`]: size, calls, lost events).

use std::path::Path;

use anyhow::{Context, Result};

/// The recorder's exit summary: `recorder: N records written to FILE (B
/// bytes), none lost` or `…; LOST n (ring buffer full: a, …)`.
pub(super) struct RecorderSummary {
    pub(super) records: u64,
    pub(super) lost: u64,
    /// The `LOST n (…)` text, when something was lost.
    pub(super) loss: Option<String>,
}

impl RecorderSummary {
    pub(super) fn parse(stderr: &str) -> Result<Self> {
        let line = stderr
            .lines()
            .find(|l| {
                l.starts_with("recorder: ")
                    && (l.contains(" records written to ") || l.contains(" calls matched"))
            })
            .with_context(|| {
                format!(
                    "no summary line in the recorder's output: {}",
                    stderr.trim_end()
                )
            })?;
        let number = |s: &str| -> Result<u64> {
            let digits: String = s.chars().take_while(char::is_ascii_digit).collect();
            digits
                .parse()
                .with_context(|| format!("unexpected recorder summary: {line}"))
        };
        let records = number(&line["recorder: ".len()..])?;
        let loss = line.find("LOST ").map(|i| {
            let text = &line[i..];
            text[..text.find(')').map_or(text.len(), |j| j + 1)].to_owned()
        });
        let lost = match &loss {
            Some(text) => number(&text["LOST ".len()..])?,
            None => 0,
        };
        Ok(Self {
            records,
            lost,
            loss,
        })
    }
}

/// Size and line counts of a text tracer's log.
pub(super) struct TextLog {
    pub(super) bytes: u64,
    pub(super) records: u64,
    pub(super) lost: u64,
}

/// What one line of a text log is.
pub(super) enum Line {
    Record,
    Other,
    Lost(u64),
}

impl TextLog {
    pub(super) fn read(path: &Path, classify: fn(&str) -> Line) -> Result<Self> {
        let data =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let mut log = Self {
            bytes: data.len() as u64,
            records: 0,
            lost: 0,
        };
        for line in String::from_utf8_lossy(&data).lines() {
            match classify(line) {
                Line::Record => log.records += 1,
                Line::Lost(n) => log.lost += n,
                Line::Other => {}
            }
        }
        Ok(log)
    }

    /// `PID call(…) = r`; exits and signals (`+++`, `---`) and the second
    /// half of an interrupted call (`<... x resumed>`) are not calls.
    pub(super) fn strace(line: &str) -> Line {
        let rest = line
            .split_once(' ')
            .filter(|(pid, _)| pid.bytes().all(|b| b.is_ascii_digit()))
            .map_or(line, |(_, rest)| rest)
            .trim_start();
        if rest.is_empty()
            || rest.starts_with("+++")
            || rest.starts_with("---")
            || rest.contains(" resumed>")
        {
            Line::Other
        } else {
            Line::Record
        }
    }

    /// One line per call; `LOST n events!` when perf's buffer overflowed.
    pub(super) fn perf(line: &str) -> Line {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("LOST ") {
            let n = rest.split(' ').next().and_then(|n| n.parse().ok());
            return Line::Lost(n.unwrap_or(1));
        }
        if line.is_empty() {
            Line::Other
        } else {
            Line::Record
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_recorder_summaries() {
        let ok = RecorderSummary::parse(
            "recorder: recording pid 1 to x\nrecorder: 1000067 records written to /x (5968332 bytes), none lost\n",
        )
        .unwrap();
        assert_eq!((ok.records, ok.lost, ok.loss), (1_000_067, 0, None));
        let lost = RecorderSummary::parse(
            "recorder: 12 records written to /x (89 bytes); LOST 7250701 (ring buffer full: 1519, \
             not written: 7249182, stash full: 0); 3 calls were already in progress when recording started",
        )
        .unwrap();
        assert_eq!(lost.lost, 7_250_701);
        assert_eq!(
            lost.loss.as_deref(),
            Some("LOST 7250701 (ring buffer full: 1519, not written: 7249182, stash full: 0)")
        );
        assert!(RecorderSummary::parse("recorder: error: nope").is_err());
    }

    #[test]
    fn classifies_text_log_lines() {
        assert!(matches!(TextLog::strace("123 getppid() = 1"), Line::Record));
        assert!(matches!(
            TextLog::strace("123 +++ exited with 0 +++"),
            Line::Other
        ));
        assert!(matches!(
            TextLog::strace("123 <... read resumed>\"x\", 1) = 1"),
            Line::Other
        ));
        assert!(matches!(TextLog::perf("LOST 17 events!"), Line::Lost(17)));
        assert!(matches!(
            TextLog::perf("0.096 ( 0.019 ms): fx-loop/18532 brk() = 0x5"),
            Line::Record
        ));
    }
}
