//! Links procsim's executable statically (a static PIE), and GCC's unwinder into every
//! executable of this package (binary, tests, benches) instead of loading `libgcc_s.so.1`,
//! on Linux with glibc, when the C compiler has the archives.
//!
//! Why: every process of a `--backend fork` run is a fork of procsim, and each fork copies
//! (and each exit tears down) every mapping of the process. A dynamic top-level process has
//! 31 mappings: libc's, libm's and ld.so's are 16 of them (the C fork loop it is compared
//! with has 23); a static one has 14. Static, a forked child costs 14–16 % less CPU time
//! (`benches/fork_side_by_side.py`; figures in BENCHMARKS.md, "The fork backend", sixth
//! round; the decision in docs/fork-backend.md, "Sixth round"). `libgcc_s.so.1` is five
//! mappings and holds nothing but the unwinder (`_Unwind_*`, which Rust's panics and
//! backtraces use): linking it in took 1.6–1.9 % off (fifth round).
//!
//! How: rustc asks the linker for `-lgcc_s -lutil -lrt -lpthread -lm -ldl -lc` itself,
//! after the crate's own arguments and after `-Bdynamic`, and a shared library found first
//! wins over an archive met later; but every `-L` applies to every `-l` wherever it stands.
//! So this script makes directories whose `libX.so` are linker scripts naming archives, and
//! adds them to the search path of this package's links only (`cargo:rustc-link-arg*`
//! reaches this package's executables, never its dependencies, build scripts or
//! proc-macros, nor crates that depend on procsim):
//!
//! - for every executable, `libgcc_s.so` names `libgcc_eh.a` and `libgcc.a` (the system's
//!   own `libgcc_s.so` is a script naming the shared library and `libgcc.a`, for the
//!   functions only the archive has; `libgcc_eh.a` with `libgcc.a` is what `gcc
//!   -static-libgcc` and Rust's own `crt-static` builds link);
//! - for the binary alone (`rustc-link-arg-bins`), each of the seven names its glibc
//!   archive, and `-static-pie` makes the C compiler link a self-relocating static PIE
//!   (`rcrt1.o`), as Rust's own `crt-static` builds on this target are. Tests and benches
//!   stay dynamic; the tests that run `--backend fork` run the static binary.
//!
//! The static binary's segments are aligned to 2 MiB (`ALIGN_2M`), so that its code and
//! read-only data each lie alone in whole 2 MiB blocks, which `src/fork/hugetext.rs` moves into
//! huge pages in a process that forks often; the padding makes the file about 5 MB larger.
//!
//! Nothing else changes: the same code, `target/release/procsim`. Rust's `crt-static`
//! itself is not used because cargo takes it only as a `RUSTFLAGS`/config setting, which
//! without `--target` also reaches build scripts and proc-macros (which cannot be static),
//! and with `--target` moves the binary to `target/<triple>/`.
//!
//! Where it cannot (another OS or C library, a cross build, `crt-static`, a sanitizer, an
//! archive missing, a linker that does not make a static PIE of a C program with them), the
//! build is the plain dynamic one: with `PROCSIM_SHARED_LIBGCC` set, plain entirely; with
//! `PROCSIM_DYNAMIC` set, the binary is dynamic (the unwinder still in). The archives are
//! looked for with the linker cargo names (`RUSTC_LINKER`), else `CC`, else `cc`. An archive
//! installed after a build that lacked it is not noticed until the script runs again
//! (`cargo clean -p procsim`, or a change to `build.rs`).

use std::path::{Path, PathBuf};
use std::process::Command;

/// The libraries rustc names for Rust's standard library on linux-gnu (the `libc` crate's
/// link attributes), with the archives a static link takes for each.
const GLIBC: [(&str, &[&str]); 7] = [
    ("c", &["libc.a", "libgcc_eh.a", "libgcc.a"]),
    ("m", &["libm.a"]),
    ("pthread", &["libpthread.a"]),
    ("rt", &["librt.a"]),
    ("util", &["libutil.a"]),
    ("dl", &["libdl.a"]),
    ("gcc_s", &["libgcc_eh.a", "libgcc.a"]),
];

/// The static binary's segments aligned to 2 MiB, each in blocks of its own.
const ALIGN_2M: [&str; 2] = ["-Wl,-z,max-page-size=0x200000", "-Wl,-z,separate-code"];

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=PROCSIM_SHARED_LIBGCC");
    println!("cargo:rerun-if-env-changed=PROCSIM_DYNAMIC");
    println!("cargo:rerun-if-env-changed=CC");
    println!("cargo:rerun-if-env-changed=RUSTC_LINKER");
    if !linkable() {
        return;
    }
    if let Some(dir) = scripts("static-libgcc", &GLIBC[6..]) {
        println!("cargo:rustc-link-arg=-L{}", dir.display());
    }
    if std::env::var_os("PROCSIM_DYNAMIC").is_none()
        && archive("rcrt1.o").is_some()
        && let Some(dir) = scripts("static-glibc", &GLIBC)
        && links_static_pie(&dir)
    {
        println!("cargo:rustc-link-arg-bins=-L{}", dir.display());
        println!("cargo:rustc-link-arg-bins=-static-pie");
        // Each segment alone in whole 2 MiB blocks, so that a process forking often can move
        // its code into huge pages its children inherit (src/fork/hugetext.rs).
        for arg in ALIGN_2M {
            println!("cargo:rustc-link-arg-bins={arg}");
        }
    }
}

/// The C compiler that links: the linker cargo was told to use (`RUSTC_LINKER`), else `cc`,
/// rustc's own default on this target (`CC` names a compiler for C sources, which a build
/// may set apart from the linker; it is the fallback when neither is set otherwise).
fn linker() -> String {
    std::env::var("RUSTC_LINKER")
        .or_else(|_| std::env::var("CC"))
        .unwrap_or_else(|_| "cc".into())
}

/// Whether the linker makes a static PIE of a C program with these archives: a compiler
/// older than `-static-pie` (GCC before 8) can meet a glibc that ships `rcrt1.o`, and the
/// binary's link would then fail with no way back to the dynamic one.
fn links_static_pie(scripts: &Path) -> bool {
    let Some(out) = std::env::var_os("OUT_DIR") else {
        return false;
    };
    let dir = Path::new(&out);
    let source = dir.join("static-pie-probe.c");
    if std::fs::write(&source, "int main(void) { return 0; }\n").is_err() {
        return false;
    }
    Command::new(linker())
        .arg("-static-pie")
        .args(ALIGN_2M)
        .arg(format!("-L{}", scripts.display()))
        .arg(&source)
        .arg("-o")
        .arg(dir.join("static-pie-probe"))
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Whether this build is one this script knows how to change: a native linux-gnu build,
/// not already `crt-static`, not opted out.
fn linkable() -> bool {
    let var = |k: &str| std::env::var(k).unwrap_or_default();
    std::env::var_os("PROCSIM_SHARED_LIBGCC").is_none()
        && var("CARGO_CFG_TARGET_OS") == "linux"
        && var("CARGO_CFG_TARGET_ENV") == "gnu"
        && !var("CARGO_CFG_TARGET_FEATURE")
            .split(',')
            .any(|f| f == "crt-static")
        // The host's C compiler would name the host's archives.
        && var("HOST") == var("TARGET")
        // A sanitizer's runtime (nightly `-Zsanitizer`) cannot be linked statically.
        && std::env::var_os("CARGO_CFG_SANITIZE").is_none()
}

/// A directory of `OUT_DIR` holding, for each library of `libs`, a `lib<name>.so` linker
/// script naming its archives. `None` if any archive is missing.
fn scripts(name: &str, libs: &[(&str, &[&str])]) -> Option<PathBuf> {
    let dir = Path::new(&std::env::var_os("OUT_DIR")?).join(name);
    let mut texts = Vec::new();
    for (lib, archives) in libs {
        let paths = archives
            .iter()
            .map(|a| archive(a).map(|p| format!("\"{p}\"")))
            .collect::<Option<Vec<_>>>()?;
        texts.push((
            format!("lib{lib}.so"),
            format!("GROUP({})\n", paths.join(" ")),
        ));
    }
    std::fs::create_dir_all(&dir).ok()?;
    for (file, text) in texts {
        std::fs::write(dir.join(file), text).ok()?;
    }
    Some(dir)
}

/// The absolute path of the C compiler's file `name` (an archive or a start file), with a
/// rerun of this script asked for when it changes or goes (a compiler or glibc upgrade moves
/// it: a linker script must not name a file that is gone). `None` when the compiler has none.
fn archive(name: &str) -> Option<String> {
    let cc = linker();
    // `libgcc.a` lives where `-print-libgcc-file-name` says; the rest `-print-file-name`.
    let query = if name == "libgcc.a" {
        "-print-libgcc-file-name".to_owned()
    } else {
        format!("-print-file-name={name}")
    };
    let out = Command::new(cc).arg(query).output().ok()?;
    let found = PathBuf::from(String::from_utf8(out.stdout).ok()?.trim());
    // Without the file, the compiler prints the bare name back.
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
