//! Least privilege: who the traced command runs as (`-u`), who owns the
//! files a recording creates (under sudo, the user who ran it), and what
//! the recorder gives up once its programs are attached (`--drop-to`).
//!
//! Loading and attaching the programs needs root (or CAP_BPF and
//! CAP_PERFMON); a running recording almost nothing: the ring buffer is
//! mapped, the maps and the log are open descriptors. [`drop_privileges`]
//! clears every capability but the few a recording still uses, switches
//! to an unprivileged uid when it has one, and sets `PR_SET_NO_NEW_PRIVS`.
//! docs/design.md ("Least privilege") says what is kept and why. Nothing
//! here fails a recording: what cannot be dropped is said once on stderr.
//!
//! This is the only module that changes credentials; the child's switch to
//! `-u USER` happens in `child.rs` through [`Account::become_user`].

use std::{
    collections::HashSet,
    ffi::CString,
    fs::File,
    os::unix::fs::DirBuilderExt as _,
    path::{Path, PathBuf},
};

use caps::{CapSet, Capability, CapsHashSet};
use nix::{
    fcntl::{AT_FDCWD, AtFlags},
    unistd::{AccessFlags, Gid, Uid, User},
};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum PrivilegeError {
    /// The caller names the user (`--user bob: no such user`).
    #[error("no such user")]
    UnknownUser(String),
    #[error("cannot look up the user {name:?}")]
    Lookup {
        name: String,
        #[source]
        source: nix::Error,
    },
    #[error("cannot give {path} to uid {uid}")]
    Chown {
        path: PathBuf,
        uid: u32,
        #[source]
        source: nix::Error,
    },
    #[error("cannot create the directory {path}")]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// A user from the passwd database, with its supplementary groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub name: String,
    pub uid: Uid,
    pub gid: Gid,
    /// Supplementary groups, as initgroups(3) would set them.
    pub groups: Vec<Gid>,
    pub home: PathBuf,
}

impl Account {
    /// A user by name, or by numeric uid (which must have a passwd entry).
    pub fn lookup(spec: &str) -> Result<Self, PrivilegeError> {
        let lookup = |source| PrivilegeError::Lookup {
            name: spec.to_owned(),
            source,
        };
        let mut user = User::from_name(spec).map_err(lookup)?;
        if user.is_none()
            && let Ok(uid) = spec.parse::<u32>()
        {
            user = User::from_uid(Uid::from_raw(uid)).map_err(lookup)?;
        }
        let user = user.ok_or_else(|| PrivilegeError::UnknownUser(spec.to_owned()))?;
        Self::from_user(user, None)
    }

    /// `gid`: the primary group to use instead of the passwd entry's.
    fn from_user(u: User, gid: Option<Gid>) -> Result<Self, PrivilegeError> {
        let gid = gid.unwrap_or(u.gid);
        let lookup = |source| PrivilegeError::Lookup {
            name: u.name.clone(),
            source,
        };
        // A passwd name never holds a NUL; an empty list is still valid.
        let groups = match CString::new(u.name.as_bytes()) {
            Ok(name) => nix::unistd::getgrouplist(&name, gid).map_err(lookup)?,
            Err(_) => vec![gid],
        };
        Ok(Self {
            name: u.name,
            uid: u.uid,
            gid,
            groups,
            home: u.dir,
        })
    }

    /// `HOME`, `USER` and `LOGNAME` for a program run as this user.
    pub fn environment(&self) -> [(&'static str, std::ffi::OsString); 3] {
        [
            ("HOME", self.home.clone().into_os_string()),
            ("USER", self.name.clone().into()),
            ("LOGNAME", self.name.clone().into()),
        ]
    }

    /// Takes on this user's groups, gid and uid for good (real, effective
    /// and saved), as login would. Only system calls: safe between fork and
    /// exec.
    pub fn become_user(&self) -> nix::Result<()> {
        nix::unistd::setgroups(&self.groups)?;
        nix::unistd::setresgid(self.gid, self.gid, self.gid)?;
        nix::unistd::setresuid(self.uid, self.uid, self.uid)
    }
}

/// The user who ran `sudo recorder ...` (`SUDO_UID`, `SUDO_GID`). Only
/// while the recorder runs as root, and never root itself: a variable left
/// in some other environment must not change who anything runs as.
pub fn sudo_invoker() -> Result<Option<Account>, PrivilegeError> {
    if !nix::unistd::geteuid().is_root() {
        return Ok(None);
    }
    let var = |k| std::env::var(k).ok().and_then(|v| v.parse::<u32>().ok());
    let Some(uid) = var("SUDO_UID").filter(|&u| u != 0).map(Uid::from_raw) else {
        return Ok(None);
    };
    let gid = var("SUDO_GID").map(Gid::from_raw);
    let user = User::from_uid(uid).map_err(|source| PrivilegeError::Lookup {
        name: uid.to_string(),
        source,
    })?;
    match user {
        Some(u) => Account::from_user(u, gid).map(Some),
        // A uid without a passwd entry (a user deleted meanwhile): its
        // primary group, no others.
        None => {
            let gid = gid.unwrap_or(Gid::from_raw(uid.as_raw()));
            Ok(Some(Account {
                name: uid.to_string(),
                uid,
                gid,
                groups: vec![gid],
                home: PathBuf::from("/"),
            }))
        }
    }
}

/// Gives a file the recorder created (the log, a bundle) to `owner`.
pub fn give(file: &File, path: &Path, owner: &Account) -> Result<(), PrivilegeError> {
    nix::unistd::fchown(file, Some(owner.uid), Some(owner.gid))
        .map_err(|source| chown_error(path, owner, source))
}

/// Gives a directory the recorder created to `owner`.
pub fn give_dir(path: &Path, owner: &Account) -> Result<(), PrivilegeError> {
    nix::unistd::chown(path, Some(owner.uid), Some(owner.gid))
        .map_err(|source| chown_error(path, owner, source))
}

fn chown_error(path: &Path, owner: &Account, source: nix::Error) -> PrivilegeError {
    PrivilegeError::Chown {
        path: path.to_owned(),
        uid: owner.uid.as_raw(),
        source,
    }
}

/// `mkdir -p` with mode 0700; returns the directories it created.
pub fn create_private_dir(dir: &Path) -> Result<Vec<PathBuf>, PrivilegeError> {
    let missing: Vec<PathBuf> = dir
        .ancestors()
        .take_while(|d| !d.as_os_str().is_empty() && !d.exists())
        .map(Path::to_owned)
        .collect();
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|source| PrivilegeError::CreateDir {
            path: dir.to_owned(),
            source,
        })?;
    Ok(missing)
}

/// What a recording still needs once its programs are attached, and whom
/// it should run as.
#[derive(Debug, Clone, Default)]
pub struct DropPlan {
    /// The user to become; `None` keeps the uid (capabilities still go).
    pub to: Option<Account>,
    /// Directories files are created in later: the log's (rotation, SIGHUP
    /// reopen) and the snapshot directory. A user who cannot write them is
    /// not switched to.
    pub dirs: Vec<PathBuf>,
    /// Lossless `-p`/`--comm`: the recorder SIGCONTs processes of any user.
    pub resume_others: bool,
    /// The uid `-- COMMAND` runs as: the recorder passes SIGTERM on to it,
    /// and resumes it and its children in lossless mode.
    pub command_uid: Option<Uid>,
}

/// Drops what the recording no longer needs; says on stderr (once each)
/// what could not be dropped. Call while the process has one thread:
/// capabilities and `PR_SET_NO_NEW_PRIVS` are per thread, and threads
/// started later inherit them.
pub fn drop_privileges(plan: &DropPlan) {
    let warn = |what: &str, e: &dyn std::fmt::Display| {
        eprintln!("recorder: warning: {what} ({e}); recording anyway");
    };
    let euid = nix::unistd::geteuid();
    let target = plan.to.as_ref().filter(|to| to.uid != euid).filter(|to| {
        match unwritable_as(to, &plan.dirs) {
            Ok(None) => true,
            Ok(Some(dir)) => {
                eprintln!(
                    "recorder: warning: staying uid {euid}, without capabilities: {} cannot \
                     create files in {}, which rotation, SIGHUP and snapshots need",
                    to.name,
                    dir.display()
                );
                false
            }
            Err(e) => {
                warn(&format!("cannot switch to the user {}", to.name), &e);
                false
            }
        }
    });
    let kept = |uid: Uid| -> CapsHashSet {
        let permitted = caps::read(None, CapSet::Permitted).unwrap_or_default();
        let signal_others = plan.resume_others || plan.command_uid.is_some_and(|c| c != uid);
        needed(signal_others, &permitted)
            .into_iter()
            .filter(|c| permitted.contains(c))
            .collect()
    };
    // While still root: trimming the bounding set takes CAP_SETPCAP.
    if let Err(e) = trim_bounding(&kept(target.map_or(euid, |t| t.uid))) {
        warn("cannot reduce the capability bounding set", &e);
    }
    let mut uid = euid;
    if let Some(to) = target {
        match switch_user(to) {
            Ok(()) => uid = to.uid,
            Err(e) => warn(&format!("cannot switch to the user {}", to.name), &e),
        }
    }
    if let Err(e) = keep_only(&kept(uid)) {
        warn("cannot drop capabilities", &e);
    }
    if let Err(e) = nix::sys::prctl::set_no_new_privs() {
        warn("cannot set no_new_privs", &e);
    }
}

/// The capabilities a recording uses after attach, of `permitted`.
fn needed(signal_others: bool, permitted: &CapsHashSet) -> CapsHashSet {
    let mut keep = HashSet::new();
    // kill(2) lets a process signal its own uid's processes, and SIGCONT
    // any process of its session; for anyone else it takes CAP_KILL.
    if signal_others {
        keep.insert(Capability::CAP_KILL);
    }
    if map_ops_need_cap() {
        // Either will do (`bpf_capable`); CAP_SYS_ADMIN only for a recorder
        // started without CAP_BPF.
        keep.insert(if permitted.contains(&Capability::CAP_BPF) {
            Capability::CAP_BPF
        } else {
            Capability::CAP_SYS_ADMIN
        });
    }
    keep
}

/// Before 5.19, with `kernel.unprivileged_bpf_disabled` set (Debian and
/// most distributions), every bpf(2) command needed CAP_BPF, reading or
/// updating a map through an fd already open too (`__sys_bpf` in
/// <https://github.com/torvalds/linux/blob/v5.18/kernel/bpf/syscall.c>).
/// From 5.19 ("bpf: refine kernel.unprivileged_bpf_disabled behaviour")
/// only map creation and program loads are refused
/// (<https://github.com/torvalds/linux/blob/v5.19/kernel/bpf/syscall.c>).
fn map_ops_need_cap() -> bool {
    let disabled = std::fs::read_to_string("/proc/sys/kernel/unprivileged_bpf_disabled")
        .map_or(true, |s| s.trim() != "0");
    disabled && kernel_before(5, 19)
}

fn kernel_before(major: u32, minor: u32) -> bool {
    let Ok(uts) = nix::sys::utsname::uname() else {
        return true;
    };
    release_before(&uts.release().to_string_lossy(), major, minor)
}

/// `release`: a kernel release string, `6.1.0-18-arm64`.
fn release_before(release: &str, major: u32, minor: u32) -> bool {
    let mut parts = release
        .split(|c: char| !c.is_ascii_digit())
        .map(|p| p.parse::<u32>().ok());
    match (parts.next().flatten(), parts.next().flatten()) {
        (Some(a), Some(b)) => (a, b) < (major, minor),
        _ => true,
    }
}

/// The first of `dirs` that `to` cannot create files in. Checked with
/// `to` as the effective user only: the real and saved uid stay root, so
/// the recorder can come back.
fn unwritable_as(to: &Account, dirs: &[PathBuf]) -> nix::Result<Option<PathBuf>> {
    use nix::unistd::{getegid, geteuid, getgroups, setegid, seteuid, setgroups};
    let (euid, egid, groups) = (geteuid(), getegid(), getgroups()?);
    setgroups(&to.groups)?;
    setegid(to.gid)?;
    seteuid(to.uid)?;
    let bad = dirs
        .iter()
        .find(|d| {
            nix::unistd::faccessat(
                AT_FDCWD,
                d.as_path(),
                AccessFlags::W_OK | AccessFlags::X_OK,
                AtFlags::AT_EACCESS,
            )
            .is_err()
        })
        .cloned();
    seteuid(euid)?;
    setegid(egid)?;
    setgroups(&groups)?;
    Ok(bad)
}

/// For good: groups, gid, uid. The permitted capabilities survive the uid
/// change (KEEPCAPS) only so that the ones to keep can be set again.
fn switch_user(to: &Account) -> nix::Result<()> {
    nix::sys::prctl::set_keepcaps(true)?;
    to.become_user()?;
    nix::sys::prctl::set_keepcaps(false)
}

/// Leaves only `keep` in the bounding set, which limits what any later exec
/// could gain. Where CAP_SETPCAP is not there to do it (as in the
/// service), no_new_privs alone keeps an exec from gaining capabilities.
fn trim_bounding(keep: &CapsHashSet) -> Result<(), caps::errors::CapsError> {
    if !caps::has_cap(None, CapSet::Effective, Capability::CAP_SETPCAP)? {
        return Ok(());
    }
    let bounding = caps::read(None, CapSet::Bounding)?;
    for &c in bounding.difference(keep) {
        caps::drop(None, CapSet::Bounding, c)?;
    }
    Ok(())
}

/// Leaves exactly `keep` in the effective, permitted, inheritable and
/// ambient sets. Ambient too: the resume guard, exec'd later by a non-root
/// recorder, keeps only ambient capabilities.
fn keep_only(keep: &CapsHashSet) -> Result<(), caps::errors::CapsError> {
    caps::set(None, CapSet::Effective, keep)?;
    caps::set(None, CapSet::Permitted, keep)?;
    caps::set(None, CapSet::Inheritable, keep)?;
    caps::set(None, CapSet::Ambient, keep)
}

/// Whether this process may run a command as `uid` (CAP_SETUID and
/// CAP_SETGID, or already being that user).
pub fn may_become(uid: Uid) -> bool {
    if nix::unistd::geteuid() == uid {
        return true;
    }
    let has = |c| caps::has_cap(None, CapSet::Effective, c).unwrap_or(false);
    has(Capability::CAP_SETUID) && has(Capability::CAP_SETGID)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_releases_compare_by_major_and_minor() {
        assert!(release_before("5.18.0-1-amd64", 5, 19));
        assert!(release_before("5.8.0", 5, 19));
        assert!(!release_before("5.19.0", 5, 19));
        assert!(!release_before("6.1.0-18-arm64", 5, 19));
        assert!(!release_before("6.18.0", 5, 19));
        // Unreadable: assume the older rules, which keep more.
        assert!(release_before("weird", 5, 19));
    }

    #[test]
    fn unknown_users_are_named() {
        let e = Account::lookup("no-such-user-recorder-test").unwrap_err();
        assert!(
            matches!(&e, PrivilegeError::UnknownUser(u) if u == "no-such-user-recorder-test"),
            "{e:?}"
        );
        assert_eq!(e.to_string(), "no such user");
    }

    #[test]
    fn users_by_name_and_by_uid_agree() {
        let root = Account::lookup("root").unwrap();
        assert_eq!(root.uid, Uid::from_raw(0));
        assert_eq!(Account::lookup("0").unwrap(), root);
        let env = root.environment();
        assert_eq!(env[0], ("HOME", root.home.clone().into_os_string()));
        assert_eq!(env[1].1, "root");
    }

    #[test]
    fn created_directories_are_private() {
        use std::os::unix::fs::PermissionsExt as _;
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/b");
        let created = create_private_dir(&dir).unwrap();
        assert_eq!(created, [dir.clone(), tmp.path().join("a")]);
        assert!(create_private_dir(&dir).unwrap().is_empty());
        for d in [tmp.path().join("a"), dir] {
            let mode = std::fs::metadata(&d).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o700, "{}", d.display());
        }
    }
}
