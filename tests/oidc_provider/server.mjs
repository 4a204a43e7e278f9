// A test-only OpenID Provider built on panva's oidc-provider (OpenID Certified), so that
// tests/test_oidc_provider.py can prove ehbox-webapp against software nobody here wrote.
//
// Two Provider instances in one process, mounted with Keycloak-like issuer paths:
//   http://127.0.0.1:<port>/auth/realms/healthcare   (the web login, refresh, token exchange)
//   http://127.0.0.1:<port>/auth/realms/M2M          (client credentials, token exchange)
//
// Start:  node server.mjs '{"appUrl": "http://127.0.0.1:5000"}'
//   (or APP_URL=... node server.mjs). Optional keys / env: port (PORT, default 0 = any free
//   port), clientId (CLIENT_ID), publicClientId (PUBLIC_CLIENT_ID), m2mClientId
//   (M2M_CLIENT_ID), audiences (AUDIENCES, comma separated: what token exchange may target),
//   accessTokenTtl (ACCESS_TOKEN_TTL, seconds).
// Prints one line `ready {"port": ..., "issuer": ..., "m2mIssuer": ...}` once listening;
// stops on SIGTERM / SIGINT.
//
// NOT FOR PRODUCTION: in-memory storage, throw-away keys, a login form without passwords,
// and the SSRF protection of outgoing fetches relaxed for loopback addresses (see `fetch`).

import { createServer } from 'node:http';
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';

import Provider, { errors } from 'oidc-provider';
import { createLocalJWKSet, jwtVerify } from 'jose';

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
// The resource server every access token of the realms is for, unless exchanged.
const DEFAULT_RESOURCE = 'urn:ehbox-webapp:ehbox';
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

// -- configuration ---------------------------------------------------------------------

function loadConfig() {
  const fromArg = process.argv[2] ? JSON.parse(process.argv[2]) : {};
  const env = process.env;
  const cfg = {
    host: '127.0.0.1',
    port: Number(env.PORT ?? 0),
    appUrl: env.APP_URL,
    clientId: env.CLIENT_ID ?? 'ehbox-webapp',
    publicClientId: env.PUBLIC_CLIENT_ID ?? 'ehbox-webapp-public',
    m2mClientId: env.M2M_CLIENT_ID ?? 'cbe-0899999949',
    audiences: (env.AUDIENCES ?? 'ehbox-api').split(',').filter(Boolean),
    accessTokenTtl: Number(env.ACCESS_TOKEN_TTL ?? 300),
    ...fromArg,
  };
  if (!cfg.appUrl) {
    throw new Error('appUrl (or APP_URL) is required: the base URL of the app under test');
  }
  cfg.appUrl = cfg.appUrl.replace(/\/+$/, '');
  return cfg;
}

// -- accounts --------------------------------------------------------------------------

// Users only this provider knows (not the sandbox's personas), so a test that sees their
// name in the app knows the login went through oidc-provider.
const USERS = new Map([
  ['dr-hanne', {
    sub: '5b0f7a2e-4c1d-4e8a-9f3b-6d2c1a0e9b71',
    name: 'Hanne Maes',
    given_name: 'Hanne',
    family_name: 'Maes',
    preferred_username: 'dr-hanne',
    locale: 'nl',
    ssin: '79021802145',
    userProfile: {
      lastName: 'Maes',
      firstName: 'Hanne',
      ssin: '79021802145',
      physician: { recognised: true, nihii11: '10987654321' },
    },
  }],
]);
const ACCOUNTS = new Map([...USERS.values()].map((user) => [user.sub, user]));

async function findAccount(ctx, id) {
  const user = ACCOUNTS.get(id);
  if (!user) return undefined;
  return {
    accountId: id,
    // `use` is "id_token" or "userinfo"; the claims are filtered by the granted scopes.
    async claims() {
      return structuredClone(user);
    },
  };
}

// -- keys ------------------------------------------------------------------------------

function signingKey() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  const kid = randomUUID();
  const publicJwk = { kty: jwk.kty, n: jwk.n, e: jwk.e, kid, use: 'sig', alg: 'RS256' };
  return { privateJwk: { ...jwk, kid, use: 'sig', alg: 'RS256' }, publicJwk };
}

// -- token exchange (RFC 8693) -----------------------------------------------------------

const TOKEN_EXCHANGE_PARAMS = [
  'audience', 'resource', 'scope', 'requested_token_type',
  'subject_token', 'subject_token_type', 'actor_token', 'actor_token_type',
];

function tokenExchangeHandler({ publicJwk, audiences, accessTokenTtl, exchangeFrom }) {
  const ownKeys = createLocalJWKSet({ keys: [publicJwk] });

  return async function tokenExchange(ctx) {
    // The framework has already authenticated the client (private_key_jwt) and checked
    // that `grant_types` allows this grant.
    const { params, client, provider } = ctx.oidc;
    if (!params.subject_token) {
      throw new errors.InvalidRequest("missing required parameter 'subject_token'");
    }
    if (params.subject_token_type !== ACCESS_TOKEN_TYPE) {
      throw new errors.InvalidRequest('unsupported subject_token_type');
    }
    if (params.requested_token_type && params.requested_token_type !== ACCESS_TOKEN_TYPE) {
      throw new errors.InvalidRequest('unsupported requested_token_type');
    }
    if (params.actor_token || params.actor_token_type) {
      throw new errors.InvalidRequest('actor tokens are not supported');
    }
    const requested = [params.audience ?? []].flat();
    if (requested.length !== 1) {
      throw new errors.InvalidTarget('exactly one audience must be requested');
    }
    const [audience] = requested;
    if (!audiences.includes(audience)) {
      throw new errors.InvalidTarget(`audience ${JSON.stringify(audience)} is not allowed`);
    }

    // The subject token must be a JWT access token this provider issued (its own key),
    // unexpired, and issued to a client whose tokens this client may exchange (itself; the
    // web app also takes the tokens of its public browser client, as in the sandbox).
    let subject;
    try {
      ({ payload: subject } = await jwtVerify(params.subject_token, ownKeys, {
        issuer: provider.issuer,
        typ: 'at+jwt',
        algorithms: ['RS256'],
      }));
    } catch (err) {
      throw new errors.InvalidGrant(`subject_token is invalid (${err.code ?? err.name})`);
    }
    if (!(exchangeFrom[client.clientId] ?? [client.clientId]).includes(subject.client_id)) {
      throw new errors.InvalidGrant('subject_token was issued to another client');
    }

    const at = new provider.AccessToken({
      // A user's token keeps its subject; a client-credentials token has no account and
      // the new token's `sub` is then the client id again.
      accountId: subject.sub !== subject.client_id ? subject.sub : undefined,
      client,
      gty: TOKEN_EXCHANGE,
    });
    at.resourceServer = new provider.ResourceServer(audience, {
      audience,
      scope: 'ehbox',
      accessTokenFormat: 'jwt',
      accessTokenTTL: accessTokenTtl,
    });
    const scopes = new Set(String(subject.scope ?? '').split(' ').filter(Boolean));
    at.scope = [...at.resourceServer.scopes].filter((s) => scopes.has(s)).join(' ') || undefined;
    ctx.oidc.entity('AccessToken', at);
    const value = await at.save();

    ctx.body = {
      access_token: value,
      issued_token_type: ACCESS_TOKEN_TYPE,
      token_type: 'Bearer',
      expires_in: at.expiration,
      ...(at.scope ? { scope: at.scope } : {}),
    };
  };
}

// -- the providers -----------------------------------------------------------------------

// TEST SERVER ONLY. oidc-provider 9 protects its outgoing fetches (here: the client's
// `jwks_uri`) against SSRF by refusing special-use addresses, loopback included. The app
// under test serves its JWKS on 127.0.0.1, so loopback URLs are fetched without that
// protection; every other URL keeps it. Never do this in a real deployment.
function fetchAllowingLoopback(url, options) {
  const { hostname } = new URL(url);
  if (LOOPBACK_HOSTS.has(hostname)) {
    delete options.dispatcher;
  }
  return globalThis.fetch(url, options);
}

// A logout confirmation page a test can parse: the submit button is inside the form.
async function logoutSource(ctx, form) {
  ctx.type = 'html';
  ctx.body = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>Sign out</title></head>
<body><h1>Sign out of ${ctx.oidc.client?.clientId ?? 'the realm'}?</h1>
${form.replace('</form>', '<button type="submit" name="logout" value="yes">Yes, sign me out</button></form>')}
</body></html>`;
}

function commonConfiguration({ realm, mount, key, cfg }) {
  return {
    jwks: { keys: [key.privateJwk] },
    findAccount,
    fetch: fetchAllowingLoopback,
    cookies: {
      keys: [randomBytes(32).toString('base64url')],
      // Two providers share the host (and the app too: cookies ignore ports).
      names: {
        session: `_op_session_${realm}`,
        interaction: `_op_interaction_${realm}`,
        resume: `_op_resume_${realm}`,
      },
    },
    routes: {
      // Keycloak's paths; the app finds them through discovery anyway.
      authorization: '/protocol/openid-connect/auth',
      token: '/protocol/openid-connect/token',
      jwks: '/protocol/openid-connect/certs',
      userinfo: '/protocol/openid-connect/userinfo',
      end_session: '/protocol/openid-connect/logout',
      revocation: '/protocol/openid-connect/revoke',
      introspection: '/protocol/openid-connect/token/introspect',
      pushed_authorization_request: '/protocol/openid-connect/ext/par/request',
    },
    responseTypes: ['code'],
    scopes: ['openid', 'offline_access', 'ehbox', 'profile'],
    claims: {
      acr: null,
      auth_time: null,
      iss: null,
      sid: null,
      openid: ['sub'],
      // eHealth's realms hand out the profile with the default client scopes; here the
      // `ehbox` scope (what the app asks for) releases it.
      ehbox: ['ssin', 'userProfile', 'name', 'given_name', 'family_name',
        'preferred_username', 'locale'],
      profile: ['name', 'given_name', 'family_name', 'preferred_username', 'locale'],
    },
    // The ID token carries the scope's claims itself (the app reads them there).
    conformIdTokenClaims: false,
    pkce: {
      // PKCE for every client, confidential ones included (v9 forces it for public ones
      // only by default). S256 is the only method oidc-provider 9 supports.
      required: () => true,
    },
    issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
    interactions: {
      url: async (ctx, interaction) => `${mount}/interaction/${interaction.uid}`,
    },
    features: {
      devInteractions: { enabled: false },
      backchannelLogout: { enabled: true },
      clientCredentials: { enabled: realm === 'M2M' },
      introspection: { enabled: true },
      revocation: { enabled: true },
      rpInitiatedLogout: { enabled: true, logoutSource },
      resourceIndicators: {
        enabled: true,
        defaultResource: async (ctx, client, oneOf) => oneOf ?? DEFAULT_RESOURCE,
        // Also at the token endpoint when the client sends no `resource`: the access
        // token is then a JWT for DEFAULT_RESOURCE (not an opaque userinfo-only token).
        useGrantedResource: async () => true,
        getResourceServerInfo: async (ctx, resourceIndicator, client) => {
          if (resourceIndicator !== DEFAULT_RESOURCE) {
            throw new errors.InvalidTarget();
          }
          return {
            scope: 'ehbox',
            audience: client.clientId,
            accessTokenFormat: 'jwt',
            accessTokenTTL: cfg.accessTokenTtl,
          };
        },
      },
    },
    ttl: {
      AccessToken: (ctx, token) => token.resourceServer?.accessTokenTTL ?? cfg.accessTokenTtl,
      ClientCredentials: (ctx, token) => token.resourceServer?.accessTokenTTL ?? cfg.accessTokenTtl,
      IdToken: 300,
      Interaction: 600,
      Session: 3600,
      Grant: 3600,
      RefreshToken: 3600,
    },
  };
}

function createProviders(cfg, origin) {
  const jwksUri = `${cfg.appUrl}/.well-known/jwks.json`;
  const realms = {};
  for (const realm of ['healthcare', 'M2M']) {
    const mount = `/auth/realms/${realm}`;
    const key = signingKey();
    const clients = realm === 'healthcare'
      ? [{
        client_id: cfg.clientId,
        client_name: 'ehbox-webapp (under test)',
        application_type: 'web',
        token_endpoint_auth_method: 'private_key_jwt',
        token_endpoint_auth_signing_alg: 'RS256',
        jwks_uri: jwksUri,
        redirect_uris: [`${cfg.appUrl}/auth/callback`],
        post_logout_redirect_uris: [`${cfg.appUrl}/`],
        backchannel_logout_uri: `${cfg.appUrl}/auth/backchannel-logout`,
        backchannel_logout_session_required: true,
        response_types: ['code'],
        grant_types: ['authorization_code', 'refresh_token', TOKEN_EXCHANGE],
        id_token_signed_response_alg: 'RS256',
        scope: 'openid offline_access ehbox profile',
      }, {
        // The browser's public PKCE client (/public-client/): no credentials at all.
        client_id: cfg.publicClientId,
        client_name: 'ehbox-webapp public client (under test)',
        application_type: 'web',
        token_endpoint_auth_method: 'none',
        redirect_uris: [`${cfg.appUrl}/public-client/`],
        post_logout_redirect_uris: [`${cfg.appUrl}/public-client/`],
        response_types: ['code'],
        grant_types: ['authorization_code'],
        id_token_signed_response_alg: 'RS256',
        scope: 'openid ehbox profile',
      }]
      : [{
        client_id: cfg.m2mClientId,
        client_name: 'the organisation (M2M, under test)',
        token_endpoint_auth_method: 'private_key_jwt',
        token_endpoint_auth_signing_alg: 'RS256',
        jwks_uri: jwksUri,
        redirect_uris: [],
        response_types: [],
        grant_types: ['client_credentials', TOKEN_EXCHANGE],
        scope: 'ehbox',
      }];
    const provider = new Provider(`${origin}${mount}`, {
      ...commonConfiguration({ realm, mount, key, cfg }),
      clients,
    });
    provider.registerGrantType(
      TOKEN_EXCHANGE,
      tokenExchangeHandler({
        ...cfg,
        publicJwk: key.publicJwk,
        exchangeFrom: { [cfg.clientId]: [cfg.clientId, cfg.publicClientId] },
      }),
      TOKEN_EXCHANGE_PARAMS,
      ['audience', 'resource'],
    );
    provider.on('server_error', (ctx, err) => console.error(`[${realm}] server_error`, err));
    // The tests read these lines: a back-channel logout the app refused is a failure.
    provider.on('backchannel.success', (ctx, client, accountId, sid) => {
      console.log(`[${realm}] backchannel.success ${client.clientId} sid=${sid}`);
    });
    provider.on('backchannel.error', (ctx, err, client, accountId, sid) => {
      console.log(`[${realm}] backchannel.error ${client.clientId} sid=${sid}: ${err.message}`);
    });
    realms[realm] = { mount, provider, callback: provider.callback() };
  }
  return realms;
}

// -- interactions (login + consent), driven by plain HTML forms ---------------------------

const htmlEscape = (value) => String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(res, status, title, body) {
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.end(`<!DOCTYPE html><html><head><meta charset="utf-8"><title>${htmlEscape(title)}</title></head>
<body><h1>${htmlEscape(title)}</h1>${body}</body></html>`);
}

async function readForm(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function loginForm(action, uid, error = '') {
  return `${error ? `<p class="error">${htmlEscape(error)}</p>` : ''}
<form method="post" action="${htmlEscape(action)}/login">
  <input type="hidden" name="uid" value="${htmlEscape(uid)}">
  <label>Username <input name="username" autofocus></label>
  <button type="submit">Sign in</button>
</form>`;
}

async function interaction(realm, req, res, uid, action) {
  const { provider, mount } = realm;
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) {
    return page(res, 400, 'Interaction mismatch', '<p>This sign-in page is out of date.</p>');
  }
  const base = `${mount}/interaction/${uid}`;
  const { prompt, params, session } = details;

  if (req.method === 'GET' && action === '') {
    if (prompt.name === 'login') {
      return page(res, 200, 'Sign in', loginForm(base, uid));
    }
    if (prompt.name === 'consent') {
      const scopes = details.prompt.details.missingOIDCScope ?? [];
      return page(res, 200, 'Authorize', `<p>${htmlEscape(params.client_id)} asks for: ${htmlEscape(scopes.join(' '))}</p>
<form method="post" action="${htmlEscape(base)}/confirm">
  <input type="hidden" name="uid" value="${htmlEscape(uid)}">
  <button type="submit" name="consent" value="yes">Allow</button>
</form>
<p><a href="${htmlEscape(base)}/abort">Cancel</a></p>`);
    }
    return page(res, 400, 'Unsupported prompt', `<p>${htmlEscape(prompt.name)}</p>`);
  }

  if (req.method === 'POST' && action === 'login') {
    const form = await readForm(req);
    if (prompt.name !== 'login') return page(res, 400, 'Not a login', '');
    const user = USERS.get(form.get('username') ?? '');
    if (!user) {
      return page(res, 200, 'Sign in', loginForm(base, uid, 'Unknown user.'));
    }
    return provider.interactionFinished(req, res, { login: { accountId: user.sub } }, {
      mergeWithLastSubmission: false,
    });
  }

  if (req.method === 'POST' && action === 'confirm') {
    await readForm(req);
    if (prompt.name !== 'consent') return page(res, 400, 'Not a consent', '');
    const missing = prompt.details;
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    const grantId = await grant.save();
    const consent = details.grantId ? {} : { grantId };
    return provider.interactionFinished(req, res, { consent }, { mergeWithLastSubmission: true });
  }

  if (req.method === 'GET' && action === 'abort') {
    return provider.interactionFinished(req, res, {
      error: 'access_denied',
      error_description: 'End-User aborted interaction',
    }, { mergeWithLastSubmission: false });
  }

  return page(res, 404, 'Not found', '');
}

// -- HTTP: prefix-stripping mount of both providers ------------------------------------------

function handler(realms) {
  const INTERACTION = /^\/interaction\/([A-Za-z0-9_-]+)(?:\/(login|confirm|abort))?\/?$/;
  return async (req, res) => {
    try {
      const path = req.url.split('?')[0];
      const realm = Object.values(realms).find(
        ({ mount }) => path === mount || path.startsWith(`${mount}/`),
      );
      if (!realm) {
        return page(res, 404, 'Not found', '<p>Realms: /auth/realms/healthcare, /auth/realms/M2M</p>');
      }
      const rest = req.url.slice(realm.mount.length) || '/';
      const match = INTERACTION.exec(rest.split('?')[0]);
      if (match) {
        return await interaction(realm, req, res, match[1], match[2] ?? '');
      }
      // What the docs' connect/express mounting does: the provider sees the path without
      // its prefix and learns the mount path from `req.originalUrl`, so discovery and every
      // endpoint URL come out as `<origin>/auth/realms/<realm>/...`.
      req.originalUrl = req.url;
      req.url = rest;
      return realm.callback(req, res);
    } catch (err) {
      if (err instanceof errors.SessionNotFound) {
        return page(res, 400, 'Sign-in expired', `<p>${htmlEscape(err.error_description ?? err.message)}</p>`);
      }
      console.error('[http] server_error', err);  // the tests fail on this line
      if (!res.headersSent) page(res, 500, 'Server error', '');
      else res.end();
    }
  };
}

// -- main ------------------------------------------------------------------------------------

const cfg = loadConfig();
const server = createServer();
server.listen(cfg.port, cfg.host, () => {
  const { port } = server.address();
  const origin = `http://${cfg.host}:${port}`;
  const realms = createProviders(cfg, origin);
  server.on('request', handler(realms));
  console.log(`ready ${JSON.stringify({
    port,
    issuer: realms.healthcare.provider.issuer,
    m2mIssuer: realms.M2M.provider.issuer,
  })}`);
});

function stop() {
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
