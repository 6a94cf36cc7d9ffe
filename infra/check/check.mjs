// Offline checker for infra/Pulumi.yaml: translate to TypeScript (translate.mjs), then type-check
// against the pinned @pulumi/aws declarations with the TypeScript compiler, mapping every
// diagnostic back to a Pulumi.yaml line. Exit 0 when clean, 1 with the errors otherwise.
//   node check.mjs [path/to/Pulumi.yaml]
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { translate, TranslationError } from "./translate.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const awsRoot = path.join(here, "node_modules", "@pulumi", "aws");

/** Resource and function tokens the installed @pulumi/aws defines, read from its code. */
export function knownTokens() {
  const knownTypes = new Set();
  const knownInvokes = new Set();
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory() && entry.name !== "node_modules") walk(full);
      else if (entry.name.endsWith(".js")) {
        const text = fs.readFileSync(full, "utf8");
        for (const m of text.matchAll(/__pulumiType = '([^']+)'/g)) knownTypes.add(m[1]);
        for (const m of text.matchAll(/invoke(?:Output|SingleOutput)?\("(aws:[^"]+)"/g)) knownInvokes.add(m[1]);
      }
    }
  };
  walk(awsRoot);
  return { knownTypes, knownInvokes };
}

/**
 * Type-checks several translated programs in one compiler run (the @pulumi/aws declarations
 * are parsed once). Returns, per program, a list of "Pulumi.yaml:<line>: <message>" strings.
 */
export function typecheck(programs) {
  const dir = path.join(here, ".generated");
  fs.mkdirSync(dir, { recursive: true });
  const files = programs.map((p, i) => {
    const file = path.join(dir, `program-${i}.ts`);
    fs.writeFileSync(file, p.ts);
    return file;
  });
  const program = ts.createProgram(files, {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2020,
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    skipLibCheck: true,
    types: ["node"].filter((t) => fs.existsSync(path.join(here, "node_modules", "@types", t))),
  });
  return files.map((file, i) => {
    const source = program.getSourceFile(file);
    const diagnostics = [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)];
    return diagnostics.map((d) => {
      const tsLine = d.start === undefined ? 0 : source.getLineAndCharacterOfPosition(d.start).line;
      const yamlLine = programs[i].lineMap[tsLine] ?? 1;
      return `Pulumi.yaml:${yamlLine}: TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n  ")}`;
    });
  });
}

/** Translates and type-checks YAML texts; returns one error list per text. */
export function checkTexts(texts) {
  const tokens = knownTokens();
  const results = texts.map(() => []);
  const translated = [];
  texts.forEach((text, i) => {
    try {
      translated.push({ index: i, ...translate(text, tokens) });
    } catch (e) {
      if (!(e instanceof TranslationError)) throw e;
      results[i].push(e.message);
    }
  });
  const diagnostics = typecheck(translated);
  translated.forEach((t, j) => results[t.index].push(...diagnostics[j]));
  return results;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const file = process.argv[2] ?? path.join(here, "..", "Pulumi.yaml");
  const [errors] = checkTexts([fs.readFileSync(file, "utf8")]);
  if (errors.length) {
    for (const e of errors) console.error(e);
    console.error(`${errors.length} error(s) in ${file}`);
    process.exit(1);
  }
  const { resourceCount } = translate(fs.readFileSync(file, "utf8"), knownTokens());
  console.log(`${file}: ${resourceCount} resources translated and type-checked against @pulumi/aws`);
}
