//! `compliance-evaluator-{env}`: the Lambda behind the three Config custom rules.

use compliance_lambda::config_api::SdkConfig;
use compliance_lambda::evaluator::Evaluator;
use compliance_lambda::settings::{EvaluatorSettings, ProcessEnv};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    compliance_lambda::serve(
        "evaluator",
        || async {
            let settings = EvaluatorSettings::from_env(&ProcessEnv)?;
            let runtime = compliance_lambda::load_runtime()?;
            let aws = compliance_lambda::aws_config().await;
            Ok(Evaluator::new(runtime, SdkConfig::new(aws_sdk_config::Client::new(&aws)), settings))
        },
        |evaluator, event| async move { evaluator.handle(event).await },
    )
    .await
}
