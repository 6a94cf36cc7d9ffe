//! Host-side bindings generated from `wit/`.
#![allow(missing_docs)]

wasmtime::component::bindgen!({
    world: "engine",
    path: "../../wit",
});

pub use compliance::engine::types;
