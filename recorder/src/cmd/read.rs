//! `recorder info`, `stats`, `export`, `report` and `diff`: the library's reader commands
//! ([`recorder::read`]) wired to standard output, standard error and files.

use std::io::{BufWriter, IsTerminal as _, Write as _};

use anyhow::Context as _;
use recorder::cli::{DiffArgs, ExportArgs, InfoArgs, ReportArgs, StatsArgs};
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

pub fn report(args: &ReportArgs) -> anyhow::Result<()> {
    let spec = args.filter.spec();
    // The page says how it was made: this command line, without the
    // binary's own path.
    let made_by = std::iter::once("recorder".to_owned())
        .chain(std::env::args().skip(1))
        .collect::<Vec<_>>()
        .join(" ");
    let opts = read::report::Options {
        max_calls: args.max_calls,
        string_limit: args.string_limit,
        made_by,
    };
    let mut err = std::io::stderr();
    let default_name;
    let path = match &args.output {
        Some(p) if p.as_os_str() == "-" => None,
        Some(p) => Some(p.as_path()),
        None => {
            let mut name = args.file.file_name().unwrap_or_default().to_owned();
            name.push(".html");
            default_name = std::path::PathBuf::from(name);
            Some(default_name.as_path())
        }
    };
    let Some(path) = path else {
        let stdout = std::io::stdout();
        let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
        let res = read::report::run(&args.file, &spec, &opts, &mut out, &mut err);
        out.flush()?;
        return Ok(res?);
    };
    // Gathered before the file is created: a log that cannot be read
    // leaves no empty page behind.
    let (data, res) = read::report::gather(&args.file, &spec, &opts, &mut err)?;
    let f =
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut out = BufWriter::with_capacity(1 << 20, f);
    read::report::write_page(&mut out, &data)
        .and_then(|()| out.flush())
        .with_context(|| format!("writing {}", path.display()))?;
    eprintln!("recorder: wrote {}", path.display());
    res.map_err(|source| read::ReadError::Stopped {
        path: args.file.clone(),
        source,
    })?;
    Ok(())
}

pub fn diff(args: &DiffArgs) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let opts = recorder::diff::Options { all: args.all };
    recorder::diff::run(&args.good, &args.bad, opts, args.json, &mut out)?;
    out.flush()?;
    Ok(())
}
