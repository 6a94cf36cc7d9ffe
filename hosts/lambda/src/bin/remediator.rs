//! `compliance-remediator-{env}`: KMS default encryption for non-compliant S3 buckets.

use compliance_lambda::remediator::Remediator;
use compliance_lambda::settings::{ProcessEnv, RemediatorSettings};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    compliance_lambda::serve(
        "remediator",
        || async {
            let settings = RemediatorSettings::from_env(&ProcessEnv)?;
            let aws = compliance_lambda::aws_config().await;
            Ok(Remediator::new(&aws, settings))
        },
        |remediator, event| async move { remediator.handle(event).await },
    )
    .await
}
