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
/// to (scattered over the iovecs for readv and recvmsg), plus the
/// value-result lengths (`socklen_t`) the kernel would have stored.
pub fn output_writes(
    arch: Arch,
    rec: &Syscall,
    args: &[u64; 6],
    mem: &mut dyn Memory,
) -> Result<Vec<Write>, &'static str> {
    let plan = capture_plan(arch, rec.nr);
    let mut out = Vec::new();
    for (i, p) in plan.args.iter().enumerate() {
        let items: Vec<&Capture> = rec
            .data
            .iter()
            .filter(|c| c.arg as usize == i && c.kind == CaptureKind::OutBuf)
            .collect();
        let Some(first) = items.first() else {
            continue;
        };
        if args[i] == 0 {
            continue;
        }
        match *p {
            ArgPlan::OutBuf { len } | ArgPlan::Sockaddr { len, .. } => {
                out.push((args[i], first.bytes.clone()));
                if let LenFrom::ArgDeref(j) = len {
                    out.push((args[j as usize], (first.len as u32).to_ne_bytes().to_vec()));
                }
            }
            ArgPlan::Iovec { count_arg, .. } => {
                let iov = iovecs(mem, args[i], args[count_arg as usize])
                    .ok_or("its iovec array cannot be read")?;
                scatter(&mut out, &iov, &first.bytes);
            }
            ArgPlan::Msghdr { .. } => msghdr_writes(&mut out, args[i], &items, mem)?,
            _ => {}
        }
    }
    Ok(out)
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
