//! Host-side bindings, generated from the 1.0.0 contract that every 1.x component exports
//! (`wit-1.0.0/`). Functions added later (`render-page` in 1.1.0) are looked up at load time
//! and called when the component has them; interfaces added later (`rollup` in 1.2.0) are bound
//! from the current contract through a world of their own, used only when the component
//! exports them.
#![allow(missing_docs)]

wasmtime::component::bindgen!({
    world: "engine",
    path: "wit-1.0.0",
});

pub use compliance::engine::types;

/// The `org-rollup` world of the current contract (`wit/`): the `rollup` interface alone.
pub mod org {
    wasmtime::component::bindgen!({
        world: "org-rollup",
        path: "../../wit",
        additional_derives: [PartialEq, Eq],
    });

    pub use exports::compliance::engine::rollup::{Expected, Outcome, Part, Request, RollupError, RollupFormat, Summary};
}

/// The `rule-frameworks` world of the current contract: the `frameworks` interface alone.
pub mod frameworks {
    wasmtime::component::bindgen!({
        world: "rule-frameworks",
        path: "../../wit",
        additional_derives: [PartialEq, Eq],
    });

    pub use exports::compliance::engine::frameworks::{Basis, Mapping};
}
