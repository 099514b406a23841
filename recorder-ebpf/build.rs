//! Rebuild when bpf-linker changes (it is an undeclared dependency of this
//! crate: cargo cannot express it; see aya-template), and declare the
//! `bpf_target_arch` cfg that aya-build passes.
use which::which;

fn main() {
    if let Ok(bpf_linker) = which("bpf-linker") {
        println!("cargo:rerun-if-changed={}", bpf_linker.display());
    }
    if let Err(e) = aya_build::emit_bpf_target_arch_cfg() {
        println!("cargo:warning=emit_bpf_target_arch_cfg: {e:#}");
    }
}
