// Browser side of the face pipeline benchmark (driven by run-bench.mjs): tract compiled
// to wasm32 (simd128) against onnxruntime-web's wasm backend, one thread each, on the
// same tensors and the same frame. Timing is done here, the same way for both.
import init, { Bench } from '/pkg/wasm_bench.js';
import * as ort from '/ort/ort.wasm.min.mjs';

const params = new URLSearchParams(location.search);
const RUNS = Number(params.get('runs') || 30);
const KINDS = ['detect', 'landmark', 'liveness', 'feature'];
const SHAPES = {
  detect: [1, 3, 240, 320],
  landmark: [1, 1, 64, 64],
  liveness: [1, 3, 128, 128],
  feature: [1, 3, 112, 112],
};
const log = (m) => { document.getElementById('log').textContent += m + '\n'; };

async function bytes(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}
const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
async function time(fn, runs = RUNS) {
  // Warm-up: V8 runs new wasm code in its baseline tier first and optimises hot
  // functions later; measure the optimised code, for both runtimes alike.
  for (let i = 0; i < 5; i++) await fn();
  const t = [];
  for (let i = 0; i < runs; i++) {
    const s = performance.now();
    await fn();
    t.push(performance.now() - s);
  }
  return median(t);
}
async function once(fn) {
  const s = performance.now();
  const v = await fn();
  return [performance.now() - s, v];
}
const f32 = (u8) => new Float32Array(u8.buffer, u8.byteOffset, u8.byteLength / 4);

function parsePpm(buf) {
  let i = 0;
  const fields = [];
  while (fields.length < 4) {
    while (buf[i] <= 32) i++;
    let s = '';
    while (buf[i] > 32) s += String.fromCharCode(buf[i++]);
    fields.push(s);
  }
  const [w, h] = [Number(fields[1]), Number(fields[2])];
  const rgb = buf.subarray(i + 1);
  const rgba = new Uint8ClampedArray(w * h * 4);
  for (let p = 0, q = 0; p < w * h; p++) {
    rgba[q++] = rgb[3 * p]; rgba[q++] = rgb[3 * p + 1]; rgba[q++] = rgb[3 * p + 2]; rgba[q++] = 255;
  }
  return new ImageData(rgba, w, h);
}

/** sample1 cut to its central 4:3 part and drawn at 640x480, as a webcam frame. */
function webcamFrame(img) {
  const src = new OffscreenCanvas(img.width, img.height);
  src.getContext('2d').putImageData(img, 0, 0);
  const dst = new OffscreenCanvas(640, 480);
  const w = img.height * 4 / 3;
  dst.getContext('2d').drawImage(src, (img.width - w) / 2, 0, w, img.height, 0, 0, 640, 480);
  return new Uint8Array(dst.getContext('2d').getImageData(0, 0, 640, 480).data.buffer);
}

async function main() {
  const result = { runs: RUNS, tract: { load_ms: {}, infer_ms: {} }, ort: { load_ms: {}, infer_ms: {} }, max_abs_diff: {} };
  const [compileMs] = await once(() => init({ module_or_path: '/pkg/wasm_bench_bg.wasm' }));
  result.tract.init_ms = compileMs;
  const onnx = {};
  for (const k of KINDS) onnx[k] = await bytes(`/models/fr_${k}.onnx`);

  const bench = new Bench();
  for (const k of KINDS) [result.tract.load_ms[k]] = await once(() => bench.load(k, onnx[k]));

  ort.env.wasm.numThreads = 1;
  ort.env.wasm.wasmPaths = '/ort/';
  ort.env.logLevel = 'error';
  const opts = { executionProviders: ['wasm'], graphOptimizationLevel: 'all' };
  // The first session also instantiates onnxruntime's own wasm: time that apart.
  const [first] = await once(() => ort.InferenceSession.create(onnx.landmark, opts));
  const sessions = {};
  for (const k of KINDS) [result.ort.load_ms[k], sessions[k]] = await once(() => ort.InferenceSession.create(onnx[k], opts));
  result.ort.init_ms = first - result.ort.load_ms.landmark;

  const t = '/ref/tensors/';
  const inputs = {
    detect: f32(await bytes(t + 'sample1_detect.f32')),
    landmark: f32(await bytes(t + 'sample1_f0_landmark.f32')),
    liveness: new Float32Array(Bench.liveness_input(await bytes(t + 'sample1_f0_live.u8'))),
    feature: new Float32Array(Bench.feature_input(await bytes(t + 'sample1_f0_aligned.u8'))),
  };
  for (const k of KINDS) {
    const tensor = new ort.Tensor('float32', inputs[k], SHAPES[k]);
    const name = sessions[k].outputNames[k === 'detect' ? sessions[k].outputNames.indexOf('scores') : 0];
    const ours = bench.run(k, inputs[k]);
    const theirs = (await sessions[k].run({ input: tensor }))[name].data;
    let d = 0;
    for (let i = 0; i < ours.length; i++) d = Math.max(d, Math.abs(ours[i] - theirs[i]));
    result.max_abs_diff[k] = d;
    result.tract.infer_ms[k] = await time(() => bench.run(k, inputs[k]));
    result.ort.infer_ms[k] = await time(() => sessions[k].run({ input: tensor }));
    log(`${k}: tract ${result.tract.infer_ms[k].toFixed(2)} ms, ort ${result.ort.infer_ms[k].toFixed(2)} ms`);
  }

  const frame = webcamFrame(parsePpm(await bytes('/ref/sample1.ppm')));
  result.faces_in_frame = bench.set_frame(frame, 640, 480);
  result.tract.frame_ms = await time(() => bench.tracking_frame());
  result.frame_prepost_ms = await time(() => bench.tracking_prepost());
  result.tract.verify_ms = await time(() => bench.verification());
  result.verify_prepost_ms = await time(() => bench.verification_prepost());
  result.ort.frame_ms = result.ort.infer_ms.detect + result.ort.infer_ms.landmark + result.frame_prepost_ms;
  result.ort.verify_ms = result.ort.infer_ms.liveness + result.ort.infer_ms.feature + result.verify_prepost_ms;
  result.user_agent = navigator.userAgent;
  window.__bench = result;
}

main().catch((e) => { window.__benchError = String(e && e.stack || e); });
