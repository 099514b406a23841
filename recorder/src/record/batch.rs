//! What the drain hands the log writer.
//!
//! Most of a batch is system-call records, and those travel already in
//! their log encoding: the drain encodes each one straight from the ring
//! buffer (`Syscall::encode_with`), where the record is still in cache,
//! and the writer only frames and compresses. Building an `Event` for each
//! (a 150-byte struct, and a heap copy of every captured buffer) and
//! encoding it on the writer's core, where it arrived cold, was over a
//! third of the recorder's CPU per record. Other events (process events,
//! pauses, checkpoints, and every record while crash snapshots need to see
//! whole events) stay events.
//!
//! Batches are recycled: the writer sends emptied ones back, so the drain
//! does not allocate (and fault in) a megabyte per batch.

use recorder::event::{CaptureRef, Event, Syscall};

/// Records per batch handed to the writer.
pub const BATCH: usize = 4096;
/// Captured bytes per batch: with capture on, 4096 records of 4 KiB reads
/// would be 16 MiB a batch. With `writer::QUEUE_BATCHES` this bounds what
/// the daemon holds between the ring and the file. 256 KiB, one log block:
/// at 1 MiB, recording `tar` with capture peaked at 33-34 MiB RSS, at
/// 256 KiB 30-31 (docs/design.md, "Memory").
pub const BATCH_DATA_BYTES: usize = 256 << 10;

enum Item {
    /// Boxed: most items are `Encoded`, and a 16-byte item keeps the list
    /// small.
    Event(Box<Event>),
    /// The next `len` bytes of `Batch::bytes`: a `Syscall` event whose time
    /// (its entry) is `ts_ns`.
    Encoded { len: u32, ts_ns: u64 },
}

/// One item of a batch, in order.
pub enum ItemRef<'a> {
    Event(&'a Event),
    Encoded { bytes: &'a [u8], ts_ns: u64 },
}

pub struct Batch {
    items: Vec<Item>,
    /// The encoded records, back to back.
    bytes: Vec<u8>,
    /// Captured data in `Event` items (encoded ones count in `bytes`).
    event_data: usize,
}

impl Default for Batch {
    fn default() -> Self {
        Self {
            items: Vec::with_capacity(BATCH),
            bytes: Vec::new(),
            event_data: 0,
        }
    }
}

impl Batch {
    pub fn push(&mut self, ev: Event) {
        if let Event::Syscall(sc) = &ev {
            self.event_data += sc.data.iter().map(|c| c.bytes.len()).sum::<usize>();
        }
        self.items.push(Item::Event(Box::new(ev)));
    }

    /// Appends `sc` with `data` as its data items, encoded for the log.
    pub fn push_encoded<'a>(
        &mut self,
        sc: &Syscall,
        data: impl ExactSizeIterator<Item = CaptureRef<'a>>,
    ) {
        let start = self.bytes.len();
        sc.encode_with(&mut self.bytes, data);
        // A record is far below 4 GiB: its captures are bounded by the
        // ring's record size.
        let len = (self.bytes.len() - start) as u32;
        self.items.push(Item::Encoded {
            len,
            ts_ns: sc.enter_ns,
        });
    }

    pub fn extend(&mut self, events: impl IntoIterator<Item = Event>) {
        for ev in events {
            self.push(ev);
        }
    }

    /// Full: send it, and start another.
    pub fn is_full(&self) -> bool {
        self.items.len() >= BATCH || self.bytes.len() + self.event_data >= BATCH_DATA_BYTES
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Items that are not counter checkpoints: what `dump` would show a
    /// line for.
    pub fn shown(&self) -> usize {
        let checkpoints = self
            .items
            .iter()
            .filter(|i| matches!(i, Item::Event(ev) if matches!(**ev, Event::Counters(_))));
        self.items.len() - checkpoints.count()
    }

    pub fn iter(&self) -> impl Iterator<Item = ItemRef<'_>> {
        let mut off = 0;
        self.items.iter().map(move |item| match item {
            Item::Event(ev) => ItemRef::Event(ev),
            Item::Encoded { len, ts_ns } => {
                let end = off + *len as usize;
                let bytes = &self.bytes[off..end];
                off = end;
                ItemRef::Encoded {
                    bytes,
                    ts_ns: *ts_ns,
                }
            }
        })
    }

    /// Empties it for reuse, keeping its allocations (up to a limit: one
    /// batch of large records must not keep its megabytes forever).
    pub fn clear(&mut self) {
        self.items.clear();
        self.bytes.clear();
        self.bytes.shrink_to(2 * BATCH_DATA_BYTES);
        self.event_data = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use recorder::event::{Capture, CaptureKind, ProcEvent};

    fn call(seq: u64, data: Vec<Capture>) -> Syscall {
        Syscall {
            tgid: 7,
            tid: 8,
            seq,
            nr: 39,
            ret: Some(1),
            enter_ns: 1000 + seq,
            exit_ns: Some(2000 + seq),
            data,
            ..Syscall::default()
        }
    }

    /// Items come back in the order they were pushed, encoded ones with
    /// exactly the bytes postcard would write for the event.
    #[test]
    fn items_keep_their_order_and_encoding() {
        let mut b = Batch::default();
        let exec = Event::Exec(ProcEvent {
            tgid: 7,
            comm: "x".into(),
            ..ProcEvent::default()
        });
        let data = vec![Capture {
            arg: 1,
            kind: CaptureKind::OutBuf,
            len: 5,
            truncated: false,
            read_failed: false,
            bytes: b"hello".to_vec(),
        }];
        let (a, c) = (call(0, Vec::new()), call(1, data.clone()));
        b.push_encoded(&a, std::iter::empty());
        b.push(exec.clone());
        b.push_encoded(&c, data.iter().map(Capture::borrowed));
        let items: Vec<_> = b.iter().collect();
        assert_eq!(items.len(), 3);
        let want = |sc: Syscall| postcard::to_allocvec(&Event::Syscall(sc)).expect("encode");
        match (&items[0], &items[1], &items[2]) {
            (
                ItemRef::Encoded {
                    bytes: x,
                    ts_ns: 1000,
                },
                ItemRef::Event(e),
                ItemRef::Encoded {
                    bytes: y,
                    ts_ns: 1001,
                },
            ) => {
                assert_eq!(*x, want(a));
                assert_eq!(**e, exec);
                assert_eq!(*y, want(c));
            }
            _ => panic!("wrong items"),
        }
        b.clear();
        assert!(b.is_empty() && b.iter().next().is_none());
    }

    /// Checkpoints have no line in `dump`: not counted as shown.
    #[test]
    fn shown_leaves_checkpoints_out() {
        let mut b = Batch::default();
        b.push_encoded(&call(0, Vec::new()), std::iter::empty());
        b.push(Event::Counters(Default::default()));
        b.push(Event::Exec(ProcEvent::default()));
        assert_eq!(b.shown(), 2);
    }

    #[test]
    fn full_by_count_or_by_data() {
        let mut b = Batch::default();
        for i in 0..BATCH as u64 {
            assert!(!b.is_full());
            b.push_encoded(&call(i, Vec::new()), std::iter::empty());
        }
        assert!(b.is_full());
        let mut b = Batch::default();
        let big = Capture {
            arg: 0,
            kind: CaptureKind::InBuf,
            len: BATCH_DATA_BYTES as u64,
            truncated: false,
            read_failed: false,
            bytes: vec![0; BATCH_DATA_BYTES],
        };
        b.push(Event::Syscall(call(0, vec![big])));
        assert!(b.is_full());
    }
}
