//! Whether the log writer compresses its blocks or stores them.
//!
//! zstd is most of the writer's CPU per record (level 1: about 100 of 160
//! ns per getppid record on the dev VM, `examples/zstd_levels`), and on a
//! slow or busy core the writer is what falls behind first: its queue
//! fills, then the drain waits, then the ring fills, and the traced
//! programs are paused (lossless mode) or records dropped. So while the
//! queue is a quarter full, blocks are stored uncompressed, which the
//! log format allows per block, and compressed again once it is nearly
//! empty: the log grows (about 8x for a getppid storm, 1-8x with data) for
//! as long as the recorder is behind, instead of losing calls.
//!
//! Storing pays only while compressing costs more than writing the larger
//! block: on a slow disk (an SD card whose writes block in the page cache's
//! dirty throttling) storing would make the writer slower still. So the
//! writer's time per record is kept for both ways, and storing stops, and
//! is not tried again for a while, when it turns out no cheaper.
//!
//! The time is the batch's wall time less what the writer thread waited for
//! a CPU (`writer::write_batch`): a wait says nothing of either way's cost,
//! and on a CPU-limited core one wait would outweigh many batches.
//!
//! No clock here: the caller measures, so this is tested with numbers.

/// Batches waiting behind the current one at which the writer starts
/// storing: a quarter of `writer::QUEUE_BATCHES`. At half, a recorder held
/// to 25% of a CPU compressed most of a 1.8M calls/s storm and lost
/// 380,000-730,000 records in each of 4 runs; at a quarter it lost 0-33,000
/// in 3 of 4 and one run 707,000 (`docs/design.md`, "Compression level").
const HIGH: usize = 2;
/// ... and at or below which it compresses again.
const LOW: usize = 1;
/// Batches before storing is tried again, after it did not pay.
const RETRY_AFTER: u32 = 256;
/// Weight of the newest batch in the moving averages.
const NEW: f64 = 0.25;

#[derive(Debug, Default)]
pub struct Adapt {
    storing: bool,
    /// Writer ns per record while compressing (`[0]`) and while storing
    /// (`[1]`), moving averages; `None` until measured.
    cost: [Option<f64>; 2],
    hold_off: u32,
    /// Records written while storing, for the summary.
    pub stored_records: u64,
}

impl Adapt {
    /// Before a batch: whether to store its blocks, with `backlog` batches
    /// queued behind it.
    pub fn store(&mut self, backlog: usize) -> bool {
        self.hold_off = self.hold_off.saturating_sub(1);
        if backlog <= LOW {
            self.storing = false;
        } else if backlog >= HIGH && self.hold_off == 0 {
            self.storing = true;
        }
        self.storing
    }

    /// After the batch: it held `records` and took `ns`, in the way
    /// [`store`](Self::store) chose.
    pub fn observe(&mut self, ns: u64, records: usize) {
        if records == 0 {
            return;
        }
        if self.storing {
            self.stored_records += records as u64;
        }
        let per = ns as f64 / records as f64;
        let c = &mut self.cost[usize::from(self.storing)];
        *c = Some(c.map_or(per, |old| (1.0 - NEW) * old + NEW * per));
        if let [Some(compress), Some(store)] = self.cost
            && self.storing
            && store >= compress
        {
            self.storing = false;
            self.hold_off = RETRY_AFTER;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs batches of 1000 records at `backlog`, costing `compress` or
    /// `store` ns per record; returns what was chosen for each.
    fn run(a: &mut Adapt, backlogs: &[usize], compress: u64, store: u64) -> Vec<bool> {
        backlogs
            .iter()
            .map(|&b| {
                let s = a.store(b);
                a.observe(1000 * if s { store } else { compress }, 1000);
                s
            })
            .collect()
    }

    #[test]
    fn compresses_while_the_writer_keeps_up() {
        let mut a = Adapt::default();
        assert_eq!(run(&mut a, &[0, 1, 1, 0, 1, 0], 160, 60), [false; 6]);
        assert_eq!(a.stored_records, 0);
    }

    #[test]
    fn stores_while_behind_and_compresses_again_once_caught_up() {
        let mut a = Adapt::default();
        let chosen = run(&mut a, &[0, 1, 2, 7, 8, 5, 3, 2, 1, 0, 2], 160, 60);
        assert_eq!(
            chosen,
            [
                false, false, true, true, true, true, true, true, false, false, true
            ]
        );
        assert_eq!(a.stored_records, 7000);
    }

    #[test]
    fn stops_storing_when_it_does_not_pay_and_waits_before_trying_again() {
        let mut a = Adapt::default();
        // A slow disk: writing the stored block costs more than zstd saves.
        let chosen = run(&mut a, &[0, 8, 8, 8, 8], 160, 400);
        assert_eq!(chosen, [false, true, false, false, false]);
        // Three batches of the wait have passed; the rest, and a retry.
        let behind = vec![8; RETRY_AFTER as usize - 3];
        let chosen = run(&mut a, &behind, 160, 400);
        assert_eq!(chosen.iter().filter(|&&s| s).count(), 1, "one retry");
        assert!(chosen[chosen.len() - 1], "retried at the end of the wait");
    }
}
