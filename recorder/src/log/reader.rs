//! Reading logs: [`LogReader`] validates the prefix and header, then streams
//! events frame by frame, stopping at the trailer, at the end of the input
//! or at the first damaged frame, and remembers which.

use std::io::{self, Read};

use super::record::{self, Decoded, Skipped, take_tolerant};
use super::{
    CODEC_STORED, CODEC_ZSTD, EndState, FORMAT_VERSION, FRAME_HEADER_LEN, FrameHeader, LogError,
    MAGIC, MAX_HEADER_LEN, MAX_PAYLOAD_LEN, MAX_RAW_LEN, OLDEST_FORMAT_VERSION, PREFIX_LEN,
    Problem, Section, TAG_BLOCK, TAG_TRAILER, get_varint,
};
use crate::event::{Event, Header, Trailer};

/// Streaming reader of a log.
///
/// Memory use is bounded by the largest frame (at most [`MAX_PAYLOAD_LEN`]
/// compressed plus [`MAX_RAW_LEN`] uncompressed, in practice a few hundred
/// KiB), whatever the file size. The reader issues small reads (34-byte frame
/// headers): for a file, wrap it in a `BufReader`.
///
/// Never panics on malformed input; after the first error or the end of the
/// log, [`next_event`](Self::next_event) returns `Ok(None)` and
/// [`end_state`](Self::end_state) says why reading stopped.
pub struct LogReader<R: Read> {
    r: R,
    /// Format version from the prefix: how records are decoded.
    version: u16,
    header: Header,
    trailer: Option<Trailer>,
    /// What a newer writer wrote that this reader does not know.
    skipped: Skipped,
    /// Bytes consumed from `r`: the offset of the next unread frame.
    offset: u64,
    state: EndState,
    /// Reused buffer for a frame payload as stored.
    payload: Vec<u8>,
    /// The current block's records, uncompressed and already verified.
    raw: Vec<u8>,
    /// Next record in `raw`.
    pos: usize,
    /// Records of the current block not yet returned.
    records_left: u32,
    /// Index of the next record in the current block (for error messages).
    record_index: u32,
    /// Offset of the current block (for error messages).
    block_offset: u64,
    /// Created on the first compressed frame and reused.
    dctx: Option<zstd::bulk::Decompressor<'static>>,
}

impl<R: Read> LogReader<R> {
    /// Reads and validates the file prefix and the header.
    pub fn open(mut r: R) -> Result<Self, LogError> {
        let mut prefix = [0u8; PREFIX_LEN];
        let got =
            read_full(&mut r, &mut prefix).map_err(|source| LogError::Io { offset: 0, source })?;
        if got == 0 {
            return Err(LogError::Empty);
        }
        // Judge the magic on whatever arrived, so a 3-byte text file is
        // "not a log" rather than "truncated".
        let n = got.min(MAGIC.len());
        if prefix[..n] != MAGIC[..n] {
            return Err(LogError::BadMagic);
        }
        // The version is checked as soon as its bytes are there, before
        // any CRC: a later version may lay out everything after it
        // differently, and "needs a newer recorder" is the useful answer
        // even for a cut-off file.
        if got >= 10 {
            let version = u16::from_le_bytes([prefix[8], prefix[9]]);
            if !(OLDEST_FORMAT_VERSION..=FORMAT_VERSION).contains(&version) {
                return Err(LogError::UnsupportedVersion { found: version });
            }
        }
        if got < PREFIX_LEN {
            return Err(LogError::Truncated {
                what: Section::Prefix,
                offset: 0,
                needed: PREFIX_LEN as u64,
                available: got as u64,
            });
        }
        let version = u16::from_le_bytes([prefix[8], prefix[9]]);
        let flags = u16::from_le_bytes([prefix[10], prefix[11]]);
        let header_len = u32::from_le_bytes([prefix[12], prefix[13], prefix[14], prefix[15]]);
        let header_offset = PREFIX_LEN as u64;
        if header_len > MAX_HEADER_LEN {
            return Err(LogError::Corrupt {
                what: Section::Header,
                offset: header_offset,
                problem: Problem::LengthTooLarge {
                    field: "header length",
                    value: header_len.into(),
                    limit: MAX_HEADER_LEN.into(),
                },
            });
        }
        // Header body and its CRC. Bounded above; read_to_end only grows
        // the buffer as data actually arrives.
        let needed = u64::from(header_len) + 4;
        let mut body = Vec::new();
        (&mut r)
            .take(needed)
            .read_to_end(&mut body)
            .map_err(|source| LogError::Io {
                offset: header_offset,
                source,
            })?;
        if (body.len() as u64) < needed {
            return Err(LogError::Truncated {
                what: Section::Header,
                offset: header_offset,
                needed,
                available: body.len() as u64,
            });
        }
        let (body, crc_bytes) = body.split_at(header_len as usize);
        let expected = u32::from_le_bytes([crc_bytes[0], crc_bytes[1], crc_bytes[2], crc_bytes[3]]);
        let mut h = crc32fast::Hasher::new();
        h.update(&prefix[MAGIC.len()..]);
        h.update(body);
        let actual = h.finalize();
        if actual != expected {
            return Err(LogError::Corrupt {
                what: Section::Header,
                offset: header_offset,
                problem: Problem::ChecksumMismatch { expected, actual },
            });
        }
        // Flags are checked after the CRC so that a flipped bit reads as
        // corruption, not as a feature this reader lacks.
        if flags != 0 {
            return Err(LogError::UnsupportedFlags { found: flags });
        }
        // Trailing bytes are fields appended by a newer writer: ignored.
        let (header, _) = take_tolerant::<Header>(body).map_err(|e| LogError::Corrupt {
            what: Section::Header,
            offset: header_offset,
            problem: Problem::BadPayload(e),
        })?;
        Ok(LogReader {
            r,
            version,
            header,
            trailer: None,
            skipped: Skipped::default(),
            offset: header_offset + needed,
            state: EndState::Reading,
            payload: Vec::new(),
            raw: Vec::new(),
            pos: 0,
            records_left: 0,
            record_index: 0,
            block_offset: 0,
            dctx: None,
        })
    }

    pub fn header(&self) -> &Header {
        &self.header
    }

    /// Format version of the log (from its prefix).
    pub fn format_version(&self) -> u16 {
        self.version
    }

    /// Events and data items of kinds newer than this reader, skipped so
    /// far.
    pub fn skipped(&self) -> &Skipped {
        &self.skipped
    }

    /// The next event, or `Ok(None)` at the end of the log (after the
    /// trailer, or at the end of the input on a frame boundary). A block's
    /// events are returned only after its CRC and record framing were
    /// verified. After an error, returns `Ok(None)`.
    pub fn next_event(&mut self) -> Result<Option<Event>, LogError> {
        loop {
            if self.state != EndState::Reading {
                return Ok(None);
            }
            if self.records_left > 0 {
                match self.take_record() {
                    Ok(Decoded::Event(ev)) => return Ok(Some(ev)),
                    // Counted in `skipped`; on to the next record.
                    Ok(Decoded::Unknown { .. }) => continue,
                    Err(e) => return Err(self.fail(e)),
                }
            }
            // Each iteration consumes a whole frame or ends reading, so
            // this terminates on any finite input.
            if let Err(e) = self.read_frame() {
                return Err(self.fail(e));
            }
        }
    }

    /// The trailer, once it was read (after `next_event` returned `None`
    /// on a cleanly closed log).
    pub fn trailer(&self) -> Option<&Trailer> {
        self.trailer.as_ref()
    }

    /// Byte offset of the next unread frame (while a block's events are
    /// being returned: the frame after that block).
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// How reading ended; [`EndState::Reading`] until `next_event` returned
    /// `None` or an error.
    pub fn end_state(&self) -> EndState {
        self.state.clone()
    }

    pub fn get_ref(&self) -> &R {
        &self.r
    }

    pub fn into_inner(self) -> R {
        self.r
    }

    /// Records the end state an error implies and passes the error on.
    fn fail(&mut self, e: LogError) -> LogError {
        self.state = match &e {
            LogError::Truncated {
                what,
                offset,
                needed,
                available,
            } => EndState::Truncated {
                what: *what,
                offset: *offset,
                needed: *needed,
                available: *available,
            },
            LogError::Corrupt {
                what,
                offset,
                problem,
            } => EndState::Corrupt {
                what: *what,
                offset: *offset,
                problem: problem.clone(),
            },
            LogError::Io { offset, source } => EndState::Io {
                offset: *offset,
                kind: source.kind(),
            },
            // Not produced after `open`; still, never leave `Reading`.
            _ => EndState::Io {
                offset: self.offset,
                kind: io::ErrorKind::Other,
            },
        };
        self.records_left = 0;
        e
    }

    /// Decodes the next record of the current (verified) block.
    fn take_record(&mut self) -> Result<Decoded, LogError> {
        let corrupt = |problem| LogError::Corrupt {
            what: Section::Block,
            offset: self.block_offset,
            problem,
        };
        let rest = self.raw.get(self.pos..).unwrap_or_default();
        // Framing was verified in `load_block`; re-checked rather than
        // trusted so that no slicing here can panic.
        let framing = || {
            corrupt(Problem::RecordFraming {
                at: self.pos as u64,
            })
        };
        let (len, n) = get_varint(rest).ok_or_else(framing)?;
        let end = n.checked_add(len as usize).ok_or_else(framing)?;
        let record = rest.get(n..end).ok_or_else(framing)?;
        let index = self.record_index;
        self.pos += end;
        self.records_left = self.records_left.saturating_sub(1);
        self.record_index += 1;
        record::decode(record, self.version, &mut self.skipped)
            .map_err(|error| corrupt(Problem::BadRecord { index, error }))
    }

    /// Reads one frame: loads a block, reads the trailer, skips an unknown
    /// frame, or notes the clean end of the input.
    fn read_frame(&mut self) -> Result<(), LogError> {
        let at = self.offset;
        let io_err = |source| LogError::Io { offset: at, source };
        let mut head = [0u8; FRAME_HEADER_LEN];
        let got = read_full(&mut self.r, &mut head).map_err(io_err)?;
        if got == 0 {
            self.state = EndState::NoTrailer { offset: at };
            return Ok(());
        }
        let what = Section::for_tag(head[0]);
        if got < FRAME_HEADER_LEN {
            return Err(LogError::Truncated {
                what,
                offset: at,
                needed: FRAME_HEADER_LEN as u64,
                available: got as u64,
            });
        }
        let fh = FrameHeader::from_bytes(&head);
        let corrupt = |problem| LogError::Corrupt {
            what,
            offset: at,
            problem,
        };
        // Bound both lengths before reading or allocating anything.
        if fh.payload_len > MAX_PAYLOAD_LEN {
            return Err(corrupt(Problem::LengthTooLarge {
                field: "payload length",
                value: fh.payload_len.into(),
                limit: MAX_PAYLOAD_LEN.into(),
            }));
        }
        if fh.raw_len > MAX_RAW_LEN {
            return Err(corrupt(Problem::LengthTooLarge {
                field: "uncompressed length",
                value: fh.raw_len.into(),
                limit: MAX_RAW_LEN.into(),
            }));
        }
        self.payload.clear();
        let want = u64::from(fh.payload_len);
        (&mut self.r)
            .take(want)
            .read_to_end(&mut self.payload)
            .map_err(io_err)?;
        if (self.payload.len() as u64) < want {
            return Err(LogError::Truncated {
                what,
                offset: at,
                needed: FRAME_HEADER_LEN as u64 + want,
                available: (FRAME_HEADER_LEN + self.payload.len()) as u64,
            });
        }
        let actual = fh.compute_crc(&self.payload);
        if actual != fh.crc {
            return Err(corrupt(Problem::ChecksumMismatch {
                expected: fh.crc,
                actual,
            }));
        }
        // The frame is whole and intact: from here on, problems are in its
        // content, and the next frame starts after it.
        self.offset = at + FRAME_HEADER_LEN as u64 + want;
        match fh.tag {
            TAG_BLOCK => {
                self.unpack(&fh).map_err(corrupt)?;
                self.load_block(fh.count).map_err(corrupt)?;
                self.block_offset = at;
            }
            TAG_TRAILER => {
                self.unpack(&fh).map_err(corrupt)?;
                let (trailer, _) = take_tolerant::<Trailer>(&self.raw)
                    .map_err(|e| corrupt(Problem::BadPayload(e)))?;
                self.trailer = Some(trailer);
                self.state = EndState::Clean;
            }
            // Unknown tags are frames added by a newer writer that older
            // readers may skip (incompatible additions bump the version).
            _ => {}
        }
        Ok(())
    }

    /// Puts the uncompressed payload of the frame just read into `raw`.
    fn unpack(&mut self, fh: &FrameHeader) -> Result<(), Problem> {
        let raw_len = fh.raw_len as usize; // <= MAX_RAW_LEN, checked
        match fh.codec {
            CODEC_STORED => {
                std::mem::swap(&mut self.raw, &mut self.payload);
            }
            CODEC_ZSTD => {
                // A zstd frame that declares another size is corrupt: say
                // so before reserving memory for it.
                if let Ok(Some(declared)) = zstd::zstd_safe::get_frame_content_size(&self.payload)
                    && declared != u64::from(fh.raw_len)
                {
                    return Err(Problem::RawLengthMismatch {
                        expected: fh.raw_len.into(),
                        actual: declared,
                    });
                }
                // One frame and nothing after it (docs/format.md §3): zstd
                // would decode a second frame, or pass over a skippable one.
                if let Ok(n) = zstd::zstd_safe::find_frame_compressed_size(&self.payload)
                    && n < self.payload.len()
                {
                    return Err(Problem::Decompress(format!(
                        "payload is not a single zstd frame ({} bytes after the first frame)",
                        self.payload.len() - n
                    )));
                }
                if self.dctx.is_none() {
                    let d = zstd::bulk::Decompressor::new()
                        .map_err(|e| Problem::Decompress(e.to_string()))?;
                    self.dctx = Some(d);
                }
                let Some(dctx) = self.dctx.as_mut() else {
                    return Err(Problem::Decompress("no decompressor".into()));
                };
                self.raw.clear();
                // zstd writes at most `capacity` bytes, so the output is
                // bounded by the (already bounded) declared length, or by
                // an earlier, also bounded, block's capacity.
                self.raw.reserve(raw_len);
                dctx.decompress_to_buffer(&self.payload, &mut self.raw)
                    .map_err(|e| Problem::Decompress(e.to_string()))?;
            }
            other => return Err(Problem::UnknownCodec(other)),
        }
        if self.raw.len() != raw_len {
            return Err(Problem::RawLengthMismatch {
                expected: fh.raw_len.into(),
                actual: self.raw.len() as u64,
            });
        }
        Ok(())
    }

    /// Checks that `raw` is exactly `count` length-prefixed records and
    /// makes them the current block. Only lengths are walked here (cheap,
    /// no allocation); records are decoded one by one as they are asked
    /// for, so a block never expands into a large in-memory event list.
    fn load_block(&mut self, count: u32) -> Result<(), Problem> {
        let mut pos = 0usize;
        let mut seen = 0u32;
        while pos < self.raw.len() {
            let framing = Problem::RecordFraming { at: pos as u64 };
            let rest = &self.raw[pos..];
            let Some((len, n)) = get_varint(rest) else {
                return Err(framing);
            };
            // An event is never empty (it has at least a variant index).
            if len == 0 || (len as usize) > rest.len() - n {
                return Err(framing);
            }
            pos += n + len as usize;
            seen += 1; // <= raw.len() <= MAX_RAW_LEN: no overflow
        }
        if seen != count {
            return Err(Problem::CountMismatch {
                expected: count,
                actual: seen,
            });
        }
        self.pos = 0;
        self.records_left = count;
        self.record_index = 0;
        Ok(())
    }
}

/// Yields every event, then stops; an error is yielded once, as the last
/// item.
impl<R: Read> Iterator for LogReader<R> {
    type Item = Result<Event, LogError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_event().transpose()
    }
}

/// Reads until `buf` is full or the input ends; returns the bytes read.
/// Unlike `read_exact`, says how much arrived, which is what tells a clean
/// end (0) from a torn frame (some).
fn read_full<R: Read>(r: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            // `min`: a misbehaving reader must not make us panic.
            Ok(n) => got = (got + n).min(buf.len()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}
