//! IAM policy, role, user and group rules.

use bumpalo::Bump;

use super::policy::{Statement, statements};
use super::{Check, Outcome, RuleIndex, Status, index_of, numbered, rule_id, split_at_first};
use crate::item::ConfigItem;
use crate::value::{Value, flag, one_or_many, policy_document};

const ADMIN_ACCESS: RuleIndex = index_of("iam-no-admin-access");
const WILDCARD_SERVICE_ACTIONS: RuleIndex = index_of("iam-no-wildcard-service-actions");
const ALLOW_NOT_ACTION: RuleIndex = index_of("iam-no-allow-notaction");
const POLICY_RULES: [RuleIndex; 3] = [ADMIN_ACCESS, WILDCARD_SERVICE_ACTIONS, ALLOW_NOT_ACTION];

/// The decoded documents a resource carries, and the first one that could not be read.
struct Documents<'a> {
    decoded: Vec<(String, Value<'a>)>,
    unreadable: Option<(String, String)>,
}

/// Phase-one checks of an IAM policy, role, user or group.
pub fn checks(item: &ConfigItem<'_>) -> Vec<(RuleIndex, Check)> {
    let mut checks: Vec<(RuleIndex, Check)> = match documents(item) {
        Ok(docs) => {
            // Every policy rule reads the same Allow statements: they are found once.
            let allowing: Vec<Statement<'_, '_>> =
                docs.decoded.iter().flat_map(|(at, doc)| statements(doc, at)).filter(Statement::allows).collect();
            POLICY_RULES.iter().map(|&rule| (rule, Check::Done(evaluate_policy_rule(rule, &docs, &allowing)))).collect()
        }
        Err(outcome) => POLICY_RULES.iter().map(|&rule| (rule, Check::Done(outcome.clone()))).collect(),
    };
    match item.resource_type {
        "AWS::IAM::Role" => checks.push((rule_id!("iam-role-trust-no-public-principal"), Check::Done(trust_policy(&item.configuration, item.arena)))),
        "AWS::IAM::User" => checks.push((rule_id!("iam-user-no-direct-policies"), Check::Done(direct_policies(&item.configuration)))),
        _ => {}
    }
    checks
}

fn documents<'a>(item: &ConfigItem<'a>) -> Result<Documents<'a>, Outcome> {
    let config = &item.configuration;
    let mut sources: Vec<(String, Value<'a>)> = Vec::new();
    if item.resource_type == "AWS::IAM::Policy" {
        let versions = one_or_many(config.get("policyVersionList"));
        let default = versions.iter().enumerate().find(|(_, v)| v.get("isDefaultVersion").and_then(flag) == Some(true));
        let Some((i, version)) = default else {
            return Err(Outcome::new(Status::InsufficientData, "configuration.policyVersionList", "no policy version is marked as the default"));
        };
        let at = numbered(&["configuration.policyVersionList["], i, &["].document"]);
        sources.push((at, version.get("document").unwrap_or_default()));
    } else {
        let list = match item.resource_type {
            "AWS::IAM::Role" => "rolePolicyList",
            "AWS::IAM::User" => "userPolicyList",
            _ => "groupPolicyList",
        };
        for (i, inline) in one_or_many(config.get(list)).into_iter().enumerate() {
            sources.push((numbered(&["configuration.", list, "["], i, &["].policyDocument"]), inline.get("policyDocument").unwrap_or_default()));
        }
    }
    let mut docs = Documents { decoded: Vec::new(), unreadable: None };
    for (at, raw) in sources {
        match policy_document(raw, item.arena) {
            Ok(doc) => docs.decoded.push((at, doc)),
            Err(e) => {
                docs.unreadable.get_or_insert((at, e));
            }
        }
    }
    Ok(docs)
}

/// One policy rule over a resource's documents, given their Allow statements in order.
fn evaluate_policy_rule(rule: RuleIndex, docs: &Documents<'_>, allowing: &[Statement<'_, '_>]) -> Outcome {
    let violation = allowing.iter().find_map(|s| match rule {
        ADMIN_ACCESS => admin_access(s),
        WILDCARD_SERVICE_ACTIONS => wildcard_service_action(s),
        _ => s.has_not_action().then(|| Outcome::new(Status::NonCompliant, format!("{}.NotAction", s.path), "an Allow statement uses NotAction")),
    });
    if let Some(outcome) = violation {
        return outcome;
    }
    if let Some((at, reason)) = &docs.unreadable {
        return Outcome::new(Status::InsufficientData, at.clone(), format!("a policy document cannot be read: {reason}"));
    }
    let at = docs.decoded.first().map_or_else(|| "configuration".to_owned(), |(at, _)| at.clone());
    let message = match rule {
        ADMIN_ACCESS => "no statement allows * on *",
        WILDCARD_SERVICE_ACTIONS => "no statement allows service:*",
        _ => "no Allow statement uses NotAction",
    };
    Outcome::new(Status::Compliant, at, message)
}

/// Rule pack 1.1.0: `NotResource` with every action is administrative too (everything but a
/// few ARNs is still everything), and `**`-style spellings of the full wildcard count.
fn admin_access(s: &Statement<'_, '_>) -> Option<Outcome> {
    if !s.actions().any(is_every_action) {
        return None;
    }
    if s.resources().any(|r| r == "*") {
        return Some(Outcome::new(Status::NonCompliant, format!("{}.Action", s.path), "an Allow statement grants every action on every resource"));
    }
    s.has_not_resource().then(|| {
        Outcome::new(Status::NonCompliant, format!("{}.NotResource", s.path), "an Allow statement grants every action on every resource but those in NotResource")
    })
}

/// `*`, `*:*`, or the same with repeated stars (`**`, `*:**`): IAM matches each of them
/// against every action.
fn is_every_action(action: &str) -> bool {
    let stars = |part: &str| !part.is_empty() && part.bytes().all(|b| b == b'*');
    match split_at_first(action, b':') {
        Some((service, name)) => stars(service) && stars(name),
        None => stars(action),
    }
}

/// Rule pack 1.1.0: `service:` followed only by `*` characters (`s3:*`, `s3:**`).
fn wildcard_service_action(s: &Statement<'_, '_>) -> Option<Outcome> {
    let action = s.actions().find(|a| {
        split_at_first(a, b':').is_some_and(|(service, rest)| {
            !rest.is_empty()
                && rest.bytes().all(|b| b == b'*')
                && !service.is_empty()
                && service.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
    })?;
    Some(Outcome::new(Status::NonCompliant, format!("{}.Action", s.path), format!("an Allow statement grants {}", action.to_ascii_lowercase())))
}

fn trust_policy<'a>(config: &Value<'a>, arena: &'a Bump) -> Outcome {
    let at = "configuration.assumeRolePolicyDocument";
    let raw = config.get("assumeRolePolicyDocument").filter(|v| !v.is_null());
    let Some(raw) = raw else {
        return Outcome::new(Status::InsufficientData, at, "the trust policy is not recorded");
    };
    let document = match policy_document(raw, arena) {
        Ok(doc) => doc,
        Err(e) => return Outcome::new(Status::InsufficientData, at, format!("the trust policy cannot be read: {e}")),
    };
    match statements(&document, at).into_iter().find(|s| s.allows() && s.principal_is_public() && !s.has_condition()) {
        Some(s) => Outcome::new(Status::NonCompliant, format!("{}.Principal", s.path), "anyone can assume this role: principal * without a condition"),
        None => Outcome::new(Status::Compliant, at, "the trust policy names its principals or conditions"),
    }
}

fn direct_policies(config: &Value<'_>) -> Outcome {
    let managed = one_or_many(config.get("attachedManagedPolicies")).len();
    let inline = one_or_many(config.get("userPolicyList")).len();
    if managed == 0 && inline == 0 {
        return Outcome::new(Status::Compliant, "configuration", "no policies are attached directly to the user");
    }
    let at = if managed > 0 { "configuration.attachedManagedPolicies" } else { "configuration.userPolicyList" };
    Outcome::new(Status::NonCompliant, at, format!("{managed} managed and {inline} inline policies are attached directly"))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{evaluate, status};
    use super::super::Status::*;
    use serde_json::{Value, json};

    fn encode(doc: &Value) -> String {
        percent_encoding::utf8_percent_encode(&doc.to_string(), percent_encoding::NON_ALPHANUMERIC).to_string()
    }

    fn doc(statement: Value) -> Value {
        json!({"Version": "2012-10-17", "Statement": statement})
    }

    fn policy(document: Value, default: bool) -> Value {
        json!({"resourceType": "AWS::IAM::Policy", "resourceId": "ANPA1", "awsRegion": "global",
            "configuration": {"policyVersionList": [{"document": encode(&document), "isDefaultVersion": default}]}})
    }

    fn role(inline: Vec<Value>, trust: Option<Value>) -> Value {
        let mut config = json!({"rolePolicyList": inline.iter().enumerate()
            .map(|(i, d)| json!({"policyName": format!("p{i}"), "policyDocument": encode(d)})).collect::<Vec<_>>()});
        if let Some(trust) = trust {
            config["assumeRolePolicyDocument"] = json!(encode(&trust));
        }
        json!({"resourceType": "AWS::IAM::Role", "resourceId": "AROA1", "configuration": config.to_string()})
    }

    fn service_trust() -> Value {
        doc(json!({"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}))
    }

    #[test]
    fn admin_access_in_default_version_only() {
        let admin = doc(json!([{"Effect": "Allow", "Action": "*", "Resource": "*"}]));
        assert_eq!(status(&evaluate(policy(admin.clone(), true)), "iam-no-admin-access"), NonCompliant);
        for rule in super::POLICY_RULES {
            assert_eq!(status(&evaluate(policy(admin.clone(), false)), super::super::rule(rule).id), InsufficientData);
        }
        let star_star = doc(json!({"Effect": "Allow", "Action": ["*:*"], "Resource": ["*"]}));
        assert_eq!(status(&evaluate(role(vec![star_star], Some(service_trust()))), "iam-no-admin-access"), NonCompliant);
        let scoped = doc(json!({"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::b/*"}));
        assert_eq!(status(&evaluate(policy(scoped, true)), "iam-no-admin-access"), Compliant);
        let denied = doc(json!({"Effect": "Deny", "Action": "*", "Resource": "*"}));
        assert_eq!(status(&evaluate(policy(denied, true)), "iam-no-admin-access"), Compliant);
    }

    #[test]
    fn admin_access_through_not_resource() {
        // 1.1.0: everything except a few ARNs is still everything.
        let not_resource = doc(json!({"Effect": "Allow", "Action": "*", "NotResource": "arn:aws:s3:::audit-logs/*"}));
        assert_eq!(status(&evaluate(policy(not_resource.clone(), true)), "iam-no-admin-access"), NonCompliant);
        assert_eq!(status(&evaluate(role(vec![not_resource], Some(service_trust()))), "iam-no-admin-access"), NonCompliant);
        let not_resource_scoped_actions = doc(json!({"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::x/*"}));
        assert_eq!(status(&evaluate(policy(not_resource_scoped_actions, true)), "iam-no-admin-access"), Compliant);
        for every in ["**", "*:**", "**:*"] {
            let d = doc(json!({"Effect": "Allow", "Action": every, "Resource": "*"}));
            assert_eq!(status(&evaluate(policy(d, true)), "iam-no-admin-access"), NonCompliant, "{every}");
        }
    }

    #[test]
    fn wildcard_service_actions_case_insensitive() {
        let cases = [("S3:*", NonCompliant), ("ec2:*", NonCompliant), ("s3:Get*", Compliant), ("*", Compliant), ("*:*", Compliant),
            ("s3:**", NonCompliant), ("IAM:***", NonCompliant), ("s3:", Compliant), ("**:*", Compliant), ("s3:*Object", Compliant)];
        for (action, expected) in cases {
            let d = doc(json!({"Effect": "Allow", "Action": [action], "Resource": "arn:aws:s3:::b"}));
            assert_eq!(status(&evaluate(policy(d, true)), "iam-no-wildcard-service-actions"), expected, "{action}");
        }
    }

    #[test]
    fn not_action_with_allow() {
        let d = doc(json!({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}));
        assert_eq!(status(&evaluate(policy(d, true)), "iam-no-allow-notaction"), NonCompliant);
        let d = doc(json!({"Effect": "Deny", "NotAction": "iam:*", "Resource": "*"}));
        assert_eq!(status(&evaluate(policy(d, true)), "iam-no-allow-notaction"), Compliant);
    }

    #[test]
    fn unreadable_documents_are_insufficient_data() {
        let item = json!({"resourceType": "AWS::IAM::Group", "resourceId": "AGPA1",
            "configuration": {"groupPolicyList": [{"policyDocument": "%7Bbroken"}]}});
        assert_eq!(status(&evaluate(item), "iam-no-admin-access"), InsufficientData);
        let group = json!({"resourceType": "AWS::IAM::Group", "resourceId": "AGPA1", "configuration": {}});
        assert_eq!(status(&evaluate(group), "iam-no-admin-access"), Compliant);
    }

    #[test]
    fn trust_policy_public_principals() {
        let public = |principal: Value, condition: Option<Value>| {
            let mut s = json!({"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"});
            if let Some(c) = condition {
                s["Condition"] = c;
            }
            doc(json!([s]))
        };
        let rule = "iam-role-trust-no-public-principal";
        assert_eq!(status(&evaluate(role(vec![], Some(public(json!("*"), None)))), rule), NonCompliant);
        assert_eq!(status(&evaluate(role(vec![], Some(public(json!({"AWS": ["arn:aws:iam::1:root", "*"]}), None)))), rule), NonCompliant);
        let conditioned = public(json!({"AWS": "*"}), Some(json!({"StringEquals": {"aws:PrincipalOrgID": "o-1"}})));
        assert_eq!(status(&evaluate(role(vec![], Some(conditioned))), rule), Compliant);
        assert_eq!(status(&evaluate(role(vec![], Some(service_trust()))), rule), Compliant);
        assert_eq!(status(&evaluate(role(vec![], None)), rule), InsufficientData);
    }

    #[test]
    fn users_with_direct_policies() {
        let user = |config: Value| json!({"resourceType": "AWS::IAM::User", "resourceId": "AIDA1", "configuration": config});
        let rule = "iam-user-no-direct-policies";
        assert_eq!(status(&evaluate(user(json!({"attachedManagedPolicies": [], "userPolicyList": []}))), rule), Compliant);
        assert_eq!(status(&evaluate(user(json!({}))), rule), Compliant);
        let managed = json!({"attachedManagedPolicies": [{"policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}]});
        assert_eq!(status(&evaluate(user(managed)), rule), NonCompliant);
        let inline = json!({"userPolicyList": [{"policyName": "p", "policyDocument": "%7B%7D"}]});
        assert_eq!(status(&evaluate(user(inline)), rule), NonCompliant);
    }
}
