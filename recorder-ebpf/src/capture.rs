//! Data capture: reading the memory a syscall's arguments point to.
//!
//! A record with data is assembled in a per-CPU scratch buffer (programs do
//! not nest on one CPU) and copied into the ring with `bpf_ringbuf_output`,
//! because its length is only known once the user memory has been read.
//! Every offset is masked with `OFF_LIMIT - 1` and every size with
//! `MAX_SIZE`, which is what lets the verifier prove the writes stay inside
//! the scratch buffer; items stop being added once a record nears
//! `OFF_LIMIT`. Items are padded to 8 bytes so headers stay aligned.
//!
//! The builder's offset and failure count live in the scratch buffer's
//! tail and are re-read from memory for every item. That is deliberate:
//! the verifier then sees "some bounded offset" after each item instead of
//! a different exact range per path, so the paths through the six
//! arguments' kinds merge. Kept in registers, they multiplied until the
//! program hit the 1M-instruction verification limit.

use aya_ebpf::{cty::c_void, helpers::generated};
use recorder_common::{
    ArgSpec, CaptureItem, CaptureSpec,
    capture::{self, MAX_ARGV, MAX_DIRENTS, MAX_ENVP, MAX_IOV, MAX_SIZE, OFF_LIMIT},
};

const OFF_MASK: usize = OFF_LIMIT - 1;
const SIZE_MASK: u32 = MAX_SIZE;
/// No new item starts past this offset (an item header must fit below
/// `OFF_LIMIT`).
const LAST_START: usize = OFF_LIMIT - 32;

/// Where the builder keeps its state in the scratch buffer (past anything
/// an item can reach: OFF_LIMIT + 16 + 2 * (MAX_SIZE + 1) < this).
const STATE_OFF: usize = recorder_common::SCRATCH_SIZE - 48;
/// The iovec loop's bytes stored and total length, kept in memory for the
/// same reason as the offset.
const STORED: usize = STATE_OFF + 16;
const TOTAL: usize = STATE_OFF + 24;
/// A size passed through memory so the compiler cannot drop its mask (see
/// [`Builder::masked`]).
const OPAQUE: usize = STATE_OFF + 32;

/// A record being assembled.
pub struct Builder {
    pub buf: *mut u8,
    /// Capture size per item (1..=MAX_SIZE).
    pub cap: u32,
}

#[inline(always)]
fn pad8(n: usize) -> usize {
    (n + 7) & !7
}

#[inline(always)]
fn min(a: u64, b: u64) -> u64 {
    if a < b { a } else { b }
}

impl Builder {
    /// Starts a record whose fixed part is `head` bytes.
    #[inline(always)]
    pub fn new(buf: *mut u8, cap: u32, head: usize) -> Self {
        let b = Self { buf, cap };
        b.set_off(head);
        // SAFETY: inside the scratch buffer (see STATE_OFF).
        unsafe { (buf.add(STATE_OFF + 8) as *mut u64).write_volatile(0) };
        b
    }

    /// Current end of the record (bytes).
    #[inline(always)]
    pub fn off(&self) -> usize {
        // SAFETY: inside the scratch buffer (see STATE_OFF).
        unsafe { (self.buf.add(STATE_OFF) as *const u64).read_volatile() as usize }
    }

    #[inline(always)]
    fn set_off(&self, off: usize) {
        // SAFETY: inside the scratch buffer (see STATE_OFF).
        unsafe { (self.buf.add(STATE_OFF) as *mut u64).write_volatile(off as u64) };
    }

    /// User-memory reads that failed in this record.
    #[inline(always)]
    pub fn failed_reads(&self) -> u64 {
        // SAFETY: inside the scratch buffer (see STATE_OFF).
        unsafe { (self.buf.add(STATE_OFF + 8) as *const u64).read_volatile() }
    }

    #[inline(always)]
    fn get(&self, at: usize) -> u64 {
        // SAFETY: inside the scratch buffer (see STATE_OFF).
        unsafe { (self.buf.add(at) as *const u64).read_volatile() }
    }

    #[inline(always)]
    fn put(&self, at: usize, v: u64) {
        // SAFETY: inside the scratch buffer (see STATE_OFF).
        unsafe { (self.buf.add(at) as *mut u64).write_volatile(v) };
    }

    /// `v & SIZE_MASK`, with the mask guaranteed to be in the program. When
    /// the compiler can prove a value is already small (e.g. the min of a
    /// length and the room left) it drops the mask, and older verifiers
    /// (6.1) cannot follow that proof: "R2 min value is negative".
    #[inline(always)]
    fn masked(&self, v: u32) -> u32 {
        self.put(OPAQUE, v as u64);
        (self.get(OPAQUE) as u32) & SIZE_MASK
    }

    #[inline(always)]
    fn room(&self) -> bool {
        self.off() <= LAST_START
    }

    #[inline(always)]
    fn header(&mut self, arg: usize, kind: u8, flags: u8, size: u32, len: u64) {
        let o = self.off() & OFF_MASK;
        // SAFETY: o + 16 <= OFF_LIMIT <= SCRATCH_SIZE; o is 8-aligned.
        unsafe {
            (self.buf.add(o) as *mut CaptureItem).write(CaptureItem {
                arg: arg as u8,
                kind,
                flags,
                _pad: 0,
                size,
                len,
            });
        }
        self.set_off(o + 16 + pad8((size & SIZE_MASK) as usize));
        if flags & capture::READ_FAILED != 0 {
            let n = self.failed_reads() + 1;
            // SAFETY: inside the scratch buffer (see STATE_OFF).
            unsafe { (self.buf.add(STATE_OFF + 8) as *mut u64).write_volatile(n) };
        }
    }

    /// Where the data of the item starting at `self.off` goes, plus `at`.
    #[inline(always)]
    fn data_ptr(&self, at: u32) -> *mut c_void {
        // SAFETY: in bounds: (off & OFF_MASK) + 16 + (at & SIZE_MASK) + a
        // size <= SIZE_MASK + 2 stays below SCRATCH_SIZE.
        unsafe {
            self.buf
                .add((self.off() & OFF_MASK) + 16 + (at & SIZE_MASK) as usize)
                .cast()
        }
    }

    /// A buffer of `len` bytes at `src`.
    #[inline(always)]
    pub fn buf_item(&mut self, arg: usize, kind: u8, src: u64, len: u64) {
        if !self.room() {
            return;
        }
        let n = (min(len, self.cap as u64) as u32) & SIZE_MASK;
        let mut flags = if (n as u64) < len {
            capture::TRUNCATED
        } else {
            0
        };
        let mut size = n;
        if n > 0 {
            // SAFETY: bounded destination (see data_ptr), user source.
            let r = unsafe {
                generated::bpf_probe_read_user(self.data_ptr(0), n, src as *const c_void)
            };
            if r < 0 {
                flags = capture::READ_FAILED;
                size = 0;
            }
        }
        self.header(arg, kind, flags, size, len);
    }

    /// A NUL-terminated string at `src` (stored without the NUL). Its full
    /// length is unknown past the capture size: `len` is what was stored.
    #[inline(always)]
    pub fn str_item(&mut self, arg: usize, src: u64) {
        if !self.room() {
            return;
        }
        let n = self.cap & SIZE_MASK;
        // Ask for one byte more than we keep: if it comes back, the string
        // was longer than the capture size.
        // SAFETY: bounded destination (see data_ptr), user source.
        let r = unsafe {
            generated::bpf_probe_read_user_str(self.data_ptr(0), n + 2, src as *const c_void)
        };
        if r < 0 {
            self.header(arg, capture::ITEM_STR, capture::READ_FAILED, 0, 0);
            return;
        }
        // The empty string comes back as 0, not 1, on kernels whose
        // strncpy_from_user_nofault counts the NUL only after a character
        // (`else if (ret > 0) ret++;`, 6.1:
        // https://github.com/torvalds/linux/blob/v6.1/mm/maccess.c),
        // so 0 is "" (errors are negative): fstatat(fd, "", AT_EMPTY_PATH)
        // on arm64's 6.1 kernel showed as a failed read.
        let chars = (r.max(1) as u32 - 1) & SIZE_MASK;
        let (size, flags) = if chars > n {
            (n, capture::TRUNCATED)
        } else {
            (chars, 0)
        };
        self.header(arg, capture::ITEM_STR, flags, size, size as u64);
    }

    /// execve's argv: one string item per element, then a marker if more
    /// elements were left out.
    #[inline(always)]
    pub fn str_array(&mut self, arg: usize, src: u64) {
        for i in 0..MAX_ARGV {
            if !self.room() {
                return;
            }
            // SAFETY: user read into a stack value.
            let p = unsafe {
                aya_ebpf::helpers::bpf_probe_read_user((src + 8 * i as u64) as *const u64)
            };
            match p {
                Err(_) => {
                    if i == 0 {
                        self.header(arg, capture::ITEM_STR, capture::READ_FAILED, 0, 0);
                    }
                    return;
                }
                Ok(0) => return,
                Ok(s) => self.str_item(arg, s),
            }
        }
        // SAFETY: as above.
        let more = unsafe {
            aya_ebpf::helpers::bpf_probe_read_user((src + 8 * MAX_ARGV as u64) as *const u64)
        };
        if matches!(more, Ok(p) if p != 0) && self.room() {
            self.header(arg, capture::ITEM_IN, 0, 0, 0);
        }
    }

    /// How many pointers the NULL-terminated array at `src` holds, without
    /// reading what they point to (execve's envp): one ITEM_IN marker
    /// without bytes, `len` the count (0: more than MAX_ENVP, unknown).
    /// Nothing when the array cannot be read. Returns the count, MAX_ENVP
    /// when it is not known.
    pub fn ptr_count(&mut self, arg: usize, src: u64) -> u64 {
        if !self.room() {
            return MAX_ENVP as u64;
        }
        let mut n = 0u64;
        for i in 0..MAX_ENVP {
            // SAFETY: user read into a stack value.
            let p = unsafe {
                aya_ebpf::helpers::bpf_probe_read_user((src + 8 * i as u64) as *const u64)
            };
            match p {
                Ok(0) => break,
                Ok(_) => n += 1,
                Err(_) => return MAX_ENVP as u64,
            }
        }
        self.header(arg, capture::ITEM_IN, 0, 0, n % MAX_ENVP as u64);
        n
    }

    /// How many `struct linux_dirent64` the `total` bytes at `src` hold,
    /// following each record's `d_reclen` (at offset 16) without copying
    /// the names: one ITEM_OUT marker without bytes, `len` the count,
    /// TRUNCATED when MAX_DIRENTS did not reach the end. Nothing when a
    /// record cannot be read.
    pub fn dirent_count(&mut self, arg: usize, src: u64, total: u64) {
        if !self.room() {
            return;
        }
        let (mut off, mut n) = (0u64, 0u64);
        for _ in 0..MAX_DIRENTS {
            if off >= total {
                break;
            }
            // SAFETY: user read into a stack value.
            let reclen =
                unsafe { aya_ebpf::helpers::bpf_probe_read_user((src + off + 16) as *const u16) };
            match reclen {
                Ok(r) if r > 0 => {
                    off += u64::from(r);
                    n += 1;
                }
                _ => return,
            }
        }
        let flags = if off < total { capture::TRUNCATED } else { 0 };
        self.header(arg, capture::ITEM_OUT, flags, 0, n);
    }

    /// The data of `count` iovecs at `iov`, concatenated into one item.
    /// `limit`: bytes the call transferred (its return value) for output,
    /// or `u64::MAX` for input (then the sum of the segment lengths).
    #[inline(always)]
    pub fn iovec_item(&mut self, arg: usize, kind: u8, iov: u64, count: u64, limit: u64) {
        if !self.room() {
            return;
        }
        self.put(STORED, 0);
        self.put(TOTAL, 0);
        let mut flags = 0u8;
        for i in 0..MAX_IOV {
            let total = self.get(TOTAL);
            if i as u64 >= count || total >= limit {
                break;
            }
            // SAFETY: user read into a stack value.
            let seg = unsafe {
                aya_ebpf::helpers::bpf_probe_read_user((iov + 16 * i as u64) as *const [u64; 2])
            };
            let Ok([base, seg_len]) = seg else {
                flags = capture::READ_FAILED;
                break;
            };
            let seg_len = min(seg_len, limit - total);
            self.put(TOTAL, total + seg_len);
            let stored = (self.get(STORED) as u32) & SIZE_MASK;
            let room = (self.cap & SIZE_MASK).saturating_sub(stored);
            let chunk = self.masked(min(seg_len, room as u64) as u32);
            if chunk > 0 {
                // SAFETY: bounded destination (see data_ptr), user source.
                let r = unsafe {
                    generated::bpf_probe_read_user(
                        self.data_ptr(stored),
                        chunk,
                        base as *const c_void,
                    )
                };
                if r < 0 {
                    flags = capture::READ_FAILED;
                    break;
                }
                self.put(STORED, (stored + chunk) as u64);
            }
        }
        let stored = (self.get(STORED) as u32) & SIZE_MASK;
        let total = self.get(TOTAL);
        if count > MAX_IOV as u64 && limit == u64::MAX {
            // Segments beyond MAX_IOV were not looked at: the length is a
            // lower bound, so the data is marked truncated.
            flags |= capture::TRUNCATED;
        }
        if flags & capture::READ_FAILED != 0 {
            self.header(arg, kind, capture::READ_FAILED, 0, total);
            return;
        }
        if (stored as u64) < total {
            flags |= capture::TRUNCATED;
        }
        self.header(arg, kind, flags, stored, total);
    }

    /// A `struct msghdr`: its iov data, then its address (`msg_name`).
    #[inline(always)]
    pub fn msghdr_item(&mut self, arg: usize, kind: u8, src: u64, limit: u64) {
        // struct msghdr (same on x86_64 and arm64): msg_name 0, msg_namelen
        // 8, msg_iov 16, msg_iovlen 24, msg_control 32, msg_controllen 40,
        // msg_flags 48.
        // SAFETY: user read into a stack value.
        let Ok(m) = (unsafe { aya_ebpf::helpers::bpf_probe_read_user(src as *const [u64; 4]) })
        else {
            if self.room() {
                self.header(arg, kind, capture::READ_FAILED, 0, 0);
            }
            return;
        };
        self.iovec_item(arg, kind, m[2], m[3], limit);
        let name_len = m[1] & 0xffff_ffff;
        if m[0] != 0 && name_len > 0 {
            self.buf_item(arg, kind, m[0], min(name_len, 128));
        }
    }
}

/// Whether futex's argument 3 is a timeout pointer for this `futex_op`
/// (strace's futex.c: WAIT, LOCK_PI, WAIT_BITSET, WAIT_REQUEUE_PI,
/// LOCK_PI2); for the other commands it is a number.
#[inline(always)]
fn futex_has_timeout(op: u64) -> bool {
    matches!(op & 127, 0 | 6 | 9 | 11 | 13)
}

/// Where rt_sigreturn finds the mask to restore, from the stack pointer at
/// its entry. x86_64: the frame starts 8 bytes below sp (the handler's
/// return popped `pretcode`), then `uc` (at 8) whose `uc_sigmask` follows
/// flags, link, stack_t and the 256-byte sigcontext (296): 296. arm64: the
/// frame is at sp, `uc` after the 128-byte siginfo, `uc_sigmask` at 40 in
/// it: 168. (strace reads the same place.)
#[cfg(bpf_target_arch = "x86_64")]
const SIGFRAME_MASK_OFF: u64 = 296;
#[cfg(bpf_target_arch = "aarch64")]
const SIGFRAME_MASK_OFF: u64 = 168;

/// Length of a BUF argument.
#[inline(always)]
fn buf_len(a: &ArgSpec, args: &[u64; 6], ret: i64) -> u64 {
    match a.len_src {
        capture::LEN_RET => {
            if ret > 0 {
                ret as u64
            } else {
                0
            }
        }
        capture::LEN_FIXED => a.fixed as u64,
        capture::LEN_ARG_DEREF => {
            let p = args[(a.len_arg & 7) as usize % 6];
            // SAFETY: user read into a stack value.
            unsafe { aya_ebpf::helpers::bpf_probe_read_user(p as *const u32) }.map_or(0, u64::from)
        }
        // The count bounded first (no item is longer than MAX_SIZE): a
        // 64-bit multiply that cannot overflow, so no 128-bit helper.
        capture::LEN_ARG_TIMES => {
            args[(a.len_arg & 7) as usize % 6].min(u64::from(capture::MAX_SIZE))
                * u64::from(a.fixed & 0xffff)
        }
        _ => args[(a.len_arg & 7) as usize % 6],
    }
}

/// Appends the items `spec` asks for, at syscall exit (`ret` known).
/// Argument arrays are only read at entry, so they are not handled here:
/// keeping each program to the kinds it can meet keeps verification (and
/// so the recorder's start) short.
#[inline(always)]
pub fn capture_at_exit(b: &mut Builder, spec: &CaptureSpec, args: &[u64; 6], ret: i64) {
    let failed = ret < 0;
    for i in 0..6 {
        let a = &spec.args[i];
        if a.kind == capture::NONE {
            continue;
        }
        let out = a.out != 0;
        // Outputs only exist when the call succeeded.
        if out && failed {
            continue;
        }
        let p = args[i];
        if p == 0 {
            continue;
        }
        let kind = if out {
            capture::ITEM_OUT
        } else {
            capture::ITEM_IN
        };
        let limit = if out { ret.max(0) as u64 } else { u64::MAX };
        match a.kind {
            capture::STR => b.str_item(i, p),
            capture::BUF => b.buf_item(i, kind, p, buf_len(a, args, ret)),
            capture::IOVEC => b.iovec_item(i, kind, p, args[(a.len_arg & 7) as usize % 6], limit),
            capture::MSGHDR => b.msghdr_item(i, kind, p, limit),
            // Only getdents64's argument 1: one loop for the verifier to
            // walk, not one per argument.
            capture::DIRENT_COUNT if i == 1 => b.dirent_count(i, p, limit),
            capture::FUTEX_TIMEOUT if futex_has_timeout(args[1]) => {
                b.buf_item(i, capture::ITEM_IN, p, 16)
            }
            _ => {}
        }
    }
}

/// Appends the items of a call captured at entry (execve/execveat: path
/// and argv; their memory is gone after a successful exec).
#[inline(always)]
pub fn capture_at_entry(b: &mut Builder, spec: &CaptureSpec, args: &[u64; 6], sp: u64) {
    #[allow(
        clippy::needless_range_loop,
        reason = "one constant-bounded index over two arrays, as in capture_at_exit: the shape the verifier accepts"
    )]
    for i in 0..6 {
        let a = &spec.args[i];
        // rt_sigreturn takes no argument: its mask is on the stack.
        if a.kind == capture::SIGRETURN_MASK && i == 0 && sp != 0 {
            b.buf_item(i, capture::ITEM_IN, sp + SIGFRAME_MASK_OFF, 8);
            continue;
        }
        let p = args[i];
        if p == 0 {
            continue;
        }
        match a.kind {
            capture::STR => b.str_item(i, p),
            capture::SOCKLEN_IN => b.buf_item(i, capture::ITEM_IN, p, 4),
            capture::STR_ARRAY => b.str_array(i, p),
            capture::PTR_COUNT => {
                b.ptr_count(i, p);
            }
            _ => {}
        }
    }
}
