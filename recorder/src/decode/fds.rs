//! File descriptor names for `dump -y`: `read(3</etc/hosts>, ...)`.
//!
//! strace asks `/proc` what a descriptor is; a log can only know what it
//! saw. So the table is built from the calls in the log: an `open`,
//! `openat`, `openat2`, `creat` or `memfd_create` that returned a
//! descriptor names it after the path it was given (joined to the
//! directory descriptor's or the working directory's name when those are
//! known, else as given); `dup`/`dup2`/`dup3`/`fcntl(F_DUPFD*)` copy a name,
//! `close`/`close_range` remove it, a successful exec drops close-on-exec
//! descriptors, a fork gives the child a copy of its parent's table, and a
//! process's table goes when its last thread exits. Calls that create a
//! descriptor without a path (sockets, pipes, eventfds, ...) clear any
//! stale name the number had. Descriptors opened before the recording
//! started, or by calls that were lost, have no name and are shown bare.
//!
//! Memory is bounded by the descriptors that are open in the recorded
//! processes, not by the length of the log.

use crate::event::GroupDead;
use std::collections::HashMap;
use std::sync::Arc;

use super::put;
use super::{Arch, syscall_name};
use crate::event::{CaptureKind, Event, Syscall};

/// `O_CLOEXEC`, `MFD_CLOEXEC`, `FD_CLOEXEC`: the same on every supported
/// architecture.
const O_CLOEXEC: u64 = 0o2_000_000;
const MFD_CLOEXEC: u64 = 1;
const FD_CLOEXEC: u64 = 1;
const F_DUPFD: u64 = 0;
const F_SETFD: u64 = 2;
const F_DUPFD_CLOEXEC: u64 = 1030;
const CLOSE_RANGE_CLOEXEC: u64 = 4;
/// `AT_FDCWD` as the low 32 bits of the register.
const AT_FDCWD: i64 = -100;

#[derive(Debug, Clone)]
struct Entry {
    name: Arc<[u8]>,
    cloexec: bool,
}

#[derive(Debug, Clone, Default)]
struct Process {
    fds: HashMap<i64, Entry>,
    /// Working directory, when a `chdir`/`fchdir` in the log told it.
    cwd: Option<Arc<[u8]>>,
}

/// The descriptors of every recorded process, as far as the log tells.
#[derive(Debug, Clone, Default)]
pub(crate) struct FdTable {
    procs: HashMap<u32, Process>,
}

/// What one syscall does to its process's table (computed before the call
/// is shown, applied after, so arguments show the names they had before the
/// call and the return value the name it gets).
#[derive(Debug)]
pub(crate) enum Effect {
    None,
    Open {
        fd: i64,
        name: Arc<[u8]>,
        cloexec: bool,
    },
    Dup {
        old: i64,
        new: i64,
        cloexec: bool,
    },
    /// The descriptors now exist but the log cannot name them.
    Unnamed(Vec<i64>),
    Close(i64),
    CloseRange {
        first: i64,
        last: i64,
        cloexec_only: bool,
    },
    SetCloexec {
        fd: i64,
        on: bool,
    },
    Exec,
    Chdir(Option<Arc<[u8]>>),
}

/// A descriptor argument: the low 32 bits, sign-extended (as the kernel
/// reads an `int`).
fn fd_arg(v: u64) -> i64 {
    i64::from(v as u32 as i32)
}

impl FdTable {
    /// The name of descriptor `fd` of process `tgid`, if known.
    pub(crate) fn name(&self, tgid: u32, fd: i64) -> Option<&[u8]> {
        self.procs.get(&tgid)?.fds.get(&fd).map(|e| &*e.name)
    }

    /// Appends `<name>` when `fd` has a known name.
    pub(crate) fn annotate(&self, b: &mut Vec<u8>, tgid: u32, fd: i64) {
        if let Some(n) = self.name(tgid, fd) {
            annotate(b, n);
        }
    }

    /// The name the descriptor returned by the call will have.
    pub(crate) fn returned_name<'a>(&'a self, tgid: u32, e: &'a Effect) -> Option<&'a [u8]> {
        match e {
            Effect::Open { name, .. } => Some(name),
            Effect::Dup { old, .. } => self.name(tgid, *old),
            _ => None,
        }
    }

    /// The path `path` given relative to directory descriptor `dirfd`.
    fn resolve(&self, tgid: u32, dirfd: i64, path: &[u8], truncated: bool) -> Arc<[u8]> {
        let dir = if path.first() == Some(&b'/') {
            None
        } else if dirfd == AT_FDCWD {
            self.procs.get(&tgid).and_then(|p| p.cwd.as_deref())
        } else {
            self.name(tgid, dirfd)
        };
        let mut v = Vec::with_capacity(dir.map_or(0, <[u8]>::len) + path.len() + 4);
        if let Some(d) = dir {
            v.extend_from_slice(d);
            if !d.ends_with(b"/") {
                v.push(b'/');
            }
        }
        v.extend_from_slice(path);
        if truncated {
            v.extend_from_slice(b"...");
        }
        v.into()
    }

    /// The captured string of argument `arg`, if it was read.
    fn path(sc: &Syscall, arg: u8) -> Option<(&[u8], bool)> {
        sc.data
            .iter()
            .find(|c| c.arg == arg && c.kind == CaptureKind::Str && !c.read_failed)
            .map(|c| (c.bytes.as_slice(), c.truncated))
    }

    /// What `sc` does to the table.
    pub(crate) fn effect(&self, arch: Arch, sc: &Syscall) -> Effect {
        let Some(name) = syscall_name(arch, sc.nr) else {
            return Effect::None;
        };
        let a = &sc.args;
        // close removes the descriptor whatever it returns (even EINTR
        // leaves it closed on Linux); everything else counts on success.
        if name == "close" {
            return Effect::Close(fd_arg(a[0]));
        }
        let Some(ret) = sc.ret.filter(|&r| r >= 0) else {
            return Effect::None;
        };
        let open = |dirfd: i64, arg: u8, cloexec: bool| match Self::path(sc, arg) {
            Some((p, truncated)) => Effect::Open {
                fd: ret,
                name: self.resolve(sc.tgid, dirfd, p, truncated),
                cloexec,
            },
            None => Effect::Unnamed(vec![ret]),
        };
        match name {
            "open" => open(AT_FDCWD, 0, a[1] & O_CLOEXEC != 0),
            "creat" => open(AT_FDCWD, 0, false),
            "openat" => open(fd_arg(a[0]), 1, a[2] & O_CLOEXEC != 0),
            "openat2" => {
                // struct open_how starts with the u64 flags.
                let flags = sc
                    .data
                    .iter()
                    .find(|c| c.arg == 2 && !c.read_failed)
                    .and_then(|c| put::le_u64(&c.bytes, 0))
                    .unwrap_or(0);
                open(fd_arg(a[0]), 1, flags & O_CLOEXEC != 0)
            }
            "memfd_create" => match Self::path(sc, 0) {
                Some((p, _)) => {
                    let mut n = b"memfd:".to_vec();
                    n.extend_from_slice(p);
                    Effect::Open {
                        fd: ret,
                        name: n.into(),
                        cloexec: a[1] & MFD_CLOEXEC != 0,
                    }
                }
                None => Effect::Unnamed(vec![ret]),
            },
            "dup" | "dup2" => Effect::Dup {
                old: fd_arg(a[0]),
                new: ret,
                cloexec: false,
            },
            "dup3" => Effect::Dup {
                old: fd_arg(a[0]),
                new: ret,
                cloexec: a[2] & O_CLOEXEC != 0,
            },
            "fcntl" => match a[1] & 0xffff_ffff {
                F_DUPFD => Effect::Dup {
                    old: fd_arg(a[0]),
                    new: ret,
                    cloexec: false,
                },
                F_DUPFD_CLOEXEC => Effect::Dup {
                    old: fd_arg(a[0]),
                    new: ret,
                    cloexec: true,
                },
                F_SETFD => Effect::SetCloexec {
                    fd: fd_arg(a[0]),
                    on: a[2] & FD_CLOEXEC != 0,
                },
                _ => Effect::None,
            },
            "close_range" => Effect::CloseRange {
                first: i64::from(a[0] as u32),
                last: i64::from(a[1] as u32),
                cloexec_only: a[2] & CLOSE_RANGE_CLOEXEC != 0,
            },
            "execve" | "execveat" => Effect::Exec,
            "chdir" => {
                Effect::Chdir(Self::path(sc, 0).map(|(p, t)| self.resolve(sc.tgid, AT_FDCWD, p, t)))
            }
            "fchdir" => Effect::Chdir(self.name(sc.tgid, fd_arg(a[0])).map(Arc::from)),
            // The kernel fills an int[2] with the new descriptors.
            "pipe" | "pipe2" | "socketpair" => {
                let arg = if name == "socketpair" { 3 } else { 0 };
                let fds = sc
                    .data
                    .iter()
                    .find(|c| c.arg == arg && !c.read_failed)
                    .map(|c| {
                        [0, 4]
                            .iter()
                            .filter_map(|&off| put::le_u32(&c.bytes, off))
                            .map(|v| i64::from(v as i32))
                            .collect()
                    })
                    .unwrap_or_default();
                Effect::Unnamed(fds)
            }
            "socket" | "accept" | "accept4" | "eventfd" | "eventfd2" | "epoll_create"
            | "epoll_create1" | "inotify_init" | "inotify_init1" | "signalfd" | "signalfd4"
            | "timerfd_create" | "userfaultfd" | "perf_event_open" | "fanotify_init"
            | "pidfd_open" | "open_by_handle_at" | "fsopen" | "fspick" | "open_tree" => {
                Effect::Unnamed(vec![ret])
            }
            _ => Effect::None,
        }
    }

    /// Applies what a call of process `tgid` did.
    pub(crate) fn apply(&mut self, tgid: u32, e: Effect) {
        // Only take a table entry when there is something to change: most
        // calls do nothing to descriptors.
        if matches!(e, Effect::None) {
            return;
        }
        if let Effect::Dup { old, new, cloexec } = e {
            let name = self
                .procs
                .get(&tgid)
                .and_then(|p| p.fds.get(&old))
                .map(|x| x.name.clone());
            let p = self.procs.entry(tgid).or_default();
            match name {
                Some(name) => {
                    p.fds.insert(new, Entry { name, cloexec });
                }
                None => {
                    p.fds.remove(&new);
                }
            }
            return;
        }
        let p = self.procs.entry(tgid).or_default();
        match e {
            Effect::None | Effect::Dup { .. } => {}
            Effect::Open { fd, name, cloexec } => {
                p.fds.insert(fd, Entry { name, cloexec });
            }
            Effect::Unnamed(fds) => {
                for fd in fds {
                    p.fds.remove(&fd);
                }
            }
            Effect::Close(fd) => {
                p.fds.remove(&fd);
            }
            Effect::CloseRange {
                first,
                last,
                cloexec_only,
            } => {
                let in_range = |fd: &i64| (first..=last).contains(fd);
                if cloexec_only {
                    p.fds
                        .iter_mut()
                        .filter(|(fd, _)| in_range(fd))
                        .for_each(|(_, e)| e.cloexec = true);
                } else {
                    p.fds.retain(|fd, _| !in_range(fd));
                }
            }
            Effect::SetCloexec { fd, on } => {
                if let Some(e) = p.fds.get_mut(&fd) {
                    e.cloexec = on;
                }
            }
            Effect::Exec => p.fds.retain(|_, e| !e.cloexec),
            Effect::Chdir(dir) => p.cwd = dir,
        }
    }

    /// Follows process creation and exit.
    pub(crate) fn proc_event(&mut self, ev: &Event) {
        match ev {
            Event::Fork(p) => {
                let copy = self.procs.get(&p.tgid).cloned().unwrap_or_default();
                self.procs.insert(p.child(), copy);
            }
            // aux 1: the whole thread group is gone.
            Event::Exit(p) if p.group_dead() == GroupDead::Yes => {
                self.procs.remove(&p.tgid);
            }
            _ => {}
        }
    }
}

/// `<name>`, escaped like strace's strings.
fn annotate(b: &mut Vec<u8>, name: &[u8]) {
    b.push(b'<');
    put::escaped(b, name);
    b.push(b'>');
}

/// Appends the name of the descriptor a call returned, if it has one.
pub(crate) fn annotate_returned(b: &mut Vec<u8>, name: Option<&[u8]>) {
    if let Some(n) = name {
        annotate(b, n);
    }
}

#[cfg(test)]
mod tests {
    use crate::decode::{Arch, Formatter, TimeMode};
    use crate::event::{Capture, CaptureKind, Event, ProcEvent, Syscall};

    /// A call of process 10 on x86_64.
    fn call(nr: i64, args: &[u64], ret: i64, path: Option<(u8, &str)>) -> Event {
        let mut a = [0u64; 6];
        a[..args.len()].copy_from_slice(args);
        Event::Syscall(Syscall {
            tgid: 10,
            tid: 10,
            nr,
            args: a,
            ret: Some(ret),
            data: path
                .map(|(arg, p)| Capture {
                    arg,
                    kind: CaptureKind::Str,
                    len: p.len() as u64,
                    truncated: false,
                    read_failed: false,
                    bytes: p.as_bytes().to_vec(),
                })
                .into_iter()
                .collect(),
            ..Default::default()
        })
    }

    const AT_FDCWD: u64 = -100i64 as u64;
    const O_CLOEXEC: u64 = 0o2_000_000;

    fn lines(events: &[Event]) -> Vec<String> {
        let mut f = Formatter::for_arch(Arch::X86_64, 0, 0);
        f.time = TimeMode::None;
        f.show_duration = false;
        f.decode_fds(true);
        events
            .iter()
            .map(|e| {
                String::from_utf8_lossy(f.render_text(e))
                    .trim_end()
                    .to_owned()
            })
            .collect()
    }

    #[test]
    fn opened_paths_follow_the_descriptor() {
        let got = lines(&[
            call(257, &[AT_FDCWD, 1, 0], 3, Some((1, "/etc"))), // openat
            call(257, &[3, 1, 0], 4, Some((1, "hosts"))),       // relative to fd 3
            call(0, &[4, 0, 0], -9, None),                      // read
            call(33, &[4, 7], 7, None),                         // dup2
            call(3, &[4], 0, None),                             // close
            call(0, &[4, 0, 0], -9, None),
            call(0, &[7, 0, 0], -9, None),
            call(41, &[2, 1, 0], 7, None), // socket reuses 7: name gone
            call(0, &[7, 0, 0], -9, None),
        ]);
        assert_eq!(got[0], "openat(AT_FDCWD, \"/etc\", O_RDONLY) = 3</etc>");
        assert_eq!(
            got[1],
            "openat(3</etc>, \"hosts\", O_RDONLY) = 4</etc/hosts>"
        );
        assert!(got[2].starts_with("read(4</etc/hosts>, "), "{}", got[2]);
        assert_eq!(got[3], "dup2(4</etc/hosts>, 7) = 7</etc/hosts>");
        assert_eq!(got[4], "close(4</etc/hosts>) = 0");
        assert!(got[5].starts_with("read(4, "), "{}", got[5]);
        assert!(got[6].starts_with("read(7</etc/hosts>, "), "{}", got[6]);
        assert!(got[8].starts_with("read(7, "), "{}", got[8]);
    }

    #[test]
    fn exec_closes_cloexec_and_fork_copies() {
        let fork = Event::Fork(ProcEvent {
            tgid: 10,
            tid: 10,
            aux: 11,
            ..Default::default()
        });
        let mut child_read = call(0, &[3, 0, 0], -9, None);
        if let Event::Syscall(s) = &mut child_read {
            s.tgid = 11;
            s.tid = 11;
        }
        let got = lines(&[
            call(257, &[AT_FDCWD, 1, O_CLOEXEC], 3, Some((1, "/a"))),
            call(257, &[AT_FDCWD, 1, 0], 4, Some((1, "/b"))),
            fork,
            child_read,
            call(59, &[1, 0, 0], 0, None), // execve
            call(0, &[3, 0, 0], -9, None),
            call(0, &[4, 0, 0], -9, None),
        ]);
        assert!(
            got[3].starts_with("read(3</a>, "),
            "the child has a copy: {}",
            got[3]
        );
        assert!(got[5].starts_with("read(3, "), "closed on exec: {}", got[5]);
        assert!(
            got[6].starts_with("read(4</b>, "),
            "kept across exec: {}",
            got[6]
        );
    }

    #[test]
    fn failed_opens_and_tracking_without_rendering() {
        let mut f = Formatter::for_arch(Arch::X86_64, 0, 0);
        f.time = TimeMode::None;
        f.decode_fds(true);
        // Shown calls and tracked-only calls update the same table.
        f.track(&call(257, &[AT_FDCWD, 1, 0], 5, Some((1, "/x"))));
        f.track(&call(257, &[AT_FDCWD, 1, 0], -2, Some((1, "/missing"))));
        let line = String::from_utf8_lossy(f.render_text(&call(3, &[5], 0, None))).into_owned();
        assert!(line.starts_with("close(5</x>) = 0"), "{line}");
        let line = String::from_utf8_lossy(f.render_text(&call(3, &[5], 0, None))).into_owned();
        assert!(line.starts_with("close(5) = 0"), "{line}");
    }
}
