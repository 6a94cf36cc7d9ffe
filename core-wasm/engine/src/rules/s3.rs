//! S3 bucket rules.

use super::policy::statements;
use super::{Check, Outcome, RuleIndex, Status, numbered, rule_id};
use crate::item::ConfigItem;
use bumpalo::Bump;

use crate::value::{Value, flag, non_blank, one_or_many, path, policy_document};

const ALL_USERS: &str = "http://acs.amazonaws.com/groups/global/AllUsers";
const AUTHENTICATED_USERS: &str = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";

/// The four public access block flags; `None` when not recorded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PublicAccessFlags {
    /// `blockPublicAcls`.
    pub block_public_acls: Option<bool>,
    /// `ignorePublicAcls`.
    pub ignore_public_acls: Option<bool>,
    /// `blockPublicPolicy`.
    pub block_public_policy: Option<bool>,
    /// `restrictPublicBuckets`.
    pub restrict_public_buckets: Option<bool>,
}

const FLAG_NAMES: [&str; 4] = ["blockPublicAcls", "ignorePublicAcls", "blockPublicPolicy", "restrictPublicBuckets"];

impl PublicAccessFlags {
    fn read(value: Option<Value<'_>>) -> Self {
        let [block_public_acls, ignore_public_acls, block_public_policy, restrict_public_buckets] =
            value.map_or([None; 4], |v| v.get_each(FLAG_NAMES)).map(|flag_value| flag_value.and_then(flag));
        Self { block_public_acls, ignore_public_acls, block_public_policy, restrict_public_buckets }
    }

    fn as_array(&self) -> [Option<bool>; 4] {
        [self.block_public_acls, self.ignore_public_acls, self.block_public_policy, self.restrict_public_buckets]
    }
}

/// Flags of an `AWS::S3::AccountPublicAccessBlock` item.
pub fn account_flags(item: &ConfigItem<'_>) -> PublicAccessFlags {
    PublicAccessFlags::read(Some(item.configuration))
}


/// Phase-one checks of a bucket.
pub fn bucket_checks(item: &ConfigItem<'_>) -> Vec<(RuleIndex, Check)> {
    let [public_access_block, encryption, acl, policy, versioning_configuration, logging_configuration] = item.supplementary.get_each([
        "PublicAccessBlockConfiguration",
        "ServerSideEncryptionConfiguration",
        "AccessControlList",
        "BucketPolicy",
        "BucketVersioningConfiguration",
        "BucketLoggingConfiguration",
    ]);
    let bucket_flags = PublicAccessFlags::read(public_access_block);
    vec![
        (rule_id!("s3-bucket-sse-kms"), Check::Done(sse_kms(encryption))),
        (rule_id!("s3-bucket-public-access-blocked"), Check::BucketPublicAccess(bucket_flags)),
        (rule_id!("s3-bucket-no-public-acl"), Check::BucketAcl { public_grant: public_grant(acl), bucket_ignore: bucket_flags.ignore_public_acls }),
        (rule_id!("s3-bucket-ssl-only"), Check::Done(ssl_only(policy, item.arena))),
        (rule_id!("s3-bucket-versioning-enabled"), Check::Done(versioning(versioning_configuration))),
        (rule_id!("s3-bucket-logging-enabled"), Check::Done(logging(logging_configuration))),
    ]
}

fn sse_kms(config: Option<Value<'_>>) -> Outcome {
    let rules = one_or_many(config.and_then(|c| c.get("rules")));
    let algorithms: Vec<(String, &str)> = rules
        .iter()
        .enumerate()
        .filter_map(|(i, rule)| {
            let algo = path(rule, &["applyServerSideEncryptionByDefault", "sseAlgorithm"])?.as_str()?;
            Some((numbered(&["supplementaryConfiguration.ServerSideEncryptionConfiguration.rules["], i, &["].applyServerSideEncryptionByDefault.sseAlgorithm"]), algo))
        })
        .collect();
    if let Some((at, algo)) = algorithms.iter().find(|(_, a)| matches!(*a, "aws:kms" | "aws:kms:dsse")) {
        return Outcome::new(Status::Compliant, at.clone(), ["default encryption uses ", algo].concat());
    }
    match algorithms.first() {
        Some((at, algo)) => Outcome::new(Status::NonCompliant, at.clone(), ["default encryption is ", algo, ", not aws:kms"].concat()),
        None => Outcome::new(Status::NonCompliant, "supplementaryConfiguration.ServerSideEncryptionConfiguration", "no KMS default encryption is configured"),
    }
}

/// Phase two of `s3-bucket-public-access-blocked`.
pub fn resolve_public_access(bucket: &PublicAccessFlags, account: Option<&PublicAccessFlags>) -> Outcome {
    let account = account.copied().unwrap_or_default();
    let open: Vec<&str> = FLAG_NAMES
        .iter()
        .zip(bucket.as_array().into_iter().zip(account.as_array()))
        .filter(|(_, (b, a))| *b != Some(true) && *a != Some(true))
        .map(|(name, _)| *name)
        .collect();
    let at = "supplementaryConfiguration.PublicAccessBlockConfiguration";
    if open.is_empty() {
        Outcome::new(Status::Compliant, at, "all four public access block flags are on (bucket or account level)")
    } else {
        Outcome::new(Status::NonCompliant, at, format!("not blocked at bucket or account level: {}", open.join(", ")))
    }
}

fn public_grant(acl: Option<Value<'_>>) -> Option<(String, String)> {
    let grants = one_or_many(acl.and_then(|a| a.get("grantList")));
    grants.iter().enumerate().find_map(|(i, grant)| {
        let grantee = grant.get("grantee")?;
        let group = match grantee {
            Value::String(s) if s == "AllUsers" || s == "AuthenticatedUsers" => s.to_owned(),
            Value::Object(map) => map.values().filter_map(Value::as_str).find(|v| *v == ALL_USERS || *v == AUTHENTICATED_USERS)?.rsplit('/').next()?.to_owned(),
            _ => return None,
        };
        Some((numbered(&["supplementaryConfiguration.AccessControlList.grantList["], i, &["].grantee"]), group))
    })
}

/// Phase two of `s3-bucket-no-public-acl`.
pub fn resolve_acl(public_grant: Option<(String, String)>, bucket_ignore: Option<bool>, account_ignore: Option<bool>) -> Outcome {
    match public_grant {
        None => Outcome::new(Status::Compliant, "supplementaryConfiguration.AccessControlList", "the ACL grants nothing to AllUsers or AuthenticatedUsers"),
        Some((at, group)) if bucket_ignore == Some(true) || account_ignore == Some(true) => {
            Outcome::new(Status::Compliant, at, ["the ACL grants ", &group, " access, but public ACLs are ignored"].concat())
        }
        Some((at, group)) => Outcome::new(Status::NonCompliant, at, ["the ACL grants access to ", &group].concat()),
    }
}

fn ssl_only<'a>(bucket_policy: Option<Value<'a>>, arena: &'a Bump) -> Outcome {
    let at = "supplementaryConfiguration.BucketPolicy.policyText";
    let Some(text) = bucket_policy.and_then(|p| p.get("policyText")).filter(|t| !t.is_null()) else {
        return Outcome::new(Status::NonCompliant, at, "the bucket has no policy, so plain HTTP is allowed");
    };
    let document = match policy_document(text, arena) {
        Ok(doc) => doc,
        Err(e) => return Outcome::new(Status::NonCompliant, at, format!("the bucket policy cannot be read ({e}), so it cannot deny plain HTTP")),
    };
    let enforcing = statements(&document, at).into_iter().find(|s| {
        s.denies()
            && s.principal_is_public()
            && s.actions().any(|a| a == "*" || a.eq_ignore_ascii_case("s3:*"))
            && s.condition_values("Bool", "aws:SecureTransport").iter().any(|v| v == "false")
    });
    match enforcing {
        Some(statement) => Outcome::new(Status::Compliant, statement.path.to_string(), "the bucket policy denies requests without TLS"),
        None => Outcome::new(Status::NonCompliant, at, "no Deny statement for aws:SecureTransport = false on s3:*"),
    }
}

fn versioning(config: Option<Value<'_>>) -> Outcome {
    let at = "supplementaryConfiguration.BucketVersioningConfiguration.status";
    match config.and_then(|c| c.get("status")).and_then(Value::as_str) {
        Some("Enabled") => Outcome::new(Status::Compliant, at, "versioning is enabled"),
        Some(other) => Outcome::new(Status::NonCompliant, at, ["versioning is ", other].concat()),
        None => Outcome::new(Status::NonCompliant, at, "versioning has never been enabled"),
    }
}

fn logging(config: Option<Value<'_>>) -> Outcome {
    let at = "supplementaryConfiguration.BucketLoggingConfiguration.destinationBucketName";
    match non_blank(config.and_then(|c| c.get("destinationBucketName"))) {
        Some(target) => Outcome::new(Status::Compliant, at, ["access logs go to ", target].concat()),
        None => Outcome::new(Status::NonCompliant, at, "server access logging is off"),
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{evaluate, evaluate_with, status};
    use super::super::{Context, Status::*};
    use serde_json::{Value, json};

    fn bucket(supplementary: Value) -> Value {
        json!({"resourceType": "AWS::S3::Bucket", "resourceId": "b", "awsAccountId": "111", "awsRegion": "us-east-1",
            "configuration": {"name": "b"}, "supplementaryConfiguration": supplementary})
    }

    /// The API shape: every supplementary value is a JSON string.
    fn api_bucket(supplementary: Value) -> Value {
        let encoded: serde_json::Map<String, Value> = supplementary
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), Value::String(v.to_string())))
            .collect();
        json!({"resourceType": "AWS::S3::Bucket", "resourceId": "b", "accountId": "111", "awsRegion": "us-east-1",
            "configuration": "{\"name\":\"b\"}", "supplementaryConfiguration": encoded})
    }

    fn sse(algo: &str) -> Value {
        json!({"ServerSideEncryptionConfiguration": {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": algo}}]}})
    }

    #[test]
    fn sse_kms_in_both_shapes() {
        for shape in [bucket as fn(Value) -> Value, api_bucket] {
            assert_eq!(status(&evaluate(shape(sse("aws:kms"))), "s3-bucket-sse-kms"), Compliant);
            assert_eq!(status(&evaluate(shape(sse("aws:kms:dsse"))), "s3-bucket-sse-kms"), Compliant);
            assert_eq!(status(&evaluate(shape(sse("AES256"))), "s3-bucket-sse-kms"), NonCompliant);
            assert_eq!(status(&evaluate(shape(json!({}))), "s3-bucket-sse-kms"), NonCompliant);
        }
    }

    #[test]
    fn public_access_block_combines_bucket_and_account_levels() {
        let half = json!({"PublicAccessBlockConfiguration": {"blockPublicAcls": true, "ignorePublicAcls": true, "blockPublicPolicy": false, "restrictPublicBuckets": false}});
        assert_eq!(status(&evaluate(bucket(half.clone())), "s3-bucket-public-access-blocked"), NonCompliant);
        assert_eq!(status(&evaluate(api_bucket(half.clone())), "s3-bucket-public-access-blocked"), NonCompliant);
        let mut ctx = Context::default();
        ctx.account_public_access.insert("111".into(), super::PublicAccessFlags {
            block_public_acls: Some(false), ignore_public_acls: None, block_public_policy: Some(true), restrict_public_buckets: Some(true) });
        assert_eq!(status(&evaluate_with(bucket(half.clone()), &ctx), "s3-bucket-public-access-blocked"), Compliant);
        assert_eq!(status(&evaluate_with(api_bucket(half), &ctx), "s3-bucket-public-access-blocked"), Compliant);
        assert_eq!(status(&evaluate(bucket(json!({}))), "s3-bucket-public-access-blocked"), NonCompliant);
        let other_account = evaluate_with(json!({"resourceType": "AWS::S3::Bucket", "resourceId": "c", "awsAccountId": "222"}), &ctx);
        assert_eq!(status(&other_account, "s3-bucket-public-access-blocked"), NonCompliant);
    }

    #[test]
    fn public_acl_grantee_forms() {
        let uri = json!({"AccessControlList": {"grantList": [{"grantee": {"id": "abc"}, "permission": "FullControl"},
            {"grantee": {"identifier": "http://acs.amazonaws.com/groups/global/AllUsers", "typeIdentifier": "uri"}, "permission": "Read"}]}});
        let bare = json!({"AccessControlList": {"grantList": [{"grantee": "AuthenticatedUsers", "permission": "Read"}]}});
        for acl in [uri, bare] {
            let results = evaluate(bucket(acl.clone()));
            assert_eq!(status(&results, "s3-bucket-no-public-acl"), NonCompliant);
            assert_eq!(status(&evaluate(api_bucket(acl.clone())), "s3-bucket-no-public-acl"), NonCompliant);
            let mut ignored = acl;
            ignored["PublicAccessBlockConfiguration"] = json!({"ignorePublicAcls": true});
            assert_eq!(status(&evaluate(bucket(ignored)), "s3-bucket-no-public-acl"), Compliant);
        }
        assert_eq!(status(&evaluate(bucket(json!({}))), "s3-bucket-no-public-acl"), Compliant);
    }

    #[test]
    fn public_acl_double_encoded_in_api_shape() {
        let acl = json!({"grantList": [{"grantee": "AllUsers", "permission": "Read"}]}).to_string();
        let twice = Value::String(Value::String(acl).to_string());
        let item = json!({"resourceType": "AWS::S3::Bucket", "resourceId": "b", "configuration": "{}",
            "supplementaryConfiguration": {"AccessControlList": twice}});
        assert_eq!(status(&evaluate(item), "s3-bucket-no-public-acl"), NonCompliant);
    }

    fn policy(statement: Value) -> Value {
        json!({"BucketPolicy": {"policyText": json!({"Version": "2012-10-17", "Statement": [statement]}).to_string()}})
    }

    #[test]
    fn ssl_only_needs_the_deny_statement() {
        let good = json!({"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": ["s3:*"], "Resource": "*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}});
        assert_eq!(status(&evaluate(bucket(policy(good.clone()))), "s3-bucket-ssl-only"), Compliant);
        assert_eq!(status(&evaluate(api_bucket(policy(good.clone()))), "s3-bucket-ssl-only"), Compliant);
        let mut wrong_action = good.clone();
        wrong_action["Action"] = json!("s3:GetObject");
        assert_eq!(status(&evaluate(bucket(policy(wrong_action))), "s3-bucket-ssl-only"), NonCompliant);
        let mut allow = good;
        allow["Effect"] = json!("Allow");
        assert_eq!(status(&evaluate(bucket(policy(allow))), "s3-bucket-ssl-only"), NonCompliant);
        assert_eq!(status(&evaluate(bucket(json!({"BucketPolicy": {"policyText": null}}))), "s3-bucket-ssl-only"), NonCompliant);
        assert_eq!(status(&evaluate(bucket(json!({}))), "s3-bucket-ssl-only"), NonCompliant);
    }

    #[test]
    fn versioning_and_logging() {
        let on = json!({"BucketVersioningConfiguration": {"status": "Enabled"}, "BucketLoggingConfiguration": {"destinationBucketName": "logs"}});
        let off = json!({"BucketVersioningConfiguration": {"status": "Suspended"}, "BucketLoggingConfiguration": {"destinationBucketName": null}});
        for shape in [bucket as fn(Value) -> Value, api_bucket] {
            let results = evaluate(shape(on.clone()));
            assert_eq!(status(&results, "s3-bucket-versioning-enabled"), Compliant);
            assert_eq!(status(&results, "s3-bucket-logging-enabled"), Compliant);
            let results = evaluate(shape(off.clone()));
            assert_eq!(status(&results, "s3-bucket-versioning-enabled"), NonCompliant);
            assert_eq!(status(&results, "s3-bucket-logging-enabled"), NonCompliant);
        }
        assert_eq!(status(&evaluate(bucket(json!({}))), "s3-bucket-versioning-enabled"), NonCompliant);
    }
}
