// Resident memory of wrangler dev's workerd for the provider and the peer of bench/protocol.mjs,
// started one at a time on the same machine: fresh (first answer plus 3 s), then after N
// metadata GETs, which touch no storage. Set-ups: the peer behind static assets
// (bench/peer/wrangler.assets.toml), the provider alone (wrangler.toml; its FACE binding
// unanswered, which discovery never calls) and the provider with the face service (how
// scripts/run and the tests start it). Each wrangler dev's workerd processes are summed.
// Vault objects are left out on purpose: under wrangler dev every object a sign-in opens
// lives in the same process, where on Cloudflare it runs apart from the Worker, so the
// bench/protocol.mjs figures after sign-ins say more about the local simulation than about
// the Worker.
//   node bench/memory.mjs [N=2000]   (after scripts/build.sh and npm ci --prefix bench/peer)
import { newState, startWorker, workerdRssMiB } from '../tests/lib/worker.mjs';
import { PEER_METADATA, startPeerDev } from './lib.mjs';

const N = Number(process.argv[2] ?? 2000);
if (!Number.isInteger(N) || N < 1) throw new Error('N must be a positive integer');

const settle = () => new Promise((r) => setTimeout(r, 3000));

/** `start()` gives `{ url, pgid, stop }`; its memory fresh and after N GETs of `path`. */
async function measure(name, start, path) {
  const running = await start();
  try {
    await settle();
    const fresh = workerdRssMiB(running.pgid);
    for (let i = 0; i < N; i++) {
      const r = await fetch(`${running.url}${path}`);
      if (!r.ok) throw new Error(`${name}: ${path} answered ${r.status}`);
      await r.text();
    }
    await settle();
    return { name, fresh, loaded: workerdRssMiB(running.pgid) };
  } finally {
    await running.stop();
  }
}

/** The provider under startWorker (`configs`: its default, or the provider's alone), its state removed when it stops. */
async function provider(configs) {
  const state = newState();
  try {
    const worker = await startWorker(state, { configs });
    return { url: worker.url, pgid: worker.pgid, stop: async () => { await worker.stop(); state.cleanup(); } };
  } catch (e) {
    state.cleanup();
    throw e;
  }
}

const rows = [
  await measure('peer+assets', () => startPeerDev('wrangler.assets.toml'), PEER_METADATA),
  await measure('Biopass provider alone', () => provider(['wrangler.toml']), '/.well-known/openid-configuration'),
  await measure('Biopass provider + face service', () => provider(), '/.well-known/openid-configuration'),
];
console.log(`\nResident memory of wrangler dev's workerd (MiB), fresh and after ${N} metadata GETs:`);
console.log('| set-up | fresh | after GETs | fresh / peer+assets |');
console.log('|---|---:|---:|---:|');
for (const r of rows) console.log(`| ${r.name} | ${r.fresh.toFixed(0)} | ${r.loaded.toFixed(0)} | ${(r.fresh / rows[0].fresh).toFixed(2)}x |`);
