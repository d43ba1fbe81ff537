// Serves the benchmark page and its files on 127.0.0.1, runs it in headless Chromium
// (playwright-core, /usr/bin/chromium) and prints the result as JSON on stdout.
//   node tests/model/run-bench.mjs PKG_DIR MODELS_DIR REFERENCE_DIR [RUNS]
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const [pkg, models, reference, runs = '30'] = process.argv.slice(2);
if (!pkg || !models || !reference) {
  console.error('usage: run-bench.mjs PKG_DIR MODELS_DIR REFERENCE_DIR [RUNS]');
  process.exit(2);
}
const mounts = [
  ['/pkg/', pkg],
  ['/models/', models],
  ['/ref/', reference],
  ['/ort/', join(root, 'node_modules/onnxruntime-web/dist')],
  ['/', here],
];
const types = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm' };

const server = createServer(async (req, res) => {
  const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  const [prefix, dir] = mounts.find(([p]) => path.startsWith(p));
  const file = normalize(join(dir, path.slice(prefix.length)));
  if (!file.startsWith(normalize(dir))) { res.writeHead(403).end(); return; }
  try {
    const body = await readFile(file);
    res.writeHead(200, { 'content-type': types[extname(file)] || 'application/octet-stream' }).end(body);
  } catch {
    res.writeHead(404).end();
  }
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const port = server.address().port;

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run'],
});
try {
  const page = await browser.newPage();
  page.on('console', (m) => console.error(`[page] ${m.text()}`));
  await page.goto(`http://127.0.0.1:${port}/bench.html?runs=${runs}`);
  await page.waitForFunction(() => window.__bench || window.__benchError, null, { timeout: 900_000 });
  const error = await page.evaluate(() => window.__benchError);
  if (error) throw new Error(error);
  console.log(JSON.stringify(await page.evaluate(() => window.__bench)));
} finally {
  await browser.close();
  server.close();
}
