import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { digestEqual } from '../../security/constant-time.ts';

/**
 * DingTalk's (and WeCom's) callback crypto: AES-256-CBC with key = base64(aes_key + "="), IV = the key's first
 * 16 bytes, PKCS#7 padding to 32-byte blocks (Node's own padding is 16-byte, so it is done by hand);
 * plaintext = 16 random bytes ‖ uint32 BE length ‖ message ‖ owner id (the app key; WeCom: the corp id).
 * Signature: hex SHA-1 of the sorted concatenation of token, timestamp, nonce and the ciphertext.
 */
const BLOCK = 32;

function key(aesKey: string): Buffer {
  const k = Buffer.from(`${aesKey}=`, 'base64');
  if (k.length !== 32) throw new Error('the AES key must be 43 base64 characters (32 bytes)');
  return k;
}

export function callbackSignature(token: string, timestamp: string, nonce: string, encrypt: string): string {
  return createHash('sha1').update([token, timestamp, nonce, encrypt].sort().join('')).digest('hex');
}

export function verifyCallbackSignature(token: string, timestamp: string, nonce: string, encrypt: string, signature: string): boolean {
  return digestEqual(callbackSignature(token, timestamp, nonce, encrypt), signature.toLowerCase());
}

export function decryptCallback(aesKey: string, encrypt: string): { message: string; owner: string } {
  const k = key(aesKey);
  const decipher = createDecipheriv('aes-256-cbc', k, k.subarray(0, 16));
  decipher.setAutoPadding(false);
  const padded = Buffer.concat([decipher.update(Buffer.from(encrypt, 'base64')), decipher.final()]);
  const pad = padded[padded.length - 1]!;
  if (pad < 1 || pad > BLOCK || padded.length < 20 + pad) throw new Error('bad padding');
  const plain = padded.subarray(0, padded.length - pad);
  const length = plain.readUInt32BE(16);
  if (20 + length > plain.length) throw new Error('bad message length');
  return { message: plain.subarray(20, 20 + length).toString('utf8'), owner: plain.subarray(20 + length).toString('utf8') };
}

export function encryptCallback(aesKey: string, message: string, owner: string, random: Buffer = randomBytes(16)): string {
  const k = key(aesKey);
  const body = Buffer.from(message, 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(body.length);
  const plain = Buffer.concat([random, length, body, Buffer.from(owner, 'utf8')]);
  const pad = BLOCK - (plain.length % BLOCK);
  const cipher = createCipheriv('aes-256-cbc', k, k.subarray(0, 16));
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(Buffer.concat([plain, Buffer.alloc(pad, pad)])), cipher.final()]).toString('base64');
}
