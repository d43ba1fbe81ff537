// Gives the provider Worker (edge-worker/build/index.js, as worker-build 0.8 writes it) a
// plain fetch entry: `export default { fetch }` calling the wasm's fetch through the glue,
// where worker-build exports a WorkerEntrypoint class wrapped in a Proxy.
//
// Why: the runtime constructs a class entry for every request, and worker-build's Proxy then
// wraps the new instance and its `fetch` in two more Proxies, to start the wasm afresh after
// a panic. The glue does that already on its own for every call into the wasm (wasm-bindgen's
// abort handler schedules a reset, and the next call makes a new instance before it runs), so
// for the fetch entry the wrapper only costs: 0.03-0.05 ms of CPU per request, more than half
// of what the provider's own code costs on a metadata GET (README, "Protocol cost"). The
// Vault class keeps its wrapper, which also re-creates the objects made before a reset.
//
// The build is minified, so the entry is found by its shape: the binding exported as default
// is `X=new Proxy(C,hooks)`, and C's only handler is `C.prototype.fetch=function(r){return
// f.call(this,r,this.env,this.ctx)}`. Anything else (another worker-build, another handler)
// fails the build with a message, rather than leaving a Worker half changed.
//   node scripts/entry.mjs FILE
import { readFileSync, writeFileSync } from 'node:fs';

const MARK = '/*biopass: plain fetch entry*/';
const id = '[A-Za-z_$][\\w$]*';
const esc = (s) => s.replace(/[$]/g, '\\$');

/** The text of `source` with its default export made a plain fetch entry. */
export function plainEntry(source) {
  if (source.includes(MARK)) return source;
  const fail = (what) => {
    throw new Error(`scripts/entry.mjs: ${what}; worker-build's output changed shape (this script knows worker-build 0.8.7's)`);
  };
  const exported = [...source.matchAll(new RegExp(`export\\{([^}]*)\\}`, 'g'))];
  if (exported.length !== 1) fail('no single export list');
  const def = exported[0][1].split(',').map((s) => s.trim().split(/\s+as\s+/)).find(([, as]) => as === 'default')?.[0];
  if (!def) fail('no default export');
  const wrapped = [...source.matchAll(new RegExp(`(?<![\\w$.])${esc(def)}=new Proxy\\((${id}),(${id})\\)`, 'g'))];
  if (wrapped.length !== 1) fail(`the default export ${def} is not one Proxy of a class`);
  const [whole, cls] = wrapped[0];
  const handlers = [...source.matchAll(new RegExp(`(?<![\\w$.])${esc(cls)}\\.prototype\\.(${id})=`, 'g'))].map((m) => m[1]);
  if (handlers.length !== 1 || handlers[0] !== 'fetch') fail(`the entry class has handlers ${JSON.stringify(handlers)}, not fetch alone`);
  const fetchOf = new RegExp(`(?<![\\w$.])${esc(cls)}\\.prototype\\.fetch=function\\((${id})\\)\\{return (${id})\\.call\\(this,\\1,this\\.env,this\\.ctx\\)\\}`);
  const handler = source.match(fetchOf);
  if (!handler) fail('the entry\'s fetch is not a call of the glue\'s fetch');
  const glueFetch = handler[2];
  return source.replace(whole, `${def}={fetch(request,env,ctx){return ${glueFetch}(request,env,ctx)}}${MARK}`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2];
  if (!file) throw new Error('usage: node scripts/entry.mjs FILE');
  writeFileSync(file, plainEntry(readFileSync(file, 'utf8')));
}
