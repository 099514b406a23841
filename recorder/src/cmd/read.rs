//! `recorder info`, `stats`, `export` and `report`: the library's reader commands
//! ([`recorder::read`]) wired to standard output, standard error and files.

use std::io::{BufWriter, Write as _};

use anyhow::Context as _;
use recorder::cli::{ExportArgs, InfoArgs, ReportArgs, StatsArgs};
use recorder::read;

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
            let f = std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?;
            let mut out = BufWriter::with_capacity(1 << 20, f);
            let res = read::export::run(&args.file, &spec, args.format, &mut out, &mut err);
            out.flush()
                .with_context(|| format!("writing {}", path.display()))?;
            Ok(res?)
        }
        _ => {
            let stdout = std::io::stdout();
            let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
            let res = read::export::run(&args.file, &spec, args.format, &mut out, &mut err);
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
