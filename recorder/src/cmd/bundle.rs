//! `recorder bundle`: the file side of [`recorder::bundle`]. Opens the
//! inputs, writes the bundle through a private temporary file in the
//! output's directory that takes the output's name only once complete (so
//! a failed run leaves no half-written bundle, and `--force` never destroys
//! the old file before the new one exists), and reports on stderr.
//!
//! The bundle is created mode 0600 from its first byte: before redaction is
//! double-checked by a person it may hold captured data.

use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::os::unix::fs::{MetadataExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use recorder::bundle::{self, Input, Options};
use recorder::cli::{BundleArgs, Redact};

pub fn run(args: &BundleArgs) -> anyhow::Result<()> {
    let out = &args.output;
    if !args.force && out.symlink_metadata().is_ok() {
        bail!("{} exists (use --force to replace it)", out.display());
    }
    let out_id = std::fs::metadata(out).ok().map(|m| (m.dev(), m.ino()));
    let mut inputs = Vec::with_capacity(args.inputs.len());
    let mut seen = Vec::new();
    let mut bytes_in = 0u64;
    for path in &args.inputs {
        let f = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        let m = f
            .metadata()
            .with_context(|| format!("cannot stat {}", path.display()))?;
        if !m.is_file() {
            bail!("{}: not a regular file", path.display());
        }
        let id = (m.dev(), m.ino());
        if out_id == Some(id) {
            bail!(
                "{} is one of the inputs: write the bundle elsewhere",
                out.display()
            );
        }
        if seen.contains(&id) {
            bail!("{} is given twice", path.display());
        }
        seen.push(id);
        bytes_in += m.len();
        inputs.push(Input {
            name: path.display().to_string(),
            reader: BufReader::with_capacity(1 << 20, f),
        });
    }
    let opts = Options {
        since: args.since,
        until: args.until,
        pids: args.pids.clone(),
        comms: args.comms.clone(),
        redact_data: args.redact.contains(&Redact::Data),
        keep_data: args.keep_data.clone(),
        redact_host: args.redact.contains(&Redact::Host),
        redact_argv: args.redact.contains(&Redact::Argv),
        level: bundle::LEVEL,
    };

    let tmp = Partial::create(out)?;
    // `sudo recorder bundle ...` makes a file for the user who ran it.
    if let Some(owner) = crate::record::privileges::sudo_invoker()? {
        crate::record::privileges::give(&tmp.file, &tmp.path, &owner)?;
    }
    let file = tmp
        .file
        .try_clone()
        .context("cannot duplicate a file handle")?;
    let (w, report) = bundle::bundle(inputs, &opts, BufWriter::with_capacity(1 << 20, file))?;
    let file = w
        .into_inner()
        .map_err(|e| e.into_error())
        .with_context(|| format!("cannot write {}", tmp.path.display()))?;
    file.sync_all()
        .with_context(|| format!("cannot write {}", tmp.path.display()))?;
    let bytes_out = file.metadata().map(|m| m.len()).unwrap_or(0);
    tmp.commit(out, args.force)?;

    for w in &report.warnings {
        eprintln!("recorder: warning: {w}");
    }
    eprintln!(
        "recorder: {}: {} events of {} from {} ({}), {} bytes (inputs: {} bytes)",
        out.display(),
        report.events,
        report.events_in,
        match report.order.len() {
            1 => "1 log".to_owned(),
            n => format!("{n} logs"),
        },
        report.order.join(", "),
        bytes_out,
        bytes_in
    );
    if !report.redactions.is_empty() {
        eprintln!("recorder: removed: {}", report.redactions.join("; "));
    }
    Ok(())
}

/// The bundle while it is written: `.NAME.PID.partial` next to the output,
/// removed on drop unless committed.
struct Partial {
    path: PathBuf,
    file: File,
    committed: bool,
}

impl Partial {
    fn create(out: &Path) -> anyhow::Result<Partial> {
        let name = out
            .file_name()
            .with_context(|| format!("{}: not a file name", out.display()))?;
        let mut tmp_name = std::ffi::OsString::from(".");
        tmp_name.push(name);
        tmp_name.push(format!(".{}.partial", std::process::id()));
        let path = out.with_file_name(tmp_name);
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        Ok(Partial {
            path,
            file,
            committed: false,
        })
    }

    /// Gives the finished file its name.
    fn commit(mut self, out: &Path, replace: bool) -> anyhow::Result<()> {
        // Checked again: the output may have appeared while we worked.
        if !replace && out.symlink_metadata().is_ok() {
            bail!("{} exists (use --force to replace it)", out.display());
        }
        std::fs::rename(&self.path, out).with_context(|| {
            format!("cannot rename {} to {}", self.path.display(), out.display())
        })?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for Partial {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}
