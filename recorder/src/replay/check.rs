//! Comparing a live call with the recorded one, and working out what to
//! write into the program to emulate a recorded call. Pure: the program's
//! memory is read through [`Memory`], which the supervisor implements with
//! `process_vm_readv` (tests with a map).

use super::policy::NAME_ONLY;
use crate::decode::table::{Ty, spec};
use crate::decode::{Arch, ArgPlan, LenFrom, capture_plan, syscall_name};
use crate::event::{Capture, CaptureKind, Syscall};

/// Reads the replayed program's memory.
pub trait Memory {
    /// `len` bytes at `addr`, or `None` if they cannot be read.
    fn read(&mut self, addr: u64, len: usize) -> Option<Vec<u8>>;
}

/// Bytes of a buffer shown for the live side of a divergence.
const SHOWN: usize = 4096;

/// Why the live call is not the recorded one, or `None` when it is: the
/// name, then every argument the signature types as a descriptor, a
/// number, flags, a path or an input buffer. Pointers are not compared
/// (addresses differ from run to run), nor are any arguments of the calls
/// in [`NAME_ONLY`].
pub fn mismatch(
    arch: Arch,
    rec: &Syscall,
    nr: i64,
    args: &[u64; 6],
    mem: &mut dyn Memory,
) -> Option<String> {
    let name = syscall_name(arch, nr).unwrap_or("?");
    let rec_name = syscall_name(arch, rec.nr).unwrap_or("?");
    if nr != rec.nr {
        return Some(format!(
            "the program called {name}, the recording has {rec_name}"
        ));
    }
    if NAME_ONLY.contains(&name) {
        return None;
    }
    let tys = spec(arch, nr).map_or(&[][..], |s| s.args);
    for (i, ty) in tys.iter().enumerate() {
        if let Some(why) = arg_mismatch(*ty, i, rec, args, mem) {
            return Some(format!("argument {} ({why})", i + 1));
        }
    }
    None
}

fn arg_mismatch(
    ty: Ty,
    i: usize,
    rec: &Syscall,
    args: &[u64; 6],
    mem: &mut dyn Memory,
) -> Option<String> {
    let (want, got) = (rec.args[i], args[i]);
    match ty {
        Ty::Fd | Ty::DirFd | Ty::Int => (want as i32 != got as i32)
            .then(|| format!("{} recorded, {} now", want as i32, got as i32)),
        Ty::Long
        | Ty::Uint
        | Ty::Mode
        | Ty::Flags(_)
        | Ty::Enum(_)
        | Ty::OpenFlags
        | Ty::FdFlags
        | Ty::MmapProt
        | Ty::MmapFlags
        | Ty::SockType
        | Ty::SockProto
        | Ty::Signal
        | Ty::CloneFlags
        | Ty::FcntlCmd
        | Ty::FutexOp
        | Ty::IoctlReq
        | Ty::SockLevel
        | Ty::SockOptName
        | Ty::StatxFlags => (want != got).then(|| format!("{want:#x} recorded, {got:#x} now")),
        Ty::Path => {
            let c = rec.data.iter().find(|c| c.arg as usize == i)?;
            let live = read_str(mem, got, SHOWN.max(c.bytes.len() + 1))?;
            let same = if c.truncated {
                live.starts_with(&c.bytes)
            } else {
                live == c.bytes
            };
            (!same).then(|| {
                format!(
                    "path {:?} recorded, {:?} now",
                    String::from_utf8_lossy(&c.bytes),
                    String::from_utf8_lossy(&live)
                )
            })
        }
        Ty::InBuf(_) | Ty::IovIn(_) | Ty::MsgIn => {
            let c = rec
                .data
                .iter()
                .find(|c| c.arg as usize == i && c.kind == CaptureKind::InBuf)?;
            let live = input_bytes(ty, got, args, c.bytes.len(), mem)?;
            (live != c.bytes).then(|| {
                format!(
                    "data differs at byte {}",
                    live.iter()
                        .zip(&c.bytes)
                        .take_while(|(a, b)| a == b)
                        .count()
                )
            })
        }
        _ => None,
    }
}

/// Up to `max` bytes of the NUL-terminated string at `addr`.
fn read_str(mem: &mut dyn Memory, addr: u64, max: usize) -> Option<Vec<u8>> {
    if addr == 0 {
        return Some(Vec::new());
    }
    let mut out = Vec::new();
    let mut at = addr;
    while out.len() < max {
        // Never across a page boundary: the next page may be unmapped.
        let chunk = (4096 - (at % 4096) as usize).min(max - out.len());
        let b = mem.read(at, chunk)?;
        if let Some(n) = b.iter().position(|&c| c == 0) {
            out.extend_from_slice(&b[..n]);
            return Some(out);
        }
        out.extend_from_slice(&b);
        at += chunk as u64;
    }
    Some(out)
}

/// The first `max` bytes the program passes in an input buffer.
fn input_bytes(
    ty: Ty,
    ptr: u64,
    args: &[u64; 6],
    max: usize,
    mem: &mut dyn Memory,
) -> Option<Vec<u8>> {
    match ty {
        Ty::InBuf(LenFrom::Arg(n)) => mem.read(ptr, (args[n as usize] as usize).min(max)),
        Ty::InBuf(_) => None,
        Ty::IovIn(count) => gather(mem, ptr, args[count as usize], max),
        _ => {
            // struct msghdr: msg_iov at 16, msg_iovlen at 24.
            let h = mem.read(ptr, 32)?;
            let iov = u64::from_ne_bytes(h[16..24].try_into().ok()?);
            let n = u64::from_ne_bytes(h[24..32].try_into().ok()?);
            gather(mem, iov, n, max)
        }
    }
}

/// The `(base, len)` pairs of an iovec array (16 bytes each on both arches).
fn iovecs(mem: &mut dyn Memory, iov: u64, count: u64) -> Option<Vec<(u64, u64)>> {
    let count = count.min(1024) as usize;
    let raw = mem.read(iov, count * 16)?;
    Some(
        raw.chunks_exact(16)
            .map(|c| {
                let base = u64::from_ne_bytes(c[..8].try_into().expect("8 bytes"));
                let len = u64::from_ne_bytes(c[8..].try_into().expect("8 bytes"));
                (base, len)
            })
            .collect(),
    )
}

fn gather(mem: &mut dyn Memory, iov: u64, count: u64, max: usize) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    for (base, len) in iovecs(mem, iov, count)? {
        if out.len() >= max {
            break;
        }
        let n = (len as usize).min(max - out.len());
        out.extend(mem.read(base, n)?);
    }
    Some(out)
}

/// One write into the program: `bytes` at `addr`.
pub type Write = (u64, Vec<u8>);

/// What to write into the program to give it the recorded call's outputs:
/// each captured output item at the place the live call's arguments point
/// to (scattered over the iovecs for readv and recvmsg, over each
/// message's for recvmmsg), plus the value-result lengths (`socklen_t`)
/// the kernel would have stored. The items are the recording
/// architecture's own structs (epoll_event, pollfd, fd_set, dirents...),
/// written as they are: replay runs a log only on its own architecture.
pub fn output_writes(
    arch: Arch,
    rec: &Syscall,
    args: &[u64; 6],
    mem: &mut dyn Memory,
) -> Result<Vec<Write>, &'static str> {
    let plan = capture_plan(arch, rec.nr);
    let ret = rec.ret.unwrap_or(0);
    let mut out = Vec::new();
    if crate::read::writes_nothing(syscall_name(arch, rec.nr).unwrap_or(""), &rec.args) {
        return Ok(out);
    }
    for (i, p) in plan.args.iter().enumerate() {
        let items: Vec<&Capture> = rec
            .data
            .iter()
            .filter(|c| c.arg as usize == i && c.kind == CaptureKind::OutBuf)
            .collect();
        if args[i] == 0 {
            continue;
        }
        if let ArgPlan::InBuf {
            len: LenFrom::ArgTimes(..),
        } = p
        {
            poll_writes(&mut out, rec, i, args[i], mem)?;
            continue;
        }
        let Some(first) = items.first() else {
            continue;
        };
        match *p {
            ArgPlan::OutBuf { len } | ArgPlan::Sockaddr { len, .. } => {
                out.push((args[i], first.bytes.clone()));
                if let LenFrom::ArgDeref(j) = len {
                    out.push((args[j as usize], (first.len as u32).to_ne_bytes().to_vec()));
                }
            }
            // What the call left there: the descriptors ready, the time
            // left; the whole item, as the kernel wrote it. A set must ask
            // for the recorded descriptors (a timeout may differ: programs
            // compute it from the time).
            ArgPlan::InOut {
                len: LenFrom::FdSet(_),
            } => {
                same_as_asked(rec, i, args[i], mem)?;
                out.push((args[i], first.bytes.clone()));
            }
            ArgPlan::InOut { .. } | ArgPlan::IoctlOut => out.push((args[i], first.bytes.clone())),
            // The records (`ret` bytes), not the count before them.
            ArgPlan::DirentCount => {
                if let Some(recs) = items
                    .iter()
                    .rev()
                    .find(|c| c.len == ret as u64 && !c.bytes.is_empty())
                {
                    out.push((args[i], recs.bytes.clone()));
                }
            }
            ArgPlan::Iovec { count_arg, .. } => {
                let iov = iovecs(mem, args[i], args[count_arg as usize])
                    .ok_or("its iovec array cannot be read")?;
                scatter(&mut out, &iov, &first.bytes);
            }
            ArgPlan::Msghdr { .. } => msghdr_writes(&mut out, args[i], &items, mem)?,
            ArgPlan::Mmsghdr => mmsghdr_writes(&mut out, args[i], ret, &items, mem)?,
            _ => {}
        }
    }
    Ok(out)
}

/// Whether the live `fd_set` at `ptr` asks for what the recorded call
/// asked (its `InBuf` item, read at entry; lean logs lack it).
fn same_as_asked(
    rec: &Syscall,
    i: usize,
    ptr: u64,
    mem: &mut dyn Memory,
) -> Result<(), &'static str> {
    let asked = rec
        .data
        .iter()
        .find(|c| c.arg as usize == i && c.kind == CaptureKind::InBuf && !c.truncated);
    match asked {
        Some(c) if mem.read(ptr, c.bytes.len()).as_ref() != Some(&c.bytes) => {
            Err("its fd_set asks for other descriptors than the recorded one")
        }
        _ => Ok(()),
    }
}

/// poll and ppoll: the `revents` of every entry (the array was read at
/// exit). The live array must ask for the same descriptors and events as
/// the recorded one, or the recorded revents would answer another question.
fn poll_writes(
    out: &mut Vec<Write>,
    rec: &Syscall,
    i: usize,
    ptr: u64,
    mem: &mut dyn Memory,
) -> Result<(), &'static str> {
    // struct pollfd { int fd; short events; short revents; } on both arches.
    const POLLFD: usize = 8;
    let Some(recorded) = rec
        .data
        .iter()
        .find(|c| c.arg as usize == i && c.kind == CaptureKind::InBuf)
    else {
        return Ok(());
    };
    let live = mem
        .read(ptr, recorded.bytes.len())
        .ok_or("its pollfd array cannot be read")?;
    for (k, (want, got)) in recorded
        .bytes
        .chunks_exact(POLLFD)
        .zip(live.chunks_exact(POLLFD))
        .enumerate()
    {
        if want[..6] != got[..6] {
            return Err(
                "its pollfd array asks for other descriptors or events than the recorded one",
            );
        }
        out.push((ptr + (k * POLLFD + 6) as u64, want[6..].to_vec()));
    }
    Ok(())
}

/// recvmmsg: per message its data over its own iovecs and its address
/// into its `msg_name`, then the `msg_len`, `msg_namelen` and
/// `msg_flags` the kernel left in the recorded array; no ancillary data
/// (`msg_controllen` 0), as for recvmsg.
fn mmsghdr_writes(
    out: &mut Vec<Write>,
    vec: u64,
    ret: i64,
    items: &[&Capture],
    mem: &mut dyn Memory,
) -> Result<(), &'static str> {
    use recorder_common::capture::MMSGHDR_SIZE;
    let size = MMSGHDR_SIZE as usize;
    let n = usize::try_from(ret).unwrap_or(0);
    let (array, mut parts) = items
        .split_first()
        .ok_or("its messages are not in the log")?;
    let live = mem
        .read(vec, n * size)
        .ok_or("its mmsghdr array cannot be read")?;
    for k in 0..n {
        let want = array
            .bytes
            .get(k * size..(k + 1) * size)
            .ok_or("its messages are not in the log")?;
        let got = &live[k * size..(k + 1) * size];
        let word = |b: &[u8], o: usize| u64::from_ne_bytes(b[o..o + 8].try_into().expect("8"));
        let at = vec + (k * size) as u64;
        let (data, rest) = parts
            .split_first()
            .ok_or("its messages are not in the log")?;
        parts = rest;
        let iov =
            iovecs(mem, word(got, 16), word(got, 24)).ok_or("its iovec array cannot be read")?;
        scatter(out, &iov, &data.bytes);
        let has_name = word(want, 0) != 0 && want[8..12] != [0; 4];
        if has_name {
            let (name, rest) = parts
                .split_first()
                .ok_or("its messages are not in the log")?;
            parts = rest;
            if word(got, 0) != 0 {
                out.push((word(got, 0), name.bytes.clone()));
            }
        }
        out.push((at + 8, want[8..12].to_vec())); // msg_namelen
        out.push((at + 40, 0u64.to_ne_bytes().to_vec())); // msg_controllen
        out.push((at + 48, want[48..52].to_vec())); // msg_flags
        out.push((at + 56, want[56..60].to_vec())); // msg_len
    }
    Ok(())
}

/// recvmsg: the data over `msg_iov`, the address into `msg_name` with its
/// length, and no ancillary data (`msg_controllen` 0: passed descriptors
/// are not replayed), `msg_flags` 0.
fn msghdr_writes(
    out: &mut Vec<Write>,
    msg: u64,
    items: &[&Capture],
    mem: &mut dyn Memory,
) -> Result<(), &'static str> {
    let h = mem.read(msg, 56).ok_or("its msghdr cannot be read")?;
    let word = |o: usize| u64::from_ne_bytes(h[o..o + 8].try_into().expect("8 bytes"));
    let iov = iovecs(mem, word(16), word(24)).ok_or("its iovec array cannot be read")?;
    scatter(out, &iov, &items[0].bytes);
    if let (Some(name), true) = (items.get(1), word(0) != 0) {
        out.push((word(0), name.bytes.clone()));
        out.push((msg + 8, (name.len as u32).to_ne_bytes().to_vec()));
    }
    out.push((msg + 40, 0u64.to_ne_bytes().to_vec()));
    out.push((msg + 48, 0u32.to_ne_bytes().to_vec()));
    Ok(())
}

fn scatter(out: &mut Vec<Write>, iov: &[(u64, u64)], mut data: &[u8]) {
    for &(base, len) in iov {
        if data.is_empty() {
            break;
        }
        let n = (len as usize).min(data.len());
        out.push((base, data[..n].to_vec()));
        data = &data[n..];
    }
}

/// The live call as a record, for printing it next to the recorded one:
/// its paths and input buffers read from the program.
pub fn live_call(arch: Arch, tid: u32, nr: i64, args: &[u64; 6], mem: &mut dyn Memory) -> Syscall {
    let mut data = Vec::new();
    let tys = spec(arch, nr).map_or(&[][..], |s| s.args);
    for (i, ty) in tys.iter().enumerate() {
        let bytes = match ty {
            Ty::Path => read_str(mem, args[i], SHOWN).map(|b| (CaptureKind::Str, b)),
            Ty::InBuf(_) | Ty::IovIn(_) | Ty::MsgIn => {
                input_bytes(*ty, args[i], args, SHOWN, mem).map(|b| (CaptureKind::InBuf, b))
            }
            _ => None,
        };
        if let Some((kind, bytes)) = bytes.filter(|_| args[i] != 0) {
            data.push(Capture {
                arg: i as u8,
                kind,
                len: bytes.len() as u64,
                truncated: false,
                read_failed: false,
                bytes,
            });
        }
    }
    Syscall {
        tgid: tid,
        tid,
        nr,
        args: *args,
        data,
        ..Syscall::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::syscall_nr;

    /// A sparse address space: bytes at addresses.
    #[derive(Default)]
    struct Map(std::collections::BTreeMap<u64, u8>);

    impl Map {
        fn put(&mut self, at: u64, bytes: &[u8]) {
            for (i, b) in bytes.iter().enumerate() {
                self.0.insert(at + i as u64, *b);
            }
        }
    }

    impl Memory for Map {
        fn read(&mut self, addr: u64, len: usize) -> Option<Vec<u8>> {
            (0..len as u64)
                .map(|i| self.0.get(&(addr + i)).copied())
                .collect()
        }
    }

    const A: Arch = Arch::X86_64;

    fn rec(name: &str, args: [u64; 6], ret: i64, data: Vec<Capture>) -> Syscall {
        Syscall {
            nr: syscall_nr(A, name).unwrap(),
            args,
            ret: Some(ret),
            data,
            ..Syscall::default()
        }
    }

    fn item(arg: u8, kind: CaptureKind, bytes: &[u8]) -> Capture {
        Capture {
            arg,
            kind,
            len: bytes.len() as u64,
            truncated: false,
            read_failed: false,
            bytes: bytes.to_vec(),
        }
    }

    fn iov(m: &mut Map, at: u64, segs: &[(u64, u64)]) {
        for (i, (base, len)) in segs.iter().enumerate() {
            m.put(at + 16 * i as u64, &base.to_ne_bytes());
            m.put(at + 16 * i as u64 + 8, &len.to_ne_bytes());
        }
    }

    #[test]
    fn read_gets_its_bytes_at_the_live_buffer() {
        let r = rec(
            "read",
            [3, 0x1000, 64, 0, 0, 0],
            5,
            vec![item(1, CaptureKind::OutBuf, b"hello")],
        );
        let w = output_writes(A, &r, &[3, 0x9000, 64, 0, 0, 0], &mut Map::default()).unwrap();
        assert_eq!(w, vec![(0x9000, b"hello".to_vec())]);
    }

    #[test]
    fn readv_scatters_over_the_live_iovecs() {
        let mut m = Map::default();
        iov(&mut m, 0x100, &[(0x1000, 3), (0x2000, 10)]);
        let r = rec(
            "readv",
            [3, 0x500, 2, 0, 0, 0],
            7,
            vec![item(1, CaptureKind::OutBuf, b"abcdefg")],
        );
        let w = output_writes(A, &r, &[3, 0x100, 2, 0, 0, 0], &mut m).unwrap();
        assert_eq!(
            w,
            vec![(0x1000, b"abc".to_vec()), (0x2000, b"defg".to_vec())]
        );
    }

    #[test]
    fn recvmsg_gets_data_address_and_no_ancillary_data() {
        let mut m = Map::default();
        // msghdr at 0x100: name 0x300, namelen 16, iov 0x200 (1 entry).
        m.put(0x100, &0x300u64.to_ne_bytes());
        m.put(0x108, &16u32.to_ne_bytes());
        m.put(0x10c, &[0; 4]);
        m.put(0x110, &0x200u64.to_ne_bytes());
        m.put(0x118, &1u64.to_ne_bytes());
        m.put(0x120, &[0; 32]);
        iov(&mut m, 0x200, &[(0x1000, 100)]);
        let data = vec![
            item(1, CaptureKind::OutBuf, b"msg"),
            item(1, CaptureKind::OutBuf, &[2, 0, 0x1f, 0x90]),
        ];
        let r = rec("recvmsg", [3, 0x900, 0, 0, 0, 0], 3, data);
        let w = output_writes(A, &r, &[3, 0x100, 0, 0, 0, 0], &mut m).unwrap();
        assert!(w.contains(&(0x1000, b"msg".to_vec())));
        assert!(w.contains(&(0x300, vec![2, 0, 0x1f, 0x90])));
        assert!(
            w.contains(&(0x108, 4u32.to_ne_bytes().to_vec())),
            "msg_namelen"
        );
        assert!(
            w.contains(&(0x128, 0u64.to_ne_bytes().to_vec())),
            "msg_controllen"
        );
    }

    #[test]
    fn accept_sets_the_address_length() {
        let r = rec(
            "getsockname",
            [3, 0x10, 0x20, 0, 0, 0],
            0,
            vec![item(1, CaptureKind::OutBuf, &[2, 0, 1, 2])],
        );
        let w = output_writes(A, &r, &[3, 0x500, 0x600, 0, 0, 0], &mut Map::default()).unwrap();
        assert_eq!(
            w,
            vec![
                (0x500, vec![2, 0, 1, 2]),
                (0x600, 4u32.to_ne_bytes().to_vec())
            ]
        );
    }

    fn out(arg: u8, bytes: &[u8]) -> Capture {
        item(arg, CaptureKind::OutBuf, bytes)
    }

    #[test]
    fn poll_gets_the_recorded_revents_of_the_same_question() {
        let mut m = Map::default();
        // Two pollfds: fd 3 POLLIN, fd 5 POLLOUT, revents 0.
        let asked = [3, 0, 0, 0, 1, 0, 0, 0, 5, 0, 0, 0, 4, 0, 0, 0];
        m.put(0x100, &asked);
        let mut left = asked;
        left[6] = 1; // fd 3: POLLIN
        let r = rec(
            "poll",
            [0x900, 2, 1000, 0, 0, 0],
            1,
            vec![item(0, CaptureKind::InBuf, &left)],
        );
        let w = output_writes(A, &r, &[0x100, 2, 1000, 0, 0, 0], &mut m).unwrap();
        assert_eq!(w, vec![(0x106, vec![1, 0]), (0x10e, vec![0, 0])]);
        // Another descriptor asked: the recorded answer does not fit.
        m.put(0x108, &[6]);
        assert!(output_writes(A, &r, &[0x100, 2, 1000, 0, 0, 0], &mut m).is_err());
    }

    #[test]
    fn select_gets_its_sets_and_time_left_as_the_kernel_left_them() {
        let asked = item(1, CaptureKind::InBuf, &[0x18, 0, 0, 0, 0, 0, 0, 0]);
        let ready = out(1, &[0x08, 0, 0, 0, 0, 0, 0, 0]);
        let tv_asked = item(4, CaptureKind::InBuf, &[1; 16]);
        let tv_left = out(4, &[2; 16]);
        let r = rec(
            "select",
            [5, 0x900, 0, 0, 0x950, 0],
            1,
            vec![asked, ready.clone(), tv_asked, tv_left.clone()],
        );
        let mut m = Map::default();
        m.put(0x100, &[0x18, 0, 0, 0, 0, 0, 0, 0]);
        let w = output_writes(A, &r, &[5, 0x100, 0, 0, 0x200, 0], &mut m).unwrap();
        assert_eq!(w, vec![(0x100, ready.bytes), (0x200, tv_left.bytes)]);
        m.put(0x100, &[0x10]);
        assert!(output_writes(A, &r, &[5, 0x100, 0, 0, 0x200, 0], &mut m).is_err());
    }

    #[test]
    fn getdents64_gets_its_records_not_the_count() {
        let records = [7u8; 48];
        let r = rec(
            "getdents64",
            [3, 0x900, 4096, 0, 0, 0],
            48,
            vec![
                Capture {
                    len: 2,
                    ..out(1, b"")
                },
                out(1, &records),
            ],
        );
        let w = output_writes(A, &r, &[3, 0x100, 4096, 0, 0, 0], &mut Map::default()).unwrap();
        assert_eq!(w, vec![(0x100, records.to_vec())]);
        // The end of the directory writes nothing.
        let end = rec(
            "getdents64",
            [3, 0x900, 4096, 0, 0, 0],
            0,
            vec![Capture {
                len: 0,
                ..out(1, b"")
            }],
        );
        let w = output_writes(A, &end, &[3, 0x100, 4096, 0, 0, 0], &mut Map::default());
        assert_eq!(w.unwrap(), vec![]);
    }

    /// Structs written as the recording's architecture laid them out
    /// (epoll_event is 12 bytes, packed, on x86_64 and 16 on aarch64).
    #[test]
    fn epoll_ioctl_and_limits_get_their_structs() {
        for (arch, ev) in [(Arch::X86_64, 12), (Arch::Aarch64, 16)] {
            let name = "epoll_pwait";
            let events = vec![9u8; 2 * ev];
            let r = Syscall {
                nr: syscall_nr(arch, name).unwrap(),
                args: [4, 0x900, 8, -1i64 as u64, 0, 8],
                ret: Some(2),
                data: vec![out(1, &events)],
                ..Syscall::default()
            };
            let w = output_writes(arch, &r, &[4, 0x100, 8, 0, 0, 8], &mut Map::default());
            assert_eq!(w.unwrap(), vec![(0x100, events)], "{arch:?}");
        }
        let winsz = [24, 0, 80, 0, 0, 0, 0, 0];
        let r = rec(
            "ioctl",
            [1, 0x5413, 0x900, 0, 0, 0],
            0,
            vec![out(2, &winsz)],
        );
        let w = output_writes(A, &r, &[1, 0x5413, 0x100, 0, 0, 0], &mut Map::default());
        assert_eq!(w.unwrap(), vec![(0x100, winsz.to_vec())]);
        let old = [3u8; 16];
        let r = rec("prlimit64", [0, 7, 0, 0x900, 0, 0], 0, vec![out(3, &old)]);
        let w = output_writes(A, &r, &[0, 7, 0, 0x100, 0, 0], &mut Map::default());
        assert_eq!(w.unwrap(), vec![(0x100, old.to_vec())]);
    }

    #[test]
    fn recvmmsg_gets_each_message_its_length_and_address() {
        let mut m = Map::default();
        // Two live mmsghdrs at 0x100: the first with a name buffer.
        let mut live = vec![0u8; 128];
        live[..8].copy_from_slice(&0x300u64.to_ne_bytes());
        live[8..12].copy_from_slice(&16u32.to_ne_bytes());
        live[16..24].copy_from_slice(&0x200u64.to_ne_bytes());
        live[24..32].copy_from_slice(&1u64.to_ne_bytes());
        live[64 + 16..64 + 24].copy_from_slice(&0x210u64.to_ne_bytes());
        live[64 + 24..64 + 32].copy_from_slice(&1u64.to_ne_bytes());
        m.put(0x100, &live);
        iov(&mut m, 0x200, &[(0x1000, 100)]);
        iov(&mut m, 0x210, &[(0x2000, 100)]);
        // The recorded array: message 1 from a 4-byte address, 3 bytes;
        // message 2 without an address, 2 bytes.
        let mut array = vec![0u8; 128];
        array[..8].copy_from_slice(&0x7000u64.to_ne_bytes());
        array[8..12].copy_from_slice(&4u32.to_ne_bytes());
        array[56..60].copy_from_slice(&3u32.to_ne_bytes());
        array[64 + 56..64 + 60].copy_from_slice(&2u32.to_ne_bytes());
        let data = vec![
            out(1, &array),
            out(1, b"one"),
            out(1, &[2, 0, 0, 53]),
            out(1, b"tw"),
        ];
        let r = rec("recvmmsg", [3, 0x900, 2, 0, 0, 0], 2, data);
        let w = output_writes(A, &r, &[3, 0x100, 2, 0, 0, 0], &mut m).unwrap();
        for want in [
            (0x1000, b"one".to_vec()),
            (0x300, vec![2, 0, 0, 53]),
            (0x108, 4u32.to_ne_bytes().to_vec()),
            (0x100 + 56, 3u32.to_ne_bytes().to_vec()),
            (0x2000, b"tw".to_vec()),
            (0x100 + 64 + 56, 2u32.to_ne_bytes().to_vec()),
            (0x100 + 40, 0u64.to_ne_bytes().to_vec()),
        ] {
            assert!(w.contains(&want), "{want:?} not in {w:?}");
        }
    }

    #[test]
    fn a_different_path_fd_or_written_byte_is_a_mismatch() {
        let mut m = Map::default();
        // A mapped page (strings are read up to the page's end).
        m.put(0, &[0; 4096]);
        m.put(0x100, b"/etc/app.conf\0");
        m.put(0x200, b"/etc/other\0");
        let open = rec(
            "openat",
            [-100i64 as u64, 0x1, 0, 0, 0, 0],
            3,
            vec![item(1, CaptureKind::Str, b"/etc/app.conf")],
        );
        let nr = open.nr;
        assert_eq!(
            mismatch(A, &open, nr, &[-100i64 as u64, 0x100, 0, 0, 0, 0], &mut m),
            None
        );
        let why = mismatch(A, &open, nr, &[-100i64 as u64, 0x200, 0, 0, 0, 0], &mut m).unwrap();
        assert!(why.contains("\"/etc/other\""), "{why}");

        m.put(0x300, b"hellO");
        let write = rec(
            "write",
            [1, 0x1, 5, 0, 0, 0],
            5,
            vec![item(1, CaptureKind::InBuf, b"hello")],
        );
        let why = mismatch(A, &write, write.nr, &[1, 0x300, 5, 0, 0, 0], &mut m).unwrap();
        assert!(why.contains("data differs at byte 4"), "{why}");
        let why = mismatch(A, &write, write.nr, &[2, 0x300, 5, 0, 0, 0], &mut m).unwrap();
        assert!(why.contains("1 recorded, 2 now"), "{why}");
        // Addresses and layout-bound lengths are not compared.
        let mm = rec("munmap", [0x7f00, 4096, 0, 0, 0, 0], 0, vec![]);
        assert_eq!(
            mismatch(A, &mm, mm.nr, &[0x5500, 8192, 0, 0, 0, 0], &mut m),
            None
        );
        let other = syscall_nr(A, "getpid").unwrap();
        assert!(
            mismatch(A, &mm, other, &[0; 6], &mut m)
                .unwrap()
                .contains("called getpid")
        );
    }
}
