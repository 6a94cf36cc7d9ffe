// The offline checker accepts the real program and rejects each class of mistake it exists to
// catch, naming the Pulumi.yaml line.
import test from "node:test";
import assert from "node:assert/strict";
import { checkTexts } from "../check.mjs";
import { original, mutate } from "./helpers.mjs";

const cases = {
  misspelledProperty: mutate("      memorySize: 3008", "      memorySizee: 3008"),
  wrongType: mutate("      memorySize: 3008", "      memorySize: lots"),
  missingRequiredInput: mutate("      role: ${analyzerRole.arn}\n", ""),
  badToken: mutate("    type: aws:dynamodb:Table", "    type: aws:dynamodb:Tabel"),
  undefinedReference: mutate("${historyTable.arn}", "${historyTabel.arn}"),
  unknownProperty: mutate("          bucketKeyEnabled: true", "          bucketKeyEnabld: true"),
  cycle: mutate("      state: ${hourlyScanState}\n    options:\n      provider: ${awsProvider}",
    "      state: ${hourlyScanState}\n    options:\n      provider: ${awsProvider}\n      dependsOn:\n        - ${deadLetterQueuePolicy}"),
  deprecatedConfiguration: mutate("\nconfig:\n", "\nconfiguration:\n"),
  unsupportedFunction: mutate("fn::fileArchive: ../target/lambda/analyzer", "fn::fileArchiv: ../target/lambda/analyzer"),
};
const names = Object.keys(cases);
const results = checkTexts([original, ...names.map((n) => cases[n].text)]);

test("the real program translates and type-checks cleanly", () => {
  assert.deepEqual(results[0], []);
});

const expectations = {
  misspelledProperty: /TS(2353|2561).*memorySizee/,
  wrongType: /TS2322.*string.*number|TS2322/,
  missingRequiredInput: /TS2345[\s\S]*'role' is missing/,
  badToken: /unknown resource type `aws:dynamodb:Tabel`/,
  undefinedReference: /undefined reference \$\{historyTabel\.arn\}/,
  unknownProperty: /bucketKeyEnabld/,
  cycle: /dependency cycle/,
  deprecatedConfiguration: /`configuration:` is deprecated/,
  unsupportedFunction: /unsupported built-in function `fn::fileArchiv`/,
};

names.forEach((name, i) => {
  test(`rejects: ${name}`, () => {
    const errors = results[i + 1];
    assert.ok(errors.length > 0, `${name} was accepted`);
    const match = errors.find((e) => expectations[name].test(e));
    assert.ok(match, `${name}: no error matches ${expectations[name]}:\n${errors.join("\n")}`);
    if (!["cycle", "missingRequiredInput"].includes(name)) {
      assert.match(match, new RegExp(`^Pulumi\\.yaml:${cases[name].line}:`), `${name}: wrong line in ${match}`);
    }
  });
});
