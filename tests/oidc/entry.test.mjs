// The Workers' plain fetch entry (scripts/entry.mjs, applied by scripts/build.sh): the built
// provider and face service carry it, and the rewrite takes worker-build's shape and nothing
// else. The Workers answering through it is what every other end-to-end suite checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../lib/worker.mjs';
import { plainEntry } from '../../scripts/entry.mjs';

// worker-build 0.8.7's ending, minified, as in a build (names as esbuild gave them there).
const SHAPE = 'function tt(r,t,e){let n;c();try{n=i.fetch(r,t,e)}catch(_){s(_)}return n}'
  + 'var U=class extends vt{};U.prototype.fetch=function(t){return tt.call(this,t,this.env,this.ctx)};'
  + 'var z={construct(r,t,e){return Reflect.construct(r,t,e)}},Ft=new Proxy(U,z),At=new Proxy(j,z);'
  + 'export{At as Vault,Ft as default};';

test('the built provider and face service have the plain fetch entry', () => {
  for (const worker of ['edge-worker', 'face-service']) {
    const built = readFileSync(join(ROOT, worker, 'build/index.js'), 'utf8');
    assert.match(built, /=\{fetch\(request,env,ctx\)\{return [\w$]+\(request,env,ctx\)\}\}\/\*biopass: plain fetch entry\*\//, worker);
    assert.equal(plainEntry(built), built, `${worker}: rewritten once only`);
  }
});

test('the rewrite makes the default export a plain fetch entry and keeps every other export wrapped', () => {
  const out = plainEntry(SHAPE);
  assert.ok(out.includes('Ft={fetch(request,env,ctx){return tt(request,env,ctx)}}/*biopass: plain fetch entry*/'), out);
  assert.ok(out.includes('At=new Proxy(j,z)'), 'the Vault keeps its wrapper');
  assert.equal(out.replace('Ft={fetch(request,env,ctx){return tt(request,env,ctx)}}/*biopass: plain fetch entry*/', 'Ft=new Proxy(U,z)'), SHAPE, 'nothing else changed');
});

test('any other shape fails the build instead of being half rewritten', () => {
  const cases = {
    'another handler': SHAPE.replace('var z=', 'U.prototype.scheduled=function(t){return 0};var z='),
    'a fetch that is not the glue\'s': SHAPE.replace('return tt.call(this,t,this.env,this.ctx)', 'return tt.call(this,t,this.env)'),
    'a default that is not a Proxy': SHAPE.replace('Ft=new Proxy(U,z)', 'Ft=U'),
    'no default export': SHAPE.replace('Ft as default', 'Ft as Entry'),
  };
  for (const [what, source] of Object.entries(cases)) {
    assert.throws(() => plainEntry(source), /worker-build's output changed shape/, what);
  }
});
