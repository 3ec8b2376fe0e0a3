// Runs a wasm32-wasip1 command module under node's WASI with the whole file
// system visible at `/` (the unit tests read the corpus by absolute path):
//   node tools/wasi-run.mjs program.wasm [args...]
// Exits with the module's exit code. `cargo xtask test` uses it to run the
// filter's unit tests inside wasm, where its simd128 code is compiled.
//
// node 20 sometimes crashes (SIGSEGV) after the program has finished: while
// unwinding out of the wasm stack when `proc_exit` is turned into an
// exception (`returnOnExit`), or while tearing down a V8 isolate that ran
// large wasm memories, even after `process.exit`. The tests passed, the run
// failed. So the program runs in a child node whose `proc_exit` reports the
// exit code on fd 3 and then kills the child with SIGKILL, with no unwinding
// and no teardown; this process exits with that code. A child that dies
// before reporting (a trap, an abort, a crash during the run) fails the run,
// except for a crash after libtest's "test result: ok." (see below).
import { spawnSync } from 'node:child_process';
import { writeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { WASI } from 'node:wasi';

const CHILD = 'IPF_WASI_RUN_CHILD';

if (process.env[CHILD] !== '1') {
  const child = spawnSync(
    process.execPath,
    [...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)],
    {
      stdio: ['inherit', 'pipe', 'inherit', 'pipe'],
      env: { ...process.env, [CHILD]: '1' },
      maxBuffer: 256 << 20,
    },
  );
  const stdout = child.output?.[1] ?? Buffer.alloc(0);
  writeSync(1, stdout);
  const reported = child.output?.[3]?.toString().trim();
  if (reported && /^\d+$/.test(reported)) {
    process.exit(Number(reported));
  }
  // The crash also strikes between the test harness's last line and
  // `proc_exit` (a SIGSEGV in V8's interpreter entry). When the harness got
  // as far as reporting that every test passed, the run passed.
  if (child.signal === 'SIGSEGV' && /^test result: ok\./m.test(stdout.toString())) {
    console.error('wasi-run: node crashed (SIGSEGV) after "test result: ok" (node 20 at exit); passed');
    process.exit(0);
  }
  console.error(
    `wasi-run: the program ended without an exit code (${
      child.error ?? (child.signal ? `signal ${child.signal}` : `status ${child.status}`)
    })`,
  );
  process.exit(child.status || 1);
}

const [, , program, ...args] = process.argv;
const wasi = new WASI({
  version: 'preview1',
  args: [program, ...args],
  env: process.env,
  preopens: { '/': '/' },
});
const module = await WebAssembly.compile(await readFile(program));
const imports = wasi.getImportObject();
// The program's output went out through WASI's synchronous writes: report
// the code and end at once (see above).
const finish = (code) => {
  writeSync(3, `${code}\n`);
  process.kill(process.pid, 'SIGKILL');
  // SIGKILL to oneself is delivered at once; never return into wasm.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
};
imports.wasi_snapshot_preview1.proc_exit = finish;
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
// A program whose `_start` returns without `proc_exit` exits with 0.
finish(wasi.start({ exports: { memory, _start } }) ?? 0);
