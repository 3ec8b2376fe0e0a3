//! Installs the C headers that match this build.
//!
//! `wasmtime-c-api-impl` generates `wasmtime/conf.h` with cmake in its own
//! build script, but in 26.x its feature list there lacks `WAT`, so the
//! generated header leaves `WASMTIME_FEATURE_WAT` undefined and `wasmtime.h`
//! hides `wasmtime_wat2wasm`, which this library does export (feature `wat`)
//! and ngx_wasm_module calls. This script copies the dependency's generated
//! headers (`DEP_WASMTIME_C_API_INCLUDE`) to `$OUT_DIR/include`, and to
//! `$WASMTIME_C_API_INCLUDE_DIR` when that is set (what `cargo xtask` uses),
//! turning that one define on.

use std::path::{Path, PathBuf};

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn install(from: &Path, to: &Path) {
    copy_tree(from, to);
    let conf = to.join("wasmtime/conf.h");
    let text = std::fs::read_to_string(&conf).unwrap();
    let off = "/* #undef WASMTIME_FEATURE_WAT */";
    let text = if text.contains("#define WASMTIME_FEATURE_WAT") {
        text
    } else if text.contains(off) {
        text.replace(off, "#define WASMTIME_FEATURE_WAT")
    } else {
        panic!(
            "{}: no WASMTIME_FEATURE_WAT line to turn on",
            conf.display()
        );
    };
    std::fs::write(&conf, text).unwrap();
}

fn main() {
    let from = PathBuf::from(
        std::env::var_os("DEP_WASMTIME_C_API_INCLUDE")
            .expect("wasmtime-c-api-impl exports its include directory"),
    );
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed={}", from.display());
    println!("cargo:rerun-if-env-changed=WASMTIME_C_API_INCLUDE_DIR");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").unwrap()).join("include");
    install(&from, &out);
    if let Some(dir) = std::env::var_os("WASMTIME_C_API_INCLUDE_DIR") {
        let dir = PathBuf::from(dir);
        install(&from, &dir);
        // Reinstall if someone deletes the copy.
        println!(
            "cargo:rerun-if-changed={}",
            dir.join("wasmtime/conf.h").display()
        );
    }
}
