// Serves the example app (amazon-cognito-identity-js). Run: COGNITO_USER_POOL_ID=...
// COGNITO_CLIENT_ID=... PORT=3000 [COGNITO_ENDPOINT=http://127.0.0.1:4599]
// [APP_URL=https://app.example.com] node examples/cognito-app/server.mjs
// The callback URL, APP_URL + /callback, must be an allowed callback URL of the Biopass
// application.
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startExample, main } from '../lib/server.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));

/** Starts the app; returns { url, close }. */
export const startApp = (options) => startExample(HERE, options);

await main(HERE, import.meta.url);
