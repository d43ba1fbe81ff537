// Starts the SPA (a file of its own, not an inline script, so the page's
// Content-Security-Policy can allow scripts from this origin only).
import init from '/pkg/app.js';

init({ module_or_path: '/pkg/app_bg.wasm' });
