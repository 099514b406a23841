//! The two kernel BTF type ids the `tp_btf` syscall programs need, without
//! decoding the kernel's BTF.
//!
//! Loading a `tp_btf` program names the tracepoint by the BTF id of its
//! `btf_trace_<name>` typedef. aya 0.14 looks the id up in a whole parsed
//! `Btf` (`BtfTracePoint::load`), and parsing /sys/kernel/btf/vmlinux costs
//! 60 ms of a start whose target is 100 (see docs/design.md, "Start and
//! stop"). So [`typedef_ids`] finds where the wanted names start in the
//! string section, then walks the type section once for the typedefs that
//! name them, and [`naming`] builds a BTF blob in which each wanted typedef
//! sits at the kernel's id, every id before it a pointer to void, for aya
//! to parse and look up. Nothing here opens a file: the scan reads what it
//! is handed (the kernel's file, or bytes in the tests).
//!
//! The format: <https://docs.kernel.org/bpf/btf.html> ("Type encoding").

use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};

use thiserror::Error;

#[derive(Debug, Error)]
pub enum BtfScanError {
    #[error("not BTF (bad header)")]
    Header,
    #[error("BTF type section ends inside type {0}")]
    Truncated(u32),
    #[error("BTF type {id} has unknown kind {kind}")]
    UnknownKind { id: u32, kind: u32 },
    #[error("no typedef {0} in the kernel's BTF")]
    Missing(String),
    #[error("cannot read the BTF")]
    Read(#[source] io::Error),
}

const MAGIC: u16 = 0xeb9f;
const HEADER_LEN: usize = 24;
const KIND_PTR: u32 = 2;
const KIND_TYPEDEF: u32 = 8;

/// The BTF ids of the typedefs `names`, in that order, from BTF read in
/// pieces through a 64 KiB buffer: the string section first, for where
/// each name starts, then the type section, for the typedefs that name
/// them. The kernel's BTF is 5-6 MB, which need not be in memory at once
/// for two numbers (it was ~0.2 MiB of peak RSS here, design.md "Start
/// and stop"; more where memory is short). A name is found where a string
/// starts: the kernel's BTF is deduplicated by whole strings (libbpf's
/// `strset`), so a typedef's `name_off` is the start of its string.
pub fn typedef_ids(data: impl Read + Seek, names: &[&str]) -> Result<Vec<u32>, BtfScanError> {
    let mut r = BufReader::with_capacity(64 << 10, data);
    let mut head = [0u8; HEADER_LEN];
    r.read_exact(&mut head)
        .map_err(eof_is(BtfScanError::Header))?;
    let u32_at = |o: usize| u32::from_le_bytes([head[o], head[o + 1], head[o + 2], head[o + 3]]);
    if u16::from_le_bytes([head[0], head[1]]) != MAGIC {
        return Err(BtfScanError::Header);
    }
    let hdr_len = u64::from(u32_at(4));
    let [type_off, type_len, str_off, str_len] = [8, 12, 16, 20].map(|o| u64::from(u32_at(o)));
    let end = r.seek(SeekFrom::End(0)).map_err(BtfScanError::Read)?;
    if hdr_len < HEADER_LEN as u64
        || hdr_len + type_off + type_len > end
        || hdr_len + str_off + str_len > end
    {
        return Err(BtfScanError::Header);
    }
    r.seek(SeekFrom::Start(hdr_len + str_off))
        .map_err(BtfScanError::Read)?;
    let starts = string_starts(&mut r, str_len, names)?;
    r.seek(SeekFrom::Start(hdr_len + type_off))
        .map_err(BtfScanError::Read)?;
    let found = typedefs_named(&mut r, type_len, &starts, names.len())?;
    found
        .into_iter()
        .zip(names)
        .map(|(f, n)| f.ok_or_else(|| BtfScanError::Missing((*n).to_owned())))
        .collect()
}

/// `(offset, index into names)` of every string in the `len`-byte string
/// section at `r` that is one of `names`.
fn string_starts(
    r: &mut impl BufRead,
    len: u64,
    names: &[&str],
) -> Result<Vec<(u32, usize)>, BtfScanError> {
    let mut section = r.take(len);
    let (mut at, mut s, mut starts) = (0u64, Vec::new(), Vec::new());
    loop {
        s.clear();
        let n = section.read_until(0, &mut s).map_err(BtfScanError::Read)?;
        if n == 0 {
            return Ok(starts);
        }
        let text = s.strip_suffix(&[0]).unwrap_or(&s);
        if let Some(i) = names.iter().position(|n| n.as_bytes() == text) {
            starts.push((at as u32, i));
        }
        at += n as u64;
    }
}

/// For each of the `names` names, the id of the typedef whose name starts
/// at one of its `starts`, from the `len`-byte type section at `r`.
fn typedefs_named(
    r: &mut BufReader<impl Read + Seek>,
    len: u64,
    starts: &[(u32, usize)],
    names: usize,
) -> Result<Vec<Option<u32>>, BtfScanError> {
    let mut found = vec![None; names];
    let (mut at, mut id) = (0u64, 1u32);
    let mut t = [0u8; 12];
    while at < len {
        if len - at < 12 {
            return Err(BtfScanError::Truncated(id));
        }
        r.read_exact(&mut t)
            .map_err(eof_is(BtfScanError::Truncated(id)))?;
        let name_off = u32::from_le_bytes([t[0], t[1], t[2], t[3]]);
        let info = u32::from_le_bytes([t[4], t[5], t[6], t[7]]);
        let (kind, vlen) = ((info >> 24) & 0x1f, (info & 0xffff) as usize);
        if kind == KIND_TYPEDEF
            && let Some(&(_, i)) = starts.iter().find(|&&(off, _)| off == name_off)
        {
            found[i] = Some(id);
        }
        let skip = trailing(kind, vlen).ok_or(BtfScanError::UnknownKind { id, kind })? as u64;
        if len - at - 12 < skip {
            return Err(BtfScanError::Truncated(id));
        }
        r.seek_relative(skip as i64).map_err(BtfScanError::Read)?;
        at += 12 + skip;
        id += 1;
    }
    Ok(found)
}

/// An io error mapper: end of file is `err`, any other error a read error.
fn eof_is(err: BtfScanError) -> impl FnOnce(io::Error) -> BtfScanError {
    move |e| match e.kind() {
        io::ErrorKind::UnexpectedEof => err,
        _ => BtfScanError::Read(e),
    }
}

/// Bytes that follow a type's 12-byte `struct btf_type`, by kind
/// (include/uapi/linux/btf.h).
fn trailing(kind: u32, vlen: usize) -> Option<usize> {
    Some(match kind {
        // int, var, decl_tag: one u32
        1 | 14 | 17 => 4,
        // ptr, fwd, typedef, volatile, const, restrict, func, float, type_tag
        2 | 7 | 8 | 9 | 10 | 11 | 12 | 16 | 18 => 0,
        // array
        3 => 12,
        // struct, union (members), datasec (var_secinfo), enum64 (values)
        4 | 5 | 15 | 19 => 12 * vlen,
        // enum (values), func_proto (params)
        6 | 13 => 8 * vlen,
        _ => return None,
    })
}

/// A BTF blob (native byte order) in which each `(name, id)` is a typedef of
/// that name at that id, and every other id up to the largest a pointer to
/// void: enough for aya to find the ids by name.
pub fn naming(ids: &[(&str, u32)]) -> Vec<u8> {
    let last = ids.iter().map(|&(_, id)| id).max().unwrap_or(0);
    let mut strings = vec![0u8];
    let mut name_of = vec![None; last as usize + 1];
    for &(name, id) in ids {
        name_of[id as usize] = Some(strings.len() as u32);
        strings.extend(name.as_bytes());
        strings.push(0);
    }
    let type_len = 12 * last as usize;
    let mut out = Vec::with_capacity(HEADER_LEN + type_len + strings.len());
    out.extend(MAGIC.to_ne_bytes());
    out.extend([1, 0]); // version, flags
    for v in [HEADER_LEN, 0, type_len, type_len, strings.len()] {
        out.extend((v as u32).to_ne_bytes());
    }
    for name in &name_of[1..] {
        let (name_off, kind) = match name {
            Some(off) => (*off, KIND_TYPEDEF),
            None => (0, KIND_PTR),
        };
        // name_off, info (kind), type: void
        for v in [name_off, kind << 24, 0] {
            out.extend(v.to_ne_bytes());
        }
    }
    out.extend(strings);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(blob: &[u8], names: &[&str]) -> Result<Vec<u32>, BtfScanError> {
        typedef_ids(io::Cursor::new(blob), names)
    }

    /// The blob `naming` makes is BTF this scanner reads back: the round trip.
    #[test]
    fn naming_puts_each_typedef_at_its_id() {
        let blob = naming(&[("btf_trace_sys_enter", 7), ("btf_trace_sys_exit", 3)]);
        assert_eq!(
            ids(&blob, &["btf_trace_sys_exit", "btf_trace_sys_enter"]).ok(),
            Some(vec![3, 7])
        );
        assert!(matches!(
            ids(&blob, &["btf_trace_sys_exit", "btf_trace_nope"]),
            Err(BtfScanError::Missing(n)) if n == "btf_trace_nope"
        ));
    }

    /// What aya makes of the blob: the ids it hands the kernel.
    #[test]
    fn aya_finds_the_ids_in_the_blob() {
        let blob = naming(&[("btf_trace_sys_exit", 41_000)]);
        let btf = aya::Btf::parse(&blob, aya::Endianness::default()).expect("parses");
        let id = btf.id_by_type_name_kind("btf_trace_sys_exit", aya_obj::btf::BtfKind::Typedef);
        assert_eq!(id.ok(), Some(41_000));
    }

    /// A struct's members are skipped whole: the typedef after it is id 2.
    #[test]
    fn kinds_with_members_are_skipped_whole() {
        let strings = b"\0t\0";
        let mut types = Vec::new();
        // id 1: struct, 2 members (12 bytes each), then id 2: typedef "t".
        for v in [
            0u32,
            (4 << 24) | 2,
            8,
            0,
            0,
            0,
            0,
            0,
            0,
            1,
            KIND_TYPEDEF << 24,
            0,
        ] {
            types.extend(v.to_le_bytes());
        }
        let mut blob = Vec::new();
        blob.extend(MAGIC.to_le_bytes());
        blob.extend([1, 0]);
        for v in [HEADER_LEN, 0, types.len(), types.len(), strings.len()] {
            blob.extend((v as u32).to_le_bytes());
        }
        blob.extend(types);
        blob.extend(strings);
        assert_eq!(ids(&blob, &["t"]).ok(), Some(vec![2]));
        // The struct's members cut short: an error, not a read past the
        // section into the strings.
        let mut cut = blob.clone();
        cut[12..16].copy_from_slice(&20u32.to_le_bytes()); // type_len
        cut[16..20].copy_from_slice(&20u32.to_le_bytes()); // str_off
        assert!(matches!(ids(&cut, &["t"]), Err(BtfScanError::Truncated(1))));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(matches!(ids(b"", &["t"]), Err(BtfScanError::Header)));
        let mut blob = naming(&[("t", 2)]);
        blob.truncate(HEADER_LEN + 20);
        assert!(matches!(ids(&blob, &["t"]), Err(BtfScanError::Header)));
        let mut blob = naming(&[("t", 2)]);
        blob[HEADER_LEN + 7] = 31; // kind 31
        assert!(matches!(
            ids(&blob, &["t"]),
            Err(BtfScanError::UnknownKind { id: 1, kind: 31 })
        ));
    }

    /// The running kernel's own BTF, where it has one: both typedefs found
    /// (what every syscall program of a recording on this machine needs).
    #[test]
    fn this_kernels_btf_names_the_syscall_tracepoints() {
        let Ok(file) = std::fs::File::open("/sys/kernel/btf/vmlinux") else {
            return;
        };
        let names = ["btf_trace_sys_enter", "btf_trace_sys_exit"];
        let got = typedef_ids(file, &names).expect("the kernel's BTF scans");
        // What aya finds in the whole BTF, parsed: the same ids.
        let btf = aya::Btf::from_sys_fs().expect("aya parses the kernel's BTF");
        let want: Vec<u32> = names
            .iter()
            .map(|n| {
                btf.id_by_type_name_kind(n, aya_obj::btf::BtfKind::Typedef)
                    .expect("aya finds it")
            })
            .collect();
        assert_eq!(got, want);
    }
}
