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

use recorder::{
    event::{Event, Header, Trailer},
    log::{LogError, LogWriter},
};

/// Batches in flight between the drain and the writer.
const QUEUE_BATCHES: usize = 64;
/// zstd level for log blocks.
pub const ZSTD_LEVEL: i32 = 3;

#[derive(Debug, Error)]
pub enum WriterError {
    #[error("cannot create the log {path}: {source}")]
    Create {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("writing the log {path} failed after {events} records: {source}")]
    Write {
        path: PathBuf,
        events: u64,
        #[source]
        source: LogError,
    },
    #[error("the log writer thread stopped unexpectedly")]
    Gone,
}

enum Msg {
    Batch(Vec<Event>),
    Flush,
    Finish(Trailer),
}

pub struct Writer {
    tx: SyncSender<Msg>,
    handle: JoinHandle<Result<WriterStats, WriterError>>,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct WriterStats {
    pub events: u64,
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
    pub fn start(file: File, path: PathBuf, header: Header) -> Result<Self, WriterError> {
        let w = LogWriter::new(BufWriter::with_capacity(1 << 20, file), &header, ZSTD_LEVEL)
            .map_err(|source| WriterError::Write {
                path: path.clone(),
                events: 0,
                source,
            })?;
        let (tx, rx) = mpsc::sync_channel(QUEUE_BATCHES);
        let handle = std::thread::Builder::new()
            .name("log-writer".into())
            .spawn(move || writer_loop(w, rx, path))
            .map_err(|_| WriterError::Gone)?;
        Ok(Self { tx, handle })
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

fn writer_loop(
    mut w: LogWriter<BufWriter<File>>,
    rx: Receiver<Msg>,
    path: PathBuf,
) -> Result<WriterStats, WriterError> {
    let err = |w: &LogWriter<_>, source| WriterError::Write {
        path: path.clone(),
        events: w.events_written(),
        source,
    };
    while let Ok(msg) = rx.recv() {
        match msg {
            Msg::Batch(events) => {
                for ev in &events {
                    w.append(ev).map_err(|e| err(&w, e))?;
                }
            }
            Msg::Flush => w.flush_block().map_err(|e| err(&w, e))?,
            Msg::Finish(mut trailer) => {
                w.flush_block().map_err(|e| err(&w, e))?;
                trailer.counters.written = w.events_written();
                let events = w.events_written();
                let out = w.finish(&trailer).map_err(|source| WriterError::Write {
                    path: path.clone(),
                    events,
                    source,
                })?;
                let file = out.into_inner().map_err(|e| WriterError::Write {
                    path: path.clone(),
                    events,
                    source: LogError::Io {
                        offset: 0,
                        source: e.into_error(),
                    },
                })?;
                let bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
                file.sync_all().map_err(|e| WriterError::Write {
                    path: path.clone(),
                    events,
                    source: LogError::Io {
                        offset: 0,
                        source: e,
                    },
                })?;
                return Ok(WriterStats { events, bytes });
            }
        }
    }
    // The sender went away without Finish: write what we have, no trailer
    // (the reader reports the log as cut short).
    let _ = w.flush_block();
    Ok(WriterStats {
        events: w.events_written(),
        bytes: w.bytes_written(),
    })
}
