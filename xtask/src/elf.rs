//! Header checks: static aarch64 ELF executables and arm64 kernel `Image`s.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use anyhow::{Context, Result, bail};

const EM_AARCH64: u16 = 183;
const PT_INTERP: u32 = 3;

/// Fails unless `path` is a 64-bit little-endian AArch64 ELF without an
/// interpreter: the guest has no libc and no dynamic loader.
pub fn check_static_aarch64(path: &Path) -> Result<()> {
    check_static_aarch64_inner(path)
        .with_context(|| format!("{} cannot run in the arm64 guest", path.display()))
}

fn check_static_aarch64_inner(path: &Path) -> Result<()> {
    let mut file = File::open(path).context("cannot open it")?;
    let mut header = [0u8; 64];
    file.read_exact(&mut header)
        .context("not an ELF file (too short)")?;
    if &header[..4] != b"\x7fELF" {
        bail!("not an ELF file");
    }
    if header[4] != 2 || header[5] != 1 {
        bail!("not a 64-bit little-endian ELF file");
    }
    let machine = u16::from_le_bytes([header[18], header[19]]);
    if machine != EM_AARCH64 {
        bail!(
            "ELF machine is {machine}, not AArch64 ({EM_AARCH64}); build with --target {}",
            crate::setup::AARCH64_TARGET
        );
    }
    let phoff = u64::from_le_bytes(header[32..40].try_into().unwrap());
    let phentsize = u16::from_le_bytes([header[54], header[55]]) as usize;
    let phnum = u16::from_le_bytes([header[56], header[57]]) as usize;
    if phentsize < 4 {
        bail!("malformed ELF program header size {phentsize}");
    }
    let mut table = vec![0u8; phentsize * phnum];
    file.seek(SeekFrom::Start(phoff))?;
    file.read_exact(&mut table)
        .context("truncated ELF program headers")?;
    for entry in table.chunks_exact(phentsize) {
        if u32::from_le_bytes(entry[..4].try_into().unwrap()) == PT_INTERP {
            bail!(
                "it is dynamically linked (has PT_INTERP); build a static binary, e.g. --target {}",
                crate::setup::AARCH64_TARGET
            );
        }
    }
    Ok(())
}

/// Page size a kernel was built for, from the arm64 `Image` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageSize {
    K4,
    K16,
    K64,
}

/// Reads the page size from an arm64 `Image` header (Documentation/arch/arm64/booting.rst):
/// `flags` is the u64 at offset 24, bits 1-2 give the page size; the magic
/// `ARM\x64` is at offset 56. `None` if the file is no such Image or does not say.
pub fn arm64_image_page_size(path: &Path) -> Result<Option<PageSize>> {
    let mut header = [0u8; 64];
    File::open(path)
        .and_then(|mut f| f.read_exact(&mut header))
        .with_context(|| format!("cannot read kernel image {}", path.display()))?;
    if &header[56..60] != b"ARM\x64" {
        return Ok(None);
    }
    let flags = u64::from_le_bytes(header[24..32].try_into().unwrap());
    Ok(match (flags >> 1) & 3 {
        1 => Some(PageSize::K4),
        2 => Some(PageSize::K16),
        3 => Some(PageSize::K64),
        _ => None,
    })
}
