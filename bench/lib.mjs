// What the benches share: the peer Worker of bench/peer under wrangler dev.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, freePorts } from '../tests/lib/worker.mjs';
import { startService } from '../tests/lib/service.mjs';

export const WRANGLER = join(ROOT, 'node_modules/.bin/wrangler');
export const PEER_DIR = join(ROOT, 'bench/peer');
/** The peer's metadata document (RFC 8414). */
export const PEER_METADATA = '/.well-known/oauth-authorization-server';

/**
 * Starts the peer (`config`: a wrangler config in bench/peer, or several, the peer's first,
 * for Workers run beside it in the same wrangler dev) under wrangler dev on
 * 127.0.0.1 with its own port and state, with the same flags and environment as
 * tests/lib/worker.mjs's startWorker; `vars`: further variables (name to text). Returns
 * `{ url, pgid, stop }`.
 */
export async function startPeerDev(config, vars = {}) {
  const [port, inspectorPort] = await freePorts(2);
  const url = `http://127.0.0.1:${port}`;
  const persist = mkdtempSync(join(tmpdir(), 'biopass-peer-'));
  mkdirSync(join(ROOT, 'tests/out'), { recursive: true });
  try {
    const service = await startService('peer wrangler dev', WRANGLER, [
      'dev', ...[config].flat().flatMap((c) => ['-c', c]), '--ip', '127.0.0.1', '--port', String(port),
      '--persist-to', persist,
      '--var', `ISSUER:${url}`, ...Object.entries(vars).flatMap(([k, v]) => ['--var', `${k}:${v}`]),
      '--inspector-port', String(inspectorPort),
      '--show-interactive-dev-session=false', '--log-level', process.env.BIOPASS_WORKER_LOG ?? 'info',
    ], {
      cwd: PEER_DIR,
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1', CLOUDFLARE_CF_FETCH_ENABLED: 'false' },
      healthUrl: `${url}${PEER_METADATA}`,
      logFile: join(ROOT, 'tests/out', `wrangler-peer-${port}.log`),
    });
    return { url, pgid: service.pgid, stop: async () => { await service.stop(); rmSync(persist, { recursive: true, force: true }); } };
  } catch (e) {
    rmSync(persist, { recursive: true, force: true });
    throw e;
  }
}
