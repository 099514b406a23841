//! Builds the eBPF programs (`recorder-ebpf`) with aya-build, for the BPF
//! endianness and `bpf_target_arch` of the cargo target being built, so a
//! cross build for aarch64 embeds arm64 programs. `AYA_BUILD_SKIP=1` skips it
//! (for library-only work without nightly/bpf-linker; the binary then fails
//! to build).
use anyhow::{Context as _, anyhow};
use aya_build::Toolchain;

fn main() -> anyhow::Result<()> {
    let cargo_metadata::Metadata { packages, .. } = cargo_metadata::MetadataCommand::new()
        .no_deps()
        .exec()
        .context("MetadataCommand::exec")?;
    let ebpf_package = packages
        .into_iter()
        .find(|cargo_metadata::Package { name, .. }| name.as_str() == "recorder-ebpf")
        .ok_or_else(|| anyhow!("recorder-ebpf package not found"))?;
    let cargo_metadata::Package {
        name,
        manifest_path,
        ..
    } = ebpf_package;
    let ebpf_package = aya_build::Package {
        name: name.as_str(),
        root_dir: manifest_path
            .parent()
            .ok_or_else(|| anyhow!("no parent for {manifest_path}"))?
            .as_str(),
        ..Default::default()
    };
    aya_build::build_ebpf([ebpf_package], Toolchain::default())
}
