// Translates a Pulumi YAML program into an equivalent TypeScript program (one
// `new aws.<module>.<Resource>(name, {...}, opts)` per resource) so that `tsc` can check every
// property name, type and required input against the real @pulumi/aws declarations.
// The translator itself rejects what TypeScript cannot see: unknown resource or function
// tokens, undefined references, dependency cycles, unsupported built-ins, and the deprecated
// top-level `configuration:` section. Every error names a Pulumi.yaml line.
import { LineCounter, parseDocument, isMap, isSeq, isScalar, isPair } from "yaml";

const TOP_LEVEL = new Set(["name", "runtime", "description", "config", "variables", "resources", "outputs", "backend", "options", "packages"]);
const OPTION_KEYS = new Set([
  "provider", "providers", "dependsOn", "protect", "retainOnDelete", "deleteBeforeReplace", "ignoreChanges",
  "parent", "replaceOnChanges", "aliases", "customTimeouts", "additionalSecretOutputs", "version", "import",
]);

export class TranslationError extends Error {
  constructor(line, message) {
    super(`Pulumi.yaml:${line}: ${message}`);
    this.line = line;
  }
}

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const jsKey = (k) => (IDENT.test(k) ? k : JSON.stringify(k));
const lower = (s) => s.charAt(0).toLowerCase() + s.slice(1);

/** `aws:s3:Bucket` or `aws:s3/bucket:Bucket` → {token, ts} when known. */
export function resolveType(type, knownTypes) {
  if (type === "pulumi:providers:aws") return { token: type, ts: "aws.Provider" };
  const m = /^aws:([A-Za-z0-9]+)(?:\/([A-Za-z0-9]+))?:([A-Za-z0-9]+)$/.exec(type);
  if (!m) return null;
  const [, mod, file, name] = m;
  const token = `aws:${mod}/${file ?? lower(name)}:${name}`;
  if (!knownTypes.has(token)) return null;
  return { token, ts: mod === "index" ? `aws.${name}` : `aws.${mod}.${name}` };
}

/** `aws:index/getCallerIdentity:getCallerIdentity` → `aws.getCallerIdentityOutput`. */
export function resolveInvoke(fn, knownInvokes) {
  const m = /^aws:([A-Za-z0-9]+)(?:\/([A-Za-z0-9]+))?:([A-Za-z0-9]+)$/.exec(fn);
  if (!m) return null;
  const [, mod, file, name] = m;
  const token = `aws:${mod}/${file ?? name}:${name}`;
  if (!knownInvokes.has(token)) return null;
  return mod === "index" ? `aws.${name}Output` : `aws.${mod}.${name}Output`;
}

export function translate(text, { knownTypes, knownInvokes }) {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, keepSourceTokens: true });
  const lineOf = (node) => (node && node.range ? lineCounter.linePos(node.range[0]).line : 1);
  if (doc.errors.length) {
    const e = doc.errors[0];
    throw new TranslationError(lineCounter.linePos(e.pos[0]).line, `YAML: ${e.message.split("\n")[0]}`);
  }
  const root = doc.contents;
  if (!isMap(root)) throw new TranslationError(1, "the program must be a YAML mapping");
  const section = (key) => root.items.find((p) => p.key?.value === key);
  for (const pair of root.items) {
    const key = pair.key?.value;
    if (key === "configuration") throw new TranslationError(lineOf(pair.key), "`configuration:` is deprecated; use `config:`");
    if (!TOP_LEVEL.has(key)) throw new TranslationError(lineOf(pair.key), `unknown top-level key \`${key}\``);
  }
  if (section("runtime")?.value?.value !== "yaml") throw new TranslationError(lineOf(section("runtime")?.key ?? root), "runtime must be `yaml`");

  const names = new Map(); // name → {kind, ident, line}
  const declare = (name, kind, node) => {
    if (names.has(name)) throw new TranslationError(lineOf(node), `\`${name}\` is defined twice (first at line ${names.get(name).line})`);
    const prefix = { config: "cfg_", variable: "var_", resource: "res_" }[kind];
    names.set(name, { kind, ident: prefix + name.replace(/[^A-Za-z0-9_]/g, "_"), line: lineOf(node) });
  };
  const pairs = (node) => (isMap(node) ? node.items : []);
  for (const p of pairs(section("config")?.value)) declare(p.key.value, "config", p.key);
  for (const p of pairs(section("variables")?.value)) declare(p.key.value, "variable", p.key);
  for (const p of pairs(section("resources")?.value)) declare(p.key.value, "resource", p.key);

  const lines = []; // {text, yamlLine}
  const emit = (text, yamlLine) => lines.push({ text, yamlLine });

  // --- expressions -------------------------------------------------------------------------
  function reference(body, node, deps) {
    const m = /^([A-Za-z_][A-Za-z0-9_-]*)(.*)$/.exec(body.trim());
    if (!m) throw new TranslationError(lineOf(node), `cannot parse reference \${${body}}`);
    const [, head, rest] = m;
    if (head === "pulumi") {
      if (rest === ".stack") return "pulumi.getStack()";
      if (rest === ".project") return "pulumi.getProject()";
      throw new TranslationError(lineOf(node), `unknown pulumi property \${${body}}`);
    }
    const target = names.get(head);
    if (!target) throw new TranslationError(lineOf(node), `undefined reference \${${body}}: no config key, variable or resource named \`${head}\``);
    if (target.kind !== "config") deps.add(head);
    const access = rest.replace(/\["([^"]+)"\]/g, (_, k) => (IDENT.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`));
    if (access && !/^(\.[A-Za-z_$][A-Za-z0-9_$]*|\[\d+\]|\["[^"]*"\])*$/.test(access)) {
      throw new TranslationError(lineOf(node), `cannot parse property access in \${${body}}`);
    }
    return target.ident + access;
  }

  function stringExpr(value, node, deps) {
    const parts = [];
    let i = 0;
    let literal = "";
    while (i < value.length) {
      if (value.startsWith("$${", i)) { literal += "${"; i += 3; continue; }
      if (value.startsWith("${", i)) {
        const end = value.indexOf("}", i);
        if (end < 0) throw new TranslationError(lineOf(node), `unterminated \${ in "${value}"`);
        if (literal) parts.push({ literal });
        literal = "";
        parts.push({ ref: reference(value.slice(i + 2, end), node, deps) });
        i = end + 1;
        continue;
      }
      literal += value[i++];
    }
    if (literal) parts.push({ literal });
    if (parts.length === 1 && parts[0].ref) return parts[0].ref;
    if (!parts.some((p) => p.ref)) return JSON.stringify(value);
    const escape = (s) => s.replace(/\\/g, "\\\\").replace(/`/g, "\\`").replace(/\$\{/g, "\\${");
    return "pulumi.interpolate`" + parts.map((p) => (p.ref ? "${" + p.ref + "}" : escape(p.literal))).join("") + "`";
  }

  function builtin(fnName, arg, node, deps, indent) {
    switch (fnName) {
      case "fn::toJSON":
        return `pulumi.jsonStringify(${expr(arg, deps, indent)})`;
      case "fn::fileArchive":
        return `new pulumi.asset.FileArchive(${expr(arg, deps, indent)})`;
      case "fn::fileAsset":
        return `new pulumi.asset.FileAsset(${expr(arg, deps, indent)})`;
      case "fn::stringAsset":
        return `new pulumi.asset.StringAsset(${expr(arg, deps, indent)})`;
      case "fn::secret":
        return `pulumi.secret(${expr(arg, deps, indent)})`;
      case "fn::join": {
        if (!isSeq(arg) || arg.items.length !== 2) throw new TranslationError(lineOf(node), "fn::join takes [separator, list]");
        return `pulumi.all(${expr(arg.items[1], deps, indent)}).apply((items) => items.join(${expr(arg.items[0], deps, indent)}))`;
      }
      case "fn::select": {
        if (!isSeq(arg) || arg.items.length !== 2) throw new TranslationError(lineOf(node), "fn::select takes [index, list]");
        return `pulumi.output(${expr(arg.items[1], deps, indent)}).apply((items) => items[${expr(arg.items[0], deps, indent)}])`;
      }
      case "fn::invoke": {
        const field = (k) => pairs(arg).find((p) => p.key.value === k)?.value;
        const fn = field("function")?.value;
        const target = resolveInvoke(fn ?? "", knownInvokes);
        if (!target) throw new TranslationError(lineOf(field("function") ?? node), `unknown function token \`${fn}\``);
        const args = field("arguments") ? expr(field("arguments"), deps, indent) : "{}";
        const opts = field("options") ? expr(field("options"), deps, indent) : "{}";
        const ret = field("return")?.value;
        return `${target}(${args}, ${opts})${ret ? "." + ret : ""}`;
      }
      default:
        throw new TranslationError(lineOf(node), `unsupported built-in function \`${fnName}\``);
    }
  }

  // Renders a YAML node as a TypeScript expression; multi-line objects record their YAML lines.
  function expr(node, deps, indent) {
    if (node == null) return "undefined";
    if (isScalar(node)) {
      const v = node.value;
      if (typeof v === "string") return stringExpr(v, node, deps);
      if (v === null) return "null";
      return JSON.stringify(v);
    }
    if (isSeq(node)) {
      if (!node.items.length) return "[]";
      const inner = node.items.map((item) => `\u0000${lineOf(item)}\u0001${"  ".repeat(indent + 1)}${expr(item, deps, indent + 1)},`);
      return "[\n" + inner.join("\n") + `\n${"  ".repeat(indent)}]`;
    }
    if (isMap(node)) {
      if (node.items.length === 1 && String(node.items[0].key?.value).startsWith("fn::")) {
        return builtin(node.items[0].key.value, node.items[0].value, node.items[0].key, deps, indent);
      }
      if (!node.items.length) return "{}";
      const inner = node.items.map((p) => `\u0000${lineOf(p.key)}\u0001${"  ".repeat(indent + 1)}${jsKey(String(p.key.value))}: ${expr(p.value, deps, indent + 1)},`);
      return "{\n" + inner.join("\n") + `\n${"  ".repeat(indent)}}`;
    }
    throw new TranslationError(lineOf(node), "unsupported YAML node");
  }

  // Splits a rendered expression into lines, each tagged with the YAML line it came from.
  function emitExpr(prefix, code, yamlLine, suffix = "") {
    const chunks = (prefix + code + suffix).split("\n");
    let current = yamlLine;
    for (const chunk of chunks) {
      const tagged = /^\u0000(\d+)\u0001(.*)$/s.exec(chunk);
      if (tagged) current = Number(tagged[1]);
      emit(tagged ? tagged[2] : chunk, current);
    }
  }

  // --- config --------------------------------------------------------------------------------
  emit('import * as pulumi from "@pulumi/pulumi";', 1);
  emit('import * as aws from "@pulumi/aws";', 1);
  emit("const config = new pulumi.Config();", 1);
  for (const p of pairs(section("config")?.value)) {
    const name = p.key.value;
    const spec = Object.fromEntries(pairs(p.value).map((q) => [q.key.value, q.value]));
    const type = spec.type?.value ?? "string";
    const def = spec.default;
    const ident = names.get(name).ident;
    const line = lineOf(p.key);
    const getter = { string: "get", integer: "getNumber", boolean: "getBoolean", array: "getObject<string[]>" }[type];
    if (!getter) throw new TranslationError(line, `unsupported config type \`${type}\``);
    const requirer = { string: "require", integer: "requireNumber", boolean: "requireBoolean", array: "requireObject<string[]>" }[type];
    if (def === undefined) emit(`const ${ident} = config.${requirer}(${JSON.stringify(name)});`, line);
    else emitExpr(`const ${ident} = config.${getter}(${JSON.stringify(name)}) ?? `, expr(def, new Set(), 0), line, ";");
  }

  // --- variables and resources, in dependency order ----------------------------------------
  const nodes = new Map();
  for (const p of pairs(section("variables")?.value)) {
    const deps = new Set();
    const code = expr(p.value, deps, 0);
    nodes.set(p.key.value, { kind: "variable", deps, line: lineOf(p.key), render: () => emitExpr(`const ${names.get(p.key.value).ident} = `, code, lineOf(p.key), ";") });
  }
  for (const p of pairs(section("resources")?.value)) {
    const name = p.key.value;
    const line = lineOf(p.key);
    const spec = new Map(pairs(p.value).map((q) => [q.key.value, q]));
    for (const key of spec.keys()) {
      if (!["type", "properties", "options", "get", "defaultProvider"].includes(key)) throw new TranslationError(lineOf(spec.get(key).key), `unknown resource key \`${key}\``);
    }
    if (spec.has("get")) throw new TranslationError(lineOf(spec.get("get").key), "`get:` resources are not supported by the checker");
    const typeNode = spec.get("type")?.value;
    if (!typeNode) throw new TranslationError(line, `resource \`${name}\` has no type`);
    const resolved = resolveType(String(typeNode.value), knownTypes);
    if (!resolved) throw new TranslationError(lineOf(typeNode), `unknown resource type \`${typeNode.value}\` (not in @pulumi/aws)`);
    const deps = new Set();
    const props = spec.has("properties") ? expr(spec.get("properties").value, deps, 0) : "{}";
    const optionsNode = spec.get("options")?.value;
    for (const q of pairs(optionsNode)) {
      if (!OPTION_KEYS.has(q.key.value)) throw new TranslationError(lineOf(q.key), `unknown resource option \`${q.key.value}\``);
    }
    const opts = optionsNode ? expr(optionsNode, deps, 0) : "{}";
    deps.delete(name);
    nodes.set(name, {
      kind: "resource", deps, line,
      render: () => {
        emitExpr(`const ${names.get(name).ident} = new ${resolved.ts}(${JSON.stringify(name)}, `, props, lineOf(spec.has("properties") ? spec.get("properties").key : p.key), ", ");
        emitExpr("", opts, optionsNode ? lineOf(spec.get("options").key) : line, ");");
      },
    });
  }
  const state = new Map();
  const order = [];
  const visit = (name, path) => {
    if (state.get(name) === "done") return;
    if (state.get(name) === "active") {
      const cycle = path.slice(path.indexOf(name)).concat(name);
      throw new TranslationError(nodes.get(name).line, `dependency cycle: ${cycle.join(" → ")}`);
    }
    state.set(name, "active");
    for (const dep of nodes.get(name).deps) if (nodes.has(dep)) visit(dep, path.concat(name));
    state.set(name, "done");
    order.push(name);
  };
  for (const name of nodes.keys()) visit(name, []);
  for (const name of order) nodes.get(name).render();

  // --- outputs ---------------------------------------------------------------------------------
  for (const p of pairs(section("outputs")?.value)) {
    emitExpr(`export const ${jsKey(p.key.value).replace(/"/g, "")} = `, expr(p.value, new Set(), 0), lineOf(p.key), ";");
  }
  return { ts: lines.map((l) => l.text).join("\n") + "\n", lineMap: lines.map((l) => l.yamlLine), resourceCount: order.filter((n) => nodes.get(n).kind === "resource").length };
}
