// wrangler dev puts a proxy in front of the worker. When its connection to the worker's
// runtime fails before a request is delivered, it answers 503 "Your worker restarted
// mid-request" and retries only GET and HEAD itself (seen here after a request that loads
// the face models for the first time, ~9 s of CPU, while another suite loads the machine).
// This sends such a request again, at most twice, and says so on stderr. It cannot turn a
// failure of ours into a pass: a request the worker did process is not answered this way,
// and a one-time thing spent twice fails the second time (invalid_grant, 410).
const MARK = 'Your worker restarted mid-request';
const plain = globalThis.fetch;

async function dropped(response) {
  if (response.status !== 503) return false;
  return (await response.clone().text()).startsWith(MARK);
}

// The same proxy sometimes never answers one request at all (it loses a pooled connection
// when both ends' 5 s keep-alive timers fire together; cloudflare/workers-sdk#14641, seen
// once as a GET of the admin API left 300 s unanswered until the client gave up). A GET or
// HEAD of ours with no deadline of its own that has no answer in 60 s (none takes more than
// a few seconds) is sent again, once, and said so; a POST is never sent twice this way.
const UNANSWERED_MS = 60_000;

globalThis.fetch = async function fetchThroughDevProxy(input, init) {
  // A body that is a stream cannot be sent twice: those requests go through as they are.
  const replayable = !(init?.body instanceof ReadableStream) && !(input instanceof Request && input.body);
  const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
  const idempotent = (method === 'GET' || method === 'HEAD') && !init?.signal && !(input instanceof Request);
  for (let attempt = 1; ; attempt += 1) {
    let response;
    try {
      response = await plain(input, idempotent && attempt === 1 ? { ...init, signal: AbortSignal.timeout(UNANSWERED_MS) } : init);
    } catch (e) {
      if (!idempotent || attempt > 1 || e?.name !== 'TimeoutError') throw e;
      console.error(`wrangler dev's proxy left ${method} ${new URL(String(input)).pathname} unanswered for ${UNANSWERED_MS / 1000} s; sending it again`);
      continue;
    }
    if (!replayable || attempt > 2 || !(await dropped(response))) return response;
    const url = input instanceof Request ? input.url : String(input);
    console.error(`wrangler dev's proxy dropped ${method} ${new URL(url).pathname} before the worker saw it; sending it again`);
  }
};
