// The wasmtime configuration the component is compiled with. Shared verbatim (through
// `include!`) by build.rs, which precompiles the embedded component, and by the runtime, which
// loads it: wasmtime refuses a precompiled artifact whose settings differ, so both must agree.

/// wasmtime settings for scoring: the component model and epoch-based deadlines.
fn engine_config() -> wasmtime::Config {
    let mut config = wasmtime::Config::new();
    config.wasm_component_model(true).epoch_interruption(true);
    config
}
