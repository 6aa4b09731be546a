//! Linker options for the server binary alone.
//!
//! Relative relocations packed (`DT_RELR`, GNU ld 2.38+ or lld with glibc 2.36+): the
//! position-independent binary carries some 90,000 of them, which the loader otherwise reads from a
//! 2 MiB table at every start, and which stayed resident. Packed they take a few kilobytes.
//! Used only where the linker says it knows the option, so that an older toolchain still links.

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let target = std::env::var("TARGET").unwrap_or_default();
    if !target.ends_with("-linux-gnu") {
        return;
    }
    let linker_knows = Command::new("ld")
        .arg("--help")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).contains("pack-relative-relocs"));
    if linker_knows {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}
