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

globalThis.fetch = async function fetchThroughDevProxy(input, init) {
  // A body that is a stream cannot be sent twice: those requests go through as they are.
  const replayable = !(init?.body instanceof ReadableStream) && !(input instanceof Request && input.body);
  for (let attempt = 1; ; attempt += 1) {
    const response = await plain(input, init);
    if (!replayable || attempt > 2 || !(await dropped(response))) return response;
    const method = init?.method ?? (input instanceof Request ? input.method : 'GET');
    const url = input instanceof Request ? input.url : String(input);
    console.error(`wrangler dev's proxy dropped ${method} ${new URL(url).pathname} before the worker saw it; sending it again`);
  }
};
