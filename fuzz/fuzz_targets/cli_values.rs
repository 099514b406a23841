//! Fuzzes the parsers of read-filter values given on the command line
//! (`--since`/`--until` times, `-e` expressions) and their resolution
//! against a log header: any string must give a value or an error message,
//! never a panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use recorder::event::Header;
use recorder::read::{Filter, FilterSpec, parse_time, parse_trace};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let header = Header {
        arch: "aarch64".into(),
        start_mono_ns: u64::from(data.len() as u32) << 20,
        start_wall_ns: 1_714_607_990_000_000_000,
        realtime_offset_ns: -5,
        ..Default::default()
    };
    let mut spec = FilterSpec::default();
    if let Ok(t) = parse_time(s) {
        let _ = t.to_mono(&header);
        spec.since = Some(t);
    }
    if let Ok(e) = parse_trace(s) {
        spec.trace.push(e);
    }
    let _ = Filter::new(&spec, &header);
});
