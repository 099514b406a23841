//! One record of an events block, decoded by kind: the part of the format
//! that makes logs forward compatible (docs/log-format.md §5 and §6).
//!
//! A record is `varint(kind) || body`, already cut out of its block by its
//! length prefix. A kind this reader does not know is skipped whole and
//! counted, never fatal, so a log from a newer recorder reads fully apart
//! from what is new. Within a known kind, bytes after the fields this
//! reader knows are fields a newer writer appended (ignored), and a body
//! that ends early comes from an older writer (the missing fields read as
//! zero). In format version 2 the same holds for each data item of a
//! system call, which is length-delimited for that reason; version 1 items
//! are not, so there an unknown data kind is damage.
//!
//! The writer side needs no code here: `Event`'s serde encoding is exactly
//! `varint(kind) || body` (postcard writes an enum as its variant index
//! followed by the content), and `Syscall::data` is written delimited by
//! [`crate::event`].

use serde::de::DeserializeOwned;

use super::get_varint;
use crate::event::{Capture, CaptureKind, Event, Syscall};

/// Event kinds (postcard variant indexes of [`Event`]).
pub mod kind {
    pub const SYSCALL: u32 = 0;
    pub const EXEC: u32 = 1;
    pub const FORK: u32 = 2;
    pub const EXIT: u32 = 3;
    pub const COUNTERS: u32 = 4;
    pub const SIGNAL: u32 = 5;
    /// Format 2.1.
    pub const PAUSE: u32 = 6;
    /// Format 2.5: `recorder watch`'s description of a process.
    pub const WHO: u32 = 7;
    /// Kinds above this are newer than this reader.
    pub const LAST_KNOWN: u32 = WHO;
}

/// What a record held.
#[derive(Debug)]
pub enum Decoded {
    Event(Event),
    /// A kind newer than this reader: skipped.
    Unknown {
        kind: u32,
    },
}

/// What a reader skipped because a newer writer wrote it.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// Records of event kinds this reader does not know, by kind.
    pub events: std::collections::BTreeMap<u32, u64>,
    /// Data items of system calls with a kind this reader does not know.
    pub data_items: u64,
}

impl Skipped {
    pub fn event_count(&self) -> u64 {
        self.events.values().sum()
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty() && self.data_items == 0
    }

    /// `3 events of kinds newer than this reader skipped (kind 9: 3)`, or
    /// `None` when nothing was skipped. One wording for every command.
    pub fn text(&self) -> Option<String> {
        let mut parts = Vec::new();
        if !self.events.is_empty() {
            let kinds: Vec<String> = self
                .events
                .iter()
                .map(|(k, n)| format!("kind {k}: {n}"))
                .collect();
            parts.push(format!(
                "{} events of kinds newer than this reader skipped ({})",
                self.event_count(),
                kinds.join(", ")
            ));
        }
        if self.data_items > 0 {
            parts.push(format!(
                "{} data items of kinds newer than this reader skipped",
                self.data_items
            ));
        }
        (!parts.is_empty()).then(|| parts.join("; "))
    }
}

/// Decodes one record (its length prefix already removed) of a log of
/// format `version`.
pub fn decode(
    record: &[u8],
    version: u16,
    skipped: &mut Skipped,
) -> Result<Decoded, postcard::Error> {
    let (k, n) = get_varint(record).ok_or(postcard::Error::DeserializeBadVarint)?;
    let body = &record[n..];
    let ev = match k {
        kind::SYSCALL => Event::Syscall(syscall(body, version, skipped)?),
        kind::EXEC => Event::Exec(tolerant(body)?),
        kind::FORK => Event::Fork(tolerant(body)?),
        kind::EXIT => Event::Exit(tolerant(body)?),
        kind::COUNTERS => Event::Counters(tolerant(body)?),
        kind::SIGNAL => Event::Signal(tolerant(body)?),
        kind::PAUSE => Event::Pause(tolerant(body)?),
        kind::WHO => Event::Who(tolerant(body)?),
        _ => {
            *skipped.events.entry(k).or_default() += 1;
            return Ok(Decoded::Unknown { kind: k });
        }
    };
    Ok(Decoded::Event(ev))
}

/// The fixed fields of [`Syscall`], in encoding order (everything before
/// `data`).
type SyscallHead = (
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
);

fn syscall(body: &[u8], version: u16, skipped: &mut Skipped) -> Result<Syscall, postcard::Error> {
    let (head, rest) = take_tolerant::<SyscallHead>(body)?;
    let (tgid, tid, seq, cpu, nr, args, ret, enter_ns, exit_ns, died_in_call) = head;
    let data = if rest.is_empty() {
        Vec::new() // an older writer's record without the list: zero items
    } else if version == 1 {
        take_tolerant::<Vec<Capture>>(rest)?.0
    } else {
        delimited_items(rest, skipped)?
    };
    // Bytes after the list are fields a newer writer appended: ignored.
    Ok(Syscall {
        tgid,
        tid,
        seq,
        cpu,
        nr,
        args,
        ret,
        enter_ns,
        exit_ns,
        died_in_call,
        data,
    })
}

/// Format 2's data list: `varint(count)`, then `count` times
/// `varint(L) || item`, where an item is `u8 arg || varint(kind) || ...`.
fn delimited_items(bytes: &[u8], skipped: &mut Skipped) -> Result<Vec<Capture>, postcard::Error> {
    let (count, mut rest) = postcard::take_from_bytes::<u32>(bytes)?;
    // Every item takes at least one byte: a count larger than the bytes
    // left is damage, not a reason to allocate.
    if count as usize > rest.len() {
        return Err(postcard::Error::DeserializeUnexpectedEnd);
    }
    let mut items = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let (len, n) = get_varint(rest).ok_or(postcard::Error::DeserializeBadVarint)?;
        let item = rest
            .get(n..n + len as usize)
            .ok_or(postcard::Error::DeserializeUnexpectedEnd)?;
        rest = &rest[n + len as usize..];
        // An item is `u8 arg || varint(kind) || ...`; a kind this reader
        // does not know may lay out the rest differently.
        let kind = item.get(1..).and_then(get_varint).map(|(k, _)| k);
        if kind.is_some_and(|k| k > CaptureKind::LAST_KNOWN) {
            skipped.data_items += 1;
            continue;
        }
        items.push(take_tolerant::<Capture>(item)?.0);
    }
    Ok(items)
}

fn tolerant<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, postcard::Error> {
    take_tolerant(bytes).map(|(v, _)| v)
}

/// Decodes a length-delimited item in both directions of the "fields are
/// only appended" rule: bytes after the item are fields of a *newer* writer
/// (returned, for the caller to ignore or decode further), and an item that
/// ends early comes from an *older* writer whose struct lacked the last
/// fields: those decode as if their bytes were zero (0, false, empty,
/// None). The item's bounds are known and its frame CRC-checked, so ending
/// early is never truncation.
pub(crate) fn take_tolerant<T: DeserializeOwned>(
    bytes: &[u8],
) -> Result<(T, &[u8]), postcard::Error> {
    match postcard::take_from_bytes::<T>(bytes) {
        // A last byte with the varint continuation bit set means the input
        // stopped inside a number: damage, not an older struct.
        Err(postcard::Error::DeserializeUnexpectedEnd)
            if bytes.last().is_none_or(|b| b & 0x80 == 0) =>
        {
            let mut padded = Vec::with_capacity(bytes.len() + ZERO_FILL);
            padded.extend_from_slice(bytes);
            padded.resize(bytes.len() + ZERO_FILL, 0);
            let (v, _) = postcard::take_from_bytes::<T>(&padded)?;
            Ok((v, &[]))
        }
        other => other,
    }
}

/// Zero bytes a reader supplies for fields missing at the end of an item:
/// more than any run of appended fields will need (the spec's limit).
pub const ZERO_FILL: usize = 256;
