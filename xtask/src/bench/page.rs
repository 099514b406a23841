//! The bench's `recorder report` section: a page of a million-call log
//! (fx-loop's open/write/close loop, 333,334 iterations: paths, buffers
//! and descriptors in every line, like a real program's), how long
//! generating it takes, how big it is (bytes per embedded call), and how
//! long headless Chromium takes until the page is interactive
//! (tests/browser/check_report.py --measure: navigation to the page's
//! `data-ready`, its first timeline draw, and a search over every embedded
//! call). Nothing here passes or fails on a time.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};
use serde_json::json;

use super::Env;
use super::process::{file_size, measure};
use super::report::median;
use crate::setup;

/// Iterations of fx-loop --openwrite: three calls each, so a million calls.
const ITERATIONS: u64 = 333_334;

pub struct Page {
    calls: u64,
    log_bytes: u64,
    generate: Vec<Duration>,
    page_bytes: u64,
    embedded: u64,
    /// check_report.py --measure's JSON, one per run.
    browser: Vec<serde_json::Value>,
}

/// Records the log, then makes and opens its page `runs` times.
pub fn measure_page(env: &Env, runs: usize) -> Result<Page> {
    let log = env.path("page.rec");
    let mut rec = env.command(&env.recorder);
    rec.arg("-q")
        .arg("-o")
        .arg(&log)
        .arg("--")
        .arg(&env.fx_loop);
    rec.args(["--openwrite", &ITERATIONS.to_string()]);
    measure(&mut rec, false)?.success()?;
    let html = env.path("page.html");
    let mut p = Page {
        calls: 0,
        log_bytes: file_size(&log)?,
        generate: Vec::new(),
        page_bytes: 0,
        embedded: 0,
        browser: Vec::new(),
    };
    let script = crate::util::project_root().join("tests/browser/check_report.py");
    for _ in 0..runs {
        let mut cmd = env.command(&env.recorder);
        cmd.arg("report").arg(&log).arg("-o").arg(&html);
        let out = measure(&mut cmd, false)?.success()?;
        p.generate.push(out.wall);
        let mut cmd = env.command(setup::PYTHON);
        cmd.arg(&script)
            .arg(&html)
            .args(["--measure", "--search", "fx-loop"]);
        let out = measure(&mut cmd, true)?.success()?;
        let v: serde_json::Value = serde_json::from_str(out.stdout.trim())
            .with_context(|| format!("check_report.py --measure printed {:?}", out.stdout))?;
        p.browser.push(v);
    }
    p.page_bytes = file_size(&html)?;
    let (calls, embedded) = counts(&html)?;
    (p.calls, p.embedded) = (calls, embedded);
    Ok(p)
}

/// Calls in the log and calls embedded, from the page's own document.
fn counts(html: &Path) -> Result<(u64, u64)> {
    let page =
        std::fs::read_to_string(html).with_context(|| format!("cannot read {}", html.display()))?;
    let num = |key: &str| {
        let at = page.find(key)? + key.len();
        let digits: String = page[at..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        digits.parse().ok()
    };
    Ok((
        num("\"calls_total\":").context("no calls_total in the page")?,
        num("\"calls_embedded\":").context("no calls_embedded in the page")?,
    ))
}

impl Page {
    fn med(&self, key: &str) -> Option<f64> {
        median(
            self.browser
                .iter()
                .filter_map(|v| v[key].as_f64())
                .collect(),
        )
    }

    /// Bytes of page per embedded call, what the rest (style, script,
    /// aggregates) included.
    fn bytes_per_call(&self) -> f64 {
        self.page_bytes as f64 / self.embedded.max(1) as f64
    }

    pub fn markdown(&self) -> String {
        let ms = |v: Option<f64>| v.map_or_else(|| "—".into(), |v| format!("{v:.0} ms"));
        format!(
            "## Report page\n\n`recorder report` of a {}-call log (`recorder -o LOG -- fx-loop \
             --openwrite {ITERATIONS}`, {:.1} MB), median of {} runs: generating **{} ms**; the \
             page is **{:.2} MB** with {} calls embedded (the default `--max-calls`), \
             **{:.0} bytes per embedded call** all included; headless Chromium: interactive \
             after **{}** (navigation to the page's ready mark; first timeline draw {}), a \
             search over every embedded call {}.",
            self.calls,
            self.log_bytes as f64 / 1e6,
            self.generate.len(),
            super::report::fmt_ms(
                median(
                    self.generate
                        .iter()
                        .map(|d| d.as_secs_f64() * 1e3)
                        .collect()
                )
                .unwrap_or(0.0)
            ),
            self.page_bytes as f64 / 1e6,
            self.embedded,
            self.bytes_per_call(),
            ms(self.med("ready_ms")),
            ms(self.med("draw_ms")),
            ms(self.med("search_s").map(|s| s * 1e3)),
        )
    }

    pub fn json(&self) -> serde_json::Value {
        json!({
            "calls": self.calls,
            "log_bytes": self.log_bytes,
            "generate_seconds": self.generate.iter().map(Duration::as_secs_f64).collect::<Vec<_>>(),
            "page_bytes": self.page_bytes,
            "embedded_calls": self.embedded,
            "browser": self.browser,
        })
    }
}
