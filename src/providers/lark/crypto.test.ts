import assert from 'node:assert/strict';
import { test } from 'node:test';
import { larkDecrypt, larkEncrypt, larkSignature } from './crypto.ts';

test("Lark's published test vector decrypts to hello world", () => {
  assert.equal(larkDecrypt('test key', 'P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzghk='), 'hello world');
});

test('encrypt then decrypt round-trips; the IV is the first 16 bytes', () => {
  const iv = Buffer.alloc(16, 7);
  const enc = larkEncrypt('k', '{"a":"中文"}', iv);
  assert.deepEqual(Buffer.from(enc, 'base64').subarray(0, 16), iv);
  assert.equal(larkDecrypt('k', enc), '{"a":"中文"}');
  assert.throws(() => larkDecrypt('wrong key', enc));
});

test('signature is hex sha256 over timestamp, nonce, key and the raw bytes (value from sha256sum)', () => {
  // echo -n '1700000000nonce1keyBODY' | sha256sum
  const expected = 'b9375fa0096194fca824c2617d7fd5bd15ac28f21efd9b25c4dd7104fee99077';
  assert.equal(larkSignature('1700000000', 'nonce1', 'key', Buffer.from('BODY')), expected);
  assert.equal(larkSignature('1700000000', 'nonce1', 'key', 'BODY'), expected);
});
