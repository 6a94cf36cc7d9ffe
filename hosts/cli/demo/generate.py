#!/usr/bin/env python3
"""Writes the bundled demo snapshot: a clearly synthetic AWS account ("Example Bank", account
111122223333) of a few dozen resources that exercises every rule of the default pack with
every status it can take. Deterministic: running it again gives the same bytes.

The shapes follow real Config delivery files (see ../../../tests/fixtures/aws-config/SOURCES.md):
event-style keys, `configuration` as an object, supplementary values as objects, IAM policy
documents percent-encoded. Usage: python3 generate.py > config-snapshot-demo.json
"""
import json
import urllib.parse

ACCOUNT = "111122223333"
REGION = "us-east-1"
CAPTURE = "2026-11-28T06:00:00.000Z"
state_id = 1764309600000


def enc(doc):
    return urllib.parse.quote(json.dumps(doc, separators=(",", ":")), safe="")


def item(rtype, rid, config, tags=None, supp=None, arn=None, name=None, status="OK", region=REGION, capture=CAPTURE):
    global state_id
    state_id += 1
    return {
        "configurationItemVersion": "1.3",
        "configurationItemCaptureTime": capture,
        "configurationStateId": state_id,
        "awsAccountId": ACCOUNT,
        "configurationItemStatus": status,
        "resourceType": rtype,
        "resourceId": rid,
        "resourceName": name or rid,
        "ARN": arn,
        "awsRegion": region,
        "availabilityZone": "Not Applicable" if region == "global" else REGION + "a",
        "configurationStateMd5Hash": "",
        "tags": tags or {},
        "relatedEvents": [],
        "relationships": [],
        "configuration": config,
        "supplementaryConfiguration": supp or {},
    }


def std_tags(crit, owner, extra=None):
    tags = {"CostCenter": "cc-4410", "Compliance": "pci-dss", "Owner": owner, "Criticality": crit}
    tags.update(extra or {})
    return tags


def bucket(name, crit, kms=True, sse=True, pab=True, acl_public=False, ssl=True, versioning=True, logging=True, tags=None):
    supp = {}
    if sse:
        algo = "aws:kms" if kms else "AES256"
        rule = {"applyServerSideEncryptionByDefault": {"sseAlgorithm": algo}, "bucketKeyEnabled": kms}
        if kms:
            rule["applyServerSideEncryptionByDefault"]["kmsMasterKeyID"] = f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/aws/s3"
        supp["ServerSideEncryptionConfiguration"] = {"rules": [rule]}
    if pab is True:
        supp["PublicAccessBlockConfiguration"] = {"blockPublicAcls": True, "ignorePublicAcls": True, "blockPublicPolicy": True, "restrictPublicBuckets": True}
    elif pab == "partial":
        supp["PublicAccessBlockConfiguration"] = {"blockPublicAcls": True, "ignorePublicAcls": False, "blockPublicPolicy": True, "restrictPublicBuckets": False}
    grants = [{"grantee": {"id": "a1b2c3d4e5f6", "displayName": None}, "permission": "FullControl"}]
    if acl_public:
        grants.append({"grantee": {"identifier": "http://acs.amazonaws.com/groups/global/AllUsers", "typeIdentifier": "uri"}, "permission": "Read"})
    supp["AccessControlList"] = json.dumps({"grantSet": None, "grantList": grants, "owner": {"id": "a1b2c3d4e5f6"}, "isRequesterCharged": False})
    statements = []
    if ssl:
        statements.append({"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                           "Resource": [f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}})
    supp["BucketPolicy"] = {"policyText": json.dumps({"Version": "2012-10-17", "Statement": statements}) if statements else None}
    supp["BucketVersioningConfiguration"] = {"status": "Enabled" if versioning else "Suspended", "isMfaDeleteEnabled": None}
    supp["BucketLoggingConfiguration"] = {"destinationBucketName": "example-bank-access-logs" if logging else None, "logFilePrefix": name + "/" if logging else None}
    supp["IsRequesterPaysEnabled"] = False
    return item("AWS::S3::Bucket", name, {"name": name, "owner": {"id": "a1b2c3d4e5f6"}, "creationDate": "2024-02-01T09:00:00.000Z"},
                tags=tags if tags is not None else std_tags(crit, "data-platform"), supp=supp, arn=f"arn:aws:s3:::{name}")


def instance(iid, crit, imds="required", public_ip=None, volumes=(), state="running", tags=None, metadata=True, secondary_public_ip=None):
    config = {
        "instanceId": iid, "instanceType": "m6i.large", "imageId": "ami-0abcdef1234567890",
        "state": {"code": 16 if state == "running" else 48, "name": state},
        "privateIpAddress": "10.20.1.15", "publicIpAddress": public_ip,
        "subnetId": "subnet-0a1b2c3d", "vpcId": "vpc-0example",
        "blockDeviceMappings": [{"deviceName": f"/dev/xvd{chr(97 + i)}", "ebs": {"volumeId": v, "status": "attached", "deleteOnTermination": True}} for i, v in enumerate(volumes)],
        "networkInterfaces": [{"networkInterfaceId": "eni-" + iid[2:], "association": {"publicIp": public_ip, "ipOwnerId": "amazon"} if public_ip else None}],
        "tags": [{"key": k, "value": v} for k, v in sorted((tags or {}).items())],
    }
    if secondary_public_ip:
        # An Elastic IP on a secondary private address (rule pack 1.1.0 catches it).
        config["networkInterfaces"][0]["privateIpAddresses"] = [
            {"privateIpAddress": "10.20.1.15", "primary": True, "association": None},
            {"privateIpAddress": "10.20.1.16", "primary": False, "association": {"publicIp": secondary_public_ip, "ipOwnerId": ACCOUNT}},
        ]
    if metadata:
        config["metadataOptions"] = {"state": "applied", "httpTokens": imds, "httpPutResponseHopLimit": 2, "httpEndpoint": "enabled"}
    return item("AWS::EC2::Instance", iid, config, tags=tags, arn=f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{iid}")


def volume(vid, encrypted, crit="medium"):
    return item("AWS::EC2::Volume", vid, {"volumeId": vid, "size": 100, "volumeType": "gp3", "encrypted": encrypted,
                                          "kmsKeyId": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab" if encrypted else None},
                tags=std_tags(crit, "platform"), arn=f"arn:aws:ec2:{REGION}:{ACCOUNT}:volume/{vid}")


def sg(gid, name, permissions, crit="medium"):
    return item("AWS::EC2::SecurityGroup", gid, {"groupId": gid, "groupName": name, "vpcId": "vpc-0example", "description": name,
                                                 "ipPermissions": permissions, "ipPermissionsEgress": []},
                tags=std_tags(crit, "network"), arn=f"arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/{gid}", name=name)


def perm(proto, lo, hi, cidrs=(), cidrs6=()):
    p = {"ipProtocol": proto, "fromPort": lo, "toPort": hi, "ipv4Ranges": [{"cidrIp": c} for c in cidrs],
         "ipRanges": list(cidrs), "ipv6Ranges": [{"cidrIpv6": c} for c in cidrs6], "userIdGroupPairs": [], "prefixListIds": []}
    return {k: v for k, v in p.items() if v is not None}


def doc(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def iam(rtype, rid, name, config, crit="medium"):
    kind = {"AWS::IAM::Role": "role", "AWS::IAM::User": "user", "AWS::IAM::Group": "group", "AWS::IAM::Policy": "policy"}[rtype]
    return item(rtype, rid, config, tags={"Criticality": crit}, arn=f"arn:aws:iam::{ACCOUNT}:{kind}/{name}", name=name, region="global")


def managed_policy(pid, name, document, default=True, crit="medium"):
    versions = [{"document": enc(document), "versionId": "v2", "isDefaultVersion": default, "createDate": "2025-05-05T10:00:00.000Z"}]
    return iam("AWS::IAM::Policy", pid, name, {"policyName": name, "policyId": pid, "defaultVersionId": "v2", "attachmentCount": 1,
                                              "isAttachable": True, "policyVersionList": versions}, crit)


def role(rid, name, trust, inline=(), crit="medium"):
    config = {"roleName": name, "roleId": rid, "path": "/", "attachedManagedPolicies": [], "instanceProfileList": [],
              "rolePolicyList": [{"policyName": f"{name}-inline-{i}", "policyDocument": enc(d)} for i, d in enumerate(inline)]}
    if trust is not None:
        config["assumeRolePolicyDocument"] = enc(trust)
    return iam("AWS::IAM::Role", rid, name, config, crit)


def user(uid, name, managed=(), inline=(), crit="medium"):
    return iam("AWS::IAM::User", uid, name, {"userName": name, "userId": uid, "path": "/", "groupList": ["analysts"],
                                             "attachedManagedPolicies": [{"policyName": m, "policyArn": f"arn:aws:iam::aws:policy/{m}"} for m in managed],
                                             "userPolicyList": [{"policyName": f"{name}-inline-{i}", "policyDocument": enc(d)} for i, d in enumerate(inline)]}, crit)


lambda_trust = doc({"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"})
items = [
    # S3: the ledger archive is exemplary; others fail in different ways.
    bucket("example-bank-ledger-archive", "critical"),
    bucket("example-bank-statements", "high", kms=False),
    bucket("example-bank-marketing-site", "low", acl_public=True, pab=False, ssl=False, logging=False),
    bucket("example-bank-data-lake", "high", pab="partial", versioning=False),
    bucket("example-bank-tmp-exports", "medium", sse=False, ssl=False, versioning=False, logging=False),
    bucket("example-bank-access-logs", "medium", kms=False, logging=False),
    bucket("example-bank-legacy-reports", "medium", tags={"Criticality": "HIGH", "Owner": "<script>alert('owner')</script>"}),
    # Deleted bucket: skipped, not evaluated.
    item("AWS::S3::Bucket", "example-bank-decommissioned", None, status="ResourceDeleted", arn="arn:aws:s3:::example-bank-decommissioned"),
    item("AWS::S3::AccountPublicAccessBlock", ACCOUNT, {"blockPublicAcls": True, "ignorePublicAcls": False, "blockPublicPolicy": True, "restrictPublicBuckets": True}),
    # EC2
    instance("i-0a11ce0000000001", "critical", volumes=["vol-0e0000000000001"], tags=std_tags("critical", "payments")),
    instance("i-0a11ce0000000002", "high", imds="optional", public_ip="203.0.113.10", volumes=["vol-0e0000000000002"], tags=std_tags("high", "web")),
    instance("i-0a11ce0000000003", "medium", volumes=["vol-0e0000000000003", "vol-0e00000000000ff"], tags={"Owner": "batch", "CostCenter": "cc-4410"}),
    instance("i-0a11ce0000000004", "low", metadata=False, volumes=[], tags={"Criticality": "low", "CostCenter": "", "Compliance": "pci-dss"}),
    instance("i-0a11ce0000000005", "medium", state="terminated", public_ip=None, volumes=["vol-0e0000000000001"], tags={"Name": "old-bastion"}),
    instance("i-0a11ce0000000006", "high", volumes=[], secondary_public_ip="198.51.100.44", tags=std_tags("high", "payments-gateway")),
    volume("vol-0e0000000000001", True, "critical"),
    volume("vol-0e0000000000002", False, "high"),
    volume("vol-0e0000000000003", True),
    volume("vol-0e0000000000004", False, "low"),
    sg("sg-0b0000000000001", "payments-internal", [perm("tcp", 443, 443, ["10.0.0.0/8"])], "critical"),
    sg("sg-0b0000000000002", "legacy-bastion", [perm("tcp", 22, 22, ["0.0.0.0/0"])], "high"),
    sg("sg-0b0000000000003", "windows-jump", [perm("tcp", 3000, 3999, [], ["::/0"])]),
    sg("sg-0b0000000000004", "all-open-test", [perm("-1", -1, -1, ["0.0.0.0/0"])], "low"),
    sg("sg-0b0000000000005", "public-web", [perm("tcp", 443, 443, ["0.0.0.0/0"]), perm("tcp", 80, 80, ["0.0.0.0/0"])]),
    # Rule pack 1.1.0: a /0 range is the whole address space whatever its address bits;
    # one port bound alone is that one port (80 only, so no admin port).
    sg("sg-0b0000000000006", "partner-ssh", [perm("tcp", 22, 22, ["15.0.0.0/0"])], "high"),
    sg("sg-0b0000000000007", "legacy-http", [perm("tcp", 80, None, ["0.0.0.0/0"])], "low"),
    # IAM
    managed_policy("ANPA0000000000000001", "ReadOnlyLedger", doc({"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": "arn:aws:s3:::example-bank-ledger-archive*"}), crit="high"),
    managed_policy("ANPA0000000000000002", "BreakGlassAdmin", doc({"Effect": "Allow", "Action": "*", "Resource": "*"}), crit="critical"),
    managed_policy("ANPA0000000000000003", "DataEngineering", doc({"Effect": "Allow", "Action": ["S3:*", "glue:Get*"], "Resource": "*"})),
    managed_policy("ANPA0000000000000004", "DraftPolicy", doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}), default=False),
    managed_policy("ANPA0000000000000005", "EverythingButIam", doc({"Effect": "Allow", "NotAction": ["iam:*", "organizations:*"], "Resource": "*"})),
    # Rule pack 1.1.0: * on everything but one bucket is still administrative; sqs:** is a service wildcard.
    managed_policy("ANPA0000000000000006", "AdminExceptAudit", doc({"Effect": "Allow", "Action": "*", "NotResource": "arn:aws:s3:::example-bank-audit/*"}), crit="high"),
    managed_policy("ANPA0000000000000007", "QueueWorkers", doc({"Effect": "Allow", "Action": ["sqs:**"], "Resource": f"arn:aws:sqs:{REGION}:{ACCOUNT}:workers-*"})),
    role("AROA0000000000000001", "payments-processor", lambda_trust, [doc({"Effect": "Allow", "Action": ["dynamodb:PutItem", "dynamodb:GetItem"], "Resource": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/payments"})], "critical"),
    role("AROA0000000000000002", "vendor-integration", doc({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}), crit="high"),
    role("AROA0000000000000003", "partner-readonly", doc({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"sts:ExternalId": "example-bank-7731"}}})),
    role("AROA0000000000000004", "ops-automation", lambda_trust, [doc({"Effect": "Allow", "Action": "ec2:*", "Resource": "*"})]),
    role("AROA0000000000000005", "imported-role", None),
    user("AIDA0000000000000001", "alice.analyst"),
    user("AIDA0000000000000002", "bob.contractor", managed=["AdministratorAccess"], crit="high"),
    user("AIDA0000000000000003", "carol.ops", inline=[doc({"Effect": "Allow", "Action": "*:*", "Resource": "*"})], crit="critical"),
    iam("AWS::IAM::Group", "AGPA0000000000000001", "analysts", {"groupName": "analysts", "groupId": "AGPA0000000000000001",
        "groupPolicyList": [{"policyName": "analysts-read", "policyDocument": enc(doc({"Effect": "Allow", "Action": ["athena:StartQueryExecution", "athena:GetQueryResults"], "Resource": "*"}))}]}),
    # Not covered by the rule pack: counted, not scored.
    item("AWS::Lambda::Function", "example-bank-report-mailer", {"functionName": "example-bank-report-mailer", "runtime": "provided.al2023"},
         arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:example-bank-report-mailer"),
]
# An older version of the statements bucket (already KMS) that the newer item above supersedes.
older = bucket("example-bank-statements", "high")
older["configurationItemCaptureTime"] = "2026-11-27T06:00:00.000Z"
items.insert(2, older)

snapshot = {"fileVersion": "1.0", "configSnapshotId": "00000000-demo-4000-8000-example0bank", "configurationItems": items}
print(json.dumps(snapshot, indent=1))
