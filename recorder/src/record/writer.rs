//! The log writer thread: encoding, compression and disk writes happen here,
//! off the drain path, behind a bounded queue. When the queue is full the
//! drain waits, and the kernel ring buffers meanwhile: in drop mode what it
//! cannot hold is dropped there and counted (`ring_full`, with a sequence
//! gap in its place), in lossless mode the traced programs are paused.
//! Records the drain took are never dropped, and memory stays bounded.
//!
//! A full disk (ENOSPC, or EDQUOT for a quota) costs the oldest data, not
//! the recording:
//! - With rotation, the oldest rotated file is deleted and the write tried
//!   again, as often as it takes.
//! - When there is nothing left to delete, the block that did not fit and
//!   the records after it are dropped and counted in `user_dropped`, and
//!   writing is tried again every [`FULL_RETRY`]. The log stays valid:
//!   every write first allocates room for itself *and* for the trailer
//!   behind it (`fallocate`, keeping the file size), so a disk that fills
//!   up is found before a byte of a frame is written, and the trailer
//!   always fits. On a file system that cannot preallocate, a torn frame is
//!   cut off instead, and the trailer fits if the cut left room for it.
//!
//! `-o -` writes the log to standard output, a pipe or whatever the shell
//! made of it: [`Space::Stream`] writes sequentially, without
//! preallocation, offsets, cutting or renaming, so rotation and SIGHUP
//! reopen are refused for it (`cmd::record`), and a write error there ends
//! the recording.
//!
//! After writing a batch the writer may hand it to a [`Tap`] (live output)
//! instead of recycling it: never waiting, so a slow terminal costs live
//! lines, counted, and never records.
//!
//! The log container (`recorder::log`) knows nothing of files: what is
//! file-system specific is here.

use std::{
    fs::File,
    io::{self, Write},
    os::unix::fs::FileExt as _,
    path::{Path, PathBuf},
    sync::{
        Arc,
        atomic::{AtomicU64, AtomicUsize, Ordering},
        mpsc::{self, Receiver, SyncSender, TrySendError},
    },
    thread::JoinHandle,
    time::{Duration, Instant},
};

use thiserror::Error;

use super::adapt::Adapt;
use super::batch::{Batch, ItemRef};
use super::now_ns;
use super::procfs::RunDelay;
use super::status::message;

use recorder::{
    event::{Counters, Event, Header, Trailer},
    log::{DEFAULT_BLOCK_SIZE, LogError, LogWriter},
};

/// Batches in flight between the drain and the writer: with the batch
/// limits (4096 records, 1 MiB of captured data) at most about 13 MiB, on
/// top of the ring. The ring is the buffer that absorbs bursts; this queue
/// only smooths the writer's compression and disk latency. 64 batches made
/// a starved recorder's peak RSS reach 150-220 MiB.
const QUEUE_BATCHES: usize = 8;
/// zstd level for log blocks, chosen with `cargo xtask bench-zstd
/// --arm64` and `examples/zstd_levels` (docs/design.md has the tables).
/// Level 3 cost 25-30% more writer CPU than level 1 (193 vs 153 ns per
/// getppid record, 3811 vs 2952 ns per tar record with capture) for logs
/// 0-8% smaller. The recorder's CPU per record decides how often lossless
/// mode must pause a slow board, so the cheaper level wins; 5+ cost 2-4x.
pub const ZSTD_LEVEL: i32 = 1;

/// Bytes kept allocated past the end of the log for its trailer. A trailer
/// is under 200 bytes (a 34-byte frame header and a dozen varints); the
/// rest is room for fields appended to `Counters` later.
const TRAILER_RESERVE: u64 = 4096;
/// How long records are dropped without trying, once the disk was found
/// full with nothing left to delete. Trying costs a compressed block, and
/// space comes back when someone frees it, which takes a while.
pub const FULL_RETRY: Duration = Duration::from_secs(5);

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
    Batch(Batch),
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
    /// Emptied batches coming back for reuse.
    spare: std::sync::Mutex<Receiver<Batch>>,
    /// Sends emptied batches to `spare` (a tap's thread recycles them too).
    spare_tx: SyncSender<Batch>,
    handle: JoinHandle<Result<WriterStats, WriterError>>,
    progress: Arc<Progress>,
}

/// What the writer has done so far, for the status line.
#[derive(Debug, Default)]
pub struct Progress {
    /// Bytes written, over all files.
    pub bytes: AtomicU64,
    /// Batches queued for the writer: how far behind it is (see `adapt`).
    pub queued: AtomicUsize,
}

/// Where written batches go next (live output), never waited for: when its
/// queue is full, the batch is recycled and its records (checkpoints
/// aside) counted in `missed`.
/// Each batch handed over comes with the count of items missed since the
/// one before, so the tap can say exactly where they are missing.
pub struct Tap {
    pub tx: SyncSender<(u64, Batch)>,
    pub missed: Arc<AtomicU64>,
}

/// Where and how the log is written.
pub struct Output {
    pub file: File,
    /// The path (`-` for standard output), for rotation, reopen and errors.
    pub path: PathBuf,
    /// Standard output (`-o -`): written as a stream (see the module
    /// documentation).
    pub stream: bool,
}

/// Emptied batches kept for reuse at most; more are freed.
const SPARE_BATCHES: usize = 2;

#[derive(Debug, Clone, Copy, Default)]
pub struct WriterStats {
    /// Events written, over all files.
    pub events: u64,
    /// Size of the last file.
    pub bytes: u64,
    /// Records (checkpoints aside) not written because the disk was full;
    /// the trailer's `user_dropped` includes them.
    pub disk_full: u64,
    /// Records written into blocks stored uncompressed because the writer
    /// was behind (see `adapt`).
    pub stored: u64,
}

/// Opens (creates, mode 0600, truncating) the log file. Done before anything
/// is loaded, so a bad output path fails fast.
pub fn create_file(path: &Path) -> Result<File, WriterError> {
    open_log(path).map_err(|source| WriterError::Create {
        path: path.to_owned(),
        source,
    })
}

fn open_log(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt as _;
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
}

impl Writer {
    /// Starts the writer thread; with a `tap`, every batch goes there once
    /// written (see [`Tap`]).
    pub fn start(
        out: Output,
        header: Header,
        rotation: Option<Rotation>,
        tap: Option<Tap>,
    ) -> Result<Self, WriterError> {
        let space = if out.stream {
            Space::Stream
        } else {
            Space::Fallocate
        };
        let files = Files::new(out.file, out.path, header, rotation, space)?;
        let (tx, rx) = mpsc::sync_channel(QUEUE_BATCHES);
        let (spare_tx, spare) = mpsc::sync_channel(SPARE_BATCHES);
        let progress = Arc::new(Progress::default());
        let ends = Ends {
            spare: spare_tx.clone(),
            tap,
            tap_missed: 0,
            progress: progress.clone(),
        };
        let handle = std::thread::Builder::new()
            .name("log-writer".into())
            .spawn(move || writer_loop(files, rx, ends))
            .map_err(|_| WriterError::Gone)?;
        Ok(Self {
            tx,
            spare: std::sync::Mutex::new(spare),
            spare_tx,
            handle,
            progress,
        })
    }

    /// Where a tap returns the batches it is done with.
    pub fn spare_sender(&self) -> SyncSender<Batch> {
        self.spare_tx.clone()
    }

    pub fn progress(&self) -> Arc<Progress> {
        self.progress.clone()
    }

    /// Starts a new file at the same path without losing a record (the
    /// queue keeps order: everything before goes to the old file).
    pub fn reopen(&self) -> Result<(), WriterError> {
        self.tx.send(Msg::Reopen).map_err(|_| WriterError::Gone)
    }

    /// Queues a batch, waiting for room (while the drain waits, the ring
    /// fills: see `send` in `record::run`). `Err` means the writer died.
    pub fn send_wait(&self, batch: Batch) -> Result<(), WriterError> {
        self.progress.queued.fetch_add(1, Ordering::Relaxed);
        self.tx
            .send(Msg::Batch(batch))
            .map_err(|_| WriterError::Gone)
    }

    /// An empty batch: one the writer is done with, or a new one.
    pub fn empty_batch(&self) -> Batch {
        let spare = self.spare.lock().ok().and_then(|rx| rx.try_recv().ok());
        spare.unwrap_or_default()
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
    pub fn finish(self, last: Batch, trailer: Trailer) -> Result<WriterStats, WriterError> {
        // Blocking sends: at the end, waiting for the disk is right.
        self.progress.queued.fetch_add(1, Ordering::Relaxed);
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

/// Whether an I/O error means the file system (or the user's quota) has no
/// room left.
fn is_disk_full(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::ENOSPC | libc::EDQUOT))
        || matches!(
            e.kind(),
            io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded
        )
}

fn log_disk_full(e: &LogError) -> Option<&io::Error> {
    match e {
        LogError::Io { source, .. } if is_disk_full(source) => Some(source),
        _ => None,
    }
}

/// `PATH.i`, the i-th rotated file (`PATH` itself for 0).
fn rotated_name(path: &Path, i: u32) -> PathBuf {
    if i == 0 {
        return path.to_owned();
    }
    let mut p = path.to_owned().into_os_string();
    p.push(format!(".{i}"));
    PathBuf::from(p)
}

/// The rotated files a full disk may take back, oldest first.
#[derive(Debug, Clone)]
struct Rotated {
    path: PathBuf,
    count: u32,
}

impl Rotated {
    /// Deletes the oldest rotated file (never `PATH`, the one being
    /// written); false when there is none left. Says so on stderr: the
    /// log has no event for it yet.
    fn remove_oldest(&self, why: &io::Error) -> bool {
        for i in (1..self.count).rev() {
            let p = rotated_name(&self.path, i);
            match std::fs::remove_file(&p) {
                Ok(()) => {
                    message!(
                        "recorder: warning: removed the oldest log {} to make room: {why}",
                        p.display()
                    );
                    return true;
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => {
                    // Deleting a newer file instead would leave a hole in
                    // the set's history: give up on making room.
                    message!(
                        "recorder: warning: cannot remove the oldest log {} to make room: {e}",
                        p.display()
                    );
                    return false;
                }
            }
        }
        false
    }
}

/// How a [`DiskFile`] makes sure of room before it writes.
#[derive(Debug, Clone)]
enum Space {
    /// `fallocate(FALLOC_FL_KEEP_SIZE)` of the write and the trailer
    /// reserve behind it: a full disk fails that, before anything is
    /// written, and the reserve stays allocated past the end of the file.
    Fallocate,
    /// The file system cannot preallocate (EOPNOTSUPP): a full disk shows
    /// as a write that fails part-way.
    Unreserved,
    /// Standard output (`-o -`): written in order with write(2), nothing
    /// preallocated, nothing cut off (a pipe cannot be), nothing synced.
    Stream,
    /// Tests: `dir` holds `capacity` bytes (its files' lengths, plus the
    /// reserve when `preallocate`), so a full disk can be tested without
    /// mounting one.
    #[cfg(test)]
    Simulated {
        dir: PathBuf,
        capacity: u64,
        preallocate: bool,
    },
}

/// The log file as the [`LogWriter`]'s output. Unbuffered: the writer
/// hands over whole frames, and knowing exactly what reached the file is
/// what lets a torn frame be cut off. Written sequentially from 0, so
/// `len` is both the file's length and where the next byte goes.
struct DiskFile {
    file: File,
    len: u64,
    /// Room kept allocated past every write, for the trailer; 0 while the
    /// trailer itself is written (into that room).
    reserve: u64,
    /// Where the trailer starts, once [`spend_reserve`](Self::spend_reserve)
    /// was called: a trailer that does not fit is cut off there.
    trailer_at: Option<u64>,
    space: Space,
    /// Where to find room when the disk is full.
    rotated: Option<Rotated>,
}

impl DiskFile {
    fn new(file: File, space: Space, rotated: Option<Rotated>) -> Self {
        Self {
            file,
            len: 0,
            reserve: TRAILER_RESERVE,
            trailer_at: None,
            space,
            rotated,
        }
    }

    /// Makes sure of room for `n` more bytes (and the reserve behind them);
    /// returns how many of them may be written.
    fn make_room(&mut self, n: usize) -> io::Result<usize> {
        match &self.space {
            Space::Fallocate => {
                use std::os::fd::AsRawFd as _;
                let want = n as u64 + self.reserve;
                // SAFETY: plain system call on a file descriptor we own.
                let r = unsafe {
                    libc::fallocate(
                        self.file.as_raw_fd(),
                        libc::FALLOC_FL_KEEP_SIZE,
                        self.len as libc::off_t,
                        want as libc::off_t,
                    )
                };
                if r == 0 {
                    return Ok(n);
                }
                let e = io::Error::last_os_error();
                if matches!(e.raw_os_error(), Some(libc::EOPNOTSUPP | libc::ENOSYS)) {
                    self.space = Space::Unreserved;
                    return Ok(n);
                }
                Err(e)
            }
            Space::Unreserved | Space::Stream => Ok(n),
            #[cfg(test)]
            &Space::Simulated {
                ref dir,
                capacity,
                preallocate,
            } => {
                let mut used = 0;
                for e in std::fs::read_dir(dir)? {
                    used += e?.metadata()?.len();
                }
                let full = || Err(io::Error::from_raw_os_error(libc::ENOSPC));
                if preallocate {
                    // Allocated: the files' lengths and this file's reserve
                    // past its end. A write fits if the disk holds the new
                    // end and a reserve behind it, or if it stays within
                    // the reserve already held (the trailer).
                    let n64 = n as u64;
                    if used + n64 + self.reserve > capacity && n64 + self.reserve > TRAILER_RESERVE
                    {
                        return full();
                    }
                    Ok(n)
                } else if used >= capacity {
                    full()
                } else {
                    Ok(n.min((capacity - used) as usize))
                }
            }
        }
    }

    fn write_once(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.make_room(buf.len())?;
        let n = match self.space {
            // A pipe has no offsets; neither need it: nothing is cut.
            Space::Stream => self.file.write(&buf[..n])?,
            _ => self.file.write_at(&buf[..n], self.len)?,
        };
        self.len += n as u64;
        Ok(n)
    }

    /// Cuts the file back to `len` bytes (a torn frame off its end).
    fn cut(&mut self, len: u64) -> io::Result<()> {
        if matches!(self.space, Space::Stream) {
            if len == self.len {
                // Nothing of the frame went out: the stream is whole.
                return Ok(());
            }
            // What reached a pipe is gone: a torn frame stays torn, and the
            // error that tore it ends the recording.
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "the log is a stream (standard output): a partly written frame cannot be taken back",
            ));
        }
        self.file.set_len(len)?;
        self.len = len;
        Ok(())
    }

    /// What is written next is the trailer: it goes into the reserve.
    fn spend_reserve(&mut self) {
        self.reserve = 0;
        self.trailer_at = Some(self.len);
    }

    /// Gives back the reserve left past the end, makes the file durable,
    /// and returns its length.
    fn close(self) -> io::Result<u64> {
        if matches!(self.space, Space::Stream) {
            // Nothing was preallocated; a pipe cannot be synced.
            return Ok(self.len);
        }
        // Truncating to its own length frees what was preallocated past it.
        self.file.set_len(self.len)?;
        self.file.sync_all()?;
        Ok(self.len)
    }
}

impl Write for DiskFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        loop {
            match self.write_once(buf) {
                Err(e) if is_disk_full(&e) => {
                    if self.rotated.as_ref().is_some_and(|r| r.remove_oldest(&e)) {
                        continue;
                    }
                    if let Some(at) = self.trailer_at {
                        // Without preallocation the trailer may not fit:
                        // then the log had better end on the frame before.
                        let _ = self.cut(at);
                    }
                    return Err(e);
                }
                r => return r,
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The files a recording writes: the current one, plus rotation, and what
/// a full disk costs.
struct Files {
    path: PathBuf,
    header: Header,
    rotation: Option<Rotation>,
    /// The current file. `None` when a new file (rotation, SIGHUP) found no
    /// room even for its header: records are dropped until there is.
    w: Option<LogWriter<DiskFile>>,
    space: Space,
    block_size: usize,
    /// The latest counters from the stream, for each file's trailer.
    last_counters: Counters,
    /// Events in files already closed.
    closed_events: u64,
    /// Bytes of the files already closed.
    closed_bytes: u64,
    /// Records, checkpoints aside, not written because the disk was full.
    /// Added to `user_dropped` in every checkpoint and trailer written
    /// after them. Checkpoints are not counted: the next one or the
    /// trailer says all they said.
    disk_dropped: u64,
    /// When the disk was found full with nothing left to delete: records
    /// are dropped without trying until [`FULL_RETRY`] has passed.
    full_since: Option<Instant>,
    retry: Duration,
    /// Why the last new file could not be created (when `w` is `None`).
    no_file: Option<io::Error>,
    /// The full-disk warning was printed: once per recording.
    warned: bool,
    /// Blocks are stored uncompressed (see `adapt`), in every file.
    store: bool,
}

impl Files {
    fn new(
        file: File,
        path: PathBuf,
        header: Header,
        rotation: Option<Rotation>,
        space: Space,
    ) -> Result<Self, WriterError> {
        let mut files = Self {
            path,
            header,
            rotation,
            w: None,
            space,
            block_size: DEFAULT_BLOCK_SIZE,
            last_counters: Counters::default(),
            closed_events: 0,
            closed_bytes: 0,
            disk_dropped: 0,
            full_since: None,
            retry: FULL_RETRY,
            no_file: None,
            warned: false,
            store: false,
        };
        // At the start a full disk is an error like any other: better not
        // to start than to record nothing.
        let w = files
            .log_writer(file)
            .map_err(|source| WriterError::Write {
                path: files.path.clone(),
                events: 0,
                source,
            })?;
        files.w = Some(w);
        Ok(files)
    }

    fn log_writer(&self, file: File) -> Result<LogWriter<DiskFile>, LogError> {
        let rotated = self.rotation.map(|r| Rotated {
            path: self.path.clone(),
            count: r.count,
        });
        let out = DiskFile::new(file, self.space.clone(), rotated);
        let mut w = LogWriter::new(out, &self.header, ZSTD_LEVEL)?.with_block_size(self.block_size);
        w.set_store(self.store);
        Ok(w)
    }

    fn set_store(&mut self, store: bool) {
        self.store = store;
        if let Some(w) = &mut self.w {
            w.set_store(store);
        }
    }

    fn err(&self, source: LogError) -> WriterError {
        WriterError::Write {
            path: self.path.clone(),
            events: self.events(),
            source,
        }
    }

    fn events(&self) -> u64 {
        self.closed_events + self.w.as_ref().map_or(0, LogWriter::events_written)
    }

    /// Whether records are dropped without trying because the disk was
    /// found full less than `retry` ago.
    fn full(&mut self) -> bool {
        match self.full_since {
            Some(t) if t.elapsed() < self.retry => true,
            Some(_) => {
                self.full_since = None;
                false
            }
            None => false,
        }
    }

    fn drop_for_full_disk(&mut self, record: bool) {
        if record {
            self.disk_dropped += 1;
        }
    }

    /// Records that the disk is full, warning the first time.
    fn disk_full(&mut self, why: &io::Error) {
        self.full_since = Some(Instant::now());
        if !self.warned {
            self.warned = true;
            let rotated = if self.rotation.is_some() {
                " and no older log is left to remove"
            } else {
                ""
            };
            message!(
                "recorder: warning: no room for the log {}{rotated}: {why}; records are dropped \
                 and counted as lost until there is room again (the log stays complete)",
                self.path.display()
            );
        }
    }

    fn append(&mut self, ev: &Event) -> Result<(), WriterError> {
        let patched;
        let ev = match ev {
            Event::Counters(c) => {
                let mut c = c.clone();
                c.user_dropped += self.disk_dropped;
                self.last_counters = c.clone();
                patched = Event::Counters(c);
                &patched
            }
            ev => ev,
        };
        // Checkpoints and pauses are not records the kernel emitted.
        let record = !matches!(ev, Event::Counters(_) | Event::Pause(_));
        self.append_with(record, |w| w.append(ev))
    }

    /// A syscall record the drain encoded (see `batch`).
    fn append_encoded(&mut self, bytes: &[u8], ts_ns: u64) -> Result<(), WriterError> {
        self.append_with(true, |w| w.append_encoded(bytes, ts_ns))
    }

    /// Appends with `f`, or drops and counts (when `record`) what the disk
    /// has no room for.
    fn append_with(
        &mut self,
        record: bool,
        f: impl FnOnce(&mut LogWriter<DiskFile>) -> Result<(), LogError>,
    ) -> Result<(), WriterError> {
        if self.full() {
            self.drop_for_full_disk(record);
            return Ok(());
        }
        if self.w.is_none() {
            self.open_next()?;
        }
        let Some(w) = self.w.as_mut() else {
            self.drop_for_full_disk(record);
            return Ok(());
        };
        let before = w.events_written() + w.pending_events();
        if let Err(e) = f(w) {
            if w.events_written() + w.pending_events() == before {
                // Failed writing the block before it: not buffered.
                self.drop_for_full_disk(record);
            }
            return self.write_failed(e);
        }
        if let Some(r) = self.rotation
            && w.bytes_written() >= r.size
        {
            self.rotate(r.count)?;
        }
        Ok(())
    }

    /// Writes out what is buffered (or drops it, when the disk is full).
    fn flush(&mut self) -> Result<(), WriterError> {
        if self.full() {
            return Ok(());
        }
        let Some(w) = self.w.as_mut() else {
            return Ok(());
        };
        match w.flush_block() {
            Ok(()) => Ok(()),
            Err(e) => self.write_failed(e),
        }
    }

    /// A write failed. A full disk turns writing off for a while: the file
    /// is cut back to its last complete frame and the block that did not
    /// fit is counted as dropped. Anything else is an error.
    fn write_failed(&mut self, e: LogError) -> Result<(), WriterError> {
        let Some(why) = log_disk_full(&e) else {
            return Err(self.err(e));
        };
        let w = self.w.as_mut().expect("a write failed, so there is a file");
        let at = w.committed_bytes();
        if let Err(source) = w.get_mut().cut(at) {
            return Err(self.err(LogError::Io { offset: at, source }));
        }
        w.resume_at_committed();
        let d = w.discard_pending();
        self.disk_dropped += d.events - d.checkpoints;
        self.disk_full(why);
        Ok(())
    }

    /// Writes what is pending (or drops it, on a full disk), then `trailer`
    /// (its `written` set to this file's events), and closes the file.
    /// Returns its size.
    fn close(&mut self, mut trailer: Trailer) -> Result<u64, WriterError> {
        self.flush()?;
        let Some(mut w) = self.w.take() else {
            return Ok(0);
        };
        let events = w.events_written();
        trailer.counters.written = events;
        self.closed_events += events;
        w.get_mut().spend_reserve();
        let bytes = finish_file(w, &trailer, &self.path, self.closed_events)?;
        self.closed_bytes += bytes;
        Ok(bytes)
    }

    /// Starts a new file at `path`. If there is no room even for its header
    /// once every rotated file is gone, recording goes on without a file:
    /// records are dropped, and creating it is tried again later.
    fn open_next(&mut self) -> Result<(), WriterError> {
        let no_room = match open_log(&self.path) {
            Ok(file) => match self.log_writer(file) {
                Ok(w) => {
                    self.w = Some(w);
                    self.no_file = None;
                    return Ok(());
                }
                Err(LogError::Io { source, .. }) if is_disk_full(&source) => {
                    // An empty or half-written header is no log: leave none.
                    let _ = std::fs::remove_file(&self.path);
                    source
                }
                Err(e) => return Err(self.err(e)),
            },
            Err(source) if is_disk_full(&source) => source,
            Err(source) => {
                return Err(WriterError::Create {
                    path: self.path.clone(),
                    source,
                });
            }
        };
        self.disk_full(&no_room);
        self.no_file = Some(no_room);
        Ok(())
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
        // The file is complete (trailer, fsync) before it is renamed, so
        // making room for the next one may delete it like any other.
        let trailer = self.interim_trailer();
        self.close(trailer)?;
        // Shift PATH.(n) -> PATH.(n+1), dropping the oldest, so the set never
        // exceeds `count` files.
        let name = |i: u32| rotated_name(&self.path, i);
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
        self.open_next()
    }

    fn reopen(&mut self) -> Result<(), WriterError> {
        let trailer = self.interim_trailer();
        self.close(trailer)?;
        self.open_next()
    }

    /// The last file: the trailer carries the final counters, plus the
    /// records the full disk cost.
    fn finish(mut self, mut trailer: Trailer) -> Result<WriterStats, WriterError> {
        self.flush()?;
        if self.w.is_none() {
            // A last try: without a file there is no log at all.
            self.full_since = None;
            self.open_next()?;
            if let Some(source) = self.no_file.take() {
                return Err(WriterError::Create {
                    path: self.path.clone(),
                    source,
                });
            }
        }
        trailer.counters.user_dropped += self.disk_dropped;
        let bytes = self.close(trailer)?;
        Ok(WriterStats {
            events: self.closed_events,
            bytes,
            disk_full: self.disk_dropped,
            stored: 0,
        })
    }
}

/// Finishes a log file: trailer, and the file closed durably. Returns its
/// size. A trailer that finds no room (only possible where space cannot be
/// preallocated) is cut off, with a warning: the log then ends after its
/// last complete block.
fn finish_file(
    w: LogWriter<DiskFile>,
    trailer: &Trailer,
    path: &Path,
    events: u64,
) -> Result<u64, WriterError> {
    let io_err = |source| WriterError::Sync {
        path: path.to_owned(),
        events,
        source,
    };
    let committed = w.committed_bytes();
    match w.finish(trailer) {
        Ok(out) => out.close().map_err(io_err),
        Err(e) => match log_disk_full(&e) {
            Some(why) => {
                message!(
                    "recorder: warning: no room for the trailer of {}: {why}; it ends without one, \
                     after its last complete block",
                    path.display()
                );
                Ok(committed)
            }
            None => Err(WriterError::Write {
                path: path.to_owned(),
                events,
                source: e,
            }),
        },
    }
}

/// Where the writer thread puts batches it wrote, and what it did.
struct Ends {
    spare: SyncSender<Batch>,
    tap: Option<Tap>,
    /// Items the tap missed since the last batch it got.
    tap_missed: u64,
    progress: Arc<Progress>,
}

impl Ends {
    fn note(&self, files: &Files) {
        let bytes = files.closed_bytes + files.w.as_ref().map_or(0, LogWriter::bytes_written);
        self.progress.bytes.store(bytes, Ordering::Relaxed);
    }

    /// A written batch goes to the tap if it has room, else back to the
    /// drain; never waits.
    fn done(&mut self, mut batch: Batch, files: &Files) {
        self.note(files);
        if let Some(tap) = &self.tap {
            match tap.tx.try_send((self.tap_missed, batch)) {
                Ok(()) => {
                    self.tap_missed = 0;
                    return;
                }
                Err(TrySendError::Full((_, b)) | TrySendError::Disconnected((_, b))) => {
                    // Checkpoints have no line: not counted as missed.
                    let n = b.shown() as u64;
                    self.tap_missed += n;
                    tap.missed.fetch_add(n, Ordering::Relaxed);
                    batch = b;
                }
            }
        }
        batch.clear();
        // Full: the drain has enough; this one is freed.
        let _ = self.spare.try_send(batch);
    }
}

fn writer_loop(
    mut files: Files,
    rx: Receiver<Msg>,
    mut ends: Ends,
) -> Result<WriterStats, WriterError> {
    let mut adapt = Adapt::default();
    let waits = RunDelay::open();
    while let Ok(msg) = rx.recv() {
        match msg {
            Msg::Batch(batch) => {
                write_batch(
                    &mut files,
                    &mut adapt,
                    &batch,
                    &ends.progress,
                    waits.as_ref(),
                )?;
                ends.done(batch, &files);
            }
            Msg::Flush => {
                files.flush()?;
                ends.note(&files);
            }
            Msg::Reopen => files.reopen()?,
            Msg::Finish(trailer) => {
                return files.finish(trailer).map(|stats| WriterStats {
                    stored: adapt.stored_records,
                    ..stats
                });
            }
        }
    }
    // The sender went away without Finish: write what we have, no trailer
    // (the reader reports the log as cut short).
    let _ = files.flush();
    Ok(WriterStats {
        events: files.events(),
        bytes: files.w.as_ref().map_or(0, LogWriter::bytes_written),
        disk_full: files.disk_dropped,
        stored: adapt.stored_records,
    })
}

/// Writes one batch, its blocks compressed or stored as `adapt` decides
/// from how many batches wait behind it.
///
/// `adapt` is told the batch's wall time less the time the thread waited
/// for a CPU (`waits`): on a busy or CPU-limited core a batch can wait far
/// longer than it works (75 ms of each 100 in a cgroup held to 25% of a
/// CPU), and one such wait made storing look dearer than compressing, so
/// the writer compressed for the next 256 batches while behind and the
/// ring overflowed. Time blocked in a write (a slow disk) still counts.
fn write_batch(
    files: &mut Files,
    adapt: &mut Adapt,
    batch: &Batch,
    progress: &Progress,
    waits: Option<&RunDelay>,
) -> Result<(), WriterError> {
    let backlog = progress.queued.fetch_sub(1, Ordering::Relaxed) - 1;
    files.set_store(adapt.store(backlog));
    let waited_before = waits.and_then(RunDelay::ns);
    let start = Instant::now();
    for item in batch.iter() {
        match item {
            ItemRef::Event(ev) => files.append(ev)?,
            ItemRef::Encoded { bytes, ts_ns } => files.append_encoded(bytes, ts_ns)?,
        }
    }
    let wall = start.elapsed().as_nanos() as u64;
    let waited = match (waited_before, waits.and_then(RunDelay::ns)) {
        (Some(before), Some(after)) => after.saturating_sub(before),
        _ => 0,
    };
    adapt.observe(wall.saturating_sub(waited), batch.len());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use recorder::{
        event::{Capture, CaptureKind, Syscall},
        log::{EndState, LogReader},
    };

    /// A system call carrying `SIZE` bytes that do not compress, so a few
    /// of them fill a small disk.
    fn call(seq: u64) -> Event {
        const SIZE: usize = 300;
        let mut x = seq.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let bytes = (0..SIZE)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        Event::Syscall(Syscall {
            tgid: 7,
            tid: 7,
            seq,
            enter_ns: 1_000 + seq,
            exit_ns: Some(1_001 + seq),
            ret: Some(0),
            data: vec![Capture {
                arg: 1,
                kind: CaptureKind::InBuf,
                len: SIZE as u64,
                truncated: false,
                read_failed: false,
                bytes,
            }],
            ..Default::default()
        })
    }

    /// What the drain sends: `n` calls, a checkpoint every 50 (its
    /// `user_dropped` the drain's own, 0 here).
    fn stream(n: u64) -> Vec<Event> {
        let mut out = Vec::new();
        for seq in 0..n {
            out.push(call(seq));
            if seq % 50 == 49 {
                out.push(Event::Counters(Counters {
                    emitted: seq + 1,
                    ..Default::default()
                }));
            }
        }
        out
    }

    fn final_trailer(emitted: u64) -> Trailer {
        Trailer {
            end_wall_ns: 1,
            end_mono_ns: 2,
            counters: Counters {
                emitted,
                ..Default::default()
            },
        }
    }

    struct Disk {
        dir: tempfile::TempDir,
        path: PathBuf,
    }

    impl Disk {
        fn new() -> Self {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("x.rec");
            Self { dir, path }
        }

        fn files(&self, rotation: Option<Rotation>, capacity: u64, preallocate: bool) -> Files {
            let space = Space::Simulated {
                dir: self.dir.path().to_owned(),
                capacity,
                preallocate,
            };
            let file = create_file(&self.path).unwrap();
            let mut f =
                Files::new(file, self.path.clone(), Header::default(), rotation, space).unwrap();
            // Small blocks, so that a small disk holds several.
            f.block_size = 4096;
            f.w = f.w.take().map(|w| w.with_block_size(f.block_size));
            f
        }

        fn used(&self) -> u64 {
            std::fs::read_dir(self.dir.path())
                .unwrap()
                .map(|e| e.unwrap().metadata().unwrap().len())
                .sum()
        }

        /// Fills the disk to `capacity`, as another program would.
        fn fill(&self, capacity: u64) -> PathBuf {
            let junk = self.dir.path().join("junk");
            let len = std::fs::metadata(&junk).map_or(0, |m| m.len());
            let add = capacity - self.used();
            std::fs::write(&junk, vec![0u8; (len + add) as usize]).unwrap();
            junk
        }
    }

    /// Reads a log that must be complete: its events and trailer.
    fn read(path: &Path) -> (Vec<Event>, Trailer) {
        let f = std::io::BufReader::new(File::open(path).unwrap());
        let mut r = LogReader::open(f).unwrap();
        let mut evs = Vec::new();
        while let Some(ev) = r.next_event().unwrap() {
            evs.push(ev);
        }
        assert_eq!(r.end_state(), EndState::Clean, "{}", path.display());
        (evs, r.trailer().unwrap().clone())
    }

    fn seqs(evs: &[Event]) -> Vec<u64> {
        evs.iter()
            .filter_map(|e| match e {
                Event::Syscall(s) => Some(s.seq),
                _ => None,
            })
            .collect()
    }

    fn full_disk_without_rotation(preallocate: bool) {
        const CAPACITY: u64 = 64 << 10;
        const N: u64 = 1000; // about 300 KB of data
        let disk = Disk::new();
        let mut f = disk.files(None, CAPACITY, preallocate);
        // Never retry: what is written is then exactly a prefix.
        f.retry = Duration::MAX;
        for ev in stream(N) {
            f.append(&ev).unwrap();
        }
        let stats = f.finish(final_trailer(N)).unwrap();
        assert!(disk.used() <= CAPACITY, "{} bytes", disk.used());
        let (evs, trailer) = read(&disk.path);
        let written = seqs(&evs);
        assert_eq!(written, (0..written.len() as u64).collect::<Vec<_>>());
        assert!(!written.is_empty() && stats.disk_full > 0, "{stats:?}");
        let c = &trailer.counters;
        assert_eq!(c.user_dropped, stats.disk_full);
        assert_eq!(written.len() as u64 + c.user_dropped, N, "{c:?}");
        assert_eq!(c.written, evs.len() as u64);
        assert_eq!(stats.events, evs.len() as u64);
        assert_eq!(stats.bytes, std::fs::metadata(&disk.path).unwrap().len());
    }

    #[test]
    fn full_disk_keeps_the_trailer_and_counts_every_record_not_written() {
        full_disk_without_rotation(true);
    }

    /// Where space cannot be preallocated, the torn frame is cut off and the
    /// trailer takes the room that frees.
    #[test]
    fn full_disk_without_preallocation_cuts_the_torn_frame_off() {
        full_disk_without_rotation(false);
    }

    /// Once there is room again, writing goes on; the checkpoints written
    /// after the gap count what it cost.
    #[test]
    fn writing_resumes_when_there_is_room_again() {
        const CAPACITY: u64 = 256 << 10;
        const N: u64 = 600;
        let disk = Disk::new();
        let mut f = disk.files(None, CAPACITY, true);
        f.retry = Duration::ZERO;
        let evs = stream(N);
        let junk = disk.fill(CAPACITY - (40 << 10));
        let mut it = evs.iter();
        for ev in it.by_ref() {
            f.append(ev).unwrap();
            if f.disk_dropped > 0 {
                break;
            }
        }
        assert!(f.disk_dropped > 0, "the disk filled up");
        std::fs::remove_file(junk).unwrap();
        for ev in it {
            f.append(ev).unwrap();
        }
        let stats = f.finish(final_trailer(N)).unwrap();
        let (got, trailer) = read(&disk.path);
        let written = seqs(&got);
        assert_eq!(written.last(), Some(&(N - 1)));
        assert_eq!(written.len() as u64 + stats.disk_full, N);
        assert_eq!(trailer.counters.user_dropped, stats.disk_full);
        // Every checkpoint after the gap includes it.
        let gap_at = written.windows(2).position(|w| w[1] != w[0] + 1).unwrap();
        let last_checkpoint = got.iter().rev().find_map(|e| match e {
            Event::Counters(c) => Some(c.user_dropped),
            _ => None,
        });
        assert!(gap_at > 0);
        assert_eq!(last_checkpoint, Some(stats.disk_full));
    }

    /// With rotation a full disk deletes the oldest files, and nothing is
    /// dropped: the files left hold the end of the recording, without a gap.
    #[test]
    fn full_disk_with_rotation_deletes_the_oldest_files() {
        const CAPACITY: u64 = 96 << 10;
        const N: u64 = 2000; // about 600 KB: 6 disks' worth
        let disk = Disk::new();
        let rotation = Rotation {
            size: 16 << 10,
            count: 8, // 8 files of 16 KiB do not fit
        };
        let mut f = disk.files(Some(rotation), CAPACITY, true);
        for ev in stream(N) {
            f.append(&ev).unwrap();
            assert!(disk.used() <= CAPACITY);
        }
        let stats = f.finish(final_trailer(N)).unwrap();
        assert_eq!(stats.disk_full, 0);
        let mut all = Vec::new();
        let mut kept = 0;
        for i in (0..rotation.count).rev() {
            let p = rotated_name(&disk.path, i);
            if !p.exists() {
                assert_eq!(kept, 0, "{} missing: only the oldest go", p.display());
                continue;
            }
            kept += 1;
            let (evs, trailer) = read(&p);
            assert_eq!(trailer.counters.user_dropped, 0);
            all.extend(seqs(&evs));
        }
        assert!(kept < rotation.count, "the oldest file was deleted");
        let first = all[0];
        assert!(first > 0, "the oldest records went with their file");
        assert_eq!(all, (first..N).collect::<Vec<_>>());
    }

    /// A new file (here after SIGHUP) with no room for its header:
    /// records are dropped until there is room, then the file is created.
    #[test]
    fn new_file_waits_for_room() {
        const CAPACITY: u64 = 128 << 10;
        let disk = Disk::new();
        let mut f = disk.files(
            Some(Rotation {
                size: 1 << 30,
                count: 4,
            }),
            CAPACITY,
            true,
        );
        f.retry = Duration::ZERO;
        let evs = stream(300);
        for ev in &evs[..100] {
            f.append(ev).unwrap();
        }
        // Moved away as logrotate would, then the disk fills up.
        let moved = disk.dir.path().join("moved.rec");
        std::fs::rename(&disk.path, &moved).unwrap();
        let junk = disk.fill(CAPACITY);
        f.reopen().unwrap();
        assert!(f.w.is_none() && !disk.path.exists());
        for ev in &evs[100..200] {
            f.append(ev).unwrap();
        }
        let dropped = f.disk_dropped;
        assert!(dropped >= 98, "{dropped}");
        std::fs::remove_file(junk).unwrap();
        for ev in &evs[200..] {
            f.append(ev).unwrap();
        }
        let stats = f.finish(final_trailer(300)).unwrap();
        let (old, _) = read(&moved);
        let (new, trailer) = read(&disk.path);
        let n = (seqs(&old).len() + seqs(&new).len()) as u64;
        assert_eq!(n + stats.disk_full, 300);
        assert_eq!(trailer.counters.user_dropped, stats.disk_full);
        assert_eq!(seqs(&new).last(), Some(&299));
    }

    /// Without a file at the end there is no log: that is an error.
    #[test]
    fn no_room_for_a_file_at_the_end_is_an_error() {
        const CAPACITY: u64 = 64 << 10;
        let disk = Disk::new();
        let mut f = disk.files(None, CAPACITY, true);
        for ev in &stream(10) {
            f.append(ev).unwrap();
        }
        std::fs::rename(&disk.path, disk.dir.path().join("moved.rec")).unwrap();
        disk.fill(CAPACITY);
        f.reopen().unwrap();
        let err = f.finish(final_trailer(10)).unwrap_err();
        assert!(
            matches!(&err, WriterError::Create { source, .. } if is_disk_full(source)),
            "{err:?}"
        );
    }

    /// `-o -`: the log written as a stream, with write(2) in order and
    /// nothing preallocated, cut or synced, reads as a complete log. (A
    /// pipe is what it is for; a pipe's reader would see the same bytes.)
    #[test]
    fn stream_output_is_a_complete_log() {
        let (rx, tx) = nix::unistd::pipe().unwrap();
        let reader = std::thread::spawn(move || {
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut File::from(rx), &mut bytes).unwrap();
            bytes
        });
        let mut f = Files::new(
            File::from(tx),
            PathBuf::from("-"),
            Header::default(),
            None,
            Space::Stream,
        )
        .unwrap();
        for ev in stream(120) {
            f.append(&ev).unwrap();
        }
        let stats = f.finish(final_trailer(120)).unwrap();
        let bytes = reader.join().unwrap();
        assert_eq!(stats.bytes, bytes.len() as u64);
        let mut r = LogReader::open(&bytes[..]).unwrap();
        let mut n = 0;
        while let Some(ev) = r.next_event().unwrap() {
            n += u64::from(matches!(ev, Event::Syscall(_)));
        }
        assert_eq!((n, r.end_state()), (120, EndState::Clean));
    }

    /// A tap gets every written batch while it keeps up; when its queue is
    /// full the writer goes on and counts what the tap missed.
    #[test]
    fn tap_never_holds_the_writer_up() {
        let disk = Disk::new();
        let (tap_tx, tap_rx) = mpsc::sync_channel(1);
        let missed = Arc::new(AtomicU64::new(0));
        let out = Output {
            file: create_file(&disk.path).unwrap(),
            path: disk.path.clone(),
            stream: false,
        };
        let tap = Tap {
            tx: tap_tx,
            missed: missed.clone(),
        };
        let w = Writer::start(out, Header::default(), None, Some(tap)).unwrap();
        // Nobody reads the tap: the first batch fills its queue, the
        // other two are missed, and all three are written.
        for i in 0..3 {
            let mut b = w.empty_batch();
            b.extend([call(2 * i), call(2 * i + 1)]);
            w.send_wait(b).unwrap();
        }
        let stats = w.finish(Batch::default(), final_trailer(6)).unwrap();
        assert_eq!(stats.events, 6);
        assert_eq!(missed.load(Ordering::Relaxed), 4);
        let (missed_before, first) = tap_rx.try_recv().unwrap();
        assert_eq!((missed_before, first.shown()), (0, 2));
        let (evs, _) = read(&disk.path);
        assert_eq!(seqs(&evs), (0..6).collect::<Vec<_>>());
    }

    /// A write error names each cause once: the message says what failed,
    /// the sources say why. It said "I/O error at offset N: I/O error at
    /// offset N: No space left on device" when `WriterError::Write` put its
    /// source in its own message too. (A full disk itself no longer ends
    /// the recording, see above; other write errors still do.)
    #[test]
    fn write_error_names_its_cause_once() {
        let err = WriterError::Write {
            path: PathBuf::from("/var/log/x.rec"),
            events: 3,
            source: LogError::Io {
                offset: 3110871,
                source: io::Error::from_raw_os_error(libc::EIO),
            },
        };
        let text = format!("{:#}", anyhow::Error::from(err));
        assert_eq!(
            text,
            format!(
                "writing the log /var/log/x.rec failed after 3 records: I/O error at offset 3110871: {}",
                io::Error::from_raw_os_error(libc::EIO)
            )
        );
    }
}
