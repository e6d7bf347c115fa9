import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { moduleSpecifier, runChildScript } from '../../test/helpers/child-script.js';

/**
 * A child process runs a tiny WebAssembly function hot (until V8 tiers it up, or 3 s), then reports whether V8 still runs it
 * as Liftoff code (V8's `%IsLiftoffFunction`, behind --allow-natives-syntax).
 */
function stillLiftoff(keep: boolean): boolean {
  return runChildScript<{ liftoff: boolean }>(
    `import { keepWasmOnBaseline } from ${moduleSpecifier('./wasm-baseline.ts', import.meta.url)};
${keep ? 'keepWasmOnBaseline();' : ''}
// (func (export "f") (param i32) (result i32) local.get 0 i32.const 1 i32.add)
const bytes = new Uint8Array([0,97,115,109,1,0,0,0,1,6,1,96,1,127,1,127,3,2,1,0,7,5,1,1,102,0,0,10,9,1,7,0,32,0,65,1,106,11]);
const { instance } = await WebAssembly.instantiate(bytes);
const f = instance.exports.f as (x: number) => number;
let x = f(0); // compiled (lazily) on its first call
// Hot until V8 tiers it up (it compiles the optimized code on a background thread) or for 3 s.
const t0 = Date.now();
while (eval('%IsLiftoffFunction(f)') && Date.now() - t0 < 3000) {
  for (let i = 0; i < 1e5; i++) x = f(x);
  await new Promise((r) => setTimeout(r, 5));
}
console.log(JSON.stringify({ liftoff: eval('%IsLiftoffFunction(f)'), x }));
`,
    { nodeFlags: ['--allow-natives-syntax'], timeoutMs: 30_000 },
  ).liftoff;
}

describe('keepWasmOnBaseline', () => {
  it('keeps a hot WebAssembly function on Liftoff, where V8 would tier it up', () => {
    assert.equal(stillLiftoff(false), false, 'without it V8 tiers the hot function up (the control)');
    assert.equal(stillLiftoff(true), true);
  });
});
