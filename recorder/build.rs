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
    let root_dir = manifest_path
        .parent()
        .ok_or_else(|| anyhow!("no parent for {manifest_path}"))?
        .as_str();
    // First the object for kernels without `bpf_loop` (before 5.17), kept
    // under its own name, then the usual one (see recorder-ebpf's
    // `bounded-loops` feature). Both go to OUT_DIR/recorder, hence the copy
    // in between.
    let out_dir = std::path::PathBuf::from(std::env::var_os("OUT_DIR").context("OUT_DIR")?);
    let build = |features: &[&str]| {
        let package = aya_build::Package {
            name: name.as_str(),
            root_dir,
            features,
            ..Default::default()
        };
        aya_build::build_ebpf([package], Toolchain::default())
    };
    build(&["bounded-loops"])?;
    let object = out_dir.join("recorder");
    // AYA_BUILD_SKIP=1 builds nothing: nothing to copy either.
    if object.exists() {
        std::fs::copy(&object, out_dir.join("recorder-bounded-loops"))
            .context("copying the bounded-loops eBPF object")?;
    }
    build(&[])
}
