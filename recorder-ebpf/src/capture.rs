//! Data capture: reading the memory a syscall's arguments point to.
//!
//! A record with data is assembled in a per-CPU scratch buffer (programs do
//! not nest on one CPU) and copied into the ring with `bpf_ringbuf_output`,
//! because its length is only known once the user memory has been read.
//! Every offset is masked with `OFF_LIMIT - 1` and every size with
//! `SIZE_MASK`, which is what lets the verifier prove the writes stay inside
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
    capture::{self, MAX_ARGV, MAX_DIRENTS, MAX_ENVP, MAX_IOV, MAX_MMSG, MMSGHDR_SIZE, OFF_LIMIT},
};

const OFF_MASK: usize = OFF_LIMIT - 1;
const SIZE_MASK: u32 = capture::SIZE_MASK;
/// No new item starts past this offset (an item header must fit below
/// `OFF_LIMIT`).
const LAST_START: usize = OFF_LIMIT - 32;

/// Where the builder keeps its state in the scratch buffer (past anything
/// an item can reach: OFF_LIMIT + 16 + 2 * (SIZE_MASK + 1) < this).
const STATE_OFF: usize = recorder_common::SCRATCH_SIZE - 128;
/// The iovec loop's bytes stored and total length, kept in memory for the
/// same reason as the offset.
const STORED: usize = STATE_OFF + 16;
const TOTAL: usize = STATE_OFF + 24;
/// A size passed through memory so the compiler cannot drop its mask (see
/// [`Builder::masked`]).
const OPAQUE: usize = STATE_OFF + 32;
/// The other loops' state, in memory too: a loop body that changes its
/// context on the stack gives the verifier a new state per iteration, and
/// `bpf_loop`'s body is then walked once per iteration after all (the
/// dirent count alone went past the 1M-instruction limit). Read back from
/// a map value, it is "some number", the same at every iteration.
/// `dirent_count`: the offset reached (COUNT_A) and the entries (COUNT_B);
/// `ptr_count`: the entries (COUNT_A).
const COUNT_A: usize = STORED;
const COUNT_B: usize = TOTAL;
/// Nonzero once a loop stopped early: the array ended or could not be read
/// (`str_array`, `ptr_count`, `dirent_count`), or the `capture::*` flags of
/// a failed iovec read.
const STOP: usize = STATE_OFF + 40;
/// The call's six arguments and its return value (at entry: the user
/// stack pointer), staged for the per-argument loop bodies.
const ARGS: usize = STATE_OFF + 48;
const RET: usize = STATE_OFF + 112;

/// Runs the loop body `$body` (a [`Body`]) for the indexes `0..$n` until it
/// returns 1, with `&mut $ctx` as its context.
///
/// With `bpf_loop` (kernel 5.17+) the verifier checks the body once
/// instead of once per iteration and per path into the loop: unrolled or
/// bounded, these four loops were 95% of the ~800,000 instructions the
/// verifier walked for `sys_enter` and `sys_exit`, most of the recorder's
/// start-up time. The `bounded-loops` build (the object used on older
/// kernels) runs the same bodies in a plain loop, as before.
#[cfg(not(feature = "bounded-loops"))]
macro_rules! repeat {
    ($n:expr, $ctx:ident, $body:ident) => {
        // `$body` is a static function with the callback's signature
        // (checked here), the context outlives the call. The return value
        // (iterations run, or -E2BIG for too many) is not needed: every
        // bound here is far below bpf_loop's 1 << 23.
        let body: Body = $body;
        // SAFETY: as above.
        unsafe { generated::bpf_loop($n as u32, body as *mut c_void, (&raw mut $ctx).cast(), 0) }
    };
}
#[cfg(feature = "bounded-loops")]
macro_rules! repeat {
    ($n:expr, $ctx:ident, $body:ident) => {
        let body: Body = $body;
        for i in 0..$n as u64 {
            if body(i, (&raw mut $ctx).cast()) != 0 {
                break;
            }
        }
    };
}

/// A loop body for [`repeat!`]: `(index, context)`, 0 to go on, 1 to stop
/// (`bpf_loop`'s callback contract,
/// <https://github.com/torvalds/linux/blob/v6.12/include/uapi/linux/bpf.h#L5400>).
type Body = extern "C" fn(u64, *mut c_void) -> i64;

/// A record being assembled. Copied into the loop bodies' contexts: the
/// state it points to lives in the scratch buffer, so copies agree.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Builder {
    pub buf: *mut u8,
    /// Capture size per item (1..=capture::MAX_SIZE).
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

    /// Stages the call's arguments and `ret` for the per-argument loops.
    #[inline(always)]
    fn stage(&self, args: &[u64; 6], ret: u64) {
        for (i, a) in args.iter().enumerate() {
            self.put(ARGS + 8 * i, *a);
        }
        self.put(RET, ret);
    }

    /// Staged argument `k % 6` of `k`'s low 3 bits (the index into the six
    /// arguments always was). The index goes through memory like
    /// [`Builder::masked`]'s size, so that the mask stays in the program:
    /// the verifier needs it to bound the read (ARGS has room for 8).
    #[inline(always)]
    fn arg(&self, k: u8) -> u64 {
        self.put(OPAQUE, u64::from(k & 7) % 6);
        self.get(ARGS + 8 * (self.get(OPAQUE) as usize & 7))
    }

    /// `v`, read back from memory: "some number" to the verifier, so that
    /// paths with different constants merge.
    #[inline(always)]
    fn forget(&self, v: u64) -> u64 {
        self.put(OPAQUE, v);
        self.get(OPAQUE)
    }

    /// [`Builder::str_item`], for a loop body: 0 (go on).
    #[inline(always)]
    fn str_item_then(&mut self, arg: usize, src: u64) -> i64 {
        self.str_item(arg, src);
        0
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

    /// Marks the item just added truncated, with `len` its full length
    /// (it started at `at`, the offset before it).
    #[cfg(feature = "bounded-loops")]
    #[inline(always)]
    fn mark_truncated_at(&self, at: usize, len: u64) {
        let h = at & OFF_MASK;
        // SAFETY: the item's header, inside the scratch buffer.
        unsafe {
            let item = self.buf.add(h) as *mut CaptureItem;
            (*item).flags |= capture::TRUNCATED;
            (*item).len = len;
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
        self.put(STOP, 0);
        let mut c = Argv {
            b: *self,
            arg: arg as u64,
            src,
        };
        repeat!(MAX_ARGV, c, argv_step);
        if self.get(STOP) != 0 {
            return;
        }
        // SAFETY: as in argv_step.
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
    #[inline(always)]
    pub fn ptr_count(&mut self, arg: usize, src: u64) -> u64 {
        if !self.room() {
            return MAX_ENVP as u64;
        }
        self.put(COUNT_A, 0);
        self.put(STOP, 0);
        let mut c = Count { b: *self, src };
        repeat!(MAX_ENVP, c, envp_step);
        if self.get(STOP) != 0 {
            return MAX_ENVP as u64;
        }
        let n = self.get(COUNT_A);
        self.header(arg, capture::ITEM_IN, 0, 0, n % MAX_ENVP as u64);
        n
    }

    /// How many `struct linux_dirent64` the `total` bytes at `src` hold,
    /// following each record's `d_reclen` (at offset 16) without copying
    /// the names: one ITEM_OUT marker without bytes, `len` the count,
    /// TRUNCATED when MAX_DIRENTS did not reach the end. Nothing when a
    /// record cannot be read.
    #[inline(always)]
    pub fn dirent_count(&mut self, arg: usize, src: u64, total: u64) {
        if !self.room() {
            return;
        }
        self.put(COUNT_A, 0);
        self.put(COUNT_B, 0);
        self.put(STOP, 0);
        let mut c = Dirents {
            b: *self,
            src,
            total,
        };
        repeat!(MAX_DIRENTS, c, dirent_step);
        if self.get(STOP) != 0 {
            return;
        }
        let flags = if self.get(COUNT_A) < total {
            capture::TRUNCATED
        } else {
            0
        };
        self.header(arg, capture::ITEM_OUT, flags, 0, self.get(COUNT_B));
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
        self.put(STOP, 0);
        let mut c = Iovecs {
            b: *self,
            iov,
            count,
            limit,
        };
        repeat!(MAX_IOV, c, iovec_step);
        let mut flags = self.get(STOP) as u8;
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

impl Builder {
    /// recvmmsg's `count` messages at `src`: the array, then each
    /// message's data and address (see `capture::MMSGHDR`).
    #[inline(always)]
    pub fn mmsghdr_items(&mut self, arg: usize, src: u64, count: u64) {
        self.buf_item(arg, capture::ITEM_OUT, src, count * MMSGHDR_SIZE);
        let mut c = Mmsg {
            b: *self,
            arg: arg as u64,
            src,
            count,
        };
        repeat!(MAX_MMSG, c, mmsg_step);
    }
}

/// [`Builder::mmsghdr_items`]'s loop context.
#[repr(C)]
struct Mmsg {
    b: Builder,
    arg: u64,
    src: u64,
    count: u64,
}

extern "C" fn mmsg_step(i: u64, ctx: *mut c_void) -> i64 {
    // SAFETY: `repeat!` passes the `Mmsg` it was given.
    let c = unsafe { &mut *ctx.cast::<Mmsg>() };
    if i >= c.count || !c.b.room() {
        return 1;
    }
    // struct mmsghdr: msg_hdr (msg_name 0, msg_namelen 8, msg_iov 16,
    // msg_iovlen 24, ...), then msg_len at 56.
    // SAFETY: user read into a stack value.
    let m = unsafe {
        aya_ebpf::helpers::bpf_probe_read_user((c.src + MMSGHDR_SIZE * i) as *const [u64; 8])
    };
    let arg = (c.arg & 7) as usize;
    let Ok(m) = m else {
        c.b.header(arg, capture::ITEM_OUT, capture::READ_FAILED, 0, 0);
        return 1;
    };
    mmsg_data(&mut c.b, arg, m[2], m[3], m[7] & 0xffff_ffff);
    let name_len = m[1] & 0xffff_ffff;
    if m[0] != 0 && name_len > 0 {
        c.b.buf_item(arg, capture::ITEM_OUT, m[0], min(name_len, 128));
    }
    0
}

/// One message's data: its iovecs up to `msg_len`, as recvmsg's.
#[cfg(not(feature = "bounded-loops"))]
#[inline(always)]
fn mmsg_data(b: &mut Builder, arg: usize, iov: u64, count: u64, msg_len: u64) {
    b.iovec_item(arg, capture::ITEM_OUT, iov, count, msg_len);
}

/// One message's data, in the build for kernels without `bpf_loop`: its
/// first iovec only (marked truncated when the message went on into
/// others). The iovec loop inside the message loop, unrolled, took that
/// build's verification from about 1 s to 2.5 s.
#[cfg(feature = "bounded-loops")]
#[inline(always)]
fn mmsg_data(b: &mut Builder, arg: usize, iov: u64, count: u64, msg_len: u64) {
    if count == 0 {
        b.buf_item(arg, capture::ITEM_OUT, 0, 0);
        return;
    }
    // SAFETY: user read into a stack value.
    let Ok([base, seg_len]) =
        (unsafe { aya_ebpf::helpers::bpf_probe_read_user(iov as *const [u64; 2]) })
    else {
        if b.room() {
            b.header(arg, capture::ITEM_OUT, capture::READ_FAILED, 0, 0);
        }
        return;
    };
    let at = b.off();
    let added = b.room();
    b.buf_item(arg, capture::ITEM_OUT, base, min(seg_len, msg_len));
    if added && seg_len < msg_len {
        b.mark_truncated_at(at, msg_len);
    }
}

/// [`Builder::str_array`]'s loop context (its state is in the scratch
/// buffer, see [`COUNT_A`]).
#[repr(C)]
struct Argv {
    b: Builder,
    arg: u64,
    src: u64,
}

extern "C" fn argv_step(i: u64, ctx: *mut c_void) -> i64 {
    // SAFETY: `repeat!` passes the `Argv` it was given.
    let c = unsafe { &mut *ctx.cast::<Argv>() };
    if !c.b.room() {
        c.b.put(STOP, 1);
        return 1;
    }
    // SAFETY: user read into a stack value.
    let p = unsafe { aya_ebpf::helpers::bpf_probe_read_user((c.src + 8 * i) as *const u64) };
    match p {
        Err(_) => {
            if i == 0 {
                c.b.header(
                    c.arg as usize,
                    capture::ITEM_STR,
                    capture::READ_FAILED,
                    0,
                    0,
                );
            }
            c.b.put(STOP, 1);
            1
        }
        Ok(0) => {
            c.b.put(STOP, 1);
            1
        }
        Ok(s) => {
            c.b.str_item(c.arg as usize, s);
            0
        }
    }
}

/// [`Builder::ptr_count`]'s loop context.
#[repr(C)]
struct Count {
    b: Builder,
    src: u64,
}

extern "C" fn envp_step(i: u64, ctx: *mut c_void) -> i64 {
    // SAFETY: `repeat!` passes the `Count` it was given.
    let c = unsafe { &mut *ctx.cast::<Count>() };
    // SAFETY: user read into a stack value.
    match unsafe { aya_ebpf::helpers::bpf_probe_read_user((c.src + 8 * i) as *const u64) } {
        Ok(0) => 1,
        Ok(_) => {
            c.b.put(COUNT_A, c.b.get(COUNT_A) + 1);
            0
        }
        Err(_) => {
            c.b.put(STOP, 1);
            1
        }
    }
}

/// [`Builder::dirent_count`]'s loop context.
#[repr(C)]
struct Dirents {
    b: Builder,
    src: u64,
    total: u64,
}

extern "C" fn dirent_step(_i: u64, ctx: *mut c_void) -> i64 {
    // SAFETY: `repeat!` passes the `Dirents` it was given.
    let c = unsafe { &mut *ctx.cast::<Dirents>() };
    let off = c.b.get(COUNT_A);
    if off >= c.total {
        return 1;
    }
    // SAFETY: user read into a stack value.
    let reclen =
        unsafe { aya_ebpf::helpers::bpf_probe_read_user((c.src + off + 16) as *const u16) };
    match reclen {
        Ok(r) if r > 0 => {
            c.b.put(COUNT_A, off + u64::from(r));
            c.b.put(COUNT_B, c.b.get(COUNT_B) + 1);
            0
        }
        _ => {
            c.b.put(STOP, 1);
            1
        }
    }
}

/// [`Builder::iovec_item`]'s loop context; the bytes stored and the total
/// length are in the scratch buffer (STORED, TOTAL), a failure in STOP.
#[repr(C)]
struct Iovecs {
    b: Builder,
    iov: u64,
    count: u64,
    limit: u64,
}

extern "C" fn iovec_step(i: u64, ctx: *mut c_void) -> i64 {
    // SAFETY: `repeat!` passes the `Iovecs` it was given.
    let c = unsafe { &mut *ctx.cast::<Iovecs>() };
    let b = &c.b;
    let total = b.get(TOTAL);
    if i >= c.count || total >= c.limit {
        return 1;
    }
    // SAFETY: user read into a stack value.
    let seg =
        unsafe { aya_ebpf::helpers::bpf_probe_read_user((c.iov + 16 * i) as *const [u64; 2]) };
    let Ok([base, seg_len]) = seg else {
        b.put(STOP, capture::READ_FAILED.into());
        return 1;
    };
    let seg_len = min(seg_len, c.limit - total);
    b.put(TOTAL, total + seg_len);
    let stored = (b.get(STORED) as u32) & SIZE_MASK;
    let room = (b.cap & SIZE_MASK).saturating_sub(stored);
    let chunk = b.masked(min(seg_len, room as u64) as u32);
    if chunk > 0 {
        // SAFETY: bounded destination (see data_ptr), user source.
        let r = unsafe {
            generated::bpf_probe_read_user(b.data_ptr(stored), chunk, base as *const c_void)
        };
        if r < 0 {
            b.put(STOP, capture::READ_FAILED.into());
            return 1;
        }
        b.put(STORED, (stored + chunk) as u64);
    }
    0
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
fn buf_len(a: &ArgSpec, b: &Builder) -> u64 {
    match a.len_src {
        capture::LEN_RET => {
            let ret = b.get(RET) as i64;
            if ret > 0 { ret as u64 } else { 0 }
        }
        capture::LEN_FIXED => a.fixed as u64,
        capture::LEN_ARG_DEREF => {
            let p = b.arg(a.len_arg);
            // SAFETY: user read into a stack value.
            unsafe { aya_ebpf::helpers::bpf_probe_read_user(p as *const u32) }.map_or(0, u64::from)
        }
        // The count bounded first (no item is longer than MAX_SIZE): a
        // 64-bit multiply that cannot overflow, so no 128-bit helper.
        capture::LEN_ARG_TIMES => {
            b.arg(a.len_arg).min(u64::from(capture::MAX_SIZE)) * u64::from(a.fixed & 0xffff)
        }
        capture::LEN_RET_TIMES => {
            let ret = b.get(RET) as i64;
            let n = if ret > 0 { ret as u64 } else { 0 };
            n.min(u64::from(capture::MAX_SIZE)) * u64::from(a.fixed & 0xffff)
        }
        capture::LEN_FDSET => fdset_len(b.arg(a.len_arg)),
        _ => b.arg(a.len_arg),
    }
}

/// Bytes of an `fd_set` for `nfds` descriptors as select copies them:
/// whole `unsigned long`s (the kernel's `FDS_BYTES`). `nfds` is an `int`;
/// a negative one fails the call (nothing to read).
#[inline(always)]
fn fdset_len(nfds: u64) -> u64 {
    let n = nfds as u32 as i32;
    if n <= 0 {
        return 0;
    }
    u64::from(n as u32).min(1 << 20).div_ceil(64) * 8
}

/// The per-argument loops' context: the call's arguments and return value
/// are staged in the scratch buffer (ARGS, RET), so that the loop body can
/// index them with the argument it is at.
#[repr(C)]
struct PerArg {
    b: Builder,
    spec: *const CaptureSpec,
}

/// Appends the items `spec` asks for, at syscall exit (`ret` known).
/// Argument arrays are only read at entry, so they are not handled here:
/// keeping each program to the kinds it can meet keeps verification (and
/// so the recorder's start) short.
#[inline(always)]
pub fn capture_at_exit(b: &mut Builder, spec: &CaptureSpec, args: &[u64; 6], ret: i64) {
    b.stage(args, ret as u64);
    let mut c = PerArg {
        b: *b,
        spec: spec as *const CaptureSpec,
    };
    repeat!(args_end(spec), c, exit_arg_step);
    if spec.mmsg != 0 && ret > 0 && args[1] != 0 {
        b.mmsghdr_items(1, args[1], ret as u64);
    }
}

/// One argument of [`capture_at_exit`]: a loop body of its own, so that
/// the verifier checks each kind of item once, not once per argument and
/// per combination of the kinds before it.
extern "C" fn exit_arg_step(i: u64, ctx: *mut c_void) -> i64 {
    // SAFETY: `repeat!` passes the `PerArg` it was given.
    let c = unsafe { &mut *ctx.cast::<PerArg>() };
    if i >= 6 {
        return 1;
    }
    let i = i as usize;
    // SAFETY: a CAPTURE map value, alive for the whole program run.
    let a = unsafe { &(*c.spec).args[i] };
    if a.kind == capture::NONE {
        return 0;
    }
    let b = &mut c.b;
    let ret = b.get(RET) as i64;
    let out = a.out != 0;
    // Outputs only exist when the call succeeded.
    if out && ret < 0 {
        return 0;
    }
    let p = b.arg(i as u8);
    if p == 0 {
        return 0;
    }
    let kind = if out {
        capture::ITEM_OUT
    } else {
        capture::ITEM_IN
    };
    let limit = if out { ret.max(0) as u64 } else { u64::MAX };
    // The kinds that end in one plain buffer share one `buf_item`, its
    // length passed through memory (`forget`): every constant length
    // (ioctl's table, futex's 16) would otherwise be a verifier state of
    // its own through the copy, and each inlined copy costs its
    // instructions again (kept apart, they took sys_exit from 9,400 to
    // 23,000 verified instructions).
    let (len, kind) = match a.kind {
        capture::STR => return b.str_item_then(i, p),
        capture::IOVEC => {
            let count = b.arg(a.len_arg);
            b.iovec_item(i, kind, p, count, limit);
            return 0;
        }
        capture::MSGHDR => {
            b.msghdr_item(i, kind, p, limit);
            return 0;
        }
        // select's sets and timeout as left (INOUT: read at entry too)
        // are plain buffers here; each other kind only where its call has
        // it (the bounded-loops build verifies this body once per
        // argument, and an argument it cannot be is pruned).
        capture::BUF | capture::INOUT => (buf_len(a, b), kind),
        // Only getdents64's argument 1: the count, then the records (the
        // bytes the call returned), which replay writes back.
        capture::DIRENT_COUNT if i == 1 => {
            b.dirent_count(i, p, limit);
            (limit, kind)
        }
        capture::FUTEX_TIMEOUT if futex_has_timeout(b.arg(1)) => (16, capture::ITEM_IN),
        // ioctl's output is argument 2 (recvmmsg's messages: see
        // capture_at_exit).
        capture::IOCTL_OUT if i == 2 => match recorder_common::ioctl_out_size(b.arg(1) as u32) {
            0 => return 0,
            n => (u64::from(n), kind),
        },
        _ => return 0,
    };
    let len = b.forget(len);
    b.buf_item(i, kind, p, len);
    0
}

/// Appends the items of a call captured at entry (execve/execveat: path
/// and argv; their memory is gone after a successful exec).
#[inline(always)]
pub fn capture_at_entry(b: &mut Builder, spec: &CaptureSpec, args: &[u64; 6], sp: u64) {
    b.stage(args, sp);
    let mut c = PerArg {
        b: *b,
        spec: spec as *const CaptureSpec,
    };
    repeat!(args_end(spec), c, entry_arg_step);
}

/// How many arguments the per-argument loops visit: those up to the last
/// one with a plan (`bpf_loop` calls its body once per iteration), all
/// six in the `bounded-loops` build, whose verifier would otherwise walk
/// the loop for every count the byte could hold.
#[inline(always)]
fn args_end(spec: &CaptureSpec) -> u64 {
    if cfg!(feature = "bounded-loops") {
        6
    } else {
        u64::from(spec.args_end)
    }
}

/// One argument of [`capture_at_entry`] (see [`exit_arg_step`]). The
/// staged "return value" is the user stack pointer here.
extern "C" fn entry_arg_step(i: u64, ctx: *mut c_void) -> i64 {
    // SAFETY: `repeat!` passes the `PerArg` it was given.
    let c = unsafe { &mut *ctx.cast::<PerArg>() };
    if i >= 6 {
        return 1;
    }
    let i = i as usize;
    // SAFETY: a CAPTURE map value, alive for the whole program run.
    let a = unsafe { &(*c.spec).args[i] };
    let b = &mut c.b;
    // rt_sigreturn takes no argument: its mask is on the stack.
    let sp = b.get(RET);
    if a.kind == capture::SIGRETURN_MASK && i == 0 && sp != 0 {
        b.buf_item(i, capture::ITEM_IN, sp + SIGFRAME_MASK_OFF, 8);
        return 0;
    }
    let p = b.arg(i as u8);
    if p == 0 {
        return 0;
    }
    // One `buf_item` for the buffer kinds (see exit_arg_step).
    let len = match a.kind {
        capture::STR => return b.str_item_then(i, p),
        capture::STR_ARRAY => {
            b.str_array(i, p);
            return 0;
        }
        capture::PTR_COUNT => {
            b.ptr_count(i, p);
            return 0;
        }
        capture::SOCKLEN_IN => 4,
        // select's sets and timeout (arguments 1-4) and capget's header
        // (argument 0) as asked; the exit adds them as left. Only where
        // its calls have it (the bounded-loops build prunes the rest).
        capture::INOUT if i <= 4 => {
            if a.len_src == capture::LEN_FDSET {
                fdset_len(b.arg(0))
            } else {
                u64::from(a.fixed & 0xff)
            }
        }
        _ => return 0,
    };
    b.buf_item(i, capture::ITEM_IN, p, len);
    0
}

/// Lean mode's entry capture: execve's path, argv and envp count
/// (arguments 0-2), or execveat's (1-3, `first` 1), and nothing else: the
/// generic loop above, which admits any kind for any argument, took the
/// entry program past the verifier's 1M instructions. The kinds are the
/// decode table's plan for both calls (a test of the loader holds them
/// together: `lean_entry_capture_is_the_plan`).
#[inline(always)]
pub fn capture_exec(b: &mut Builder, args: &[u64; 6], first: usize) {
    let (path, argv, envp) = if first == 1 {
        (args[1], args[2], args[3])
    } else {
        (args[0], args[1], args[2])
    };
    if path != 0 {
        b.str_item(first, path);
    }
    if argv != 0 {
        b.str_array(first + 1, argv);
    }
    if envp != 0 {
        b.ptr_count(first + 2, envp);
    }
}
