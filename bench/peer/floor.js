// The floor of bench/protocol.mjs's discovery rows (PROTOCOL_FLOOR=1): a Worker that does
// nothing but answer every request with the same fixed document, the provider's metadata
// document as the bench read it at start (the variable DOC), with the provider's metadata
// headers. What it costs per request is the runtime's and wrangler dev's share, which every
// worker pays; a worker's CPU above it is its own code's.
const HEADERS = {
  'content-type': 'application/json',
  'cache-control': 'public, max-age=3600',
  'x-content-type-options': 'nosniff',
};

export default {
  fetch(request, env) {
    return new Response(env.DOC, { headers: HEADERS });
  },
};
