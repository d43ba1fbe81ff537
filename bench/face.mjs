// Benchmark of the login page's face step in headless Chromium with a fake camera (the
// simulated person A of tests/lib/facecam.mjs, who fits the ovals and is lit by the screen) against the worker under wrangler dev. N enrolments, then N face
// sign-ins in a fresh browser context each (nothing cached: the SPA, the tracker wasm and
// the models are downloaded) and N in one context (cached: Cache Storage and HTTP cache).
// Prints, for enrolments (nothing cached), Continue on the consent screen to camera-ready
// (the models load while the person reads), and per case, median and range:
//   - page load to camera-ready: navigation start to the first moment both the camera
//     plays and the tracker is loaded (models ready), i.e. when guidance can start;
//   - tracked frames per second during the challenge, beside the camera's own frame rate, and
//     the round trip of one frame (grab, post to the Web Worker, detect + landmarks, report);
//   - camera open to the worker's decision (the ovals, the colours, upload, the worker's
//     measures of the whole frames);
//   - last capture step to the code: the last evidence frame captured (the last colour) to
//     the browser arriving at the application's callback with the code (upload, the
//     worker's measures, redirect);
// and the sizes of what the login page loads (raw and gzipped), beside the download
// onnxruntime-web would need for the same two models (its wasm runtime + the same files).
//   node bench/face.mjs [runs=3]
import { readFileSync, statSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { newState, startWorker, ROOT } from '../tests/lib/worker.mjs';
import { beginFaceLogin, redeem, withPerson } from '../tests/lib/facecam.mjs';
import { createApp, relyingParty } from '../tests/face/helpers.mjs';

const RUNS = Number(process.argv[2] ?? 3);
const READING_MS = 3000;
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const fmt = (xs, unit, digits = 0) => `${median(xs).toFixed(digits)} ${unit} (${Math.min(...xs).toFixed(digits)}-${Math.max(...xs).toFixed(digits)}, n=${xs.length})`;

const state = newState();
const worker = await startWorker(state);
const browser = await withPerson('person-a');
try {
  const config = await relyingParty(worker, await createApp(worker, 'Bench'));
  const username = 'bench@example.com';
  // Enrolments, nothing cached: the consent screen is read for READING_MS (the models load
  // meanwhile), then Continue to camera-ready.
  const consentToReady = [];
  for (let i = 0; i < RUNS; i += 1) {
    const login = await beginFaceLogin({ browser, config, username: i === 0 ? username : `bench-${i}@example.com` });
    await login.page.getByRole('button', { name: /^Face/ }).click();
    await login.page.getByLabel(/I agree to .+ processing my face/).check();
    await new Promise((r) => setTimeout(r, READING_MS));
    const continued = Date.now();
    await login.page.getByRole('button', { name: 'Continue' }).click();
    await redeem(config, login);
    consentToReady.push(login.marks.get('biopass:camera-ready')[0] - continued);
    await login.context.close();
  }
  const one = async (context) => {
    const login = await beginFaceLogin({ browser, context, config, username });
    await login.page.locator('#face-instruction').waitFor();
    const camFps = await login.page.evaluate(() => document.querySelector('video').srcObject.getVideoTracks()[0].getSettings().frameRate);
    await redeem(config, login);
    const arrived = await login.arrived;
    const m = (name) => login.marks.get(name) ?? [];
    const [nav] = m('biopass:navigation');
    const [ready] = m('biopass:camera-ready');
    const [faceStart] = m('biopass:face-start');
    const [cameraOpen] = m('biopass:camera-open');
    const [last] = m('biopass:last-step');
    const [decided] = m('biopass:face-decided');
    const tracked = m('biopass:tracked').filter((t) => t >= ready && t <= last);
    const grabs = m('biopass:grab').filter((t) => t >= ready && t <= last);
    const roundTrips = grabs.map((g, i) => tracked[i] - g).filter((d) => d >= 0);
    await login.page.close();
    return {
      load: ready - nav,
      toFaceStep: faceStart - nav,
      camera: cameraOpen - faceStart,
      modelsAfterCamera: ready - cameraOpen,
      fps: (tracked.length - 1) / ((tracked.at(-1) - tracked[0]) / 1000),
      roundTrip: roundTrips.reduce((a, b) => a + b, 0) / roundTrips.length,
      toCode: arrived - last,
      toDecision: decided - cameraOpen,
      camFps,
      evidenceKb: login.evidenceBytes() / 1000,
    };
  };
  const results = { uncached: [], cached: [] };
  for (let i = 0; i < RUNS; i += 1) {
    const context = await browser.newContext();
    results.uncached.push(await one(context));
    await context.close();
  }
  const warm = await browser.newContext();
  await one(warm); // fills the caches
  for (let i = 0; i < RUNS; i += 1) results.cached.push(await one(warm));

  console.log('\n==> face step in headless Chromium (2-core machine, worker under wrangler dev on the same machine)');
  console.log(`  enrolment: Continue on the consent screen (read for ${READING_MS / 1000} s) to camera-ready ${fmt(consentToReady, 'ms')}`);
  for (const [name, rs] of Object.entries(results)) {
    console.log(`  ${name.padEnd(8)} page load to camera-ready ${fmt(rs.map((r) => r.load), 'ms')}`);
    console.log(`  ${name.padEnd(8)}   of which: page and SPA start to the face step ${fmt(rs.map((r) => r.toFaceStep), 'ms')}; camera open ${fmt(rs.map((r) => r.camera), 'ms')}; models still loading after the camera ${fmt(rs.map((r) => r.modelsAfterCamera), 'ms')}`);
    console.log(`  ${name.padEnd(8)} tracked ${fmt(rs.map((r) => r.fps), 'frames/s', 1)}   reference: the camera delivers ${median(rs.map((r) => r.camFps))} frames/s (each new frame is tracked once)`);
    console.log(`  ${name.padEnd(8)} per frame: grab + Web Worker + detect + landmarks ${fmt(rs.map((r) => r.roundTrip), 'ms', 1)} = up to ${(1000 / median(rs.map((r) => r.roundTrip))).toFixed(0)} frames/s; reference: tract vs onnxruntime-web per tracking frame in scripts/bench-model.sh`);
    console.log(`  ${name.padEnd(8)} camera open to the worker's decision ${fmt(rs.map((r) => r.toDecision), 'ms')}`);
    console.log(`  ${name.padEnd(8)} last step to the code at the application ${fmt(rs.map((r) => r.toCode), 'ms')}, evidence sent ${fmt(rs.map((r) => r.evidenceKb), 'KB')}`);
  }
  const size = (path) => {
    const bytes = readFileSync(path);
    return { raw: bytes.length, gz: gzipSync(bytes, { level: 9 }).length };
  };
  const mb = ({ raw, gz }) => `${(raw / 1e6).toFixed(2)} MB raw / ${(gz / 1e6).toFixed(2)} MB gzipped`;
  const pub = (p) => join(ROOT, 'public', p);
  const app = size(pub('pkg/app_bg.wasm'));
  const tracker = size(pub('pkg/tracker_bg.wasm'));
  const models = [size(pub('models/fr_detect.onnx')), size(pub('models/fr_landmark.onnx'))].reduce((a, b) => ({ raw: a.raw + b.raw, gz: a.gz + b.gz }));
  const ortDir = dirname(createRequire(import.meta.url).resolve('onnxruntime-web'));
  const ortWasm = ['ort-wasm-simd-threaded.wasm', 'ort-wasm-simd.wasm'].map((f) => join(ortDir, f)).find((f) => { try { return statSync(f).isFile(); } catch { return false; } });
  console.log('\n==> what the login page downloads');
  console.log(`  SPA wasm (login + console)          ${mb(app)}`);
  console.log(`  face tracker wasm (tract, -O3)      ${mb(tracker)}`);
  console.log(`  tracking models (detect + landmark) ${mb(models)}`);
  console.log(`  login page wasm in all              ${mb({ raw: app.raw + tracker.raw, gz: app.gz + tracker.gz })}`);
  if (ortWasm) console.log(`  reference: onnxruntime-web's wasm   ${mb(size(ortWasm))} (${ortWasm.split('/').at(-1)}), plus the same models`);
} finally {
  await browser.close();
  await worker.stop();
  state.cleanup();
}
