//! The processes and threads a log shows, learned while it streams by: their
//! names (for `--comm`, Perfetto track names, reports), how many calls each
//! made, when, and how processes ended.
//!
//! Syscall records carry no name; names come from the process events. An
//! exec names the process and its thread; a fork gives the child its
//! parent's name; an exit tells the name a thread had at the end (threads
//! that renamed themselves with `prctl(PR_SET_NAME)` show it there). A
//! thread the log has said nothing about yet takes its process's name. For
//! `--comm`, a first pass ([`first_names`]) supplies, for threads and
//! processes that were running before the recording started, the first name
//! the log will tell.
//!
//! Memory grows with the number of threads in the log, not with its length.

use crate::event::GroupDead;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Read;

use crate::event::{Event, ProcEvent};
use crate::log::LogReader;

/// Names kept per process (an exec chain longer than this keeps its first
/// names and its last).
const MAX_NAMES: usize = 8;

/// What the log says about one thread.
#[derive(Debug, Clone, Default)]
pub struct Thread {
    pub tgid: u32,
    /// Its name, when an event has told it.
    pub comm: Option<String>,
    pub calls: u64,
    /// Entry time of its first and last syscall record.
    pub first_ns: Option<u64>,
    pub last_ns: Option<u64>,
}

/// What the log says about one process.
#[derive(Debug, Clone, Default)]
pub struct Process {
    pub pid: u32,
    /// Names in the order they were seen (exec changes it), without
    /// repeats, at most [`MAX_NAMES`] (the last one is always the latest).
    pub names: Vec<String>,
    /// Thread ids seen.
    pub threads: BTreeSet<u32>,
    /// The process that forked it, if the fork is in the log.
    pub parent: Option<u32>,
    pub calls: u64,
    pub errors: u64,
    pub first_ns: Option<u64>,
    pub last_ns: Option<u64>,
    /// Execs seen.
    pub execs: u64,
    /// The status passed to `exit_group` (or `exit` of its last thread).
    pub exit_status: Option<i32>,
    /// A signal with no handler that ended it (crash or kill).
    pub fatal_signal: Option<u32>,
    /// Its last thread's exit was seen.
    pub exited: bool,
}

impl Process {
    /// Its latest name, if known.
    pub fn name(&self) -> Option<&str> {
        self.names.last().map(String::as_str)
    }

    fn add_name(&mut self, name: &str) {
        if self.names.last().is_some_and(|n| n == name) {
            return;
        }
        if self.names.len() >= MAX_NAMES {
            self.names.pop();
        }
        self.names.push(name.to_owned());
    }
}

/// The processes and threads of a log.
#[derive(Debug, Clone, Default)]
pub struct Tasks {
    threads: HashMap<u32, Thread>,
    processes: BTreeMap<u32, Process>,
    /// From [`first_names`]: the first name the log tells for an id.
    first: HashMap<u32, String>,
}

impl Tasks {
    /// Names to fall back on for tasks the log has not named yet.
    pub fn seed_names(&mut self, first: HashMap<u32, String>) {
        self.first = first;
    }

    fn thread(&mut self, tid: u32, tgid: u32) -> &mut Thread {
        let t = self.threads.entry(tid).or_default();
        t.tgid = tgid;
        t
    }

    fn process(&mut self, pid: u32) -> &mut Process {
        let p = self.processes.entry(pid).or_default();
        p.pid = pid;
        p
    }

    /// Updates the table with one event (every event of the log, in order,
    /// whether shown or not).
    pub fn observe(&mut self, ev: &Event) {
        match ev {
            Event::Syscall(sc) => {
                let t = self.thread(sc.tid, sc.tgid);
                t.calls += 1;
                t.first_ns.get_or_insert(sc.enter_ns);
                t.last_ns = Some(sc.enter_ns);
                let p = self.process(sc.tgid);
                p.threads.insert(sc.tid);
                p.calls += 1;
                p.errors += u64::from(sc.ret.is_some_and(|r| (-4095..=-1).contains(&r)));
                p.first_ns.get_or_insert(sc.enter_ns);
                p.last_ns = Some(sc.enter_ns);
            }
            Event::Exec(e) => {
                // A non-leader thread that execs takes over the leader's id;
                // its old id is gone.
                if let Some(old) = e.exec_by_other_thread() {
                    self.threads.remove(&old);
                }
                self.thread(e.tid, e.tgid).comm = Some(e.comm.clone());
                let p = self.process(e.tgid);
                p.threads.insert(e.tid);
                p.add_name(&e.comm);
                p.execs += 1;
            }
            Event::Fork(e) => {
                self.name_if_unknown(e);
                let pid = e.child();
                let child = self.process(pid);
                child.parent = Some(e.tgid);
                child.add_name(&e.comm);
                child.threads.insert(pid);
                self.thread(pid, pid).comm = Some(e.comm.clone());
            }
            Event::Exit(e) => {
                self.thread(e.tid, e.tgid).comm = Some(e.comm.clone());
                let p = self.process(e.tgid);
                p.threads.insert(e.tid);
                if p.names.is_empty() {
                    p.add_name(&e.comm);
                }
                if e.group_dead() == GroupDead::Yes {
                    p.exited = true;
                }
            }
            Event::Signal(s) => {
                if self.thread(s.tid, s.tgid).comm.is_none() {
                    self.thread(s.tid, s.tgid).comm = Some(s.comm.clone());
                }
                if s.default_action && kills(s.sig) {
                    self.process(s.tgid).fatal_signal.get_or_insert(s.sig);
                }
            }
            Event::Who(w) => {
                // A watch log has no exec or fork: its who records name
                // the processes.
                self.thread(w.tid, w.tgid).comm = Some(w.comm.clone());
                let p = self.process(w.tgid);
                p.threads.insert(w.tid);
                p.add_name(&w.comm);
                if let Some(parent) = w.parents.first() {
                    p.parent.get_or_insert(parent.pid);
                }
            }
            Event::Counters(_) | Event::Pause(_) => {}
        }
        if let Event::Syscall(sc) = ev
            && sc.ret.is_none()
            && !sc.died_in_call
        {
            // exit/exit_group never return; their argument is the status.
            self.process(sc.tgid).exit_status = Some(sc.args[0] as i32);
        }
    }

    /// Names a task from an event about it when nothing named it before.
    fn name_if_unknown(&mut self, e: &ProcEvent) {
        let t = self.thread(e.tid, e.tgid);
        if t.comm.is_none() {
            t.comm = Some(e.comm.clone());
        }
        let p = self.process(e.tgid);
        p.threads.insert(e.tid);
        if p.names.is_empty() {
            p.add_name(&e.comm);
        }
    }

    /// The name of thread `tid` of process `tgid` at this point of the log:
    /// its own if an event named it, else its process's, else the first
    /// name a later event will give either (when seeded).
    pub fn comm(&self, tid: u32, tgid: u32) -> Option<&str> {
        self.threads
            .get(&tid)
            .and_then(|t| t.comm.as_deref())
            .or_else(|| self.first.get(&tid).map(String::as_str))
            .or_else(|| self.processes.get(&tgid).and_then(Process::name))
            .or_else(|| self.first.get(&tgid).map(String::as_str))
    }

    /// The name of process `pid`: the latest it was exec'd (or forked) as,
    /// else its main thread's.
    pub fn process_name(&self, pid: u32) -> Option<&str> {
        self.processes
            .get(&pid)
            .and_then(Process::name)
            .or_else(|| self.comm(pid, pid))
    }

    /// Every process seen, by pid.
    pub fn processes(&self) -> impl Iterator<Item = &Process> {
        self.processes.values()
    }

    pub fn process_info(&self, pid: u32) -> Option<&Process> {
        self.processes.get(&pid)
    }

    /// Every thread seen, by tid.
    pub fn threads(&self) -> impl Iterator<Item = (u32, &Thread)> {
        let mut v: Vec<(u32, &Thread)> = self.threads.iter().map(|(k, t)| (*k, t)).collect();
        v.sort_unstable_by_key(|(k, _)| *k);
        v.into_iter()
    }

    pub fn thread_count(&self) -> usize {
        self.threads.len()
    }

    pub fn process_count(&self) -> usize {
        self.processes.len()
    }
}

/// Whether a signal's default action ends the process: all but SIGCHLD,
/// SIGCONT, SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU, SIGURG and SIGWINCH (the
/// same numbers on x86_64 and arm64).
fn kills(sig: u32) -> bool {
    !matches!(sig, 17..=23 | 28)
}

/// First pass for `--comm`: for every id the log names, the first name it
/// gives (exec, fork: parent and child, exit, signal). Reads to the end or
/// the first damage (the main pass reports damage).
pub fn first_names<R: Read>(mut r: LogReader<R>) -> HashMap<u32, String> {
    let mut first: HashMap<u32, String> = HashMap::new();
    let mut note = |id: u32, name: &str| {
        first.entry(id).or_insert_with(|| name.to_owned());
    };
    while let Ok(Some(ev)) = r.next_event() {
        match &ev {
            Event::Exec(p) | Event::Exit(p) => {
                note(p.tid, &p.comm);
                note(p.tgid, &p.comm);
            }
            Event::Fork(p) => {
                note(p.tid, &p.comm);
                note(p.tgid, &p.comm);
                note(p.child(), &p.comm);
            }
            Event::Signal(s) => {
                note(s.tid, &s.comm);
                note(s.tgid, &s.comm);
            }
            Event::Who(w) => {
                note(w.tid, &w.comm);
                note(w.tgid, &w.comm);
            }
            Event::Syscall(_) | Event::Counters(_) | Event::Pause(_) => {}
        }
    }
    first
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Syscall;

    fn proc_ev(tgid: u32, tid: u32, aux: u32, comm: &str) -> ProcEvent {
        ProcEvent {
            tgid,
            tid,
            aux,
            comm: comm.into(),
            ..Default::default()
        }
    }

    fn call(tgid: u32, tid: u32) -> Event {
        Event::Syscall(Syscall {
            tgid,
            tid,
            ret: Some(0),
            ..Default::default()
        })
    }

    #[test]
    fn names_follow_exec_fork_and_exit() {
        let mut t = Tasks::default();
        t.observe(&call(10, 10));
        assert_eq!(t.comm(10, 10), None);
        t.observe(&Event::Exec(proc_ev(10, 10, 10, "sh")));
        t.observe(&call(10, 11)); // a thread: its process's name
        assert_eq!(t.comm(11, 10), Some("sh"));
        t.observe(&Event::Fork(proc_ev(10, 10, 20, "sh")));
        assert_eq!(t.comm(20, 20), Some("sh"));
        t.observe(&Event::Exec(proc_ev(20, 20, 20, "myapp")));
        assert_eq!(t.comm(20, 20), Some("myapp"));
        t.observe(&Event::Exit(proc_ev(10, 11, 0, "worker")));
        assert_eq!(t.comm(11, 10), Some("worker"));
        assert_eq!(t.process_name(10), Some("sh"));
        let p = t.process_info(20).unwrap();
        assert_eq!(p.names, ["sh", "myapp"]);
        assert_eq!(p.parent, Some(10));
        assert_eq!(t.process_count(), 2);
        assert_eq!(t.thread_count(), 3);
    }

    #[test]
    fn seeded_names_cover_tasks_named_later() {
        let mut t = Tasks::default();
        t.seed_names(HashMap::from([(30, "early".to_owned())]));
        t.observe(&call(30, 30));
        assert_eq!(t.comm(30, 30), Some("early"));
        assert_eq!(t.comm(31, 30), Some("early"), "via the process");
    }

    #[test]
    fn exit_status_comes_from_exit_group() {
        let mut t = Tasks::default();
        t.observe(&Event::Syscall(Syscall {
            tgid: 5,
            tid: 5,
            nr: 231,
            args: [42, 0, 0, 0, 0, 0],
            ret: None,
            ..Default::default()
        }));
        t.observe(&Event::Exit(proc_ev(5, 5, 1, "x")));
        let p = t.process_info(5).unwrap();
        assert_eq!(p.exit_status, Some(42));
        assert!(p.exited);
    }

    #[test]
    fn many_execs_keep_a_bounded_name_list() {
        let mut t = Tasks::default();
        for i in 0..100 {
            t.observe(&Event::Exec(proc_ev(1, 1, 1, &format!("n{i}"))));
        }
        let p = t.process_info(1).unwrap();
        assert_eq!(p.names.len(), MAX_NAMES);
        assert_eq!(p.name(), Some("n99"));
        assert_eq!(p.execs, 100);
    }
}
