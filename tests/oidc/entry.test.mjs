// The Workers' plain fetch entry (scripts/entry.mjs, applied by scripts/build.sh): the built
// provider and face service carry it, and the rewrite takes worker-build's shape and nothing
// else. The Workers answering through it is what every other end-to-end suite checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../lib/worker.mjs';
import { MARK, alone, plainEntry } from '../../scripts/entry.mjs';

// worker-build 0.8.7's shim, minified, in the shape of a build (with other names: esbuild's
// change from build to build, and `$` is one of them).
const SHAPE = 'var K=globalThis.__worker_init_state={criticalError:!1,instanceId:0};'
  + 'function tt(r,t,e){let n;c();try{n=i.fetch(r,t,e)}catch(_){s(_)}return n}'
  + 'var p=Z();function $(){p.criticalError&&(console.log("Reinitializing Wasm application"),C(),p.criticalError=!1,p.instanceId++)}'
  + 'addEventListener("error",r=>{J(r.error)});function J(r){r instanceof WebAssembly.RuntimeError&&(console.error("Critical",r),p.criticalError=!0)}'
  + 'var U=class extends vt{};U.prototype.fetch=function(t){return tt.call(this,t,this.env,this.ctx)};'
  + 'var z={construct(r,t,e){$();return Reflect.construct(r,t,e)}},Ft=new Proxy(U,z),At=new Proxy(j,z);'
  + 'export{At as Vault,Ft as default};';
const ENTRY = 'Ft={fetch(request,env,ctx){$();try{return tt(request,env,ctx)}catch(e){throw J(e),e}}}';

/** The definition of the default export of a built Worker, and its Vault's if it has one. */
function exportsOf(built) {
  const list = [...built.matchAll(/export\{([^}]*)\}/g)];
  assert.equal(list.length, 1, 'one export list');
  const names = Object.fromEntries(list[0][1].split(',').map((s) => s.trim().split(/\s+as\s+/).reverse()));
  const definition = (name) => {
    const at = built.search(new RegExp(`${alone(name)}=`));
    return at < 0 ? null : built.slice(at, at + 200);
  };
  return { entry: definition(names.default), vault: names.Vault ? definition(names.Vault) : null };
}

test('the built provider and face service export a plain fetch entry that keeps the wasm\'s reset checks', () => {
  for (const worker of ['edge-worker', 'face-service']) {
    const { entry, vault } = exportsOf(readFileSync(join(ROOT, worker, 'build/index.js'), 'utf8'));
    assert.match(entry, /^[\w$]+=\{fetch\(request,env,ctx\)\{[\w$]+\(\);try\{return [\w$]+\(request,env,ctx\)\}catch\(e\)\{throw [\w$]+\(e\),e\}\}\}\/\*biopass: plain fetch entry\*\//, worker);
    if (worker === 'edge-worker') assert.match(vault, /^[\w$]+=new Proxy\(/, 'the Vault keeps worker-build\'s wrapper');
  }
});

test('the rewrite makes the default export a plain fetch entry, calling worker-build\'s checks, and changes nothing else', () => {
  const out = plainEntry(SHAPE);
  assert.ok(out.includes(ENTRY + MARK), out);
  assert.equal(out.replace(ENTRY + MARK, 'Ft=new Proxy(U,z)'), SHAPE, 'nothing else changed');
  assert.equal(plainEntry(out), out, 'a second run changes nothing');
  // Were the mark lost, the rewritten entry is refused, not wrapped again.
  assert.throws(() => plainEntry(out.replace(MARK, '')), /worker-build's output changed shape/, 'no second rewrite');
  // `$$` in a replacement string would become `$`: the glue's fetch named so stays itself.
  const dollars = SHAPE.replaceAll('tt', () => '$$');
  assert.ok(plainEntry(dollars).includes('try{return $$(request,env,ctx)}'), 'a name with `$$` kept');
});

test('any other shape fails the build instead of being half rewritten', () => {
  const cases = {
    'another handler': SHAPE.replace('var z=', 'U.prototype.scheduled=function(t){return 0};var z='),
    'a fetch that is not the glue\'s': SHAPE.replace('return tt.call(this,t,this.env,this.ctx)', 'return tt.call(this,t,this.env)'),
    'a default that is not a Proxy': SHAPE.replace('Ft=new Proxy(U,z)', 'Ft=U'),
    'no default export': SHAPE.replace('Ft as default', 'Ft as Entry'),
    'no reset check': SHAPE.replace('console.log("Reinitializing Wasm application"),', ''),
    'no check that marks a trap': SHAPE.replace('r instanceof WebAssembly.RuntimeError&&', ''),
  };
  for (const [what, source] of Object.entries(cases)) {
    assert.throws(() => plainEntry(source), /worker-build's output changed shape/, what);
  }
});
