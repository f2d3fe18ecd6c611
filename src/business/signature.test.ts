import assert from 'node:assert/strict';
import { test } from 'node:test';
import { computeSignature, signRequest, verifyRequest } from './signature.ts';

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
