//! Every real AWS Config sample in `fixtures/aws-config` is accepted, through the component and
//! natively, with the item counts and statuses its shape implies.

use std::collections::BTreeMap;

use compliance_tests::{component_json, fixtures, native_json, source};
use serde_json::Value;

/// File → (items read, evaluated resources). Shapes without items (scheduled and oversized
/// notifications) are accepted with zero items and a notice.
fn expected() -> BTreeMap<&'static str, (u64, u64)> {
    BTreeMap::from([
        ("api-batch-get-resource-config-response-custom-resource-from-awsdocs.json", (1, 0)),
        ("api-get-resource-config-history-item-security-group-from-awsdocs.json", (1, 1)),
        ("ec2-instance-ci-from-aws-config-rdk-example_ci.json", (1, 1)),
        ("ec2-instance-rule-event-from-cloud-custodian.json", (1, 1)),
        ("ec2-security-group-ci-from-aws-config-rdk-example_ci.json", (1, 1)),
        ("ec2-security-group-get-resource-config-history-placebo-from-cloud-custodian.json", (2, 1)),
        ("ec2-security-group-rule-event-from-cloud-custodian.json", (1, 1)),
        ("ec2-security-group-select-resource-config-placebo-from-cloud-custodian.json", (1, 1)),
        ("ec2-volume-ci-from-aws-config-rdk-example_ci.json", (1, 1)),
        ("ec2-volume-get-resource-config-history-with-deleted-placebo-from-cloud-custodian.json", (2, 0)),
        ("history-file-ebs-volumes-from-awsdocs-config-devguide.json", (3, 2)),
        ("history-file-real-lambda-function-from-centralized-logging-with-opensearch.json", (2, 0)),
        ("iam-policy-ci-from-aws-config-rdk-example_ci.json", (1, 1)),
        ("iam-role-ci-from-aws-config-rdk-example_ci.json", (1, 1)),
        ("iam-role-select-resource-config-urlencoded-trust-policy-placebo-from-cloud-custodian.json", (1, 1)),
        ("iam-user-ci-from-aws-config-rdk-example_ci.json", (1, 1)),
        ("iam-user-select-resource-config-with-group-and-tags-placebo-from-cloud-custodian.json", (1, 1)),
        ("rule-event-change-notification-ec2-instance-from-awsdocs.json", (1, 1)),
        ("rule-event-oversized-change-notification-ec2-instance-from-awsdocs.json", (0, 0)),
        ("rule-event-scheduled-notification-from-awsdocs.json", (0, 0)),
        ("rule-event-scheduled-notification-from-cloud-custodian.json", (0, 0)),
        ("s3-account-public-access-block-ci-from-aws-config-rdk-example_ci.json", (1, 0)),
        ("s3-bucket-api-item-from-cloud-custodian-config-s3.json", (1, 1)),
        ("s3-bucket-api-item-lifecycle-from-cloud-custodian.json", (1, 1)),
        ("s3-bucket-api-item-replication-notification-public-acl-from-cloud-custodian.json", (1, 1)),
        ("s3-bucket-api-item-website-from-cloud-custodian.json", (1, 1)),
        ("s3-bucket-ci-from-aws-config-rdk-example_ci.json", (1, 1)),
        ("s3-bucket-created-sns-notification-via-sqs-placebo-from-cloud-custodian.json", (1, 1)),
        ("s3-bucket-deleted-sns-notification-via-sqs-placebo-from-cloud-custodian.json", (1, 0)),
        ("s3-bucket-rule-event-from-cloud-custodian.json", (1, 1)),
        ("s3-bucket-rule-event-sans-accelerator-from-cloud-custodian.json", (1, 1)),
        ("s3-bucket-select-resource-config-placebo-from-cloud-custodian.json", (1, 1)),
        ("snapshot-file-from-awsdocs-config-devguide.json", (2, 2)),
        ("snapshot-file-real-apigwv2-stage-cfn-stack-from-centralized-logging-with-opensearch.json", (2, 0)),
        ("sns-ci-change-notification-ebs-volume-from-awsdocs.json", (1, 1)),
        ("sns-ci-change-notification-ec2-instance-from-awsdocs.json", (1, 1)),
        ("sns-ci-change-notification-security-group-created-from-awsdocs.json", (1, 1)),
        ("sns-history-delivery-notification-from-awsdocs.json", (0, 0)),
        ("sns-oversized-ci-change-notification-ec2-instance-from-awsdocs.json", (0, 0)),
        ("sns-oversized-ci-delivery-failed-notification-from-awsdocs.json", (0, 0)),
        ("sns-snapshot-delivery-notification-from-awsdocs.json", (0, 0)),
    ])
}

#[test]
fn every_fixture_is_accepted_with_the_expected_counts() {
    let dir = fixtures().join("aws-config");
    let expected = expected();
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("fixture dir") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let (name, bytes) = source(&path);
        let want = expected.get(name.as_str()).unwrap_or_else(|| panic!("{name} has no expectation"));
        let sources = vec![(name.clone(), bytes)];
        let component = component_json(&sources);
        assert_eq!(component, native_json(&sources), "{name}: component and native reports differ");
        let report: Value = serde_json::from_slice(&component).expect("json");
        let got = (report["input"]["items"].as_u64().unwrap_or(0), report["input"]["evaluated_resources"].as_u64().unwrap_or(0));
        assert_eq!(got, *want, "{name}: (items, evaluated resources)");
        seen += 1;
    }
    assert_eq!(seen, expected.len(), "every expected fixture exists");
}

#[test]
fn all_fixtures_together_in_one_scan() {
    let dir = fixtures().join("aws-config");
    let mut paths: Vec<_> = std::fs::read_dir(&dir).expect("dir").filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|e| e == "json")).collect();
    paths.sort();
    let sources: Vec<_> = paths.iter().map(|p| source(p)).collect();
    let component = component_json(&sources);
    assert_eq!(component, native_json(&sources));
    let report: Value = serde_json::from_slice(&component).expect("json");
    assert_eq!(report["input"]["sources"].as_array().map(Vec::len), Some(sources.len()));
    assert!(report["input"]["notices"].as_array().is_some_and(|n| !n.is_empty()), "scheduled/oversized events leave notices");
}

/// Statuses a reader can check by eye against the real samples.
#[test]
fn real_samples_get_the_statuses_their_content_implies() {
    let cases = [
        ("s3-bucket-api-item-replication-notification-public-acl-from-cloud-custodian.json", "s3-bucket-no-public-acl", "NON_COMPLIANT"),
        ("s3-bucket-api-item-replication-notification-public-acl-from-cloud-custodian.json", "s3-bucket-versioning-enabled", "COMPLIANT"),
        ("s3-bucket-ci-from-aws-config-rdk-example_ci.json", "s3-bucket-ssl-only", "COMPLIANT"),
        ("s3-bucket-api-item-from-cloud-custodian-config-s3.json", "s3-bucket-ssl-only", "NON_COMPLIANT"),
        ("iam-role-select-resource-config-urlencoded-trust-policy-placebo-from-cloud-custodian.json", "iam-role-trust-no-public-principal", "COMPLIANT"),
        ("iam-user-ci-from-aws-config-rdk-example_ci.json", "iam-user-no-direct-policies", "NON_COMPLIANT"),
        ("iam-user-ci-from-aws-config-rdk-example_ci.json", "iam-no-wildcard-service-actions", "NON_COMPLIANT"),
        ("ec2-security-group-ci-from-aws-config-rdk-example_ci.json", "ec2-sg-no-public-admin-ports", "NON_COMPLIANT"),
        ("ec2-security-group-rule-event-from-cloud-custodian.json", "ec2-sg-no-public-admin-ports", "NON_COMPLIANT"),
        ("ec2-instance-ci-from-aws-config-rdk-example_ci.json", "ec2-imdsv2-required", "NON_COMPLIANT"),
        ("ec2-instance-ci-from-aws-config-rdk-example_ci.json", "ec2-no-public-ip", "NON_COMPLIANT"),
        ("ec2-instance-ci-from-aws-config-rdk-example_ci.json", "ec2-instance-ebs-encrypted", "INSUFFICIENT_DATA"),
        ("ec2-instance-rule-event-from-cloud-custodian.json", "ec2-imdsv2-required", "INSUFFICIENT_DATA"),
        ("ec2-volume-ci-from-aws-config-rdk-example_ci.json", "ec2-volume-encrypted", "COMPLIANT"),
    ];
    for (file, rule, want) in cases {
        let sources = vec![source(&fixtures().join("aws-config").join(file))];
        let report: Value = serde_json::from_slice(&component_json(&sources)).expect("json");
        let got: Vec<&str> = report["findings"].as_array().into_iter().flatten().filter(|f| f["rule_id"] == rule).filter_map(|f| f["status"].as_str()).collect();
        assert_eq!(got, [want], "{file}: {rule}");
    }
}
