// Face logins in headless Chromium with a fake camera, a login started by openid-client
// (PAR) in a fresh page, the page's `biopass:*` performance marks recorded in Node (they
// outlive the redirect back to the application), and the code redeemed at the end.
//
// Two fake cameras:
// - a simulated person (`withPerson`): a head in front of the screen that does what the
//   page shows, so it can pass the light-and-distance check (see `simulatedPerson`);
// - Chromium's own fake camera playing a still video (`camera`, `withCamera`): a dark room,
//   two faces, no face. A still picture cannot respond to the screen, so it never passes.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import * as client from 'openid-client';
import { launch, open, saveRecoveryCodes } from './browser.mjs';

export const CALLBACK = 'https://rp.example.com/callback';
const CACHE = process.env.BIOPASS_CACHE || join(homedir(), '.cache/biopass');
export const VIDEO = join(CACHE, 'video');
/** The simulated people's renders (scripts/fixtures.sh: `livesynth scene`), one folder each. */
export const PEOPLE = join(CACHE, 'person');

/** Chromium flags for a camera that plays `name` from the fixtures (none for `null`). */
export const camera = (name) => ['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${join(VIDEO, name)}`];

/** A headless Chromium with the camera `video`. */
export const withCamera = (video) => launch(camera(video));

/** How strongly the screen lights the face: `out = img * (1 + K * mask * screen)`, linear. */
export const SCREEN_LIGHT = 0.35;
/**
 * How much wider the page draws an oval than the face it asks for (`OVAL_SCALE` of
 * `biopass_idp::guidance`): what a person learns from the page's guidance.
 */
export const OVAL_SCALE = 1.3;
/** How long the large oval is shown before the simulated person is close to the screen. */
export const COME_CLOSER_MS = 500;

/**
 * A simulated person in front of the camera, run in the page (a Playwright init script):
 * `navigator.mediaDevices.getUserMedia` answers with a 640x480 canvas stream that draws, at
 * every animation frame, a pre-rendered head chosen by what the page shows, read from the
 * DOM the way a person sees the screen:
 * - the oval (`.capture .oval`, where it is over the camera's picture `.capture video`, as
 *   shown: object-fit cover, mirrored when the video is): the `far` render while the
 *   first (small) oval is shown, the `near` render once an oval at least 1.3 times as wide
 *   has been shown for `comeCloserMs` (a jump, not a flat zoom: the renders have the
 *   perspective of the two distances); the render is moved so its face centre is at the
 *   oval's centre, and, when its face is not within 5 % of the size the oval asks for
 *   (the oval is `OVAL_SCALE` times the face's width), scaled just to that 5 % (by at
 *   most -15 % / +20 %: a step closer or back, where the perspective barely changes),
 *   since the challenge's ovals vary in size; told "Move back" or "Come closer" by the
 *   page's guidance (`#face-guidance`), it steps 4 % back or closer every 400 ms, within
 *   the same bounds; the picture's edge is repeated where the render leaves the frame;
 * - the colour filling the screen (the background of what is at the window's four
 *   corners): the render relit per pixel, in linear light, `out = img * (1 + k * mask *
 *   screen)`, where `mask` is the render's near-field light factor (about 1 on the face
 *   close to the screen, 0.04 on the wall behind).
 * `window.__person` shows what it does now (`render`, `screen`, `at`) and `log` its changes;
 * while a test sets `window.__person.away`, the person stays beside the oval.
 */
function simulatedPerson({ images, scene, k, comeCloserMs, faceInOval }) {
  if (!navigator.mediaDevices) return;
  const W = 640;
  const H = 480;
  const toLinear = new Float32Array(256);
  for (let v = 0; v < 256; v += 1) {
    const c = v / 255;
    toLinear[v] = c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }
  // Linear light back to sRGB bytes, through a table over 0..LUT_MAX.
  const LUT = 8192;
  const LUT_MAX = 2;
  const toSrgb = new Uint8ClampedArray(LUT + 1);
  for (let i = 0; i <= LUT; i += 1) {
    const v = Math.min(1, (i / LUT) * LUT_MAX);
    toSrgb[i] = Math.round(255 * (v <= 0.0031308 ? v * 12.92 : 1.055 * v ** (1 / 2.4) - 0.055));
  }
  const decode = async (b64) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const bitmap = await createImageBitmap(new Blob([bytes], { type: 'image/jpeg' }));
    const canvas = new OffscreenCanvas(W, H);
    const ctx = canvas.getContext('2d');
    ctx.drawImage(bitmap, 0, 0, W, H);
    return ctx.getImageData(0, 0, W, H).data;
  };
  let renders = null;
  const load = async () => {
    const out = {};
    for (const name of ['far', 'near']) {
      const [img, mask] = await Promise.all([decode(images[name]), decode(images[`${name}-mask`])]);
      const lin = new Float32Array(W * H * 3);
      const light = new Float32Array(W * H);
      for (let i = 0; i < W * H; i += 1) {
        for (let c = 0; c < 3; c += 1) lin[i * 3 + c] = toLinear[img[i * 4 + c]];
        light[i] = (mask[i * 4] / 255) * scene.mask_scale;
      }
      out[name] = { lin, light, centre: scene[name].face_centre, width: scene[name].face_width };
    }
    return out;
  };

  // What the person sees.
  const backgroundAt = (x, y) => {
    for (let el = document.elementFromPoint(x, y); el; el = el.parentElement) {
      const m = getComputedStyle(el).backgroundColor.match(/rgba?\(([\d.]+),?\s*([\d.]+),?\s*([\d.]+)(?:\s*[,/]\s*([\d.]+))?/);
      if (m && (m[4] === undefined || Number(m[4]) > 0.5)) return [m[1], m[2], m[3]].map((v) => Math.round(Number(v)));
    }
    return [255, 255, 255];
  };
  const screenLight = () => {
    const [w, h] = [innerWidth, innerHeight];
    const points = [[2, 2], [w - 3, 2], [2, h - 3], [w - 3, h - 3]];
    const sum = [0, 0, 0];
    for (const [x, y] of points) backgroundAt(x, y).forEach((v, c) => { sum[c] += toLinear[v] / points.length; });
    return sum;
  };
  // The oval's centre and width in the camera's picture, or null when none is shown.
  const ovalSeen = () => {
    const oval = document.querySelector('.capture .oval');
    const video = document.querySelector('.capture video');
    if (!oval || !video || oval.getClientRects().length === 0) return null;
    const o = oval.getBoundingClientRect();
    const v = video.getBoundingClientRect();
    const scale = Math.max(v.width / W, v.height / H);
    let x = (o.left + o.width / 2 - (v.left + (v.width - W * scale) / 2)) / scale;
    const y = (o.top + o.height / 2 - (v.top + (v.height - H * scale) / 2)) / scale;
    if (new DOMMatrixReadOnly(getComputedStyle(video).transform === 'none' ? undefined : getComputedStyle(video).transform).a < 0) x = W - x;
    return { x, y, width: o.width / scale };
  };

  const AWAY_PX = 220;
  const state = { render: 'far', screen: null, at: null, away: false, log: [] };
  window.__person = state;
  let smallest = Infinity;
  let largeSince = null;
  const scales = { far: 1, near: 1 };
  // What the person did on the page's guidance, on top of fitting the oval by eye.
  const steps = { far: 1, near: 1 };
  const STEP_MS = 400;
  let lastStep = 0;
  const choose = (now) => {
    const oval = ovalSeen();
    if (!oval) {
      smallest = Infinity;
      largeSince = null;
      scales.far = 1;
      scales.near = 1;
      steps.far = 1;
      steps.near = 1;
      return { name: 'far', at: null, width: null, large: false };
    }
    smallest = Math.min(smallest, oval.width);
    if (oval.width >= smallest * 1.3) largeSince ??= now;
    else largeSince = null;
    const large = largeSince !== null;
    return { name: large && now - largeSince >= comeCloserMs ? 'near' : 'far', at: [oval.x, oval.y], width: oval.width, large };
  };

  // The scale at which a face `width` wide fits one `target` wide the way a person fits
  // it: not at all when it is within FIT of it already, else just to FIT's edge, and never
  // beyond -15 % / +20 % (a step closer or back).
  const FIT = 0.05;
  const fitScale = (width, target) => {
    const ratio = width / target;
    const s = ratio > 1 + FIT ? (1 + FIT) / ratio : ratio < 1 - FIT ? (1 - FIT) / ratio : 1;
    return Math.round(100 * Math.min(1.2, Math.max(0.85, s))) / 100;
  };

  const draw = (ctx, frame, cache) => {
    const { name, at, width, large } = choose(performance.now());
    const screen = screenLight();
    const r = renders[name];
    // Where the face goes and how large: the oval's centre, and the face that fills it
    // (a person steps a little closer or back until it does; never by more than ~20 %).
    let [ax, ay] = at ? at.map(Math.round) : r.centre;
    // Not yet in front of the oval (the test holds the person there).
    if (state.away) ax += ax < W / 2 ? AWAY_PX : -AWAY_PX;
    // Only in the render's own oval: still at arm's length in the large one, the face keeps
    // its size there until the jump.
    const inOwnOval = width && name === (large ? 'near' : 'far');
    if (inOwnOval) {
      scales[name] = fitScale(r.width, width / faceInOval);
      // Told to move back or come closer, a person does, a little at a time.
      const told = document.querySelector('#face-guidance')?.textContent ?? '';
      const now = performance.now();
      const step = /Move back/.test(told) ? 0.96 : /Come (a little )?closer/.test(told) ? 1.04 : 1;
      if (step !== 1 && now - lastStep >= STEP_MS) {
        steps[name] *= step;
        lastStep = now;
      }
    }
    const scale = at ? Math.round(100 * Math.min(1.2, Math.max(0.85, scales[name] * steps[name]))) / 100 : 1;
    const place = `${name} ${ax} ${ay} ${scale}`;
    const key = `${place} ${screen.map((v) => v.toFixed(3)).join(' ')}`;
    if (key !== cache.key) {
      if (name !== state.render || String(at) !== String(state.at)) state.log.push({ t: Math.round(performance.now()), render: name, at: [ax, ay], scale });
      Object.assign(state, { render: name, screen, at, scale });
      // The head where it is now (linear light and the screen's reach, bilinear from the
      // render): computed when the head moves, not for every colour.
      if (place !== cache.place) {
        const { lin, light } = cache;
        for (let y = 0; y < H; y += 1) {
          const fy = Math.min(H - 1.001, Math.max(0, (y - ay) / scale + r.centre[1]));
          const y0 = Math.floor(fy);
          const wy = fy - y0;
          for (let x = 0; x < W; x += 1) {
            const fx = Math.min(W - 1.001, Math.max(0, (x - ax) / scale + r.centre[0]));
            const x0 = Math.floor(fx);
            const wx = fx - x0;
            const i = y0 * W + x0;
            const w00 = (1 - wx) * (1 - wy);
            const w10 = wx * (1 - wy);
            const w01 = (1 - wx) * wy;
            const w11 = wx * wy;
            const o = y * W + x;
            light[o] = w00 * r.light[i] + w10 * r.light[i + 1] + w01 * r.light[i + W] + w11 * r.light[i + W + 1];
            for (let c = 0; c < 3; c += 1) {
              lin[o * 3 + c] = w00 * r.lin[i * 3 + c] + w10 * r.lin[(i + 1) * 3 + c] + w01 * r.lin[(i + W) * 3 + c] + w11 * r.lin[(i + W + 1) * 3 + c];
            }
          }
        }
        cache.place = place;
      }
      // Relit by the screen: out = img * (1 + k * mask * screen), in linear light.
      const px = frame.data;
      const { lin, light } = cache;
      const gain = screen.map((v) => k * v);
      const toLut = LUT / LUT_MAX;
      for (let o = 0; o < W * H; o += 1) {
        const m = light[o];
        for (let c = 0; c < 3; c += 1) px[o * 4 + c] = toSrgb[Math.min(LUT, Math.round(lin[o * 3 + c] * (1 + gain[c] * m) * toLut))];
        px[o * 4 + 3] = 255;
      }
      cache.key = key;
    }
    ctx.putImageData(frame, 0, 0);
  };

  const original = navigator.mediaDevices.getUserMedia?.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = async (constraints) => {
    if (!constraints || !constraints.video) return original(constraints);
    renders ??= await load();
    const canvas = document.createElement('canvas');
    canvas.width = W;
    canvas.height = H;
    const ctx = canvas.getContext('2d');
    const frame = ctx.createImageData(W, H);
    const cache = { key: null, place: null, lin: new Float32Array(W * H * 3), light: new Float32Array(W * H) };
    draw(ctx, frame, cache);
    const stream = canvas.captureStream(30);
    const [track] = stream.getVideoTracks();
    const tick = () => {
      if (track.readyState === 'ended') return;
      draw(ctx, frame, cache);
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
    return stream;
  };
}

/**
 * The init script's argument for the simulated person `name` (a folder of `PEOPLE`);
 * `options` may change `k` (0: the screen's light does not reach the face) and
 * `comeCloserMs`.
 */
export function person(name, options = {}) {
  const dir = join(PEOPLE, name);
  const images = {};
  for (const f of ['far', 'near', 'far-mask', 'near-mask']) images[f] = readFileSync(join(dir, `${f}.jpg`)).toString('base64');
  return { images, scene: JSON.parse(readFileSync(join(dir, 'scene.json'), 'utf8')), k: SCREEN_LIGHT, comeCloserMs: COME_CLOSER_MS, faceInOval: OVAL_SCALE, ...options };
}

/** Puts the simulated person `name` (`options`: see `person`) in front of every page of `context`. */
export const addPerson = (context, name, options) => context.addInitScript(simulatedPerson, person(name, options));

/**
 * A headless Chromium where every new context (and so every `newPage`) has the simulated
 * person `name` (`options`: see `person`) in front of its camera.
 */
export async function withPerson(name, options) {
  const arg = person(name, options);
  const browser = await launch();
  const newContext = browser.newContext.bind(browser);
  browser.newContext = async (options) => {
    const context = await newContext(options);
    await context.addInitScript(simulatedPerson, arg);
    return context;
  };
  return browser;
}

/** The page's `biopass:*` marks as they happen: name -> [epoch ms]. */
export async function recordMarks(page) {
  const marks = new Map();
  await page.exposeBinding('__biopassMark', (_source, name, at) => {
    if (!marks.has(name)) marks.set(name, []);
    marks.get(name).push(at);
  });
  await page.addInitScript(() => {
    // Reported as each mark is made: a PerformanceObserver reports later, in another task,
    // and the page may have left for the application by then.
    const mark = performance.mark.bind(performance);
    performance.mark = (name, options) => {
      const entry = mark(name, options);
      if (name.startsWith('biopass:')) window.__biopassMark(name, performance.timeOrigin + entry.startTime);
      return entry;
    };
    // Navigation start, as the same clock.
    window.__biopassMark('biopass:navigation', performance.timeOrigin);
    // What the capture's step list shows as current, each time it changes (as
    // `step:{text}`), and how far the colours' progress bar went (`colours:{value}/{max}`).
    let shown = '';
    const watch = () => {
      const current = document.querySelector('.capture-steps [aria-current="step"]');
      const text = current ? `step:${current.textContent.trim()}` : '';
      if (text && text !== shown) window.__biopassMark(text, Date.now());
      shown = text;
      const bar = document.querySelector('#face-colours');
      if (bar) window.__biopassMark(`colours:${bar.getAttribute('value') ?? bar.value}/${bar.getAttribute('max') ?? bar.max}`, Date.now());
    };
    document.addEventListener('DOMContentLoaded', () => {
      new MutationObserver(watch).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
    });
  });
  return marks;
}

/**
 * Starts a login for `username` at the relying party `config` in a new page (of `context`,
 * or of a new context of `browser` with `contextOptions`). `arrived` resolves with the
 * epoch ms at which the browser came back to the application. With `worker`, a navigation
 * that fails says what it waited for and what the worker logged.
 */
export async function beginFaceLogin({ browser, context, config, username, contextOptions, worker }) {
  const verifier = client.randomPKCECodeVerifier();
  const nonce = client.randomNonce();
  const url = await client.buildAuthorizationUrlWithPAR(config, {
    redirect_uri: CALLBACK, scope: 'openid', nonce, login_hint: username,
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  context ??= await browser.newContext(contextOptions);
  const page = await context.newPage();
  const marks = await recordMarks(page);
  const show = (m) => {
    if ((m.type() === 'error' && !/status of (401|429)/.test(m.text())) || m.text().startsWith('biopass:')) console.log(`  [page] ${m.text()}`);
  };
  // Also what the face tracker's Web Worker says (a stalled download it starts again).
  page.on('console', show);
  let arrive;
  const arrived = new Promise((resolve) => { arrive = resolve; });
  // The relying party's callback is not on this machine: answer it here.
  await page.route(`${CALLBACK}**`, (route) => {
    arrive(Date.now());
    return route.fulfill({ status: 200, contentType: 'text/html', body: '<h1>back at the application</h1>' });
  });
  // The size of the evidence the page sends (the last one), to /face or /face/enrol.
  let evidence = 0;
  page.on('request', (r) => { if (r.method() === 'POST' && /\/api\/login\/[^/]+\/face(\/enrol)?$/.test(r.url())) evidence = r.postDataBuffer()?.length ?? 0; });
  await open(page, url.href, worker);
  return { page, context, verifier, nonce, marks, arrived, evidenceBytes: () => evidence };
}

/**
 * `grant` (a code redemption), or its failure with what the token endpoint answered
 * (openid-client keeps an answer it cannot read as an OAuth error in `cause`) and, given
 * the worker, its last log lines.
 */
export async function explained(grant, worker) {
  try {
    return await grant;
  } catch (e) {
    const answer = e.cause instanceof Response ? `: ${e.cause.status} ${await e.cause.text().catch(() => '')}` : '';
    const log = worker ? `\nworker log (whole: tests/out/wrangler-${worker.port}.log):\n${worker.output().split('\n').slice(-30).join('\n')}` : '';
    throw new Error(`${e.message}${answer}${log}`, { cause: e });
  }
}

/**
 * What the page and the simulated person were doing, for a failure's message: the
 * instruction, the last guidance, and the person's last moves.
 */
export async function pageState(page) {
  return page.evaluate(() => JSON.stringify({
    instruction: document.querySelector('#face-instruction')?.textContent,
    guidance: document.querySelector('#face-guidance')?.textContent,
    person: window.__person && { render: window.__person.render, at: window.__person.at, scale: window.__person.scale, log: window.__person.log.slice(-6) },
  })).catch((e) => `(page state unknown: ${e.message})`);
}

/**
 * Waits for the code at the callback and redeems it; returns the ID token's claims. Fails
 * at once, with what the page says, when the page shows a failure instead.
 */
export async function redeem(config, session, worker) {
  const { page, verifier, nonce } = session;
  const box = page.locator('.failure');
  const refused = box.waitFor({ timeout: 150_000 }).then(async () => `the page says: ${(await box.innerText()).replace(/\s+/g, ' ')}; ${await pageState(page)}`, () => null);
  // A first enrolment shows the recovery codes before going back: they are saved
  // (`session.recoveryCodes`), then the page goes on.
  const codes = page.locator('#recovery-codes');
  let codesFailed = null;
  codes.waitFor({ timeout: 150_000 }).then(async () => { session.recoveryCodes = await saveRecoveryCodes(page); }, () => {}).catch((e) => { codesFailed = e; });
  const arrived = page.waitForURL(`${CALLBACK}**`, { timeout: 150_000 }).then(() => null);
  const failed = await Promise.race([arrived, refused.then((m) => m ?? arrived)]);
  if (codesFailed) throw codesFailed;
  if (failed) throw new Error(failed);
  const grant = client.authorizationCodeGrant(config, new URL(page.url()), { pkceCodeVerifier: verifier, expectedNonce: nonce, idTokenExpected: true });
  return (await explained(grant, worker)).claims();
}
