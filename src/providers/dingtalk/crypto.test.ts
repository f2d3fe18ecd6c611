import assert from 'node:assert/strict';
import { test } from 'node:test';
import { callbackSignature, decryptCallback, encryptCallback, verifyCallbackSignature } from './crypto.ts';

// WeCom's published test vector for its callback crypto (the WXBizMsgCrypt samples; the scheme is DingTalk's too).
const vector = {
  token: 'QDG6eK',
  aesKey: 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C',
  timestamp: '1409659813',
  nonce: '1372623149',
  encrypt:
    'RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q==',
  signature: '477715d11cdb4164915debcba66cb864d751f3e6',
};

test('the published test vector: signature and decryption (32-byte padding, receive id after the message)', () => {
  assert.equal(callbackSignature(vector.token, vector.timestamp, vector.nonce, vector.encrypt), vector.signature);
  assert.ok(verifyCallbackSignature(vector.token, vector.timestamp, vector.nonce, vector.encrypt, vector.signature.toUpperCase()));
  assert.ok(!verifyCallbackSignature('other', vector.timestamp, vector.nonce, vector.encrypt, vector.signature));
  const { message, owner } = decryptCallback(vector.aesKey, vector.encrypt);
  assert.match(message, /^<xml><ToUserName><!\[CDATA\[wx5823bf96d3bd56c7\]\]><\/ToUserName>/);
  assert.match(message, /<Content><!\[CDATA\[hello\]\]><\/Content>/);
  assert.equal(owner, 'wx5823bf96d3bd56c7');
  assert.equal(Buffer.from(vector.encrypt, 'base64').length % 32, 0);
});

test('encrypt round-trips, pads to 32-byte blocks, and a wrong key does not decrypt', () => {
  const enc = encryptCallback(vector.aesKey, '{"EventType":"check_url"}', 'dingappkey', Buffer.alloc(16, 7));
  assert.equal(Buffer.from(enc, 'base64').length % 32, 0);
  assert.deepEqual(decryptCallback(vector.aesKey, enc), { message: '{"EventType":"check_url"}', owner: 'dingappkey' });
  assert.throws(() => decryptCallback('A'.repeat(43), enc));
});
