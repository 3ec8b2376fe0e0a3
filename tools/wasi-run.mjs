// Runs a wasm32-wasip1 command module under node's WASI with the whole file
// system visible at `/` (the unit tests read the corpus by absolute path):
//   node tools/wasi-run.mjs program.wasm [args...]
// Exits with the module's exit code. `cargo xtask test` uses it to run the
// filter's unit tests inside wasm, where its simd128 code is compiled.
import { readFile } from 'node:fs/promises';
import { WASI } from 'node:wasi';

const [, , program, ...args] = process.argv;
const wasi = new WASI({
  version: 'preview1',
  args: [program, ...args],
  env: process.env,
  preopens: { '/': '/' },
  returnOnExit: true,
});
const module = await WebAssembly.compile(await readFile(program));
const imports = wasi.getImportObject();
// The filter's proxy-wasm imports: the unit tests never call the host.
imports.env = {};
for (const i of WebAssembly.Module.imports(module)) {
  if (i.module === 'env' && i.kind === 'function') {
    imports.env[i.name] = () => {
      throw new Error(`host function ${i.name} called outside a proxy`);
    };
  }
}
const instance = await WebAssembly.instantiate(module, imports);
// Started as a command: `_start` (the filter also exports `_initialize`,
// which node's WASI refuses beside `_start`).
const { memory, _start } = instance.exports;
const code = wasi.start({ exports: { memory, _start } });
// Exit at once: tearing down a V8 isolate that ran large wasm memories has
// crashed node 20 here after the program had finished.
process.exit(code);
