//! Recognises what a JSON document is (SPEC §3) and pulls the configuration items out of it.

use bumpalo::Bump;

use crate::item::kind;
use crate::value::{Map, Value, decode_embedded};

/// Wrappers (SNS inside SQS inside a recorded response) nest a few levels; real data stays well
/// below this, and the bound keeps hostile nesting from recursing without end.
const MAX_WRAPPING: usize = 8;

/// What a document contributed.
#[derive(Debug, Clone, PartialEq)]
pub enum Found<'a> {
    /// A raw configuration item, still to be normalised.
    Item(Value<'a>),
    /// A document that legitimately carries no item (scheduled or oversized notification,
    /// delivery notification); the text says what it was, for the report.
    Notice(String),
}

/// The items (and notices) of a document, or a message saying why its shape is not supported.
/// Decoded wrappers are kept in `arena`.
pub fn items_in_document<'a>(document: Value<'a>, arena: &'a Bump) -> Result<Vec<Found<'a>>, String> {
    let mut found = Vec::new();
    collect(document, 0, arena, &mut found)?;
    Ok(found)
}

fn collect<'a>(document: Value<'a>, level: usize, arena: &'a Bump, found: &mut Vec<Found<'a>>) -> Result<(), String> {
    if level > MAX_WRAPPING {
        return Err(format!("more than {MAX_WRAPPING} levels of wrapping around the items"));
    }
    match decode_embedded(document, arena) {
        Value::Array(elements) => elements.iter().try_for_each(|e| collect(e, level + 1, arena, found)),
        Value::Object(map) => collect_object(map, level, arena, found),
        other => Err(format!("expected an object or array, found {}", kind(&other))),
    }
}

fn collect_object<'a>(map: Map<'a>, level: usize, arena: &'a Bump, found: &mut Vec<Found<'a>>) -> Result<(), String> {
    for key in ["configurationItems", "baseConfigurationItems", "Results"] {
        if let Some(list) = map.get(key) {
            let Value::Array(items) = decode_embedded(list, arena) else {
                return Err(format!("`{key}` must be an array"));
            };
            found.extend(items.iter().map(Found::Item));
            return Ok(());
        }
    }
    if let Some(data) = map.get("data").filter(|d| d.is_object()) {
        // A boto3 response recorded by placebo: {"status_code": 200, "data": {...}}.
        return collect(data, level + 1, arena, found);
    }
    if let Some(Value::Array(messages)) = map.get("Messages") {
        // SQS ReceiveMessage output: each Body holds an SNS envelope.
        for message in messages.iter() {
            let body = message.get("Body").ok_or("an SQS message has no Body")?;
            collect(body, level + 1, arena, found)?;
        }
        return Ok(());
    }
    if let Some(message) = map.get("Message") {
        return collect(message, level + 1, arena, found);
    }
    if let Some(event) = map.get("invokingEvent") {
        return collect(event, level + 1, arena, found);
    }
    if let Some(message_type) = map.get("messageType").and_then(Value::as_str) {
        return notification(message_type, map, arena, found);
    }
    if map.contains_key("configurationItem") {
        return notification("ConfigurationItemChangeNotification", map, arena, found);
    }
    if map.contains_key("resourceType") || map.contains_key("configuration") {
        found.push(Found::Item(Value::Object(map)));
        return Ok(());
    }
    let keys: Vec<&str> = map.keys().take(6).collect();
    Err(format!(
        "not an AWS Config snapshot, history file, API response, rule event or item (top-level keys: {})",
        if keys.is_empty() { "none".to_owned() } else { keys.join(", ") }
    ))
}

fn notification<'a>(message_type: &str, map: Map<'a>, arena: &'a Bump, found: &mut Vec<Found<'a>>) -> Result<(), String> {
    match message_type {
        "ConfigurationItemChangeNotification" => match map.get("configurationItem").map(|item| decode_embedded(item, arena)) {
            Some(Value::Array(items)) => found.extend(items.iter().map(Found::Item)),
            Some(item @ Value::Object(_)) => found.push(Found::Item(item)),
            _ => return Err("a change notification without a configurationItem".to_owned()),
        },
        "OversizedConfigurationItemChangeNotification" | "OversizedConfigurationItemChangeDeliveryFailed" => {
            let summary = map.get("configurationItemSummary");
            let field = |k: &str| summary.and_then(|s| s.get(k)).and_then(Value::as_str).unwrap_or("?").to_owned();
            found.push(Found::Notice(format!(
                "{message_type} for {} {}: only a summary, the item must be fetched with GetResourceConfigHistory",
                field("resourceType"),
                field("resourceId")
            )));
        }
        other => found.push(Found::Notice(format!("{other}: carries no configuration item"))),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    use serde_json::json;

    fn items_in(document: serde_json::Value) -> Result<Vec<Found<'static>>, String> {
        let arena = crate::value::test_arena();
        items_in_document(Value::from_json(&document, arena), arena)
    }

    fn count_items(found: &[Found]) -> usize {
        found.iter().filter(|f| matches!(f, Found::Item(_))).count()
    }

    #[test]
    fn recognises_every_wrapper() {
        let item = json!({"resourceType": "AWS::EC2::Volume", "resourceId": "vol-1"});
        let event_body = json!({"messageType": "ConfigurationItemChangeNotification", "configurationItem": item});
        let lambda_event = json!({"invokingEvent": event_body.to_string(), "resultToken": "t"});
        let sns = json!({"Type": "Notification", "Message": event_body.to_string()});
        let sqs = json!({"Messages": [{"Body": sns.to_string()}]});
        let placebo = json!({"status_code": 200, "data": {"configurationItems": [item.to_string()]}});
        let select = json!({"Results": [item.to_string()]});
        for doc in [item.clone(), lambda_event, sns, sqs, placebo, select, json!([item])] {
            let found = items_in(doc.clone());
            assert_eq!(found.as_ref().map(|f| count_items(f)), Ok(1), "{doc}");
        }
    }

    #[test]
    fn scheduled_and_oversized_events_carry_notices() {
        let scheduled = json!({"invokingEvent": "{\"messageType\":\"ScheduledNotification\"}"});
        let found = items_in(scheduled).unwrap_or_default();
        assert!(matches!(found.as_slice(), [Found::Notice(n)] if n.starts_with("ScheduledNotification")));
    }

    #[test]
    fn unknown_shapes_say_what_they_saw() {
        let err = items_in(json!({"hello": 1})).err().unwrap_or_default();
        assert!(err.contains("hello"), "{err}");
        assert!(items_in(json!(42)).is_err());
        assert!(items_in(json!({"configurationItems": 3})).is_err());
    }
}
