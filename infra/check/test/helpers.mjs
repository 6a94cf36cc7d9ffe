import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";

export const programPath = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "Pulumi.yaml");
export const original = fs.readFileSync(programPath, "utf8");

/** Replaces the first occurrence of `from`; returns the new text and the changed line. */
export function mutate(from, to, text = original) {
  const at = text.indexOf(from);
  assert.ok(at >= 0, `mutation anchor not found: ${from}`);
  const leadingNewlines = from.length - from.replace(/^\n+/, "").length;
  return { text: text.slice(0, at) + to + text.slice(at + from.length), line: text.slice(0, at).split("\n").length + leadingNewlines };
}
