//! Deterministic synthetic AWS Config snapshots for benchmarks and load tests.
//!
//! The mix follows what large enterprise accounts record for the rule pack's types: many
//! volumes, instances and security groups, fewer buckets, IAM roles and policies with
//! percent-encoded documents, plus items of types the pack ignores. Item sizes match real
//! Config items (1–4 KB). The same seed and size give the same bytes.

use std::io::Write;

use compliance_engine::{ReportMeta, Scan, ScanError, ScanOptions, ScoreReport};
use serde_json::{Value, json};

/// Scores `bytes` with the native engine, fed in 1 MiB chunks as the hosts feed the component.
pub fn scan_natively(bytes: &[u8]) -> Result<ScoreReport, ScanError> {
    let mut scan = Scan::new(ScanOptions::default())?;
    scan.begin_source("synthetic.json")?;
    for chunk in bytes.chunks(1 << 20) {
        scan.feed(chunk)?;
    }
    scan.end_source()?;
    scan.finish(ReportMeta::default())
}

/// Output shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A delivery-channel snapshot file: object `configuration`, one JSON document.
    Snapshot,
    /// BatchGetResourceConfig-style API items: `configuration` and supplementary values as JSON strings.
    Api,
}

/// A small, fast, seedable generator (xorshift64*); no dependency, stable across versions.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// Seeded generator (a zero seed is replaced).
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    /// A value in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

const ACCOUNT: &str = "123456789012";
const REGIONS: [&str; 3] = ["us-east-1", "eu-west-1", "ap-southeast-2"];
const CRITICALITY: [&str; 5] = ["critical", "high", "medium", "low", ""];

fn encode(doc: &Value) -> String {
    percent_encoding::utf8_percent_encode(&doc.to_string(), percent_encoding::NON_ALPHANUMERIC).to_string()
}

fn tags(rng: &mut Rng, i: u64) -> Value {
    let mut tags = serde_json::Map::new();
    tags.insert("Name".into(), json!(format!("resource-{i:07}")));
    if rng.chance(80) {
        tags.insert("CostCenter".into(), json!(format!("cc-{}", rng.below(500))));
    }
    if rng.chance(70) {
        tags.insert("Compliance".into(), json!("pci-dss"));
    }
    let crit = CRITICALITY[rng.below(5) as usize];
    if !crit.is_empty() {
        tags.insert("Criticality".into(), json!(crit));
    }
    tags.insert("Owner".into(), json!(format!("team-{}", rng.below(40))));
    Value::Object(tags)
}

fn policy(rng: &mut Rng) -> Value {
    let action = match rng.below(10) {
        0 => json!("*"),
        1 => json!(["s3:*", "dynamodb:GetItem"]),
        _ => json!(["s3:GetObject", "s3:ListBucket", "kms:Decrypt", "logs:PutLogEvents"]),
    };
    let resource = if rng.chance(30) { json!("*") } else { json!(["arn:aws:s3:::data-bucket", "arn:aws:s3:::data-bucket/*"]) };
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource},
        {"Effect": "Allow", "Action": ["cloudwatch:PutMetricData"], "Resource": "*"}]})
}

/// One configuration item number `i` of the synthetic account.
pub fn item(rng: &mut Rng, i: u64, shape: Shape) -> Value {
    let region = REGIONS[(i % 3) as usize];
    let capture = format!("2026-11-{:02}T{:02}:{:02}:00.000Z", 1 + rng.below(27), rng.below(24), rng.below(60));
    let (kind, id, config, supplementary): (&str, String, Value, Value) = match rng.below(100) {
        0..=24 => {
            let id = format!("vol-{i:017x}");
            ("AWS::EC2::Volume", id.clone(), json!({"volumeId": id, "size": 100, "volumeType": "gp3", "encrypted": rng.chance(80),
                "availabilityZone": format!("{region}a"), "state": "in-use", "createTime": "2025-01-01T00:00:00.000Z",
                "attachments": [{"instanceId": format!("i-{:017x}", i.saturating_sub(1)), "device": "/dev/xvda", "state": "attached"}]}), json!({}))
        }
        25..=49 => {
            let id = format!("i-{i:017x}");
            let mut config = json!({"instanceId": id, "instanceType": "m6i.large", "imageId": "ami-0123456789abcdef0",
                "state": {"code": 16, "name": if rng.chance(3) { "terminated" } else { "running" }},
                "privateIpAddress": "10.0.0.10", "publicIpAddress": if rng.chance(10) { json!("203.0.113.7") } else { Value::Null },
                "subnetId": "subnet-0123", "vpcId": "vpc-0123", "architecture": "x86_64", "ebsOptimized": true,
                "blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"volumeId": format!("vol-{:017x}", i + 1), "status": "attached", "deleteOnTermination": true}}],
                "networkInterfaces": [{"networkInterfaceId": format!("eni-{i:017x}"), "privateIpAddress": "10.0.0.10", "association": Value::Null,
                    "groups": [{"groupId": "sg-0123", "groupName": "default"}]}],
                "securityGroups": [{"groupId": "sg-0123", "groupName": "default"}]});
            if rng.chance(90) {
                config["metadataOptions"] = json!({"state": "applied", "httpTokens": if rng.chance(60) { "required" } else { "optional" }, "httpPutResponseHopLimit": 2, "httpEndpoint": "enabled"});
            }
            ("AWS::EC2::Instance", id, config, json!({}))
        }
        50..=64 => {
            let id = format!("sg-{i:017x}");
            let cidr = if rng.chance(15) { "0.0.0.0/0" } else { "10.0.0.0/8" };
            let port = [22, 443, 3389, 5432][rng.below(4) as usize];
            ("AWS::EC2::SecurityGroup", id.clone(), json!({"groupId": id, "groupName": format!("sg-{i}"), "vpcId": "vpc-0123", "description": "synthetic",
                "ipPermissions": [{"ipProtocol": "tcp", "fromPort": port, "toPort": port, "ipv4Ranges": [{"cidrIp": cidr}], "ipRanges": [cidr], "ipv6Ranges": [], "userIdGroupPairs": [], "prefixListIds": []}],
                "ipPermissionsEgress": [{"ipProtocol": "-1", "ipv4Ranges": [{"cidrIp": "0.0.0.0/0"}], "ipRanges": ["0.0.0.0/0"]}]}), json!({}))
        }
        65..=76 => {
            let id = format!("bucket-{i:07}");
            let algo = if rng.chance(60) { "aws:kms" } else { "AES256" };
            let supp = json!({
                "ServerSideEncryptionConfiguration": {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": algo}, "bucketKeyEnabled": algo == "aws:kms"}]},
                "PublicAccessBlockConfiguration": {"blockPublicAcls": true, "ignorePublicAcls": rng.chance(90), "blockPublicPolicy": true, "restrictPublicBuckets": true},
                "AccessControlList": json!({"grantList": [{"grantee": {"id": "abc123"}, "permission": "FullControl"}], "owner": {"id": "abc123"}}).to_string(),
                "BucketPolicy": {"policyText": json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*",
                    "Resource": [format!("arn:aws:s3:::{id}"), format!("arn:aws:s3:::{id}/*")], "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}).to_string()},
                "BucketVersioningConfiguration": {"status": if rng.chance(70) { "Enabled" } else { "Off" }},
                "BucketLoggingConfiguration": {"destinationBucketName": if rng.chance(50) { json!("logs-bucket") } else { Value::Null }},
                "IsRequesterPaysEnabled": false});
            ("AWS::S3::Bucket", id.clone(), json!({"name": id, "owner": {"id": "abc123"}, "creationDate": "2024-01-01T00:00:00.000Z"}), supp)
        }
        77..=86 => {
            let id = format!("AROA{i:016}");
            let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
            ("AWS::IAM::Role", id.clone(), json!({"roleName": format!("role-{i}"), "roleId": id, "path": "/", "assumeRolePolicyDocument": encode(&trust),
                "rolePolicyList": [{"policyName": "inline", "policyDocument": encode(&policy(rng))}], "attachedManagedPolicies": [], "instanceProfileList": []}), json!({}))
        }
        87..=92 => {
            let id = format!("ANPA{i:016}");
            ("AWS::IAM::Policy", id.clone(), json!({"policyName": format!("policy-{i}"), "policyId": id, "defaultVersionId": "v1", "attachmentCount": 1, "isAttachable": true,
                "policyVersionList": [{"document": encode(&policy(rng)), "versionId": "v1", "isDefaultVersion": true}]}), json!({}))
        }
        93..=95 => {
            let id = format!("AIDA{i:016}");
            ("AWS::IAM::User", id.clone(), json!({"userName": format!("user-{i}"), "userId": id, "path": "/", "groupList": ["developers"],
                "attachedManagedPolicies": if rng.chance(20) { json!([{"policyName": "ReadOnlyAccess", "policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}]) } else { json!([]) },
                "userPolicyList": []}), json!({}))
        }
        _ => {
            let id = format!("function-{i:07}");
            ("AWS::Lambda::Function", id.clone(), json!({"functionName": id, "runtime": "provided.al2023", "memorySize": 512, "timeout": 30,
                "handler": "bootstrap", "codeSize": 4_000_000, "tracingConfig": {"mode": "Active"}}), json!({}))
        }
    };
    let global = kind.starts_with("AWS::IAM::");
    let arn = match kind {
        "AWS::S3::Bucket" => format!("arn:aws:s3:::{id}"),
        k if global => format!("arn:aws:iam::{ACCOUNT}:{}/{id}", k.trim_start_matches("AWS::IAM::").to_ascii_lowercase()),
        "AWS::Lambda::Function" => format!("arn:aws:lambda:{region}:{ACCOUNT}:function:{id}"),
        k => format!("arn:aws:ec2:{region}:{ACCOUNT}:{}/{id}", k.trim_start_matches("AWS::EC2::").to_ascii_lowercase()),
    };
    let tags = tags(rng, i);
    match shape {
        Shape::Snapshot => json!({"relatedEvents": [], "relationships": [], "configuration": config, "supplementaryConfiguration": supplementary,
            "tags": tags, "configurationItemVersion": "1.3", "configurationItemCaptureTime": capture, "configurationStateId": 1_700_000_000_000u64 + i,
            "awsAccountId": ACCOUNT, "configurationItemStatus": "OK", "resourceType": kind, "resourceId": id, "resourceName": id, "ARN": arn,
            "awsRegion": if global { "global" } else { region }, "availabilityZone": if global { "Not Applicable".to_owned() } else { format!("{region}a") },
            "configurationStateMd5Hash": ""}),
        Shape::Api => {
            let supplementary: serde_json::Map<String, Value> =
                supplementary.as_object().into_iter().flatten().map(|(k, v)| (k.clone(), Value::String(v.to_string()))).collect();
            json!({"version": "1.3", "accountId": ACCOUNT, "configurationItemCaptureTime": capture, "configurationItemStatus": "OK",
                "configurationStateId": (1_700_000_000_000u64 + i).to_string(), "arn": arn, "resourceType": kind, "resourceId": id, "resourceName": id,
                "awsRegion": if global { "global" } else { region }, "availabilityZone": "Multiple Availability Zones", "tags": tags,
                "relatedEvents": [], "relationships": [], "configuration": config.to_string(), "supplementaryConfiguration": supplementary})
        }
    }
}

/// Writes a snapshot of `resources` items to `out` (one compact line per item, as AWS does).
pub fn write_snapshot(out: &mut impl Write, resources: u64, seed: u64, shape: Shape) -> std::io::Result<()> {
    let mut rng = Rng::new(seed);
    let key = match shape {
        Shape::Snapshot => "{\"fileVersion\":\"1.0\",\"configSnapshotId\":\"synthetic-0000\",\"configurationItems\":[",
        Shape::Api => "{\"baseConfigurationItems\":[",
    };
    out.write_all(key.as_bytes())?;
    for i in 0..resources {
        if i > 0 {
            out.write_all(b",")?;
        }
        serde_json::to_writer(&mut *out, &item(&mut rng, i, shape))?;
    }
    out.write_all(b"]}")
}

/// A snapshot in memory, optionally gzipped.
pub fn snapshot(resources: u64, seed: u64, shape: Shape, gzip: bool) -> Vec<u8> {
    let mut plain = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = write_snapshot(&mut plain, resources, seed, shape);
    if !gzip {
        return plain;
    }
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
    let _ = encoder.write_all(&plain);
    encoder.finish().unwrap_or_default()
}

/// An organization's export: `files` snapshot files (every fifth gzipped), named in the order
/// a scan reads them, holding `resources` synthetic resources between them, laid out so that
/// evidence spans files: item `i` goes to file `i % files`, so an instance and its volume
/// (items `i` and `i + 1`) sit in different files; every tenth resource is recorded again,
/// newer and with another criticality, half the export away; every 25th again in the same
/// version with another criticality in the next file (a tie: the first one read wins); and the
/// account's public access block is recorded in the first file and, newer, in the last.
pub fn org_export(files: usize, resources: u64, seed: u64) -> Vec<(String, Vec<u8>)> {
    let files = files.max(1);
    let mut rng = Rng::new(seed);
    let mut contents: Vec<Vec<Value>> = vec![Vec::new(); files];
    for i in 0..resources {
        let item = item(&mut rng, i, Shape::Snapshot);
        let home = usize::try_from(i % files as u64).unwrap_or(0);
        if i % 10 == 3 {
            let mut newer = item.clone();
            newer["configurationItemCaptureTime"] = json!("2026-11-28T00:00:00.000Z");
            newer["tags"]["Criticality"] = json!("critical");
            contents[(home + files / 2) % files].push(newer);
        }
        if i % 25 == 7 {
            let mut tie = item.clone();
            tie["tags"]["Criticality"] = json!("low");
            contents[(home + 1) % files].push(tie);
        }
        contents[home].push(item);
    }
    for (file, at, ignore) in [(0, "2026-11-01T00:00:00.000Z", false), (files - 1, "2026-11-02T00:00:00.000Z", true)] {
        contents[file].push(json!({"configurationItemCaptureTime": at, "configurationItemStatus": "OK", "awsAccountId": ACCOUNT,
            "resourceType": "AWS::S3::AccountPublicAccessBlock", "resourceId": ACCOUNT, "awsRegion": "us-east-1", "tags": {},
            "configuration": {"blockPublicAcls": true, "ignorePublicAcls": ignore, "blockPublicPolicy": true, "restrictPublicBuckets": ignore}}));
    }
    contents
        .into_iter()
        .enumerate()
        .map(|(n, items)| {
            let plain = json!({"fileVersion": "1.0", "configSnapshotId": format!("synthetic-{n:04}"), "configurationItems": items}).to_string().into_bytes();
            if n % 5 != 4 {
                return (format!("snapshot-{n:04}.json"), plain);
            }
            let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
            let _ = encoder.write_all(&plain);
            (format!("snapshot-{n:04}.json.gz"), encoder.finish().unwrap_or_default())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_is_deterministic_and_valid_json() {
        let a = snapshot(200, 7, Shape::Snapshot, false);
        assert_eq!(a, snapshot(200, 7, Shape::Snapshot, false));
        assert_ne!(a, snapshot(200, 8, Shape::Snapshot, false));
        let doc: Value = serde_json::from_slice(&a).expect("valid JSON");
        assert_eq!(doc["configurationItems"].as_array().map(Vec::len), Some(200));
        let api: Value = serde_json::from_slice(&snapshot(50, 7, Shape::Api, false)).expect("valid JSON");
        assert!(api["baseConfigurationItems"][0]["configuration"].is_string());
    }
}
