//! `compliance-rollup-{env}`: the scheduled organization roll-up.

use compliance_lambda::rollup::{Clients, Rollup};
use compliance_lambda::settings::{ProcessEnv, RollupSettings};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    compliance_lambda::serve(
        "rollup",
        || async {
            let settings = RollupSettings::from_env(&ProcessEnv)?;
            let runtime = compliance_lambda::load_runtime()?;
            let aws = compliance_lambda::aws_config().await;
            Ok(Rollup::new(runtime, Clients::new(&aws), settings))
        },
        |rollup, event| async move { rollup.handle(event).await },
    )
    .await
}
