//! `recorder --live`: strace-format lines on stderr while recording, made
//! by `recorder dump`'s formatter from the batches the writer has written.
//!
//! Why this shape: the drain is the recording's critical path, and the
//! writer's queue is what lets it keep up, so neither may wait for a
//! terminal. The writer hands a written batch to this thread only when its
//! queue has room ([`writer::Tap`]); otherwise it recycles the batch and
//! counts its records as missed, and this thread says so where the lines
//! are missing and at the end. Nothing is copied: the batch itself comes
//! here and goes back to the drain's spares afterwards. The thread runs
//! under SCHED_IDLE, so formatting takes only CPU time the traced programs
//! and the recorder leave over, as printing the same lines from the log
//! later would; under a storm of calls most lines are then left out (and
//! counted), never the records.

use std::{
    io::{self, Write},
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
        mpsc::{self, Receiver, SyncSender},
    },
    thread::JoinHandle,
};

use recorder::{
    decode::{Formatter, TextOptions},
    event::{Event, Header},
    log::{FORMAT_VERSION, Skipped, record},
};

use super::batch::{Batch, ItemRef};
use super::writer::Tap;

/// Written batches waiting to be printed: a few, so that a burst the
/// terminal cannot take costs lines rather than memory.
const QUEUE_BATCHES: usize = 4;

/// Nice value of the printing thread where SCHED_IDLE is refused: below
/// the traced programs (0) and the recorder's drain (-10).
const NICE: i32 = 19;

/// The receiving end of a tap, before its thread starts (the writer must
/// exist first: the thread hands batches back to it).
pub struct Pending {
    rx: Receiver<(u64, Batch)>,
    missed: Arc<AtomicU64>,
}

/// A tap for the writer, and what its thread will read.
pub fn channel() -> (Tap, Pending) {
    let (tx, rx) = mpsc::sync_channel(QUEUE_BATCHES);
    let missed = Arc::new(AtomicU64::new(0));
    let tap = Tap {
        tx,
        missed: missed.clone(),
    };
    (tap, Pending { rx, missed })
}

/// The printing thread.
pub struct Live {
    handle: JoinHandle<()>,
    missed: Arc<AtomicU64>,
}

impl Pending {
    /// Starts printing; `spare` takes the batches back.
    pub fn spawn(
        self,
        header: &Header,
        opts: &TextOptions,
        spare: SyncSender<Batch>,
    ) -> io::Result<Live> {
        let mut fmt = Formatter::new(header).map_err(io::Error::other)?;
        fmt.text_options(opts);
        let missed = self.missed.clone();
        let handle = std::thread::Builder::new()
            .name("live".into())
            .spawn(move || {
                lower_priority();
                let out = io::BufWriter::with_capacity(1 << 16, io::stderr());
                print_batches(&self.rx, &spare, &mut fmt, &self.missed, out);
            })?;
        Ok(Live { handle, missed })
    }
}

impl Live {
    /// Waits for the lines of every batch handed over (the writer has
    /// finished, so no more come); returns the records not shown.
    pub fn finish(self) -> u64 {
        let _ = self.handle.join();
        self.missed.load(Ordering::Relaxed)
    }
}

/// Best effort: SCHED_IDLE, so that printing runs only on CPU time
/// nothing else wants (a nice value still takes its share: at nice 10
/// the traced programs were measurably slower on 2 cores); nice 19 where
/// that is refused. Scheduling is per thread on Linux.
fn lower_priority() {
    // SAFETY: sched_param is plain integers, and all zero (priority 0) is
    // what SCHED_IDLE takes. Zeroed rather than a struct literal: musl's
    // has fields glibc's lacks.
    let param: libc::sched_param = unsafe { std::mem::zeroed() };
    // SAFETY: plain system calls on this thread's own id, with a valid
    // sched_param.
    unsafe {
        let tid = libc::gettid();
        if libc::sched_setscheduler(tid, libc::SCHED_IDLE, &param) != 0 {
            libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, NICE);
        }
    }
}

/// Prints every batch until the writer goes away. A failed write to
/// stderr (closed) ends printing, never recording.
fn print_batches(
    rx: &Receiver<(u64, Batch)>,
    spare: &SyncSender<Batch>,
    fmt: &mut Formatter,
    missed: &AtomicU64,
    mut out: impl Write,
) {
    let mut said = 0;
    let mut skipped = Skipped::default();
    while let Ok((before, mut batch)) = rx.recv() {
        said += before;
        let res = say_missed(&mut out, before)
            .and_then(|()| print_batch(&mut out, fmt, &batch, &mut skipped))
            .and_then(|()| out.flush());
        batch.clear();
        let _ = spare.try_send(batch);
        if res.is_err() {
            return;
        }
    }
    // Missed after the last batch handed over.
    let rest = missed.load(Ordering::Relaxed).saturating_sub(said);
    let _ = say_missed(&mut out, rest).and_then(|()| out.flush());
}

/// Where lines are missing, says how many.
fn say_missed(out: &mut impl Write, n: u64) -> io::Result<()> {
    if n > 0 {
        writeln!(
            out,
            "recorder: --live fell behind: {n} records not shown here (the log has them)"
        )?;
    }
    Ok(())
}

fn print_batch(
    out: &mut impl Write,
    fmt: &mut Formatter,
    batch: &Batch,
    skipped: &mut Skipped,
) -> io::Result<()> {
    for item in batch.iter() {
        let decoded;
        let ev = match item {
            ItemRef::Event(ev) => ev,
            ItemRef::Encoded { bytes, .. } => {
                match record::decode(bytes, FORMAT_VERSION, skipped) {
                    Ok(record::Decoded::Event(ev)) => {
                        decoded = ev;
                        &decoded
                    }
                    // The drain encoded it with this very format: cannot
                    // happen, and a line is all it would cost.
                    _ => continue,
                }
            }
        };
        if matches!(ev, Event::Counters(_)) {
            continue;
        }
        fmt.learn_threads(ev);
        fmt.write_event(out, ev)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use recorder::event::{ProcEvent, Syscall};

    fn header() -> Header {
        Header {
            arch: "x86_64".into(),
            ..Default::default()
        }
    }

    /// Lines come in batch order, encoded records decoded, checkpoints
    /// left out; what the writer could not hand over is said where it is
    /// missing; batches go back to the spares.
    #[test]
    fn prints_batches_and_says_what_it_missed() {
        let (tx, rx) = mpsc::sync_channel(4);
        let (spare_tx, spare_rx) = mpsc::sync_channel(4);
        let missed = AtomicU64::new(0);
        let getppid = |tid, seq| Syscall {
            tgid: tid,
            tid,
            seq,
            nr: libc::SYS_getppid,
            ret: Some(1),
            enter_ns: 10 + seq,
            exit_ns: Some(11 + seq),
            ..Default::default()
        };
        let mut a = Batch::default();
        a.push(Event::Exec(ProcEvent {
            tgid: 7,
            tid: 7,
            comm: "x".into(),
            ..Default::default()
        }));
        a.push_encoded(&getppid(7, 0), std::iter::empty());
        a.push(Event::Counters(Default::default()));
        let mut b = Batch::default();
        b.push_encoded(&getppid(8, 0), std::iter::empty());
        tx.send((0, a)).unwrap();
        // The writer missed 5 records between the two batches, and 2
        // after the last.
        tx.send((5, b)).unwrap();
        missed.store(7, Ordering::Relaxed);
        drop(tx);
        let mut fmt = Formatter::new(&header()).unwrap();
        let mut out = Vec::new();
        print_batches(&rx, &spare_tx, &mut fmt, &missed, &mut out);
        let out = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = out.lines().collect();
        let said = |n| {
            format!("recorder: --live fell behind: {n} records not shown here (the log has them)")
        };
        assert_eq!(lines.len(), 5, "{out}");
        assert!(lines[0].contains("+++ exec"), "{out}");
        assert!(lines[1].ends_with(" getppid() = 1 <0.000000>"), "{out}");
        assert_eq!(lines[2], said(5));
        // A second thread: from here on lines say whose they are.
        assert!(
            lines[3].ends_with(" [pid 8] getppid() = 1 <0.000000>"),
            "{out}"
        );
        assert_eq!(lines[4], said(2));
        assert_eq!(spare_rx.try_iter().count(), 2);
    }
}
