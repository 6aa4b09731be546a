//! Linker options for the server binary alone.
//!
//! Relative relocations packed (`DT_RELR`): the position-independent binary carries some 90,000
//! of them, which the loader otherwise reads from a 2 MiB table at every start; packed they
//! take 40 KiB, and the server starts with about 9 MiB fewer resident pages of its own file.
//! The loader must know the format (glibc 2.36 or later), so it is used only when building for
//! this machine with such a glibc and rustc's own linker (LLD, the default on x86-64 Linux),
//! and `PORTICO_PACKED_RELOCATIONS=0` turns it off, for a binary that must also start on an
//! older glibc.

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=PORTICO_PACKED_RELOCATIONS");
    let env = |name: &str| std::env::var(name).unwrap_or_default();
    let wanted = env("PORTICO_PACKED_RELOCATIONS") != "0";
    let native = env("TARGET") == env("HOST") && env("TARGET").ends_with("-linux-gnu");
    // A linker chosen in Cargo's configuration may not know the option.
    let default_linker = std::env::var_os("RUSTC_LINKER").is_none();
    if wanted && native && default_linker && glibc_knows_relr() {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}

/// Whether this machine's glibc (`getconf GNU_LIBC_VERSION`: `glibc 2.36`) is 2.36 or later.
fn glibc_knows_relr() -> bool {
    let Ok(out) = Command::new("getconf").arg("GNU_LIBC_VERSION").output() else {
        return false;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let Some(version) = text.trim().strip_prefix("glibc ") else {
        return false;
    };
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    (major, minor) >= (2, 36)
}
