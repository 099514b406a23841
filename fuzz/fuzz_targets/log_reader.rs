//! Fuzzes the log reader and everything the reader commands do with what
//! it returns: any input must end in events and/or one error, never a
//! panic, a hang or an unbounded allocation.
//!
//! Every input is read twice: as given, and with its checksums recomputed
//! (header CRC and every complete frame's CRC). Random mutations almost
//! never keep a CRC valid, so without the second pass the fuzzer would only
//! ever exercise the checksum check; with it, mutations reach the frame
//! lengths, the decompressor, the record framing, postcard decoding and
//! the renderers. The seed corpus (`fuzz/seeds/`: the golden logs with
//! their blocks stored uncompressed, and `recorder/tests/golden/logs/` itself) gives
//! the mutations real records to work on.

#![no_main]

use std::io::sink;

use libfuzzer_sys::fuzz_target;
use recorder::decode::{Formatter, OutputFormat, SyscallClass, TimeMode};
use recorder::event::Event;
use recorder::log::LogReader;
use recorder::read::{
    Events, Filter, FilterSpec, TimeSpec, TraceExpr, TraceItem, export, info, stats,
};

fuzz_target!(|data: &[u8]| {
    read_everything(data, false);
    let mut fixed = data.to_vec();
    if fix_checksums(&mut fixed) {
        read_everything(&fixed, true);
    }
});

fn u32_at(b: &[u8], at: usize) -> Option<usize> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?) as usize)
}

/// Recomputes the header CRC and the CRC of every complete frame (layout:
/// docs/log-format.md). Returns whether anything changed.
fn fix_checksums(b: &mut [u8]) -> bool {
    let before = crc32fast::hash(b);
    let Some(n) = u32_at(b, 12) else {
        return false;
    };
    let Some(end) = 16usize.checked_add(n).filter(|&e| e + 4 <= b.len()) else {
        return false;
    };
    let crc = crc32fast::hash(&b[8..end]);
    b[end..end + 4].copy_from_slice(&crc.to_le_bytes());
    let mut off = end + 4;
    while off + 34 <= b.len() {
        let Some(len) = u32_at(b, off + 2) else { break };
        let Some(next) = (off + 34).checked_add(len).filter(|&x| x <= b.len()) else {
            break;
        };
        let mut h = crc32fast::Hasher::new();
        h.update(&b[off..off + 30]);
        h.update(&b[off + 34..next]);
        b[off + 30..off + 34].copy_from_slice(&h.finalize().to_le_bytes());
        off = next;
    }
    crc32fast::hash(b) != before
}

/// What `dump` (text with -y, JSON), `stats`, `export` and `info` do,
/// unfiltered and through a filter.
fn read_everything(data: &[u8], filtered: bool) {
    let Ok(reader) = LogReader::open(data) else {
        return;
    };
    let spec = if filtered {
        FilterSpec {
            trace: vec![TraceExpr {
                negated: false,
                items: vec![
                    TraceItem::Class(SyscallClass::Desc),
                    TraceItem::Name("execve".into()),
                ],
            }],
            comms: vec!["fx-fork".into()],
            since: Some(TimeSpec::Relative(1)),
            ..Default::default()
        }
    } else {
        FilterSpec::default()
    };
    let Ok(filter) = Filter::new(&spec, reader.header()) else {
        return;
    };
    let header = reader.header().clone();
    let mut events = Events::new(reader, filter).with_tasks();
    let (Ok(mut text), Ok(mut json)) = (Formatter::new(&header), Formatter::new(&header)) else {
        return;
    };
    text.decode_fds(true);
    text.time = TimeMode::WallClock;
    text.multi_thread = true;
    json.format = OutputFormat::Json;
    let mut collector = stats::Collector::new(text.arch(), 3);
    let Ok(mut trace) = export::Perfetto::begin(sink(), &header) else {
        return;
    };
    while let Ok(Some((ev, keep))) = events.next_any() {
        if !keep {
            text.track(&ev);
            trace.track(&ev);
            continue;
        }
        text.render_text(&ev);
        json.render_json(&ev);
        let _ = trace.event(&ev);
        if let Event::Syscall(sc) = &ev {
            collector.add(sc);
        }
    }
    let c = events.completeness();
    let _ = c.summary(Some(events.kept()));
    let report = collector.report(&header, events.tasks(), &c);
    let _ = report.write_text(&mut sink(), &header, collector.slowest());
    let _ = trace.finish(&header, events.tasks(), &c);
    if !filtered && let Ok(reader) = LogReader::open(data) {
        let all = Filter::new(&FilterSpec::default(), reader.header());
        if let Ok(all) = all {
            let (report, _) = info::gather(Events::new(reader, all).with_tasks(), 0);
            let _ = report.write_text(&mut sink(), "fuzz.rec");
        }
    }
}
