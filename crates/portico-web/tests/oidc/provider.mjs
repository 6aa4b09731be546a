// A real OpenID Connect provider for the SSO tests: node-oidc-provider (OpenID Certified),
// started by the test harness on 127.0.0.1 only.
//
//   node provider.mjs <port> <redirect_uri>...
//
// Accounts are e-mail addresses: the authorization request's `login_hint` names who signs in
// (the test adds it, as a person typing their address at the provider would), and consent is
// given at once. An address starting `unverified.` has `email_verified: false`.
//
// A small front on <port> passes every request to the provider and, when the test asks
// (`POST /__tamper?mode=aud|signature|expired`), spoils the next ID token the token endpoint
// hands out: another audience or an expired token, re-signed with the provider's own key, or a
// broken signature. It prints `ready` once both listen.

import http from 'node:http';
import Provider from 'oidc-provider';
import * as jose from 'jose';

const [port, ...redirectUris] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;

const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
const signingJwk = { ...(await jose.exportJWK(privateKey)), kid: 'test-key-1', alg: 'RS256', use: 'sig' };

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'portico',
    client_secret: 'portico-test-secret',
    redirect_uris: redirectUris,
    response_types: ['code'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  jwks: { keys: [signingJwk] },
  pkce: { required: () => true },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  features: { devInteractions: { enabled: false } },
  cookies: { keys: ['portico-test-cookie-key'] },
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims() {
        return {
          sub: id,
          email: id.replace(/^unverified\./, ''),
          email_verified: !id.startsWith('unverified.'),
          name: id.split('@')[0],
        };
      },
    };
  },
  ttl: { IdToken: 3600, AccessToken: 3600, AuthorizationCode: 60, Interaction: 600, Session: 600, Grant: 600 },
});
provider.proxy = false;

// Interactions: consent is given at once; login is the hinted account (`login_hint`, as the
// HTTP tests send it) or, for a person in a browser, the address typed in a one-field form.
async function finishLogin(ctx, accountId) {
  await provider.interactionFinished(ctx.req, ctx.res, { login: { accountId } }, { mergeWithLastSubmission: false });
}

provider.use(async (ctx, next) => {
  const show = ctx.path.match(/^\/interaction\/([^/]+)$/);
  const typed = ctx.path.match(/^\/interaction\/([^/]+)\/login$/);
  if (!(show && ctx.method === 'GET') && !(typed && ctx.method === 'POST')) {
    return next();
  }
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  if (typed) {
    const body = await new Promise((resolve) => {
      let data = '';
      ctx.req.on('data', (c) => { data += c; });
      ctx.req.on('end', () => resolve(data));
    });
    const email = new URLSearchParams(body).get('email') || '';
    return finishLogin(ctx, email.trim());
  }
  if (details.prompt.name === 'consent') {
    const grant = new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
    grant.addOIDCScope(details.params.scope);
    await provider.interactionFinished(ctx.req, ctx.res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
    return undefined;
  }
  if (details.params.login_hint) {
    return finishLogin(ctx, details.params.login_hint);
  }
  ctx.type = 'html';
  ctx.body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Test IdP</title></head>
<body><main><h1>Test IdP</h1><form method="post" action="/interaction/${details.uid}/login">
<label for="email">E-mail address</label> <input id="email" name="email" type="email" required>
<button type="submit">Sign in</button></form></main></body></html>`;
  return undefined;
});

const inner = http.createServer(provider.callback());
await new Promise((resolve) => inner.listen(0, '127.0.0.1', resolve));
const innerPort = inner.address().port;

let tamper = null;

async function spoil(idToken) {
  const mode = tamper;
  tamper = null;
  if (mode === 'signature') {
    const [h, p, s] = idToken.split('.');
    const bytes = Buffer.from(s, 'base64url');
    bytes[0] ^= 0xff;
    return `${h}.${p}.${bytes.toString('base64url')}`;
  }
  const claims = jose.decodeJwt(idToken);
  const now = Math.floor(Date.now() / 1000);
  if (mode === 'aud') {
    claims.aud = 'someone-else';
  } else if (mode === 'expired') {
    claims.iat = now - 7200;
    claims.exp = now - 3600;
  }
  return new jose.SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', kid: signingJwk.kid, typ: 'JWT' })
    .sign(privateKey);
}

const front = http.createServer((req, res) => {
  if (req.method === 'POST' && req.url.startsWith('/__tamper')) {
    tamper = new URL(req.url, issuer).searchParams.get('mode');
    res.writeHead(204).end();
    return;
  }
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const upstream = http.request({
      host: '127.0.0.1', port: innerPort, method: req.method, path: req.url, headers: req.headers,
    }, (up) => {
      const body = [];
      up.on('data', (c) => body.push(c));
      up.on('end', async () => {
        let out = Buffer.concat(body);
        const headers = { ...up.headers };
        if (tamper && req.url.startsWith('/token') && up.statusCode === 200) {
          const json = JSON.parse(out.toString());
          json.id_token = await spoil(json.id_token);
          out = Buffer.from(JSON.stringify(json));
          headers['content-length'] = String(out.length);
        }
        res.writeHead(up.statusCode, headers).end(out);
      });
    });
    upstream.on('error', (e) => { res.writeHead(502).end(String(e)); });
    upstream.end(Buffer.concat(chunks));
  });
});
front.listen(Number(port), '127.0.0.1', () => {
  process.stdout.write('ready\n');
});
