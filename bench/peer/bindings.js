// The peer of bench/protocol.mjs with the provider's bindings (wrangler.bindings.toml): the
// same Worker (index.js) as its default export, beside an empty Durable Object class in the
// Vault's place, so that the runtime sets up what the provider's Worker needs (a KV namespace
// more, a Durable Object namespace of SQLite-backed objects, a service binding to the face
// service) while the code that answers stays the peer's. None of them is called.
import { DurableObject } from 'cloudflare:workers';
import peer from './index.js';

export default peer;

/** The provider's Vault's place: never called. */
export class Vault extends DurableObject {}
