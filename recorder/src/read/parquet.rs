//! `recorder export --format parquet`: logs as one table for SQL engines
//! (DuckDB, Spark, Trino, ClickHouse). The schema and its stability rules
//! are in docs/parquet.md; [`schema`] is the single definition.
//!
//! One row per event, told apart by the `type` column: `call` (a system
//! call), `exec`, `fork`, `exit`, `signal` and `pause` (process events),
//! and, after the events of each log, one `process` row per process that
//! has rows in it, naming it as `recorder stats` does (its final name, which
//! a streaming writer only knows at the end). One file rather than a file
//! per kind: a fleet's exports stay one glob, and a join on process names is
//! a self-join on (`recording_id`, `pid`).
//!
//! Streaming: rows go into Arrow builders, a batch of [`BATCH_ROWS`] is
//! handed to the Parquet writer, and a row group is flushed to the output
//! whenever the writer buffers [`ROW_GROUP_BYTES`] (or [`ROW_GROUP_ROWS`]
//! rows), so memory does not grow with the logs. Names come from
//! [`crate::decode`], the tables every reader uses.

use crate::event::GroupDead;
use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::builder::{
    BinaryBuilder, BooleanBuilder, Int64Builder, ListBuilder, StringBuilder, StructBuilder,
    TimestampNanosecondBuilder, UInt8Builder, UInt64Builder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, Encoding, ZstdLevel};
use parquet::file::properties::WriterProperties;

use super::{Events, FilterSpec, ReadError, Tasks};
use crate::decode::{Arch, DecodeError, errno_name, syscall_name};
use crate::event::{CaptureKind, Event, Header, ProcEvent, Syscall};

/// Rows per Arrow batch handed to the writer.
const BATCH_ROWS: usize = 8192;
/// A row group is flushed once the writer buffers this many bytes...
const ROW_GROUP_BYTES: usize = 64 << 20;
/// ...or this many rows (engines parallelise over row groups).
const ROW_GROUP_ROWS: usize = 1 << 20;

/// The fields of one captured data item (`data` is a list of them).
fn capture_fields() -> Fields {
    Fields::from(vec![
        Field::new("arg", DataType::UInt8, false),
        Field::new("kind", DataType::Utf8, false),
        Field::new("len", DataType::UInt64, false),
        Field::new("truncated", DataType::Boolean, false),
        Field::new("read_failed", DataType::Boolean, false),
        Field::new("bytes", DataType::Binary, false),
    ])
}

fn capture_item() -> Arc<Field> {
    Arc::new(Field::new("item", DataType::Struct(capture_fields()), true))
}

/// The table's schema (docs/parquet.md documents each column).
pub fn schema() -> SchemaRef {
    use DataType::{Boolean, Int64, UInt64, Utf8};
    let f = |name: &str, t: DataType, nullable: bool| Field::new(name, t, nullable);
    let ts = DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into()));
    let mut fields = vec![
        f("type", Utf8, false),
        f("recording_id", Utf8, false),
        f("log", Utf8, false),
        f("host", Utf8, true),
        f("arch", Utf8, false),
        f("pid", Int64, false),
        f("tid", Int64, true),
        f("comm", Utf8, true),
        f("mono_ns", Int64, true),
        f("utc_ns", Int64, true),
        f("ts", ts, true),
        f("syscall", Utf8, true),
        f("nr", Int64, true),
    ];
    fields.extend((0..6).map(|i| f(&format!("arg{i}"), UInt64, true)));
    fields.extend([
        f("ret", Int64, true),
        f("errno", Utf8, true),
        f("dur_ns", Int64, true),
        f("seq", UInt64, true),
        f("cpu", Int64, true),
        f("died_in_call", Boolean, true),
        f("data", DataType::List(capture_item()), true),
        f("child", Int64, true),
        f("old_tid", Int64, true),
        f("group_dead", Boolean, true),
        f("signal", Utf8, true),
        f("sig", Int64, true),
        f("default_action", Boolean, true),
        f("crash", Boolean, true),
        f("pause_end", Utf8, true),
    ]);
    Arc::new(Schema::new(fields))
}

/// What a log contributes to each of its rows.
struct Recording {
    id: String,
    /// The log's path as given: rotated parts of one recording share the
    /// id, so `process` rows are per (id, log).
    log: String,
    host: Option<String>,
    arch: Arch,
    /// Wall clock minus monotonic clock, ns.
    realtime_offset_ns: i64,
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
            id: format!("{id:016x}"),
            log: log.display().to_string(),
            host: (!redacted).then(|| header.hostname.clone()),
            arch,
            realtime_offset_ns: header.realtime_offset_ns,
        })
    }

    /// UTC ns of a monotonic timestamp.
    fn utc(&self, mono_ns: u64) -> i64 {
        let ns = i128::from(mono_ns) + i128::from(self.realtime_offset_ns);
        ns.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
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
    syscall: Option<String>,
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

/// The Arrow builders of one batch, in [`schema`] order.
struct Columns {
    strs: Vec<StringBuilder>,
    ints: Vec<Int64Builder>,
    args: Vec<UInt64Builder>,
    seq: UInt64Builder,
    ts: TimestampNanosecondBuilder,
    bools: Vec<BooleanBuilder>,
    data: ListBuilder<StructBuilder>,
    rows: usize,
}

// Indexes into `Columns::strs`, `ints` and `bools`.
const S_TYPE: usize = 0;
const S_ID: usize = 1;
const S_HOST: usize = 2;
const S_ARCH: usize = 3;
const S_COMM: usize = 4;
const S_SYSCALL: usize = 5;
const S_ERRNO: usize = 6;
const S_SIGNAL: usize = 7;
const S_PAUSE_END: usize = 8;
const S_LOG: usize = 9;
const I_PID: usize = 0;
const I_TID: usize = 1;
const I_TS: usize = 2;
const I_NR: usize = 3;
const I_RET: usize = 4;
const I_DUR: usize = 5;
const I_CPU: usize = 6;
const I_CHILD: usize = 7;
const I_OLD_TID: usize = 8;
const I_SIG: usize = 9;
const I_MONO: usize = 10;
const B_DIED: usize = 0;
const B_GROUP_DEAD: usize = 1;
const B_DEFAULT: usize = 2;
const B_CRASH: usize = 3;

fn i64_of(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl Columns {
    fn new() -> Self {
        let capture = StructBuilder::from_fields(capture_fields(), BATCH_ROWS);
        Columns {
            strs: (0..10).map(|_| StringBuilder::new()).collect(),
            ints: (0..11).map(|_| Int64Builder::new()).collect(),
            args: (0..6).map(|_| UInt64Builder::new()).collect(),
            seq: UInt64Builder::new(),
            ts: TimestampNanosecondBuilder::new().with_timezone("UTC"),
            bools: (0..4).map(|_| BooleanBuilder::new()).collect(),
            data: ListBuilder::new(capture).with_field(capture_item()),
            rows: 0,
        }
    }

    fn push(&mut self, rec: &Recording, r: &Row, data: Option<&Syscall>) {
        let s = &mut self.strs;
        s[S_TYPE].append_value(r.kind);
        s[S_ID].append_value(&rec.id);
        s[S_LOG].append_value(&rec.log);
        s[S_HOST].append_option(rec.host.as_deref());
        s[S_ARCH].append_value(rec.arch.name());
        s[S_COMM].append_option(r.comm);
        s[S_SYSCALL].append_option(r.syscall.as_deref());
        s[S_ERRNO].append_option(r.errno);
        s[S_SIGNAL].append_option(r.signal.as_deref());
        s[S_PAUSE_END].append_option(r.pause_end);
        let i = &mut self.ints;
        i[I_PID].append_value(i64::from(r.pid));
        i[I_TID].append_option(r.tid.map(i64::from));
        i[I_MONO].append_option(r.ts.map(i64_of));
        let utc = r.ts.map(|t| rec.utc(t));
        i[I_TS].append_option(utc);
        self.ts.append_option(utc);
        i[I_NR].append_option(r.nr);
        i[I_RET].append_option(r.ret);
        i[I_DUR].append_option(r.duration_ns.map(i64_of));
        i[I_CPU].append_option(r.cpu.map(i64::from));
        i[I_CHILD].append_option(r.child_pid.map(i64_of));
        i[I_OLD_TID].append_option(r.old_tid.map(i64_of));
        i[I_SIG].append_option(r.signal_nr.map(i64::from));
        for (k, b) in self.args.iter_mut().enumerate() {
            b.append_option(r.args.map(|a| a[k]));
        }
        self.seq.append_option(r.seq);
        let b = &mut self.bools;
        b[B_DIED].append_option(r.died_in_call);
        b[B_GROUP_DEAD].append_option(r.group_dead);
        b[B_DEFAULT].append_option(r.default_action);
        b[B_CRASH].append_option(r.crash);
        self.push_data(data);
        self.rows += 1;
    }

    /// The `data` list: null for rows that are not calls.
    fn push_data(&mut self, sc: Option<&Syscall>) {
        let Some(sc) = sc else {
            self.data.append(false);
            return;
        };
        let items = self.data.values();
        for c in &sc.data {
            let kind = match c.kind {
                CaptureKind::Str => "str",
                CaptureKind::InBuf => "in",
                CaptureKind::OutBuf => "out",
            };
            field::<UInt8Builder>(items, 0).append_value(c.arg);
            field::<StringBuilder>(items, 1).append_value(kind);
            field::<UInt64Builder>(items, 2).append_value(c.len);
            field::<BooleanBuilder>(items, 3).append_value(c.truncated);
            field::<BooleanBuilder>(items, 4).append_value(c.read_failed);
            field::<BinaryBuilder>(items, 5).append_value(&c.bytes);
            items.append(true);
        }
        self.data.append(true);
    }

    /// The batch so far, in [`schema`] order; the builders start empty again.
    fn finish(&mut self) -> Vec<ArrayRef> {
        self.rows = 0;
        let s = &mut self.strs;
        let i = &mut self.ints;
        let b = &mut self.bools;
        let mut cols: Vec<ArrayRef> = vec![
            Arc::new(s[S_TYPE].finish()),
            Arc::new(s[S_ID].finish()),
            Arc::new(s[S_LOG].finish()),
            Arc::new(s[S_HOST].finish()),
            Arc::new(s[S_ARCH].finish()),
            Arc::new(i[I_PID].finish()),
            Arc::new(i[I_TID].finish()),
            Arc::new(s[S_COMM].finish()),
            Arc::new(i[I_MONO].finish()),
            Arc::new(i[I_TS].finish()),
            Arc::new(self.ts.finish()),
            Arc::new(s[S_SYSCALL].finish()),
            Arc::new(i[I_NR].finish()),
        ];
        cols.extend(
            self.args
                .iter_mut()
                .map(|a| Arc::new(a.finish()) as ArrayRef),
        );
        cols.extend::<[ArrayRef; 15]>([
            Arc::new(i[I_RET].finish()),
            Arc::new(s[S_ERRNO].finish()),
            Arc::new(i[I_DUR].finish()),
            Arc::new(self.seq.finish()),
            Arc::new(i[I_CPU].finish()),
            Arc::new(b[B_DIED].finish()),
            Arc::new(self.data.finish()),
            Arc::new(i[I_CHILD].finish()),
            Arc::new(i[I_OLD_TID].finish()),
            Arc::new(b[B_GROUP_DEAD].finish()),
            Arc::new(s[S_SIGNAL].finish()),
            Arc::new(i[I_SIG].finish()),
            Arc::new(b[B_DEFAULT].finish()),
            Arc::new(b[B_CRASH].finish()),
            Arc::new(s[S_PAUSE_END].finish()),
        ]);
        cols
    }
}

/// Field builder `i` of the capture struct (the types of
/// [`capture_fields`], so the downcast cannot fail).
fn field<T: arrow_array::builder::ArrayBuilder>(s: &mut StructBuilder, i: usize) -> &mut T {
    s.field_builder::<T>(i)
        .expect("capture_fields and push_data agree")
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
                .map_or_else(|| format!("syscall_{}", sc.nr), str::to_owned),
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
            .filter(|_| sc.ret.is_some())
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
        Event::Syscall(_) | Event::Counters(_) => return None,
    })
}

/// Writes rows of any number of logs into one Parquet file.
pub struct ParquetWriter<W: Write + Send> {
    writer: ArrowWriter<W>,
    schema: SchemaRef,
    cols: Columns,
}

impl<W: Write + Send> ParquetWriter<W> {
    pub fn new(out: W) -> Result<Self, ReadError> {
        let mut props = WriterProperties::builder()
            // Level 1, as the log itself: fast, and most of the ratio.
            .set_compression(Compression::ZSTD(ZstdLevel::try_new(1)?))
            .set_max_row_group_size(ROW_GROUP_ROWS)
            .set_created_by(format!("recorder {}", env!("CARGO_PKG_VERSION")));
        // Times and sequence numbers rise: deltas pack them in a few bits,
        // where a dictionary of distinct values would overflow and fall
        // back to plain 8-byte values.
        for col in ["mono_ns", "utc_ns", "ts", "seq"] {
            let col = parquet::schema::types::ColumnPath::from(col);
            props = props
                .set_column_dictionary_enabled(col.clone(), false)
                .set_column_encoding(col, Encoding::DELTA_BINARY_PACKED);
        }
        let props = props.build();
        let schema = schema();
        Ok(ParquetWriter {
            writer: ArrowWriter::try_new(out, schema.clone(), Some(props))?,
            schema,
            cols: Columns::new(),
        })
    }

    fn push(&mut self, rec: &Recording, row: &Row, sc: Option<&Syscall>) -> Result<(), ReadError> {
        self.cols.push(rec, row, sc);
        if self.cols.rows >= BATCH_ROWS {
            self.write_batch()?;
        }
        Ok(())
    }

    fn write_batch(&mut self) -> Result<(), ReadError> {
        if self.cols.rows == 0 {
            return Ok(());
        }
        let batch = RecordBatch::try_new(self.schema.clone(), self.cols.finish())?;
        self.writer.write(&batch)?;
        if self.writer.in_progress_size() >= ROW_GROUP_BYTES {
            self.writer.flush()?;
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
                self.push(&rec, &row, Some(sc))?;
                pids.insert(sc.tgid);
            } else if let Some(row) = event_row(&ev) {
                pids.insert(row.pid);
                self.push(&rec, &row, None)?;
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
            self.push(rec, &row, None)?;
        }
        Ok(())
    }

    /// Writes the last row group and the footer; returns the output.
    pub fn finish(mut self) -> Result<W, ReadError> {
        self.write_batch()?;
        let mut out = self.writer.into_inner()?;
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
    use arrow_array::Array as _;
    use arrow_array::cast::AsArray as _;
    use arrow_array::types::{Int64Type, UInt64Type};
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    use super::*;
    use crate::event::{Capture, Trailer};
    use crate::log::{LogReader, LogWriter};

    fn log_bytes(events: &[Event], header: &Header) -> Vec<u8> {
        let mut w = LogWriter::new(Vec::new(), header, 1).unwrap();
        for e in events {
            w.append(e).unwrap();
        }
        w.finish(&Trailer::default()).unwrap()
    }

    /// The finished Parquet file, as a file the reader can seek in.
    fn file_of(w: ParquetWriter<std::fs::File>) -> std::fs::File {
        use std::io::{Seek as _, SeekFrom};
        let mut f = w.finish().unwrap();
        f.seek(SeekFrom::Start(0)).unwrap();
        f
    }

    /// Exports `events` and reads the file back as one batch.
    fn export(events: &[Event], header: &Header) -> RecordBatch {
        let bytes = log_bytes(events, header);
        let r = LogReader::open(&bytes[..]).unwrap();
        let f = super::super::Filter::new(&FilterSpec::default(), r.header()).unwrap();
        let mut ev = Events::new(r, f).with_tasks();
        let mut w = ParquetWriter::new(tempfile::tempfile().unwrap()).unwrap();
        w.log(&mut ev, Path::new("x.rec")).unwrap().unwrap();
        let mut rd = ParquetRecordBatchReaderBuilder::try_new(file_of(w))
            .unwrap()
            .build()
            .unwrap();
        let batch = rd.next().unwrap().unwrap();
        assert!(rd.next().is_none(), "one batch");
        batch
    }

    fn strs(b: &RecordBatch, col: &str) -> Vec<Option<String>> {
        let a = b.column_by_name(col).unwrap().as_string::<i32>();
        a.iter().map(|s| s.map(str::to_owned)).collect()
    }

    fn ints(b: &RecordBatch, col: &str) -> Vec<Option<i64>> {
        let a = b.column_by_name(col).unwrap().as_primitive::<Int64Type>();
        a.iter().collect()
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
        // UTC = monotonic + the header's offset.
        assert_eq!(ints(&b, "utc_ns")[1], Some(1_000_020));
        assert_eq!(ints(&b, "mono_ns")[1], Some(20));
        let arg0 = b
            .column_by_name("arg0")
            .unwrap()
            .as_primitive::<UInt64Type>();
        assert_eq!(arg0.value(1), u64::MAX - 99, "raw unsigned registers");
        assert_eq!(strs(&b, "host")[0], Some("board-7".into()));
        assert_eq!(strs(&b, "arch")[0], Some("aarch64".into()));
        assert_eq!(strs(&b, "log")[0], Some("x.rec".into()));
        // The process row names the process and has no time.
        assert_eq!(
            (strs(&b, "comm")[3].as_deref(), ints(&b, "pid")[3]),
            (Some("app"), Some(5))
        );
        assert_eq!(ints(&b, "utc_ns")[3], None);
    }

    #[test]
    fn captured_data_keeps_its_kind_and_truncation() {
        let b = export(&events(), &header());
        let data = b.column_by_name("data").unwrap().as_list::<i32>();
        assert!(data.is_null(0), "no data list on process events");
        let items = data.value(1);
        let item = items.as_struct();
        assert_eq!(item.len(), 1);
        let bytes = item.column_by_name("bytes").unwrap().as_binary::<i32>();
        assert_eq!(bytes.value(0), b"/etc");
        let kind = item.column_by_name("kind").unwrap().as_string::<i32>();
        assert_eq!(kind.value(0), "str");
        let trunc = item.column_by_name("truncated").unwrap().as_boolean();
        assert!(trunc.value(0));
        assert_eq!(
            data.value(2).len(),
            0,
            "a call without data has an empty list"
        );
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
    }

    #[test]
    fn batches_and_row_groups_stream() {
        // More rows than a batch: the writer is fed several batches, and
        // what it reads back is every row, in order.
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
        let bytes = log_bytes(&events, &header());
        let r = LogReader::open(&bytes[..]).unwrap();
        let f = super::super::Filter::new(&FilterSpec::default(), r.header()).unwrap();
        let mut ev = Events::new(r, f).with_tasks();
        let mut w = ParquetWriter::new(tempfile::tempfile().unwrap()).unwrap();
        w.log(&mut ev, Path::new("x.rec")).unwrap().unwrap();
        let rd = ParquetRecordBatchReaderBuilder::try_new(file_of(w))
            .unwrap()
            .build()
            .unwrap();
        let mut seqs = Vec::new();
        for b in rd {
            let b = b.unwrap();
            let s = b
                .column_by_name("seq")
                .unwrap()
                .as_primitive::<UInt64Type>();
            seqs.extend(s.iter());
        }
        assert_eq!(seqs.len() as u64, n + 1, "every call and one process row");
        assert!(
            seqs[..n as usize]
                .iter()
                .enumerate()
                .all(|(i, s)| *s == Some(i as u64))
        );
    }
}
