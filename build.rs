//! Links GCC's unwinder into procsim's executables (binary, tests, benches) instead of
//! loading `libgcc_s.so.1`, on Linux with glibc, when the C compiler has `libgcc_eh.a`.
//!
//! Why: every process of a `--backend fork` run is a fork of procsim, and each fork copies
//! (and each exit tears down) every mapping of the process. `libgcc_s.so.1` is five of a
//! top-level process's 36 mappings, and holds nothing but the unwinder (`_Unwind_*`, which
//! Rust's panics and backtraces use). Without it, a forked child costs about 3.5 % less CPU
//! time (`benches/fork_side_by_side.py`; figures in BENCHMARKS.md, "The fork backend",
//! fifth round; the decision in docs/fork-backend.md, "Fifth round").
//!
//! How: rustc asks the linker for `-lgcc_s` itself, after the crate's own arguments, and a
//! shared library found first wins over an archive met later; but every `-L` applies to
//! every `-l` wherever it stands. So this script makes a directory whose `libgcc_s.so` is a
//! linker script naming `libgcc_eh.a` and `libgcc.a` (the system's own `libgcc_s.so` is a
//! script naming the shared library and `libgcc.a`, for the functions only the archive has;
//! `libgcc_eh.a` with `libgcc.a` is what `gcc -static-libgcc` and Rust's own
//! `crt-static` builds link), and adds it to the search path of this package's links only:
//! `cargo:rustc-link-arg` reaches this package's executables, never its dependencies, build
//! scripts or proc-macros, nor crates that depend on procsim. Nothing else changes: the same
//! code, `target/release/procsim`, libc and libm still shared.
//!
//! Where it cannot (another OS or C library, a cross build, `crt-static`, no
//! `libgcc_eh.a`, or `PROCSIM_SHARED_LIBGCC` set), the build is the plain one.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=PROCSIM_SHARED_LIBGCC");
    println!("cargo:rerun-if-env-changed=CC");
    if let Some(dir) = static_unwinder_dir() {
        println!("cargo:rustc-link-arg=-L{}", dir.display());
    }
}

/// The directory holding the `libgcc_s.so` linker script, when this build can use one.
fn static_unwinder_dir() -> Option<PathBuf> {
    let var = |k: &str| std::env::var(k).unwrap_or_default();
    if std::env::var_os("PROCSIM_SHARED_LIBGCC").is_some()
        || var("CARGO_CFG_TARGET_OS") != "linux"
        || var("CARGO_CFG_TARGET_ENV") != "gnu"
        || var("CARGO_CFG_TARGET_FEATURE")
            .split(',')
            .any(|f| f == "crt-static")
        // The host's C compiler would name the host's archive.
        || var("HOST") != var("TARGET")
    {
        return None;
    }
    // rustc links with `cc` unless told otherwise; ask it where its archives are.
    let eh = archive("-print-file-name=libgcc_eh.a")?;
    let gcc = archive("-print-libgcc-file-name")?;
    let dir = Path::new(&std::env::var_os("OUT_DIR")?).join("static-libgcc");
    std::fs::create_dir_all(&dir).ok()?;
    let script = format!("GROUP(\"{eh}\" \"{gcc}\")\n");
    std::fs::write(dir.join("libgcc_s.so"), script).ok()?;
    Some(dir)
}

/// The absolute path of the archive the C compiler prints for `query`, with a rerun of this
/// script asked for when it changes or goes (a compiler upgrade moves it: the linker script
/// must not name a file that is gone). `None` when the compiler has none.
fn archive(query: &str) -> Option<String> {
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let out = Command::new(cc).arg(query).output().ok()?;
    let found = PathBuf::from(String::from_utf8(out.stdout).ok()?.trim());
    // Without the archive, the compiler prints the bare name back.
    if !out.status.success() || !found.is_absolute() || !found.is_file() {
        return None;
    }
    let text = found.canonicalize().ok()?.to_str()?.to_owned();
    if text.contains('"') {
        return None;
    }
    println!("cargo:rerun-if-changed={text}");
    Some(text)
}
