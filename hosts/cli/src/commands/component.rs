//! `compliance component`: identity of the embedded component, and export for archiving.

use anyhow::Context;
use compliance_runtime::{Limits, Runtime, WIT_PACKAGE};

use crate::Outcome;
use crate::output::say;

pub fn run(args: crate::args::ComponentArgs) -> anyhow::Result<Outcome> {
    let runtime = Runtime::embedded(Limits::default())?;
    let about = runtime.about()?;
    say!("engine version:  {}", about.version);
    say!("rule pack:       {} {}", about.rule_pack_id, about.rule_pack_version);
    say!("WIT package:     {WIT_PACKAGE}");
    say!("component bytes: {}", runtime.component_bytes().len());
    say!("sha256:          {}", runtime.sha256());
    say!("machine code:    {}", runtime.precompiled_for().map_or_else(|| "compiled at start-up".to_owned(), |level| format!("precompiled for {level}")));
    if let Some(path) = args.export {
        std::fs::write(&path, runtime.component_bytes()).with_context(|| format!("writing {}", path.display()))?;
        say!("exported to:     {}", path.display());
    }
    Ok(Outcome::Success)
}
