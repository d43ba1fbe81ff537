// Serves the example app: its one page (at / and /callback), the bundled script and its
// configuration. Run: COGNITO_USER_POOL_ID=... COGNITO_CLIENT_ID=... PORT=3000
// [COGNITO_ENDPOINT=http://127.0.0.1:4599] [APP_URL=https://app.example.com]
// node examples/cognito-app/server.mjs
// The callback URL, APP_URL + /callback, must be an allowed callback URL of the Biopass
// application.
import { createServer } from 'node:http';
import { readFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const HERE = dirname(fileURLToPath(import.meta.url));
const BUNDLE = join(HERE, 'dist', 'app.js');

/** Bundles src/app.js with amazon-cognito-identity-js into dist/app.js (not committed). */
export async function bundle() {
  await mkdir(dirname(BUNDLE), { recursive: true });
  await build({
    entryPoints: [join(HERE, 'src', 'app.js')],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    define: { global: 'globalThis' },
    outfile: BUNDLE,
    logLevel: 'warning',
  });
}

/** Starts the app; returns { url, close }. */
export async function startApp({ port = 0, host = '127.0.0.1', userPoolId, clientId, endpoint, appUrl } = {}) {
  if (!userPoolId || !clientId) throw new Error('the user pool id and app client id are required');
  await bundle();
  const [page, script] = await Promise.all([readFile(join(HERE, 'index.html')), readFile(BUNDLE)]);
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

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const app = await startApp({
    port: Number(process.env.PORT || 3000),
    userPoolId: process.env.COGNITO_USER_POOL_ID,
    clientId: process.env.COGNITO_CLIENT_ID,
    endpoint: process.env.COGNITO_ENDPOINT,
    appUrl: process.env.APP_URL,
  });
  console.log(`example app on ${app.url} (callback ${app.url}/callback)`);
}
