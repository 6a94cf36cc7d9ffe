//! AWS Lambda hosts over the compliance scoring component (SPEC §7.2–7.4).
//!
//! Four binaries share this library: `analyzer` (the newest Config snapshot each hour, or each
//! snapshot an SQS message names in organization mode), `rollup` (the organization report from
//! the account-region summaries), `evaluator` (the Config custom rules) and `remediator` (KMS
//! default encryption for S3 buckets).
//! Every score comes out of the same embedded component the CLI uses; this crate only moves bytes
//! between AWS and the component. S3, DynamoDB and SNS are called through the AWS SDK directly
//! (tested against the moto emulator); AWS Config is behind the small [`config_api::ConfigApi`]
//! trait because the emulator does not implement the calls we need.

pub mod alert;
pub mod analyzer;
mod body;
pub mod config_api;
pub mod emf;
pub mod evaluator;
pub mod history;
pub mod remediator;
pub mod report_upload;
pub mod rollup;
pub mod s3_event;
pub mod security_hub;
pub mod settings;
pub mod state;

use std::sync::Arc;

use compliance_runtime::{Limits, Runtime};

/// Component memory limit inside a 3008 MB function: the rest is left to the host, the SDK and
/// the report buffers.
const LAMBDA_COMPONENT_MEMORY: usize = 2 << 30;

/// JSON structured logs on stdout (CloudWatch Logs with `logFormat: JSON`); `RUST_LOG` filters.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt().json().with_env_filter(filter).with_current_span(false).with_ansi(false).with_target(false).try_init();
}

/// The embedded component with limits that fit a Lambda function.
pub fn load_runtime() -> Result<Arc<Runtime>, compliance_runtime::RuntimeError> {
    let limits = Limits { memory_bytes: LAMBDA_COMPONENT_MEMORY, ..Limits::default() };
    let runtime = Runtime::embedded(limits)?;
    // No `precompiled_for` means every cold start compiles the component (about a second).
    tracing::info!(component_sha256 = runtime.sha256(), precompiled_for = runtime.precompiled_for(), "scoring component loaded");
    Ok(Arc::new(runtime))
}

/// The AWS SDK configuration from the standard environment (credentials, region,
/// `AWS_ENDPOINT_URL`); nothing custom.
pub async fn aws_config() -> aws_config::SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}

/// An S3 client with path-style addressing, which works with every endpoint (AWS, emulators,
/// proxies).
pub fn s3_client(config: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(config).force_path_style(true).build())
}

/// Runs a Lambda function: logs, settings and clients are made once per cold start by `init`;
/// a failure there is logged with the variable it concerns and ends the process (Lambda reports
/// an init error). `handle` serves every invocation.
pub async fn serve<S, Init, Fut, H, HFut>(name: &'static str, init: Init, handle: H) -> Result<(), lambda_runtime::Error>
where
    S: Send + Sync + 'static,
    Init: FnOnce() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<S>>,
    H: Fn(Arc<S>, serde_json::Value) -> HFut + Send + Sync + 'static,
    HFut: std::future::Future<Output = anyhow::Result<serde_json::Value>> + Send,
{
    init_logging();
    let started = std::time::Instant::now();
    let state = match init().await {
        Ok(state) => Arc::new(state),
        Err(error) => {
            tracing::error!(function = name, error = format!("{error:#}"), "cold start failed");
            return Err(error.into());
        }
    };
    tracing::info!(function = name, init_ms = started.elapsed().as_millis() as u64, "ready");
    let handle = Arc::new(handle);
    lambda_runtime::run(lambda_runtime::service_fn(move |event: lambda_runtime::LambdaEvent<serde_json::Value>| {
        let (state, handle) = (Arc::clone(&state), Arc::clone(&handle));
        async move {
            let request_id = event.context.request_id.clone();
            match handle(state, event.payload).await {
                Ok(outcome) => Ok(outcome),
                Err(error) => {
                    tracing::error!(function = name, request_id, error = format!("{error:#}"), "invocation failed");
                    Err(lambda_runtime::Error::from(format!("{error:#}")))
                }
            }
        }
    }))
    .await
}
