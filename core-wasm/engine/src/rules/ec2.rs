//! EC2 instance, volume and security group rules.

use super::{Check, Outcome, RuleIndex, RuleParams, Status, Volumes, index_of, numbered, rule_id, split_at_first};
use crate::item::ConfigItem;
use crate::value::{Value, flag, non_blank, one_or_many, path, strings, text};

const INSTANCE_RULES: [RuleIndex; 4] =
    [index_of("ec2-imdsv2-required"), index_of("ec2-no-public-ip"), index_of("ec2-instance-ebs-encrypted"), index_of("ec2-required-tags")];

/// Phase-one checks of an instance.
pub fn instance_checks(item: &ConfigItem<'_>, params: &RuleParams) -> Vec<(RuleIndex, Check)> {
    // An instance's configuration has dozens of members: the five the rules read are found in
    // one walk.
    let [state, metadata_options, public_ip_address, interfaces, mappings] =
        item.configuration.get_each(["state", "metadataOptions", "publicIpAddress", "networkInterfaces", "blockDeviceMappings"]);
    if state.and_then(|state| state.get("name")).and_then(Value::as_str) == Some("terminated") {
        let outcome = Outcome::new(Status::NotApplicable, "configuration.state.name", "the instance is terminated");
        return INSTANCE_RULES.iter().map(|rule| (*rule, Check::Done(outcome.clone()))).collect();
    }
    vec![
        (rule_id!("ec2-imdsv2-required"), Check::Done(imdsv2(metadata_options))),
        (rule_id!("ec2-no-public-ip"), Check::Done(public_ip(public_ip_address, interfaces))),
        (rule_id!("ec2-instance-ebs-encrypted"), attached_volumes(mappings)),
        (rule_id!("ec2-required-tags"), Check::Done(required_tags(item, params))),
    ]
}

/// `configuration.metadataOptions`.
fn imdsv2(metadata_options: Option<Value<'_>>) -> Outcome {
    match metadata_options.filter(|m| !m.is_null()) {
        None => Outcome::new(Status::InsufficientData, "configuration.metadataOptions", "metadataOptions is not recorded for this instance"),
        Some(options) => match options.get("httpTokens").and_then(Value::as_str) {
            Some("required") => Outcome::new(Status::Compliant, "configuration.metadataOptions.httpTokens", "IMDSv2 is required"),
            other => Outcome::new(Status::NonCompliant, "configuration.metadataOptions.httpTokens",
                ["httpTokens is ", other.unwrap_or("not set"), ", so IMDSv1 is allowed"].concat()),
        },
    }
}

/// `configuration.publicIpAddress` and `configuration.networkInterfaces`.
fn public_ip(public_ip_address: Option<Value<'_>>, interfaces: Option<Value<'_>>) -> Outcome {
    if let Some(ip) = non_blank(public_ip_address) {
        return Outcome::new(Status::NonCompliant, "configuration.publicIpAddress", ["the instance has public IP ", ip].concat());
    }
    let interfaces = one_or_many(interfaces);
    for (i, interface) in interfaces.iter().enumerate() {
        if let Some((key, ip)) = association_address(interface) {
            return Outcome::new(Status::NonCompliant, format!("configuration.networkInterfaces[{i}].association.{key}"),
                format!("network interface {i} has public address {ip}"));
        }
        // An Elastic IP on a secondary private address is as public as one on the primary
        // (rule pack 1.1.0).
        let addresses = one_or_many(interface.get("privateIpAddresses").or_else(|| interface.get("PrivateIpAddresses")));
        for (j, address) in addresses.iter().enumerate() {
            if let Some((key, ip)) = association_address(address) {
                return Outcome::new(Status::NonCompliant, format!("configuration.networkInterfaces[{i}].privateIpAddresses[{j}].association.{key}"),
                    format!("private address {j} of network interface {i} has public address {ip}"));
            }
        }
    }
    Outcome::new(Status::Compliant, "configuration.publicIpAddress", "no public IP address")
}

/// The public address an `association` holds: `publicIp`, or `carrierIp` (a Wavelength carrier
/// address, reachable from outside the VPC just the same). Both spellings occur: Config's
/// camelCase and the EC2 API's PascalCase (describe-instances output fed as items).
fn association_address<'a>(holder: &Value<'a>) -> Option<(&'static str, &'a str)> {
    let association = holder.get("association").or_else(|| holder.get("Association"))?;
    [("publicIp", "PublicIp"), ("carrierIp", "CarrierIp")]
        .into_iter()
        .find_map(|(key, pascal)| Some((key, non_blank(association.get(key).or_else(|| association.get(pascal)))?)))
}

/// `configuration.blockDeviceMappings`.
fn attached_volumes(mappings: Option<Value<'_>>) -> Check {
    let mappings = one_or_many(mappings);
    let volumes: Vec<(String, String)> = mappings
        .iter()
        .enumerate()
        .filter_map(|(i, m)| Some((numbered(&["configuration.blockDeviceMappings["], i, &["].ebs.volumeId"]), path(m, &["ebs", "volumeId"]).and_then(text)?.into_owned())))
        .collect();
    if volumes.is_empty() {
        return Check::Done(Outcome::new(Status::NotApplicable, "configuration.blockDeviceMappings", "no EBS volumes are attached"));
    }
    Check::InstanceVolumes(volumes)
}

/// Phase two of `ec2-instance-ebs-encrypted`.
pub fn resolve_volumes(volumes: Vec<(String, String)>, known: &Volumes) -> Outcome {
    // The first unencrypted volume decides; failing that, the first one not in the input.
    let count = volumes.len();
    let mut missing = None;
    for (at, id) in volumes {
        match known.get(&id) {
            Some(false) => return Outcome::new(Status::NonCompliant, at, ["attached volume ", &id, " is not encrypted"].concat()),
            Some(true) => {}
            None if missing.is_none() => missing = Some((at, id)),
            None => {}
        }
    }
    if let Some((at, id)) = missing {
        return Outcome::new(Status::InsufficientData, at, ["attached volume ", &id, " is not in the input"].concat());
    }
    Outcome::new(Status::Compliant, "configuration.blockDeviceMappings", numbered(&["all "], count, &[" attached volumes are encrypted"]))
}

fn required_tags(item: &ConfigItem<'_>, params: &RuleParams) -> Outcome {
    let missing: Vec<&str> = params
        .required_tags
        .iter()
        .filter(|key| item.tags.get(key.as_str()).is_none_or(crate::value::is_blank))
        .map(String::as_str)
        .collect();
    if missing.is_empty() {
        Outcome::new(Status::Compliant, "tags", "all required tags are present")
    } else {
        Outcome::new(Status::NonCompliant, "tags", ["missing or empty tags: ", &missing.join(", ")].concat())
    }
}

/// `configuration.encrypted` of a volume item.
pub fn volume_encrypted(item: &ConfigItem<'_>) -> Option<bool> {
    item.configuration.get("encrypted").and_then(flag)
}

/// Phase-one checks of a volume.
pub fn volume_checks(item: &ConfigItem<'_>) -> Vec<(RuleIndex, Check)> {
    let outcome = match volume_encrypted(item) {
        Some(true) => Outcome::new(Status::Compliant, "configuration.encrypted", "the volume is encrypted"),
        Some(false) => Outcome::new(Status::NonCompliant, "configuration.encrypted", "the volume is not encrypted"),
        None => Outcome::new(Status::NonCompliant, "configuration.encrypted", "encryption is not recorded as enabled"),
    };
    vec![(rule_id!("ec2-volume-encrypted"), Check::Done(outcome))]
}

const ADMIN_PORTS: [i64; 2] = [22, 3389];

/// Phase-one checks of a security group. Rule pack 1.1.0: "open to the world" is any range
/// whose prefix length is 0 (parsed, so `15.0.0.0/0` counts), and an unparsable range that
/// covers an admin port leaves the verdict open instead of passing.
pub fn security_group_checks(item: &ConfigItem<'_>) -> Vec<(RuleIndex, Check)> {
    let permissions = one_or_many(item.configuration.get("ipPermissions"));
    let mut unreadable: Option<Outcome> = None;
    for (i, permission) in permissions.iter().enumerate() {
        let Some(port) = exposed_admin_port(permission) else { continue };
        for cidr in source_ranges(permission) {
            match world_open(cidr) {
                Some(true) => {
                    let outcome = Outcome::new(Status::NonCompliant, format!("configuration.ipPermissions[{i}]"), format!("port {port} is open to {cidr}"));
                    return vec![(rule_id!("ec2-sg-no-public-admin-ports"), Check::Done(outcome))];
                }
                Some(false) => {}
                None => {
                    unreadable.get_or_insert_with(|| {
                        Outcome::new(Status::InsufficientData, format!("configuration.ipPermissions[{i}]"), format!("port {port} is open to `{cidr}`, which is not a CIDR range"))
                    });
                }
            }
        }
    }
    let outcome = unreadable.unwrap_or_else(|| Outcome::new(Status::Compliant, "configuration.ipPermissions", "no ingress opens port 22 or 3389 to the internet"));
    vec![(rule_id!("ec2-sg-no-public-admin-ports"), Check::Done(outcome))]
}

/// The first admin port a permission covers. `-1`/`all` covers every port; TCP and UDP cover
/// `fromPort..=toPort`, one port when only one bound is given, and every port when neither is
/// (or both are -1): a permission whose range is not recorded is taken as the widest.
fn exposed_admin_port(permission: &Value<'_>) -> Option<i64> {
    let protocol = permission.get("ipProtocol").and_then(text)?;
    match protocol.to_ascii_lowercase().as_str() {
        "-1" | "all" => ADMIN_PORTS.first().copied(),
        "tcp" | "6" | "udp" | "17" => {
            let port = |key: &str| permission.get(key).and_then(|v| v.as_i64().or_else(|| v.as_str()?.trim().parse().ok())).filter(|p| *p >= 0);
            let (from, to) = match (port("fromPort"), port("toPort")) {
                (None, None) => (0, 65_535),
                (Some(only), None) | (None, Some(only)) => (only, only),
                (Some(a), Some(b)) => (a.min(b), a.max(b)),
            };
            ADMIN_PORTS.into_iter().find(|p| (from..=to).contains(p))
        }
        _ => None,
    }
}

/// Every source range of a permission: `ipv4Ranges[].cidrIp`, legacy `ipRanges[]` strings and
/// `ipv6Ranges[].cidrIpv6`.
fn source_ranges<'a>(permission: &Value<'a>) -> impl Iterator<Item = &'a str> + use<'a> {
    let ipv4 = one_or_many(permission.get("ipv4Ranges")).into_iter().filter_map(|r| r.get("cidrIp")?.as_str());
    let legacy = strings(permission.get("ipRanges"));
    let ipv6 = one_or_many(permission.get("ipv6Ranges")).into_iter().filter_map(|r| r.get("cidrIpv6")?.as_str());
    ipv4.chain(legacy).chain(ipv6)
}

/// Whether a CIDR range is the whole address space (prefix length 0, whatever the address
/// bits say); `None` when it is not a CIDR range at all.
fn world_open(cidr: &str) -> Option<bool> {
    let (address, prefix) = split_at_first(crate::value::trim(cidr), b'/')?;
    let prefix: u8 = prefix.parse().ok()?;
    let max = if address.parse::<std::net::Ipv4Addr>().is_ok() {
        32
    } else if address.parse::<std::net::Ipv6Addr>().is_ok() {
        128
    } else {
        return None;
    };
    (prefix <= max).then_some(prefix == 0)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{evaluate, evaluate_with, status};
    use super::super::{Context, Status::*};
    use serde_json::{Value, json};

    fn instance(config: Value, tags: Value) -> Value {
        json!({"resourceType": "AWS::EC2::Instance", "resourceId": "i-1", "awsAccountId": "111", "awsRegion": "us-east-1",
            "configuration": config, "tags": tags})
    }

    fn api_instance(config: Value) -> Value {
        json!({"resourceType": "AWS::EC2::Instance", "resourceId": "i-1", "accountId": "111", "awsRegion": "us-east-1",
            "configuration": config.to_string()})
    }

    #[test]
    fn imdsv2_statuses() {
        let required = json!({"metadataOptions": {"httpTokens": "required"}});
        let optional = json!({"metadataOptions": {"httpTokens": "optional"}});
        for (config, expected) in [(required, Compliant), (optional, NonCompliant), (json!({}), InsufficientData)] {
            assert_eq!(status(&evaluate(instance(config.clone(), json!({}))), "ec2-imdsv2-required"), expected);
            assert_eq!(status(&evaluate(api_instance(config)), "ec2-imdsv2-required"), expected);
        }
    }

    #[test]
    fn terminated_instances_are_not_applicable() {
        let results = evaluate(instance(json!({"state": {"name": "terminated"}, "publicIpAddress": "1.2.3.4"}), json!({})));
        for rule in super::INSTANCE_RULES {
            assert_eq!(status(&results, super::super::rule(rule).id), NotApplicable);
        }
    }

    #[test]
    fn public_ip_on_instance_or_interface() {
        assert_eq!(status(&evaluate(api_instance(json!({"publicIpAddress": "3.3.3.3"}))), "ec2-no-public-ip"), NonCompliant);
        let eni = json!({"networkInterfaces": [{"association": null}, {"association": {"publicIp": "3.3.3.3"}}]});
        assert_eq!(status(&evaluate(instance(eni, json!({}))), "ec2-no-public-ip"), NonCompliant);
        assert_eq!(status(&evaluate(instance(json!({"publicIpAddress": null}), json!({}))), "ec2-no-public-ip"), Compliant);
    }

    #[test]
    fn public_ip_on_a_secondary_private_address() {
        // 1.1.0: an Elastic IP on a secondary address, in both shapes and both spellings.
        let secondary = json!({"networkInterfaces": [{"association": null, "privateIpAddresses": [
            {"privateIpAddress": "10.0.0.5", "primary": true, "association": null},
            {"privateIpAddress": "10.0.0.6", "primary": false, "association": {"publicIp": "198.51.100.7"}}]}]});
        let pascal = json!({"NetworkInterfaces": [], "networkInterfaces": [{"PrivateIpAddresses": [{"Association": {"PublicIp": "198.51.100.7"}}]}]});
        let carrier = json!({"networkInterfaces": [{"association": {"carrierIp": "155.146.10.1"}}]});
        for config in [secondary, pascal, carrier] {
            assert_eq!(status(&evaluate(instance(config.clone(), json!({}))), "ec2-no-public-ip"), NonCompliant, "{config}");
            assert_eq!(status(&evaluate(api_instance(config)), "ec2-no-public-ip"), NonCompliant);
        }
        let private_only = json!({"networkInterfaces": [{"privateIpAddresses": [{"privateIpAddress": "10.0.0.5", "association": null},
            {"privateIpAddress": "10.0.0.6", "association": {"publicIp": ""}}]}]});
        assert_eq!(status(&evaluate(instance(private_only.clone(), json!({}))), "ec2-no-public-ip"), Compliant);
        assert_eq!(status(&evaluate(api_instance(private_only)), "ec2-no-public-ip"), Compliant);
    }

    #[test]
    fn ebs_encryption_uses_volume_items() {
        let config = json!({"blockDeviceMappings": [{"ebs": {"volumeId": "vol-a"}}, {"ebs": {"volumeId": "vol-b"}}]});
        let mut ctx = Context::default();
        assert_eq!(status(&evaluate_with(instance(config.clone(), json!({})), &ctx), "ec2-instance-ebs-encrypted"), InsufficientData);
        ctx.volumes.insert("vol-a".into(), true);
        assert_eq!(status(&evaluate_with(api_instance(config.clone()), &ctx), "ec2-instance-ebs-encrypted"), InsufficientData);
        ctx.volumes.insert("vol-b".into(), true);
        assert_eq!(status(&evaluate_with(instance(config.clone(), json!({})), &ctx), "ec2-instance-ebs-encrypted"), Compliant);
        ctx.volumes.insert("vol-b".into(), false);
        ctx.volumes.remove("vol-a");
        assert_eq!(status(&evaluate_with(instance(config, json!({})), &ctx), "ec2-instance-ebs-encrypted"), NonCompliant);
        assert_eq!(status(&evaluate(instance(json!({"blockDeviceMappings": []}), json!({}))), "ec2-instance-ebs-encrypted"), NotApplicable);
    }

    #[test]
    fn required_tags_from_map_or_list() {
        let both = json!({"CostCenter": "cc-1", "Compliance": "pci"});
        assert_eq!(status(&evaluate(instance(json!({}), both)), "ec2-required-tags"), Compliant);
        let empty_value = json!({"CostCenter": "cc-1", "Compliance": " "});
        assert_eq!(status(&evaluate(instance(json!({}), empty_value)), "ec2-required-tags"), NonCompliant);
        let list = json!({"tags": [{"key": "CostCenter", "value": "x"}, {"key": "Compliance", "value": "y"}]});
        assert_eq!(status(&evaluate(api_instance(list)), "ec2-required-tags"), Compliant);
    }

    #[test]
    fn volume_encryption() {
        let vol = |config: Value| json!({"resourceType": "AWS::EC2::Volume", "resourceId": "vol-1", "configuration": config});
        assert_eq!(status(&evaluate(vol(json!({"encrypted": true}))), "ec2-volume-encrypted"), Compliant);
        assert_eq!(status(&evaluate(vol(json!("{\"encrypted\":false}"))), "ec2-volume-encrypted"), NonCompliant);
        assert_eq!(status(&evaluate(vol(json!({}))), "ec2-volume-encrypted"), NonCompliant);
    }

    fn sg(permissions: Value) -> Value {
        json!({"resourceType": "AWS::EC2::SecurityGroup", "resourceId": "sg-1", "configuration": {"ipPermissions": permissions}})
    }

    #[test]
    fn security_group_admin_ports() {
        let cases = [
            (json!([{"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "ipRanges": ["0.0.0.0/0"]}]), NonCompliant),
            (json!([{"ipProtocol": "6", "fromPort": 3000, "toPort": 4000, "ipv4Ranges": [{"cidrIp": "0.0.0.0/0"}]}]), NonCompliant),
            (json!([{"ipProtocol": "-1", "ipv6Ranges": [{"cidrIpv6": "::/0"}]}]), NonCompliant),
            (json!([{"ipProtocol": "udp", "fromPort": 20, "toPort": 30, "ipv4Ranges": [{"cidrIp": "0.0.0.0/0"}]}]), NonCompliant),
            (json!([{"ipProtocol": "tcp", "fromPort": 443, "toPort": 443, "ipv4Ranges": [{"cidrIp": "0.0.0.0/0"}]}]), Compliant),
            (json!([{"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "ipv4Ranges": [{"cidrIp": "10.0.0.0/8"}]}]), Compliant),
            (json!([{"ipProtocol": "icmp", "fromPort": -1, "toPort": -1, "ipRanges": ["0.0.0.0/0"]}]), Compliant),
            (json!([]), Compliant),
            // 1.1.0: the prefix length decides, not the text.
            (json!([{"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "ipv4Ranges": [{"cidrIp": "15.0.0.0/0"}]}]), NonCompliant),
            (json!([{"ipProtocol": "tcp", "fromPort": 3389, "toPort": 3389, "ipv6Ranges": [{"cidrIpv6": "2001:db8::/0"}]}]), NonCompliant),
            (json!([{"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "ipRanges": ["0.0.0.0/1", "128.0.0.0/1"]}]), Compliant),
            (json!([{"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "ipv4Ranges": [{"cidrIp": "not-a-range"}]}]), InsufficientData),
            (json!([{"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "ipv4Ranges": [{"cidrIp": "0.0.0.0/33"}]}]), InsufficientData),
            (json!([{"ipProtocol": "tcp", "fromPort": 443, "toPort": 443, "ipv4Ranges": [{"cidrIp": "garbage"}]}]), Compliant),
            // NON_COMPLIANT wins over an unreadable range, in either order.
            (json!([{"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "ipv4Ranges": [{"cidrIp": "garbage"}]},
                    {"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "ipv4Ranges": [{"cidrIp": "0.0.0.0/0"}]}]), NonCompliant),
            // 1.1.0: one bound alone is one port; no bounds (or both -1) is every port.
            (json!([{"ipProtocol": "tcp", "fromPort": 3389, "ipv4Ranges": [{"cidrIp": "0.0.0.0/0"}]}]), NonCompliant),
            (json!([{"ipProtocol": "tcp", "toPort": 22, "ipv4Ranges": [{"cidrIp": "0.0.0.0/0"}]}]), NonCompliant),
            (json!([{"ipProtocol": "tcp", "fromPort": 80, "ipv4Ranges": [{"cidrIp": "0.0.0.0/0"}]}]), Compliant),
            (json!([{"ipProtocol": "tcp", "ipv4Ranges": [{"cidrIp": "0.0.0.0/0"}]}]), NonCompliant),
            (json!([{"ipProtocol": "udp", "fromPort": -1, "toPort": -1, "ipv4Ranges": [{"cidrIp": "0.0.0.0/0"}]}]), NonCompliant),
        ];
        for (permissions, expected) in cases {
            assert_eq!(status(&evaluate(sg(permissions.clone())), "ec2-sg-no-public-admin-ports"), expected, "{permissions}");
            let mut api = sg(Value::Null);
            api["configuration"] = json!(json!({"ipPermissions": permissions}).to_string());
            assert_eq!(status(&evaluate(api), "ec2-sg-no-public-admin-ports"), expected);
        }
    }
}
