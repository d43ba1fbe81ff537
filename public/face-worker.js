// The login page's face tracker, off the main thread (a module Web Worker).
//
// It downloads the tracker's wasm and the two tracking models listed in
// /pkg/face-manifest.json (made by the build, with each file's SHA-256 and size), reporting
// progress; verifies every file's SHA-256; keeps them in Cache Storage under their hash so
// a second visit starts at once; then tracks the camera frames the page sends, for the
// page's guidance. The evidence is whole camera frames the page grabs itself; liveness and
// identity are decided by the server, which measures them; nothing computed here is
// trusted.
//
// Messages in:  {type:'load'} | {type:'track', bitmap}
// Messages out: {type:'progress', loaded, total} | {type:'ready', cached}
//               | {type:'tracked', report} (JSON text) | {type:'error', message}
import init, { FaceTracker } from './pkg/tracker.js';

const CACHE_PREFIX = 'biopass-face-';
const CACHE = CACHE_PREFIX + 'v1';
let tracker = null;
let canvas = null;
let ctx = null;

// The Cache Storage key of a manifest entry: its path and content hash.
const keyOf = (entry) => new URL(`/${entry.path}?sha256=${entry.sha256}`, self.location.origin).href;

const hex = (buf) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, '0')).join('');

async function verified(bytes, entry) {
  const sum = hex(await crypto.subtle.digest('SHA-256', bytes));
  if (sum !== entry.sha256) throw new Error(`${entry.path} is damaged (SHA-256 mismatch)`);
  return bytes;
}

// A download that receives nothing for this long is abandoned and started again, up to
// DOWNLOAD_TRIES times in all; then the page is told the models could not be loaded.
const STALL_MS = 8000;
const DOWNLOAD_TRIES = 3;

// Downloads `entry`, reporting bytes as they come (and taking them back when a stalled try
// is abandoned); returns the chunks.
async function download(entry, onBytes) {
  for (let attempt = 1; ; attempt += 1) {
    const abort = new AbortController();
    let timer = null;
    const watch = () => { clearTimeout(timer); timer = setTimeout(() => abort.abort(), STALL_MS); };
    const parts = [];
    let size = 0;
    try {
      watch();
      const resp = await fetch(`/${entry.path}`, { cache: 'no-store', signal: abort.signal });
      if (!resp.ok) throw new Error(`${entry.path}: the server answered ${resp.status}`);
      const reader = resp.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return parts;
        watch();
        parts.push(value);
        size += value.length;
        onBytes(value.length);
      }
    } catch (e) {
      onBytes(-size);
      if (!abort.signal.aborted) throw e;
      if (attempt >= DOWNLOAD_TRIES) throw new Error(`${entry.path}: the download stalled ${DOWNLOAD_TRIES} times`);
      console.warn(`biopass: ${entry.path} stalled after ${size} bytes; downloading it again (try ${attempt + 1} of ${DOWNLOAD_TRIES})`);
    } finally {
      clearTimeout(timer);
    }
  }
}

// Downloads `entry` with progress, or takes it from the cache; returns its bytes.
async function obtain(cache, entry, onBytes) {
  const key = keyOf(entry);
  const hit = cache && (await cache.match(key));
  if (hit) {
    try {
      const bytes = await verified(await hit.arrayBuffer(), entry);
      onBytes(entry.bytes);
      return { bytes, cached: true };
    } catch {
      await cache.delete(key);
    }
  }
  const parts = await download(entry, onBytes);
  let size = 0;
  for (const p of parts) size += p.length;
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const p of parts) { bytes.set(p, at); at += p.length; }
  await verified(bytes.buffer, entry);
  if (cache) await cache.put(key, new Response(bytes, { headers: { 'content-type': 'application/octet-stream' } }));
  return { bytes: bytes.buffer, cached: false };
}

async function load() {
  const resp = await fetch('/pkg/face-manifest.json', { cache: 'no-store' });
  if (!resp.ok) throw new Error(`face manifest: the server answered ${resp.status}`);
  const manifest = await resp.json();
  const entries = [manifest.wasm, manifest.detect, manifest.landmark];
  const total = entries.reduce((n, e) => n + e.bytes, 0);
  let loaded = 0;
  let last = 0;
  const onBytes = (n) => {
    loaded += n;
    const now = performance.now();
    if (now - last > 50 || loaded >= total) { last = now; postMessage({ type: 'progress', loaded: Math.min(loaded, total), total }); }
  };
  // Cache Storage may be missing (e.g. some private modes): then download every time.
  let cache = null;
  try {
    cache = await caches.open(CACHE);
    for (const name of await caches.keys()) if (name.startsWith(CACHE_PREFIX) && name !== CACHE) await caches.delete(name);
  } catch { cache = null; }
  const [wasm, detect, landmark] = await Promise.all(entries.map((e) => obtain(cache, e, onBytes)));
  if (cache) {
    const keep = new Set(entries.map(keyOf));
    for (const req of await cache.keys()) if (!keep.has(req.url)) await cache.delete(req);
  }
  await init({ module_or_path: wasm.bytes });
  tracker = new FaceTracker(new Uint8Array(detect.bytes), new Uint8Array(landmark.bytes));
  return { cached: wasm.cached && detect.cached && landmark.cached };
}

function track(bitmap) {
  const { width, height } = bitmap;
  if (!canvas || canvas.width !== width || canvas.height !== height) {
    canvas = new OffscreenCanvas(width, height);
    ctx = canvas.getContext('2d', { willReadFrequently: true });
  }
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  const pixels = ctx.getImageData(0, 0, width, height).data;
  return tracker.track(pixels, width, height);
}

onmessage = async ({ data }) => {
  try {
    if (data.type === 'load') {
      postMessage({ type: 'ready', ...(await load()) });
    } else if (!tracker) {
      if (data.bitmap) data.bitmap.close();
      throw new Error('the face models are not loaded');
    } else if (data.type === 'track') {
      postMessage({ type: 'tracked', report: track(data.bitmap) });
    } else {
      throw new Error(`unknown request ${data.type}`);
    }
  } catch (e) {
    postMessage({ type: 'error', message: String(e && e.message ? e.message : e) });
  }
};
