//! The binary log container: how a recording is laid out on disk.
//!
//! A log is a fixed *prefix* (magic, format version, flags), the postcard
//! encoded [`Header`](crate::event::Header) protected by a CRC, and then a
//! sequence of *frames*. Each frame has a fixed 34-byte frame header (tag,
//! codec, lengths, record count, time range, CRC) followed by its payload.
//! Events travel in `B` frames (blocks): a zstd-compressed run of
//! length-prefixed postcard [`Event`] records. A closed
//! log ends with one `T` frame holding the [`Trailer`](crate::event::Trailer).
//! The authoritative byte layout is `docs/log-format.md`.
//!
//! Why this shape:
//! - Every frame is self-delimiting and checksummed on its own, so a log cut
//!   short by a crash or a full disk is readable up to the last complete
//!   block, and the reader can say exactly where (and why) it stopped.
//! - Every integer outside postcard data is little-endian and fixed-width,
//!   and the header names the recorded machine's architecture, so a log
//!   recorded on an ARM board reads the same on an x86 laptop.
//! - Every length read from the file is checked against a hard limit
//!   *before* anything is allocated, and zstd output is bounded by the
//!   declared uncompressed length, so arbitrary input can neither exhaust
//!   memory nor make the reader panic or spin. The reader streams one frame
//!   at a time: memory use is bounded by the largest block, not the file.
//! - Compression is split from I/O ([`encode_block`] +
//!   [`LogWriter::write_encoded_block`]) so a daemon can compress on another
//!   thread.
//!
//! This module does no system calls of its own: it only talks to the
//! `Read`/`Write` it is given.

mod reader;
pub mod record;
mod writer;

#[cfg(test)]
mod tests;

use std::fmt;
use std::io;

use crate::event::Event;

pub use reader::LogReader;
pub use record::Skipped;
pub use writer::{Discarded, LogWriter, encode_block};

/// Version of the container layout *and* of the record schema, written in
/// the file prefix. Bumped only for a change an older reader cannot skip
/// (docs/log-format.md §6); new event kinds, data kinds, frame tags and
/// appended fields bump [`FORMAT_MINOR`] instead.
///
/// Version 2 differs from 1 only in that each data item of a system call
/// is length-delimited, so that unknown data kinds can be skipped.
pub const FORMAT_VERSION: u16 = 2;

/// Oldest format version this reader reads. Logs of every released
/// version stay readable (golden logs of each are tested).
pub const OLDEST_FORMAT_VERSION: u16 = 1;

/// Revision of [`FORMAT_VERSION`] this writer follows, recorded in
/// `Header::format_minor`: bumped with every addition older readers of the
/// same version skip (so they can say that they skipped something).
/// Revision 1 added `Event::Pause`, `Header.lossless` and `Counters.paused`;
/// revision 2 `Header.trace` and `Header.traced_nrs` (`recorder -e`);
/// revision 3 `Header.lean` (`recorder --lean`); revision 4
/// `Header.replayable` (`recorder --replayable`); revision 5 `Header.watch`
/// and `Event::Who` (`recorder watch -o`).
pub const FORMAT_MINOR: u16 = 5;

/// First eight bytes of every log. Like PNG's signature: the high-bit first
/// byte catches 7-bit channels, `\r\n` and the lone `\n` catch newline
/// translation in either direction, and `\x1a` stops `type` on DOS.
pub const MAGIC: [u8; 8] = *b"\x89REC\r\n\x1a\n";

/// Size of the fixed file prefix: magic, version (u16), flags (u16),
/// header length (u32).
pub const PREFIX_LEN: usize = 16;

/// Size of the fixed header in front of every frame's payload.
pub const FRAME_HEADER_LEN: usize = 34;

/// Largest postcard `Header` a reader accepts (bytes).
pub const MAX_HEADER_LEN: u32 = 1 << 20;

/// Largest frame payload (as stored, i.e. compressed) a reader accepts.
pub const MAX_PAYLOAD_LEN: u32 = 16 << 20;

/// Largest uncompressed frame payload a reader accepts. This, not the file
/// size, bounds the reader's memory.
pub const MAX_RAW_LEN: u32 = 64 << 20;

/// Default target size of a block's uncompressed records (256 KiB): large
/// enough for zstd to find redundancy, small enough that a crash loses
/// little and a reader's buffers stay small.
pub const DEFAULT_BLOCK_SIZE: usize = 256 << 10;

/// Upper bound for [`LogWriter::with_block_size`].
pub const MAX_BLOCK_SIZE: usize = 8 << 20;

/// Frame tag: a block of events.
pub const TAG_BLOCK: u8 = b'B';
/// Frame tag: the trailer (last frame of a cleanly closed log).
pub const TAG_TRAILER: u8 = b'T';

/// Frame codec: payload stored as is.
pub const CODEC_STORED: u8 = 0;
/// Frame codec: payload is a zstd frame.
pub const CODEC_ZSTD: u8 = 1;

/// Which part of the file an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// The 16-byte prefix (magic, version, flags, header length).
    Prefix,
    /// The postcard header and its CRC.
    Header,
    /// A frame whose tag is unknown or not yet read.
    Frame,
    /// An events block (`B` frame).
    Block,
    /// The trailer (`T` frame).
    Trailer,
}

impl Section {
    fn for_tag(tag: u8) -> Self {
        match tag {
            TAG_BLOCK => Section::Block,
            TAG_TRAILER => Section::Trailer,
            _ => Section::Frame,
        }
    }
}

impl fmt::Display for Section {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Section::Prefix => "file prefix",
            Section::Header => "header",
            Section::Frame => "frame",
            Section::Block => "block",
            Section::Trailer => "trailer",
        })
    }
}

/// What exactly is wrong with a corrupt part of a log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("checksum mismatch (expected {expected:#010x}, got {actual:#010x})")]
    ChecksumMismatch { expected: u32, actual: u32 },
    #[error("{field} {value} exceeds the limit of {limit} bytes")]
    LengthTooLarge {
        field: &'static str,
        value: u64,
        limit: u64,
    },
    #[error("unknown codec {0}")]
    UnknownCodec(u8),
    #[error("zstd decompression failed: {0}")]
    Decompress(String),
    #[error("uncompressed length is {actual} bytes, frame header says {expected}")]
    RawLengthMismatch { expected: u64, actual: u64 },
    #[error("record framing broken at byte {at} of the uncompressed block")]
    RecordFraming { at: u64 },
    #[error("block holds {actual} records, frame header says {expected}")]
    CountMismatch { expected: u32, actual: u32 },
    #[error("record {index} does not decode: {error}")]
    BadRecord { index: u32, error: postcard::Error },
    #[error("does not decode: {0}")]
    BadPayload(postcard::Error),
}

/// Errors of the log writer and reader. Reader errors carry the byte offset
/// of the part of the file they are about.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("empty file")]
    Empty,
    #[error("not a recorder log (bad magic)")]
    BadMagic,
    #[error(
        "unsupported format version {found} (this recorder reads versions {OLDEST_FORMAT_VERSION} to {FORMAT_VERSION}; a newer recorder is needed)"
    )]
    UnsupportedVersion { found: u16 },
    #[error("unsupported format flags {found:#06x} (this recorder knows no flags)")]
    UnsupportedFlags { found: u16 },
    /// The input ended inside `what`, which starts at `offset`.
    #[error("truncated {what} at offset {offset}: needs {needed} bytes, only {available} remain")]
    Truncated {
        what: Section,
        offset: u64,
        needed: u64,
        available: u64,
    },
    /// `what`, starting at `offset`, is damaged.
    #[error("corrupt {what} at offset {offset}: {problem}")]
    Corrupt {
        what: Section,
        offset: u64,
        problem: Problem,
    },
    /// Reading or writing failed (not end of input: that is `Truncated`).
    #[error("I/O error at offset {offset}")]
    Io {
        offset: u64,
        #[source]
        source: io::Error,
    },
    #[error("cannot encode {what}")]
    Encode {
        what: &'static str,
        #[source]
        source: postcard::Error,
    },
    /// Something to be written exceeds a format limit.
    #[error("{what} too large: {len} bytes (limit {limit})")]
    TooLarge {
        what: &'static str,
        len: u64,
        limit: u64,
    },
    #[error("zstd compression failed")]
    Compress(#[source] io::Error),
    #[error("invalid encoded block: {0}")]
    InvalidEncodedBlock(&'static str),
    /// An earlier write to the output failed part-way; writing more would
    /// put frames after a torn one, where no reader would look.
    #[error("log writer unusable after an earlier write error")]
    Poisoned,
}

/// How reading a log ended (see [`LogReader::end_state`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndState {
    /// Not ended yet: `next_event` has not returned `None` or an error.
    Reading,
    /// The trailer was read: the log was closed cleanly.
    Clean,
    /// The file ended on a frame boundary at `offset` without a trailer:
    /// the recording was cut short, but everything written is readable.
    NoTrailer { offset: u64 },
    /// The file ended inside the frame at `offset` (a partly written
    /// frame): all complete frames before it were read.
    Truncated {
        what: Section,
        offset: u64,
        needed: u64,
        available: u64,
    },
    /// The frame at `offset` is damaged; reading stopped there.
    Corrupt {
        what: Section,
        offset: u64,
        problem: Problem,
    },
    /// Reading the input failed at `offset`.
    Io { offset: u64, kind: io::ErrorKind },
}

impl fmt::Display for EndState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EndState::Reading => f.write_str("not read to the end"),
            EndState::Clean => f.write_str("complete (trailer present)"),
            EndState::NoTrailer { offset } => write!(
                f,
                "ends at offset {offset} without a trailer (recording was cut short)"
            ),
            EndState::Truncated {
                what,
                offset,
                needed,
                available,
            } => write!(
                f,
                "truncated {what} at offset {offset}: needs {needed} bytes, only {available} remain"
            ),
            EndState::Corrupt {
                what,
                offset,
                problem,
            } => write!(f, "corrupt {what} at offset {offset}: {problem}"),
            EndState::Io { offset, kind } => write!(f, "I/O error at offset {offset}: {kind}"),
        }
    }
}

/// The fixed 34-byte header in front of every frame payload. All integers
/// little-endian.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FrameHeader {
    pub tag: u8,
    pub codec: u8,
    /// Bytes of payload following the frame header (as stored).
    pub payload_len: u32,
    /// Bytes of payload after decompression.
    pub raw_len: u32,
    /// Records in the block (0 in other frames).
    pub count: u32,
    /// Smallest / largest event timestamp in the block; both 0 when there
    /// is none (other frames, or a block of only `Counters`).
    pub min_ts_ns: u64,
    pub max_ts_ns: u64,
    /// CRC-32 over frame header bytes 0..30 followed by the payload.
    pub crc: u32,
}

impl FrameHeader {
    /// Offset of the CRC field: the CRC covers everything before it.
    const CRC_AT: usize = 30;

    pub fn to_bytes(self) -> [u8; FRAME_HEADER_LEN] {
        let mut b = [0u8; FRAME_HEADER_LEN];
        b[0] = self.tag;
        b[1] = self.codec;
        b[2..6].copy_from_slice(&self.payload_len.to_le_bytes());
        b[6..10].copy_from_slice(&self.raw_len.to_le_bytes());
        b[10..14].copy_from_slice(&self.count.to_le_bytes());
        b[14..22].copy_from_slice(&self.min_ts_ns.to_le_bytes());
        b[22..30].copy_from_slice(&self.max_ts_ns.to_le_bytes());
        b[30..34].copy_from_slice(&self.crc.to_le_bytes());
        b
    }

    pub fn from_bytes(b: &[u8; FRAME_HEADER_LEN]) -> Self {
        let u32_at = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let u64_at = |i: usize| (u64::from(u32_at(i + 4)) << 32) | u64::from(u32_at(i));
        FrameHeader {
            tag: b[0],
            codec: b[1],
            payload_len: u32_at(2),
            raw_len: u32_at(6),
            count: u32_at(10),
            min_ts_ns: u64_at(14),
            max_ts_ns: u64_at(22),
            crc: u32_at(30),
        }
    }

    /// The CRC this frame header (CRC field excluded) and `payload` should
    /// carry.
    pub fn compute_crc(&self, payload: &[u8]) -> u32 {
        let bytes = self.to_bytes();
        let mut h = crc32fast::Hasher::new();
        h.update(&bytes[..Self::CRC_AT]);
        h.update(payload);
        h.finalize()
    }
}

/// Timestamp used for a block's time range (CLOCK_MONOTONIC ns), if the
/// event has one.
pub(crate) fn event_ts(ev: &Event) -> Option<u64> {
    ev.ts_ns()
}

/// Appends `v` as an unsigned LEB128 varint (postcard's integer encoding).
pub(crate) fn put_varint(out: &mut Vec<u8>, mut v: u32) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Reads an unsigned LEB128 varint of at most 5 bytes that fits a u32 from
/// the start of `buf`: `(value, bytes used)`, or `None` if `buf` ends first
/// or the encoding overflows u32.
pub(crate) fn get_varint(buf: &[u8]) -> Option<(u32, usize)> {
    let mut v: u32 = 0;
    for (i, &b) in buf.iter().take(5).enumerate() {
        let bits = u32::from(b & 0x7f);
        if i == 4 && bits > 0x0f {
            return None; // more than 32 bits
        }
        v |= bits << (7 * i);
        if b & 0x80 == 0 {
            return Some((v, i + 1));
        }
    }
    None
}
