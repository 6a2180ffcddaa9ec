// Run exported functions of a wasm module under Node (which implements the
// legacy exception-handling instructions natively) and print the outcomes.
//
//   node node-check.mjs FILE.wasm FUNC [ARGS...]    one call, prints its outcome
//   node node-check.mjs FILE.wasm --expect FILE     every call listed in an
//                                                   expectations file, one
//                                                   line `FUNC ARGS => OUTCOME`
//
// Outcome: the results separated by spaces, `exception` for an uncaught wasm
// exception, `trap` for a trap. The optional import env.callback(n) calls the
// instance's own export `callback`(n), so exceptions cross a host frame.
import { readFileSync } from "node:fs";

const [wasmPath, ...rest] = process.argv.slice(2);
if (!wasmPath || rest.length === 0) {
  console.error("usage: node node-check.mjs FILE.wasm (FUNC ARGS... | --expect FILE)");
  process.exit(2);
}
const module = new WebAssembly.Module(readFileSync(wasmPath));
let instance;
const available = {
  env: { callback: (n) => instance.exports.callback(n) },
};
const imports = {};
for (const imp of WebAssembly.Module.imports(module)) {
  const value = available[imp.module]?.[imp.name];
  if (value === undefined) {
    console.error(`unsupported import ${imp.module}.${imp.name}`);
    process.exit(2);
  }
  (imports[imp.module] ??= {})[imp.name] = value;
}
instance = new WebAssembly.Instance(module, imports);

function call(name, args) {
  const f = instance.exports[name];
  if (typeof f !== "function") return `error: no export ${name}`;
  try {
    const r = f(...args.map(Number));
    if (r === undefined) return "";
    return Array.isArray(r) ? r.map(String).join(" ") : String(r);
  } catch (e) {
    if (e instanceof WebAssembly.Exception) return "exception";
    if (e instanceof WebAssembly.RuntimeError) return "trap";
    return `error: ${e}`;
  }
}

if (rest[0] === "--expect") {
  for (const line of readFileSync(rest[1], "utf8").split("\n")) {
    const t = line.trim();
    if (t === "" || t.startsWith("#")) continue;
    const [lhs] = t.split("=>");
    const [name, ...args] = lhs.trim().split(/\s+/);
    console.log(`${[name, ...args].join(" ")} => ${call(name, args)}`);
  }
} else {
  console.log(call(rest[0], rest.slice(1)));
}
