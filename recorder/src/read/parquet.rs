//! `recorder export --format parquet`: logs as one table for SQL engines
//! (DuckDB, Spark, Trino, ClickHouse). The schema and its stability rules
//! are in docs/parquet.md; [`SCHEMA`] is the single definition.
//!
//! One row per event, told apart by the `type` column: `call` (a system
//! call), `exec`, `fork`, `exit`, `signal` and `pause` (process events),
//! `who` (a watch log's description of a process), and, after the events of each log, one `process` row per process that
//! has rows in it, naming it as `recorder stats` does (its final name, which
//! a streaming writer only knows at the end). One file rather than a file
//! per kind: a fleet's exports stay one glob, and a join on process names is
//! a self-join on (`recording_id`, `pid`).
//!
//! Written with the parquet crate's column writers, not through Arrow
//! arrays: the Arrow crates more than doubled the build for this one
//! command. The price is doing by hand what Arrow did: each row is split
//! into its leaf columns (with definition and repetition levels for the
//! nullable columns and the `data` list), and the column chunks of a row
//! group are encoded in memory until the group is written out.
//!
//! Streaming: rows are gathered in a batch of [`BATCH_ROWS`], which is
//! encoded into the row group in progress; the row group is written to the
//! output once its encoded pages reach [`ROW_GROUP_BYTES`] (or it has
//! [`ROW_GROUP_ROWS`] rows), so memory does not grow with the logs. Names
//! come from [`crate::decode`], the tables every reader uses.

use crate::event::GroupDead;
use std::borrow::Cow;
use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use bytes::Bytes;
use parquet::basic::{Compression, Encoding, Type as PhysicalType, ZstdLevel};
use parquet::column::page::{CompressedPage, PageWriteSpec, PageWriter};
use parquet::column::writer::{ColumnWriter, get_column_writer};
use parquet::data_type::ByteArray;
use parquet::errors::ParquetError;
use parquet::file::properties::{WriterProperties, WriterPropertiesPtr};
use parquet::file::writer::{SerializedFileWriter, SerializedPageWriter, TrackedWrite};
use parquet::schema::parser::parse_message_type;
use parquet::schema::types::{ColumnDescriptor, ColumnPath, SchemaDescriptor, TypePtr};

use super::{Events, FilterSpec, ReadError, Tasks};
use crate::decode::{Arch, DecodeError, errno_name, syscall_name};
use crate::event::{Capture, CaptureKind, Event, Header, ProcEvent, Syscall};

/// Rows per batch handed to the column writers. Small enough that a
/// batch's 39 column buffers stay in the CPU cache while rows are spread
/// over them: with 8192, cache misses made the export 25% slower.
const BATCH_ROWS: usize = 1024;
/// A row group is written out once its encoded pages reach this many
/// bytes...
const ROW_GROUP_BYTES: usize = 64 << 20;
/// ...or it has this many rows (engines parallelise over row groups).
const ROW_GROUP_ROWS: usize = 1 << 20;
// Row groups end on batch boundaries, so a full one has exactly
// ROW_GROUP_ROWS rows without splitting a batch.
const _: () = assert!(ROW_GROUP_ROWS.is_multiple_of(BATCH_ROWS));

/// The table's schema (docs/parquet.md documents each column), in the
/// Parquet schema language: names, order, physical and logical types and
/// nullability. The types are those the Arrow writer used to derive from
/// the Arrow schema (uint64 is INT64 marked unsigned, the list is the
/// standard three-level LIST with Arrow's element name `item`), so the file
/// reads the same everywhere.
pub const SCHEMA: &str = "
message schema {
  required binary type (STRING);
  required binary recording_id (STRING);
  required binary log (STRING);
  optional binary host (STRING);
  required binary arch (STRING);
  required int64 pid;
  optional int64 tid;
  optional binary comm (STRING);
  optional int64 mono_ns;
  optional int64 utc_ns;
  optional int64 ts (TIMESTAMP(NANOS,true));
  optional binary syscall (STRING);
  optional int64 nr;
  optional int64 arg0 (INTEGER(64,false));
  optional int64 arg1 (INTEGER(64,false));
  optional int64 arg2 (INTEGER(64,false));
  optional int64 arg3 (INTEGER(64,false));
  optional int64 arg4 (INTEGER(64,false));
  optional int64 arg5 (INTEGER(64,false));
  optional int64 ret;
  optional binary errno (STRING);
  optional int64 dur_ns;
  optional int64 seq (INTEGER(64,false));
  optional int64 cpu;
  optional boolean died_in_call;
  optional group data (LIST) {
    repeated group list {
      optional group item {
        required int32 arg (INTEGER(8,false));
        required binary kind (STRING);
        required int64 len (INTEGER(64,false));
        required boolean truncated;
        required boolean read_failed;
        required binary bytes;
      }
    }
  }
  optional int64 child;
  optional int64 old_tid;
  optional boolean group_dead;
  optional binary signal (STRING);
  optional int64 sig;
  optional boolean default_action;
  optional boolean crash;
  optional binary pause_end (STRING);
}";

/// The schema as the parquet crate's type tree.
pub fn schema() -> Result<TypePtr, ParquetError> {
    parse_message_type(SCHEMA).map(Arc::new)
}

/// Leaf columns of a `data` item, in [`SCHEMA`] order.
const DATA_LEAVES: usize = 6;
/// Leaf columns that are not in `data`: one cell each per row.
const SCALARS: usize = 33;
/// The `data` definition levels short of an item: a null list (rows that
/// are not calls) and an empty one (a call without captured memory). An
/// item is at the leaves' maximum level (list, repeated group, item).
const DATA_NULL: i16 = 0;
const DATA_EMPTY: i16 = 1;

/// What a log contributes to each of its rows, encoded once per log.
struct Recording {
    id: ByteArray,
    /// The log's path as given: rotated parts of one recording share the
    /// id, so `process` rows are per (id, log).
    log: ByteArray,
    host: Option<ByteArray>,
    arch: Arch,
    /// Wall clock minus monotonic clock, ns.
    realtime_offset_ns: i64,
    /// A lean log: calls have no `duration_ns` (null, not 0).
    lean: bool,
}

/// FNV-1a, 64 bits: a stable, dependency-free hash for the recording id.
fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for &b in *p {
            h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

impl Recording {
    fn new(header: &Header, log: &Path) -> Result<Self, DecodeError> {
        let arch = Arch::from_name(&header.arch)
            .ok_or_else(|| DecodeError::UnknownArch(header.arch.clone()))?;
        // Rotated parts and snapshots of one recording share the header's
        // start: they get one id. A bundle with the host redacted hashes
        // the mask, so its id reveals nothing (and differs from its input's).
        let id = fnv1a(&[
            header.hostname.as_bytes(),
            &[0],
            &header.start_wall_ns.to_le_bytes(),
            &header.start_mono_ns.to_le_bytes(),
        ]);
        let redacted = header.redactions.iter().any(|r| r == "host");
        Ok(Recording {
            id: text(format!("{id:016x}")),
            log: text(log.display().to_string()),
            host: (!redacted).then(|| text(header.hostname.clone())),
            arch,
            realtime_offset_ns: header.realtime_offset_ns,
            lean: header.lean,
        })
    }

    /// UTC ns of a monotonic timestamp.
    fn utc(&self, mono_ns: u64) -> i64 {
        let ns = i128::from(mono_ns) + i128::from(self.realtime_offset_ns);
        ns.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
    }
}

/// A string cell; names from the tables are `'static` and not copied.
fn text(s: impl Into<Cow<'static, str>>) -> ByteArray {
    match s.into() {
        Cow::Borrowed(s) => Bytes::from_static(s.as_bytes()).into(),
        Cow::Owned(s) => Bytes::from(s).into(),
    }
}

/// One row's values; `None` is a null.
#[derive(Default)]
struct Row<'a> {
    kind: &'static str,
    tid: Option<u32>,
    pid: u32,
    comm: Option<&'a str>,
    ts: Option<u64>,
    syscall: Option<Cow<'static, str>>,
    nr: Option<i64>,
    args: Option<[u64; 6]>,
    ret: Option<i64>,
    errno: Option<&'static str>,
    duration_ns: Option<u64>,
    seq: Option<u64>,
    cpu: Option<u32>,
    died_in_call: Option<bool>,
    child_pid: Option<u64>,
    old_tid: Option<u64>,
    group_dead: Option<bool>,
    signal: Option<String>,
    signal_nr: Option<u32>,
    default_action: Option<bool>,
    crash: Option<bool>,
    pause_end: Option<&'static str>,
}

/// A cell of one leaf column; `Null` is a null.
enum Value {
    Null,
    Bytes(ByteArray),
    I32(i32),
    I64(i64),
    Bool(bool),
}

impl Value {
    fn str(s: Option<ByteArray>) -> Self {
        s.map_or(Value::Null, Value::Bytes)
    }
    fn int(v: Option<i64>) -> Self {
        v.map_or(Value::Null, Value::I64)
    }
    /// An unsigned 64-bit cell: Parquet stores UINT64 as the INT64 with the
    /// same bits (the column's logical type says to read it unsigned).
    fn uint(v: Option<u64>) -> Self {
        Value::int(v.map(|v| v as i64))
    }
    fn bool(v: Option<bool>) -> Self {
        v.map_or(Value::Null, Value::Bool)
    }
}

fn i64_of(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// A row's cells for every column but `data`, in [`SCHEMA`] order.
fn cells(rec: &Recording, r: Row) -> [Value; SCALARS] {
    use Value::{Bytes as B, I64};
    let utc = r.ts.map(|t| rec.utc(t));
    let arg = |k: usize| Value::uint(r.args.map(|a| a[k]));
    [
        B(text(r.kind)),
        B(rec.id.clone()),
        B(rec.log.clone()),
        Value::str(rec.host.clone()),
        B(text(rec.arch.name())),
        I64(i64::from(r.pid)),
        Value::int(r.tid.map(i64::from)),
        Value::str(r.comm.map(ByteArray::from)),
        Value::int(r.ts.map(i64_of)),
        Value::int(utc),
        Value::int(utc),
        Value::str(r.syscall.map(text)),
        Value::int(r.nr),
        arg(0),
        arg(1),
        arg(2),
        arg(3),
        arg(4),
        arg(5),
        Value::int(r.ret),
        Value::str(r.errno.map(text)),
        Value::int(r.duration_ns.map(i64_of)),
        Value::uint(r.seq),
        Value::int(r.cpu.map(i64::from)),
        Value::bool(r.died_in_call),
        // `data` comes here: see Batch::push_data.
        Value::int(r.child_pid.map(i64_of)),
        Value::int(r.old_tid.map(i64_of)),
        Value::bool(r.group_dead),
        Value::str(r.signal.map(text)),
        Value::int(r.signal_nr.map(i64::from)),
        Value::bool(r.default_action),
        Value::bool(r.crash),
        Value::str(r.pause_end.map(text)),
    ]
}

/// The cells of one `data` item, in [`SCHEMA`] order.
fn item_cells(c: &Capture) -> [Value; DATA_LEAVES] {
    let kind = match c.kind {
        CaptureKind::Str => "str",
        CaptureKind::InBuf => "in",
        CaptureKind::OutBuf => "out",
    };
    [
        Value::I32(i32::from(c.arg)),
        Value::Bytes(text(kind)),
        Value::uint(Some(c.len)),
        Value::Bool(c.truncated),
        Value::Bool(c.read_failed),
        Value::Bytes(ByteArray::from(c.bytes.as_slice())),
    ]
}

/// A mismatch between [`SCHEMA`] and the cells the code builds: a bug, not
/// bad input, but reported rather than panicking mid-export.
fn schema_bug(what: &str) -> ParquetError {
    ParquetError::General(format!("parquet export: {what} (schema and rows disagree)"))
}

/// The values of one leaf column in a batch, typed as its physical type.
enum Values {
    Bytes(Vec<ByteArray>),
    I32(Vec<i32>),
    I64(Vec<i64>),
    Bool(Vec<bool>),
}

impl Values {
    /// Adds `v`; false for a null (which has levels but no value).
    fn push(&mut self, v: Value) -> Result<bool, ParquetError> {
        match (self, v) {
            (_, Value::Null) => return Ok(false),
            (Values::Bytes(b), Value::Bytes(v)) => b.push(v),
            (Values::I32(b), Value::I32(v)) => b.push(v),
            (Values::I64(b), Value::I64(v)) => b.push(v),
            (Values::Bool(b), Value::Bool(v)) => b.push(v),
            _ => return Err(schema_bug("a cell of the wrong type")),
        }
        Ok(true)
    }

    fn clear(&mut self) {
        match self {
            Values::Bytes(b) => b.clear(),
            Values::I32(b) => b.clear(),
            Values::I64(b) => b.clear(),
            Values::Bool(b) => b.clear(),
        }
    }
}

/// One leaf column of a batch: its values and, where the schema has them,
/// definition levels (how much of the path is non-null) and repetition
/// levels (0 starts a row's `data` list, 1 continues it).
struct Leaf {
    values: Values,
    def: Vec<i16>,
    rep: Vec<i16>,
    max_def: i16,
    max_rep: i16,
}

impl Leaf {
    fn new(d: &ColumnDescriptor) -> Result<Self, ParquetError> {
        let values = match d.physical_type() {
            PhysicalType::BYTE_ARRAY => Values::Bytes(Vec::new()),
            PhysicalType::INT32 => Values::I32(Vec::new()),
            PhysicalType::INT64 => Values::I64(Vec::new()),
            PhysicalType::BOOLEAN => Values::Bool(Vec::new()),
            _ => return Err(schema_bug("a physical type the export does not write")),
        };
        Ok(Leaf {
            values,
            def: Vec::new(),
            rep: Vec::new(),
            max_def: d.max_def_level(),
            max_rep: d.max_rep_level(),
        })
    }

    /// A cell of a top-level column: defined (level 1) unless null.
    fn push(&mut self, v: Value) -> Result<(), ParquetError> {
        let present = self.values.push(v)?;
        if self.max_def > 0 {
            self.def.push(i16::from(present));
        } else if !present {
            return Err(schema_bug("a null in a required column"));
        }
        Ok(())
    }

    /// An entry of a `data` leaf: levels, and the value of an item.
    fn push_nested(&mut self, def: i16, rep: i16, v: Value) -> Result<(), ParquetError> {
        let present = self.values.push(v)?;
        if present != (def == self.max_def) {
            return Err(schema_bug("a data item's levels"));
        }
        self.def.push(def);
        self.rep.push(rep);
        Ok(())
    }

    fn clear(&mut self) {
        self.values.clear();
        self.def.clear();
        self.rep.clear();
    }

    /// Encodes the batch into `w`, the writer of this column.
    fn write(&self, w: &mut ColumnWriter<'_>) -> Result<(), ParquetError> {
        let def = (self.max_def > 0).then_some(self.def.as_slice());
        let rep = (self.max_rep > 0).then_some(self.rep.as_slice());
        match (&self.values, w) {
            (Values::Bytes(v), ColumnWriter::ByteArrayColumnWriter(w)) => {
                w.write_batch(v, def, rep)
            }
            (Values::I32(v), ColumnWriter::Int32ColumnWriter(w)) => w.write_batch(v, def, rep),
            (Values::I64(v), ColumnWriter::Int64ColumnWriter(w)) => w.write_batch(v, def, rep),
            (Values::Bool(v), ColumnWriter::BoolColumnWriter(w)) => w.write_batch(v, def, rep),
            _ => Err(schema_bug("a column writer of another type")),
        }?;
        Ok(())
    }
}

/// The rows gathered for the column writers, split into leaf columns.
struct Batch {
    /// Every leaf column, in schema order.
    leaves: Vec<Leaf>,
    /// The index of the first `data` leaf.
    data_at: usize,
    rows: usize,
}

impl Batch {
    fn new(schema: &SchemaDescriptor) -> Result<Self, ParquetError> {
        let leaves = schema
            .columns()
            .iter()
            .map(|c| Leaf::new(c))
            .collect::<Result<Vec<_>, _>>()?;
        let data_at = schema
            .columns()
            .iter()
            .position(|c| c.path().parts()[0] == "data")
            .ok_or_else(|| schema_bug("no data column"))?;
        if leaves.len() != SCALARS + DATA_LEAVES {
            return Err(schema_bug("the number of columns"));
        }
        Ok(Batch {
            leaves,
            data_at,
            rows: 0,
        })
    }

    /// Adds a row: `cells` for the columns, `data` for the `data` list
    /// (`None`: a null list, on rows that are not calls).
    fn push(
        &mut self,
        cells: [Value; SCALARS],
        data: Option<&[Capture]>,
    ) -> Result<(), ParquetError> {
        let (head, rest) = self.leaves.split_at_mut(self.data_at);
        let (items, tail) = rest.split_at_mut(DATA_LEAVES);
        for (leaf, v) in head.iter_mut().chain(tail).zip(cells) {
            leaf.push(v)?;
        }
        push_data(items, data)?;
        self.rows += 1;
        Ok(())
    }

    fn clear(&mut self) {
        self.leaves.iter_mut().for_each(Leaf::clear);
        self.rows = 0;
    }
}

/// A row's `data` list into the six item leaves: a null or empty list is
/// one entry of levels without a value; each item is a value in every
/// leaf, the first starting the row's list (repetition 0).
fn push_data(items: &mut [Leaf], data: Option<&[Capture]>) -> Result<(), ParquetError> {
    let captures = match data {
        None => return push_levels(items, DATA_NULL),
        Some([]) => return push_levels(items, DATA_EMPTY),
        Some(c) => c,
    };
    for (i, c) in captures.iter().enumerate() {
        let rep = i16::from(i > 0);
        for (leaf, v) in items.iter_mut().zip(item_cells(c)) {
            leaf.push_nested(leaf.max_def, rep, v)?;
        }
    }
    Ok(())
}

fn push_levels(items: &mut [Leaf], def: i16) -> Result<(), ParquetError> {
    items
        .iter_mut()
        .try_for_each(|leaf| leaf.push_nested(def, 0, Value::Null))
}

/// A column chunk's encoded pages, kept in memory until its row group is
/// written out: the chunks of a row group lie one after the other in the
/// file, while rows arrive for all columns at once. Shared between the
/// column writer (which owns its page writer) and the row group.
#[derive(Clone)]
struct Chunk(Arc<Mutex<TrackedWrite<Vec<u8>>>>);

impl Chunk {
    fn new() -> Self {
        Chunk(Arc::new(Mutex::new(TrackedWrite::new(Vec::new()))))
    }

    fn lock(&self) -> MutexGuard<'_, TrackedWrite<Vec<u8>>> {
        // Only a panic while writing a page poisons it, and that ends the
        // export anyway.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Bytes of encoded pages so far.
    fn len(&self) -> usize {
        self.lock().bytes_written()
    }

    /// The pages, leaving the chunk empty.
    fn take(&self) -> Result<Bytes, ParquetError> {
        let pages = std::mem::replace(&mut *self.lock(), TrackedWrite::new(Vec::new()));
        Ok(Bytes::from(pages.into_inner()?))
    }
}

impl PageWriter for Chunk {
    fn write_page(&mut self, page: CompressedPage) -> Result<PageWriteSpec, ParquetError> {
        // Page offsets count from the chunk's start, which is what
        // SerializedRowGroupWriter::append_column expects.
        SerializedPageWriter::new(&mut self.lock()).write_page(page)
    }

    fn close(&mut self) -> Result<(), ParquetError> {
        Ok(())
    }
}

/// The row group in progress: a column writer per leaf, each encoding into
/// its own [`Chunk`].
struct RowGroup {
    columns: Vec<(ColumnWriter<'static>, Chunk)>,
    rows: usize,
}

impl RowGroup {
    fn new(schema: &SchemaDescriptor, props: &WriterPropertiesPtr) -> Self {
        let columns = schema
            .columns()
            .iter()
            .map(|d| {
                let chunk = Chunk::new();
                let w = get_column_writer(d.clone(), props.clone(), Box::new(chunk.clone()));
                (w, chunk)
            })
            .collect();
        RowGroup { columns, rows: 0 }
    }

    fn write(&mut self, batch: &Batch) -> Result<(), ParquetError> {
        for ((w, _), leaf) in self.columns.iter_mut().zip(&batch.leaves) {
            leaf.write(w)?;
        }
        self.rows += batch.rows;
        Ok(())
    }

    /// Encoded bytes held. Leaves out what the column writers still hold:
    /// the page being filled and, while a column is dictionary-encoded, its
    /// dictionary (at most 1 MiB by default) and pages of dictionary
    /// indexes (a few bits a row).
    fn encoded_bytes(&self) -> usize {
        self.columns.iter().map(|(_, c)| c.len()).sum()
    }

    /// Closes the columns and writes them to `file` as one row group.
    fn write_to<W: Write + Send>(
        self,
        file: &mut SerializedFileWriter<W>,
    ) -> Result<(), ParquetError> {
        let mut group = file.next_row_group()?;
        for (w, chunk) in self.columns {
            let close = w.close()?;
            group.append_column(&chunk.take()?, close)?;
        }
        group.close()?;
        Ok(())
    }
}

/// The row of a system call.
fn call_row<'a>(rec: &Recording, sc: &Syscall, comm: Option<&'a str>) -> Row<'a> {
    let failed = sc.ret.is_some_and(|r| (-4095..=-1).contains(&r));
    Row {
        kind: "call",
        pid: sc.tgid,
        tid: Some(sc.tid),
        comm,
        ts: Some(sc.enter_ns),
        syscall: Some(
            syscall_name(rec.arch, sc.nr)
                .map_or_else(|| format!("syscall_{}", sc.nr).into(), Cow::Borrowed),
        ),
        nr: Some(sc.nr),
        args: Some(sc.args),
        ret: sc.ret,
        errno: sc
            .ret
            .filter(|_| failed)
            .and_then(|r| errno_name(-r))
            .map(|(e, _)| e),
        duration_ns: sc
            .exit_ns
            .filter(|_| sc.ret.is_some() && !rec.lean)
            .map(|x| x.saturating_sub(sc.enter_ns)),
        seq: Some(sc.seq),
        cpu: Some(sc.cpu),
        died_in_call: Some(sc.died_in_call),
        ..Row::default()
    }
}

/// The common part of an exec, fork and exit row.
fn proc_row<'a>(kind: &'static str, p: &'a ProcEvent) -> Row<'a> {
    Row {
        kind,
        pid: p.tgid,
        tid: Some(p.tid),
        comm: Some(p.comm.as_str()),
        ts: Some(p.ts_ns),
        cpu: Some(p.cpu),
        ..Row::default()
    }
}

/// The row of a process event (`None` for counter checkpoints).
fn event_row(ev: &Event) -> Option<Row<'_>> {
    Some(match ev {
        Event::Exec(p) => Row {
            old_tid: Some(u64::from(p.old_tid())),
            ..proc_row("exec", p)
        },
        Event::Fork(p) => Row {
            child_pid: Some(u64::from(p.child())),
            ..proc_row("fork", p)
        },
        Event::Exit(p) => Row {
            group_dead: match p.group_dead() {
                GroupDead::No => Some(false),
                GroupDead::Yes => Some(true),
                GroupDead::Unknown => None,
            },
            ..proc_row("exit", p)
        },
        Event::Signal(s) => Row {
            kind: "signal",
            pid: s.tgid,
            tid: Some(s.tid),
            comm: Some(s.comm.as_str()),
            ts: Some(s.ts_ns),
            cpu: Some(s.cpu),
            signal: Some(super::info::signal_name(s.sig)),
            signal_nr: Some(s.sig),
            default_action: Some(s.default_action),
            crash: Some(s.is_crash()),
            ..Row::default()
        },
        Event::Pause(p) => Row {
            kind: "pause",
            pid: p.tgid,
            ts: Some(p.start_ns),
            duration_ns: Some(p.duration_ns()),
            pause_end: Some(crate::decode::json_pause_end(p.end)),
            ..Row::default()
        },
        Event::Who(w) => Row {
            kind: "who",
            pid: w.tgid,
            tid: Some(w.tid),
            comm: Some(w.comm.as_str()),
            ts: Some(w.ts_ns),
            ..Row::default()
        },
        Event::Syscall(_) | Event::Counters(_) => return None,
    })
}

/// Writes rows of any number of logs into one Parquet file.
pub struct ParquetWriter<W: Write + Send> {
    file: SerializedFileWriter<W>,
    props: WriterPropertiesPtr,
    batch: Batch,
    group: Option<RowGroup>,
    /// [`ROW_GROUP_ROWS`], smaller in tests.
    group_rows: usize,
}

/// Zstd level 1 everywhere, and delta encoding for the columns that rise.
fn properties() -> Result<WriterProperties, ParquetError> {
    let mut props = WriterProperties::builder()
        // Level 1, as the log itself: fast, and most of the ratio.
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(1)?))
        .set_created_by(format!("recorder {}", env!("CARGO_PKG_VERSION")));
    // Times and sequence numbers rise: deltas pack them in a few bits,
    // where a dictionary of distinct values would overflow and fall back
    // to plain 8-byte values.
    for col in ["mono_ns", "utc_ns", "ts", "seq"] {
        let col = ColumnPath::from(col);
        props = props
            .set_column_dictionary_enabled(col.clone(), false)
            .set_column_encoding(col, Encoding::DELTA_BINARY_PACKED);
    }
    Ok(props.build())
}

impl<W: Write + Send> ParquetWriter<W> {
    pub fn new(out: W) -> Result<Self, ReadError> {
        let props = Arc::new(properties()?);
        let file = SerializedFileWriter::new(out, schema()?, props.clone())?;
        let batch = Batch::new(file.schema_descr())?;
        Ok(ParquetWriter {
            file,
            props,
            batch,
            group: None,
            group_rows: ROW_GROUP_ROWS,
        })
    }

    fn push(&mut self, rec: &Recording, row: Row, sc: Option<&Syscall>) -> Result<(), ReadError> {
        let data = sc.map(|sc| sc.data.as_slice());
        self.batch.push(cells(rec, row), data)?;
        if self.batch.rows >= BATCH_ROWS {
            self.write_batch()?;
        }
        Ok(())
    }

    /// Encodes the batch into the row group, and writes the group out once
    /// it is full.
    fn write_batch(&mut self) -> Result<(), ReadError> {
        if self.batch.rows == 0 {
            return Ok(());
        }
        let group = self
            .group
            .get_or_insert_with(|| RowGroup::new(self.file.schema_descr(), &self.props));
        group.write(&self.batch)?;
        self.batch.clear();
        if group.rows >= self.group_rows || group.encoded_bytes() >= ROW_GROUP_BYTES {
            self.write_group()?;
        }
        Ok(())
    }

    fn write_group(&mut self) -> Result<(), ReadError> {
        if let Some(group) = self.group.take() {
            group.write_to(&mut self.file)?;
        }
        Ok(())
    }

    /// Writes every event of `events` that passes its filters, then a
    /// `process` row per process with rows; the error, if reading stopped
    /// at damage (everything before it is written).
    pub fn log<R: std::io::Read>(
        &mut self,
        events: &mut Events<R>,
        path: &Path,
    ) -> Result<Result<(), crate::log::LogError>, ReadError> {
        let rec = Recording::new(events.header(), path)?;
        let mut pids = BTreeSet::new();
        let res = loop {
            let ev = match events.next_event() {
                Ok(Some(ev)) => ev,
                Ok(None) => break Ok(()),
                Err(e) => break Err(e),
            };
            if let Event::Syscall(sc) = &ev {
                let comm = events.tasks().comm(sc.tid, sc.tgid);
                let row = call_row(&rec, sc, comm);
                self.push(&rec, row, Some(sc))?;
                pids.insert(sc.tgid);
            } else if let Some(row) = event_row(&ev) {
                pids.insert(row.pid);
                self.push(&rec, row, None)?;
            }
        };
        self.processes(&rec, events.tasks(), &pids)?;
        Ok(res)
    }

    fn processes(
        &mut self,
        rec: &Recording,
        tasks: &Tasks,
        pids: &BTreeSet<u32>,
    ) -> Result<(), ReadError> {
        for &pid in pids {
            let row = Row {
                kind: "process",
                pid,
                comm: tasks.process_name(pid),
                ..Row::default()
            };
            self.push(rec, row, None)?;
        }
        Ok(())
    }

    /// Writes the last row group and the footer; returns the output.
    pub fn finish(mut self) -> Result<W, ReadError> {
        self.write_batch()?;
        self.write_group()?;
        let mut out = self.file.into_inner()?;
        out.flush()?;
        Ok(out)
    }
}

/// Opens every log of `paths` and vets its header (a missing file, not a
/// log, an unknown architecture), so that callers can fail before creating
/// any output.
pub fn check_inputs(paths: &[PathBuf], spec: &FilterSpec) -> Result<(), ReadError> {
    for p in paths {
        let events = Events::open(p, spec)?;
        Recording::new(events.header(), p).map_err(|source| ReadError::Unsupported {
            path: p.clone(),
            source,
        })?;
    }
    Ok(())
}

/// `recorder export --format parquet`: every log of `paths`, in order, into
/// one Parquet file written to `out`; completeness summaries to `err`. All
/// logs are opened first, so a missing or foreign file fails before any
/// output. A log damaged part-way is exported up to the damage, the rest
/// are exported too, and the first damage is the error.
pub fn run<W: Write + Send>(
    paths: &[PathBuf],
    spec: &FilterSpec,
    out: W,
    err: &mut dyn Write,
) -> Result<W, ReadError> {
    check_inputs(paths, spec)?;
    let mut w = ParquetWriter::new(out)?;
    let mut first_damage: Option<(&Path, crate::log::LogError)> = None;
    for p in paths {
        let mut events = Events::open(p, spec)?.with_tasks();
        events.write_warnings(err)?;
        let res = w.log(&mut events, p)?;
        // One summary per log; with several, each names its log.
        let summary = events.summary();
        if paths.len() > 1 {
            let named = format!("recorder: {}: ", p.display());
            writeln!(err, "{}", summary.replacen("recorder: ", &named, 1))?;
        } else {
            writeln!(err, "{summary}")?;
        }
        if let Err(e) = res {
            first_damage.get_or_insert((p, e));
        }
    }
    let out = w.finish()?;
    match first_damage {
        Some((p, source)) => Err(ReadError::Stopped {
            path: p.to_owned(),
            source,
        }),
        None => Ok(out),
    }
}

#[cfg(test)]
mod tests {
    use parquet::basic::{LogicalType, TimeUnit};
    use parquet::file::reader::{FileReader as _, SerializedFileReader};
    use parquet::record::{Field, Row as PqRow, RowAccessor as _};

    use super::*;
    use crate::event::Trailer;
    use crate::log::{LogReader, LogWriter};

    fn log_bytes(events: &[Event], header: &Header) -> Vec<u8> {
        let mut w = LogWriter::new(Vec::new(), header, 1).unwrap();
        for e in events {
            w.append(e).unwrap();
        }
        w.finish(&Trailer::default()).unwrap()
    }

    /// Exports `events` with row groups of `group_rows` and opens the file
    /// with the parquet crate's own (non-Arrow) reader.
    fn export_file(
        events: &[Event],
        header: &Header,
        group_rows: usize,
    ) -> SerializedFileReader<Bytes> {
        let bytes = log_bytes(events, header);
        let r = LogReader::open(&bytes[..]).unwrap();
        let f = super::super::Filter::new(&FilterSpec::default(), r.header()).unwrap();
        let mut ev = Events::new(r, f).with_tasks();
        let mut w = ParquetWriter::new(Vec::new()).unwrap();
        w.group_rows = group_rows;
        w.log(&mut ev, Path::new("x.rec")).unwrap().unwrap();
        SerializedFileReader::new(Bytes::from(w.finish().unwrap())).unwrap()
    }

    /// The rows of `events`' export.
    fn export(events: &[Event], header: &Header) -> Vec<PqRow> {
        let file = export_file(events, header, ROW_GROUP_ROWS);
        assert_eq!(file.num_row_groups(), 1);
        let rows = file.get_row_iter(None).unwrap();
        rows.map(Result::unwrap).collect()
    }

    /// Column `col` of every row, as the reader typed it.
    fn column(rows: &[PqRow], col: &str) -> Vec<Field> {
        let cell = |r: &PqRow| {
            let (_, v) = r.get_column_iter().find(|(n, _)| *n == col).unwrap();
            v.clone()
        };
        rows.iter().map(cell).collect()
    }

    /// A string column; anything but a string or a null fails.
    fn strs(rows: &[PqRow], col: &str) -> Vec<Option<String>> {
        let str = |f: Field| match f {
            Field::Str(s) => Some(s),
            Field::Null => None,
            f => panic!("{col}: {f:?} is not a string"),
        };
        column(rows, col).into_iter().map(str).collect()
    }

    /// A signed int64 column (no logical type: the reader says `Long`).
    fn ints(rows: &[PqRow], col: &str) -> Vec<Option<i64>> {
        let int = |f: Field| match f {
            Field::Long(v) => Some(v),
            Field::Null => None,
            f => panic!("{col}: {f:?} is not an int64"),
        };
        column(rows, col).into_iter().map(int).collect()
    }

    fn header() -> Header {
        Header {
            arch: "aarch64".into(),
            hostname: "board-7".into(),
            realtime_offset_ns: 1_000_000,
            ..Default::default()
        }
    }

    fn events() -> Vec<Event> {
        let exec = Event::Exec(ProcEvent {
            tgid: 5,
            tid: 5,
            ts_ns: 10,
            aux: 5,
            comm: "app".into(),
            ..Default::default()
        });
        let openat = Event::Syscall(Syscall {
            tgid: 5,
            tid: 5,
            nr: 56, // openat on aarch64
            args: [u64::MAX - 99, 0x1000, 0, 0, 0, 0],
            ret: Some(-2),
            enter_ns: 20,
            exit_ns: Some(25),
            data: vec![Capture {
                arg: 1,
                kind: CaptureKind::Str,
                len: 9,
                truncated: true,
                read_failed: false,
                bytes: b"/etc".to_vec(),
            }],
            ..Default::default()
        });
        let exit = Event::Syscall(Syscall {
            tgid: 5,
            tid: 5,
            nr: 94, // exit_group
            enter_ns: 30,
            ..Default::default()
        });
        vec![exec, openat, exit]
    }

    #[test]
    fn the_schema_has_the_documented_columns() {
        let schema = SchemaDescriptor::new(schema().unwrap());
        let top: Vec<_> = schema
            .root_schema()
            .get_fields()
            .iter()
            .map(|f| f.name())
            .collect();
        let want = "type recording_id log host arch pid tid comm mono_ns utc_ns ts syscall nr \
                    arg0 arg1 arg2 arg3 arg4 arg5 ret errno dur_ns seq cpu died_in_call data \
                    child old_tid group_dead signal sig default_action crash pause_end";
        assert_eq!(top, want.split_whitespace().collect::<Vec<_>>());
        // docs/parquet.md: 34 columns, 39 leaf columns.
        assert_eq!((top.len(), schema.num_columns()), (34, 39));
        let ts = schema.columns().iter().find(|c| c.name() == "ts").unwrap();
        assert_eq!(
            ts.logical_type_ref(),
            Some(&LogicalType::Timestamp {
                is_adjusted_to_u_t_c: true,
                unit: TimeUnit::NANOS
            }),
            "ts is a UTC instant"
        );
    }

    #[test]
    fn calls_are_decoded_with_the_recorded_architecture() {
        let b = export(&events(), &header());
        let kinds = strs(&b, "type");
        assert_eq!(
            kinds,
            ["exec", "call", "call", "process"].map(|s| Some(s.into()))
        );
        assert_eq!(
            strs(&b, "syscall")[1..3],
            [Some("openat".into()), Some("exit_group".into())]
        );
        assert_eq!(strs(&b, "errno")[1], Some("ENOENT".into()));
        assert_eq!(strs(&b, "errno")[2], None);
        assert_eq!(ints(&b, "ret")[1..3], [Some(-2), None]);
        assert_eq!(ints(&b, "dur_ns")[1..3], [Some(5), None]);
        // UTC = monotonic + the header's offset; `ts` is the same instant
        // (the reader has no nanosecond timestamp field: it gives the INT64).
        assert_eq!(ints(&b, "utc_ns")[1], Some(1_000_020));
        assert_eq!(ints(&b, "ts")[1], Some(1_000_020));
        assert_eq!(ints(&b, "mono_ns")[1], Some(20));
        assert_eq!(
            column(&b, "arg0")[1],
            Field::ULong(u64::MAX - 99),
            "raw unsigned registers"
        );
        assert_eq!(column(&b, "seq")[1], Field::ULong(0));
        assert_eq!(strs(&b, "host")[0], Some("board-7".into()));
        assert_eq!(strs(&b, "arch")[0], Some("aarch64".into()));
        assert_eq!(strs(&b, "log")[0], Some("x.rec".into()));
        // The process row names the process and has no time.
        assert_eq!(
            (strs(&b, "comm")[3].as_deref(), ints(&b, "pid")[3]),
            (Some("app"), Some(5))
        );
        assert_eq!(ints(&b, "utc_ns")[3], None);
        assert_eq!(column(&b, "ts")[3], Field::Null);
    }

    /// The `data` list of each row: `None` for a null list.
    fn data(rows: &[PqRow]) -> Vec<Option<Vec<PqRow>>> {
        let list = |f: Field| match f {
            Field::Null => None,
            Field::ListInternal(l) => Some(
                l.elements()
                    .iter()
                    .map(|e| match e {
                        Field::Group(item) => item.clone(),
                        e => panic!("data item {e:?} is not a struct"),
                    })
                    .collect(),
            ),
            f => panic!("data: {f:?} is not a list"),
        };
        column(rows, "data").into_iter().map(list).collect()
    }

    #[test]
    fn captured_data_keeps_its_kind_and_truncation() {
        let data = data(&export(&events(), &header()));
        assert!(data[0].is_none(), "no data list on process events");
        let items = data[1].as_ref().unwrap();
        assert_eq!(items.len(), 1);
        let item = &items[0];
        let fields: Vec<_> = item.get_column_iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            fields,
            ["arg", "kind", "len", "truncated", "read_failed", "bytes"]
        );
        assert_eq!(item.get_ubyte(0).unwrap(), 1);
        assert_eq!(item.get_string(1).unwrap(), "str");
        assert_eq!(item.get_ulong(2).unwrap(), 9);
        assert!(item.get_bool(3).unwrap());
        assert!(!item.get_bool(4).unwrap());
        assert_eq!(item.get_bytes(5).unwrap().data(), b"/etc");
        assert_eq!(
            data[2].as_ref().map(Vec::len),
            Some(0),
            "a call without data has an empty list"
        );
        assert!(data[3].is_none(), "no data list on process rows");
    }

    #[test]
    fn several_items_stay_in_their_row() {
        // Repetition levels: items of one call, then a call without any,
        // then another with some, each in its own row.
        let item = Capture::whole;
        let call = |data| {
            Event::Syscall(Syscall {
                tgid: 5,
                tid: 5,
                nr: 64, // write
                ret: Some(1),
                data,
                ..Default::default()
            })
        };
        let events = [
            call(vec![
                item(1, CaptureKind::InBuf, b"a"),
                item(2, CaptureKind::OutBuf, b"bc"),
            ]),
            call(vec![]),
            call(vec![item(0, CaptureKind::Str, b"")]),
        ];
        let data = data(&export(&events, &header()));
        let items = |row: usize| -> Vec<(u8, String, Vec<u8>)> {
            let item = |r: &PqRow| {
                let bytes = r.get_bytes(5).unwrap().data().to_vec();
                (
                    r.get_ubyte(0).unwrap(),
                    r.get_string(1).unwrap().clone(),
                    bytes,
                )
            };
            data[row].as_ref().unwrap().iter().map(item).collect()
        };
        assert_eq!(
            items(0),
            [
                (1, "in".into(), b"a".to_vec()),
                (2, "out".into(), b"bc".to_vec())
            ]
        );
        assert!(items(1).is_empty());
        assert_eq!(items(2), [(0, "str".into(), Vec::new())]);
        assert!(data[3].is_none(), "the process row");
    }

    #[test]
    fn a_redacted_host_is_null_and_the_id_does_not_depend_on_the_path() {
        let mut h = header();
        h.hostname = "redacted".into();
        h.redactions = vec!["host".into()];
        let b = export(&events(), &h);
        assert_eq!(strs(&b, "host")[0], None);
        let id = |h: &Header, p: &str| Recording::new(h, Path::new(p)).unwrap().id;
        assert_eq!(id(&h, "a.rec"), id(&h, "b.rec.1"), "rotated parts share it");
        assert_ne!(id(&h, "a.rec"), id(&header(), "a.rec"));
        assert_eq!(id(&h, "a.rec").len(), 16);
        assert_eq!(
            strs(&b, "recording_id")[0].as_deref(),
            id(&h, "x").as_utf8().ok()
        );
    }

    #[test]
    fn batches_and_row_groups_stream() {
        // More rows than a batch, and row groups of one batch: the writer
        // encodes several batches and writes several row groups, and what
        // is read back is every row, in order.
        let call = |i: u64| {
            Event::Syscall(Syscall {
                tgid: 1,
                tid: 1,
                seq: i,
                nr: 172, // getpid
                ret: Some(1),
                enter_ns: i,
                exit_ns: Some(i + 1),
                ..Default::default()
            })
        };
        let n = BATCH_ROWS as u64 * 2 + 7;
        let events: Vec<Event> = (0..n).map(call).collect();
        let file = export_file(&events, &header(), BATCH_ROWS);
        let groups: Vec<i64> = file
            .metadata()
            .row_groups()
            .iter()
            .map(|g| g.num_rows())
            .collect();
        let full = BATCH_ROWS as i64;
        assert_eq!(groups, [full, full, 8], "every call and one process row");
        let rows: Vec<PqRow> = file
            .get_row_iter(None)
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let seqs = column(&rows, "seq");
        assert_eq!(seqs.len() as u64, n + 1);
        assert!(
            seqs[..n as usize]
                .iter()
                .enumerate()
                .all(|(i, s)| *s == Field::ULong(i as u64))
        );
        assert_eq!(seqs[n as usize], Field::Null);
    }
}
