// A real OpenID Connect provider for the sign-in tests (tests/accounts/test_oidc.py): the certified
// oidc-provider, on a free loopback port, with the accounts and the client the test hands it.
//
//   OIDC_TEST_CONFIG='{"clients": [{client_id, client_secret, redirect_uris}],
//                      "accounts": {"<login>": {"password": "...", "claims": {"email": ..., "email_verified": true}}}}'
//   node provider.js        -> prints one line {"issuer": "http://127.0.0.1:<port>"} once it answers
//
// Only the interaction (the provider's own sign-in page) is ours: a login form that checks the password
// of the account store, and consent given for the registered client without a screen, as a province's
// identity portal does for the services it has registered. Everything the relying party sees (discovery,
// authorization, PKCE, tokens, ID token signature, userinfo) is oidc-provider's.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import http from 'node:http';

import { Provider } from 'oidc-provider';

const config = JSON.parse(process.env.OIDC_TEST_CONFIG || '{}');
const accounts = config.accounts || {};

function signingKey() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: randomBytes(8).toString('hex'), alg: 'RS256', use: 'sig' };
}

function escape(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function loginPage(res, uid, message = '') {
  res.statusCode = message ? 401 : 200;
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.end(`<!doctype html><title>Test identity provider</title>
<form method="post" action="/interaction/${escape(uid)}/login">
  ${message ? `<p class="error">${escape(message)}</p>` : ''}
  <input name="login" autocomplete="username"> <input name="password" type="password">
  <button type="submit">Sign in</button>
</form>`);
}

async function readForm(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

const server = http.createServer();

server.listen(0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: config.clients || [],
    jwks: { keys: [signingKey()] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    async findAccount(ctx, id) {
      const account = accounts[id];
      if (!account) return undefined;
      return { accountId: id, claims: async () => ({ sub: id, ...account.claims }) };
    },
  });

  async function interaction(req, res, uid, action) {
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== uid) throw new Error('interaction mismatch');
    if (details.prompt.name === 'login') {
      if (action !== 'login') return loginPage(res, uid);
      const form = await readForm(req);
      const login = form.get('login') || '';
      const account = accounts[login];
      if (!account || account.password !== form.get('password')) return loginPage(res, uid, 'Wrong login or password');
      return provider.interactionFinished(req, res, { login: { accountId: login } }, { mergeWithLastSubmission: false });
    }
    if (details.prompt.name === 'consent') {
      const { grantId, session, params, prompt: { details: missing } } = details;
      const grant = grantId
        ? await provider.Grant.find(grantId)
        : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
      if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
      if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
      const result = { consent: { grantId: await grant.save() } };
      return provider.interactionFinished(req, res, result, { mergeWithLastSubmission: true });
    }
    res.statusCode = 501;
    return res.end(`prompt ${details.prompt.name} is not handled`);
  }

  const handle = provider.callback();
  server.on('request', (req, res) => {
    const match = /^\/interaction\/([\w-]+)(?:\/(login))?$/.exec(req.url.split('?')[0]);
    if (!match) return handle(req, res);
    return interaction(req, res, match[1], match[2]).catch((error) => {
      console.error(error);
      res.statusCode = 400;
      res.end(String(error.message));
    });
  });
  console.log(JSON.stringify({ issuer }));
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}
