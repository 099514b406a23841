//! The two kernel BTF type ids the `tp_btf` syscall programs need, without
//! decoding the kernel's BTF.
//!
//! Loading a `tp_btf` program names the tracepoint by the BTF id of its
//! `btf_trace_<name>` typedef. aya 0.14 looks the id up in a whole parsed
//! `Btf` (`BtfTracePoint::load`), and parsing /sys/kernel/btf/vmlinux costs
//! 60 ms of a start whose target is 100 (see docs/design.md, "Start and
//! stop"). So [`typedef_ids`] walks the type section once, comparing only
//! typedefs' names, and [`naming`] builds a BTF blob in which each wanted
//! typedef sits at the kernel's id, every id before it a pointer to void,
//! for aya to parse and look up. Nothing here makes a system call.
//!
//! The format: <https://docs.kernel.org/bpf/btf.html> ("Type encoding").

use thiserror::Error;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum BtfScanError {
    #[error("not BTF (bad header)")]
    Header,
    #[error("BTF type section ends inside type {0}")]
    Truncated(u32),
    #[error("BTF type {id} has unknown kind {kind}")]
    UnknownKind { id: u32, kind: u32 },
    #[error("no typedef {0} in the kernel's BTF")]
    Missing(String),
}

const MAGIC: u16 = 0xeb9f;
const HEADER_LEN: usize = 24;
const KIND_PTR: u32 = 2;
const KIND_TYPEDEF: u32 = 8;

/// The BTF ids of the typedefs `names`, in that order.
pub fn typedef_ids(data: &[u8], names: &[&str]) -> Result<Vec<u32>, BtfScanError> {
    let u16_at = |o: usize| data.get(o..o + 2).map(|b| u16::from_le_bytes([b[0], b[1]]));
    let u32_at = |o: usize| {
        data.get(o..o + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    if u16_at(0) != Some(MAGIC) {
        return Err(BtfScanError::Header);
    }
    let field = |i: usize| {
        u32_at(8 + 4 * i)
            .map(|v| v as usize)
            .ok_or(BtfScanError::Header)
    };
    let hdr_len = u32_at(4).ok_or(BtfScanError::Header)? as usize;
    let (type_off, type_len, str_off, str_len) = (field(0)?, field(1)?, field(2)?, field(3)?);
    let types = hdr_len + type_off;
    let strings = hdr_len + str_off;
    if types + type_len > data.len() || strings + str_len > data.len() {
        return Err(BtfScanError::Header);
    }
    let name_at = |off: usize| {
        let s = data.get(strings + off..strings + str_len)?;
        s.split(|&b| b == 0).next()
    };
    let mut found: Vec<Option<u32>> = vec![None; names.len()];
    let (mut at, mut id) = (types, 1u32);
    while at < types + type_len {
        let (Some(name_off), Some(info)) = (u32_at(at), u32_at(at + 4)) else {
            return Err(BtfScanError::Truncated(id));
        };
        let (kind, vlen) = ((info >> 24) & 0x1f, (info & 0xffff) as usize);
        if kind == KIND_TYPEDEF
            && let Some(name) = name_at(name_off as usize)
            && let Some(i) = names.iter().position(|n| n.as_bytes() == name)
        {
            found[i] = Some(id);
        }
        at += 12 + trailing(kind, vlen).ok_or(BtfScanError::UnknownKind { id, kind })?;
        id += 1;
    }
    if at != types + type_len {
        return Err(BtfScanError::Truncated(id - 1));
    }
    found
        .into_iter()
        .zip(names)
        .map(|(f, n)| f.ok_or_else(|| BtfScanError::Missing((*n).to_owned())))
        .collect()
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

    /// The blob `naming` makes is BTF this scanner reads back: the round trip.
    #[test]
    fn naming_puts_each_typedef_at_its_id() {
        let blob = naming(&[("btf_trace_sys_enter", 7), ("btf_trace_sys_exit", 3)]);
        assert_eq!(
            typedef_ids(&blob, &["btf_trace_sys_exit", "btf_trace_sys_enter"]),
            Ok(vec![3, 7])
        );
        assert_eq!(
            typedef_ids(&blob, &["btf_trace_nope"]),
            Err(BtfScanError::Missing("btf_trace_nope".into()))
        );
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
        assert_eq!(typedef_ids(&blob, &["t"]), Ok(vec![2]));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert_eq!(typedef_ids(b"", &["t"]), Err(BtfScanError::Header));
        let mut blob = naming(&[("t", 2)]);
        blob.truncate(HEADER_LEN + 20);
        assert_eq!(typedef_ids(&blob, &["t"]), Err(BtfScanError::Header));
        let mut blob = naming(&[("t", 2)]);
        blob[HEADER_LEN + 7] = 31; // kind 31
        assert!(matches!(
            typedef_ids(&blob, &["t"]),
            Err(BtfScanError::UnknownKind { id: 1, kind: 31 })
        ));
    }

    /// The running kernel's own BTF, where it has one: both typedefs found
    /// (what every syscall program of a recording on this machine needs).
    #[test]
    fn this_kernels_btf_names_the_syscall_tracepoints() {
        let Ok(data) = std::fs::read("/sys/kernel/btf/vmlinux") else {
            return;
        };
        let ids = typedef_ids(&data, &["btf_trace_sys_enter", "btf_trace_sys_exit"])
            .expect("the kernel's BTF scans");
        assert!(ids.iter().all(|&id| id > 0));
    }
}
