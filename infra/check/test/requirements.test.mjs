// SPEC §8 requirements hold for the real program, and each check fires when its constraint is broken.
import test from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { configViolations, memberRoleViolations, violations } from "../requirements.mjs";
import { original, mutate, programPath } from "./helpers.mjs";

test("the real program meets every requirement", () => {
  assert.deepEqual(violations(original), []);
});

const broken = [
  ["memory", mutate("      memorySize: 3008", "      memorySize: 1024"), /memory must be 3008/],
  ["runtime", mutate("runtime: provided.al2023", "runtime: nodejs20.x"), /runtime must be provided.al2023/],
  ["tracing", mutate("        mode: Active", "        mode: PassThrough"), /X-Ray tracing must be Active/],
  ["reserved concurrency", mutate("      memorySize: 3008", "      memorySize: 3008\n      reservedConcurrentExecutions: 5"), /no reserved concurrency/],
  ["dead letters", mutate("        targetArn: ${deadLetterQueue.arn}", "        targetArn: arn:aws:sqs:us-east-1:1:other"), /dead-letter queue not wired/],
  ["billing", mutate("billingMode: PAY_PER_REQUEST", "billingMode: PROVISIONED"), /PAY_PER_REQUEST/],
  ["keys", mutate("rangeKey: Timestamp", "rangeKey: Time"), /keys must be ResourceId/],
  ["pitr", mutate("      pointInTimeRecovery:\n        enabled: true", "      pointInTimeRecovery:\n        enabled: false"), /point-in-time recovery/],
  ["lifecycle", mutate("            days: 30", "            days: 31"), /exactly 30 days/],
  ["noncurrent lifecycle", mutate("noncurrentDays: 30", "noncurrentDays: 60"), /noncurrent report versions/],
  ["public access", mutate("      restrictPublicBuckets: true", "      restrictPublicBuckets: false"), /public access not fully blocked/],
  ["versioning", mutate("        status: Enabled", "        status: Suspended"), /versioning not enabled/],
  ["encryption", mutate("            sseAlgorithm: aws:kms", "            sseAlgorithm: AES256"), /no SSE-KMS/],
  ["tls", mutate('                  aws:SecureTransport: "false"', '                  aws:SecureTransport: "true"'), /TLS-only/],
  ["schedule", mutate("rate(1 hour)", "rate(2 hours)"), /rate\(1 hour\)/],
  ["managed policy", mutate("arn:aws:iam::aws:policy/service-role/AWS_ConfigRole", "arn:aws:iam::aws:policy/ReadOnlyAccess"), /AWS_ConfigRole/],
  ["naming", mutate("name: compliance-history-${environmentSuffix}", "name: history-table"), /not compliance-<type>/],
  ["tags", mutate("          CostCenter: ${costCenter}\n", ""), /default tag CostCenter/],
  ["protect", mutate("    options:\n      provider: ${awsProvider}\n\n  complianceKeyAlias:", "    options:\n      provider: ${awsProvider}\n      protect: true\n\n  complianceKeyAlias:"), /protected or retained/],
  ["force destroy", mutate("      forceDestroy: true", "      forceDestroy: false"), /forceDestroy/],
  ["dashboard range", mutate("start: -P7D", "start: -P1D"), /7 days/],
  ["recorder", mutate("includeGlobalResourceTypes: true", "includeGlobalResourceTypes: false"), /including global/],
  ["hourly snapshots", mutate("deliveryFrequency: One_Hour", "deliveryFrequency: Six_Hours"), /hourly snapshots/],
  ["log retention", mutate("      retentionInDays: ${logRetentionDays}\n", ""), /no retention/],
  ["outputs", mutate("  configRecorderName: ${configRecorder.name}\n", ""), /output configRecorderName/],
  ["retry policy", mutate("      retryPolicy:\n        maximumRetryAttempts: 2\n        maximumEventAgeInSeconds: 3600\n", ""), /no retry policy/],
  ["key rotation", mutate("enableKeyRotation: true", "enableKeyRotation: false"), /rotation/],
  ["env var", mutate("          HISTORY_TABLE: ${historyTable.name}\n", ""), /HISTORY_TABLE missing/],
  ["rollup env", mutate("          ORG_ID: ${organizationId}\n", ""), /ORG_ID missing/],
  ["hour index", mutate("          hashKey: HourBucket", "          hashKey: Hour"), /index ByHour/],
  ["partial batch failures", mutate("        - ReportBatchItemFailures\n", ""), /ReportBatchItemFailures is off/],
  ["batch size", mutate("batchSize: ${analyzerBatchSize}", "batchSize: 10"), /analyzerBatchSize/],
  ["snapshot wildcard", mutate('wildcard: "*/ConfigSnapshot/*"', 'wildcard: "*"'), /\*\/ConfigSnapshot\/\*/],
  ["snapshot rule state", mutate("      state: ${organizationState}\n      eventPattern:", "      state: ENABLED\n      eventPattern:"), /organizationState/],
  ["org condition", mutate("                  aws:SourceOrgID: ${organizationId}\n            - Sid: MemberAccountsConfigDelivers", "                  aws:SourceAccount: ${accountId}\n            - Sid: MemberAccountsConfigDelivers"), /aws:SourceOrgID/],
  ["visibility", mutate("visibilityTimeoutSeconds: 1800", "visibilityTimeoutSeconds: 300"), /visibility timeout/],
  ["work dlq", mutate("          maxReceiveCount: 5\n", ""), /dead-letter queue of its own/],
  ["eventbridge notifications", mutate("      eventbridge: true", "      eventbridge: false"), /EventBridge/],
  ["hourly scan state", mutate("      state: ${hourlyScanState}\n", ""), /hourlyScanState/],
  ["waiver file location", mutate("          WAIVERS_KEY: ${waiversKey}", "          WAIVERS_KEY: waivers.yaml"), /waiversKey in the delivery bucket/],
  ["waiver file readable", mutate("              Resource: ${deliveryBucket.arn}/governance/*", "              Resource: ${deliveryBucket.arn}/waivers/*"), /cannot read the waiver file/],
  ["waiver file writable", mutate("                - s3:GetObjectVersion\n              Resource: ${deliveryBucket.arn}/governance/*", "                - s3:GetObjectVersion\n                - s3:PutObject\n              Resource: ${deliveryBucket.arn}/governance/*"), /may write the waiver file/],
  ["alert score", mutate("          ALERT_SCORE: ${alertScore}", "          ALERT_SCORE: score"), /ALERT_SCORE must come from alertScore/],
  ["security hub switch", mutate("          SECURITY_HUB_IMPORT: ${securityHubImport}", "          SECURITY_HUB_IMPORT: on"), /SECURITY_HUB_IMPORT must come from securityHubImport/],
  ["security hub scope", mutate("              Action: securityhub:BatchImportFindings\n              Resource: arn:aws:securityhub:${region}:${accountId}:product/${accountId}/default", "              Action: securityhub:BatchImportFindings\n              Resource: arn:aws:securityhub:${region}:${accountId}:product/*"), /beyond BatchImportFindings under this account's default product/],
  ["member role any", mutate("              Resource: arn:aws:iam::*:role/${securityHubMemberRole}", "              Resource: arn:aws:iam::*:role/*"), /member import role/],
  ["member role outside org", mutate("                  aws:ResourceOrgID: ${organizationId}", "                  aws:ResourceAccount: ${accountId}"), /organization \(aws:ResourceOrgID\)/],
  ["ledger readable", mutate("                - ${reportsBucket.arn}/security-hub/*\n", ""), /Security Hub ledger/],
];

for (const [name, { text }, expected] of broken) {
  test(`catches: ${name}`, () => {
    const found = violations(text);
    assert.ok(found.some((v) => expected.test(v)), `${name}: expected ${expected}, got:\n${found.join("\n") || "(nothing)"}`);
  });
}

const example = (name) => fs.readFileSync(path.join(path.dirname(programPath), name), "utf8");

test("both example stack configurations are coherent", () => {
  assert.deepEqual(configViolations(example("Pulumi.example.yaml")), []);
  assert.deepEqual(configViolations(example("Pulumi.org.example.yaml")), []);
});

test("catches incoherent organization settings", () => {
  const org = example("Pulumi.org.example.yaml");
  const cases = [
    [org.replace("organizationId: o-a1b2c3d4e5", "organizationId: acme"), /needs organizationId/],
    [org.replace("hourlyScanState: DISABLED", "hourlyScanState: ENABLED"), /hourlyScanState DISABLED/],
    [org.replace("organizationState: ENABLED", "organizationState: on"), /ENABLED or DISABLED/],
    [org.replace("analyzerMaxConcurrency: 20", "analyzerMaxConcurrency: 1"), /2 to 1000/],
    [org.replace("rollupMinute: 20", "rollupMinute: 60"), /0 to 59/],
    [org.replace("waiversKey: governance/waivers.yaml", "waiversKey: AWSLogs/waivers.yaml"), /under governance\//],
    [org.replace("alertScore: score", "alertScore: waived"), /score or score-with-waivers/],
    [org.replace("securityHubImport: \"on\"", "securityHubImport: yes"), /on or off/],
  ];
  for (const [text, expected] of cases) {
    assert.notEqual(text, org, `mutation did not apply for ${expected}`);
    const found = configViolations(text);
    assert.ok(found.some((v) => expected.test(v)), `expected ${expected}, got ${found.join("; ") || "(nothing)"}`);
  }
});

const memberPath = path.join(path.dirname(programPath), "member-role", "Pulumi.yaml");
const member = fs.readFileSync(memberPath, "utf8");

test("the member account's import role is as narrow as SPEC §12 needs", () => {
  assert.deepEqual(memberRoleViolations(member, original), []);
  const cases = [
    [member.replace("                AWS: ${analyzerRoleArn}", '                AWS: "*"'), /central analyzer role/],
    [member.replace("                  aws:PrincipalOrgID: ${organizationId}", "                  aws:PrincipalAccount: ${accountId}"), /aws:PrincipalOrgID/],
    [member.replace("              Action: securityhub:BatchImportFindings", "              Action: securityhub:BatchUpdateFindings"), /only import findings/],
    [member.replace("product/${accountId}/default", "product/*"), /only import findings/],
    [member.replace("    default: compliance-securityhub-import", "    default: other-role"), /securityHubMemberRole/],
  ];
  for (const [text, expected] of cases) {
    assert.notEqual(text, member, `mutation did not apply for ${expected}`);
    const found = memberRoleViolations(text, original);
    assert.ok(found.some((v) => expected.test(v)), `expected ${expected}, got ${found.join("; ") || "(nothing)"}`);
  }
});
