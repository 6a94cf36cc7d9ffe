//! Hostile and pathological input through the component: each case ends in a correct report or
//! a clear, located error — never a panic, an unhandled trap, a hang, or a silently dropped
//! resource.

use compliance_runtime::{InputErrorKind, InputSource, Limits, ReportFormat, Runtime, RuntimeError};
use compliance_tests::{component_scan, native_json, component_json, request};
use serde_json::{Value, json};

fn volume(id: &str) -> Value {
    json!({"resourceType": "AWS::EC2::Volume", "resourceId": id, "awsRegion": "us-east-1", "configuration": {"encrypted": true}})
}

fn report_of(bytes: Vec<u8>) -> Value {
    let sources = vec![("hostile.json".to_owned(), bytes)];
    let component = component_json(&sources);
    assert_eq!(component, native_json(&sources), "component and native agree on hostile input");
    serde_json::from_slice(&component).expect("json")
}

#[test]
fn huge_strings_and_many_tags_give_a_correct_report() {
    let mut item = volume("vol-long");
    item["resourceName"] = json!("x".repeat(4 << 20));
    let tags: serde_json::Map<String, Value> = (0..200_000).map(|i| (format!("tag-{i}"), json!(format!("<script>{i}</script>")))).collect();
    item["tags"] = Value::Object(tags);
    let report = report_of(json!([item, volume("vol-plain")]).to_string().into_bytes());
    assert_eq!(report["input"]["evaluated_resources"], 2);
    assert_eq!(report["resources"][0]["resource_name"].as_str().map(str::len), Some(4 << 20));
}

#[test]
fn invalid_utf8_is_a_located_error() {
    let mut bytes = br#"{"configurationItems": [{"resourceType": "AWS::EC2::Volume", "resourceId": "vol-"#.to_vec();
    let at = bytes.len() as u64;
    bytes.extend_from_slice(&[0xff, 0xfe]);
    bytes.extend_from_slice(br#""}]}"#);
    match component_scan(&[("bad-utf8.json".to_owned(), bytes)]) {
        Err(RuntimeError::Input { kind: InputErrorKind::MalformedJson, source_name, offset, .. }) => {
            assert_eq!(source_name, "bad-utf8.json");
            assert!(offset.is_some_and(|o| o >= at && o <= at + 4), "offset {offset:?} near {at}");
        }
        other => panic!("expected a malformed-JSON error, got {:?}", other.map(|s| s.summary)),
    }
}

#[test]
fn numbers_where_strings_belong_and_duplicate_keys() {
    // Numeric ids are read as text; a duplicated key takes its last value, as every JSON
    // parser in the AWS SDKs does; the resource is evaluated, not dropped.
    let text = r#"[{"resourceType": "AWS::EC2::Volume", "resourceId": 12345, "resourceId": 67890, "awsAccountId": 111122223333,
        "awsRegion": "us-east-1", "configuration": {"encrypted": "yes"}, "tags": {"Criticality": 7}}]"#;
    let report = report_of(text.as_bytes().to_vec());
    assert_eq!(report["resources"][0]["resource_id"], "67890");
    assert_eq!(report["resources"][0]["account_id"], "111122223333");
    assert_eq!(report["findings"][0]["status"], "NON_COMPLIANT", "\"yes\" is not the boolean true");
    // An object where the type must be text is an error naming the item.
    match component_scan(&[("typed.json".to_owned(), br#"[{"resourceType": {"a": 1}, "resourceId": "x"}]"#.to_vec())]) {
        Err(RuntimeError::Input { kind: InputErrorKind::InvalidItem, item_index: Some(0), .. }) => {}
        other => panic!("expected an invalid-item error, got {:?}", other.map(|s| s.summary)),
    }
}

#[test]
fn unrecognised_items_are_counted_not_dropped() {
    let report = report_of(br#"[{"resourceType": "AWS::Made::Up", "resourceId": "z"}, {"configuration": {"something": 1}}]"#.to_vec());
    assert_eq!(report["input"]["items"], 2);
    assert_eq!(report["input"]["other_resources"]["AWS::Made::Up"], 1);
    assert_eq!(report["input"]["other_resources"]["(unrecognised item)"], 1);
}

#[test]
fn a_slow_call_is_stopped_at_its_deadline_naming_the_input() {
    // One feed call with every item of a large input (a 64 MiB chunk) against a 10 ms deadline.
    let items: Vec<Value> = (0..20_000).map(|i| volume(&format!("vol-{i}"))).collect();
    let bytes = json!({"configurationItems": items}).to_string().into_bytes();
    let runtime = Runtime::embedded(Limits { call_timeout: std::time::Duration::from_millis(10), chunk_bytes: 64 << 20, ..Limits::default() }).expect("runtime");
    match runtime.scan(&request(), vec![InputSource::bytes("slow.json", bytes)], &mut |_| {}) {
        Err(RuntimeError::Timeout { context, .. }) => assert_eq!(context, "slow.json"),
        other => panic!("expected a timeout, got {:?}", other.map(|s| s.summary)),
    }
}

#[test]
fn exhausting_the_memory_limit_is_an_error_not_a_crash() {
    let mut item = volume("vol-big");
    item["resourceName"] = json!("y".repeat(48 << 20));
    let runtime = Runtime::embedded(Limits { memory_bytes: 32 << 20, ..Limits::default() }).expect("runtime");
    match runtime.scan(&request(), vec![InputSource::bytes("big.json", json!([item]).to_string().into_bytes())], &mut |_| {}) {
        Err(RuntimeError::Trap { context, message }) => {
            assert_eq!(context, "big.json");
            assert!(message.contains("memory limit 32 MiB"), "{message}");
        }
        other => panic!("expected a trap reported as an error, got {:?}", other.map(|s| s.summary)),
    }
    // The same runtime still works for the next scan: a trap poisons only its own store.
    let mut ok = runtime.scan(&request(), vec![InputSource::bytes("ok.json", json!([volume("vol-ok")]).to_string().into_bytes())], &mut |_| {}).expect("next scan");
    assert!(!ok.render(ReportFormat::Json, &[]).expect("render").is_empty());
}

#[test]
fn oversized_items_hit_the_item_limit() {
    let mut item = volume("vol-huge");
    item["resourceName"] = json!("z".repeat(2 << 20));
    let runtime = Runtime::embedded(Limits { max_item_bytes: 1 << 20, ..Limits::default() }).expect("runtime");
    match runtime.scan(&request(), vec![InputSource::bytes("huge.json", json!({"configurationItems": [item]}).to_string().into_bytes())], &mut |_| {}) {
        Err(RuntimeError::Input { kind: InputErrorKind::LimitExceeded, source_name, offset, .. }) => {
            assert_eq!(source_name, "huge.json");
            assert_eq!(offset, Some(23), "the offset of the item that is too large");
        }
        other => panic!("expected a limit error, got {:?}", other.map(|s| s.summary)),
    }
}
