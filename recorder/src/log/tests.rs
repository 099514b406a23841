//! Tests of the log container: round trips, and every way a file can be
//! cut short or damaged.

use std::io::{self, Cursor, Write};

use super::*;
use crate::event::{
    Capture, CaptureKind, Counters, Event, Filter, Header, ProcEvent, Syscall, Trailer,
};

fn header() -> Header {
    Header {
        recorder_version: "0.1.0".into(),
        arch: "aarch64".into(),
        kernel_release: "6.8.0-1012-raspi".into(),
        hostname: "board".into(),
        page_size: 16384,
        realtime_offset_ns: 1_700_000_000_000_000_000,
        boottime_offset_ns: -5,
        start_wall_ns: 1_700_000_123_000_000_000,
        start_mono_ns: 123_000_000_000,
        command_line: vec!["recorder".into(), "--".into(), "ls".into(), "-l".into()],
        filter: Filter {
            pids: vec![1, 42],
            comms: vec!["ls".into()],
            command: vec!["ls".into(), "-l".into()],
            follow_forks: true,
        },
        capture_size: 256,
        ring_size: 1 << 20,
        redactions: vec![],
        format_minor: FORMAT_MINOR,
        lossless: true,
        trace: vec!["openat,%process".into()],
        traced_nrs: vec![56, 57, 59, 257],
        lean: true,
        replayable: true,
        watch: true,
    }
}

fn trailer() -> Trailer {
    Trailer {
        end_wall_ns: 1_700_000_200_000_000_000,
        end_mono_ns: 200_000_000_000,
        counters: counters(7),
    }
}

fn counters(k: u64) -> Counters {
    Counters {
        emitted: 1000 * k,
        ring_full: k,
        exit_without_entry: 2,
        stash_full: 0,
        died_in_call: 1,
        read_failed: 3,
        entered: 999 * k,
        user_dropped: 0,
        written: 998 * k,
        entry_data: 4,
        entry_data_lost: 0,
        paused: k % 3,
    }
}

/// A deterministic mix of every event kind, with varied sizes.
fn event(i: u64) -> Event {
    let ts = 1_000_000 + i * 1_000;
    let proc_ev = |aux| ProcEvent {
        tgid: 100 + (i % 7) as u32,
        tid: 200 + (i % 13) as u32,
        ts_ns: ts,
        cpu: (i % 4) as u32,
        aux,
        comm: format!("proc-{i}"),
    };
    let died = i.is_multiple_of(17);
    match i % 10 {
        0 => Event::Exec(proc_ev(0)),
        1 => Event::Fork(proc_ev(i as u32 + 1000)),
        2 => Event::Exit(proc_ev(1)),
        3 => Event::Counters(counters(i)),
        _ => Event::Syscall(Syscall {
            tgid: 100,
            tid: 101 + (i % 3) as u32,
            seq: i,
            cpu: (i % 8) as u32,
            nr: (i % 300) as i64 - 1,
            args: [i, u64::MAX, 0, 1 << 40, i * 3, 7],
            ret: (!died).then_some(-(i as i64 % 40)),
            enter_ns: ts,
            exit_ns: (!died).then_some(ts + 500),
            died_in_call: died,
            data: (0..(i % 3))
                .map(|a| Capture {
                    arg: a as u8,
                    kind: [CaptureKind::Str, CaptureKind::InBuf, CaptureKind::OutBuf][a as usize],
                    len: 10 + i,
                    truncated: i.is_multiple_of(2),
                    read_failed: false,
                    bytes: (0..(i % 50) as u8).collect(),
                })
                .collect(),
        }),
    }
}

fn events(n: u64) -> Vec<Event> {
    (0..n).map(event).collect()
}

/// Bytes of a log holding `evs`, flushed every `per_block` events, and the
/// (end offset, events so far) after the header and after each block.
fn write_log(evs: &[Event], per_block: usize, with_trailer: bool) -> (Vec<u8>, Vec<(u64, usize)>) {
    let mut w = LogWriter::new(Vec::new(), &header(), 3).unwrap();
    let mut bounds = vec![(w.bytes_written(), 0)];
    for chunk in evs.chunks(per_block) {
        for ev in chunk {
            w.append(ev).unwrap();
        }
        w.flush_block().unwrap();
        bounds.push((w.bytes_written(), w.events_written() as usize));
    }
    let out = if with_trailer {
        w.finish(&trailer()).unwrap()
    } else {
        w.get_ref().clone()
    };
    (out, bounds)
}

/// What [`read_all`] returns: the reader (for its end state), the events
/// returned, and the error if one ended reading.
type ReadAll<'a> = (LogReader<Cursor<&'a [u8]>>, Vec<Event>, Option<LogError>);

/// Reads everything.
fn read_all(bytes: &[u8]) -> ReadAll<'_> {
    let mut r = LogReader::open(Cursor::new(bytes)).unwrap();
    let mut evs = Vec::new();
    loop {
        match r.next_event() {
            Ok(Some(ev)) => evs.push(ev),
            Ok(None) => return (r, evs, None),
            Err(e) => return (r, evs, Some(e)),
        }
    }
}

/// Offsets of every frame after the header: (start, end, tag).
fn frames(bytes: &[u8]) -> Vec<(usize, usize, u8)> {
    let header_len = u32::from_le_bytes(bytes[12..16].try_into().unwrap()) as usize;
    let mut at = PREFIX_LEN + header_len + 4;
    let mut out = Vec::new();
    while at < bytes.len() {
        let fh = FrameHeader::from_bytes(bytes[at..at + FRAME_HEADER_LEN].try_into().unwrap());
        let end = at + FRAME_HEADER_LEN + fh.payload_len as usize;
        out.push((at, end, fh.tag));
        at = end;
    }
    out
}

/// A frame with arbitrary content and a correct CRC.
fn raw_frame(tag: u8, codec: u8, payload: &[u8], raw_len: u32, count: u32) -> Vec<u8> {
    let mut fh = FrameHeader {
        tag,
        codec,
        payload_len: payload.len() as u32,
        raw_len,
        count,
        min_ts_ns: 0,
        max_ts_ns: 0,
        crc: 0,
    };
    fh.crc = fh.compute_crc(payload);
    let mut v = fh.to_bytes().to_vec();
    v.extend_from_slice(payload);
    v
}

/// The prefix + header of a log with no frames.
fn header_only() -> Vec<u8> {
    LogWriter::new(Vec::new(), &header(), 3)
        .unwrap()
        .get_ref()
        .clone()
}

#[test]
fn round_trip_across_many_blocks() {
    let evs = events(5000);
    let mut w = LogWriter::new(Vec::new(), &header(), 3)
        .unwrap()
        .with_block_size(4096);
    for ev in &evs {
        w.append(ev).unwrap();
    }
    assert!(
        w.events_written() > 0,
        "blocks are written as the buffer fills"
    );
    assert_eq!(w.events_written() + w.pending_events(), 5000);
    let bytes = w.finish(&trailer()).unwrap();

    let blocks = frames(&bytes).iter().filter(|f| f.2 == TAG_BLOCK).count();
    assert!(blocks > 10, "only {blocks} blocks");
    assert_eq!(frames(&bytes).last().unwrap().2, TAG_TRAILER);

    let (r, got, err) = read_all(&bytes);
    assert!(err.is_none());
    assert_eq!(r.header(), &header());
    assert_eq!(got, evs);
    assert_eq!(r.trailer(), Some(&trailer()));
    assert_eq!(r.end_state(), EndState::Clean);
    assert_eq!(r.offset(), bytes.len() as u64);
    // Compression did something on this repetitive data.
    assert!(bytes.len() < evs.len() * 40, "{} bytes", bytes.len());
}

#[test]
fn iterator_yields_all_events() {
    let evs = events(300);
    let (bytes, _) = write_log(&evs, 64, true);
    let got: Vec<Event> = LogReader::open(Cursor::new(&bytes))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(got, evs);
}

#[test]
fn bytes_written_equals_output_length() {
    let mut w = LogWriter::new(Vec::new(), &header(), 1).unwrap();
    assert_eq!(w.bytes_written(), w.get_ref().len() as u64);
    for ev in events(1000) {
        w.append(&ev).unwrap();
        assert_eq!(w.bytes_written(), w.get_ref().len() as u64);
    }
    w.flush_block().unwrap();
    assert_eq!(w.bytes_written(), w.get_ref().len() as u64);
    assert_eq!(w.events_written(), 1000);
    assert_eq!(w.pending_events(), 0);
    let before = w.bytes_written();
    w.flush_block().unwrap(); // nothing pending: writes nothing
    assert_eq!(w.bytes_written(), before);
    // The trailer adds exactly one frame.
    let out = w.finish(&trailer()).unwrap();
    let trailer_len = postcard::to_stdvec(&trailer()).unwrap().len() as u64;
    assert_eq!(
        out.len() as u64,
        before + FRAME_HEADER_LEN as u64 + trailer_len
    );
}

#[test]
fn block_frames_record_count_and_time_range() {
    let evs = events(20);
    let (bytes, _) = write_log(&evs, 20, true);
    let (start, _, tag) = frames(&bytes)[0];
    assert_eq!(tag, TAG_BLOCK);
    let fh = FrameHeader::from_bytes(bytes[start..start + FRAME_HEADER_LEN].try_into().unwrap());
    assert_eq!(fh.count, 20);
    assert_eq!(fh.codec, CODEC_ZSTD);
    assert_eq!(fh.min_ts_ns, 1_000_000);
    assert_eq!(fh.max_ts_ns, 1_000_000 + 19 * 1_000);
}

#[test]
fn block_of_only_counters_has_zero_time_range() {
    let (bytes, _) = write_log(&[Event::Counters(counters(1))], 1, true);
    let (start, _, _) = frames(&bytes)[0];
    let fh = FrameHeader::from_bytes(bytes[start..start + FRAME_HEADER_LEN].try_into().unwrap());
    assert_eq!((fh.count, fh.min_ts_ns, fh.max_ts_ns), (1, 0, 0));
}

#[test]
fn incompressible_block_is_stored() {
    // xorshift noise does not compress: the writer must fall back to stored.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let noise: Vec<u8> = (0..20_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    let ev = Event::Syscall(Syscall {
        data: vec![Capture {
            arg: 1,
            kind: CaptureKind::OutBuf,
            len: noise.len() as u64,
            truncated: false,
            read_failed: false,
            bytes: noise,
        }],
        ..Syscall::default()
    });
    let (bytes, _) = write_log(std::slice::from_ref(&ev), 1, true);
    let (start, _, _) = frames(&bytes)[0];
    assert_eq!(bytes[start + 1], CODEC_STORED);
    let (r, got, err) = read_all(&bytes);
    assert!(err.is_none());
    assert_eq!(got, vec![ev]);
    assert_eq!(r.end_state(), EndState::Clean);
}

#[test]
fn stored_writer_writes_only_stored_blocks_that_read_back() {
    let evs = events(3000);
    let mut w = LogWriter::stored(Vec::new(), &header()).unwrap();
    for ev in &evs {
        w.append(ev).unwrap();
    }
    let bytes = w.finish(&trailer()).unwrap();
    let blocks: Vec<_> = frames(&bytes)
        .into_iter()
        .filter(|f| f.2 == TAG_BLOCK)
        .collect();
    assert!(!blocks.is_empty());
    for (start, _, _) in blocks {
        assert_eq!(bytes[start + 1], CODEC_STORED);
    }
    let (r, got, err) = read_all(&bytes);
    assert!(err.is_none());
    assert_eq!(got, evs);
    assert_eq!(r.end_state(), EndState::Clean);
}

#[test]
fn a_writer_switched_to_storing_and_back_mixes_codecs_that_read_back() {
    let evs = events(3000);
    let mut w = LogWriter::new(Vec::new(), &header(), 1)
        .unwrap()
        .with_block_size(4096);
    for (i, ev) in evs.iter().enumerate() {
        // Stored for the middle third only.
        w.set_store((1000..2000).contains(&i));
        w.append(ev).unwrap();
    }
    let bytes = w.finish(&trailer()).unwrap();
    let codecs: Vec<u8> = frames(&bytes)
        .into_iter()
        .filter(|f| f.2 == TAG_BLOCK)
        .map(|(start, _, _)| bytes[start + 1])
        .collect();
    assert!(codecs.contains(&CODEC_STORED), "{codecs:?}");
    assert!(codecs.contains(&CODEC_ZSTD), "{codecs:?}");
    // Compressed, stored, compressed: one switch each way.
    let switches = codecs.windows(2).filter(|w| w[0] != w[1]).count();
    assert_eq!(switches, 2, "{codecs:?}");
    let (r, got, err) = read_all(&bytes);
    assert!(err.is_none());
    assert_eq!(got, evs);
    assert_eq!(r.end_state(), EndState::Clean);
}

#[test]
fn encoded_blocks_from_another_thread() {
    let evs = events(100);
    let frame =
        std::thread::scope(|s| s.spawn(|| encode_block(&evs[10..60], 5).unwrap()).join()).unwrap();
    let mut w = LogWriter::new(Vec::new(), &header(), 3).unwrap();
    for ev in &evs[..10] {
        w.append(ev).unwrap(); // still pending: must be written first
    }
    w.write_encoded_block(&frame).unwrap();
    assert_eq!(w.events_written(), 60);
    for ev in &evs[60..] {
        w.append(ev).unwrap();
    }
    let bytes = w.finish(&trailer()).unwrap();
    let (_, got, err) = read_all(&bytes);
    assert!(err.is_none());
    assert_eq!(got, evs);

    // Anything but an intact block frame is refused, and nothing is written.
    let mut w = LogWriter::new(Vec::new(), &header(), 3).unwrap();
    let before = w.bytes_written();
    let mut bad = frame.clone();
    *bad.last_mut().unwrap() ^= 1;
    for f in [&bad[..], &frame[..10], &frame[..frame.len() - 1]] {
        assert!(matches!(
            w.write_encoded_block(f),
            Err(LogError::InvalidEncodedBlock(_))
        ));
    }
    assert_eq!(w.bytes_written(), before);
}

#[test]
fn empty_log_is_clean() {
    let bytes = LogWriter::new(Vec::new(), &header(), 3)
        .unwrap()
        .finish(&trailer())
        .unwrap();
    let (r, got, err) = read_all(&bytes);
    assert!(err.is_none() && got.is_empty());
    assert_eq!(r.end_state(), EndState::Clean);
    assert_eq!(r.trailer(), Some(&trailer()));
}

#[test]
fn missing_trailer_reads_as_no_trailer() {
    let evs = events(50);
    let (bytes, _) = write_log(&evs, 20, false);
    let (r, got, err) = read_all(&bytes);
    assert!(err.is_none());
    assert_eq!(got, evs);
    assert_eq!(r.trailer(), None);
    assert_eq!(
        r.end_state(),
        EndState::NoTrailer {
            offset: bytes.len() as u64
        }
    );
}

#[test]
fn truncated_at_every_cut_point() {
    let evs = events(40);
    let (bytes, bounds) = write_log(&evs, 15, true);
    let header_end = bounds[0].0 as usize;
    for cut in 0..=bytes.len() {
        let prefix = &bytes[..cut];
        if cut < header_end {
            match LogReader::open(Cursor::new(prefix)) {
                Err(LogError::Empty) => assert_eq!(cut, 0),
                Err(LogError::Truncated { what, offset, .. }) => {
                    let (want_what, want_off) = if cut < PREFIX_LEN {
                        (Section::Prefix, 0)
                    } else {
                        (Section::Header, PREFIX_LEN as u64)
                    };
                    assert_eq!((what, offset), (want_what, want_off), "cut {cut}");
                }
                Err(e) => panic!("cut {cut}: unexpected error {e}"),
                Ok(_) => panic!("cut {cut}: header accepted"),
            }
            continue;
        }
        let (r, got, err) = read_all(prefix);
        // Exactly the events of the blocks that are wholly inside the cut.
        let &(last_end, n) = bounds.iter().rev().find(|b| b.0 as usize <= cut).unwrap();
        assert_eq!(got, evs[..n], "cut {cut}");
        if cut == bytes.len() {
            assert_eq!(r.end_state(), EndState::Clean);
        } else if cut as u64 == last_end {
            assert!(err.is_none(), "cut {cut}");
            assert_eq!(r.end_state(), EndState::NoTrailer { offset: last_end });
        } else {
            assert!(matches!(err, Some(LogError::Truncated { .. })), "cut {cut}");
            let EndState::Truncated {
                offset,
                needed,
                available,
                ..
            } = r.end_state()
            else {
                panic!("cut {cut}: {}", r.end_state())
            };
            assert_eq!(offset, last_end, "cut {cut}");
            assert!(available < needed);
            assert!(offset + available <= cut as u64);
        }
    }
}

#[test]
fn flipped_byte_in_block_is_corrupt_at_that_block() {
    let evs = events(60);
    let (mut bytes, bounds) = write_log(&evs, 20, true);
    // Damage the middle of the second block's payload.
    let (start, end) = (bounds[1].0 as usize, bounds[2].0 as usize);
    bytes[(start + FRAME_HEADER_LEN + end) / 2] ^= 0x40;
    let (r, got, err) = read_all(&bytes);
    assert_eq!(got, evs[..20]);
    let err = err.expect("an error");
    assert!(matches!(
        err,
        LogError::Corrupt {
            what: Section::Block,
            offset,
            problem: Problem::ChecksumMismatch { .. },
        } if offset == start as u64
    ));
    let msg = err.to_string();
    assert!(
        msg.starts_with(&format!(
            "corrupt block at offset {start}: checksum mismatch (expected 0x"
        )),
        "{msg}"
    );
    assert!(matches!(r.end_state(), EndState::Corrupt { offset, .. } if offset == start as u64));
}

/// Every single-byte change anywhere is either rejected at open or stops
/// reading exactly at the damaged frame, after all events before it.
#[test]
fn any_flipped_byte_stops_at_the_damaged_frame() {
    let evs = events(30);
    let (bytes, bounds) = write_log(&evs, 10, true);
    let header_end = bounds[0].0 as usize;
    let fr = frames(&bytes);
    for pos in 0..bytes.len() {
        for mask in [0x01u8, 0x80, 0xff] {
            let mut damaged = bytes.clone();
            damaged[pos] ^= mask;
            if pos < header_end {
                assert!(
                    LogReader::open(Cursor::new(&damaged[..])).is_err(),
                    "pos {pos}"
                );
                continue;
            }
            let k = fr.iter().position(|f| f.0 <= pos && pos < f.1).unwrap();
            let (r, got, err) = read_all(&damaged);
            assert_eq!(got, evs[..bounds[k].1], "pos {pos} mask {mask:#x}");
            assert!(err.is_some(), "pos {pos}");
            match r.end_state() {
                EndState::Corrupt { offset, .. } | EndState::Truncated { offset, .. } => {
                    assert_eq!(offset, fr[k].0 as u64, "pos {pos}")
                }
                s => panic!("pos {pos}: {s}"),
            }
        }
    }
}

#[test]
fn after_an_error_reading_stays_stopped() {
    let evs = events(30);
    let (mut bytes, bounds) = write_log(&evs, 10, true);
    bytes[bounds[1].0 as usize + FRAME_HEADER_LEN + 3] ^= 1;
    let mut r = LogReader::open(Cursor::new(&bytes)).unwrap();
    for _ in 0..10 {
        r.next_event().unwrap().unwrap();
    }
    assert!(r.next_event().is_err());
    let state = r.end_state();
    for _ in 0..5 {
        assert!(r.next_event().unwrap().is_none());
    }
    assert_eq!(r.end_state(), state);
    // The iterator yields the error once, then ends.
    let items: Vec<_> = LogReader::open(Cursor::new(&bytes)).unwrap().collect();
    assert_eq!(items.len(), 11);
    assert!(items[10].is_err());
}

#[test]
fn empty_file() {
    let err = LogReader::open(Cursor::new(&[][..])).err().unwrap();
    assert!(matches!(err, LogError::Empty));
    assert_eq!(err.to_string(), "empty file");
}

#[test]
fn wrong_magic() {
    for bad in [
        &b"hello world, not a log at all"[..],
        b"{",
        &header_only()[1..],
    ] {
        let err = LogReader::open(Cursor::new(bad)).err().unwrap();
        assert!(matches!(err, LogError::BadMagic), "{err}");
        assert_eq!(err.to_string(), "not a recorder log (bad magic)");
    }
    // Text-mode mangling (\r\n -> \n) is caught by the magic.
    let mut mangled = header_only();
    mangled.remove(4);
    assert!(matches!(
        LogReader::open(Cursor::new(&mangled)),
        Err(LogError::BadMagic)
    ));
}

#[test]
fn future_version() {
    let mut bytes = header_only();
    bytes[8..10].copy_from_slice(&7u16.to_le_bytes());
    let err = LogReader::open(Cursor::new(&bytes)).err().unwrap();
    assert!(matches!(err, LogError::UnsupportedVersion { found: 7 }));
    assert_eq!(
        err.to_string(),
        "unsupported format version 7 (this recorder reads versions 1 to 2; a newer recorder is needed)"
    );
    // Said as soon as the version's bytes are there, even in a cut-off
    // file: the useful answer is "needs a newer recorder".
    let err = LogReader::open(Cursor::new(&bytes[..10])).err().unwrap();
    assert!(matches!(err, LogError::UnsupportedVersion { found: 7 }));
    // Version 0 is no version at all.
    bytes[8..10].copy_from_slice(&0u16.to_le_bytes());
    let err = LogReader::open(Cursor::new(&bytes)).err().unwrap();
    assert!(matches!(err, LogError::UnsupportedVersion { found: 0 }));
}

#[test]
fn unknown_flags_are_refused() {
    let mut bytes = header_only();
    bytes[10] = 1;
    // With a stale CRC it is corruption...
    assert!(matches!(
        LogReader::open(Cursor::new(&bytes)),
        Err(LogError::Corrupt {
            what: Section::Header,
            problem: Problem::ChecksumMismatch { .. },
            ..
        })
    ));
    // ...with a matching one, a feature this reader does not have.
    let end = bytes.len() - 4;
    let crc = crc32fast::hash(&bytes[8..end]);
    bytes[end..].copy_from_slice(&crc.to_le_bytes());
    assert!(matches!(
        LogReader::open(Cursor::new(&bytes)),
        Err(LogError::UnsupportedFlags { found: 1 })
    ));
}

#[test]
fn header_length_past_eof() {
    let mut bytes = header_only();
    let real = u32::from_le_bytes(bytes[12..16].try_into().unwrap());
    bytes[12..16].copy_from_slice(&(real + 1000).to_le_bytes());
    let err = LogReader::open(Cursor::new(&bytes)).err().unwrap();
    assert!(matches!(
        err,
        LogError::Truncated {
            what: Section::Header,
            offset: 16,
            needed,
            available,
        } if needed == u64::from(real) + 1004 && available == u64::from(real) + 4
    ));
    assert!(
        err.to_string()
            .starts_with("truncated header at offset 16: needs ")
    );
}

#[test]
fn huge_header_length_is_rejected_before_reading() {
    let mut bytes = header_only();
    bytes[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
    let err = LogReader::open(Cursor::new(&bytes)).err().unwrap();
    assert!(matches!(
        err,
        LogError::Corrupt {
            what: Section::Header,
            problem: Problem::LengthTooLarge {
                value: 0xffff_ffff,
                ..
            },
            ..
        }
    ));
}

#[test]
fn four_gib_block_length_is_rejected_without_allocating() {
    let mut bytes = header_only();
    let at = bytes.len() as u64;
    let fh = FrameHeader {
        tag: TAG_BLOCK,
        codec: CODEC_ZSTD,
        payload_len: u32::MAX,
        raw_len: 100,
        count: 1,
        min_ts_ns: 0,
        max_ts_ns: 0,
        crc: 0,
    };
    bytes.extend_from_slice(&fh.to_bytes());
    bytes.extend_from_slice(&[0u8; 100]);
    let (r, got, err) = read_all(&bytes);
    assert!(got.is_empty());
    let err = err.unwrap();
    assert!(matches!(
        err,
        LogError::Corrupt {
            what: Section::Block,
            offset,
            problem: Problem::LengthTooLarge { field: "payload length", .. },
        } if offset == at
    ));
    assert_eq!(
        err.to_string(),
        format!(
            "corrupt block at offset {at}: payload length 4294967295 exceeds the limit of 16777216 bytes"
        )
    );
    assert!(matches!(r.end_state(), EndState::Corrupt { .. }));

    // Same for the uncompressed length.
    let mut bytes = header_only();
    let fh = FrameHeader {
        payload_len: 10,
        raw_len: u32::MAX,
        ..fh
    };
    bytes.extend_from_slice(&fh.to_bytes());
    bytes.extend_from_slice(&[0u8; 10]);
    let (_, _, err) = read_all(&bytes);
    assert!(matches!(
        err,
        Some(LogError::Corrupt {
            problem: Problem::LengthTooLarge {
                field: "uncompressed length",
                ..
            },
            ..
        })
    ));
}

#[test]
fn truncated_block_message() {
    let (bytes, bounds) = write_log(&events(20), 20, false);
    let at = bounds[0].0;
    let cut = &bytes[..at as usize + FRAME_HEADER_LEN + 5];
    let (_, _, err) = read_all(cut);
    let total = bytes.len() as u64 - at;
    assert_eq!(
        err.unwrap().to_string(),
        format!(
            "truncated block at offset {at}: needs {total} bytes, only {} remain",
            FRAME_HEADER_LEN + 5
        )
    );
}

#[test]
fn damaged_block_contents_with_valid_crc() {
    let base = header_only();
    let at = base.len() as u64;
    let record = postcard::to_stdvec(&event(4)).unwrap();
    let mut raw = Vec::new();
    put_varint(&mut raw, record.len() as u32);
    raw.extend_from_slice(&record);
    let zst = zstd::bulk::compress(&raw, 3).unwrap();
    let problem_of = |frame: Vec<u8>| {
        let mut bytes = base.clone();
        bytes.extend_from_slice(&frame);
        let (r, got, err) = read_all(&bytes);
        assert!(got.is_empty());
        assert!(err.is_some());
        match r.end_state() {
            EndState::Corrupt {
                offset, problem, ..
            } => {
                assert_eq!(offset, at);
                problem
            }
            s => panic!("{s}"),
        }
    };
    let n = raw.len() as u32;
    // Sanity: the well-formed variants decode.
    for frame in [
        raw_frame(TAG_BLOCK, CODEC_STORED, &raw, n, 1),
        raw_frame(TAG_BLOCK, CODEC_ZSTD, &zst, n, 1),
    ] {
        let mut bytes = base.clone();
        bytes.extend_from_slice(&frame);
        assert_eq!(read_all(&bytes).1, vec![event(4)]);
    }
    assert!(matches!(
        problem_of(raw_frame(TAG_BLOCK, CODEC_STORED, &raw, n, 2)),
        Problem::CountMismatch {
            expected: 2,
            actual: 1
        }
    ));
    assert!(matches!(
        problem_of(raw_frame(TAG_BLOCK, CODEC_STORED, &raw, n + 1, 1)),
        Problem::RawLengthMismatch { .. }
    ));
    // The zstd frame declares its size; a header that disagrees is caught
    // before decompressing.
    assert!(matches!(
        problem_of(raw_frame(TAG_BLOCK, CODEC_ZSTD, &zst, 50 << 20, 1)),
        Problem::RawLengthMismatch { actual, .. } if actual == u64::from(n)
    ));
    assert!(matches!(
        problem_of(raw_frame(TAG_BLOCK, CODEC_ZSTD, b"not zstd at all", n, 1)),
        Problem::Decompress(_)
    ));
    // One zstd frame and nothing after it (log-format.md §3), which zstd
    // alone does not hold to: a skippable frame after it, or two frames
    // without content sizes that add up to the uncompressed length, once
    // decoded as the block (the reference reader's edge cases found it).
    let single =
        |p: Problem| matches!(p, Problem::Decompress(m) if m.contains("not a single zstd frame"));
    let mut skippable = zst.clone();
    skippable.extend_from_slice(&0x184d_2a50u32.to_le_bytes());
    skippable.extend_from_slice(&4u32.to_le_bytes());
    skippable.extend_from_slice(b"skip");
    assert!(single(problem_of(raw_frame(
        TAG_BLOCK, CODEC_ZSTD, &skippable, n, 1
    ))));
    let mut c = zstd::bulk::Compressor::new(3).unwrap();
    c.set_parameter(zstd::zstd_safe::CParameter::ContentSizeFlag(false))
        .unwrap();
    let half = raw.len() / 2;
    let mut two = c.compress(&raw[..half]).unwrap();
    two.extend_from_slice(&c.compress(&raw[half..]).unwrap());
    assert!(single(problem_of(raw_frame(
        TAG_BLOCK, CODEC_ZSTD, &two, n, 1
    ))));
    assert!(matches!(
        problem_of(raw_frame(TAG_BLOCK, 9, &raw, n, 1)),
        Problem::UnknownCodec(9)
    ));
    // Record length running past the block.
    let mut long = raw.clone();
    long[0] += 1;
    assert!(matches!(
        problem_of(raw_frame(TAG_BLOCK, CODEC_STORED, &long, n, 1)),
        Problem::RecordFraming { at: 0 }
    ));
    // A record of a known kind that does not decode (an Exec whose comm
    // is not UTF-8).
    let bogus = BAD_EXEC_RECORD;
    assert!(matches!(
        problem_of(raw_frame(TAG_BLOCK, CODEC_STORED, &bogus, 9, 1)),
        Problem::BadRecord { index: 0, .. }
    ));
    // A trailer that does not decode.
    assert!(matches!(
        problem_of(raw_frame(TAG_TRAILER, CODEC_STORED, &[0xff; 3], 3, 0)),
        Problem::BadPayload(_)
    ));
}

/// A length-prefixed record of kind 1 (Exec) whose `comm` is not UTF-8.
const BAD_EXEC_RECORD: [u8; 9] = [8, 1, 0, 0, 0, 0, 0, 1, 0xff];

#[test]
fn bad_record_after_good_ones_returns_the_good_ones() {
    let mut raw = Vec::new();
    for i in 4..7 {
        let rec = postcard::to_stdvec(&event(i)).unwrap();
        put_varint(&mut raw, rec.len() as u32);
        raw.extend_from_slice(&rec);
    }
    raw.extend_from_slice(&BAD_EXEC_RECORD); // fourth record: does not decode
    let mut bytes = header_only();
    bytes.extend_from_slice(&raw_frame(
        TAG_BLOCK,
        CODEC_STORED,
        &raw,
        raw.len() as u32,
        4,
    ));
    let (_, got, err) = read_all(&bytes);
    assert_eq!(got, events(7)[4..]);
    assert!(matches!(
        err,
        Some(LogError::Corrupt {
            problem: Problem::BadRecord { index: 3, .. },
            ..
        })
    ));
}

/// Fields appended to Header/Trailer/Counters by a newer writer, and frame
/// kinds it added, are skipped by this reader.
#[test]
fn forward_compatible_extensions_are_ignored() {
    // Header with extra trailing bytes (and a CRC over them).
    let mut body = postcard::to_stdvec(&header()).unwrap();
    body.extend_from_slice(&[5, 6, 7]);
    let mut bytes = MAGIC.to_vec();
    bytes.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    bytes.extend_from_slice(&0u16.to_le_bytes());
    bytes.extend_from_slice(&(body.len() as u32).to_le_bytes());
    bytes.extend_from_slice(&body);
    let crc = crc32fast::hash(&bytes[8..]);
    bytes.extend_from_slice(&crc.to_le_bytes());

    // A Counters event with two appended fields, then a normal event.
    let mut raw = Vec::new();
    let mut rec = postcard::to_stdvec(&Event::Counters(counters(3))).unwrap();
    rec.extend_from_slice(&[42, 43]);
    put_varint(&mut raw, rec.len() as u32);
    raw.extend_from_slice(&rec);
    let rec = postcard::to_stdvec(&event(5)).unwrap();
    put_varint(&mut raw, rec.len() as u32);
    raw.extend_from_slice(&rec);
    bytes.extend_from_slice(&raw_frame(
        TAG_BLOCK,
        CODEC_STORED,
        &raw,
        raw.len() as u32,
        2,
    ));

    // An unknown frame kind.
    bytes.extend_from_slice(&raw_frame(b'I', CODEC_STORED, b"some index", 10, 0));

    // A trailer with appended fields, zstd-compressed this time.
    let mut t = postcard::to_stdvec(&trailer()).unwrap();
    t.extend_from_slice(&[9, 9, 9]);
    let z = zstd::bulk::compress(&t, 3).unwrap();
    bytes.extend_from_slice(&raw_frame(TAG_TRAILER, CODEC_ZSTD, &z, t.len() as u32, 0));

    let (r, got, err) = read_all(&bytes);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(r.header(), &header());
    assert_eq!(got, vec![Event::Counters(counters(3)), event(5)]);
    assert_eq!(r.trailer(), Some(&trailer()));
    assert_eq!(r.end_state(), EndState::Clean);
}

#[test]
fn streams_through_a_real_file() {
    let evs = events(2000);
    let file = tempfile::tempfile().unwrap();
    let mut w = LogWriter::new(io::BufWriter::new(file), &header(), 3)
        .unwrap()
        .with_block_size(8 << 10);
    for ev in &evs {
        w.append(ev).unwrap();
    }
    let written = w.bytes_written();
    let mut file = w
        .finish(&trailer())
        .unwrap()
        .into_inner()
        .map_err(|e| e.into_error())
        .unwrap();
    use std::io::Seek;
    assert!(file.stream_position().unwrap() > written);
    file.rewind().unwrap();
    let r = LogReader::open(io::BufReader::new(file)).unwrap();
    let got: Vec<Event> = r.collect::<Result<_, _>>().unwrap();
    assert_eq!(got, evs);
}

/// A sink that accepts `room` bytes, in small pieces, then fails.
struct FailingSink {
    data: Vec<u8>,
    room: usize,
}

impl Write for FailingSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.data.len() >= self.room {
            return Err(io::Error::from_raw_os_error(libc::ENOSPC));
        }
        let n = buf.len().min(self.room - self.data.len()).min(1000);
        self.data.extend_from_slice(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn write_failure_poisons_and_keeps_exact_count() {
    let sink = FailingSink {
        data: Vec::new(),
        room: 3000,
    };
    let mut w = LogWriter::new(sink, &header(), 3)
        .unwrap()
        .with_block_size(1024);
    let mut failed = None;
    for ev in events(2000) {
        if let Err(e) = w.append(&ev) {
            failed = Some(e);
            break;
        }
    }
    let failed = failed.expect("the sink fills up");
    assert!(
        matches!(failed, LogError::Io { offset: 3000, .. }),
        "{failed}"
    );
    // The message says where, the source says why, each once: callers
    // print the whole chain (`{:#}`), which appends every source.
    assert_eq!(
        format!("{:#}", anyhow::Error::from(failed)),
        "I/O error at offset 3000: No space left on device (os error 28)"
    );
    assert_eq!(w.bytes_written(), w.get_ref().data.len() as u64);
    assert!(matches!(w.flush_block(), Err(LogError::Poisoned)));
    assert!(matches!(w.finish(&trailer()), Err(LogError::Poisoned)));
}

/// A full disk, as the recorder handles it: cut the torn frame off, drop
/// the block that did not fit, and close the log with its trailer. The log
/// reads clean, with exactly the events of the complete blocks.
#[test]
fn cut_back_to_the_last_complete_frame_after_a_failed_write() {
    let sink = FailingSink {
        data: Vec::new(),
        room: 3000,
    };
    let mut w = LogWriter::new(sink, &header(), 3)
        .unwrap()
        .with_block_size(1024);
    let evs = events(2000);
    let mut appended = 0u64;
    for ev in &evs {
        let before = w.events_written() + w.pending_events();
        let res = w.append(ev);
        appended += w.events_written() + w.pending_events() - before;
        if res.is_err() {
            break;
        }
    }
    assert!(w.bytes_written() > w.committed_bytes(), "a frame was torn");
    let written = w.events_written();
    let at = w.committed_bytes();
    w.get_mut().data.truncate(at as usize);
    w.get_mut().room = usize::MAX;
    w.resume_at_committed();
    assert_eq!(w.bytes_written(), at);
    let pending_checkpoints = evs[written as usize..appended as usize]
        .iter()
        .filter(|e| matches!(e, Event::Counters(_)))
        .count() as u64;
    let d = w.discard_pending();
    assert_eq!(d.events, appended - written);
    assert_eq!(d.checkpoints, pending_checkpoints);
    assert!(d.checkpoints > 0, "the test should drop a checkpoint too");
    assert_eq!(w.pending_events(), 0);
    let out = w.finish(&trailer()).unwrap();
    let (r, got, err) = read_all(&out.data);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(r.end_state(), EndState::Clean);
    assert_eq!(got, evs[..written as usize]);
}

/// Resuming without discarding writes the failed block again, whole.
#[test]
fn resume_retries_the_block_that_failed() {
    let sink = FailingSink {
        data: Vec::new(),
        room: 2000,
    };
    let mut w = LogWriter::new(sink, &header(), 3)
        .unwrap()
        .with_block_size(1024);
    let evs = events(300);
    let mut n = 0;
    for ev in &evs {
        n += 1;
        if w.append(ev).is_err() {
            break;
        }
    }
    assert!(n < evs.len(), "the sink fills up");
    let at = w.committed_bytes() as usize;
    w.get_mut().data.truncate(at);
    w.get_mut().room = usize::MAX;
    w.resume_at_committed();
    for ev in &evs[n..] {
        w.append(ev).unwrap();
    }
    let out = w.finish(&trailer()).unwrap();
    let (r, got, err) = read_all(&out.data);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(r.end_state(), EndState::Clean);
    assert_eq!(got, evs);
}

#[test]
fn varints() {
    for v in [0u32, 1, 127, 128, 300, 16383, 16384, u32::MAX] {
        let mut b = Vec::new();
        put_varint(&mut b, v);
        // Same bytes postcard uses for a u32.
        assert_eq!(b, postcard::to_stdvec(&v).unwrap());
        assert_eq!(get_varint(&b), Some((v, b.len())));
        assert_eq!(get_varint(&b[..b.len() - 1]), None);
    }
    assert_eq!(get_varint(&[0xff, 0xff, 0xff, 0xff, 0x10]), None); // > u32
    assert_eq!(get_varint(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x00]), None); // > 5 bytes
}

/// Deterministic mini-fuzz: random bytes behind a valid prefix, and random
/// mutations of a valid log. Nothing may panic, and a mutated log may only
/// yield a prefix of the original events.
#[test]
fn random_inputs_never_panic() {
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let mut rnd = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let evs = events(50);
    let (good, _) = write_log(&evs, 7, true);
    let header_end = header_only().len();
    for _ in 0..3000 {
        let mut bytes = match rnd() % 3 {
            0 => {
                // Valid header, then noise.
                let mut b = good[..header_end].to_vec();
                let n = (rnd() % 200) as usize;
                b.extend((0..n).map(|_| rnd() as u8));
                b
            }
            _ => good.clone(),
        };
        for _ in 0..(rnd() % 4) {
            let i = (rnd() as usize) % bytes.len();
            bytes[i] = rnd() as u8;
        }
        if rnd() % 2 == 0 {
            bytes.truncate((rnd() as usize) % (bytes.len() + 1));
        }
        let Ok(r) = LogReader::open(Cursor::new(&bytes[..])) else {
            continue;
        };
        let got: Vec<_> = r.take(10_000).filter_map(Result::ok).collect();
        assert!(got.len() <= evs.len() && got == evs[..got.len()]);
    }
}

/// The byte-level claims of docs/log-format.md.
#[test]
fn layout_matches_the_spec() {
    let bytes = header_only();
    assert_eq!(&bytes[..8], b"\x89REC\r\n\x1a\n");
    assert_eq!(&bytes[8..12], &[2, 0, 0, 0]); // version 2, flags 0
    let n = u32::from_le_bytes(bytes[12..16].try_into().unwrap()) as usize;
    assert_eq!(bytes.len(), 16 + n + 4);
    assert_eq!(
        postcard::from_bytes::<Header>(&bytes[16..16 + n]).unwrap(),
        header()
    );
    let crc = u32::from_le_bytes(bytes[16 + n..].try_into().unwrap());
    assert_eq!(crc, crc32fast::hash(&bytes[8..16 + n]));
    assert_eq!(crc32fast::hash(b"123456789"), 0xCBF4_3926);

    // The worked record example.
    let ev = Event::Exit(ProcEvent {
        tgid: 5,
        tid: 6,
        ts_ns: 300,
        cpu: 1,
        aux: 1,
        comm: "sh".into(),
    });
    let enc = postcard::to_stdvec(&ev).unwrap();
    assert_eq!(
        enc,
        [0x03, 0x05, 0x06, 0xAC, 0x02, 0x01, 0x01, 0x02, 0x73, 0x68]
    );
    // In a block: varint length, then the event; the frame says so.
    let frame = encode_block(std::slice::from_ref(&ev), 3).unwrap();
    let fh = FrameHeader::from_bytes(frame[..FRAME_HEADER_LEN].try_into().unwrap());
    assert_eq!((fh.tag, fh.raw_len, fh.count), (b'B', 11, 1));
    assert_eq!((fh.min_ts_ns, fh.max_ts_ns), (300, 300));
    assert_eq!(fh.payload_len as usize, frame.len() - FRAME_HEADER_LEN);
    let payload = &frame[FRAME_HEADER_LEN..];
    let mut crc = crc32fast::Hasher::new();
    crc.update(&frame[..30]);
    crc.update(payload);
    assert_eq!(crc.finalize(), fh.crc);
    let data = match fh.codec {
        CODEC_STORED => payload.to_vec(),
        _ => zstd::bulk::decompress(payload, 11).unwrap(),
    };
    assert_eq!(data[0], 10);
    assert_eq!(data[1..], enc[..]);
}

/// A record written by an older recorder, whose `Counters` lacked the
/// fields appended since, still reads: the missing fields are zero.
#[test]
fn counters_from_an_older_writer_read_with_zero_new_fields() {
    let mut c = counters(2);
    c.entry_data = 0;
    c.entry_data_lost = 0;
    c.paused = 0;
    let mut rec = postcard::to_stdvec(&Event::Counters(c.clone())).unwrap();
    // The three newest fields, all 0, are one byte each at the end.
    rec.truncate(rec.len() - 3);
    let mut raw = Vec::new();
    put_varint(&mut raw, rec.len() as u32);
    raw.extend_from_slice(&rec);
    let mut bytes = header_only();
    bytes.extend_from_slice(&raw_frame(
        TAG_BLOCK,
        CODEC_STORED,
        &raw,
        raw.len() as u32,
        1,
    ));
    let (_, got, err) = read_all(&bytes);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(got, vec![Event::Counters(c)]);
}

/// Wraps `records` (each already `varint(kind) || body`) in one stored
/// block frame.
fn block_of(records: &[Vec<u8>]) -> Vec<u8> {
    let mut raw = Vec::new();
    for rec in records {
        put_varint(&mut raw, rec.len() as u32);
        raw.extend_from_slice(rec);
    }
    raw_frame(
        TAG_BLOCK,
        CODEC_STORED,
        &raw,
        raw.len() as u32,
        records.len() as u32,
    )
}

/// A file prefix and header of format `version`.
fn header_of_version(version: u16) -> Vec<u8> {
    let mut bytes = header_only();
    bytes[8..10].copy_from_slice(&version.to_le_bytes());
    let n = bytes.len();
    let crc = crc32fast::hash(&bytes[8..n - 4]);
    bytes[n - 4..].copy_from_slice(&crc.to_le_bytes());
    bytes
}

fn syscall_with(data: Vec<Capture>) -> Syscall {
    Syscall {
        tgid: 10,
        tid: 11,
        seq: 3,
        cpu: 1,
        nr: 257,
        args: [1, 2, 3, 4, 5, 6],
        ret: Some(3),
        enter_ns: 1000,
        exit_ns: Some(1500),
        died_in_call: false,
        data,
    }
}

/// A log from a newer writer: event kinds, data kinds and fields this
/// reader has never heard of. It reads fully; what is unknown is skipped
/// and counted, everything else is exactly what was written.
#[test]
fn events_and_data_items_of_unknown_kinds_are_skipped_and_counted() {
    let known = syscall_with(vec![
        Capture::whole(1, CaptureKind::Str, b"/etc/passwd"),
        Capture::whole(2, CaptureKind::OutBuf, b"root:x:0:0"),
    ]);
    // The same call as a newer writer would send it: an item of data kind
    // 9 (a layout this reader cannot know) between the two, and a field
    // appended after the list.
    let mut rec = postcard::to_stdvec(&Event::Syscall(syscall_with(vec![]))).unwrap();
    rec.pop(); // the empty list's count
    rec.push(3);
    for item in [
        postcard::to_stdvec(&known.data[0]).unwrap(),
        vec![4, 9, 0xde, 0xad, 0xbe, 0xef, 0x80],
        postcard::to_stdvec(&known.data[1]).unwrap(),
    ] {
        put_varint(&mut rec, item.len() as u32);
        rec.extend_from_slice(&item);
    }
    rec.extend_from_slice(&[0x05, 0x77]); // an appended field
    let mut bytes = header_only();
    bytes.extend_from_slice(&block_of(&[
        vec![40, 0xff, 0xff],         // event kind 40
        rec,                          // the call
        vec![0x80, 0x01, 1, 2, 3, 4], // event kind 128
        postcard::to_stdvec(&event(5)).unwrap(),
        vec![40], // kind 40 again, no body at all
    ]));
    bytes.extend_from_slice(&raw_frame(b'X', CODEC_STORED, b"future", 6, 0));
    let t = postcard::to_stdvec(&trailer()).unwrap();
    bytes.extend_from_slice(&raw_frame(TAG_TRAILER, CODEC_STORED, &t, t.len() as u32, 0));

    let (r, got, err) = read_all(&bytes);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(r.end_state(), EndState::Clean);
    assert_eq!(got, vec![Event::Syscall(known), event(5)]);
    let skipped = r.skipped();
    assert_eq!(
        skipped
            .events
            .iter()
            .map(|(k, n)| (*k, *n))
            .collect::<Vec<_>>(),
        vec![(40, 2), (128, 1)]
    );
    assert_eq!(skipped.data_items, 1);
    assert_eq!(
        skipped.text().unwrap(),
        "3 events of kinds newer than this reader skipped (kind 40: 2, kind 128: 1); \
         1 data items of kinds newer than this reader skipped"
    );
}

/// Format 1 wrote data items without length prefixes; such logs read
/// forever, and the writer's own output round-trips in format 2.
#[test]
fn format_1_syscalls_with_data_still_read() {
    #[derive(serde::Serialize)]
    struct V1Syscall<'a>(
        u32,
        u32,
        u64,
        u32,
        i64,
        [u64; 6],
        Option<i64>,
        u64,
        Option<u64>,
        bool,
        &'a [Capture],
    );
    let sc = syscall_with(vec![
        Capture::whole(1, CaptureKind::Str, b"/etc/passwd"),
        Capture::whole(2, CaptureKind::InBuf, &[0u8; 300]),
    ]);
    let v1 = V1Syscall(
        sc.tgid,
        sc.tid,
        sc.seq,
        sc.cpu,
        sc.nr,
        sc.args,
        sc.ret,
        sc.enter_ns,
        sc.exit_ns,
        sc.died_in_call,
        &sc.data,
    );
    let mut rec = vec![0u8]; // kind 0
    rec.extend_from_slice(&postcard::to_stdvec(&v1).unwrap());
    let mut bytes = header_of_version(1);
    bytes.extend_from_slice(&block_of(&[rec.clone()]));
    let (r, got, err) = read_all(&bytes);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(r.format_version(), 1);
    assert_eq!(got, vec![Event::Syscall(sc.clone())]);

    // The same bytes are not a format 2 record (items lack lengths)...
    let mut bytes = header_only();
    bytes.extend_from_slice(&block_of(&[rec]));
    assert_ne!(read_all(&bytes).1, vec![Event::Syscall(sc.clone())]);
    // ...and the writer's format 2 record reads back as written.
    let (log, _) = write_log(&[Event::Syscall(sc.clone())], 1, true);
    assert_eq!(read_all(&log).1, vec![Event::Syscall(sc)]);
}

/// A log's prefix and `header_bytes` as its header, CRC included.
fn prefix_with_header(header_bytes: &[u8]) -> Vec<u8> {
    let mut bytes = header_only()[..16].to_vec();
    bytes[12..16].copy_from_slice(&(header_bytes.len() as u32).to_le_bytes());
    bytes.extend_from_slice(header_bytes);
    let crc = crc32fast::hash(&bytes[8..]);
    bytes.extend_from_slice(&crc.to_le_bytes());
    bytes
}

/// `Header.trace` and `traced_nrs` (revision 2) round-trip, and a header
/// from a revision 1 writer, which ends before them, reads as "every
/// syscall recorded".
#[test]
fn trace_set_in_the_header_and_its_absence() {
    let h = header();
    let (log, _) = write_log(&[], 1, true);
    let r = LogReader::open(Cursor::new(&log)).unwrap();
    assert_eq!(r.header().trace, h.trace);
    assert_eq!(r.header().trace_set(), Some(&[56, 57, 59, 257][..]));

    let mut old = Header {
        trace: vec![],
        traced_nrs: vec![],
        lean: false,
        replayable: false,
        watch: false,
        format_minor: 1,
        ..h
    };
    let mut enc = postcard::to_stdvec(&old).unwrap();
    assert_eq!(
        enc[enc.len() - 5..],
        [0, 0, 0, 0, 0],
        "two empty lists, `lean`, `replayable` and `watch` false at the end"
    );
    enc.truncate(enc.len() - 5);
    let bytes = prefix_with_header(&enc);
    let r = LogReader::open(Cursor::new(&bytes)).unwrap();
    assert_eq!(r.header(), &old);
    assert_eq!(r.header().trace_set(), None);

    // `-e none`: a set that holds no syscall is still a set.
    old.trace = vec!["none".into()];
    assert_eq!(old.trace_set(), Some(&[][..]));
}

/// `Header.lean` (revision 3) round-trips, and a header from a revision 2
/// writer, which ends before it, reads as a full-mode log (durations).
#[test]
fn lean_in_the_header_and_its_absence() {
    let (log, _) = write_log(&[], 1, true);
    let r = LogReader::open(Cursor::new(&log)).unwrap();
    assert!(r.header().lean);

    let old = Header {
        lean: false,
        replayable: false,
        watch: false,
        format_minor: 2,
        ..header()
    };
    let mut enc = postcard::to_stdvec(&old).unwrap();
    assert_eq!(
        enc[enc.len() - 3..],
        [0, 0, 0],
        "`lean`, `replayable` and `watch` false end it"
    );
    enc.truncate(enc.len() - 3);
    let bytes = prefix_with_header(&enc);
    let r = LogReader::open(Cursor::new(&bytes)).unwrap();
    assert_eq!(r.header(), &old);
}

/// `Header.replayable` (revision 4) round-trips, and a header from a
/// revision 3 writer, which ends before it, reads as not replayable.
#[test]
fn replayable_in_the_header_and_its_absence() {
    let (log, _) = write_log(&[], 1, true);
    let r = LogReader::open(Cursor::new(&log)).unwrap();
    assert!(r.header().replayable);

    let old = Header {
        replayable: false,
        watch: false,
        format_minor: 3,
        ..header()
    };
    let mut enc = postcard::to_stdvec(&old).unwrap();
    assert_eq!(enc[enc.len() - 2..], [0, 0], "`replayable`, `watch` end it");
    enc.truncate(enc.len() - 2);
    let bytes = prefix_with_header(&enc);
    let r = LogReader::open(Cursor::new(&bytes)).unwrap();
    assert_eq!(r.header(), &old);
}

/// `Header.watch` (revision 5) round-trips, and a header from a revision
/// 4 writer, which ends before it, reads as a recording, not a watch.
#[test]
fn watch_in_the_header_and_its_absence() {
    let (log, _) = write_log(&[], 1, true);
    let r = LogReader::open(Cursor::new(&log)).unwrap();
    assert!(r.header().watch);

    let old = Header {
        watch: false,
        format_minor: 4,
        ..header()
    };
    let mut enc = postcard::to_stdvec(&old).unwrap();
    assert_eq!(enc.last(), Some(&0), "`watch` false is the last byte");
    enc.pop();
    let bytes = prefix_with_header(&enc);
    let r = LogReader::open(Cursor::new(&bytes)).unwrap();
    assert_eq!(r.header(), &old);
}

fn who(tgid: u32, ts_ns: u64) -> crate::event::WhoEvent {
    crate::event::WhoEvent {
        tgid,
        tid: tgid + 1,
        ts_ns,
        comm: "rm".into(),
        uid: 1000,
        gid: crate::event::WhoEvent::NO_ID,
        exe: "/usr/bin/rm".into(),
        source: crate::event::WhoEvent::KERNEL,
        cgroup: "/system.slice/cron.service".into(),
        cgroup_id: 1 << 40,
        parents: vec![
            crate::event::Parent {
                pid: 40,
                comm: "sh".into(),
            },
            crate::event::Parent {
                pid: 1,
                comm: "systemd".into(),
            },
        ],
    }
}

/// `Event::Who` (kind 7, revision 5) round-trips among calls, is counted
/// as the recorder's own event (not a record the kernel emitted), and
/// sets its block's time range.
#[test]
fn who_events_round_trip() {
    let mut evs = vec![Event::Who(who(42, 5_000))];
    evs.extend(events(6));
    evs.push(Event::Who(who(43, 9_000_000)));
    evs.push(Event::Who(crate::event::WhoEvent {
        parents: vec![],
        exe: String::new(),
        source: crate::event::WhoEvent::GONE,
        ..who(44, 10)
    }));
    let (log, _) = write_log(&evs, 4, true);
    let (r, got, err) = read_all(&log);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(got, evs);
    assert!(r.skipped().is_empty());
    let Event::Who(w) = &got[0] else {
        panic!("{:?}", got[0]);
    };
    assert_eq!(w.unit(), Some("cron.service"));
    assert_eq!(
        w.text(),
        "exe /usr/bin/rm (gone: as its fork and exec showed it), uid 1000, \
         unit cron.service, parents 40 (sh) < 1 (systemd)"
    );
    let mut w = LogWriter::new(Vec::new(), &header(), 3).unwrap();
    w.append(&Event::Who(who(1, 2))).unwrap();
    assert_eq!(w.discard_pending().checkpoints, 1, "not a kernel record");
}

/// The `WhoEvent` example of docs/log-format.md §5.2, byte for byte: the
/// reference reader wrote it, so the two agree on the layout.
#[test]
fn worked_who_example_matches_the_spec() {
    let w = crate::event::WhoEvent {
        tgid: 42,
        tid: 42,
        ts_ns: 700,
        comm: "rm".into(),
        uid: 0,
        gid: 0,
        exe: "/bin/rm".into(),
        source: crate::event::WhoEvent::PROC,
        cgroup: "/a.service".into(),
        cgroup_id: 5,
        parents: vec![crate::event::Parent {
            pid: 1,
            comm: "init".into(),
        }],
    };
    let enc = postcard::to_stdvec(&Event::Who(w.clone())).unwrap();
    let want: Vec<u8> = [
        &[0x07, 0x2A, 0x2A, 0xBC, 0x05, 0x02][..],
        b"rm",
        &[0x00, 0x00, 0x07],
        b"/bin/rm",
        &[0x00, 0x0A],
        b"/a.service",
        &[0x05, 0x01, 0x01, 0x04],
        b"init",
    ]
    .concat();
    assert_eq!(enc, want);
    assert_eq!(enc.len(), 0x26);
    let mut skipped = Skipped::default();
    match record::decode(&enc, FORMAT_VERSION, &mut skipped).unwrap() {
        record::Decoded::Event(ev) => assert_eq!(ev, Event::Who(w)),
        other => panic!("{other:?}"),
    }
    // A reader of revision 4 knew kinds up to 6: the record's own length
    // is what lets it skip this one. The first unknown kind now is 8.
    assert!(matches!(
        record::decode(&[0x08, 0x01], FORMAT_VERSION, &mut skipped).unwrap(),
        record::Decoded::Unknown { kind: 8 }
    ));
}

/// The header names the format revision the writer followed, whatever a
/// copied header said.
#[test]
fn writer_stamps_its_format_minor() {
    let mut h = header();
    h.format_minor = 77;
    let w = LogWriter::new(Vec::new(), &h, 3).unwrap();
    let bytes = w.finish(&trailer()).unwrap();
    let r = LogReader::open(Cursor::new(&bytes)).unwrap();
    assert_eq!(r.header().format_minor, FORMAT_MINOR);
}

/// The worked version 2 syscall example of docs/log-format.md §9, byte
/// for byte.
#[test]
fn worked_syscall_example_matches_the_spec() {
    let sc = Syscall {
        tgid: 7,
        tid: 7,
        seq: 2,
        cpu: 1,
        nr: 257,
        args: [(-100i64) as u64, 0x1000, 0, 0, 0, 0],
        ret: Some(3),
        enter_ns: 1000,
        exit_ns: Some(1500),
        died_in_call: false,
        data: vec![Capture::whole(1, CaptureKind::Str, b"/etc")],
    };
    let enc = postcard::to_stdvec(&Event::Syscall(sc.clone())).unwrap();
    let want: Vec<u8> = [
        &[0x00, 0x07, 0x07, 0x02, 0x01, 0x82, 0x04][..],
        &[0x9C, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01],
        &[0x80, 0x20, 0, 0, 0, 0],
        &[0x01, 0x06, 0xE8, 0x07, 0x01, 0xDC, 0x0B, 0x00],
        &[0x01, 0x0A, 0x01, 0x00, 0x04, 0x00, 0x00, 0x04],
        b"/etc",
    ]
    .concat();
    assert_eq!(enc, want);
    assert_eq!(enc.len(), 0x2B);
    let mut skipped = Skipped::default();
    match record::decode(&enc, FORMAT_VERSION, &mut skipped).unwrap() {
        record::Decoded::Event(ev) => assert_eq!(ev, Event::Syscall(sc)),
        other => panic!("{other:?}"),
    }
    // A record of kind 40 with two body bytes is skipped and counted.
    assert!(matches!(
        record::decode(&[0x28, 0xFF, 0xFF], FORMAT_VERSION, &mut skipped).unwrap(),
        record::Decoded::Unknown { kind: 40 }
    ));
    assert_eq!(skipped.event_count(), 1);
}
