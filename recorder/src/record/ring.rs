//! Ring-buffer records (the `#[repr(C)]` structs of `recorder-common`)
//! into log events, or straight into their log encoding.
//!
//! The one place that knows the ring's record layouts on the user side;
//! pure functions of bytes, so they are unit-tested here without a kernel.

use std::collections::HashMap;

use recorder_common::{
    EntryDataRecord, ProcRecord, SYSCALL_HEAD_SIZE, SYSCALL_RECORD_SIZE, SyscallRecord, flags, kind,
};

use super::batch::Batch;
use recorder::decode::sysent;
use recorder::event::{Capture, CaptureKind, CaptureRef, Event, ProcEvent, SignalEvent, Syscall};

/// Capture items following a record's fixed part (see
/// `recorder_common::capture`): a `CaptureItem` header, then `size` bytes
/// padded to 8. Borrowed from the ring: the drain encodes them from there.
#[derive(Clone)]
struct Items<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Items<'a> {
    type Item = CaptureRef<'a>;

    fn next(&mut self) -> Option<CaptureRef<'a>> {
        use recorder_common::{CaptureItem, capture as c};
        if self.rest.len() < size_of::<CaptureItem>() {
            return None;
        }
        // SAFETY: length checked; CaptureItem is plain integers.
        let h: CaptureItem = unsafe { std::ptr::read_unaligned(self.rest.as_ptr().cast()) };
        let size = h.size as usize;
        let Some(bytes) = self.rest.get(16..16 + size) else {
            self.rest = &[];
            return None;
        };
        self.rest = self
            .rest
            .get(16 + size.next_multiple_of(8)..)
            .unwrap_or(&[]);
        Some(CaptureRef {
            arg: h.arg,
            kind: match h.kind {
                c::ITEM_STR => CaptureKind::Str,
                c::ITEM_OUT => CaptureKind::OutBuf,
                _ => CaptureKind::InBuf,
            },
            len: h.len,
            truncated: h.flags & c::TRUNCATED != 0,
            read_failed: h.flags & c::READ_FAILED != 0,
            bytes,
        })
    }
}

/// The items, with their count known up front (the log writes it first).
struct Counted<'a> {
    items: Items<'a>,
    left: usize,
}

impl<'a> Counted<'a> {
    fn new(rest: &'a [u8]) -> Self {
        let items = Items { rest };
        Self {
            left: items.clone().count(),
            items,
        }
    }
}

impl<'a> Iterator for Counted<'a> {
    type Item = CaptureRef<'a>;

    fn next(&mut self) -> Option<CaptureRef<'a>> {
        let c = self.items.next()?;
        self.left -= 1;
        Some(c)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for Counted<'_> {}

fn parse_items(rest: &[u8]) -> Vec<Capture> {
    Items { rest }.map(CaptureRef::to_capture).collect()
}

/// Turns ring records into log events. Keeps the data execve captured at
/// entry until its record arrives (records of one thread reach the ring in
/// order, so it is the thread's next SYSCALL record with the same seq).
pub struct RecordParser {
    entry_data: HashMap<u32, (u64, Vec<Capture>)>,
    /// Argument registers each syscall takes (strace's tables): the rest
    /// are recorded as 0.
    args_taken: &'static [u8; sysent::NR_LIMIT],
}

impl Default for RecordParser {
    fn default() -> Self {
        Self {
            entry_data: HashMap::new(),
            args_taken: sysent::args_taken_here(),
        }
    }
}

impl RecordParser {
    /// Adds a system-call record to `batch` straight in its log encoding,
    /// if it can go without becoming an `Event`: not when execve data is
    /// waiting to be joined to a record (then `false`, and the caller
    /// parses it).
    pub fn encode(&mut self, bytes: &[u8], batch: &mut Batch) -> bool {
        if bytes.first() != Some(&kind::SYSCALL) || !self.entry_data.is_empty() {
            return false;
        }
        let Some((r, items)) = syscall_record(bytes) else {
            return false;
        };
        batch.push_encoded(&self.syscall_of(&r, Vec::new()), Counted::new(items));
        true
    }

    /// Unknown or short records are skipped (they cannot come from our own
    /// programs).
    pub fn parse(&mut self, bytes: &[u8]) -> Option<Event> {
        match *bytes.first()? {
            kind::SYSCALL if bytes.len() >= SYSCALL_HEAD_SIZE => {
                let (r, items) = syscall_record(bytes)?;
                let mut data = parse_items(items);
                // Almost always empty (only execve, rt_sigreturn and the
                // calls with a socklen_t * send entry data): skip hashing
                // the tid for every record of the drain.
                if !self.entry_data.is_empty()
                    && let Some((seq, entry)) = self.entry_data.remove(&r.tid)
                    && seq == r.seq
                {
                    merge_entry_data(&mut data, entry);
                }
                Some(Event::Syscall(self.syscall_of(&r, data)))
            }
            kind::ENTRY_DATA if bytes.len() >= size_of::<EntryDataRecord>() => {
                // SAFETY: length checked; plain integers.
                let r: EntryDataRecord = unsafe { std::ptr::read_unaligned(bytes.as_ptr().cast()) };
                let items = parse_items(&bytes[size_of::<EntryDataRecord>()..]);
                self.entry_data.insert(r.tid, (r.seq, items));
                None
            }
            k @ (kind::EXEC | kind::FORK | kind::EXIT | kind::SIGNAL)
                if bytes.len() >= size_of::<ProcRecord>() =>
            {
                // SAFETY: length checked; ProcRecord is plain integers.
                let r: ProcRecord = unsafe { std::ptr::read_unaligned(bytes.as_ptr().cast()) };
                let end = r.comm.iter().position(|&b| b == 0).unwrap_or(r.comm.len());
                if k == kind::SIGNAL {
                    return Some(Event::Signal(SignalEvent {
                        tgid: r.tgid,
                        tid: r.tid,
                        ts_ns: r.ts_ns,
                        cpu: r.cpu,
                        sig: r.aux,
                        default_action: r.flags & flags::DEFAULT_ACTION != 0,
                        comm: String::from_utf8_lossy(&r.comm[..end]).into_owned(),
                    }));
                }
                let p = ProcEvent {
                    tgid: r.tgid,
                    tid: r.tid,
                    ts_ns: r.ts_ns,
                    cpu: r.cpu,
                    aux: r.aux,
                    comm: String::from_utf8_lossy(&r.comm[..end]).into_owned(),
                };
                if k == kind::EXIT {
                    self.entry_data.remove(&r.tid);
                }
                Some(match k {
                    kind::EXEC => Event::Exec(p),
                    kind::FORK => Event::Fork(p),
                    _ => Event::Exit(p),
                })
            }
            _ => None,
        }
    }
}

impl RecordParser {
    fn syscall_of(&self, r: &SyscallRecord, data: Vec<Capture>) -> Syscall {
        let returned = r.flags & flags::NO_RETURN == 0;
        Syscall {
            tgid: r.tgid,
            tid: r.tid,
            seq: r.seq,
            cpu: r.cpu,
            nr: r.nr,
            args: sysent::clear_unused_args(self.args_taken, r.nr, r.args),
            ret: returned.then_some(r.ret),
            enter_ns: r.enter_ns,
            exit_ns: returned.then_some(r.exit_ns),
            died_in_call: r.flags & flags::DIED_IN_CALL != 0,
            data,
        }
    }
}

/// A system-call record and its data items. A record without items may
/// end after the arguments its call takes (`recorder_common::args_cut`):
/// the rest of `args` reads as 0.
fn syscall_record(bytes: &[u8]) -> Option<(SyscallRecord, &[u8])> {
    let head: &[u8; SYSCALL_HEAD_SIZE] = bytes.first_chunk()?;
    let n = bytes.len().min(SYSCALL_RECORD_SIZE);
    // Fixed-size copies and a loop of at most 6 words: no memcpy call of a
    // variable length for every record of the drain.
    let mut whole = [0u8; SYSCALL_RECORD_SIZE];
    whole[..SYSCALL_HEAD_SIZE].copy_from_slice(head);
    let args = whole[SYSCALL_HEAD_SIZE..].chunks_exact_mut(8);
    for (to, from) in args.zip(bytes[SYSCALL_HEAD_SIZE..n].chunks_exact(8)) {
        to.copy_from_slice(from);
    }
    // SAFETY: SYSCALL_RECORD_SIZE bytes; SyscallRecord is plain integers.
    let r: SyscallRecord = unsafe { std::ptr::read_unaligned(whole.as_ptr().cast()) };
    Some((r, &bytes[n..]))
}

/// Joins a call's entry data with the items its exit record carries. An
/// argument's items of one kind come from one side only: the exit's when
/// the entry's read failed (a successful exec whose argv and envp the eBPF
/// side read again from the new stack, see `EXEC_REREAD` in
/// recorder-ebpf), else the entry's. Items of different kinds are both
/// kept: select's sets as asked (`InBuf`, at entry) and as left (`OutBuf`,
/// at exit), the entry's first.
fn merge_entry_data(data: &mut Vec<Capture>, entry: Vec<Capture>) {
    let failed_only = |arg: u8, kind: CaptureKind| {
        let mut items = entry.iter().filter(|c| c.arg == arg && c.kind == kind);
        matches!((items.next(), items.next()), (Some(c), None) if c.read_failed)
    };
    let entry_keys: Vec<(u8, CaptureKind)> = entry.iter().map(|c| (c.arg, c.kind)).collect();
    data.retain(|c| !entry_keys.contains(&(c.arg, c.kind)) || failed_only(c.arg, c.kind));
    let exit_keys: Vec<(u8, CaptureKind)> = data.iter().map(|c| (c.arg, c.kind)).collect();
    let mut entry: Vec<Capture> = entry
        .into_iter()
        .filter(|c| !exit_keys.contains(&(c.arg, c.kind)))
        .collect();
    entry.append(data);
    *data = entry;
    // Items are in argument order (docs/json-output.md); stable, so an
    // argument's own items keep theirs.
    data.sort_by_key(|c| c.arg);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::batch::ItemRef;
    use recorder_common::{CaptureItem, capture as c};

    /// The bytes of a boundary struct, as the programs put them in the ring.
    fn raw<T: Copy>(v: &T) -> Vec<u8> {
        // SAFETY: the boundary structs are `#[repr(C)]` plain integers
        // without padding (checked at compile time in recorder-common).
        unsafe { std::slice::from_raw_parts((v as *const T).cast::<u8>(), size_of::<T>()) }.to_vec()
    }

    fn item(out: &mut Vec<u8>, arg: u8, kind: u8, flags: u8, len: u64, bytes: &[u8]) {
        out.extend(raw(&CaptureItem {
            arg,
            kind,
            flags,
            _pad: 0,
            size: bytes.len() as u32,
            len,
        }));
        out.extend_from_slice(bytes);
        out.resize(out.len().next_multiple_of(8), 0);
    }

    fn syscall(seq: u64, fl: u8) -> Vec<u8> {
        raw(&SyscallRecord {
            kind: kind::SYSCALL,
            flags: fl,
            _pad: 0,
            cpu: 1,
            tgid: 10,
            tid: 11,
            nr: 0,
            args: [3, 0x7fff_0000, 5, 0, 0, u64::MAX],
            ret: 5,
            enter_ns: 100,
            exit_ns: 250,
            seq,
        })
    }

    fn proc(k: u8, fl: u8, aux: u32) -> Vec<u8> {
        let mut comm = [0u8; 16];
        comm[..4].copy_from_slice(b"prog");
        raw(&ProcRecord {
            kind: k,
            flags: fl,
            _pad: 0,
            cpu: 0,
            tgid: 10,
            tid: 12,
            ts_ns: 400,
            aux,
            _pad2: 0,
            comm,
        })
    }

    fn parsed(bytes: &[u8]) -> Syscall {
        match RecordParser::default().parse(bytes) {
            Some(Event::Syscall(s)) => s,
            other => panic!("not a syscall: {other:?}"),
        }
    }

    #[test]
    fn a_syscall_record_with_data_items() {
        let mut r = syscall(7, 0);
        item(&mut r, 1, c::ITEM_OUT, 0, 5, b"hello");
        item(&mut r, 2, c::ITEM_STR, c::TRUNCATED, 9000, b"/et");
        item(&mut r, 3, c::ITEM_IN, c::READ_FAILED, 40, b"");
        let s = parsed(&r);
        assert_eq!((s.tgid, s.tid, s.seq, s.cpu, s.nr), (10, 11, 7, 1, 0));
        assert_eq!((s.ret, s.enter_ns, s.exit_ns), (Some(5), 100, Some(250)));
        // read(2) takes three registers (strace's table): the stale sixth,
        // all ones here, is recorded as 0.
        #[cfg(target_arch = "x86_64")]
        assert_eq!(s.args, [3, 0x7fff_0000, 5, 0, 0, 0]);
        let kinds: Vec<_> = s.data.iter().map(|d| (d.arg, d.kind, d.len)).collect();
        assert_eq!(
            kinds,
            [
                (1, CaptureKind::OutBuf, 5),
                (2, CaptureKind::Str, 9000),
                (3, CaptureKind::InBuf, 40)
            ]
        );
        assert_eq!(s.data[0].bytes, b"hello");
        assert!(s.data[1].truncated && !s.data[1].read_failed);
        assert!(s.data[2].read_failed && s.data[2].bytes.is_empty());
    }

    /// What the drain encodes straight from the ring is exactly the log
    /// encoding of the event `parse` builds from the same bytes.
    #[test]
    fn encoding_from_the_ring_equals_encoding_the_event() {
        for fl in [0, flags::NO_RETURN, flags::NO_RETURN | flags::DIED_IN_CALL] {
            let mut r = syscall(3, fl);
            item(&mut r, 1, c::ITEM_IN, 0, 300, &[0xAB; 300]);
            let mut batch = Batch::default();
            assert!(RecordParser::default().encode(&r, &mut batch));
            let want = postcard::to_allocvec(&Event::Syscall(parsed(&r))).expect("encode");
            let mut items = batch.iter();
            match items.next() {
                Some(crate::record::batch::ItemRef::Encoded { bytes, ts_ns: 100 }) => {
                    assert_eq!(bytes, want)
                }
                _ => panic!("not encoded"),
            }
            assert!(items.next().is_none());
        }
        assert!(parsed(&syscall(0, flags::NO_RETURN)).ret.is_none());
    }

    /// execve's path and argv arrive ahead of its record and are joined to
    /// it by seq; while they wait, records are not encoded directly.
    #[test]
    fn entry_data_is_joined_to_its_call() {
        let mut p = RecordParser::default();
        let mut entry = raw(&EntryDataRecord {
            kind: kind::ENTRY_DATA,
            _pad: [0; 3],
            tid: 11,
            seq: 4,
        });
        item(&mut entry, 0, c::ITEM_STR, 0, 7, b"/bin/sh");
        assert!(p.parse(&entry).is_none());
        let mut batch = Batch::default();
        assert!(!p.encode(&syscall(4, 0), &mut batch));
        let mut r = syscall(4, 0);
        item(&mut r, 1, c::ITEM_OUT, 0, 2, b"ok");
        let Some(Event::Syscall(s)) = p.parse(&r) else {
            panic!("no syscall");
        };
        assert_eq!(s.data.len(), 2);
        assert_eq!(s.data[0].bytes, b"/bin/sh");
        assert_eq!(s.data[1].bytes, b"ok");
        // Joined once: the next record is encoded directly again.
        assert!(p.encode(&syscall(5, 0), &mut batch));
    }

    /// select's sets are read at entry (as asked) and at exit (as left):
    /// both items of one argument are kept, the entry's first, in
    /// argument order with the others.
    #[test]
    fn entry_and_exit_items_of_one_argument_are_both_kept() {
        let mut p = RecordParser::default();
        let mut entry = raw(&EntryDataRecord {
            kind: kind::ENTRY_DATA,
            _pad: [0; 3],
            tid: 11,
            seq: 4,
        });
        item(&mut entry, 1, c::ITEM_IN, 0, 8, b"asked-r!");
        item(&mut entry, 4, c::ITEM_IN, 0, 2, b"t0");
        assert!(p.parse(&entry).is_none());
        let mut r = syscall(4, 0);
        item(&mut r, 1, c::ITEM_OUT, 0, 8, b"ready-r!");
        item(&mut r, 4, c::ITEM_OUT, 0, 2, b"t1");
        let s = parsed_with(&mut p, &r);
        let shown: Vec<(u8, CaptureKind, &[u8])> = s
            .data
            .iter()
            .map(|c| (c.arg, c.kind, c.bytes.as_slice()))
            .collect();
        assert_eq!(
            shown,
            [
                (1, CaptureKind::InBuf, &b"asked-r!"[..]),
                (1, CaptureKind::OutBuf, &b"ready-r!"[..]),
                (4, CaptureKind::InBuf, &b"t0"[..]),
                (4, CaptureKind::OutBuf, &b"t1"[..]),
            ]
        );
    }

    /// An exec whose argv could not be read at entry (ARMv8.0: see
    /// `EXEC_REREAD` in recorder-ebpf) takes argv and envp from its exit
    /// record; an argument read at entry keeps its entry items.
    #[test]
    fn exec_argv_read_again_at_exit_replaces_a_failed_entry_read() {
        let mut p = RecordParser::default();
        let mut entry = raw(&EntryDataRecord {
            kind: kind::ENTRY_DATA,
            _pad: [0; 3],
            tid: 11,
            seq: 4,
        });
        item(&mut entry, 0, c::ITEM_STR, c::READ_FAILED, 0, b"");
        item(&mut entry, 1, c::ITEM_STR, c::READ_FAILED, 0, b"");
        assert!(p.parse(&entry).is_none());
        // The exit's order: argv, envp, then the path (AT_EXECFN).
        let mut r = syscall(4, 0);
        item(&mut r, 1, c::ITEM_STR, 0, 2, b"sh");
        item(&mut r, 1, c::ITEM_STR, 0, 2, b"-c");
        item(&mut r, 2, c::ITEM_IN, 0, 11, b"");
        item(&mut r, 0, c::ITEM_STR, 0, 7, b"/bin/sh");
        let s = parsed_with(&mut p, &r);
        let shown: Vec<(u8, &[u8], u64, bool)> = s
            .data
            .iter()
            .map(|c| (c.arg, c.bytes.as_slice(), c.len, c.read_failed))
            .collect();
        assert_eq!(
            shown,
            [
                (0, &b"/bin/sh"[..], 7, false),
                (1, &b"sh"[..], 2, false),
                (1, &b"-c"[..], 2, false),
                (2, &b""[..], 11, false),
            ]
        );
        // Read at entry: the exit's copies are dropped.
        let mut entry = raw(&EntryDataRecord {
            kind: kind::ENTRY_DATA,
            _pad: [0; 3],
            tid: 11,
            seq: 5,
        });
        item(&mut entry, 1, c::ITEM_STR, 0, 2, b"ls");
        assert!(p.parse(&entry).is_none());
        let mut r = syscall(5, 0);
        item(&mut r, 1, c::ITEM_STR, 0, 2, b"xx");
        let s = parsed_with(&mut p, &r);
        assert_eq!(s.data.len(), 1);
        assert_eq!(s.data[0].bytes, b"ls");
    }

    fn parsed_with(p: &mut RecordParser, r: &[u8]) -> Syscall {
        match p.parse(r) {
            Some(Event::Syscall(s)) => s,
            other => panic!("not a syscall: {other:?}"),
        }
    }

    #[test]
    fn process_records() {
        let mut p = RecordParser::default();
        let Some(Event::Fork(f)) = p.parse(&proc(kind::FORK, 0, 99)) else {
            panic!("no fork");
        };
        assert_eq!(
            (f.tgid, f.tid, f.ts_ns, f.aux, f.comm.as_str()),
            (10, 12, 400, 99, "prog")
        );
        assert!(matches!(
            p.parse(&proc(kind::EXEC, 0, 0)),
            Some(Event::Exec(_))
        ));
        assert!(matches!(
            p.parse(&proc(kind::EXIT, 0, 1)),
            Some(Event::Exit(_))
        ));
        let Some(Event::Signal(s)) = p.parse(&proc(kind::SIGNAL, flags::DEFAULT_ACTION, 11)) else {
            panic!("no signal");
        };
        assert!(s.sig == 11 && s.default_action && s.is_crash());
    }

    /// A record without data ends after the argument words its call takes
    /// (`args_cut`): the registers not sent read as 0, through both the
    /// encoding path and the event path, and nothing is taken for items.
    #[test]
    fn a_record_cut_after_its_arguments_reads_the_rest_as_zero() {
        let whole = syscall(7, 0);
        for words in [0usize, 3] {
            let cut = &whole[..SYSCALL_HEAD_SIZE + 8 * words];
            let sc = parsed(cut);
            let mut sent = [0u64; 6];
            sent[..words].copy_from_slice(&[3, 0x7fff_0000, 5][..words]);
            let args = sysent::clear_unused_args(sysent::args_taken_here(), 0, sent);
            assert_eq!(sc.args, args, "{words} words");
            assert_eq!((sc.seq, sc.ret, sc.exit_ns), (7, Some(5), Some(250)));
            assert!(sc.data.is_empty());
            let mut batch = Batch::default();
            assert!(RecordParser::default().encode(cut, &mut batch));
            let mut want = Batch::default();
            want.push_encoded(&sc, std::iter::empty::<CaptureRef<'_>>());
            assert!(batch.iter().map(bytes_of).eq(want.iter().map(bytes_of)));
        }
    }

    fn bytes_of(item: ItemRef<'_>) -> Vec<u8> {
        match item {
            ItemRef::Encoded { bytes, .. } => bytes.to_vec(),
            ItemRef::Event(_) => panic!("not encoded"),
        }
    }

    /// Nothing our programs send is short or of an unknown kind; such
    /// bytes are skipped, never misread.
    #[test]
    fn short_and_unknown_records_are_skipped() {
        let mut p = RecordParser::default();
        let r = syscall(0, 0);
        assert!(p.parse(&r[..SYSCALL_HEAD_SIZE - 1]).is_none());
        assert!(!p.encode(&r[..SYSCALL_HEAD_SIZE - 1], &mut Batch::default()));
        assert!(p.parse(&[200, 0, 0, 0]).is_none());
        assert!(p.parse(&[]).is_none());
        // A data item cut short ends the list, keeping what came before.
        let mut r = syscall(0, 0);
        item(&mut r, 1, c::ITEM_OUT, 0, 5, b"hello");
        item(&mut r, 2, c::ITEM_OUT, 0, 5, b"world");
        r.truncate(r.len() - 8);
        assert_eq!(parsed(&r).data.len(), 1);
    }
}
