// SPEC §8 requirements hold for the real program, and each check fires when its constraint is broken.
import test from "node:test";
import assert from "node:assert/strict";
import { violations } from "../requirements.mjs";
import { original, mutate } from "./helpers.mjs";

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
];

for (const [name, { text }, expected] of broken) {
  test(`catches: ${name}`, () => {
    const found = violations(text);
    assert.ok(found.some((v) => expected.test(v)), `${name}: expected ${expected}, got:\n${found.join("\n") || "(nothing)"}`);
  });
}
