import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { registryErrorText, invalidStatusText } from '../../core/registry/response-errors';
import { isTransientNetworkError, isTransientStatus, networkErrorText, requestErrorText } from '../../core/registry/http';

const errBody = (code: string, message: string) => JSON.stringify({ errors: [{ code, message, detail: null }] });

test('distribution error bodies read as podman prints them', () => {
  assert.is(registryErrorText(404, errBody('MANIFEST_UNKNOWN', 'manifest unknown')), 'manifest unknown: manifest unknown');
  assert.is(registryErrorText(404, errBody('NAME_UNKNOWN', 'repository name not known to registry')), 'name unknown: repository name not known to registry');
  assert.is(registryErrorText(401, errBody('UNAUTHORIZED', 'authentication required')), 'unauthorized: authentication required');
  assert.is(registryErrorText(404, errBody('BLOB_UNKNOWN', '')), 'blob unknown: blob unknown to registry');
  assert.is(registryErrorText(403, errBody('DENIED', 'requested access to the resource is denied')), 'denied: requested access to the resource is denied');
});

test('a bearer challenge with an error decides over the body', () => {
  const www = 'Bearer realm="http://t/token",service="s",scope="repository:private/x:pull",error="insufficient_scope"';
  assert.is(registryErrorText(401, errBody('UNAUTHORIZED', 'authentication required'), www), 'denied: requested access to the resource is denied');
  assert.is(registryErrorText(401, '', 'Bearer realm="r",error="invalid_token"'), 'unauthorized: authentication required');
  assert.is(registryErrorText(401, '', 'Bearer realm="r",error="invalid_token",error_description="token expired"'), 'unauthorized: token expired');
});

test('Docker Hub style {"details": ...} bodies', () => {
  assert.is(registryErrorText(401, '{"details":"incorrect username or password"}'), 'unauthorized: incorrect username or password');
  assert.is(registryErrorText(429, '{"details":"slow down"}'), 'toomanyrequests: slow down');
});

test('other bodies: short, one line, printable', () => {
  assert.is(registryErrorText(401, 'nope'), 'unauthorized: authentication required');
  assert.is(registryErrorText(404, '<html>\n<body>Not Found</body></html>'), 'StatusCode: 404, <html> <body>Not Found</body></html>');
  assert.is(registryErrorText(400, 'x'.repeat(80)), `StatusCode: 400, ${'x'.repeat(50)}...`);
  assert.is(registryErrorText(404, ''), 'StatusCode: 404, Not Found');
  assert.is(registryErrorText(500, 'boom'), 'received unexpected HTTP status: 500 Internal Server Error');
  assert.is(registryErrorText(404, errBody('MANIFEST_UNKNOWN', 'a\nb\u001b[31mred')), 'manifest unknown: a b [31mred');
  assert.is(registryErrorText(404, JSON.stringify({ errors: [{}] })), 'unknown: unknown error');
  assert.is(registryErrorText(404, JSON.stringify({ errors: 'x' })), 'StatusCode: 404, {"errors":"x"}');
  assert.is(invalidStatusText(404), 'invalid status code from registry 404 (Not Found)');
});

test('network errors in Go words', () => {
  const e = (props: Record<string, unknown>) => Object.assign(new Error('x'), props);
  assert.is(
    requestErrorText('GET', 'https://localhost:5999/v2/', e({ code: 'ECONNREFUSED', address: '127.0.0.1', port: 5999, syscall: 'connect' })),
    'Get "https://localhost:5999/v2/": dial tcp 127.0.0.1:5999: connect: connection refused',
  );
  assert.is(networkErrorText(e({ code: 'ECONNREFUSED', address: '::1', port: 5000 })), 'dial tcp [::1]:5000: connect: connection refused');
  assert.is(networkErrorText(e({ code: 'ENOTFOUND', hostname: 'nosuch.invalid', syscall: 'getaddrinfo' })), 'dial tcp: lookup nosuch.invalid: no such host');
  assert.is(networkErrorText(e({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' })), 'x509: certificate signed by unknown authority');
  assert.is(networkErrorText(e({ code: 'DEPTH_ZERO_SELF_SIGNED_CERT' })), 'x509: certificate signed by unknown authority');
  assert.is(networkErrorText(e({ code: 'CERT_HAS_EXPIRED' })), 'x509: certificate has expired or is not yet valid');
  assert.is(networkErrorText(e({ code: 'ERR_SSL_WRONG_VERSION_NUMBER' })), 'http: server gave HTTP response to HTTPS client');
  assert.is(networkErrorText(Object.assign(new Error('1234:error:0A00010B:SSL routines::wrong version number'), { code: 'EPROTO' })), 'http: server gave HTTP response to HTTPS client');
  assert.is(networkErrorText(e({ code: 'ECONNRESET' })), 'connection reset by peer');
  assert.is(requestErrorText('HEAD', 'http://h/x', e({ code: 'ETIMEDOUT' })), 'Head "http://h/x": i/o timeout');
});

test('what is worth another attempt', () => {
  for (const code of ['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'ERR_STREAM_PREMATURE_CLOSE']) {
    assert.ok(isTransientNetworkError(Object.assign(new Error('x'), { code })), code);
  }
  assert.ok(isTransientNetworkError(new Error('aborted')));
  assert.not.ok(isTransientNetworkError(Object.assign(new Error('x'), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' })));
  assert.not.ok(isTransientNetworkError(Object.assign(new Error('x'), { code: 'ENOTFOUND' })));
  assert.equal([200, 400, 401, 404, 408, 429, 500, 502, 503, 504, 505].filter(isTransientStatus), [408, 429, 500, 502, 503, 504]);
});

test.run();
