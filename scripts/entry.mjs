// Gives a Worker built by worker-build 0.8 (edge-worker/build/index.js, face-service's) a
// plain fetch entry: `export default { fetch }`, where worker-build exports a WorkerEntrypoint
// class wrapped in a Proxy.
//
// Why: the runtime constructs a class entry for every request, and worker-build's Proxy then
// wraps the new instance and its `fetch` in two more Proxies. For the fetch entry all that
// does is call two functions of worker-build's around the glue's fetch: before it, the check
// that starts the wasm afresh when a trap marked it broken (`checkReinitialize`), and on a
// throw, the check that marks it so (`handleMaybeCritical`). The plain entry calls the same
// two, and costs 0.005-0.055 ms of CPU less per request on a metadata GET, where the provider's
// own code costs 0.025-0.055 ms above a Worker that does nothing (README, "Protocol cost"). Every other export (the Vault
// class) keeps worker-build's wrapper, which re-creates its objects after such a start.
//
// The build is minified, so each piece is found by its shape: the binding exported as default
// is `X=new Proxy(C,hooks)`; C's only handler is `C.prototype.fetch=function(r){return
// f.call(this,r,this.env,this.ctx)}`; the two checks are the functions that read and set
// `criticalError` as worker-build's shim.js writes them. Anything else fails the build with a
// message, rather than leaving a Worker half changed.
//   node scripts/entry.mjs FILE
import { readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

export const MARK = '/*biopass: plain fetch entry*/';
const id = '[A-Za-z_$][\\w$]*';
/** `name` as a regular expression that matches it alone (not inside a longer name or after a dot). */
export const alone = (name) => `(?<![\\w$.])${name.replace(/[$]/g, '\\$')}(?![\\w$])`;
const once = (source, re, what) => {
  const found = [...source.matchAll(new RegExp(re, 'g'))];
  if (found.length !== 1) fail(`${what} (found ${found.length})`);
  return found[0];
};
const fail = (what) => {
  throw new Error(`scripts/entry.mjs: ${what}; worker-build's output changed shape (this script knows worker-build 0.8.7's)`);
};

/** The text of `source` with its default export made a plain fetch entry. */
export function plainEntry(source) {
  if (source.includes(MARK)) return source;
  const exported = once(source, 'export\\{([^}]*)\\}', 'not one export list')[1];
  const def = exported.split(',').map((s) => s.trim().split(/\s+as\s+/)).find(([, as]) => as === 'default')?.[0];
  if (!def) fail('no default export');
  const [wrapped, cls] = once(source, `${alone(def)}=new Proxy\\((${id}),(${id})\\)`, `the default export ${def} is not one Proxy of a class`);
  const handlers = [...source.matchAll(new RegExp(`${alone(cls)}\\.prototype\\.(${id})=`, 'g'))].map((m) => m[1]);
  if (handlers.length !== 1 || handlers[0] !== 'fetch') fail(`the entry class has handlers ${JSON.stringify(handlers)}, not fetch alone`);
  const glueFetch = once(source, `${alone(cls)}\\.prototype\\.fetch=function\\((${id})\\)\\{return (${id})\\.call\\(this,\\1,this\\.env,this\\.ctx\\)\\}`, 'the entry\'s fetch is not one call of the glue\'s fetch')[2];
  // checkReinitialize: `function R(){S.criticalError&&(console.log("Reinitializing Wasm application"),…)}`
  const reinit = once(source, `function (${id})\\(\\)\\{${id}\\.criticalError&&\\(console\\.log\\("Reinitializing Wasm application"\\)`, 'no one check that starts the wasm afresh')[1];
  // handleMaybeCritical: `function H(e){e instanceof WebAssembly.RuntimeError&&(…criticalError=!0)}`
  const critical = once(source, `function (${id})\\((${id})\\)\\{\\2 instanceof WebAssembly\\.RuntimeError&&\\(console\\.error\\("Critical",\\2\\),${id}\\.criticalError=!0\\)\\}`, 'no one check that marks the wasm broken')[1];
  const entry = `${def}={fetch(request,env,ctx){${reinit}();try{return ${glueFetch}(request,env,ctx)}catch(e){throw ${critical}(e),e}}}${MARK}`;
  // A function, not a string: `$` is a name esbuild gives, and in a replacement string `$$` is `$`.
  return source.replace(wrapped, () => entry);
}

const invoked = process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
if (invoked) {
  const file = process.argv[2];
  if (!file) throw new Error('usage: node scripts/entry.mjs FILE');
  const out = plainEntry(readFileSync(file, 'utf8'));
  if (!out.includes(MARK)) throw new Error(`scripts/entry.mjs: ${file} was not rewritten`);
  writeFileSync(file, out);
}
