//! The evaluator with real AWS Config rule events (tests/fixtures/aws-config, see SOURCES.md)
//! and the recording Config fake: moto implements neither GetResourceConfigHistory with items
//! the SDK accepts nor PutEvaluations outside test mode.

mod support;

use compliance_lambda::config_api::{Call, Compliance, Recording};
use compliance_lambda::evaluator::Evaluator;
use compliance_lambda::settings::EvaluatorSettings;
use serde_json::{Value, json};
use support::fixture;

fn evaluator() -> Evaluator<Recording> {
    let settings = EvaluatorSettings { criticality_tag: "Criticality".to_owned(), environment: "test".to_owned() };
    Evaluator::new(compliance_lambda::load_runtime().unwrap(), Recording::default(), settings)
}

/// A recorded rule event; the Cloud Custodian S3 event was captured without the envelope's
/// `resultToken`, which every real invocation carries, so one is added where missing.
fn event(name: &str) -> Value {
    let mut event: Value = serde_json::from_slice(&fixture(name)).unwrap();
    if event.get("resultToken").is_none() {
        event["resultToken"] = json!("token-from-config");
    }
    event
}

fn invoking(event: &Value) -> Value {
    serde_json::from_str(event["invokingEvent"].as_str().unwrap()).unwrap()
}

fn with_invoking(mut event: Value, invoking: &Value) -> Value {
    event["invokingEvent"] = Value::String(invoking.to_string());
    event
}

#[tokio::test(flavor = "multi_thread")]
async fn change_notifications_from_real_events_get_one_evaluation_each() {
    let e = evaluator();
    for name in ["s3-bucket-rule-event-from-cloud-custodian.json", "ec2-instance-rule-event-from-cloud-custodian.json", "rule-event-change-notification-ec2-instance-from-awsdocs.json", "ec2-security-group-rule-event-from-cloud-custodian.json"] {
        let event = event(name);
        let item = invoking(&event)["configurationItem"].clone();
        let before = e.config().evaluations().len();
        e.handle(event.clone()).await.unwrap();
        let evaluations = e.config().evaluations();
        assert_eq!(evaluations.len(), before + 1, "{name}");
        let last = evaluations.last().unwrap();
        assert_eq!((last.resource_type.as_str(), last.resource_id.as_str()), (item["resourceType"].as_str().unwrap(), item["resourceId"].as_str().unwrap()), "{name}");
        assert_eq!(last.ordering_timestamp, item["configurationItemCaptureTime"].as_str().unwrap(), "{name}");
        if last.compliance == Compliance::NonCompliant {
            let annotation = last.annotation.as_deref().unwrap();
            assert!(annotation.starts_with("Failed: ") && annotation.chars().count() <= 256, "{annotation}");
        }
    }
    // The custodian bucket has no default encryption: the S3 rule says so.
    let s3 = &e.config().evaluations()[0];
    assert_eq!(s3.compliance, Compliance::NonCompliant);
    assert!(s3.annotation.as_deref().unwrap().contains("s3-bucket-sse-kms"), "{s3:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn deleted_resources_and_resources_out_of_scope_are_not_applicable() {
    let e = evaluator();
    let original = event("s3-bucket-rule-event-from-cloud-custodian.json");
    let mut inv = invoking(&original);
    inv["configurationItem"]["configurationItemStatus"] = json!("ResourceDeleted");
    e.handle(with_invoking(original.clone(), &inv)).await.unwrap();
    let mut left = original.clone();
    left["eventLeftScope"] = json!(true);
    e.handle(left).await.unwrap();
    let evaluations = e.config().evaluations();
    assert!(evaluations.iter().all(|ev| ev.compliance == Compliance::NotApplicable), "{evaluations:?}");
    assert_eq!(evaluations.len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn oversized_notifications_fetch_the_item() {
    let e = evaluator();
    let oversized = event("rule-event-oversized-change-notification-ec2-instance-from-awsdocs.json");
    // Nothing recorded for i-00000000 yet: not applicable, after asking Config.
    e.handle(oversized.clone()).await.unwrap();
    assert_eq!(e.config().calls()[0], Call::CurrentItem("AWS::EC2::Instance".to_owned(), "i-00000000".to_owned()));
    assert_eq!(e.config().evaluations()[0].compliance, Compliance::NotApplicable);
    // Now Config has the (real, recorded) item under that id.
    let mut item = invoking(&event("ec2-instance-rule-event-from-cloud-custodian.json"))["configurationItem"].clone();
    item["resourceId"] = json!("i-00000000");
    e.config().add_item(item);
    e.handle(oversized).await.unwrap();
    let last = e.config().evaluations().pop().unwrap();
    assert_eq!(last.resource_id, "i-00000000");
    assert_ne!(last.compliance, Compliance::NotApplicable, "{last:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn scheduled_notifications_evaluate_the_rule_scope_in_batches_of_100() {
    let e = evaluator();
    let bucket = invoking(&event("s3-bucket-rule-event-from-cloud-custodian.json"))["configurationItem"].clone();
    for i in 0..250 {
        let mut item = bucket.clone();
        item["resourceId"] = json!(format!("bucket-{i:03}"));
        item["resourceName"] = json!(format!("bucket-{i:03}"));
        item["ARN"] = json!(format!("arn:aws:s3:::bucket-{i:03}"));
        e.config().add_item(item);
    }
    let mut scheduled = event("rule-event-scheduled-notification-from-awsdocs.json");
    scheduled["configRuleName"] = json!("compliance-s3-rule-test");
    let outcome = e.handle(scheduled).await.unwrap();
    assert_eq!(outcome["evaluations"], 250);
    let batches: Vec<usize> = e.config().calls().iter().filter_map(|c| if let Call::Put { evaluations, .. } = c { Some(evaluations.len()) } else { None }).collect();
    assert_eq!(batches, [100, 100, 50]);
    assert!(e.config().evaluations().iter().all(|ev| ev.compliance == Compliance::NonCompliant));
    // A scheduled event for a rule that is not ours cannot be scoped.
    let error = e.handle(event("rule-event-scheduled-notification-from-awsdocs.json")).await.unwrap_err().to_string();
    assert!(error.contains("resource types are unknown"), "{error}");
}

#[tokio::test(flavor = "multi_thread")]
async fn test_mode_tokens_bad_events_and_refused_evaluations() {
    let e = evaluator();
    let mut event = event("s3-bucket-rule-event-from-cloud-custodian.json");
    event["resultToken"] = json!("TESTMODE");
    e.handle(event.clone()).await.unwrap();
    assert!(matches!(e.config().calls().last(), Some(Call::Put { test_mode: true, .. })));
    for (bad, expected) in [(json!({"invokingEvent": "{}"}), "resultToken"), (json!({"resultToken": "t", "invokingEvent": "not json"}), "not valid JSON"), (json!({"resultToken": "t", "invokingEvent": "{\"messageType\":\"Nonsense\"}"}), "Nonsense")] {
        let error = format!("{:#}", e.handle(bad).await.unwrap_err());
        assert!(error.contains(expected), "{error}");
    }
    let failing = evaluator();
    failing.config().fail("put");
    assert!(failing.handle(event).await.is_err(), "a refused PutEvaluations must fail the invocation");
}
