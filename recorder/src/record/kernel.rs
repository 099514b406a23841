//! The narrow seam to the kernel: load the eBPF object, configure it, attach
//! it, and hand out the ring buffer and counters. Nothing else in the daemon
//! talks to BPF.

use aya::{
    Ebpf, EbpfLoader,
    maps::{Array, HashMap, MapData, PerCpuArray, RingBuf},
    programs::{Program, ProgramError},
};
use recorder_common::{
    ArgSpec, BTF_TWINS, COMM_LEN, CaptureSpec, FLOOR_TRACEPOINTS, LEAN_FLOOR_TRACEPOINTS,
    LEAN_TRACEPOINTS, MAP_ARG_CUT, MAP_CAPTURE, MAP_CLOSING, MAP_COMMS, MAP_COUNTERS, MAP_EVENTS,
    MAP_PAUSE_ON, MAP_PAUSED, MAP_SCRATCH, MAP_SEQS, MAP_STASH, MAP_STASH_OWNERS, MAP_STASH_SLOTS,
    MAP_TRACE_SET, MAP_TRACED, MAP_USER_EPOCH, Paused, STASH_SLOTS_MAX, SYSCALL_HEAD_SIZE,
    TP_SCHED_EXEC, TP_SCHED_EXIT, TP_SCHED_FORK, TP_SIGNAL_DELIVER, TRACED_CHUNK, TRACEPOINTS,
    TracedChunk, Tracepoint, btf_variant, ctr, globals, seq_slot, trace, traced,
};
use recorder_common::{
    CAPTURE_ENTRIES, ERRNO_ENTRIES, MAP_WATCH_ARGS, MAP_WATCH_ERRNO, MAP_WATCH_NAMES,
    MAP_WATCH_PROCS, MAP_WATCH_SOCK, NAME_WINDOW, NamePattern, ProcInfo, WATCH_NAMES_MAX,
    WATCH_PROCS_ENTRIES, WATCH_TRACEPOINTS,
};
use thiserror::Error;

use super::tracefs;
use recorder::{cli::BenchFloor, event::Counters};

/// The eBPF object built by `build.rs` for this target's architecture.
static EBPF_OBJECT: &[u8] = aya::include_bytes_aligned!(concat!(env!("OUT_DIR"), "/recorder"));
/// The same programs for kernels without `bpf_loop` (before 5.17): the
/// capture loops are bounded loops, which the verifier walks iteration by
/// iteration (about 0.8 million instructions, a start of 0.4 s and more),
/// where `bpf_loop` has it check each loop body once.
static EBPF_OBJECT_BOUNDED_LOOPS: &[u8] =
    aya::include_bytes_aligned!(concat!(env!("OUT_DIR"), "/recorder-bounded-loops"));
/// Set to 1, the bounded-loops object is loaded even where `bpf_loop`
/// exists: how the tests check on a new kernel that it records the same.
pub const BOUNDED_LOOPS_ENV: &str = "RECORDER_BOUNDED_LOOPS";

/// Set to 1, the syscall programs are the raw tracepoint ones even where the
/// kernel has BTF: how the tests check that both record the same.
pub const NO_BTF_ENV: &str = "RECORDER_NO_BTF";

/// The kernel BTF ids the `tp_btf` syscall programs load with, as a `Btf`
/// that aya can look them up in (see [`super::btf`]); None where the kernel
/// has no BTF, or [`NO_BTF_ENV`] says so, and the raw tracepoint programs
/// are used.
fn syscall_btf() -> Option<aya::Btf> {
    if std::env::var_os(NO_BTF_ENV).is_some_and(|v| v == "1") {
        return None;
    }
    let file = std::fs::File::open("/sys/kernel/btf/vmlinux").ok()?;
    let names = ["btf_trace_sys_enter", "btf_trace_sys_exit"];
    let ids = super::btf::typedef_ids(file, &names).ok()?;
    let named: Vec<(&str, u32)> = names.into_iter().zip(ids).collect();
    aya::Btf::parse(&super::btf::naming(&named), aya::Endianness::default()).ok()
}

/// Whether a recording here would use the `tp_btf` syscall programs (for
/// `recorder check`; a refusal by the verifier, which falls back to the
/// raw ones, is only seen when they are loaded).
pub fn syscall_programs_use_btf() -> bool {
    std::ptr::eq(ebpf_object(), EBPF_OBJECT) && syscall_btf().is_some()
}

/// The object for the running kernel: the one with `bpf_loop` if the
/// kernel has the helper (probed the way libbpf does), else the other.
fn ebpf_object() -> &'static [u8] {
    use aya::{
        programs::ProgramType,
        sys::{BpfHelper, is_helper_supported},
    };
    let forced = std::env::var_os(BOUNDED_LOOPS_ENV).is_some_and(|v| v == "1");
    let has_loop = || {
        is_helper_supported(ProgramType::RawTracePoint, BpfHelper::BPF_FUNC_loop).unwrap_or(false)
    };
    if !forced && has_loop() {
        EBPF_OBJECT
    } else {
        EBPF_OBJECT_BOUNDED_LOOPS
    }
}

#[derive(Debug, Error)]
pub enum KernelError {
    #[error(transparent)]
    Tracefs(#[from] tracefs::TracefsError),
    #[error("loading the eBPF programs failed")]
    Load {
        #[source]
        source: aya::EbpfError,
    },
    /// `detail` is already trimmed for people: a full verifier log runs to
    /// thousands of lines.
    #[error("program {name}: {detail}")]
    Rejected { name: &'static str, detail: String },
    #[error("program {name}")]
    Program {
        name: &'static str,
        #[source]
        source: ProgramError,
    },
    #[error("map {name}")]
    Map {
        name: &'static str,
        #[source]
        source: aya::maps::MapError,
    },
    #[error("map {0} is missing from the eBPF object")]
    MissingMap(&'static str),
    #[error("program {0} is missing from the eBPF object")]
    MissingProgram(&'static str),
}

/// What the kernel side is configured with.
#[derive(Debug, Clone)]
pub struct KernelConfig {
    pub ring_size: u32,
    pub follow_forks: bool,
    /// Comm names, already truncated to 15 bytes.
    pub comms: Vec<Vec<u8>>,
    /// Threads the stash can hold at once.
    pub max_threads: u32,
    /// Ring occupancy (bytes) past which the programs wake the daemon.
    pub wakeup_bytes: u64,
    /// Lossless mode: occupancy at which a process is paused; 0 = never.
    pub pause_bytes: u64,
    /// Bytes per captured item; 0 = no data capture.
    pub capture_size: u32,
    /// Attach the empty benchmark programs instead of the recorder's.
    pub bench_floor: Option<BenchFloor>,
    /// Entries of the stash's slot array, if not the default (tests).
    pub stash_slots: Option<u32>,
    /// Lean mode (`--mode lean`): exit-only recording, see [`LEAN_TRACEPOINTS`].
    pub lean: bool,
    /// `-e trace=SET`: the syscall numbers to record (the header's
    /// `traced_nrs`); `None` records every call.
    pub trace_set: Option<Vec<i64>>,
    /// `recorder watch`: every process, filtered in the kernel (attaches
    /// [`WATCH_TRACEPOINTS`] only).
    pub watch: Option<WatchFilter>,
}

/// What `recorder watch` filters on in the kernel (after the syscall set,
/// which is [`KernelConfig::trace_set`]).
#[derive(Debug, Clone, Default)]
pub struct WatchFilter {
    /// Final path components (`--path`), each at most
    /// `NAME_WINDOW - 1` bytes; empty: no path filter.
    pub names: Vec<Vec<u8>>,
    /// Per syscall number, the bit mask of its path arguments.
    pub path_args: Vec<(i64, u8)>,
    /// `outcome::*`.
    pub outcome: u8,
    /// `--errno` numbers (positive).
    pub errnos: Vec<u32>,
    /// `--uid`; `None`: any.
    pub uid: Option<u32>,
    /// `--cgroup` (the cgroup v2 id); `None`: any.
    pub cgroup: Option<u64>,
    /// `--addr`: a `sock::*` mode and what it compares.
    pub sock: WatchSock,
}

/// `recorder watch --addr` in the kernel's terms (see
/// `recorder_common::globals::WATCH_SOCK_MODE`).
#[derive(Debug, Clone, Default)]
pub struct WatchSock {
    pub mode: u8,
    pub family: u16,
    /// As the sockaddr holds it (network order, read little-endian).
    pub port: u16,
    pub ip4: u32,
    /// Per syscall number, the index + 1 of its sockaddr argument.
    pub args: Vec<(i64, u8)>,
}

/// Loaded (not yet attached) programs plus the maps user space uses.
pub struct Kernel {
    ebpf: Ebpf,
    /// Attachments, owned here so they can be detached all at once.
    links: Vec<Link>,
    attach: &'static [Tracepoint],
    /// The kernel BTF ids the `tp_btf` programs load with ([`syscall_btf`]),
    /// being read on a thread of its own; joined, and dropped, when the
    /// programs are loaded.
    btf: Option<std::thread::JoinHandle<Option<aya::Btf>>>,
    traced: Array<MapData, TracedChunk>,
    /// recorder_common::MAP_USER_EPOCH, moved on by [`Kernel::select_running`].
    user_epoch: Array<MapData, u64>,
    /// recorder_common::MAP_CLOSING, set by [`Kernel::detach`].
    closing: Array<MapData, u32>,
    pid_max: u32,
}

/// Maps that outlive the programs: after detaching, the ring is drained and
/// the counters read one last time, so nothing emitted is left behind.
pub struct Outputs {
    pub ring: RingBuf<MapData>,
    pub counters: PerCpuArray<MapData, u64>,
    /// Lossless mode: the processes paused, and the switch that allows it.
    pub paused: HashMap<MapData, u32, Paused>,
    pub pause_on: Array<MapData, u32>,
    /// `recorder watch`: the processes seen forking and exec'ing.
    pub procs: Option<HashMap<MapData, u32, ProcInfo>>,
}

fn pid_max() -> u32 {
    std::fs::read_to_string("/proc/sys/kernel/pid_max")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        // PID_MAX_LIMIT on 64-bit: the largest value pid_max can be raised to.
        .unwrap_or(4 * 1024 * 1024)
}

impl Kernel {
    /// Loads the programs with their configuration. Returns the kernel half
    /// and the outputs (ring + counters).
    pub fn load(cfg: &KernelConfig) -> Result<(Self, Outputs), KernelError> {
        bump_memlock_rlimit();
        let object = ebpf_object();
        // The tp_btf programs are only in the object for 5.17 and later.
        // Reading the kernel's BTF takes ~5 ms (4 KiB per read from sysfs):
        // on a thread of its own, beside the rest of the load.
        let btf = std::ptr::eq(object, EBPF_OBJECT).then(|| std::thread::spawn(syscall_btf));
        let root = tracefs::ensure_mounted()?;
        // Every tracepoint, before anything is loaded: a missing one is then
        // named by its tracefs file instead of surfacing as a failed attach.
        let attach = match cfg.watch {
            Some(_) => WATCH_TRACEPOINTS,
            None => attach_list(cfg.bench_floor, cfg.lean),
        };
        for tp in attach {
            tracefs::require(&root, tp)?;
        }
        let fork_child = tracefs::required_offset(&root, &TP_SCHED_FORK, "child_pid")?;
        let exec_old = tracefs::required_offset(&root, &TP_SCHED_EXEC, "old_pid")?;
        let sig_off = tracefs::required_offset(&root, &TP_SIGNAL_DELIVER, "sig")?;
        let sig_handler_off = tracefs::required_offset(&root, &TP_SIGNAL_DELIVER, "sa_handler")?;
        // `group_dead` exists from 6.x on; 0 tells the program it is absent.
        let exit_group_dead =
            tracefs::field_offset(&root, &TP_SCHED_EXIT, "group_dead")?.unwrap_or(0);

        let pid_max = pid_max();
        // Check occupancy often enough that a quarter of the threshold's
        // worth of (smallest, 56-byte) records cannot pass between checks;
        // at most every 64 records.
        let check_mask = ((cfg.wakeup_bytes / SYSCALL_HEAD_SIZE as u64 / 4).clamp(1, 64) as u32)
            .next_power_of_two()
            .min(64)
            - 1;
        let possible_cpus = aya::util::nr_cpus().map(|n| n as u32).unwrap_or(256).max(1);
        let chunks = pid_max.div_ceil(TRACED_CHUNK as u32);
        let follow: u8 = cfg.follow_forks.into();
        let have_comms: u8 = (!cfg.comms.is_empty()).into();
        let nr_exit = libc::SYS_exit;
        let nr_exit_group = libc::SYS_exit_group;
        let nr_execve = libc::SYS_execve;
        let nr_execveat = libc::SYS_execveat;
        let nr_clone = libc::SYS_clone;
        let nr_clone3 = libc::SYS_clone3;
        let nr_rt_sigreturn = libc::SYS_rt_sigreturn;
        let trace_all: u8 = cfg.trace_set.is_none().into();
        let seq_slots = seq_slots(cfg.lean, pid_max);
        let seq_mask = seq_slots - 1;
        let stash_slots = cfg
            .stash_slots
            .unwrap_or_else(|| stash_slots(cfg.lean, pid_max));
        let stash_mask = stash_slots - 1;
        let lean: u8 = cfg.lean.into();
        let w = cfg.watch.clone().unwrap_or_default();
        let watch_names = w.names.len() as u32;
        let watch_uid = w.uid.unwrap_or(u32::MAX);
        let watch_cgroup = w.cgroup.unwrap_or(0);
        let watch_self = std::process::id();
        let watch_procs = match cfg.watch {
            Some(_) => WATCH_PROCS_ENTRIES,
            None => 1,
        };
        let exec_filename = match cfg.watch {
            Some(_) => tracefs::required_offset(&root, &TP_SCHED_EXEC, "filename")?,
            None => 0,
        };

        let mut ebpf = loader_without_kernel_btf()
            .map_max_entries(MAP_EVENTS, cfg.ring_size)
            .map_max_entries(MAP_TRACED, chunks)
            .map_max_entries(MAP_STASH, cfg.max_threads)
            .map_max_entries(MAP_SEQS, seq_slots)
            .map_max_entries(MAP_STASH_SLOTS, stash_slots)
            .map_max_entries(MAP_STASH_OWNERS, cfg.max_threads)
            // 2 MiB a recording does not use.
            .map_max_entries(MAP_WATCH_PROCS, watch_procs)
            .override_global(globals::FOLLOW_FORKS, &follow, true)
            .override_global(globals::HAVE_COMMS, &have_comms, true)
            .override_global(globals::FORK_CHILD_PID_OFF, &fork_child, true)
            .override_global(globals::EXEC_OLD_PID_OFF, &exec_old, true)
            .override_global(globals::EXIT_GROUP_DEAD_OFF, &exit_group_dead, true)
            .override_global(globals::SIG_OFF, &sig_off, true)
            .override_global(globals::SIG_HANDLER_OFF, &sig_handler_off, true)
            .override_global(globals::NR_EXIT, &nr_exit, true)
            .override_global(globals::NR_EXIT_GROUP, &nr_exit_group, true)
            .override_global(globals::NR_EXECVE, &nr_execve, true)
            .override_global(globals::NR_EXECVEAT, &nr_execveat, true)
            .override_global(globals::NR_CLONE, &nr_clone, true)
            .override_global(globals::NR_CLONE3, &nr_clone3, true)
            .override_global(globals::NR_RT_SIGRETURN, &nr_rt_sigreturn, true)
            .override_global(globals::SEQ_MASK, &seq_mask, true)
            .override_global(globals::STASH_MASK, &stash_mask, true)
            .override_global(globals::LEAN, &lean, true)
            .override_global(globals::WAKEUP_BYTES, &cfg.wakeup_bytes, true)
            .override_global(globals::CHECK_MASK, &check_mask, true)
            .override_global(globals::CAPTURE_SIZE, &cfg.capture_size, true)
            .override_global(globals::PAUSE_BYTES, &cfg.pause_bytes, true)
            .override_global(globals::TRACE_ALL, &trace_all, true)
            .override_global(globals::WATCH_NAME_COUNT, &watch_names, true)
            .override_global(globals::WATCH_OUTCOME, &w.outcome, true)
            .override_global(globals::WATCH_UID, &watch_uid, true)
            .override_global(globals::WATCH_CGROUP, &watch_cgroup, true)
            .override_global(globals::WATCH_SELF, &watch_self, true)
            .override_global(globals::WATCH_EXEC_FILENAME_OFF, &exec_filename, true)
            .override_global(globals::WATCH_SOCK_MODE, &w.sock.mode, true)
            .override_global(globals::WATCH_FAMILY, &w.sock.family, true)
            .override_global(globals::WATCH_PORT, &w.sock.port, true)
            .override_global(globals::WATCH_IP4, &w.sock.ip4, true)
            .map_max_entries(MAP_SCRATCH, possible_cpus)
            .load(object)
            .map_err(|source| KernelError::Load { source })?;

        if !cfg.comms.is_empty() {
            // Borrowed, not taken: the programs are loaded later and refer
            // to the map by fd, which must still be open then.
            let map = ebpf
                .map_mut(MAP_COMMS)
                .ok_or(KernelError::MissingMap(MAP_COMMS))?;
            let mut comms: HashMap<_, [u8; COMM_LEN], u8> =
                HashMap::try_from(map).map_err(|source| KernelError::Map {
                    name: MAP_COMMS,
                    source,
                })?;
            for c in &cfg.comms {
                let mut key = [0u8; COMM_LEN];
                let n = c.len().min(COMM_LEN - 1);
                key[..n].copy_from_slice(&c[..n]);
                comms.insert(key, 1, 0).map_err(|source| KernelError::Map {
                    name: MAP_COMMS,
                    source,
                })?;
            }
        }
        if cfg.capture_size > 0 {
            fill_capture_table(&mut ebpf)?;
        }
        fill_arg_cut(&mut ebpf)?;
        if let Some(set) = &cfg.trace_set {
            fill_trace_set(&mut ebpf, set)?;
        }
        if let Some(w) = &cfg.watch {
            fill_watch(&mut ebpf, w)?;
        }
        let traced = take(&mut ebpf, MAP_TRACED)?;
        let user_epoch = take(&mut ebpf, MAP_USER_EPOCH)?;
        let ring = take(&mut ebpf, MAP_EVENTS)?;
        let counters = take(&mut ebpf, MAP_COUNTERS)?;
        let paused = take(&mut ebpf, MAP_PAUSED)?;
        let pause_on = take(&mut ebpf, MAP_PAUSE_ON)?;
        let closing = take(&mut ebpf, MAP_CLOSING)?;
        let procs = match cfg.watch {
            Some(_) => Some(take(&mut ebpf, MAP_WATCH_PROCS)?),
            None => None,
        };
        Ok((
            Self {
                ebpf,
                links: Vec::new(),
                attach,
                btf,
                traced,
                user_epoch,
                closing,
                pid_max,
            },
            Outputs {
                ring,
                counters,
                paused,
                pause_on,
                procs,
            },
        ))
    }

    /// Marks a process (thread group) as traced, or traced from its next
    /// execve on.
    pub fn select(&mut self, pid: u32, at_exec: bool) -> Result<(), KernelError> {
        if pid >= self.pid_max {
            return Ok(());
        }
        let idx = pid / TRACED_CHUNK as u32;
        let mut chunk = self
            .traced
            .get(&idx, 0)
            .map_err(|source| KernelError::Map {
                name: MAP_TRACED,
                source,
            })?;
        chunk.pids[pid as usize % TRACED_CHUNK] = if at_exec {
            traced::AT_EXEC
        } else {
            traced::YES
        };
        // Read-modify-write of a whole chunk from user space races with the
        // programs' byte stores only for pids being forked right now in the
        // same 64-pid chunk; selection happens before attach, so it cannot.
        self.traced
            .set(idx, chunk, 0)
            .map_err(|source| KernelError::Map {
                name: MAP_TRACED,
                source,
            })
    }

    /// Marks processes as traced that may already be making system calls
    /// under the attached programs. Their threads may be remembered as not
    /// traced (recorder_common::bystander), so the generation those words
    /// hold is moved on, after an RCU grace period: the syscall programs run
    /// under `rcu_read_lock` (`__bpf_trace_run`), so every run that read the
    /// old selection has ended by then, and none can still write a word of
    /// the new generation that says "not traced".
    pub fn select_running(&mut self, pids: &[u32]) -> Result<(), KernelError> {
        if pids.is_empty() {
            return Ok(());
        }
        for &p in pids {
            self.select(p, false)?;
        }
        // Without the grace period (membarrier refused) the window is a
        // few instructions of a program already running: moved on anyway.
        rcu_grace_period();
        let map_error = |source| KernelError::Map {
            name: MAP_USER_EPOCH,
            source,
        };
        let e = self.user_epoch.get(&0, 0).map_err(map_error)?;
        self.user_epoch
            .set(0, e.wrapping_add(1), 0)
            .map_err(map_error)
    }

    /// Attaches every program of [`TRACEPOINTS`] (or of its lean or
    /// `--bench-floor` counterpart, see [`attach_list`]), in that list's
    /// order. A program listed more than once (lean mode's entry hooks) is
    /// loaded once and attached to each of its tracepoints.
    pub fn attach(&mut self) -> Result<(), KernelError> {
        let list = self.load_programs(self.attach)?;
        for tp in &list {
            let name = tp.prog;
            let program = self
                .ebpf
                .program_mut(name)
                .ok_or(KernelError::MissingProgram(name))?;
            // The ELF section decides the program type, so the table need
            // not repeat it.
            let link = match program {
                Program::TracePoint(prog) => {
                    let id = prog
                        .attach(tp.category, tp.name)
                        .map_err(|e| program_error(name, e))?;
                    Link::TracePoint(prog.take_link(id).map_err(|e| program_error(name, e))?)
                }
                Program::RawTracePoint(prog) => {
                    let id = prog.attach(tp.name).map_err(|e| program_error(name, e))?;
                    Link::Raw(prog.take_link(id).map_err(|e| program_error(name, e))?)
                }
                // Its tracepoint was named at load.
                Program::BtfTracePoint(prog) => {
                    let id = prog.attach().map_err(|e| program_error(name, e))?;
                    Link::Btf(prog.take_link(id).map_err(|e| program_error(name, e))?)
                }
                _ => return Err(program_error(name, ProgramError::UnexpectedProgramType)),
            };
            self.links.push(link);
        }
        Ok(())
    }

    /// Loads (verifies) the programs of `list`, with the `tp_btf` syscall
    /// programs in place of the raw tracepoint ones where the kernel has
    /// BTF. Returns the list as loaded: a `tp_btf` program the kernel
    /// refuses is replaced by its raw tracepoint twin, which records the
    /// same (the two only read the registers differently).
    fn load_programs(&mut self, list: &[Tracepoint]) -> Result<Vec<Tracepoint>, KernelError> {
        let btf = self.btf.take().and_then(|h| h.join().ok().flatten());
        let mut chosen: Vec<Tracepoint> = list
            .iter()
            .map(|tp| match btf_variant(tp.prog).filter(|_| btf.is_some()) {
                Some(prog) => Tracepoint { prog, ..*tp },
                None => *tp,
            })
            .collect();
        let refused = self.load_each(&chosen, btf.as_ref())?;
        if !refused.is_empty() {
            let mut twins = Vec::new();
            for (tp, raw) in chosen.iter_mut().zip(list) {
                if refused.contains(&tp.prog) {
                    *tp = *raw;
                    twins.push(*raw);
                }
            }
            self.load_each(&twins, None)?;
        }
        Ok(chosen)
    }

    /// Loads the programs of `list`, each on a thread of its own:
    /// privileged loads run in parallel in the kernel, and sys_exit's
    /// verification (the longest) then overlaps the others' instead of
    /// following them. The threads are gone when this returns, before the
    /// privileges are dropped. The first error in list order is returned,
    /// except that `tp_btf` programs the kernel refused are returned by name.
    fn load_each(
        &mut self,
        list: &[Tracepoint],
        btf: Option<&aya::Btf>,
    ) -> Result<Vec<&'static str>, KernelError> {
        let mut wanted: Vec<(&'static str, &str)> = Vec::new();
        // Lean mode's entry program is listed once per tracepoint.
        for tp in list {
            if !wanted.iter().any(|&(p, _)| p == tp.prog) {
                wanted.push((tp.prog, tp.name));
            }
        }
        let mut results: Vec<(&str, Result<(), ProgramError>)> = std::thread::scope(|s| {
            let loads: Vec<_> = self
                .ebpf
                .programs_mut()
                .filter_map(|(name, program)| {
                    let &(_, tp_name) = wanted.iter().find(|&&(p, _)| p == name)?;
                    Some(s.spawn(move || {
                        let loaded = match (program, btf) {
                            (Program::TracePoint(p), _) => p.load(),
                            (Program::RawTracePoint(p), _) => p.load(),
                            (Program::BtfTracePoint(p), Some(btf)) => p.load(tp_name, btf),
                            _ => Err(ProgramError::UnexpectedProgramType),
                        };
                        (name, loaded)
                    }))
                })
                .collect();
            loads
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        });
        let mut refused = Vec::new();
        for (name, _) in wanted {
            let i = results
                .iter()
                .position(|(n, _)| *n == name)
                .ok_or(KernelError::MissingProgram(name))?;
            match results.swap_remove(i) {
                (_, Err(_)) if BTF_TWINS.iter().any(|&(_, twin)| twin == name) => {
                    refused.push(name)
                }
                (_, Err(e)) => return Err(program_error(name, e)),
                _ => {}
            }
        }
        Ok(refused)
    }
}

/// An `EbpfLoader` that has not parsed the kernel's BTF.
///
/// aya 0.14's `EbpfLoader::new()` always parses /sys/kernel/btf/vmlinux
/// (5 MB read 4 KiB at a time, then every type decoded): 60 ms of a
/// 130 ms start on the dev VM, in release builds. It is only needed for
/// CO-RE relocations, which this object has none of: its fields are read
/// at offsets from tracefs (see the module doc of recorder-ebpf), and its
/// `tp_btf` programs need only two type ids, which [`syscall_btf`] finds
/// without the parse. aya offers no way around it before the parse
/// (<https://github.com/aya-rs/aya/issues/1172>; upstream made it lazy in
/// <https://github.com/aya-rs/aya/pull/1639>, after 0.14), so the loader is
/// made on a short-lived thread that first takes a filesystem context of
/// its own (`unshare(CLONE_FS)`: root and cwd, for that thread only) and
/// moves its root to /sys/kernel/btf, below which there is no
/// `sys/kernel/btf/vmlinux`: the parse fails at once and the loader goes on
/// without, as it would on a kernel without BTF. Where that cannot be done
/// (no CAP_SYS_CHROOT, no /sys/kernel/btf) the loader is made as usual.
fn loader_without_kernel_btf() -> EbpfLoader<'static> {
    let made = std::thread::spawn(|| {
        // SAFETY: plain system calls on this thread's own fs context; the
        // path is a NUL-terminated literal.
        let isolated = unsafe {
            libc::unshare(libc::CLONE_FS) == 0 && libc::chroot(c"/sys/kernel/btf".as_ptr()) == 0
        };
        isolated.then(EbpfLoader::new)
    })
    .join();
    match made {
        Ok(Some(loader)) => loader,
        _ => EbpfLoader::new(),
    }
}

/// What a recording attaches: the full or the lean set, or the empty
/// programs `--bench-floor` names, whatever the mode (`exit`: only the one
/// on sys_exit, the floor of an exit-only recorder). The floor once
/// followed the mode, and `--comm`'s default (lean) quietly made the
/// benchmark's "both programs" floor the exit-only one.
fn attach_list(bench_floor: Option<BenchFloor>, lean: bool) -> &'static [Tracepoint] {
    match (bench_floor, lean) {
        (None, false) => TRACEPOINTS,
        (None, true) => LEAN_TRACEPOINTS,
        (Some(BenchFloor::Both), _) => FLOOR_TRACEPOINTS,
        (Some(BenchFloor::Exit), _) => LEAN_FLOOR_TRACEPOINTS,
    }
}

/// Entries of the lean mode's sequence slots: one per possible tid when
/// that fits [`seq_slot::MAX_ENTRIES`] (then no two threads ever share a
/// slot), else that many. Full mode numbers in the stash: one unused slot.
fn seq_slots(lean: bool, pid_max: u32) -> u32 {
    if lean {
        pid_max.next_power_of_two().min(seq_slot::MAX_ENTRIES)
    } else {
        1
    }
}

/// Entries of the stash's slot array: one per possible tid when that fits
/// [`STASH_SLOTS_MAX`] (then no two threads ever share a slot), else that
/// many. Lean mode stashes only exec and clone (rare): they use the hash
/// map, behind one unused slot.
fn stash_slots(lean: bool, pid_max: u32) -> u32 {
    if lean {
        1
    } else {
        pid_max.next_power_of_two().min(STASH_SLOTS_MAX)
    }
}

/// Fills the CAPTURE array from the decode layer's plan for the running
/// architecture: one table decides both what is captured and how it is
/// shown.
fn fill_capture_table(ebpf: &mut Ebpf) -> Result<(), KernelError> {
    let Some(arch) = recorder::decode::Arch::host() else {
        return Ok(());
    };
    let map = ebpf
        .map_mut(MAP_CAPTURE)
        .ok_or(KernelError::MissingMap(MAP_CAPTURE))?;
    let mut table: Array<_, CaptureSpec> =
        Array::try_from(map).map_err(|source| KernelError::Map {
            name: MAP_CAPTURE,
            source,
        })?;
    for (nr, plan) in recorder::decode::capture_table(arch) {
        let Ok(idx) = u32::try_from(nr) else { continue };
        if idx >= table.len() {
            continue;
        }
        let name = recorder::decode::syscall_name(arch, nr).unwrap_or("");
        table
            .set(idx, spec_of(name, &plan), 0)
            .map_err(|source| KernelError::Map {
                name: MAP_CAPTURE,
                source,
            })?;
    }
    Ok(())
}

/// Fills `ARG_CUT` for this architecture: how much of `args` the
/// programs leave off a record without data, per syscall number. The map
/// starts zeroed (the whole record): only the calls that take 3 arguments
/// or fewer are written.
fn fill_arg_cut(ebpf: &mut Ebpf) -> Result<(), KernelError> {
    let mut table = array::<u8>(ebpf, MAP_ARG_CUT)?;
    let taken = recorder::decode::sysent::args_taken_here();
    for (nr, &n) in (0..table.len()).zip(taken) {
        let cut = recorder_common::args_cut(n);
        if cut != 0 {
            table.set(nr, cut, 0).map_err(|source| KernelError::Map {
                name: MAP_ARG_CUT,
                source,
            })?;
        }
    }
    Ok(())
}

/// The array map `name` of the loaded object, to fill before attaching.
fn array<'a, T: aya::Pod>(
    ebpf: &'a mut Ebpf,
    name: &'static str,
) -> Result<Array<&'a mut MapData, T>, KernelError> {
    let map = ebpf.map_mut(name).ok_or(KernelError::MissingMap(name))?;
    Array::try_from(map).map_err(|source| KernelError::Map { name, source })
}

/// What `TRACE_SET` holds for syscall `nr`, given the set to record.
/// clone and clone3 outside the set are still stashed (not recorded): their
/// flags are what tells `sched_process_fork` a new process from a new
/// thread, and process events are recorded whatever the set.
fn trace_value(set: &[i64], nr: i64) -> u8 {
    if set.contains(&nr) {
        trace::RECORD
    } else if nr == libc::SYS_clone || nr == libc::SYS_clone3 {
        trace::STASH_ONLY
    } else {
        trace::SKIP
    }
}

/// Fills the `TRACE_SET` array for `-e trace=SET`. The map starts zeroed,
/// which is `SKIP`: only the other entries are written.
fn fill_trace_set(ebpf: &mut Ebpf, set: &[i64]) -> Result<(), KernelError> {
    let mut table = array::<u8>(ebpf, MAP_TRACE_SET)?;
    for idx in 0..table.len() {
        let v = trace_value(set, i64::from(idx));
        if v != trace::SKIP {
            table.set(idx, v, 0).map_err(|source| KernelError::Map {
                name: MAP_TRACE_SET,
                source,
            })?;
        }
    }
    Ok(())
}

/// Fills the `recorder watch` maps: the name patterns, the path arguments
/// per syscall, the selected errnos.
fn fill_watch(ebpf: &mut Ebpf, w: &WatchFilter) -> Result<(), KernelError> {
    let err = |name| move |source| KernelError::Map { name, source };
    let mut names = array::<NamePattern>(ebpf, MAP_WATCH_NAMES)?;
    for (i, n) in w.names.iter().enumerate().take(WATCH_NAMES_MAX as usize) {
        names
            .set(i as u32, name_pattern(n), 0)
            .map_err(err(MAP_WATCH_NAMES))?;
    }
    let mut args = array::<u8>(ebpf, MAP_WATCH_ARGS)?;
    for &(nr, mask) in &w.path_args {
        if let Ok(i) = u32::try_from(nr)
            && i < CAPTURE_ENTRIES
        {
            args.set(i, mask, 0).map_err(err(MAP_WATCH_ARGS))?;
        }
    }
    let mut sock = array::<u8>(ebpf, MAP_WATCH_SOCK)?;
    for &(nr, arg) in &w.sock.args {
        if let Ok(i) = u32::try_from(nr)
            && i < CAPTURE_ENTRIES
        {
            sock.set(i, arg, 0).map_err(err(MAP_WATCH_SOCK))?;
        }
    }
    let mut errnos = array::<u8>(ebpf, MAP_WATCH_ERRNO)?;
    for &e in &w.errnos {
        if e < ERRNO_ENTRIES {
            errnos.set(e, 1, 0).map_err(err(MAP_WATCH_ERRNO))?;
        }
    }
    Ok(())
}

/// The window pattern of a final path component (see [`NamePattern`]):
/// the name right-aligned, the byte before it masked to accept '/' or 0.
/// A name of `NAME_WINDOW` bytes or more is compared on its last
/// `NAME_WINDOW` bytes, without the separator.
pub fn name_pattern(name: &[u8]) -> NamePattern {
    let mut pat = [0u8; NAME_WINDOW];
    let mut mask = [0u8; NAME_WINDOW];
    let n = name.len().min(NAME_WINDOW);
    pat[NAME_WINDOW - n..].copy_from_slice(&name[name.len() - n..]);
    mask[NAME_WINDOW - n..].fill(0xff);
    if n < NAME_WINDOW {
        mask[NAME_WINDOW - n - 1] = !b'/';
    }
    let words = |b: [u8; NAME_WINDOW]| {
        std::array::from_fn(|i| {
            u64::from_le_bytes(b[i * 8..i * 8 + 8].try_into().unwrap_or([0; 8]))
        })
    };
    NamePattern {
        pat: words(pat),
        mask: words(mask),
    }
}

/// The kernel's compact form of a capture plan.
fn spec_of(name: &str, plan: &recorder::decode::CapturePlan) -> CaptureSpec {
    use recorder::decode::{ArgPlan, LenFrom};
    use recorder_common::capture as c;
    let mut spec = CaptureSpec {
        at_entry: if plan.at_entry {
            1
        } else if plan
            .args
            .iter()
            .any(|a| matches!(a, ArgPlan::SocklenIn | ArgPlan::InOut { .. }))
        {
            2
        } else {
            0
        },
        ..Default::default()
    };
    let len = |l: &LenFrom| match *l {
        LenFrom::Arg(i) => (c::LEN_ARG, i, 0),
        LenFrom::Ret => (c::LEN_RET, 0, 0),
        LenFrom::Fixed(n) => (c::LEN_FIXED, 0, n),
        LenFrom::ArgDeref(i) => (c::LEN_ARG_DEREF, i, 0),
        LenFrom::ArgTimes(i, n) => (c::LEN_ARG_TIMES, i, n),
        LenFrom::RetTimes(n) => (c::LEN_RET_TIMES, 0, n),
        LenFrom::FdSet(i) => (c::LEN_FDSET, i, 0),
    };
    // The environment is not recorded, only how many variables it has
    // (strace's `/* 72 vars */`): it is where secrets live, and a log is
    // made to be attached to bug reports.
    let envp = match name {
        "execve" => Some(2),
        "execveat" => Some(3),
        _ => None,
    };
    for (i, a) in plan.args.iter().enumerate() {
        if Some(i) == envp {
            spec.args[i] = ArgSpec {
                kind: c::PTR_COUNT,
                ..Default::default()
            };
            continue;
        }
        spec.args[i] = match a {
            ArgPlan::None => ArgSpec::default(),
            ArgPlan::Str => ArgSpec {
                kind: c::STR,
                ..Default::default()
            },
            ArgPlan::StrArray => ArgSpec {
                kind: c::STR_ARRAY,
                ..Default::default()
            },
            ArgPlan::InBuf { len: l }
            | ArgPlan::OutBuf { len: l }
            | ArgPlan::Sockaddr { len: l, .. } => {
                let (len_src, len_arg, fixed) = len(l);
                ArgSpec {
                    kind: c::BUF,
                    len_src,
                    len_arg,
                    out: matches!(
                        a,
                        ArgPlan::OutBuf { .. } | ArgPlan::Sockaddr { out: true, .. }
                    )
                    .into(),
                    fixed,
                }
            }
            ArgPlan::Iovec { count_arg, out } => ArgSpec {
                kind: c::IOVEC,
                len_arg: *count_arg,
                out: (*out).into(),
                ..Default::default()
            },
            ArgPlan::Msghdr { out } => ArgSpec {
                kind: c::MSGHDR,
                out: (*out).into(),
                ..Default::default()
            },
            ArgPlan::SocklenIn => ArgSpec {
                kind: c::SOCKLEN_IN,
                ..Default::default()
            },
            ArgPlan::SigreturnMask => ArgSpec {
                kind: c::SIGRETURN_MASK,
                ..Default::default()
            },
            ArgPlan::FutexTimeout => ArgSpec {
                kind: c::FUTEX_TIMEOUT,
                ..Default::default()
            },
            ArgPlan::InOut { len: l } => {
                let (len_src, len_arg, fixed) = len(l);
                ArgSpec {
                    kind: c::INOUT,
                    len_src,
                    len_arg,
                    out: 1,
                    fixed,
                }
            }
            ArgPlan::Mmsghdr => ArgSpec {
                kind: c::MMSGHDR,
                out: 1,
                ..Default::default()
            },
            ArgPlan::IoctlOut => ArgSpec {
                kind: c::IOCTL_OUT,
                out: 1,
                ..Default::default()
            },
            ArgPlan::DirentCount => ArgSpec {
                kind: c::DIRENT_COUNT,
                out: 1,
                ..Default::default()
            },
        };
        if spec.args[i].kind == c::MMSGHDR {
            spec.mmsg = 1;
        }
    }
    spec.args_end = spec
        .args
        .iter()
        .rposition(|a| a.kind != c::NONE)
        .map_or(0, |i| i as u8 + 1);
    spec
}

/// An attachment; dropping it detaches the program.
enum Link {
    #[allow(dead_code, reason = "owned for its Drop, which detaches")]
    TracePoint(aya::programs::trace_point::TracePointLink),
    #[allow(dead_code, reason = "owned for its Drop, which detaches")]
    Raw(aya::programs::raw_trace_point::RawTracePointLink),
    /// A `tp_btf` program: a raw tracepoint too, which detaches at once.
    #[allow(dead_code, reason = "owned for its Drop, which detaches")]
    Btf(aya::programs::tp_btf::BtfTracePointLink),
}

impl Kernel {
    /// Detaches every program and unloads them; once it returns, no program
    /// emits anything more, but the slow part of detaching is left to a
    /// process of its own.
    ///
    /// Detaching a raw tracepoint costs nothing here. Detaching a classic
    /// one (a perf event) waits, under the kernel's `event_mutex`, for
    /// `tracepoint_synchronize_unregister` (RCU tasks-trace and RCU grace
    /// periods: `perf_trace_event_unreg` in
    /// <https://github.com/torvalds/linux/blob/v6.12/kernel/trace/trace_event_perf.c>),
    /// one after the other: 40-60 ms each for the four, 170-240 ms of every
    /// `recorder -- true` on the dev VM, threads or not. So the classic
    /// programs are switched off instead (CLOSING, which they check first),
    /// one RCU grace period makes sure none of them is still running from
    /// before (they run under `rcu_read_lock`, `trace_call_bpf` in
    /// kernel/trace/bpf_trace.c), and a forked process keeps their links
    /// until this one has closed its own copies, then exits: the last
    /// reference, and the wait, are its. Where any step fails, the links
    /// are dropped here, concurrently, as before.
    pub fn detach(self) {
        let Self {
            ebpf,
            links,
            mut closing,
            ..
        } = self;
        let (raw, classic): (Vec<Link>, Vec<Link>) = links
            .into_iter()
            .partition(|l| matches!(l, Link::Raw(_) | Link::Btf(_)));
        drop(raw);
        if classic.is_empty() {
            // `--bench-floor`: nothing slow to leave behind.
            drop(ebpf);
            return;
        }
        let switched_off = closing.set(0, 1, 0).is_ok();
        let holder = (switched_off && rcu_grace_period())
            .then(hand_over_links)
            .flatten();
        if holder.is_some() {
            drop(classic);
        } else {
            std::thread::scope(|s| {
                for link in classic {
                    s.spawn(move || drop(link));
                }
            });
        }
        // Our copies are closed: the holder may go.
        drop(holder);
        drop(ebpf);
    }
}

/// Waits for an RCU grace period (`membarrier(MEMBARRIER_CMD_GLOBAL)` is
/// `synchronize_rcu()`, 8 ms on the dev VM; since 4.3). False if it failed.
fn rcu_grace_period() -> bool {
    /// include/uapi/linux/membarrier.h
    const MEMBARRIER_CMD_GLOBAL: libc::c_int = 1;
    // SAFETY: plain system call without pointers.
    unsafe { libc::syscall(libc::SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) == 0 }
}

/// Forks a process that holds this process's BPF links (and, on kernels
/// that attach tracepoints without links, their perf events), with every
/// other descriptor closed, until the returned pipe end is closed; it then
/// exits, and the kernel releases the links there. None if it could not be
/// started.
fn hand_over_links() -> Option<std::os::fd::OwnedFd> {
    use std::os::fd::FromRawFd as _;
    let mut others = Vec::new();
    for entry in std::fs::read_dir("/proc/self/fd").ok()?.flatten() {
        let Some(fd) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        let target = std::fs::read_link(entry.path()).unwrap_or_default();
        let held = matches!(
            target.to_str(),
            Some("anon_inode:bpf_link" | "anon_inode:[perf_event]")
        );
        if !held {
            others.push(fd);
        }
    }
    let mut pipe = [0; 2];
    // SAFETY: a valid array of two descriptors.
    if unsafe { libc::pipe2(pipe.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return None;
    }
    // SAFETY: fork; the child runs only `hold_until_closed`.
    match unsafe { libc::fork() } {
        0 => hold_until_closed(&others, pipe),
        pid => {
            // SAFETY: both ends are ours and open; each is closed once.
            unsafe { libc::close(pipe[0]) };
            // SAFETY: as above.
            let write_end = unsafe { std::os::fd::OwnedFd::from_raw_fd(pipe[1]) };
            (pid > 0).then_some(write_end)
        }
    }
}

/// The holder's life, in the forked child of a multi-threaded process: only
/// async-signal-safe calls (close, read, _exit) on memory that exists in it
/// (the copied Vec). Closes every descriptor but the links (`others` are
/// the rest: not the log, not a pipe someone reads to its end, not the
/// terminal), waits for the parent's end of `pipe` to close, and exits.
fn hold_until_closed(others: &[i32], pipe: [i32; 2]) -> ! {
    for &fd in others.iter().filter(|&&fd| fd != pipe[0]) {
        // SAFETY: closing a descriptor number; at worst EBADF.
        unsafe { libc::close(fd) };
    }
    // SAFETY: as above.
    unsafe { libc::close(pipe[1]) };
    let mut byte = 0u8;
    // SAFETY: a one-byte read into a local; errno is this thread's.
    while unsafe { libc::read(pipe[0], (&raw mut byte).cast(), 1) } < 0
        && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted
    {}
    // SAFETY: ends the process without running anything of the parent's.
    unsafe { libc::_exit(0) }
}

/// A program error for a person: for a verifier rejection, the kernel's
/// errno and the last lines of its log (where the reason is), not all of it.
fn program_error(name: &'static str, e: ProgramError) -> KernelError {
    const TAIL: usize = 8;
    let ProgramError::LoadError {
        io_error,
        verifier_log,
    } = &e
    else {
        // Kept as the source, not flattened into a string: aya's messages
        // say what failed and leave the errno to their own sources.
        return KernelError::Program { name, source: e };
    };
    let log = verifier_log.to_string();
    let lines: Vec<&str> = log.lines().filter(|l| !l.trim().is_empty()).collect();
    let tail = &lines[lines.len().saturating_sub(TAIL)..];
    let detail = format!(
        "the kernel's verifier refused it ({io_error}); its last words:\n    {}\n  \
         (`recorder check` tells whether this kernel is supported)",
        tail.join("\n    ")
    );
    KernelError::Rejected { name, detail }
}

fn take<T>(ebpf: &mut Ebpf, name: &'static str) -> Result<T, KernelError>
where
    T: TryFrom<aya::maps::Map, Error = aya::maps::MapError>,
{
    let map = ebpf.take_map(name).ok_or(KernelError::MissingMap(name))?;
    T::try_from(map).map_err(|source| KernelError::Map { name, source })
}

/// Sums the per-CPU counters.
pub fn read_counters(counters: &PerCpuArray<MapData, u64>) -> Result<Counters, KernelError> {
    {
        let get = |idx: u32| -> Result<u64, KernelError> {
            let v = counters.get(&idx, 0).map_err(|source| KernelError::Map {
                name: MAP_COUNTERS,
                source,
            })?;
            Ok(v.iter().copied().fold(0u64, u64::wrapping_add))
        };
        Ok(Counters {
            emitted: get(ctr::EMITTED)?,
            ring_full: get(ctr::RING_FULL)?,
            exit_without_entry: get(ctr::EXIT_WITHOUT_ENTRY)?,
            stash_full: get(ctr::STASH_FULL)?,
            died_in_call: get(ctr::DIED_IN_CALL)?,
            read_failed: get(ctr::READ_FAILED)?,
            entered: get(ctr::ENTERED)?,
            user_dropped: 0,
            written: 0,
            entry_data: get(ctr::ENTRY_DATA)?,
            entry_data_lost: get(ctr::ENTRY_DATA_LOST)?,
            paused: get(ctr::PAUSED)?,
        })
    }
}

/// Kernels before 5.11 charge BPF maps to RLIMIT_MEMLOCK.
fn bump_memlock_rlimit() {
    let rlim = libc::rlimit {
        rlim_cur: libc::RLIM_INFINITY,
        rlim_max: libc::RLIM_INFINITY,
    };
    // SAFETY: plain syscall with a valid pointer. Failure is fine on 5.11+.
    let _ = unsafe { libc::setrlimit(libc::RLIMIT_MEMLOCK, &rlim) };
}

#[cfg(test)]
mod tests {
    use super::*;
    use object::{Object as _, ObjectSection as _, ObjectSymbol as _, SymbolKind};

    /// Program name -> ELF section, for every program in the eBPF object:
    /// the section is where aya's macros record what a program attaches to.
    fn object_programs(object: &[u8]) -> Vec<(String, String)> {
        let elf = object::File::parse(object).expect("the eBPF object parses");
        let mut progs: Vec<(String, String)> = elf
            .symbols()
            .filter(|s| s.kind() == SymbolKind::Text && s.is_global())
            .filter_map(|s| {
                let section = elf.section_by_index(s.section_index()?).ok()?;
                let section = section.name().ok()?;
                let attaches = ["tracepoint/", "raw_tp/", "tp_btf/"]
                    .iter()
                    .any(|p| section.starts_with(p));
                let name = s.name().ok()?;
                attaches.then(|| (name.to_owned(), section.to_owned()))
            })
            .collect();
        progs.sort();
        progs
    }

    /// The section a program's macro gave it. A program attached to several
    /// tracepoints (lean_enter) is named after the first.
    fn section(tp: &Tracepoint) -> String {
        if tp.prog == recorder_common::PROG_LEAN_ENTER {
            return "tracepoint/syscalls/sys_enter_execve".into();
        }
        if tp.category == "raw_syscalls" {
            format!("raw_tp/{}", tp.name)
        } else {
            format!("tracepoint/{}/{}", tp.category, tp.name)
        }
    }

    /// The loader attaches what `TRACEPOINTS` lists (which `recorder
    /// check` checks, see check.rs; the watch's tracepoints are among them),
    /// and that list is exactly the object's programs (in both objects): a program added to the eBPF crate but not
    /// to the list, or listed with another tracepoint than its section
    /// names, fails here.
    #[test]
    fn watch_tracepoints_are_checked_ones() {
        for tp in WATCH_TRACEPOINTS {
            assert!(
                TRACEPOINTS
                    .iter()
                    .any(|t| (t.category, t.name) == (tp.category, tp.name)),
                "{tp:?}"
            );
        }
    }

    /// The per-argument loops stop at `args_end`: an argument with a plan
    /// past it would never be read (execve's envp count, which the plan
    /// table does not list, was the first one missed).
    #[test]
    fn capture_loops_reach_every_planned_argument() {
        use recorder::decode::{Arch, ArgPlan, capture_table, syscall_name};
        use recorder_common::capture;
        for arch in [Arch::X86_64, Arch::Aarch64] {
            for (nr, plan) in capture_table(arch) {
                let name = syscall_name(arch, nr).unwrap_or("");
                let spec = spec_of(name, &plan);
                let end = usize::from(spec.args_end);
                assert!(end <= 6, "{name}");
                assert!(
                    spec.args[end..].iter().all(|a| a.kind == capture::NONE),
                    "{name}: an argument with a plan past args_end {end}"
                );
                assert_eq!(
                    end > 0,
                    plan.args.iter().any(|a| !matches!(a, ArgPlan::None)),
                    "{name}: captures something"
                );
            }
        }
        let spec = |name| {
            let arch = Arch::X86_64;
            let (_, plan) = capture_table(arch)
                .into_iter()
                .find(|(nr, _)| syscall_name(arch, *nr) == Some(name))
                .expect("a plan");
            spec_of(name, &plan).args_end
        };
        assert_eq!(spec("execve"), 3);
        assert_eq!(spec("fstat"), 2);
        assert_eq!(spec("newfstatat"), 3);
    }

    #[test]
    fn name_patterns_match_the_window_of_a_path_end() {
        // The window as the program sees it: NAME_WINDOW zero bytes, then
        // the path; the last NAME_WINDOW bytes.
        let window = |path: &str| {
            let mut b = vec![0u8; NAME_WINDOW];
            b.extend_from_slice(path.as_bytes());
            let w = &b[b.len() - NAME_WINDOW..];
            std::array::from_fn::<u64, { NAME_WINDOW / 8 }, _>(|i| {
                u64::from_le_bytes(w[i * 8..i * 8 + 8].try_into().unwrap())
            })
        };
        let matches = |name: &str, path: &str| {
            let p = name_pattern(name.as_bytes());
            let w = window(path);
            (0..NAME_WINDOW / 8).all(|i| w[i] & p.mask[i] == p.pat[i])
        };
        assert!(matches("doomed-file", "/tmp/x/doomed-file"));
        assert!(matches("doomed-file", "doomed-file"));
        assert!(!matches("doomed-file", "/tmp/x/xdoomed-file"));
        assert!(!matches("doomed-file", "/tmp/x/doomed-file2"));
        assert!(!matches("doomed-file", "oomed-file"));
        // The separator's mask lets a '.' through: user space decides.
        assert!(matches("doomed-file", "/tmp/x/.doomed-file"));
        let long = "n".repeat(NAME_WINDOW + 10);
        assert!(matches(&long, &format!("/a/{long}")));
    }

    #[test]
    fn tracepoint_list_is_the_objects_programs() {
        assert_eq!(attach_list(None, false), TRACEPOINTS);
        assert_eq!(attach_list(None, true), LEAN_TRACEPOINTS);
        let mut listed: Vec<(String, String)> = TRACEPOINTS
            .iter()
            .chain(LEAN_TRACEPOINTS)
            .chain(FLOOR_TRACEPOINTS)
            .chain(LEAN_FLOOR_TRACEPOINTS)
            .chain(WATCH_TRACEPOINTS)
            .map(|tp| (tp.prog.to_owned(), section(tp)))
            .collect();
        listed.sort();
        listed.dedup_by(|a, b| a.0 == b.0);
        // The tp_btf twins are only in the object for 5.17 and later.
        let mut with_btf = listed.clone();
        for tp in TRACEPOINTS
            .iter()
            .chain(LEAN_TRACEPOINTS)
            .chain(WATCH_TRACEPOINTS)
        {
            if let Some(twin) = btf_variant(tp.prog) {
                with_btf.push((twin.to_owned(), format!("tp_btf/{}", tp.name)));
            }
        }
        with_btf.sort();
        assert_eq!(with_btf.len(), listed.len() + BTF_TWINS.len());
        assert_eq!(with_btf, object_programs(EBPF_OBJECT));
        assert_eq!(listed, object_programs(EBPF_OBJECT_BOUNDED_LOOPS));
    }

    /// Names of the object's symbols in sections whose name starts with
    /// `prefix`, sorted.
    fn object_symbols(object: &[u8], prefix: &str) -> Vec<String> {
        let elf = object::File::parse(object).expect("the eBPF object parses");
        let mut names: Vec<String> = elf
            .symbols()
            .filter(|s| s.kind() == SymbolKind::Data)
            .filter_map(|s| {
                let section = elf.section_by_index(s.section_index()?).ok()?;
                let in_it = section.name().ok()?.starts_with(prefix);
                in_it.then(|| s.name().ok().map(str::to_owned)).flatten()
            })
            .collect();
        names.sort();
        names
    }

    /// Every map and global the loader names (by the constants of
    /// recorder-common) is in the object, and nothing else is: a renamed
    /// map would otherwise surface only as a load failure on a machine
    /// with BPF. Reads the object as bytes: no privileges needed.
    #[test]
    fn maps_and_globals_are_the_objects() {
        let mut maps: Vec<String> = recorder_common::MAPS
            .iter()
            .map(|s| s.to_string())
            .collect();
        maps.sort();
        let mut globals: Vec<String> = globals::ALL.iter().map(|s| s.to_string()).collect();
        globals.sort();
        for object in [EBPF_OBJECT, EBPF_OBJECT_BOUNDED_LOOPS] {
            assert_eq!(object_symbols(object, "maps"), maps);
            assert_eq!(object_symbols(object, ".rodata"), globals);
            assert_eq!(object_symbols(object, MAP_USER_EPOCH), ["USER_EPOCH"]);
        }
    }

    #[test]
    fn trace_set_values() {
        let set = [libc::SYS_openat, libc::SYS_clone3];
        assert_eq!(trace_value(&set, libc::SYS_openat), trace::RECORD);
        assert_eq!(trace_value(&set, libc::SYS_read), trace::SKIP);
        assert_eq!(trace_value(&set, libc::SYS_clone3), trace::RECORD);
        assert_eq!(
            trace_value(&set, libc::SYS_clone),
            trace::STASH_ONLY,
            "a new thread must still be told from a new process"
        );
    }

    #[test]
    fn bench_floor_attaches_only_checked_tracepoints() {
        assert_eq!(
            attach_list(Some(BenchFloor::Both), false),
            FLOOR_TRACEPOINTS
        );
        // In lean mode too (`--comm`'s default): the floor says which.
        assert_eq!(attach_list(Some(BenchFloor::Both), true), FLOOR_TRACEPOINTS);
        assert_eq!(FLOOR_TRACEPOINTS.len(), 2);
        let exit_only = attach_list(Some(BenchFloor::Exit), false);
        assert_eq!(exit_only, LEAN_FLOOR_TRACEPOINTS);
        assert_eq!(attach_list(Some(BenchFloor::Exit), true), exit_only);
        assert_eq!(exit_only.len(), 1);
        assert_eq!(
            (exit_only[0].category, exit_only[0].name),
            ("raw_syscalls", "sys_exit")
        );
        for f in FLOOR_TRACEPOINTS.iter().chain(LEAN_FLOOR_TRACEPOINTS) {
            assert!(
                TRACEPOINTS
                    .iter()
                    .any(|tp| (tp.category, tp.name) == (f.category, f.name)),
                "{f:?}"
            );
        }
    }
}
