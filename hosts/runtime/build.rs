//! Builds the scoring component from `core-wasm/component` for `wasm32-wasip2` and leaves it in
//! `OUT_DIR` for `include_bytes!`. The component is the identity of the scoring code, so the
//! build is made reproducible: fixed profile, no debug info, and every absolute path (the
//! workspace, the cargo home) remapped so two checkouts in different directories produce the
//! same bytes.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let workspace = manifest_dir.join("../..").canonicalize().expect("workspace root exists");
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    // Relative to this package, so cargo checks the files of the checkout being built: target
    // directories are shared between checkouts (CI's clones reuse one), and their build-script
    // fingerprint is too; with absolute paths it watched whichever checkout built last, and a
    // build of another could embed that checkout's component.
    for watched in ["core-wasm/engine/src", "core-wasm/engine/Cargo.toml", "core-wasm/component/src", "core-wasm/component/Cargo.toml", "wit", "Cargo.lock", "rust-toolchain.toml"] {
        println!("cargo:rerun-if-changed=../../{watched}");
    }
    println!("cargo:rerun-if-env-changed=COMPLIANCE_COMPONENT_TARGET_DIR");

    // A separate target directory: the outer cargo holds the lock on its own.
    let target_dir = env::var_os("COMPLIANCE_COMPONENT_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| shared_target_dir(&out_dir));
    let cargo_home = env::var_os("CARGO_HOME").map(PathBuf::from).or_else(|| env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    // simd128: memchr and the string scans of the parser use wasm SIMD, which wasmtime compiles
    // to SSE/NEON; without it they fall back to 4-byte words.
    let mut rustflags = vec!["-Ctarget-feature=+simd128".to_owned(), format!("--remap-path-prefix={}=/build", workspace.display())];
    if let Some(home) = cargo_home.and_then(|h| h.canonicalize().ok()) {
        rustflags.push(format!("--remap-path-prefix={}=/cargo", home.display()));
    }
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(&workspace)
        .args(["build", "--locked", "--package", "compliance-component", "--target", "wasm32-wasip2", "--profile", "component", "--target-dir"])
        .arg(&target_dir)
        .env("CARGO_ENCODED_RUSTFLAGS", rustflags.join("\x1f"))
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_BUILD_RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("CARGO_MAKEFLAGS")
        .env_remove("RUSTC_WRAPPER")
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .env("SOURCE_DATE_EPOCH", "0");
    for (key, _) in env::vars_os() {
        let key = key.to_string_lossy().into_owned();
        if key.starts_with("CARGO_PROFILE_") || key.starts_with("CARGO_FEATURE_") || key.starts_with("CARGO_CFG_") {
            command.env_remove(&key);
        }
    }
    let status = command.status().expect("cargo can be run to build the component");
    if !status.success() {
        panic!(
            "building the scoring component failed. Is the wasm32-wasip2 target installed? \
             Run `rustup target add wasm32-wasip2` (scripts/bootstrap.sh does this)."
        );
    }
    let built = target_dir.join("wasm32-wasip2/component/compliance_component.wasm");
    let component = std::fs::read(&built).unwrap_or_else(|e| panic!("reading {}: {e}", built.display()));
    std::fs::write(out_dir.join("compliance_component.wasm"), &component).expect("OUT_DIR is writable");
    // Two artifacts on x86-64, the wider first: the runtime loads the first this CPU can run.
    let x86 = env::var("TARGET").expect("cargo sets TARGET").starts_with("x86_64");
    let wide = if x86 { precompile(&component, &[X86_64_V2, X86_64_V3].concat()) } else { Vec::new() };
    std::fs::write(out_dir.join("compliance_component-wide.cwasm"), wide).expect("OUT_DIR is writable");
    std::fs::write(out_dir.join("compliance_component.cwasm"), precompile(&component, if x86 { X86_64_V2 } else { &[] })).expect("OUT_DIR is writable");
}

include!("src/engine_config.rs");

/// x86-64-v2 (SSSE3, SSE4.1/4.2, POPCNT: every x86-64 server CPU since 2009). Naming a target
/// makes Cranelift assume the x86-64 baseline (SSE2): wasm SIMD instructions without an SSE2
/// form (`i8x16.swizzle`, which the JSON parser's byte classification uses, among others) would
/// then be calls into the runtime, one per instruction. With these they compile inline.
const X86_64_V2: &[&str] = &["has_sse3", "has_ssse3", "has_sse41", "has_sse42", "has_popcnt", "has_cmpxchg16b"];

/// What x86-64-v3 adds to v2 (AVX2, BMI1/2, FMA, LZCNT: Intel since 2013, AMD since 2015):
/// three-operand VEX forms of the SIMD instructions (fewer register copies in the parser's and
/// the splitter's block loops), `tzcnt` and `blsr` for walking bit masks.
const X86_64_V3: &[&str] = &["has_avx", "has_avx2", "has_bmi1", "has_bmi2", "has_fma", "has_lzcnt"];

/// Compiles the component to machine code for the target being built, with these Cranelift
/// ISA features, so hosts start in milliseconds instead of compiling at every cold start. Empty
/// when wasmtime cannot compile for that target here (the runtime then compiles at start-up,
/// and says so).
fn precompile(component: &[u8], features: &[&str]) -> Vec<u8> {
    let target = env::var("TARGET").expect("cargo sets TARGET");
    let mut config = engine_config();
    if let Err(e) = config.target(&target) {
        println!("cargo:warning=cannot precompile the component for {target}: {e}; it will be compiled at start-up");
        return Vec::new();
    }
    for feature in features {
        // SAFETY: these settings only tell Cranelift which instructions it may emit. The
        // artifact is loaded by `Component::deserialize`, which checks that the host has every
        // enabled feature and refuses the artifact otherwise; the runtime then tries the next
        // artifact, or compiles the component at start-up.
        #[allow(unsafe_code)]
        unsafe {
            config.cranelift_flag_enable(feature);
        }
    }
    match wasmtime::Engine::new(&config).and_then(|engine| engine.precompile_component(component)) {
        Ok(artifact) => artifact,
        Err(e) => {
            println!("cargo:warning=cannot precompile the component for {target}: {e}; it will be compiled at start-up");
            Vec::new()
        }
    }
}

/// `<target>/component-build`, shared by debug and release builds of the hosts and by
/// cross builds (the component is the same wasm whatever the host is built for).
fn shared_target_dir(out_dir: &Path) -> PathBuf {
    // OUT_DIR is <target>/[<triple>/]<profile>/build/<pkg>-<hash>/out.
    let triple = env::var_os("TARGET");
    out_dir
        .ancestors()
        .find(|p| p.file_name().is_some_and(|n| n == "build"))
        .and_then(Path::parent)
        .and_then(Path::parent)
        .map(|dir| match (dir.file_name(), dir.parent()) {
            (Some(name), Some(target)) if Some(name) == triple.as_deref() => target,
            _ => dir,
        })
        .map(|target| target.join("component-build"))
        .unwrap_or_else(|| out_dir.join("component-build"))
}
