// Serves one example app: its one page (at / and /callback), its script bundled by esbuild
// from src/app.js into dist/app.js (not committed), and its configuration as /config.json.
// Each example's server.mjs calls `startExample` with its own folder.
import { createServer } from 'node:http';
import { readFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** Bundles `dir`/src/app.js and what it imports into `dir`/dist/app.js. */
export async function bundle(dir) {
  const outfile = join(dir, 'dist', 'app.js');
  await mkdir(dirname(outfile), { recursive: true });
  await build({
    entryPoints: [join(dir, 'src', 'app.js')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    define: { global: 'globalThis' },
    outfile,
    logLevel: 'warning',
  });
  return outfile;
}

/**
 * Starts the example in `dir`; returns { url, close }. The callback URL, `url`/callback,
 * must be an allowed callback URL of the Biopass application.
 */
export async function startExample(dir, { port = 0, host = '127.0.0.1', userPoolId, clientId, endpoint, appUrl } = {}) {
  if (!userPoolId || !clientId) throw new Error('the user pool id and app client id are required');
  const [page, script] = await Promise.all([readFile(join(dir, 'index.html')), bundle(dir).then((f) => readFile(f))]);
  const server = createServer((req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    const send = (type, body) => {
      res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (path === '/' || path === '/callback') return send('text/html; charset=utf-8', page);
    if (path === '/app.js') return send('text/javascript; charset=utf-8', script);
    if (path === '/config.json') {
      return send('application/json', JSON.stringify({ userPoolId, clientId, endpoint, redirectUri: `${url}/callback` }));
    }
    res.writeHead(404).end();
  });
  await new Promise((resolve) => server.listen(port, host, resolve));
  const url = appUrl || `http://${host}:${server.address().port}`;
  return { url, close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }) };
}

/** Runs the example from the command line with the COGNITO_* variables, PORT and APP_URL. */
export async function main(dir, moduleUrl) {
  if (!process.argv[1] || fileURLToPath(moduleUrl) !== process.argv[1]) return;
  const app = await startExample(dir, {
    port: Number(process.env.PORT || 3000),
    userPoolId: process.env.COGNITO_USER_POOL_ID,
    clientId: process.env.COGNITO_CLIENT_ID,
    endpoint: process.env.COGNITO_ENDPOINT,
    appUrl: process.env.APP_URL,
  });
  console.log(`example app on ${app.url} (callback ${app.url}/callback)`);
}
