// The peer of bench/protocol.mjs: the smallest honest OAuth 2.1 provider on Cloudflare's
// @cloudflare/workers-oauth-provider, so Biopass's protocol endpoints can be measured next
// to a well-known Worker doing the same OAuth work. It signs nobody in: /authorize grants
// every valid request at once to one fixed user, with the scope asked for, and redirects to
// the client's redirect URI with a code. The library itself serves discovery
// (/.well-known/oauth-authorization-server), /token, RFC 7591 registration at /register
// (the bench registers one confidential client there, client_secret_basic) and guards
// /userinfo, which answers the user id from the grant's props. Its state is the KV
// namespace OAUTH_KV. ISSUER (a --var) is this worker's own origin: the library binds every
// access token to one canonical resource URL, and /userinfo must be under it.
import { OAuthProvider, AuthorizationError } from '@cloudflare/workers-oauth-provider';

const USER = 'bench-user';

const authorize = {
  async fetch(request, env) {
    if (new URL(request.url).pathname !== '/authorize') return new Response('not found', { status: 404 });
    let oauthRequest;
    try {
      oauthRequest = await env.OAUTH_PROVIDER.parseAuthRequest(request);
    } catch (e) {
      if (!(e instanceof AuthorizationError)) throw e;
      // Redirect only when the library validated the client's redirect URI.
      return e.redirectTo ? Response.redirect(e.redirectTo, 302) : new Response(`${e.code}: ${e.description}`, { status: 400 });
    }
    const { redirectTo } = await env.OAUTH_PROVIDER.completeAuthorization({
      request: oauthRequest,
      userId: USER,
      metadata: {},
      scope: oauthRequest.scope,
      props: { userId: USER },
      // The default revokes the user's earlier grants for this client (a KV list and a
      // delete per grant) and would spend codes made beforehand for one user; Biopass
      // does not revoke earlier codes or tokens at sign-in either.
      revokeExistingGrants: false,
    });
    return Response.redirect(redirectTo, 302);
  },
};

const userinfo = {
  async fetch(request, env, ctx) {
    return Response.json({ sub: ctx.props.userId });
  },
};

// The provider needs its resource URL at construction, and the port is known only at
// start (from env): one provider per isolate, made on the first request.
let provider;

export default {
  fetch(request, env, ctx) {
    provider ??= new OAuthProvider({
      authorizeEndpoint: '/authorize',
      tokenEndpoint: '/token',
      clientRegistrationEndpoint: '/register',
      scopesSupported: ['openid'],
      apiRoute: '/userinfo',
      apiHandler: userinfo,
      defaultHandler: authorize,
      resourceMetadata: { resource: `${env.ISSUER}/userinfo`, authorization_servers: [env.ISSUER] },
    });
    return provider.fetch(request, env, ctx);
  },
};
