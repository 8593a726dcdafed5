// Fails when a module under src/ imports, directly or through others, a module that imports it
// back (type-only imports count too: a circle in the types is a circle in the design). The
// compiler's own resolver reads tsconfig.json, so every path resolves as `tsc` resolves it.
import path from "node:path";
import process from "node:process";
import ts from "typescript";

const root = path.resolve(import.meta.dirname, "..");
const src = path.join(root, "src") + path.sep;
const configFile = ts.findConfigFile(root, ts.sys.fileExists, "tsconfig.json");
const { config } = ts.readConfigFile(configFile, ts.sys.readFile);
const { options, fileNames } = ts.parseJsonConfigFileContent(config, ts.sys, root);

/** Each module of src/ and the modules of src/ it imports. */
const graph = new Map();
for (const file of fileNames.filter((name) => name.startsWith(src))) {
  const { importedFiles } = ts.preProcessFile(ts.sys.readFile(file), true, true);
  const targets = new Set();
  for (const { fileName } of importedFiles) {
    const resolved = ts.resolveModuleName(fileName, file, options, ts.sys).resolvedModule?.resolvedFileName;
    if (resolved?.startsWith(src)) targets.add(resolved);
  }
  graph.set(file, targets);
}

// Depth-first search; a grey module met again closes a circle.
const state = new Map();
const stack = [];
const circles = [];
function visit(file) {
  state.set(file, "grey");
  stack.push(file);
  for (const next of graph.get(file) ?? []) {
    if (state.get(next) === "grey") circles.push([...stack.slice(stack.indexOf(next)), next]);
    else if (!state.has(next)) visit(next);
  }
  stack.pop();
  state.set(file, "black");
}
for (const file of graph.keys()) if (!state.has(file)) visit(file);

const show = (file) => path.relative(root, file);
for (const circle of circles) console.error(`import circle: ${circle.map(show).join(" -> ")}`);
if (circles.length > 0) process.exit(1);
console.log(`no import circles among ${graph.size} modules of src/`);
