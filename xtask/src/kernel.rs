//! The VM runner's cache: Debian's arm64 kernel `Image` (with the two modules
//! the output disk needs), a static busybox, and strace with the two files of
//! glibc it needs (tests/tests/strace_compare.rs compares `recorder dump`
//! with strace inside the guest).
//!
//! All come from Debian's arm64 packages (`apt-get download …:arm64`, which
//! needs the arm64 dpkg architecture and its package lists: `cargo xtask setup
//! --arm64`). They are unpacked once into `target/arm64-vm-cache/` under an
//! exclusive `flock`, so concurrent runs neither download twice nor see a
//! half-written file (each item is built in a `.tmp` dir and renamed).
//! After that no network is needed. The kernel version is resolved only
//! when its cache entry is built; delete the entry to pick up a newer one.

use std::fs::{self, File};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::elf::{self, PageSize};
use crate::util;

#[derive(clap::ValueEnum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum KernelKind {
    /// Debian's default arm64 kernel (`linux-image-arm64`), 4K pages.
    #[value(name = "4k")]
    K4k,
    /// Debian's arm64 kernel built for 16K pages (`linux-image-*-arm64-16k`).
    #[value(name = "16k")]
    K16k,
}

impl KernelKind {
    pub const ALL: [KernelKind; 2] = [KernelKind::K4k, KernelKind::K16k];

    pub fn name(self) -> &'static str {
        match self {
            KernelKind::K4k => "4k",
            KernelKind::K16k => "16k",
        }
    }
}

/// What a VM run needs from the cache.
pub struct Assets {
    /// Uncompressed arm64 `Image`, passed to qemu's `-kernel`.
    pub kernel: PathBuf,
    /// Static arm64 busybox, the guest's userland.
    pub busybox: PathBuf,
    /// Debian's arm64 strace and the glibc files it loads, as (path in the
    /// guest, cached file).
    pub strace: Vec<(&'static str, PathBuf)>,
    /// The modules the output disk needs, in load order (`.ko` or `.ko.xz`).
    pub out_disk_modules: Vec<PathBuf>,
    /// "package version" of the kernel, for messages.
    pub kernel_package: String,
    pub page_size: PageSize,
}

const BUSYBOX_PACKAGE: &str = "busybox-static";
/// strace's package depends on libc6 alone (`apt-cache depends
/// strace:arm64`), and its binary needs only libc.so.6 and the dynamic
/// loader: (package, member of its data tar, path in the guest). The loader
/// goes where the ELF interpreter field says, /lib/ld-linux-aarch64.so.1;
/// libc.so.6 where that loader looks first on Debian.
const STRACE_FILES: [(&str, &str, &str); 3] = [
    ("strace", "./usr/bin/strace", "usr/bin/strace"),
    (
        "libc6",
        "./lib/aarch64-linux-gnu/ld-linux-aarch64.so.1",
        "lib/ld-linux-aarch64.so.1",
    ),
    (
        "libc6",
        "./lib/aarch64-linux-gnu/libc.so.6",
        "lib/aarch64-linux-gnu/libc.so.6",
    ),
];
/// Debian builds the virtio-mmio transport and virtio-blk as modules (the
/// virtio core is built in); the output disk needs both, in this order.
/// Neither depends on another module (their `depends=` is empty in 6.1 and 6.12).
const OUT_DISK_MODULES: [&str; 2] = ["virtio_mmio", "virtio_blk"];

pub fn cache_dir() -> PathBuf {
    util::target_dir().join("arm64-vm-cache")
}

/// Returns the cached kernel and busybox, downloading them first if needed.
pub fn prepare(kind: KernelKind) -> Result<Assets> {
    let cache = cache_dir();
    fs::create_dir_all(&cache).with_context(|| format!("cannot create {}", cache.display()))?;
    let _lock = lock(&cache.join(".lock"))?;

    let kernel_dir = cache.join(format!("kernel-{}", kind.name()));
    // modules/order is written last, so it marks a complete entry (older
    // entries without it are rebuilt).
    if !kernel_dir.join("modules/order").is_file() {
        let start = Instant::now();
        check_apt_tools()?;
        let package = resolve_kernel_package(kind)?;
        eprintln!("vm: caching kernel {package}:arm64 (once, about 15 s)…");
        build_entry(&kernel_dir, |tmp| {
            let deb = download(&package, tmp)?;
            fs::create_dir(tmp.join("modules"))?;
            extract(&deb, tmp, |path| {
                if path.starts_with("./boot/vmlinuz-") {
                    return Some("vmlinuz".to_owned());
                }
                if path.starts_with("./boot/config-") {
                    return Some("config".to_owned());
                }
                let file = path.rsplit('/').next()?;
                let module = file.split('.').next()?;
                (path.contains("/kernel/drivers/") && OUT_DISK_MODULES.contains(&module))
                    .then(|| format!("modules/{file}"))
            })?;
            write_module_order(tmp)?;
            record_package(&deb, tmp)?;
            fs::remove_file(&deb)?;
            Ok(())
        })?;
        eprintln!("vm: kernel cached in {:.0?}", start.elapsed());
    }

    let busybox_dir = cache.join("busybox");
    if !busybox_dir.join("busybox").is_file() {
        check_apt_tools()?;
        eprintln!("vm: caching {BUSYBOX_PACKAGE}:arm64…");
        build_entry(&busybox_dir, |tmp| {
            let deb = download(BUSYBOX_PACKAGE, tmp)?;
            extract(&deb, tmp, |path| {
                (path == "./bin/busybox").then(|| "busybox".to_owned())
            })?;
            record_package(&deb, tmp)?;
            fs::remove_file(&deb)?;
            Ok(())
        })?;
    }

    let strace_dir = cache.join("strace");
    if !strace_dir.join("PACKAGE").is_file() {
        check_apt_tools()?;
        eprintln!("vm: caching strace:arm64 and libc6:arm64…");
        build_entry(&strace_dir, cache_strace)?;
    }
    let strace = STRACE_FILES
        .iter()
        .map(|(_, _, guest)| (*guest, strace_dir.join(cached_name(guest))))
        .collect();

    let kernel = kernel_dir.join("vmlinuz");
    let modules = fs::read_to_string(kernel_dir.join("modules/order"))
        .with_context(|| {
            format!(
                "{} is incomplete; delete it to rebuild it",
                kernel_dir.display()
            )
        })?
        .split_whitespace()
        .map(|name| kernel_dir.join("modules").join(name))
        .collect();
    let page_size = elf::arm64_image_page_size(&kernel)?.with_context(|| {
        format!(
            "{} is not an uncompressed arm64 Image (no ARM\\x64 magic); delete {} to download it again",
            kernel.display(),
            kernel_dir.display()
        )
    })?;
    let kernel_package = fs::read_to_string(kernel_dir.join("PACKAGE"))
        .unwrap_or_default()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    Ok(Assets {
        kernel,
        busybox: busybox_dir.join("busybox"),
        strace,
        out_disk_modules: modules,
        kernel_package,
        page_size,
    })
}

/// The file name a guest file is cached under: its last component.
fn cached_name(guest: &str) -> &str {
    guest.rsplit('/').next().unwrap_or(guest)
}

/// Fills the strace entry: each package downloaded into its own directory
/// (`download` takes the one .deb there), its files extracted, the
/// packages' versions recorded (`PACKAGE`, written last, marks the entry
/// complete).
fn cache_strace(tmp: &Path) -> Result<()> {
    let mut versions = String::new();
    for package in ["strace", "libc6"] {
        let dir = tmp.join(format!("{package}.deb.d"));
        fs::create_dir(&dir)?;
        let deb = download(package, &dir)?;
        extract(&deb, tmp, |path| {
            STRACE_FILES
                .iter()
                .find(|(p, member, _)| *p == package && *member == path)
                .map(|(_, _, guest)| cached_name(guest).to_owned())
        })?;
        record_package(&deb, &dir)?;
        versions += &fs::read_to_string(dir.join("PACKAGE"))?;
        fs::remove_dir_all(&dir)?;
    }
    for (_, _, guest) in STRACE_FILES {
        let file = tmp.join(cached_name(guest));
        if !file.is_file() {
            bail!("the arm64 packages lack {guest}");
        }
    }
    fs::write(tmp.join("PACKAGE"), versions)?;
    Ok(())
}

/// An exclusive `flock` on `path`, released when the file is dropped.
fn lock(path: &Path) -> Result<File> {
    let file = File::create(path)
        .with_context(|| format!("cannot create lock file {}", path.display()))?;
    // SAFETY: flock on a file descriptor we own; no memory is involved.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        eprintln!(
            "vm: waiting for another run to finish preparing {}…",
            path.parent().unwrap().display()
        );
        // SAFETY: as above.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(std::io::Error::last_os_error())
                .context("flock on the VM cache lock failed");
        }
    }
    Ok(file)
}

/// Fills `dir` by running `fill` on a fresh `dir.tmp`, then renames it into
/// place, so an interrupted run never leaves a half-filled entry.
fn build_entry(dir: &Path, fill: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let tmp = dir.with_extension("tmp");
    if tmp.exists() {
        fs::remove_dir_all(&tmp)?;
    }
    fs::create_dir_all(&tmp)?;
    fill(&tmp)?;
    if dir.exists() {
        fs::remove_dir_all(dir)?;
    }
    fs::rename(&tmp, dir).with_context(|| format!("cannot rename {} into place", tmp.display()))
}

fn check_apt_tools() -> Result<()> {
    for tool in ["apt-get", "apt-cache", "dpkg-deb"] {
        if which::which(tool).is_err() {
            bail!(
                "`{tool}` not found: the VM's kernel and busybox come from Debian's arm64 packages (Debian/Ubuntu host needed)"
            );
        }
    }
    Ok(())
}

const NO_LISTS: &str = "arm64 package lists missing: run `cargo xtask setup --arm64`";

/// The versioned kernel package (`linux-image-6.1.0-56-arm64`) behind the
/// meta package for `kind`.
fn resolve_kernel_package(kind: KernelKind) -> Result<String> {
    let meta = match kind {
        KernelKind::K4k => "linux-image-arm64".to_owned(),
        KernelKind::K16k => find_16k_meta_package()?,
    };
    let depends = util::probe(
        "apt-cache",
        [
            "depends",
            "--no-recommends",
            "--no-suggests",
            &format!("{meta}:arm64"),
        ],
    )
    .with_context(|| format!("no package {meta}:arm64 in the apt lists; {NO_LISTS}"))?;
    let versioned = depends
        .lines()
        .filter_map(|l| l.trim().strip_prefix("Depends: "))
        .map(|dep| dep.trim_start_matches('<').trim_end_matches('>'))
        .map(|dep| dep.split(':').next().unwrap_or(dep))
        .find(|dep| {
            dep.strip_prefix("linux-image-")
                .is_some_and(|v| v.starts_with(|c: char| c.is_ascii_digit()))
        })
        .with_context(|| format!("{meta}:arm64 depends on no versioned linux-image package"))?;
    Ok(versioned.to_owned())
}

/// Debian has no 16K-page kernel in bookworm proper; bookworm-security
/// carries `linux-image-6.12-arm64-16k` and backports/trixie
/// `linux-image-arm64-16k`. Takes the unversioned name if present, else the
/// newest `linux-image-X.Y-arm64-16k`.
fn find_16k_meta_package() -> Result<String> {
    let names = util::output(Command::new("apt-cache").args(["pkgnames", "linux-image-"]))?;
    pick_16k_meta_package(&names).with_context(|| {
        format!(
            "no linux-image-*-arm64-16k package in the apt lists \
             (see `apt-cache search linux-image | grep 16k`); {NO_LISTS}"
        )
    })
}

fn pick_16k_meta_package(names: &str) -> Option<String> {
    if names.lines().any(|n| n == "linux-image-arm64-16k") {
        return Some("linux-image-arm64-16k".to_owned());
    }
    // Meta packages are `linux-image-X.Y-arm64-16k`; the ABI-versioned ones
    // (`linux-image-6.12.48+deb12-arm64-16k`) do not parse as X.Y.
    let series = |name: &str| -> Option<(u32, u32)> {
        let version = name
            .strip_prefix("linux-image-")?
            .strip_suffix("-arm64-16k")?;
        let (major, minor) = version.split_once('.')?;
        Some((major.parse().ok()?, minor.parse().ok()?))
    };
    names
        .lines()
        .filter_map(|name| Some((series(name)?, name)))
        .max()
        .map(|(_, name)| name.to_owned())
}

/// `apt-get download PACKAGE:arm64` into `dir`; returns the .deb's path.
fn download(package: &str, dir: &Path) -> Result<PathBuf> {
    let out = Command::new("apt-get")
        // As root, apt drops to the `_apt` user for downloads, which cannot
        // write into our cache directory.
        .args([
            "download",
            "-q",
            "-o",
            "APT::Sandbox::User=root",
            &format!("{package}:arm64"),
        ])
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .context("cannot run apt-get")?;
    if !out.status.success() {
        bail!(
            "`apt-get download {package}:arm64` failed: {} ({NO_LISTS} if they are missing)",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let deb = fs::read_dir(dir)?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "deb"))
        .with_context(|| format!("apt-get download {package}:arm64 produced no .deb"))?;
    Ok(deb)
}

/// Streams the .deb's data tar (`dpkg-deb --fsys-tarfile`) and writes each
/// member for which `pick` returns a name into `dir` under that name.
fn extract(deb: &Path, dir: &Path, pick: impl Fn(&str) -> Option<String>) -> Result<()> {
    let mut child = Command::new("dpkg-deb")
        .arg("--fsys-tarfile")
        .arg(deb)
        .stdout(Stdio::piped())
        .spawn()
        .context("cannot run dpkg-deb")?;
    let mut archive = tar::Archive::new(child.stdout.take().expect("stdout is piped"));
    let mut wanted = Vec::new();
    for entry in archive.entries()? {
        let mut entry = entry?;
        let path = entry.path()?.to_string_lossy().into_owned();
        if let Some(name) = pick(&path)
            && entry.header().entry_type().is_file()
        {
            let target = dir.join(&name);
            entry
                .unpack(&target)
                .with_context(|| format!("cannot unpack {path} from {}", deb.display()))?;
            wanted.push(name);
        }
    }
    // Drain what the tar reader did not consume so dpkg-deb exits normally.
    std::io::copy(&mut archive.into_inner(), &mut std::io::sink())?;
    let status = child.wait()?;
    if !status.success() {
        bail!(
            "`dpkg-deb --fsys-tarfile {}` failed ({status})",
            deb.display()
        );
    }
    if wanted.is_empty() {
        bail!("{} contains none of the expected files", deb.display());
    }
    Ok(())
}

/// Writes `modules/order`: the extracted file names in load order.
fn write_module_order(dir: &Path) -> Result<()> {
    let mut files: Vec<String> = fs::read_dir(dir.join("modules"))?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    let mut order = Vec::new();
    for module in OUT_DISK_MODULES {
        let at = files
            .iter()
            .position(|f| f.split('.').next() == Some(module))
            .with_context(|| format!("the kernel package has no {module} module"))?;
        order.push(files.swap_remove(at));
    }
    fs::write(dir.join("modules/order"), order.join(" ") + "\n")?;
    Ok(())
}

/// Writes "package version" of `deb` to `dir/PACKAGE`.
fn record_package(deb: &Path, dir: &Path) -> Result<()> {
    let fields = util::output(
        Command::new("dpkg-deb")
            .arg("-f")
            .arg(deb)
            .args(["Package", "Version"]),
    )?;
    let line = fields
        .lines()
        .filter_map(|l| l.split_once(": ").map(|(_, v)| v))
        .collect::<Vec<_>>()
        .join(" ");
    fs::write(dir.join("PACKAGE"), line + "\n")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_newest_16k_meta_package() {
        let names = "linux-image-6.12-arm64\nlinux-image-6.12-arm64-16k\nlinux-image-6.12-arm64-16k-dbg\n\
                     linux-image-6.12.117+deb12-arm64-16k\nlinux-image-6.9-arm64-16k\n";
        assert_eq!(
            pick_16k_meta_package(names).as_deref(),
            Some("linux-image-6.12-arm64-16k")
        );
        let with_unversioned = format!("{names}linux-image-arm64-16k\n");
        assert_eq!(
            pick_16k_meta_package(&with_unversioned).as_deref(),
            Some("linux-image-arm64-16k")
        );
        assert_eq!(pick_16k_meta_package("linux-image-6.1.0-56-arm64\n"), None);
    }
}
