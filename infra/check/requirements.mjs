// The SPEC §8 constraints on infra/Pulumi.yaml, as a function that lists every violation, so
// the same checks run against the real program (must be clean) and against broken copies in
// the tests (must each be caught).
import { parse } from "yaml";

const SUFFIX = "${environmentSuffix}";
const NAME_KEYS = ["name", "bucket", "dashboardName", "functionName"];
const FUNCTIONS = ["analyzer", "evaluator", "remediator", "rollup"];
const LAMBDA_ENV = {
  analyzer: ["CONFIG_BUCKET", "CONFIG_DELIVERY_CHANNEL", "HISTORY_TABLE", "REPORTS_BUCKET", "ALERT_TOPIC_ARN", "SCORE_THRESHOLD", "CRITICALITY_TAG", "ENVIRONMENT_SUFFIX", "WAIVERS_BUCKET", "WAIVERS_KEY", "ALERT_SCORE", "SECURITY_HUB_IMPORT", "SECURITY_HUB_MEMBER_ROLE"],
  evaluator: ["CRITICALITY_TAG", "ENVIRONMENT_SUFFIX"],
  remediator: ["HISTORY_TABLE", "REMEDIATION_MODE", "REMEDIATION_KMS_KEY_ID", "MAX_REMEDIATIONS_PER_INVOCATION", "ENVIRONMENT_SUFFIX"],
  rollup: ["ORG_ID", "HISTORY_TABLE", "HOUR_INDEX", "REPORTS_BUCKET", "ALERT_TOPIC_ARN", "SCORE_THRESHOLD", "WINDOW_HOURS", "ENVIRONMENT_SUFFIX"],
};
const ORG_CONFIG = ["hourlyScanState", "organizationState", "organizationId", "analyzerBatchSize", "analyzerMaxConcurrency", "rollupMinute", "rollupWindowHours"];
const STATES = ["ENABLED", "DISABLED"];
const GOVERNANCE_CONFIG = ["waiversKey", "alertScore"];
const EXPORT_CONFIG = ["securityHubImport", "securityHubMemberRole"];
const OWN_PRODUCT = "arn:aws:securityhub:${region}:${accountId}:product/${accountId}/default";

const ofType = (resources, type) => Object.entries(resources).filter(([, r]) => r.type === type);
const ref = (name) => new RegExp(`^\\$\\{${name}(\\.[A-Za-z]+)?\\}$`);
const walk = (value, visit, path = []) => {
  visit(value, path);
  if (value && typeof value === "object") for (const [k, v] of Object.entries(value)) walk(v, visit, path.concat(k));
};

/** SPEC §10: the organization mode's resources, switched by stack config. */
function organization(resources, config, fail) {
  const named = (type, suffix) => ofType(resources, type).find(([, r]) => r.properties?.name === `compliance-${suffix}-${SUFFIX}`);
  const [workName, work] = named("aws:sqs:Queue", "work") ?? [];
  const [workDlqName] = named("aws:sqs:Queue", "work-dlq") ?? [];
  if (!work) return fail("no work queue compliance-work-" + SUFFIX);
  const redrive = work.properties?.redrivePolicy?.["fn::toJSON"] ?? {};
  if (!workDlqName || redrive.deadLetterTargetArn !== `\${${workDlqName}.arn}` || !(redrive.maxReceiveCount >= 1)) fail(`${workName}: no dead-letter queue of its own`);
  const [, analyzer] = named("aws:lambda:Function", "analyzer") ?? [];
  if (!(work.properties?.visibilityTimeoutSeconds >= 6 * (analyzer?.properties?.timeout ?? 900))) fail(`${workName}: visibility timeout must be at least 6 × the analyzer's timeout`);

  const mappings = ofType(resources, "aws:lambda:EventSourceMapping").filter(([, m]) => m.properties?.eventSourceArn === `\${${workName}.arn}`);
  if (mappings.length !== 1) fail("the analyzer must consume the work queue through one event source mapping");
  for (const [name, m] of mappings) {
    const p = m.properties;
    if (!(p.functionResponseTypes ?? []).includes("ReportBatchItemFailures")) fail(`${name}: ReportBatchItemFailures is off`);
    if (p.batchSize !== "${analyzerBatchSize}") fail(`${name}: batch size must come from analyzerBatchSize`);
    if (p.scalingConfig?.maximumConcurrency !== "${analyzerMaxConcurrency}") fail(`${name}: maximum concurrency must come from analyzerMaxConcurrency`);
  }

  const rules = ofType(resources, "aws:cloudwatch:EventRule");
  const snapshot = rules.find(([, r]) => r.properties?.eventPattern?.["fn::toJSON"]?.["detail-type"]?.includes("Object Created"));
  const keyPattern = snapshot?.[1].properties.eventPattern["fn::toJSON"].detail?.object?.key ?? [];
  if (!keyPattern.some((k) => k?.wildcard === "*/ConfigSnapshot/*")) fail("no snapshot rule matching keys */ConfigSnapshot/*");
  if (snapshot && snapshot[1].properties.state !== "${organizationState}") fail(`${snapshot[0]}: its state must come from organizationState`);
  const targets = ofType(resources, "aws:cloudwatch:EventTarget");
  if (snapshot && !targets.some(([, t]) => t.properties?.rule === `\${${snapshot[0]}.name}` && t.properties?.arn === `\${${workName}.arn}`)) fail("the snapshot rule does not target the work queue");
  const queuePolicy = ofType(resources, "aws:sqs:QueuePolicy").find(([, q]) => q.properties?.queueUrl === `\${${workName}.url}`);
  const sends = (queuePolicy?.[1].properties.policy?.["fn::toJSON"]?.Statement ?? []).find((st) => st.Principal?.Service === "events.amazonaws.com");
  if (!snapshot || sends?.Condition?.ArnEquals?.["aws:SourceArn"] !== `\${${snapshot[0]}.arn}`) fail("the work queue policy must admit only the snapshot rule");
  const notifications = ofType(resources, "aws:s3:BucketNotification");
  if (!notifications.some(([, n]) => n.properties?.eventbridge === true)) fail("the delivery bucket does not send its events to EventBridge");

  const rollup = rules.find(([, r]) => /^cron\(\$\{rollupMinute\} \* \* \* \? \*\)$/.test(r.properties?.scheduleExpression ?? ""));
  if (!rollup) fail("no hourly roll-up schedule at minute rollupMinute");
  else if (rollup[1].properties.state !== "${organizationState}") fail(`${rollup[0]}: its state must come from organizationState`);
  const hourly = rules.find(([, r]) => r.properties?.scheduleExpression === "rate(1 hour)");
  if (hourly && hourly[1].properties.state !== "${hourlyScanState}") fail(`${hourly[0]}: its state must come from hourlyScanState`);

  const delivery = ofType(resources, "aws:s3:BucketPolicy").find(([, b]) => /deliveryBucket/.test(b.properties?.bucket ?? ""));
  const orgStatements = (delivery?.[1].properties.policy?.["fn::toJSON"]?.Statement ?? []).filter((st) => st.Principal?.Service === "config.amazonaws.com" && st.Condition?.StringEquals?.["aws:SourceOrgID"]);
  if (!orgStatements.length || !orgStatements.every((st) => st.Condition.StringEquals["aws:SourceOrgID"] === "${organizationId}")) fail("member accounts' Config delivery must be limited to the organization (aws:SourceOrgID = organizationId)");
  if (!orgStatements.some((st) => [st.Action].flat().includes("s3:GetBucketAcl"))) fail("member accounts' Config cannot check the bucket ACL within the organization (aws:SourceOrgID)");
  if (!orgStatements.some((st) => st.Action === "s3:PutObject" && st.Condition.StringEquals["s3:x-amz-acl"] === "bucket-owner-full-control")) fail("member accounts' delivery must hand the objects to the bucket owner");
}

/** SPEC §11: the waiver file is read by the analyzer from governance/ in the delivery bucket, and
 * nothing the stack runs can write it. */
function governance(resources, fail) {
  const [, analyzer] = ofType(resources, "aws:lambda:Function").find(([, r]) => r.properties?.name === `compliance-analyzer-${SUFFIX}`) ?? [];
  const vars = analyzer?.properties?.environment?.variables ?? {};
  if (vars.WAIVERS_BUCKET !== "${deliveryBucket.id}" || vars.WAIVERS_KEY !== "${waiversKey}") fail("the analyzer's waiver file must be waiversKey in the delivery bucket");
  if (vars.ALERT_SCORE !== "${alertScore}") fail("the analyzer's ALERT_SCORE must come from alertScore");
  const policies = ofType(resources, "aws:iam:RolePolicy");
  const statements = policies.flatMap(([name, p]) => (p.properties?.policy?.["fn::toJSON"]?.Statement ?? []).map((st) => [name, st]));
  const covers = (resource) => resource === "*" || resource === "${deliveryBucket.arn}/*" || resource === "${deliveryBucket.arn}/governance/*";
  const reads = statements.some(([name, st]) => /analyzer/i.test(name) && st.Effect === "Allow" && [st.Action].flat().includes("s3:GetObject") && [st.Resource].flat().includes("${deliveryBucket.arn}/governance/*"));
  if (!reads) fail("the analyzer cannot read the waiver file (s3:GetObject on the delivery bucket's governance/*)");
  for (const [name, st] of statements) {
    const writes = [st.Action].flat().some((a) => /^s3:(PutObject|DeleteObject|\*)/.test(a) || a === "*");
    if (st.Effect === "Allow" && writes && [st.Resource].flat().some(covers)) fail(`${name}: may write the waiver file (governance/ in the delivery bucket)`);
  }
  const delivery = ofType(resources, "aws:s3:BucketPolicy").find(([, b]) => /deliveryBucket/.test(b.properties?.bucket ?? ""));
  for (const st of delivery?.[1].properties.policy?.["fn::toJSON"]?.Statement ?? []) {
    if (st.Effect === "Allow" && [st.Action].flat().some((a) => /^s3:PutObject/.test(a)) && [st.Resource].flat().some(covers)) fail("the delivery bucket policy lets a service write governance/");
  }
}

/** SPEC §12: the Security Hub import is switched by config, imports only under this account's
 * default product, and reaches member accounts only through their import role, within the
 * organization. */
function exportsImport(resources, fail) {
  const [, analyzer] = ofType(resources, "aws:lambda:Function").find(([, r]) => r.properties?.name === `compliance-analyzer-${SUFFIX}`) ?? [];
  const vars = analyzer?.properties?.environment?.variables ?? {};
  if (vars.SECURITY_HUB_IMPORT !== "${securityHubImport}") fail("the analyzer's SECURITY_HUB_IMPORT must come from securityHubImport");
  if (vars.SECURITY_HUB_MEMBER_ROLE !== "${securityHubMemberRole}") fail("the analyzer's SECURITY_HUB_MEMBER_ROLE must come from securityHubMemberRole");
  const statements = ofType(resources, "aws:iam:RolePolicy").flatMap(([name, p]) => (p.properties?.policy?.["fn::toJSON"]?.Statement ?? []).map((st) => [name, st]));
  for (const [name, st] of statements) {
    if (st.Effect !== "Allow") continue;
    const actions = [st.Action].flat();
    const targets = [st.Resource].flat();
    if (actions.some((a) => /^securityhub:/i.test(a)) && !(/analyzer/i.test(name) && actions.every((a) => a === "securityhub:BatchImportFindings") && targets.every((r) => r === OWN_PRODUCT))) {
      fail(`${name}: Security Hub access beyond BatchImportFindings under this account's default product`);
    }
    if (actions.includes("sts:AssumeRole")) {
      const orgOnly = st.Condition?.StringEquals?.["aws:ResourceOrgID"] === "${organizationId}";
      if (!/analyzer/i.test(name) || !targets.every((r) => r === "arn:aws:iam::*:role/${securityHubMemberRole}") || !orgOnly) {
        fail(`${name}: sts:AssumeRole must be the analyzer's, on the member import role (securityHubMemberRole) of the organization (aws:ResourceOrgID) only`);
      }
    }
  }
  const reads = statements.some(([name, st]) => /analyzer/i.test(name) && st.Effect === "Allow" && [st.Resource].flat().includes("${reportsBucket.arn}/security-hub/*"));
  if (!reads) fail("the analyzer cannot read its Security Hub ledger (reports bucket security-hub/*)");
}

/** infra/member-role/Pulumi.yaml: one role, assumable only by the central analyzer role from
 * within the organization, that can only import findings into its own account. */
export function memberRoleViolations(text, central) {
  const program = parse(text);
  const out = [];
  const roles = ofType(program.resources ?? {}, "aws:iam:Role");
  const policies = ofType(program.resources ?? {}, "aws:iam:RolePolicy");
  if (roles.length !== 1 || policies.length !== 1 || Object.keys(program.resources ?? {}).length !== 2) out.push("the member program must hold exactly one role and its one policy");
  const [, role] = roles[0] ?? [];
  if (role?.properties?.name !== "${roleName}") out.push("the role's name must come from roleName");
  const centralDefault = parse(central)?.config?.securityHubMemberRole?.default;
  if (program.config?.roleName?.default !== centralDefault) out.push(`roleName's default must equal the central stack's securityHubMemberRole (${centralDefault})`);
  const trust = role?.properties?.assumeRolePolicy?.["fn::toJSON"]?.Statement ?? [];
  for (const st of trust) {
    if (st.Effect !== "Allow") continue;
    if (JSON.stringify(st.Principal) !== JSON.stringify({ AWS: "${analyzerRoleArn}" })) out.push("the role must trust the central analyzer role (analyzerRoleArn) only");
    if ([st.Action].flat().join() !== "sts:AssumeRole") out.push("the trust policy must allow sts:AssumeRole only");
    if (st.Condition?.StringEquals?.["aws:PrincipalOrgID"] !== "${organizationId}") out.push("the trust policy must require the organization (aws:PrincipalOrgID = organizationId)");
  }
  if (!trust.length) out.push("the role has no trust policy");
  const statements = policies[0]?.[1]?.properties?.policy?.["fn::toJSON"]?.Statement ?? [];
  const own = "arn:aws:securityhub:*:${accountId}:product/${accountId}/default";
  for (const st of statements) {
    if (st.Effect !== "Allow") continue;
    if ([st.Action].flat().join() !== "securityhub:BatchImportFindings" || [st.Resource].flat().join() !== own) out.push("the role may only import findings (securityhub:BatchImportFindings) under its own account's default product");
  }
  if (!statements.length) out.push("the role has no policy");
  return out;
}

/** A stack configuration file (Pulumi.<stack>.yaml): the organization settings are coherent. */
export function configViolations(text) {
  const values = parse(text)?.config ?? {};
  const get = (key) => values[`compliance-scanner:${key}`];
  const out = [];
  for (const key of ["hourlyScanState", "organizationState"]) {
    const value = get(key);
    if (value !== undefined && !STATES.includes(value)) out.push(`${key} must be ENABLED or DISABLED, is ${value}`);
  }
  if (get("organizationState") === "ENABLED") {
    if (!/^o-[a-z0-9]{10,32}$/.test(get("organizationId") ?? "")) out.push("organization mode needs organizationId (o- and 10 to 32 lowercase letters or digits)");
    if (get("hourlyScanState") !== "DISABLED") out.push("organization mode scans this account from its snapshot events: set hourlyScanState DISABLED");
  }
  const concurrency = get("analyzerMaxConcurrency");
  if (concurrency !== undefined && !(Number.isInteger(concurrency) && concurrency >= 2 && concurrency <= 1000)) out.push("analyzerMaxConcurrency must be 2 to 1000 (Lambda's limits)");
  const batch = get("analyzerBatchSize");
  if (batch !== undefined && !(Number.isInteger(batch) && batch >= 1 && batch <= 10)) out.push("analyzerBatchSize must be 1 to 10");
  const waivers = get("waiversKey");
  if (waivers !== undefined && waivers !== "" && !/^governance\/[A-Za-z0-9!_.*'()\/-]+$/.test(waivers)) out.push("waiversKey must be a key under governance/ (the analyzer reads nothing else of the delivery bucket)");
  const alertScore = get("alertScore");
  if (alertScore !== undefined && !["score", "score-with-waivers"].includes(alertScore)) out.push("alertScore must be score or score-with-waivers");
  const hub = get("securityHubImport");
  if (hub !== undefined && !["on", "off"].includes(hub)) out.push("securityHubImport must be on or off");
  const role = get("securityHubMemberRole");
  if (role !== undefined && !/^[A-Za-z0-9+=,.@_-]{1,64}$/.test(role)) out.push("securityHubMemberRole must be an IAM role name");
  const minute = get("rollupMinute");
  if (minute !== undefined && !(Number.isInteger(minute) && minute >= 0 && minute <= 59)) out.push("rollupMinute must be 0 to 59");
  return out;
}

export function violations(text) {
  const program = parse(text);
  const out = [];
  const fail = (message) => out.push(message);
  const resources = program.resources ?? {};
  const config = program.config ?? {};

  if (program.runtime !== "yaml") fail("runtime must be yaml");
  if ("configuration" in program) fail("the deprecated `configuration:` section is used");
  for (const key of ["environmentSuffix", "alertEmail", "costCenter", "complianceTag", "scoreThreshold", "logRetentionDays", "remediationMode", "lambdaSubnetIds", "lambdaSecurityGroupIds", "remediationKmsKeyId", ...ORG_CONFIG, ...GOVERNANCE_CONFIG, ...EXPORT_CONFIG]) {
    if (!(key in config)) fail(`config key ${key} is missing`);
  }
  if (config.environmentSuffix && "default" in config.environmentSuffix) fail("environmentSuffix must be required (no default)");

  // Provider: region and default tags, used by every resource.
  const providers = ofType(resources, "pulumi:providers:aws");
  if (providers.length !== 1) fail("exactly one explicit aws provider is expected");
  const [providerName, provider] = providers[0] ?? [];
  if (provider?.properties?.region !== "us-east-1") fail("provider region must be us-east-1");
  const tags = provider?.properties?.defaultTags?.tags ?? {};
  for (const tag of ["CostCenter", "Compliance"]) if (!tags[tag]) fail(`provider default tag ${tag} is missing`);
  for (const [name, r] of Object.entries(resources)) {
    if (name === providerName) continue;
    if (r.options?.provider !== `\${${providerName}}`) fail(`${name} does not use the tagged provider`);
    if (r.options?.protect || r.options?.retainOnDelete) fail(`${name} is protected or retained on delete`);
    for (const key of NAME_KEYS) {
      const value = r.properties?.[key];
      if (typeof value !== "string" || key === "name" && r.type === "aws:kms:Alias") continue;
      const bare = value.replace(/^\/aws\/lambda\//, "");
      if (!/^compliance-[a-z0-9-]+-\$\{environmentSuffix\}$/.test(bare) && !ref("[A-Za-z]+").test(value)) fail(`${name}: ${key} "${value}" is not compliance-<type>-${SUFFIX}`);
    }
  }
  walk(resources, (v, path) => {
    if (path.at(-1) === "deletionProtectionEnabled" && v === true) fail(`${path.join(".")} enables deletion protection`);
    if (path.at(-1) === "reservedConcurrentExecutions") fail(`${path.join(".")}: no reserved concurrency is allowed`);
  });

  // KMS.
  const keys = ofType(resources, "aws:kms:Key");
  if (!keys.length) fail("no KMS customer key");
  for (const [name, k] of keys) {
    if (k.properties?.enableKeyRotation !== true) fail(`${name}: key rotation is off`);
    const window = k.properties?.deletionWindowInDays;
    if (!(window >= 7 && window <= 10)) fail(`${name}: deletion window should be short (7–10 days), is ${window}`);
  }

  // Buckets: forceDestroy, encryption, public access block, versioning, TLS-only policy.
  const buckets = ofType(resources, "aws:s3:Bucket");
  const about = (type, bucket) => ofType(resources, type).filter(([, r]) => ref(bucket).test(r.properties?.bucket ?? ""));
  for (const [name, b] of buckets) {
    if (b.properties?.forceDestroy !== true) fail(`${name}: forceDestroy must be true`);
    const sse = about("aws:s3:BucketServerSideEncryptionConfiguration", name);
    if (!sse.some(([, r]) => r.properties.rules?.some((rule) => rule.applyServerSideEncryptionByDefault?.sseAlgorithm === "aws:kms"))) fail(`${name}: no SSE-KMS default encryption`);
    const pab = about("aws:s3:BucketPublicAccessBlock", name);
    if (!pab.some(([, r]) => ["blockPublicAcls", "ignorePublicAcls", "blockPublicPolicy", "restrictPublicBuckets"].every((f) => r.properties[f] === true))) fail(`${name}: public access not fully blocked`);
    const versioning = about("aws:s3:BucketVersioning", name);
    if (!versioning.some(([, r]) => r.properties.versioningConfiguration?.status === "Enabled")) fail(`${name}: versioning not enabled`);
    const policies = about("aws:s3:BucketPolicy", name);
    const tlsOnly = policies.some(([, r]) => (r.properties.policy?.["fn::toJSON"]?.Statement ?? []).some((s) =>
      s.Effect === "Deny" && s.Principal === "*" && s.Action === "s3:*" && s.Condition?.Bool?.["aws:SecureTransport"] === "false"));
    if (!tlsOnly) fail(`${name}: no TLS-only bucket policy`);
  }
  const reports = buckets.find(([, b]) => /reports/.test(b.properties?.bucket ?? ""));
  if (!reports) fail("no reports bucket");
  else {
    const lifecycle = about("aws:s3:BucketLifecycleConfiguration", reports[0]);
    const rules = lifecycle.flatMap(([, r]) => r.properties.rules ?? []).filter((r) => r.status === "Enabled");
    if (!rules.some((r) => r.expiration?.days === 30)) fail("reports are not deleted after exactly 30 days");
    if (!rules.some((r) => r.noncurrentVersionExpiration?.noncurrentDays === 30)) fail("noncurrent report versions are not deleted after exactly 30 days");
  }

  // DynamoDB history table.
  const tables = ofType(resources, "aws:dynamodb:Table");
  if (tables.length !== 1) fail("exactly one history table is expected");
  for (const [name, t] of tables) {
    const p = t.properties ?? {};
    if (p.billingMode !== "PAY_PER_REQUEST") fail(`${name}: billing mode must be PAY_PER_REQUEST`);
    if (p.hashKey !== "ResourceId" || p.rangeKey !== "Timestamp") fail(`${name}: keys must be ResourceId (hash) and Timestamp (range)`);
    const attrs = Object.fromEntries((p.attributes ?? []).map((a) => [a.name, a.type]));
    if (attrs.ResourceId !== "S" || attrs.Timestamp !== "S") fail(`${name}: key attributes must be strings`);
    if (p.serverSideEncryption?.enabled !== true || p.serverSideEncryption?.kmsKeyArn) fail(`${name}: must use AWS-managed KMS encryption`);
    if (p.pointInTimeRecovery?.enabled !== true) fail(`${name}: point-in-time recovery is off`);
    const byHour = (p.globalSecondaryIndexes ?? []).find((i) => i.name === "ByHour");
    if (byHour?.hashKey !== "HourBucket" || byHour?.rangeKey !== "Timestamp" || byHour?.projectionType !== "ALL" || attrs.HourBucket !== "S") {
      fail(`${name}: the roll-up needs index ByHour (HourBucket hash, Timestamp range, all attributes)`);
    }
  }

  // SNS and SQS encrypted; email and Lambda subscriptions.
  for (const [name, t] of ofType(resources, "aws:sns:Topic")) if (!t.properties?.kmsMasterKeyId) fail(`${name}: topic is not KMS-encrypted`);
  for (const [name, q] of ofType(resources, "aws:sqs:Queue")) if (!q.properties?.kmsMasterKeyId) fail(`${name}: queue is not KMS-encrypted`);
  const protocols = ofType(resources, "aws:sns:TopicSubscription").map(([, s]) => s.properties?.protocol);
  for (const protocol of ["email", "lambda"]) if (!protocols.includes(protocol)) fail(`no ${protocol} subscription to the alert topic`);
  const dlq = ofType(resources, "aws:sqs:Queue")[0]?.[0];
  organization(resources, config, fail);
  governance(resources, fail);
  exportsImport(resources, fail);

  // Lambdas.
  const functions = ofType(resources, "aws:lambda:Function");
  const logGroups = Object.fromEntries(ofType(resources, "aws:cloudwatch:LogGroup"));
  for (const fn of FUNCTIONS) {
    const entry = functions.find(([, f]) => f.properties?.name === `compliance-${fn}-${SUFFIX}`);
    if (!entry) {
      fail(`no Lambda named compliance-${fn}-${SUFFIX}`);
      continue;
    }
    const [name, f] = entry;
    const p = f.properties;
    if (p.runtime !== "provided.al2023") fail(`${name}: runtime must be provided.al2023`);
    if (p.memorySize !== 3008) fail(`${name}: memory must be 3008 MB`);
    if (p.tracingConfig?.mode !== "Active") fail(`${name}: X-Ray tracing must be Active`);
    if (p.deadLetterConfig?.targetArn !== `\${${dlq}.arn}`) fail(`${name}: dead-letter queue not wired`);
    if (p.code?.["fn::fileArchive"] !== `../target/lambda/${fn}`) fail(`${name}: code must come from target/lambda/${fn}`);
    const vars = p.environment?.variables ?? {};
    for (const v of LAMBDA_ENV[fn]) if (!(v in vars)) fail(`${name}: environment variable ${v} missing`);
    if (!p.vpcConfig?.subnetIds || !p.vpcConfig?.securityGroupIds) fail(`${name}: optional VPC attachment not wired to config`);
    const groupRef = /^\$\{([A-Za-z]+)\.name\}$/.exec(p.loggingConfig?.logGroup ?? "")?.[1];
    const group = logGroups[groupRef];
    if (!group) fail(`${name}: no own log group`);
    else {
      if (group.properties?.name !== `/aws/lambda/compliance-${fn}-${SUFFIX}`) fail(`${name}: log group name does not match the function`);
      if (!group.properties?.retentionInDays) fail(`${name}: log group has no retention`);
      if (!group.properties?.kmsKeyId) fail(`${name}: log group is not KMS-encrypted`);
    }
    const roleRef = /^\$\{([A-Za-z]+)\.arn\}$/.exec(p.role ?? "")?.[1];
    const sharing = functions.filter(([, other]) => other.properties?.role === p.role).length;
    if (!roleRef || sharing !== 1) fail(`${name}: needs a role of its own`);
  }

  // AWS Config.
  const [, recorder] = ofType(resources, "aws:cfg:Recorder")[0] ?? [];
  if (!recorder) fail("no Config recorder");
  else if (recorder.properties?.recordingGroup?.allSupported !== true || recorder.properties?.recordingGroup?.includeGlobalResourceTypes !== true) fail("the recorder must record all supported types including global ones");
  const [, channel] = ofType(resources, "aws:cfg:DeliveryChannel")[0] ?? [];
  if (channel?.properties?.snapshotDeliveryProperties?.deliveryFrequency !== "One_Hour") fail("the delivery channel must deliver hourly snapshots");
  if (!ofType(resources, "aws:cfg:RecorderStatus").some(([, s]) => s.properties?.isEnabled === true)) fail("the recorder is not enabled");
  const attachments = ofType(resources, "aws:iam:RolePolicyAttachment").map(([, a]) => a.properties?.policyArn);
  if (!attachments.includes("arn:aws:iam::aws:policy/service-role/AWS_ConfigRole")) fail("the Config role lacks AWS_ConfigRole");
  const rules = ofType(resources, "aws:cfg:Rule").map(([, r]) => r.properties?.name);
  for (const rule of ["ec2", "s3", "iam"]) if (!rules.includes(`compliance-${rule}-rule-${SUFFIX}`)) fail(`Config rule compliance-${rule}-rule-${SUFFIX} missing`);
  if (!ofType(resources, "aws:lambda:Permission").some(([, p]) => p.properties?.principal === "config.amazonaws.com")) fail("Config may not invoke the evaluator");

  // EventBridge.
  const eventRules = ofType(resources, "aws:cloudwatch:EventRule");
  const schedule = eventRules.find(([, r]) => r.properties?.scheduleExpression);
  if (schedule?.[1].properties.scheduleExpression !== "rate(1 hour)") fail("the analyzer schedule must be rate(1 hour)");
  const change = eventRules.find(([, r]) => r.properties?.eventPattern?.["fn::toJSON"]?.["detail-type"]?.includes("Config Rules Compliance Change"));
  if (!change) fail("no compliance-change rule");
  for (const [name, t] of ofType(resources, "aws:cloudwatch:EventTarget")) {
    if (!t.properties?.retryPolicy) fail(`${name}: no retry policy`);
    if (t.properties?.deadLetterConfig?.arn !== `\${${dlq}.arn}`) fail(`${name}: no dead-letter queue`);
  }

  // Dashboard: 7 days, the three widgets.
  const [, dashboard] = ofType(resources, "aws:cloudwatch:Dashboard")[0] ?? [];
  const body = dashboard?.properties?.dashboardBody?.["fn::toJSON"];
  if (body?.start !== "-P7D") fail("the dashboard must show 7 days");
  const titles = (body?.widgets ?? []).map((w) => w.properties?.title ?? "").join("|").toLowerCase();
  for (const widget of ["compliance score", "violations by severity", "remediation success rate"]) if (!titles.includes(widget)) fail(`dashboard widget "${widget}" missing`);

  for (const output of ["configRecorderName", "complianceTableArn", "reportBucketUrl", "analyzerFunctionName", "evaluatorFunctionName", "remediatorFunctionName", "alertTopicArn", "dashboardUrl"]) {
    if (!(output in (program.outputs ?? {}))) fail(`output ${output} missing`);
  }
  return out;
}
