import assert from 'node:assert/strict';
import { test } from 'node:test';
import { computeSignature, computeSignatureV11, signatureHeaders, signRequest, signRequestV11, verifyRequest, verifyRequestV11 } from './signature.ts';

const secret = 'a-very-long-secret-of-at-least-32-bytes!!';
const body = '{"ticket_id":"t1","result":true}';

test('signature matches an HMAC computed independently (openssl dgst -sha256 -hmac)', () => {
  assert.equal(computeSignature(secret, 1700000000, body), 'sha256=7d1d291379b5dbbacd841a36c519d318001cbe58d18f9cfa6960232eb3cb392d');
  assert.equal(computeSignature(secret, '1700000000', Buffer.from(body)), computeSignature(secret, 1700000000, body));
});

test('a signed request verifies; a changed body, secret or timestamp does not', () => {
  const now = 1_800_000_000;
  const headers = signRequest(secret, body, now);
  const timestamp = headers['x-ticketflow-timestamp'];
  const signature = headers['x-ticketflow-signature'];
  assert.deepEqual(verifyRequest({ secrets: [secret], timestamp, signature, rawBody: body, nowSeconds: now }), { ok: true });
  assert.deepEqual(verifyRequest({ secrets: [secret], timestamp, signature, rawBody: body + ' ', nowSeconds: now }), { ok: false, reason: 'bad_signature' });
  assert.deepEqual(verifyRequest({ secrets: ['x'.repeat(40)], timestamp, signature, rawBody: body, nowSeconds: now }), { ok: false, reason: 'bad_signature' });
  assert.deepEqual(verifyRequest({ secrets: [secret], timestamp: String(now + 1), signature, rawBody: body, nowSeconds: now }), { ok: false, reason: 'bad_signature' });
});

test('the previous secret is accepted during a rotation', () => {
  const now = 1_800_000_000;
  const old = 'o'.repeat(40);
  const h = signRequest(old, body, now);
  const input = { timestamp: h['x-ticketflow-timestamp'], signature: h['x-ticketflow-signature'], rawBody: body, nowSeconds: now };
  assert.deepEqual(verifyRequest({ ...input, secrets: [secret, old] }), { ok: true });
  assert.deepEqual(verifyRequest({ ...input, secrets: [secret, undefined] }), { ok: false, reason: 'bad_signature' });
});

test('stale, future, malformed and missing timestamps are refused', () => {
  const now = 1_800_000_000;
  for (const ts of [now - 301, now + 301]) {
    const h = signRequest(secret, body, ts);
    const r = verifyRequest({ secrets: [secret], timestamp: h['x-ticketflow-timestamp'], signature: h['x-ticketflow-signature'], rawBody: body, nowSeconds: now });
    assert.deepEqual(r, { ok: false, reason: 'stale_timestamp' });
  }
  const h = signRequest(secret, body, now - 300);
  assert.deepEqual(verifyRequest({ secrets: [secret], timestamp: h['x-ticketflow-timestamp'], signature: h['x-ticketflow-signature'], rawBody: body, nowSeconds: now }), { ok: true });
  assert.deepEqual(verifyRequest({ secrets: [secret], timestamp: '1e9', signature: 'sha256=00', rawBody: body, nowSeconds: now }), { ok: false, reason: 'stale_timestamp' });
  assert.deepEqual(verifyRequest({ secrets: [secret], timestamp: undefined, signature: 'x', rawBody: body }), { ok: false, reason: 'missing_signature' });
  assert.deepEqual(verifyRequest({ secrets: [secret], timestamp: String(now), signature: undefined, rawBody: body }), { ok: false, reason: 'missing_signature' });
});

const call = { method: 'POST', path: '/api/v1/callback/check', idempotencyKey: 't1:check', rawBody: body };

test('v1.1 matches an HMAC computed independently (openssl) over "v1.1\\n<ts>\\n<METHOD>\\n<path>\\n<key>\\n<sha256 of body>"', () => {
  assert.equal(computeSignatureV11(secret, 1700000000, call), 'sha256=784d79cdce0b822ebf2038e89250c2fca0bcb1f7334b12b8787113630f9f7a1f');
  assert.equal(computeSignatureV11(secret, '1700000000', { ...call, method: 'post', path: 'https://tf.example.com/api/v1/callback/check', rawBody: Buffer.from(body) }), computeSignatureV11(secret, 1700000000, call), 'a whole URL signs its path; the method is upper-cased');
});

test('a v1.1 signature is good for its own request only: not another path, method, Idempotency-Key, body, timestamp or secret', () => {
  const now = 1_800_000_000;
  const h = signatureHeaders(signRequestV11(secret, call, { nowSeconds: now }));
  const verify = (changes: Partial<Parameters<typeof verifyRequestV11>[0]>) => verifyRequestV11({ secrets: [secret], ...call, ...h, idempotencyKey: call.idempotencyKey, nowSeconds: now, ...changes });
  assert.deepEqual(verify({}), { ok: true });
  const bad = { ok: false, reason: 'bad_signature' };
  assert.deepEqual(verify({ path: '/api/v1/callback/execute' }), bad, 'a check callback replayed to the execute path');
  assert.deepEqual(verify({ path: '/api/v1/callback/check?x=1' }), bad);
  assert.deepEqual(verify({ method: 'PUT' }), bad);
  assert.deepEqual(verify({ idempotencyKey: 't1:execute' }), bad);
  assert.deepEqual(verify({ idempotencyKey: undefined }), bad);
  assert.deepEqual(verify({ rawBody: body + ' ' }), bad);
  assert.deepEqual(verify({ timestamp: String(now + 1) }), bad);
  assert.deepEqual(verify({ secrets: ['x'.repeat(40)] }), bad);
  assert.deepEqual(verify({ secrets: ['x'.repeat(40), undefined, secret] }), { ok: true }, 'the previous secret during a rotation');
  assert.deepEqual(verify({ path: ['/other', '/api/v1/callback/check'] }), { ok: true }, 'any of the paths a proxy may have rewritten');
  assert.deepEqual(verify({ ...signatureHeaders(signRequest(secret, body, now)) }), { ok: false, reason: 'missing_signature' }, 'a v1 signature is no v1.1 signature');
  assert.deepEqual(verify({ timestamp: String(now - 301), signatureV11: computeSignatureV11(secret, now - 301, call) }), { ok: false, reason: 'stale_timestamp' });
});

test('withV1 adds the deprecated v1 header beside v1.1, for receivers that still verify v1', () => {
  const now = 1_800_000_000;
  const h = signRequestV11(secret, call, { nowSeconds: now, withV1: true });
  assert.deepEqual(Object.keys(h).sort(), ['x-ticketflow-signature', 'x-ticketflow-signature-v11', 'x-ticketflow-timestamp']);
  assert.deepEqual(verifyRequest({ secrets: [secret], rawBody: body, nowSeconds: now, ...signatureHeaders(h) }), { ok: true });
  assert.deepEqual(Object.keys(signRequestV11(secret, call)).sort(), ['x-ticketflow-signature-v11', 'x-ticketflow-timestamp']);
});
