//! `compliance-analyzer-{env}`: hourly scan of the newest Config snapshot.

use compliance_lambda::analyzer::{Analyzer, Clients};
use compliance_lambda::config_api::SdkConfig;
use compliance_lambda::settings::{AnalyzerSettings, ProcessEnv};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    compliance_lambda::serve(
        "analyzer",
        || async {
            let settings = AnalyzerSettings::from_env(&ProcessEnv)?;
            let runtime = compliance_lambda::load_runtime()?;
            let aws = compliance_lambda::aws_config().await;
            let region = aws.region().map(ToString::to_string).unwrap_or_default();
            let config = SdkConfig::new(aws_sdk_config::Client::new(&aws));
            Ok(Analyzer::new(runtime, Clients::new(&aws), config, settings, region))
        },
        |analyzer, event| async move { analyzer.handle(event).await },
    )
    .await
}
