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
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, freePort, workerdRssMiB } from '../tests/lib/worker.mjs';
import { startService } from '../tests/lib/service.mjs';

const N = Number(process.argv[2] ?? 2000);
if (!Number.isInteger(N) || N < 1) throw new Error('N must be a positive integer');
const WRANGLER = join(ROOT, 'node_modules/.bin/wrangler');

const settle = () => new Promise((r) => setTimeout(r, 3000));

async function measure(name, cwd, configs, path) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const persist = mkdtempSync(join(tmpdir(), 'biopass-memory-'));
  const service = await startService(`${name} wrangler dev`, WRANGLER, [
    'dev', ...configs.flatMap((c) => ['-c', c]), '--ip', '127.0.0.1', '--port', String(port),
    '--persist-to', persist, '--var', `ISSUER:${url}`, '--inspector-port', String(await freePort()),
    '--show-interactive-dev-session=false',
  ], {
    cwd,
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1', CLOUDFLARE_CF_FETCH_ENABLED: 'false' },
    healthUrl: `${url}${path}`,
    timeoutMs: 180_000,
  });
  try {
    await settle();
    const fresh = workerdRssMiB(service.pgid);
    for (let i = 0; i < N; i++) {
      const r = await fetch(`${url}${path}`);
      if (!r.ok) throw new Error(`${name}: ${path} answered ${r.status}`);
      await r.text();
    }
    await settle();
    return { name, fresh, loaded: workerdRssMiB(service.pgid) };
  } finally {
    await service.stop();
    rmSync(persist, { recursive: true, force: true });
  }
}

const rows = [
  await measure('peer+assets', join(ROOT, 'bench/peer'), ['wrangler.assets.toml'], '/.well-known/oauth-authorization-server'),
  await measure('Biopass provider alone', ROOT, ['wrangler.toml'], '/.well-known/openid-configuration'),
  await measure('Biopass provider + face service', ROOT, ['wrangler.toml', 'face-service/wrangler.toml'], '/.well-known/openid-configuration'),
];
console.log(`\nResident memory of wrangler dev's workerd (MiB), fresh and after ${N} metadata GETs:`);
console.log('| set-up | fresh | after GETs | fresh / peer+assets |');
console.log('|---|---:|---:|---:|');
for (const r of rows) console.log(`| ${r.name} | ${r.fresh.toFixed(0)} | ${r.loaded.toFixed(0)} | ${(r.fresh / rows[0].fresh).toFixed(2)}x |`);
