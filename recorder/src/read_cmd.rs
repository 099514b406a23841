//! `recorder info`, `stats`, `export` and `diff`: the library's reader commands
//! ([`recorder::read`]) wired to standard output, standard error and files.

use std::io::{BufWriter, IsTerminal as _, Write as _};

use anyhow::Context as _;
use recorder::cli::{DiffArgs, ExportArgs, InfoArgs, StatsArgs};
use recorder::read;
use recorder::read::export::ExportFormat;

pub fn info(args: &InfoArgs) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    Ok(read::info::run(&args.file, args.json, &mut out)?)
}

pub fn stats(args: &StatsArgs) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    Ok(read::stats::run(
        &args.file,
        &args.filter.spec(),
        args.top,
        args.json,
        &mut out,
        &mut std::io::stderr(),
    )?)
}

pub fn export(args: &ExportArgs) -> anyhow::Result<()> {
    let spec = args.filter.spec();
    let mut err = std::io::stderr();
    match &args.output {
        // A path of "-" is standard output, as for most tools.
        Some(path) if path.as_os_str() != "-" => {
            if args.format == ExportFormat::Parquet {
                // A missing or foreign log leaves no empty Parquet file.
                read::parquet::check_inputs(&args.files, &spec)?;
            }
            let f = std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?;
            let mut out = BufWriter::with_capacity(1 << 20, f);
            let res = read::export::run(&args.files, &spec, args.format, &mut out, &mut err);
            out.flush()
                .with_context(|| format!("writing {}", path.display()))?;
            Ok(res?)
        }
        _ if args.format == ExportFormat::Parquet && std::io::stdout().is_terminal() => {
            anyhow::bail!("not writing Parquet (binary) to a terminal: give -o FILE")
        }
        _ => {
            // Not the lock: Parquet's writer wants a Send output, and the
            // buffer makes the per-write locking of `Stdout` rare.
            let mut out = BufWriter::with_capacity(1 << 16, std::io::stdout());
            let res = read::export::run(&args.files, &spec, args.format, &mut out, &mut err);
            out.flush()?;
            Ok(res?)
        }
    }
}

pub fn diff(args: &DiffArgs) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let opts = recorder::diff::Options { all: args.all };
    recorder::diff::run(&args.good, &args.bad, opts, args.json, &mut out)?;
    out.flush()?;
    Ok(())
}
