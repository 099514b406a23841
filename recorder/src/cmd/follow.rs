//! `recorder dump --follow FILE`: print a log as it grows, like `tail -F`,
//! on across rotation and SIGHUP reopen, until interrupted.
//!
//! The log reader stays free of system calls and of waiting: it reads a
//! [`Growing`] file, whose `read` waits at the end of the data for more
//! instead of returning 0. So the reader never sees a frame the recorder
//! is still writing as truncated: it simply waits inside it, and resumes
//! at the next frame boundary once the frame is whole. `Growing` ends (a
//! real 0) only when the file is finished for good: when FILE names
//! another file (the recorder creates the next file only after it closed
//! this one, trailer included, so nothing more will come), or when the
//! file was cut shorter than what was read (a new recording truncated
//! it). A file whose trailer was read, or that is damaged, is finished
//! too; then FILE is watched until it names a new file.
//!
//! A file that was moved away (logrotate's `mv`, before the SIGHUP) is
//! still read to its trailer: the recorder writes its last blocks into it
//! before starting the new one.

use std::{
    cell::Cell,
    fs::File,
    io::{self, Read},
    os::unix::fs::MetadataExt as _,
    path::{Path, PathBuf},
    rc::Rc,
    time::Duration,
};

use anyhow::Context as _;
use recorder::{cli::DumpArgs, decode::Formatter, event::Header, read::Events};

/// How often the end of the file and the path are looked at while
/// nothing new comes.
const POLL: Duration = Duration::from_millis(100);

/// Which file a path names: device and inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileId {
    dev: u64,
    ino: u64,
}

impl FileId {
    fn of(m: &std::fs::Metadata) -> Self {
        Self {
            dev: m.dev(),
            ino: m.ino(),
        }
    }

    /// What `path` names now, `None` when nothing (mid-rotation).
    fn at(path: &Path) -> Option<(Self, u64)> {
        std::fs::metadata(path)
            .ok()
            .map(|m| (Self::of(&m), m.len()))
    }
}

/// A log file that is still being written: `read` waits for more at its
/// end, and returns 0 only once the file is finished (see the module
/// documentation).
struct Growing {
    file: File,
    id: FileId,
    path: PathBuf,
    /// Bytes read so far; shared, as the reader owns the `Growing`.
    pos: Rc<Cell<u64>>,
}

impl Growing {
    fn open(path: &Path) -> io::Result<Self> {
        let file = File::open(path)?;
        let id = FileId::of(&file.metadata()?);
        Ok(Self {
            file,
            id,
            path: path.to_owned(),
            pos: Rc::default(),
        })
    }

    /// Whether nothing more will be written to this file: the path names
    /// another one, or it was cut shorter than what was read.
    fn finished(&self) -> io::Result<bool> {
        if self.file.metadata()?.len() < self.pos.get() {
            return Ok(true);
        }
        Ok(FileId::at(&self.path).is_some_and(|(id, _)| id != self.id))
    }
}

impl Read for Growing {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let n = self.file.read(buf)?;
            if n > 0 || buf.is_empty() {
                self.pos.set(self.pos.get() + n as u64);
                return Ok(n);
            }
            if self.finished()? {
                // Read once more after deciding: what was written before
                // the switch is in the file by now.
                let n = self.file.read(buf)?;
                self.pos.set(self.pos.get() + n as u64);
                return Ok(n);
            }
            std::thread::sleep(POLL);
        }
    }
}

/// Waits until `path` names a file other than `done` (or `done` cut
/// shorter than `read`, a new recording over it).
fn wait_for_next(path: &Path, done: FileId, read: u64) {
    loop {
        match FileId::at(path) {
            Some((id, _)) if id != done => return,
            Some((_, len)) if len < read => return,
            _ => std::thread::sleep(POLL),
        }
    }
}

pub fn run(args: &DumpArgs) -> anyhow::Result<()> {
    let spec = args.filter.spec();
    let path = &args.file;
    let mut fmt: Option<(Formatter, Header)> = None;
    let mut first = true;
    loop {
        let input = Growing::open(path).with_context(|| format!("cannot open {}", path.display()));
        let input = match input {
            Ok(input) => input,
            // Mid-rotation the path may name nothing for a moment.
            Err(_) if !first => {
                std::thread::sleep(POLL);
                continue;
            }
            Err(e) => return Err(e),
        };
        let (id, pos) = (input.id, input.pos.clone());
        let mut reader = Events::from_reader(io::BufReader::new(input), path, &spec)?;
        if !first {
            eprintln!("recorder: following the new {}", path.display());
        }
        first = false;
        reader.write_warnings(&mut io::stderr())?;
        let f = formatter_for(args, &mut fmt, reader.header())?;
        // Line by line: lines must not wait in a buffer while the
        // recording is quiet.
        let res = super::dump::print_events(&mut reader, f, true, &mut io::stdout().lock())?;
        super::dump::say_summary(&reader);
        if let Err(e) = res {
            // A damaged frame stops this file; the next one may be fine.
            eprintln!(
                "recorder: {}: stopped reading: {:#}",
                path.display(),
                anyhow::Error::from(e)
            );
        }
        // Whether it ended at its trailer, at damage or because it was
        // replaced: what comes next is another file at the path (at once
        // when it was replaced), never this one again.
        wait_for_next(path, id, pos.get());
    }
}

/// The formatter for a file with `header`: the previous one when the file
/// continues the same recording (rotation and reopen repeat its header),
/// so descriptor names and the thread prefix carry on; else a new one.
fn formatter_for<'a>(
    args: &DumpArgs,
    fmt: &'a mut Option<(Formatter, Header)>,
    header: &Header,
) -> anyhow::Result<&'a mut Formatter> {
    let same = fmt.as_ref().is_some_and(|(_, h)| {
        h.start_mono_ns == header.start_mono_ns
            && h.arch == header.arch
            && h.hostname == header.hostname
    });
    if !same {
        *fmt = Some((super::dump::formatter(args, header)?, header.clone()));
    }
    Ok(&mut fmt.as_mut().expect("set above").0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;

    /// `Growing` waits at the end for more, and ends once the path names
    /// another file; what was written before the switch is read.
    #[test]
    fn growing_file_ends_when_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.rec");
        let mut w = File::create(&path).unwrap();
        w.write_all(b"first ").unwrap();
        let mut g = Growing::open(&path).unwrap();
        let writer = {
            let path = path.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(300));
                w.write_all(b"second").unwrap();
                std::fs::rename(&path, path.with_extension("rec.1")).unwrap();
                std::fs::write(&path, b"new file").unwrap();
            })
        };
        let mut got = Vec::new();
        g.read_to_end(&mut got).unwrap();
        writer.join().unwrap();
        assert_eq!(got, b"first second");
    }

    /// A file moved away is not finished while nothing replaced it (the
    /// recorder writes on until its SIGHUP).
    #[test]
    fn moved_file_is_read_on() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.rec");
        let mut w = File::create(&path).unwrap();
        let g = Growing::open(&path).unwrap();
        std::fs::rename(&path, dir.path().join("moved.rec")).unwrap();
        assert!(!g.finished().unwrap());
        w.write_all(b"more").unwrap();
        std::fs::write(&path, b"").unwrap();
        assert!(g.finished().unwrap());
    }
}
