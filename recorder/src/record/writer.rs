//! The log writer thread: encoding, compression and disk writes happen here,
//! off the drain path, behind a bounded queue. When the queue is full the
//! drain does not wait: the batch is counted as lost (`user_dropped`), so a
//! disk that cannot keep up costs records that are *reported*, never a
//! stalled drain that would overflow the kernel ring unnoticed.

use std::{
    fs::File,
    io::{self, BufWriter},
    path::PathBuf,
    sync::mpsc::{self, Receiver, SyncSender, TrySendError},
    thread::JoinHandle,
};

use thiserror::Error;

use super::now_ns;

use recorder::{
    event::{Counters, Event, Header, Trailer},
    log::{LogError, LogWriter},
};

/// Batches in flight between the drain and the writer.
const QUEUE_BATCHES: usize = 64;
/// zstd level for log blocks, chosen with `cargo xtask bench-zstd
/// --arm64` (docs/design.md has the table). On x86 level 3 costs the writer
/// about 124 ns per getppid record (25% of a core at 2M records/s) against
/// 114 ns for level 1, for 3-7% smaller logs when data is captured; level 4
/// costs more for the same size, and 5+ cost 2-4x for 5-10% less. The
/// emulated arm64 guest puts levels 1-2 at 0.7-0.85x of level 3's time: if
/// a real board turns out writer-bound, 1 is the next step down.
pub const ZSTD_LEVEL: i32 = 3;

#[derive(Debug, Error)]
pub enum WriterError {
    #[error("cannot create the log {path}")]
    Create {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("writing the log {path} failed after {events} records")]
    Write {
        path: PathBuf,
        events: u64,
        #[source]
        source: LogError,
    },
    /// Everything went through the log writer, but handing the last
    /// buffer to the file or fsync failed: there is no log offset to name.
    #[error("cannot sync the log {path} to disk after {events} records")]
    Sync {
        path: PathBuf,
        events: u64,
        #[source]
        source: io::Error,
    },
    #[error("the log writer thread stopped unexpectedly")]
    Gone,
}

enum Msg {
    Batch(Vec<Event>),
    Flush,
    /// Close the current file (with its trailer) and start a new one at
    /// the same path: SIGHUP, after an external log rotation moved it.
    Reopen,
    Finish(Trailer),
}

/// `--rotate-size` / `--rotate-count`: the log becomes `PATH` (newest),
/// `PATH.1`, ... `PATH.(count-1)` (oldest), each a complete log of about
/// `size` bytes (plus at most one block).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rotation {
    pub size: u64,
    pub count: u32,
}

pub struct Writer {
    tx: SyncSender<Msg>,
    handle: JoinHandle<Result<WriterStats, WriterError>>,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct WriterStats {
    /// Events written, over all files.
    pub events: u64,
    /// Size of the last file.
    pub bytes: u64,
}

/// Opens (creates, mode 0600, truncating) the log file. Done before anything
/// is loaded, so a bad output path fails fast.
pub fn create_file(path: &std::path::Path) -> Result<File, WriterError> {
    use std::os::unix::fs::OpenOptionsExt as _;
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(|source| WriterError::Create {
            path: path.to_owned(),
            source,
        })
}

impl Writer {
    pub fn start(
        file: File,
        path: PathBuf,
        header: Header,
        rotation: Option<Rotation>,
    ) -> Result<Self, WriterError> {
        let files = Files::new(file, path, header, rotation)?;
        let (tx, rx) = mpsc::sync_channel(QUEUE_BATCHES);
        let handle = std::thread::Builder::new()
            .name("log-writer".into())
            .spawn(move || writer_loop(files, rx))
            .map_err(|_| WriterError::Gone)?;
        Ok(Self { tx, handle })
    }

    /// Starts a new file at the same path without losing a record (the
    /// queue keeps order: everything before goes to the old file).
    pub fn reopen(&self) -> Result<(), WriterError> {
        self.tx.send(Msg::Reopen).map_err(|_| WriterError::Gone)
    }

    /// Queues a batch without blocking. On a full queue the batch is
    /// returned (the caller counts it as lost); `Err` means the writer died.
    pub fn send(&self, batch: Vec<Event>) -> Result<Option<Vec<Event>>, WriterError> {
        match self.tx.try_send(Msg::Batch(batch)) {
            Ok(()) => Ok(None),
            Err(TrySendError::Full(Msg::Batch(b))) => Ok(Some(b)),
            Err(TrySendError::Full(_)) => Ok(None),
            Err(TrySendError::Disconnected(_)) => Err(WriterError::Gone),
        }
    }

    /// Queues a batch, waiting for room (lossless mode: while the drain
    /// waits, the ring fills and the programs pause the traced processes,
    /// so nothing is dropped anywhere).
    pub fn send_wait(&self, batch: Vec<Event>) -> Result<(), WriterError> {
        self.tx
            .send(Msg::Batch(batch))
            .map_err(|_| WriterError::Gone)
    }

    /// Asks the writer to write out what it holds (bounded latency).
    pub fn flush(&self) -> Result<(), WriterError> {
        match self.tx.try_send(Msg::Flush) {
            Ok(()) | Err(TrySendError::Full(_)) => Ok(()),
            Err(TrySendError::Disconnected(_)) => Err(WriterError::Gone),
        }
    }

    /// Whether the writer thread has stopped (it only stops on an error
    /// before `finish`).
    pub fn is_dead(&self) -> bool {
        self.handle.is_finished()
    }

    /// Writes everything queued, then the trailer, and closes the file.
    /// Blocks: call from a blocking context.
    pub fn finish(self, last: Vec<Event>, trailer: Trailer) -> Result<WriterStats, WriterError> {
        // Blocking sends: at the end, waiting for the disk is right.
        let sent =
            self.tx.send(Msg::Batch(last)).is_ok() && self.tx.send(Msg::Finish(trailer)).is_ok();
        drop(self.tx);
        let res = self.handle.join().map_err(|_| WriterError::Gone)?;
        match res {
            Ok(stats) if sent => Ok(stats),
            Ok(_) => Err(WriterError::Gone),
            Err(e) => Err(e),
        }
    }

    /// Stops the writer after an error and returns that error.
    pub fn into_error(self) -> WriterError {
        drop(self.tx);
        match self.handle.join() {
            Ok(Err(e)) => e,
            _ => WriterError::Gone,
        }
    }
}

/// The files a recording writes: the current one, plus rotation.
struct Files {
    path: PathBuf,
    header: Header,
    rotation: Option<Rotation>,
    w: LogWriter<BufWriter<File>>,
    /// The latest counters from the stream, for each file's trailer.
    last_counters: Counters,
    /// Events in files already closed.
    closed_events: u64,
}

impl Files {
    fn new(
        file: File,
        path: PathBuf,
        header: Header,
        rotation: Option<Rotation>,
    ) -> Result<Self, WriterError> {
        let w = Self::log_writer(file, &path, &header)?;
        Ok(Self {
            path,
            header,
            rotation,
            w,
            last_counters: Counters::default(),
            closed_events: 0,
        })
    }

    fn log_writer(
        file: File,
        path: &std::path::Path,
        header: &Header,
    ) -> Result<LogWriter<BufWriter<File>>, WriterError> {
        LogWriter::new(BufWriter::with_capacity(1 << 20, file), header, ZSTD_LEVEL).map_err(
            |source| WriterError::Write {
                path: path.to_owned(),
                events: 0,
                source,
            },
        )
    }

    fn err(&self, source: LogError) -> WriterError {
        WriterError::Write {
            path: self.path.clone(),
            events: self.events(),
            source,
        }
    }

    fn events(&self) -> u64 {
        self.closed_events + self.w.events_written()
    }

    fn append(&mut self, ev: &Event) -> Result<(), WriterError> {
        if let Event::Counters(c) = ev {
            self.last_counters = c.clone();
        }
        self.w.append(ev).map_err(|e| self.err(e))?;
        if let Some(r) = self.rotation
            && self.w.bytes_written() >= r.size
        {
            self.rotate(r.count)?;
        }
        Ok(())
    }

    /// Writes what is pending, then `trailer` (its `written` set to this
    /// file's events), and closes the file. Returns (events, bytes).
    fn close(&mut self, next: File, mut trailer: Trailer) -> Result<(u64, u64), WriterError> {
        self.w.flush_block().map_err(|e| self.err(e))?;
        let events = self.w.events_written();
        trailer.counters.written = events;
        let replacement = Self::log_writer(next, &self.path, &self.header)?;
        let old = std::mem::replace(&mut self.w, replacement);
        let bytes = finish_file(old, &trailer, &self.path, self.closed_events + events)?;
        self.closed_events += events;
        Ok((events, bytes))
    }

    /// A trailer for a file closed mid-recording: the counters so far.
    fn interim_trailer(&self) -> Trailer {
        let (end_wall_ns, end_mono_ns) = now_ns();
        Trailer {
            end_wall_ns,
            end_mono_ns,
            counters: self.last_counters.clone(),
        }
    }

    fn rotate(&mut self, count: u32) -> Result<(), WriterError> {
        let name = |i: u32| {
            let mut p = self.path.clone().into_os_string();
            p.push(format!(".{i}"));
            PathBuf::from(p)
        };
        // Shift PATH.(n) -> PATH.(n+1), dropping the oldest, so the set never
        // exceeds `count` files.
        let last = count.saturating_sub(1);
        if last == 0 {
            let _ = std::fs::remove_file(&self.path);
        } else {
            let _ = std::fs::remove_file(name(last));
            for i in (1..last).rev() {
                let _ = std::fs::rename(name(i), name(i + 1));
            }
            let _ = std::fs::rename(&self.path, name(1));
        }
        let next = create_file(&self.path)?;
        let trailer = self.interim_trailer();
        self.close(next, trailer)?;
        Ok(())
    }

    fn reopen(&mut self) -> Result<(), WriterError> {
        let next = create_file(&self.path)?;
        let trailer = self.interim_trailer();
        self.close(next, trailer)?;
        Ok(())
    }
}

/// Finishes a log file: trailer, flush, fsync. Returns its size.
fn finish_file(
    w: LogWriter<BufWriter<File>>,
    trailer: &Trailer,
    path: &std::path::Path,
    events: u64,
) -> Result<u64, WriterError> {
    let io_err = |source| WriterError::Sync {
        path: path.to_owned(),
        events,
        source,
    };
    let out = w.finish(trailer).map_err(|source| WriterError::Write {
        path: path.to_owned(),
        events,
        source,
    })?;
    let file = out.into_inner().map_err(|e| io_err(e.into_error()))?;
    let bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
    file.sync_all().map_err(io_err)?;
    Ok(bytes)
}

fn writer_loop(mut files: Files, rx: Receiver<Msg>) -> Result<WriterStats, WriterError> {
    while let Ok(msg) = rx.recv() {
        match msg {
            Msg::Batch(events) => {
                for ev in &events {
                    files.append(ev)?;
                }
            }
            Msg::Flush => files.w.flush_block().map_err(|e| files.err(e))?,
            Msg::Reopen => files.reopen()?,
            Msg::Finish(mut trailer) => {
                files.w.flush_block().map_err(|e| files.err(e))?;
                let file_events = files.w.events_written();
                trailer.counters.written = file_events;
                let events = files.events();
                let Files { w, path, .. } = files;
                let bytes = finish_file(w, &trailer, &path, events)?;
                return Ok(WriterStats { events, bytes });
            }
        }
    }
    // The sender went away without Finish: write what we have, no trailer
    // (the reader reports the log as cut short).
    let _ = files.w.flush_block();
    Ok(WriterStats {
        events: files.events(),
        bytes: files.w.bytes_written(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use recorder::event::Syscall;

    /// A full disk, through the real writer thread (/dev/full fails every
    /// write with ENOSPC): the cause and the offset are printed once each.
    /// They were printed twice when `WriterError::Write` put its source in
    /// its own message too.
    #[test]
    fn full_disk_error_names_its_cause_once() {
        let path = PathBuf::from("/dev/full");
        let file = File::options().write(true).open(&path).expect("/dev/full");
        let w = Writer::start(file, path, Header::default(), None).unwrap();
        let calls = (0..3)
            .map(|seq| {
                Event::Syscall(Syscall {
                    seq,
                    ..Default::default()
                })
            })
            .collect();
        let err = w.finish(calls, Trailer::default()).unwrap_err();
        let text = format!("{:#}", anyhow::Error::from(err));
        assert!(
            text.starts_with(
                "writing the log /dev/full failed after 3 records: I/O error at offset "
            ),
            "{text}"
        );
        assert!(
            text.ends_with(": No space left on device (os error 28)"),
            "{text}"
        );
        assert_eq!(text.matches("No space left on device").count(), 1, "{text}");
        assert_eq!(text.matches("offset").count(), 1, "{text}");
    }
}
