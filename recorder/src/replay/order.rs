//! The recorded order of system calls across threads (`--order`): a
//! thread's call is answered only once every call that entered before it
//! in the recording has been answered. Calls are ranked by their recorded
//! entry time (one CLOCK_MONOTONIC across CPUs); the calls replay does not
//! see ([`Class::Unwatched`]: futex and friends) have no rank.

use std::collections::{BTreeSet, HashMap};

use super::plan::Recording;
use super::policy::{Class, class_of};
use crate::decode::syscall_name;

#[derive(Debug, Default)]
pub struct Order {
    rank: HashMap<(u32, u64), usize>,
    /// (tid, seq) by rank.
    calls: Vec<(u32, u64)>,
    remaining: BTreeSet<usize>,
}

impl Order {
    pub fn new(rec: &Recording) -> Order {
        let mut all: Vec<(u64, u32, u64)> = rec
            .calls
            .values()
            .flatten()
            .filter(|s| class_of(syscall_name(rec.arch, s.nr).unwrap_or("?")) != Class::Unwatched)
            .map(|s| (s.enter_ns, s.tid, s.seq))
            .collect();
        all.sort();
        let rank: HashMap<(u32, u64), usize> = all
            .iter()
            .enumerate()
            .map(|(i, &(_, tid, seq))| ((tid, seq), i))
            .collect();
        let remaining = (0..all.len()).collect();
        let calls = all.iter().map(|&(_, tid, seq)| (tid, seq)).collect();
        Order {
            rank,
            calls,
            remaining,
        }
    }

    /// The call's place in the recorded order (`usize::MAX` if it has none).
    pub fn rank(&self, tid: u32, seq: u64) -> usize {
        self.rank.get(&(tid, seq)).copied().unwrap_or(usize::MAX)
    }

    /// Whether every call recorded before this one has been answered.
    pub fn is_next(&self, tid: u32, seq: u64) -> bool {
        match self.rank.get(&(tid, seq)) {
            // A call given up on by `skip_to` goes whenever it comes.
            Some(r) => self.remaining.first() == Some(r) || !self.remaining.contains(r),
            None => true,
        }
    }

    /// The recorded call that is next: (tid, seq).
    pub fn first(&self) -> Option<(u32, u64)> {
        self.remaining.first().map(|&r| self.calls[r])
    }

    /// The call was answered.
    pub fn done(&mut self, tid: u32, seq: u64) {
        if let Some(r) = self.rank.get(&(tid, seq)) {
            self.remaining.remove(r);
        }
    }

    /// Gives up on the calls that should have come before rank `r`: a
    /// thread waited on (in user space) by another never made them.
    pub fn skip_to(&mut self, r: usize) {
        while self.remaining.first().is_some_and(|f| *f < r) {
            self.remaining.pop_first();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{Arch, syscall_nr};
    use crate::event::{Event, Header, Syscall};

    fn call(tid: u32, seq: u64, at: u64, name: &str) -> Event {
        Event::Syscall(Syscall {
            tgid: 1,
            tid,
            seq,
            nr: syscall_nr(Arch::X86_64, name).unwrap(),
            enter_ns: at,
            ret: Some(0),
            ..Syscall::default()
        })
    }

    #[test]
    fn calls_go_in_recorded_entry_order_across_threads() {
        let evs = [
            call(1, 0, 10, "execve"),
            call(1, 1, 20, "getpid"),
            call(2, 0, 15, "gettid"),
            call(2, 1, 16, "futex"),
            call(2, 2, 30, "getuid"),
        ];
        let rec = Recording::from_events(Header::default(), Arch::X86_64, &evs);
        let mut o = Order::new(&rec);
        assert!(o.is_next(1, 0));
        assert!(!o.is_next(2, 0));
        o.done(1, 0);
        assert!(o.is_next(2, 0), "tid 2 entered at 15, before tid 1's 20");
        assert!(!o.is_next(1, 1));
        o.done(2, 0);
        // futex is not ranked: tid 1's getpid is next, then tid 2's getuid.
        assert!(o.is_next(1, 1));
        assert!(!o.is_next(2, 2));
        o.skip_to(o.rank(2, 2));
        assert!(o.is_next(2, 2));
        assert!(o.is_next(1, 1), "a call given up on goes when it comes");
    }
}
