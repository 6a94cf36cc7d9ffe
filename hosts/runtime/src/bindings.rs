//! Host-side bindings, generated from the 1.0.0 contract that every 1.x component exports
//! (`wit-1.0.0/`). Functions added later (`render-page` in 1.1.0) are looked up at load time
//! and called when the component has them.
#![allow(missing_docs)]

wasmtime::component::bindgen!({
    world: "engine",
    path: "wit-1.0.0",
});

pub use compliance::engine::types;
