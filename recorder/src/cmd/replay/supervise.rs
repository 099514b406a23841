//! The notification loop: each system call of the replayed program is
//! matched against the next recorded call of its thread, then run live,
//! emulated from the log, or (at the first divergence) reported.
//!
//! Threads and processes are mapped to recorded ones by creation: a new
//! thread is the child of the oldest clone (or fork) answered whose child
//! has not shown up yet, and gets that clone's recorded result as its
//! recorded tid. Calls are answered in their recorded order across threads
//! ([`Order`]): a notification whose call is not next is held until the
//! calls before it have come. When nothing comes for [`STALL_POLLS`] polls
//! while calls are held (a thread waits in user space for one that is
//! held), the earliest held call goes anyway and the summary counts it.

use std::collections::{HashMap, VecDeque};
use std::io::Write as _;
use std::os::fd::{AsRawFd as _, OwnedFd};

use anyhow::Context as _;
use recorder::decode::{Arch, Formatter, syscall_name};
use recorder::event::Syscall;
use recorder::replay::check::{self, Memory as _};
use recorder::replay::order::Order;
use recorder::replay::plan::{self, Outcome, Recording, is_host};
use recorder::replay::policy::{Class, class_of, class_of_call, is_layout_slack};

use super::mem::Tracee;
use super::spawn::Spawned;

/// Matched calls shown before a divergence.
const CONTEXT: usize = 5;

/// Polls of 100 ms without a new notification, while some are held, after
/// which the earliest held one is answered out of the recorded order.
const STALL_POLLS: u32 = 10;

/// A clone or fork answered whose child has not made a call yet.
struct Child {
    /// The child's recorded tid (the call's recorded result).
    rec: u32,
    /// The live thread that made the call.
    parent: u32,
    /// Where the kernel stores the child's tid (CLONE_PARENT_SETTID,
    /// CLONE_CHILD_SETTID), which identifies the child when it shows up.
    tid_at: Vec<u64>,
}

/// clone's flags that store the child's tid.
const CLONE_PARENT_SETTID: u64 = 0x0010_0000;
const CLONE_CHILD_SETTID: u64 = 0x0100_0000;

/// Signals whose default action dumps core (the kernel delivers them as
/// themselves; other fatal signals show as SIGKILL in the log).
const CORE_DUMPING: [u32; 10] = [3, 4, 5, 6, 7, 8, 11, 24, 25, 31];

/// How a call is answered.
enum Reply {
    Continue,
    Val(i64),
    /// A negative errno.
    Error(i64),
    /// Divergence without `--continue`: the program is killed.
    Kill,
}

#[derive(Default)]
struct Counts {
    matched: u64,
    emulated: u64,
    live: u64,
    outputs: u64,
    /// Calls answered out of the recorded order after a stall.
    out_of_order: u64,
    /// Calls passed over or run extra by [`is_layout_slack`].
    layout: u64,
}

pub struct Supervisor {
    rec: Recording,
    arch: Arch,
    host_paths: Vec<Vec<u8>>,
    go_live: bool,
    show_output: bool,
    /// Live tid → recorded tid, and back.
    to_rec: HashMap<u32, u32>,
    to_live: HashMap<u32, u32>,
    /// The children of answered clones and forks that have not made a
    /// call yet, oldest first.
    children: VecDeque<Child>,
    order: Order,
    /// Notifications held until their call is next in the recorded order.
    held: Vec<libc::seccomp_notif>,
    pgid: i32,
    recent: HashMap<u32, VecDeque<Syscall>>,
    /// Went live after a divergence (`--continue`).
    live: bool,
    diverged: bool,
    placeholder: OwnedFd,
    fmt: Formatter,
    counts: Counts,
    warned: std::collections::HashSet<Vec<u8>>,
}

impl Supervisor {
    pub fn new(
        rec: Recording,
        host_paths: Vec<Vec<u8>>,
        go_live: bool,
        show_output: bool,
    ) -> anyhow::Result<Self> {
        let placeholder = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/null")
            .context("/dev/null")?
            .into();
        let fmt = Formatter::new(&rec.header)?;
        let order = Order::new(&rec);
        Ok(Self {
            arch: rec.arch,
            rec,
            host_paths,
            go_live,
            show_output,
            to_rec: HashMap::new(),
            to_live: HashMap::new(),
            children: VecDeque::new(),
            order,
            held: Vec::new(),
            pgid: 0,
            recent: HashMap::new(),
            live: false,
            diverged: false,
            placeholder,
            fmt,
            counts: Counts::default(),
            warned: Default::default(),
        })
    }

    /// Answers notifications until the program is gone; prints the summary
    /// and returns the exit status of `recorder replay`.
    pub fn run(&mut self, child: &Spawned) -> anyhow::Result<i32> {
        let fd = child.listener.as_raw_fd();
        self.pgid = child.pid;
        let mut status = None;
        let mut idle = 0;
        let mut stalled = 0;
        loop {
            let mut p = libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd.
            let n = unsafe { libc::poll(&mut p, 1, 100) };
            if n > 0 && p.revents & libc::POLLIN != 0 {
                idle = 0;
                stalled = 0;
                self.one(fd);
            } else if n == 0 && !self.held.is_empty() {
                stalled += 1;
                if stalled >= STALL_POLLS && !self.next_thread_running() {
                    stalled = 0;
                    self.release_earliest(fd);
                }
            } else if n > 0 && p.revents & (libc::POLLHUP | libc::POLLERR) != 0 {
                break;
            } else if status.is_some() {
                // The program is gone; a process it left behind keeps the
                // filter alive: stop waiting for it after 2 s of quiet.
                idle += 1;
                if idle > 20 {
                    break;
                }
            }
            if status.is_none() {
                status = reap(child.pid, libc::WNOHANG);
            }
        }
        let status = match status {
            Some(s) => s,
            None => reap(child.pid, 0).context("waitpid")?,
        };
        Ok(self.summary(status))
    }

    /// Receives one notification, then answers every held one whose call
    /// is next in the recorded order.
    fn one(&mut self, fd: i32) {
        // SAFETY: an all-zero seccomp_notif is valid (and RECV requires it).
        let mut n: libc::seccomp_notif = unsafe { std::mem::zeroed() };
        // SAFETY: RECV fills `n`.
        if unsafe { libc::ioctl(fd, libc::SECCOMP_IOCTL_NOTIF_RECV, &mut n) } != 0 {
            // ENOENT: the caller died before we received it.
            return;
        }
        self.map_thread(n.pid);
        self.held.push(n);
        self.answer_ready(fd);
    }

    /// Answers the held notifications that may go, in the recorded order.
    fn answer_ready(&mut self, fd: i32) {
        while let Some(i) = (0..self.held.len()).find(|&i| {
            let n = self.held[i];
            self.may_go(&n)
        }) {
            let n = self.held.remove(i);
            self.reply(fd, &n);
        }
    }

    /// Whether the thread the recorded order waits for is still on its way
    /// to its call: running (or runnable), or not started yet while its
    /// creator has been answered. A thread asleep (in a futex, say) is not.
    fn next_thread_running(&self) -> bool {
        let Some((rtid, _)) = self.order.first() else {
            return false;
        };
        let Some(live) = self.to_live.get(&rtid) else {
            return self.children.iter().any(|c| c.rec == rtid);
        };
        let stat = std::fs::read_to_string(format!("/proc/{live}/stat")).unwrap_or_default();
        // The state follows the command name's closing parenthesis.
        let state = stat.rsplit_once(") ").and_then(|(_, r)| r.chars().next());
        state == Some('R')
    }

    /// After a stall: the held call earliest in the recording goes.
    fn release_earliest(&mut self, fd: i32) {
        let rank = |s: &mut Self, tid: u32| s.peek_rank(tid);
        let Some((i, r)) = (0..self.held.len())
            .map(|i| (i, rank(self, self.held[i].pid)))
            .min_by_key(|&(_, r)| r)
        else {
            return;
        };
        self.order.skip_to(r);
        self.counts.out_of_order += 1;
        let n = self.held.remove(i);
        self.reply(fd, &n);
        self.answer_ready(fd);
    }

    /// Whether the held call is next in the recorded order, or an extra
    /// allocator call ([`is_layout_slack`]) that has no place in it: held
    /// back, it could keep the allocator's lock from the thread the order
    /// waits for.
    fn may_go(&mut self, n: &libc::seccomp_notif) -> bool {
        if self.live {
            return true;
        }
        let Some(&rtid) = self.to_rec.get(&n.pid) else {
            return true; // diverges at once
        };
        let Some((t, seq)) = self.peek(rtid) else {
            return true;
        };
        let nr = i64::from(n.data.nr);
        let extra = self.rec.calls[&rtid].front().is_some_and(|s| s.nr != nr)
            && is_layout_slack(syscall_name(self.arch, nr).unwrap_or("?"), &n.data.args);
        extra || self.order.is_next(t, seq)
    }

    fn peek_rank(&mut self, tid: u32) -> usize {
        let Some(&rtid) = self.to_rec.get(&tid) else {
            return 0;
        };
        self.peek(rtid)
            .map_or(0, |(t, seq)| self.order.rank(t, seq))
    }

    /// The next recorded call of `rtid` the supervisor sees: (tid, seq).
    fn peek(&mut self, rtid: u32) -> Option<(u32, u64)> {
        let q = self.rec.calls.get_mut(&rtid)?;
        while let Some(s) = q.front() {
            if class_of(syscall_name(self.arch, s.nr).unwrap_or("?")) != Class::Unwatched {
                return Some((s.tid, s.seq));
            }
            q.pop_front();
        }
        None
    }

    /// Answers one notification.
    fn reply(&mut self, fd: i32, n: &libc::seccomp_notif) {
        let reply = self.handle(fd, n);
        // SAFETY: an all-zero response is valid.
        let mut r: libc::seccomp_notif_resp = unsafe { std::mem::zeroed() };
        r.id = n.id;
        match reply {
            Reply::Continue => r.flags = libc::SECCOMP_USER_NOTIF_FLAG_CONTINUE as u32,
            Reply::Val(v) => r.val = v,
            Reply::Error(e) => r.error = e as i32,
            Reply::Kill => {
                // SAFETY: kill of the program's process group.
                unsafe { libc::kill(-self.pgid, libc::SIGKILL) };
                self.held.clear();
                return;
            }
        }
        // SAFETY: SEND reads `r`. ENOENT: the caller died meanwhile.
        unsafe { libc::ioctl(fd, libc::SECCOMP_IOCTL_NOTIF_SEND, &mut r) };
    }

    fn handle(&mut self, fd: i32, n: &libc::seccomp_notif) -> Reply {
        if self.live {
            return Reply::Continue;
        }
        let nr = i64::from(n.data.nr);
        let args = n.data.args;
        let mut mem = Tracee { tid: n.pid as i32 };
        let Some(rtid) = self.to_rec.get(&n.pid).copied() else {
            let got = check::live_call(self.arch, n.pid, nr, &args, &mut mem);
            return self.diverge(
                n.pid,
                None,
                &got,
                "a thread or process the recording does not have",
            );
        };
        if let Some(reply) = self.layout_slack(rtid, nr, &args) {
            return reply;
        }
        let Some(rec) = self.next_call(rtid) else {
            let got = check::live_call(self.arch, n.pid, nr, &args, &mut mem);
            return self.diverge(
                rtid,
                None,
                &got,
                "the recording of this thread ends before this call",
            );
        };
        if let Some(why) = check::mismatch(self.arch, &rec, nr, &args, &mut mem) {
            let got = check::live_call(self.arch, n.pid, nr, &args, &mut mem);
            return self.diverge(rtid, Some(&rec), &got, &why);
        }
        // The memory read so far belongs to this call only if it is still
        // waiting (the tid may have been reused).
        // SAFETY: ID_VALID reads the id.
        if unsafe { libc::ioctl(fd, libc::SECCOMP_IOCTL_NOTIF_ID_VALID, &n.id) } != 0 {
            return Reply::Continue;
        }
        self.counts.matched += 1;
        let recent = self.recent.entry(rtid).or_default();
        recent.push_back(rec.clone());
        if recent.len() > CONTEXT {
            recent.pop_front();
        }
        self.answer(fd, n, &rec, &mut mem)
    }

    /// Calls that follow the allocator or the memory layout
    /// ([`is_layout_slack`]) may be missing or extra: a recorded one the
    /// program does not make is passed over, an extra one the program
    /// makes runs live.
    fn layout_slack(&mut self, rtid: u32, nr: i64, args: &[u64; 6]) -> Option<Reply> {
        let name = syscall_name(self.arch, nr).unwrap_or("?");
        loop {
            self.peek(rtid)?;
            let rec = self.rec.calls[&rtid].front()?;
            if rec.nr == nr {
                return None;
            }
            if is_layout_slack(name, args) {
                self.counts.live += 1;
                self.counts.layout += 1;
                return Some(Reply::Continue);
            }
            if !is_layout_slack(syscall_name(self.arch, rec.nr).unwrap_or("?"), &rec.args) {
                return None;
            }
            self.next_call(rtid);
            self.counts.layout += 1;
        }
    }

    /// The answer to a call that matched `rec`.
    fn answer(
        &mut self,
        fd: i32,
        n: &libc::seccomp_notif,
        rec: &Syscall,
        mem: &mut Tracee,
    ) -> Reply {
        let name = syscall_name(self.arch, rec.nr).unwrap_or("?");
        let Some(ret) = rec.ret else {
            if matches!(name, "exit" | "exit_group") {
                return Reply::Continue;
            }
            let got = rec.clone();
            return self.diverge(rec.tid, None, &got, "the recording ends inside this call");
        };
        if matches!(name, "clone" | "clone3" | "fork" | "vfork") && ret > 0 {
            let tid_at = self.tid_addresses(name, &n.data.args, mem);
            self.children.push_back(Child {
                rec: ret as u32,
                parent: n.pid,
                tid_at,
            });
        }
        let live = match class_of_call(name, &rec.args) {
            Class::Live | Class::Unwatched => true,
            Class::Open | Class::PathInput => self.path_is_host(rec, &n.data.args, mem),
            Class::FdInput => self.fd_is_host(rec, &n.data.args, mem),
            Class::Signal if ret >= 0 => return self.signal(name, &n.data.args),
            Class::Output => {
                self.counts.outputs += 1;
                self.echo(rec, &n.data.args, mem);
                false
            }
            _ => false,
        };
        if (-4095..0).contains(&ret) {
            // Every call that failed in the recording fails the same way,
            // with the signal the kernel sent for it (SIGPIPE, SIGXFSZ).
            self.counts.emulated += 1;
            self.signal_for_error(n.pid, name, rec, ret);
            return Reply::Error(ret);
        }
        if live {
            self.counts.live += 1;
            return Reply::Continue;
        }
        self.counts.emulated += 1;
        self.emulate(fd, n, rec, name, ret, mem)
    }

    /// Writes the recorded outputs into the program; installs a
    /// placeholder at a recorded descriptor an emulated call created.
    fn emulate(
        &mut self,
        fd: i32,
        n: &libc::seccomp_notif,
        rec: &Syscall,
        name: &str,
        ret: i64,
        mem: &mut Tracee,
    ) -> Reply {
        if let Err(why) = recorder::read::replayability(&self.rec.header, rec) {
            let why = format!("cannot replay this call: {}", plan::why_text(&why));
            return self.diverge(rec.tid, Some(rec), &rec.clone(), &why);
        }
        let writes = match check::output_writes(self.arch, rec, &n.data.args, mem) {
            Ok(w) => w,
            Err(why) => return self.diverge(rec.tid, Some(rec), &rec.clone(), why),
        };
        for (addr, bytes) in writes {
            if let Err(e) = mem.write(addr, &bytes) {
                let why = format!("cannot write the recorded output into the program: {e}");
                return self.diverge(rec.tid, Some(rec), &rec.clone(), &why);
            }
        }
        if matches!(
            name,
            "open" | "openat" | "openat2" | "creat" | "accept" | "accept4"
        ) {
            let cloexec = match name {
                "open" => n.data.args[1] as i32 & libc::O_CLOEXEC != 0,
                "openat" => n.data.args[2] as i32 & libc::O_CLOEXEC != 0,
                "accept4" => n.data.args[3] as i32 & libc::SOCK_CLOEXEC != 0,
                _ => false,
            };
            return self.add_fd(fd, n.id, ret, cloexec);
        }
        Reply::Val(ret)
    }

    /// Installs the `/dev/null` placeholder at descriptor `at` of the
    /// program (SECCOMP_IOCTL_NOTIF_ADDFD, Linux 5.9).
    fn add_fd(&mut self, fd: i32, id: u64, at: i64, cloexec: bool) -> Reply {
        let add = libc::seccomp_notif_addfd {
            id,
            flags: libc::SECCOMP_ADDFD_FLAG_SETFD as u32,
            srcfd: self.placeholder.as_raw_fd() as u32,
            newfd: at as u32,
            newfd_flags: if cloexec { libc::O_CLOEXEC as u32 } else { 0 },
        };
        // SAFETY: ADDFD reads `add`.
        let r = unsafe { libc::ioctl(fd, libc::SECCOMP_IOCTL_NOTIF_ADDFD, &add) };
        if r < 0 {
            let e = std::io::Error::last_os_error();
            let why = format!("cannot install a placeholder at fd {at} (needs Linux 5.9): {e}");
            let got = Syscall::default();
            return self.diverge(0, None, &got, &why);
        }
        Reply::Val(at)
    }

    /// kill, tkill, tgkill, sent by the supervisor with recorded ids
    /// translated to live ones (the program learnt its pid from an
    /// emulated getpid).
    fn signal(&mut self, name: &str, args: &[u64; 6]) -> Reply {
        self.counts.live += 1;
        let tr = |id: u64| -> i64 {
            let id = id as i32;
            if id > 0 {
                i64::from(*self.to_live.get(&(id as u32)).unwrap_or(&(id as u32)))
            } else {
                i64::from(id)
            }
        };
        let (nr, a) = match name {
            "kill" => (libc::SYS_kill, [tr(args[0]), args[1] as i64, 0]),
            "tkill" => (libc::SYS_tkill, [tr(args[0]), args[1] as i64, 0]),
            _ => (libc::SYS_tgkill, [tr(args[0]), tr(args[1]), args[2] as i64]),
        };
        // SAFETY: a signal-sending system call with plain integers.
        let r = unsafe { libc::syscall(nr, a[0], a[1], a[2]) };
        if r < 0 {
            Reply::Error(-i64::from(
                std::io::Error::last_os_error()
                    .raw_os_error()
                    .unwrap_or(libc::EINVAL),
            ))
        } else {
            Reply::Val(0)
        }
    }

    /// The signal the kernel sends with the recorded failure, sent to the
    /// live thread before the call returns: SIGPIPE with EPIPE from a
    /// write (and a send without MSG_NOSIGNAL), SIGXFSZ with EFBIG when the
    /// log shows it was sent (EFBIG past RLIMIT_FSIZE comes with it, past
    /// the file system's limit without).
    fn signal_for_error(&self, tid: u32, name: &str, rec: &Syscall, ret: i64) {
        let sig = match -ret as i32 {
            libc::EPIPE => {
                let flags = match name {
                    "sendto" => rec.args[3],
                    "sendmsg" => rec.args[2],
                    _ => 0,
                };
                if class_of(name) != Class::Output || flags & libc::MSG_NOSIGNAL as u64 != 0 {
                    return;
                }
                libc::SIGPIPE
            }
            libc::EFBIG if self.rec.signal_after(rec, libc::SIGXFSZ as u32) => libc::SIGXFSZ,
            _ => return,
        };
        // SAFETY: a signal to one of the program's threads.
        unsafe { libc::syscall(libc::SYS_tgkill, self.tgid_of(tid), tid, sig) };
    }

    /// The live process of live thread `tid`.
    fn tgid_of(&self, tid: u32) -> i32 {
        Tracee { tid: tid as i32 }
            .tgid()
            .map_or(tid as i32, |t| t as i32)
    }

    /// `--show-output`: the bytes the program writes to fds 1 and 2.
    fn echo(&self, rec: &Syscall, args: &[u64; 6], mem: &mut Tracee) {
        let name = syscall_name(self.arch, rec.nr).unwrap_or("?");
        if !self.show_output || name != "write" || !matches!(args[0], 1 | 2) {
            return;
        }
        if let Some(b) = mem.read(args[1], args[2].min(1 << 20) as usize) {
            let _ = if args[0] == 1 {
                std::io::stdout().write_all(&b)
            } else {
                std::io::stderr().write_all(&b)
            };
        }
    }

    /// Where a clone stores its child's tid: its `parent_tid` and
    /// `child_tid` when the flags ask for it (clone3: from its clone_args).
    fn tid_addresses(&self, name: &str, args: &[u64; 6], mem: &mut Tracee) -> Vec<u64> {
        let (flags, parent, child) = match name {
            "clone" => {
                // arm64 swaps tls and child_tid (CONFIG_CLONE_BACKWARDS).
                let child = if self.arch == Arch::X86_64 {
                    args[3]
                } else {
                    args[4]
                };
                (args[0], args[2], child)
            }
            "clone3" => match mem.read(args[0], 32) {
                Some(b) => {
                    let word =
                        |o: usize| u64::from_ne_bytes(b[o..o + 8].try_into().expect("8 bytes"));
                    (word(0), word(24), word(16))
                }
                None => return Vec::new(),
            },
            _ => return Vec::new(),
        };
        let mut out = Vec::new();
        if flags & CLONE_PARENT_SETTID != 0 && parent != 0 {
            out.push(parent);
        }
        if flags & CLONE_CHILD_SETTID != 0 && child != 0 {
            out.push(child);
        }
        out
    }

    /// The recorded tid of new live thread `tid`: the answered clone whose
    /// stored child tid is `tid`, else the oldest answered one.
    fn child_of(&mut self, tid: u32) -> Option<u32> {
        let stored = |who: u32, at: u64| {
            Tracee { tid: who as i32 }
                .read(at, 4)
                .map(|b| u32::from_ne_bytes(b[..4].try_into().expect("4 bytes")))
        };
        let i = self
            .children
            .iter()
            .position(|c| {
                c.tid_at
                    .iter()
                    .any(|&at| stored(tid, at) == Some(tid) || stored(c.parent, at) == Some(tid))
            })
            .unwrap_or(0);
        self.children.remove(i).map(|c| c.rec)
    }

    /// Maps a live thread to the recorded one it stands for, on its first
    /// call: the first thread is the recorded first one, a later one the
    /// child of the oldest answered clone whose child has not come yet.
    fn map_thread(&mut self, tid: u32) {
        if self.to_rec.contains_key(&tid) {
            return;
        }
        let r = if self.to_rec.is_empty() {
            self.rec.threads.first().copied()
        } else {
            self.child_of(tid)
        };
        let Some(r) = r.filter(|r| self.rec.calls.contains_key(r)) else {
            return; // not in the recording: diverges when handled
        };
        self.to_rec.insert(tid, r);
        self.to_live.insert(r, tid);
        // The recorded process ids map too (getpid answers the recorded one).
        if let Some(s) = self.rec.calls[&r].front() {
            self.to_live.entry(s.tgid).or_insert(tid);
        }
    }

    /// The next recorded call of `rtid` the supervisor sees.
    fn next_call(&mut self, rtid: u32) -> Option<Syscall> {
        self.peek(rtid)?;
        let s = self.rec.calls.get_mut(&rtid)?.pop_front()?;
        self.order.done(s.tid, s.seq);
        Some(s)
    }

    fn path_is_host(&mut self, rec: &Syscall, args: &[u64; 6], mem: &mut Tracee) -> bool {
        match plan::path_of(rec) {
            // fstatat(fd, "", AT_EMPTY_PATH): the descriptor's file.
            Some([]) | None => self.fd_is_host(rec, args, mem),
            Some(p) if p.starts_with(b"/") => is_host(p, &self.host_paths),
            Some(p) => mem.cwd().is_some_and(|mut cwd| {
                cwd.push(b'/');
                cwd.extend_from_slice(p);
                is_host(&cwd, &self.host_paths)
            }),
        }
    }

    /// Whether the call's descriptor is one of the program's own files;
    /// for the ELF header reads of those, whether the file is the one
    /// recorded.
    fn fd_is_host(&mut self, rec: &Syscall, args: &[u64; 6], mem: &mut Tracee) -> bool {
        let fd = args[0] as i32;
        let Some(path) = mem.fd_path(fd) else {
            return false;
        };
        // /proc/self/... opened by the program reads back as /proc/PID/...
        let own_proc = mem
            .tgid()
            .is_some_and(|t| path.starts_with(format!("/proc/{t}/").as_bytes()));
        if !own_proc && !is_host(&path, &self.host_paths) {
            return false;
        }
        let head = rec.data.iter().find(|c| c.bytes.starts_with(b"\x7fELF"));
        if let Some(c) = head.filter(|_| syscall_name(self.arch, rec.nr) == Some("read")) {
            let now = mem.fd_head(fd, c.bytes.len());
            if now.as_deref() != Some(&c.bytes[..]) && self.warned.insert(path.clone()) {
                eprintln!(
                    "recorder replay: warning: {} is not the recorded build: its ELF header \
                     differs from the one read at seq {} (replay needs the same binaries and \
                     libraries as the recording)",
                    String::from_utf8_lossy(&path),
                    rec.seq
                );
            }
        }
        true
    }

    /// Reports a divergence; stops the program unless `--continue`.
    fn diverge(
        &mut self,
        rtid: u32,
        expected: Option<&Syscall>,
        got: &Syscall,
        why: &str,
    ) -> Reply {
        self.diverged = true;
        let matched: Vec<Syscall> = self
            .recent
            .get(&rtid)
            .map(|q| q.iter().cloned().collect())
            .unwrap_or_default();
        let text = recorder::replay::divergence_text(&mut self.fmt, &matched, expected, got, why);
        let live = self.to_live.get(&rtid).copied().unwrap_or(got.tid);
        eprintln!(
            "recorder replay: diverged in thread {live} (recorded tid {rtid}) after {} matched calls:\n{text}",
            self.counts.matched
        );
        if self.go_live {
            eprintln!("recorder replay: --continue: the program runs live from here");
            self.live = true;
            Reply::Continue
        } else {
            eprintln!("recorder replay: the program was stopped (--continue lets it run on live)");
            Reply::Kill
        }
    }

    /// Prints the summary; the exit status of `recorder replay`.
    fn summary(&self, status: i32) -> i32 {
        let c = &self.counts;
        eprintln!(
            "recorder replay: {} calls matched the recording ({} answered from the log, {} run \
             live, {} outputs compared) in {} thread{}",
            c.matched,
            c.emulated,
            c.live,
            c.outputs,
            self.to_rec.len(),
            if self.to_rec.len() == 1 { "" } else { "s" }
        );
        if c.layout > 0 {
            eprintln!(
                "recorder replay: {} allocator calls (munmap, brk, anonymous mmap) differed \
                 with the memory layout or between threads (passed over or run live)",
                c.layout
            );
        }
        if c.out_of_order > 0 {
            eprintln!(
                "recorder replay: {} calls went out of the recorded order: a thread waited in \
                 user space for a call the order held back",
                c.out_of_order
            );
        }
        let now = if libc::WIFSIGNALED(status) {
            Outcome::Killed(libc::WTERMSIG(status) as u32)
        } else {
            Outcome::Exited(libc::WEXITSTATUS(status))
        };
        if self.diverged && !self.go_live {
            eprintln!(
                "recorder replay: not reproduced: diverged (in the recording the program {})",
                self.rec.outcome
            );
            return 2;
        }
        // The kernel ends a process for a fatal signal without a core dump
        // by sending SIGKILL to its threads, and that is what the log saw.
        let as_sigkill = matches!(
            (now, self.rec.outcome),
            (Outcome::Killed(s), Outcome::Killed(9)) if !CORE_DUMPING.contains(&s)
        );
        let same = now == self.rec.outcome || as_sigkill;
        if as_sigkill {
            eprintln!(
                "recorder replay: the program {now}, as in the recording (whose SIGKILL is how \
                 the kernel ends a process for a fatal signal without a core dump): reproduced"
            );
        } else if same {
            eprintln!("recorder replay: the program {now}, as in the recording: reproduced");
        } else {
            eprintln!(
                "recorder replay: the program {now}; in the recording it {}: NOT reproduced",
                self.rec.outcome
            );
        }
        if same && !self.diverged { 0 } else { 2 }
    }
}

/// waitpid's status, if the child has ended.
fn reap(pid: i32, flags: i32) -> Option<i32> {
    let mut status = 0;
    // SAFETY: waitpid of our own child.
    let r = unsafe { libc::waitpid(pid, &mut status, flags) };
    (r == pid).then_some(status)
}
