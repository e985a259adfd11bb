#!/usr/bin/env node
// A token server for the test registry on 127.0.0.1:5002, speaking Docker's token protocol:
//   GET /token?service=S&scope=repository:NAME:pull,push[&scope=...][&account=U]
//       optional Basic credentials; answers {"token", "access_token", "expires_in", "issued_at"}
//       with an RS256 JWT whose header carries the signing certificate (x5c), which the registry
//       verifies against its rootcertbundle (the test CA).
//   GET /healthz   200 when up
//   GET /issued    {"<account>|<scope>": count, ...}: how many tokens were issued per scope, so
//                  that tests can see the client's token cache at work
// Rights: tester / secret-pass may do anything; anonymous requests get `pull` on public/* only.
// Wrong credentials get 401 {"details": "incorrect username or password"}, as Docker Hub answers.
//
// usage: node token-server.js --listen 127.0.0.1:5003 --key KEY.pem --cert CERT.pem --issuer I --service S
'use strict';

const http = require('node:http');
const crypto = require('node:crypto');
const fs = require('node:fs');

const USERS = { tester: 'secret-pass' };
const LIFETIME_S = 300;

function args(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--') || argv[i + 1] === undefined) throw new Error(`bad argument ${argv[i]}`);
    out[argv[i].slice(2)] = argv[i + 1];
  }
  for (const k of ['listen', 'key', 'cert', 'issuer', 'service']) if (!out[k]) throw new Error(`--${k} is required`);
  return out;
}

const b64url = (buf) => Buffer.from(buf).toString('base64').replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');

/** `type:name:actions`; a name may not contain ':' in practice, but split from both ends anyway. */
function parseScope(s) {
  const first = s.indexOf(':');
  const last = s.lastIndexOf(':');
  if (first <= 0 || last === first) return undefined;
  return { type: s.slice(0, first), name: s.slice(first + 1, last), actions: s.slice(last + 1).split(',').filter(Boolean) };
}

function grant(scope, user) {
  if (user) return scope.actions;
  if (scope.type === 'repository' && scope.name.startsWith('public/')) return scope.actions.filter((a) => a === 'pull');
  return [];
}

/** The user of valid Basic credentials, '' for none, or undefined for wrong ones. */
function authenticate(header) {
  if (!header) return '';
  const m = /^Basic\s+(\S+)$/i.exec(header);
  if (!m) return undefined;
  const text = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon < 0) return undefined;
  const user = text.slice(0, colon);
  const pass = text.slice(colon + 1);
  return Object.prototype.hasOwnProperty.call(USERS, user) && USERS[user] === pass ? user : undefined;
}

function main() {
  const a = args(process.argv.slice(2));
  const key = crypto.createPrivateKey(fs.readFileSync(a.key));
  const certDer = new crypto.X509Certificate(fs.readFileSync(a.cert)).raw.toString('base64');
  const issued = {};

  const sign = (claims) => {
    const header = { typ: 'JWT', alg: 'RS256', x5c: [certDer] };
    const data = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    return `${data}.${b64url(crypto.sign('sha256', Buffer.from(data), key))}`;
  };

  const send = (res, status, body, headers = {}) => {
    res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://token');
    if (req.method !== 'GET') return send(res, 405, { details: 'method not allowed' });
    if (url.pathname === '/healthz') return send(res, 200, { ok: true });
    if (url.pathname === '/issued') return send(res, 200, issued);
    if (url.pathname !== '/token') return send(res, 404, { details: 'not found' });

    const user = authenticate(req.headers.authorization);
    if (user === undefined) {
      return send(res, 401, { details: 'incorrect username or password' }, { 'WWW-Authenticate': 'Basic realm="tspod-test-token"' });
    }
    const service = url.searchParams.get('service') || '';
    if (service !== a.service) return send(res, 400, { details: `unknown service "${service}"` });
    const access = [];
    for (const s of url.searchParams.getAll('scope')) {
      // Several scopes may come space-separated in one parameter.
      for (const one of s.split(' ').filter(Boolean)) {
        const scope = parseScope(one);
        if (!scope) return send(res, 400, { details: `invalid scope "${one}"` });
        access.push({ type: scope.type, name: scope.name, actions: grant(scope, user) });
        const k = `${user}|${one}`;
        issued[k] = (issued[k] || 0) + 1;
      }
    }
    const now = Math.floor(Date.now() / 1000);
    const token = sign({
      iss: a.issuer,
      sub: user,
      aud: service,
      exp: now + LIFETIME_S,
      nbf: now - 10,
      iat: now,
      jti: crypto.randomBytes(16).toString('hex'),
      access,
    });
    send(res, 200, { token, access_token: token, expires_in: LIFETIME_S, issued_at: new Date(now * 1000).toISOString() });
  });

  const colon = a.listen.lastIndexOf(':');
  server.listen(Number(a.listen.slice(colon + 1)), a.listen.slice(0, colon));
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main();
