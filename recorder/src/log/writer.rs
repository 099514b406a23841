//! Writing logs: [`LogWriter`] buffers encoded events and emits one
//! compressed, checksummed block frame whenever the buffer reaches the block
//! size; [`encode_block`] does the same encoding without I/O, for callers
//! that compress on another thread.

use std::io::{self, Write};

use super::{
    CODEC_STORED, CODEC_ZSTD, DEFAULT_BLOCK_SIZE, FORMAT_VERSION, FRAME_HEADER_LEN, FrameHeader,
    LogError, MAGIC, MAX_BLOCK_SIZE, MAX_HEADER_LEN, MAX_PAYLOAD_LEN, MAX_RAW_LEN, TAG_BLOCK,
    TAG_TRAILER, event_ts, put_varint,
};
use crate::event::{Event, Header, Trailer};

/// Largest single encoded event. Chosen so that a block holding only this
/// record still fits [`MAX_PAYLOAD_LEN`] when stored uncompressed (5 bytes
/// for its length varint), so the writer never produces a frame the reader
/// rejects, however incompressible the data.
const MAX_RECORD_LEN: usize = MAX_PAYLOAD_LEN as usize - 5;

/// Writes a log: prefix and header at construction, then blocks of events,
/// then (on [`finish`](Self::finish)) the trailer.
///
/// Events are only durable once their block was handed to `W`: call
/// [`flush_block`](Self::flush_block) periodically (the daemon does so on a
/// timer) so a crash loses at most the last interval. Dropping the writer
/// without `flush_block`/`finish` discards buffered events.
///
/// `W` is written with many small and some large writes; for a file, wrap
/// it in a `BufWriter`.
pub struct LogWriter<W: Write> {
    out: W,
    /// `None`: blocks are stored uncompressed ([`LogWriter::stored`]).
    compressor: Option<zstd::bulk::Compressor<'static>>,
    /// Blocks are stored even with a compressor ([`LogWriter::set_store`]).
    store: bool,
    block_size: usize,
    pending: PendingBlock,
    /// Reused buffer for encoding one event.
    scratch: Vec<u8>,
    events_written: u64,
    bytes_written: u64,
    /// `bytes_written` at the end of the last prefix or frame `W` accepted
    /// whole: where a frame torn by a failed write begins.
    committed: u64,
    poisoned: bool,
}

/// What [`LogWriter::discard_pending`] dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Discarded {
    /// Events dropped, checkpoints included.
    pub events: u64,
    /// Of those, the recorder's own events rather than records of the
    /// recording: `Event::Counters` checkpoints (cumulative totals that the
    /// next checkpoint or the trailer repeats), `Event::Pause`s and
    /// `Event::Who`s.
    pub checkpoints: u64,
}

impl<W: Write> LogWriter<W> {
    /// Writes the file prefix and `header` to `out` immediately and returns
    /// a writer for the events. `level` is the zstd compression level
    /// (1-22, or negative for faster; 0 means zstd's default, 3).
    pub fn new(out: W, header: &Header, level: i32) -> Result<Self, LogError> {
        let compressor = zstd::bulk::Compressor::new(level).map_err(LogError::Compress)?;
        Self::with_compressor(out, header, Some(compressor))
    }

    /// Like [`LogWriter::new`], but every block is stored uncompressed: the
    /// writer's work without zstd, which is what the level measurements
    /// (`examples/zstd_levels.rs`) compare every level against.
    pub fn stored(out: W, header: &Header) -> Result<Self, LogError> {
        Self::with_compressor(out, header, None)
    }

    fn with_compressor(
        out: W,
        header: &Header,
        compressor: Option<zstd::bulk::Compressor<'static>>,
    ) -> Result<Self, LogError> {
        let prefix = encode_prefix(header)?;
        let mut w = LogWriter {
            out,
            compressor,
            store: false,
            block_size: DEFAULT_BLOCK_SIZE,
            pending: PendingBlock::default(),
            scratch: Vec::new(),
            events_written: 0,
            bytes_written: 0,
            committed: 0,
            poisoned: false,
        };
        w.write_counted(&prefix)?;
        Ok(w)
    }

    /// Stores the blocks written from now on uncompressed (`true`), or
    /// compresses them again (`false`, with a compressor). Readers see the
    /// codec per block, so a log may mix both: the recorder stores while
    /// its writer is behind and compressing costs more than writing.
    pub fn set_store(&mut self, store: bool) {
        self.store = store;
    }

    /// Sets the target uncompressed size of a block (default
    /// [`DEFAULT_BLOCK_SIZE`]), clamped to `1..=MAX_BLOCK_SIZE`.
    pub fn with_block_size(mut self, bytes: usize) -> Self {
        self.block_size = bytes.clamp(1, MAX_BLOCK_SIZE);
        self
    }

    /// Buffers `ev`; writes a block once the buffer reaches the block size.
    /// An error from writing that block does not un-buffer `ev`. (An `ev`
    /// that would take the buffered block past the payload limit makes that
    /// block be written first; an error there returns before `ev` is
    /// buffered: `events_written() + pending_events()` tells the two apart.)
    pub fn append(&mut self, ev: &Event) -> Result<(), LogError> {
        let mut scratch = std::mem::take(&mut self.scratch);
        let res = encode_record(ev, &mut scratch).and_then(|()| {
            let checkpoint = matches!(ev, Event::Counters(_) | Event::Pause(_) | Event::Who(_));
            self.push(&scratch, event_ts(ev), checkpoint)
        });
        self.scratch = scratch;
        res
    }

    /// Appends a `Syscall` event already in its log encoding (made by
    /// [`Syscall::encode_with`](crate::event::Syscall::encode_with)), whose
    /// time is `ts_ns`: the drain encodes records straight from the ring
    /// buffer, without building an [`Event`].
    pub fn append_encoded(&mut self, record: &[u8], ts_ns: u64) -> Result<(), LogError> {
        if record.len() > MAX_RECORD_LEN {
            return Err(LogError::TooLarge {
                what: "event",
                len: record.len() as u64,
                limit: MAX_RECORD_LEN as u64,
            });
        }
        self.push(record, Some(ts_ns), false)
    }

    fn push(&mut self, record: &[u8], ts: Option<u64>, checkpoint: bool) -> Result<(), LogError> {
        // Keep every block storable uncompressed within the payload limit.
        if !self.pending.is_empty()
            && self.pending.raw.len() + record.len() + 5 > MAX_PAYLOAD_LEN as usize
        {
            self.write_pending()?;
        }
        self.pending.push_record(record, ts);
        if checkpoint {
            self.pending.checkpoints += 1;
        }
        if self.pending.raw.len() >= self.block_size {
            self.write_pending()?;
        }
        Ok(())
    }

    /// Writes buffered events as a block (nothing if there are none) and
    /// flushes `W`.
    pub fn flush_block(&mut self) -> Result<(), LogError> {
        self.write_pending()?;
        self.flush_out()
    }

    /// Writes a block frame made by [`encode_block`] (after any buffered
    /// events, which are written first to keep the order).
    pub fn write_encoded_block(&mut self, frame: &[u8]) -> Result<(), LogError> {
        let count = check_encoded_block(frame)?;
        self.write_pending()?;
        self.write_counted(frame)?;
        self.events_written += u64::from(count);
        Ok(())
    }

    /// Events in blocks handed to `W` so far (buffered ones not included).
    pub fn events_written(&self) -> u64 {
        self.events_written
    }

    /// Events buffered for the next block.
    pub fn pending_events(&self) -> u64 {
        u64::from(self.pending.count)
    }

    /// Bytes handed to `W` so far (accepted by its `write`), prefix and
    /// header included.
    pub fn bytes_written(&self) -> u64 {
        self.bytes_written
    }

    /// Bytes of the prefix and of the frames `W` accepted whole. After a
    /// write failed part-way this is where the torn frame begins: cut the
    /// output back to it and the log ends on a frame boundary again.
    pub fn committed_bytes(&self) -> u64 {
        self.committed
    }

    /// Makes a writer whose output failed usable again. The caller has cut
    /// the output back to [`committed_bytes`](Self::committed_bytes), so
    /// what is written next follows a complete frame; `bytes_written`
    /// counts from there. Buffered events are kept: the next write retries
    /// them, unless [`discard_pending`](Self::discard_pending) drops them.
    pub fn resume_at_committed(&mut self) {
        self.bytes_written = self.committed;
        self.poisoned = false;
    }

    /// Drops the buffered events (a block there was no room for, say).
    pub fn discard_pending(&mut self) -> Discarded {
        let d = Discarded {
            events: self.pending_events(),
            checkpoints: u64::from(self.pending.checkpoints),
        };
        self.pending.clear();
        d
    }

    /// Writes buffered events and the trailer frame, flushes and returns
    /// `W`.
    pub fn finish(mut self, trailer: &Trailer) -> Result<W, LogError> {
        self.write_pending()?;
        let payload = postcard::to_stdvec(trailer).map_err(|source| LogError::Encode {
            what: "trailer",
            source,
        })?;
        let frame = build_frame(TAG_TRAILER, &payload, None, 0, (0, 0))?;
        self.write_counted(&frame)?;
        self.flush_out()?;
        Ok(self.out)
    }

    pub fn get_ref(&self) -> &W {
        &self.out
    }

    /// The output, e.g. to cut it back after a failed write. Writing to it
    /// directly puts bytes the writer does not count into the log.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.out
    }

    fn write_pending(&mut self) -> Result<(), LogError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let p = &self.pending;
        let frame = build_frame(
            TAG_BLOCK,
            &p.raw,
            self.compressor.as_mut().filter(|_| !self.store),
            p.count,
            p.ts_range(),
        )?;
        self.write_counted(&frame)?;
        self.events_written += u64::from(self.pending.count);
        self.pending.clear();
        Ok(())
    }

    fn flush_out(&mut self) -> Result<(), LogError> {
        if self.poisoned {
            return Err(LogError::Poisoned);
        }
        self.out.flush().map_err(|source| {
            self.poisoned = true;
            LogError::Io {
                offset: self.bytes_written,
                source,
            }
        })
    }

    /// `write_all`, but counting every byte `W` accepts, so
    /// `bytes_written` stays exact even when a write fails part-way.
    fn write_counted(&mut self, mut buf: &[u8]) -> Result<(), LogError> {
        if self.poisoned {
            return Err(LogError::Poisoned);
        }
        while !buf.is_empty() {
            let err = match self.out.write(buf) {
                Ok(0) => io::Error::from(io::ErrorKind::WriteZero),
                Ok(n) => {
                    let n = n.min(buf.len()); // a misbehaving W must not make us panic
                    self.bytes_written += n as u64;
                    buf = &buf[n..];
                    continue;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => e,
            };
            self.poisoned = true;
            return Err(LogError::Io {
                offset: self.bytes_written,
                source: err,
            });
        }
        self.committed = self.bytes_written;
        Ok(())
    }
}

/// Encodes `events` as one complete block frame, ready to be written with
/// [`LogWriter::write_encoded_block`] (or appended to a log by any other
/// means). The caller chooses the batching: the encoded events must not
/// exceed [`MAX_RAW_LEN`] and the frame payload [`MAX_PAYLOAD_LEN`].
pub fn encode_block(events: &[Event], level: i32) -> Result<Vec<u8>, LogError> {
    let mut block = PendingBlock::default();
    let mut scratch = Vec::new();
    for ev in events {
        encode_record(ev, &mut scratch)?;
        block.push_record(&scratch, event_ts(ev));
        if block.raw.len() > MAX_RAW_LEN as usize {
            return Err(LogError::TooLarge {
                what: "block",
                len: block.raw.len() as u64,
                limit: MAX_RAW_LEN.into(),
            });
        }
    }
    let mut compressor = zstd::bulk::Compressor::new(level).map_err(LogError::Compress)?;
    build_frame(
        TAG_BLOCK,
        &block.raw,
        Some(&mut compressor),
        block.count,
        block.ts_range(),
    )
}

/// The file prefix followed by the header and its CRC.
fn encode_prefix(header: &Header) -> Result<Vec<u8>, LogError> {
    // Whatever revision a copied header (a bundle's) names, this writer
    // writes its own.
    let header = Header {
        format_minor: super::FORMAT_MINOR,
        ..header.clone()
    };
    let body = postcard::to_stdvec(&header).map_err(|source| LogError::Encode {
        what: "header",
        source,
    })?;
    if body.len() > MAX_HEADER_LEN as usize {
        return Err(LogError::TooLarge {
            what: "header",
            len: body.len() as u64,
            limit: MAX_HEADER_LEN.into(),
        });
    }
    let mut out = Vec::with_capacity(super::PREFIX_LEN + body.len() + 4);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes()); // flags: none defined
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&body);
    // The CRC covers version, flags and length too, not just the body.
    let crc = crc32fast::hash(&out[MAGIC.len()..]);
    out.extend_from_slice(&crc.to_le_bytes());
    Ok(out)
}

/// Postcard-encodes `ev` into `scratch` (replacing its contents).
fn encode_record(ev: &Event, scratch: &mut Vec<u8>) -> Result<(), LogError> {
    scratch.clear();
    if let Event::Syscall(sc) = ev {
        sc.encode_event(scratch);
    } else {
        let buf = std::mem::take(scratch);
        *scratch = postcard::to_extend(ev, buf).map_err(|source| LogError::Encode {
            what: "event",
            source,
        })?;
    }
    if scratch.len() > MAX_RECORD_LEN {
        return Err(LogError::TooLarge {
            what: "event",
            len: scratch.len() as u64,
            limit: MAX_RECORD_LEN as u64,
        });
    }
    Ok(())
}

/// Builds a frame around `raw`. With a compressor, the payload is zstd
/// unless that does not make it smaller (captured random data, say), in
/// which case it is stored: the codec byte says which.
fn build_frame(
    tag: u8,
    raw: &[u8],
    compressor: Option<&mut zstd::bulk::Compressor<'static>>,
    count: u32,
    (min_ts_ns, max_ts_ns): (u64, u64),
) -> Result<Vec<u8>, LogError> {
    let compressed = match compressor {
        Some(c) => Some(c.compress(raw).map_err(LogError::Compress)?),
        None => None,
    };
    let (codec, payload) = match &compressed {
        Some(z) if z.len() < raw.len() => (CODEC_ZSTD, z.as_slice()),
        _ => (CODEC_STORED, raw),
    };
    if payload.len() > MAX_PAYLOAD_LEN as usize || raw.len() > MAX_RAW_LEN as usize {
        return Err(LogError::TooLarge {
            what: "block payload",
            len: payload.len() as u64,
            limit: MAX_PAYLOAD_LEN.into(),
        });
    }
    let mut fh = FrameHeader {
        tag,
        codec,
        // Both fit: checked against the u32 limits just above.
        payload_len: payload.len() as u32,
        raw_len: raw.len() as u32,
        count,
        min_ts_ns,
        max_ts_ns,
        crc: 0,
    };
    fh.crc = fh.compute_crc(payload);
    let mut frame = Vec::with_capacity(FRAME_HEADER_LEN + payload.len());
    frame.extend_from_slice(&fh.to_bytes());
    frame.extend_from_slice(payload);
    Ok(frame)
}

/// Checks that `frame` is one whole, intact block frame; returns its
/// record count.
fn check_encoded_block(frame: &[u8]) -> Result<u32, LogError> {
    let Some((head, payload)) = frame.split_first_chunk::<FRAME_HEADER_LEN>() else {
        return Err(LogError::InvalidEncodedBlock("shorter than a frame header"));
    };
    let fh = FrameHeader::from_bytes(head);
    if fh.tag != TAG_BLOCK {
        return Err(LogError::InvalidEncodedBlock("not a block frame"));
    }
    if fh.payload_len as usize != payload.len() {
        return Err(LogError::InvalidEncodedBlock(
            "payload length does not match the frame header",
        ));
    }
    if fh.compute_crc(payload) != fh.crc {
        return Err(LogError::InvalidEncodedBlock("checksum mismatch"));
    }
    Ok(fh.count)
}

/// Encoded records waiting to become a block.
#[derive(Default)]
struct PendingBlock {
    /// Concatenated records: varint length + postcard `Event`.
    raw: Vec<u8>,
    count: u32,
    /// Of `count`, `Event::Counters` records.
    checkpoints: u32,
    min_ts: Option<u64>,
    max_ts: Option<u64>,
}

impl PendingBlock {
    fn is_empty(&self) -> bool {
        self.count == 0
    }

    fn push_record(&mut self, record: &[u8], ts: Option<u64>) {
        // record.len() <= MAX_RECORD_LEN < u32::MAX (checked by encode_record).
        put_varint(&mut self.raw, record.len() as u32);
        self.raw.extend_from_slice(record);
        // Cannot overflow: every record takes >= 2 bytes of a block whose
        // size is bounded far below 2^33 bytes.
        self.count += 1;
        if let Some(ts) = ts {
            self.min_ts = Some(self.min_ts.map_or(ts, |m| m.min(ts)));
            self.max_ts = Some(self.max_ts.map_or(ts, |m| m.max(ts)));
        }
    }

    fn ts_range(&self) -> (u64, u64) {
        (self.min_ts.unwrap_or(0), self.max_ts.unwrap_or(0))
    }

    fn clear(&mut self) {
        self.raw.clear();
        self.count = 0;
        self.checkpoints = 0;
        self.min_ts = None;
        self.max_ts = None;
    }
}
