import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { digestEqual } from '../security/constant-time.ts';

/**
 * The callback crypto DingTalk's HTTP push and WeCom's callbacks share (WeCom calls it WXBizMsgCrypt; its scheme:
 * 加解密方案说明, https://developer.work.weixin.qq.com/document/path/90968; DingTalk's: https://open.dingtalk.com/document/development/http-callback-overview):
 *
 * - signature: hex SHA-1 of the lexicographically sorted concatenation of token, timestamp, nonce and ciphertext;
 * - key: base64(EncodingAESKey + "="), 43 characters → 32 bytes; AES-256-CBC, IV = the key's first 16 bytes;
 * - PKCS#7 padding to a multiple of **32** bytes ("至32字节的倍数"): Node's own padding is 16-byte and refuses pad
 *   values above 16, so it is off and done by hand;
 * - plaintext = 16 random bytes ‖ uint32 BE length ‖ message ‖ receiver id (DingTalk: the app key; WeCom: the corp
 *   id for a self-built app's callbacks).
 *
 * Only the receiver id and what the message holds (JSON, XML) differ between the two IMs: those are their own.
 */
const BLOCK = 32;

function key(aesKey: string): Buffer {
  const k = Buffer.from(`${aesKey}=`, 'base64');
  if (aesKey.length !== 43 || k.length !== 32) throw new Error('the AES key must be 43 base64 characters (32 bytes)');
  return k;
}

export function msgSignature(token: string, timestamp: string, nonce: string, encrypt: string): string {
  return createHash('sha1').update([token, timestamp, nonce, encrypt].sort().join('')).digest('hex');
}

/** Constant time; the signature's hex may arrive in either case. */
export function verifyMsgSignature(token: string, timestamp: string, nonce: string, encrypt: string, signature: string): boolean {
  return digestEqual(msgSignature(token, timestamp, nonce, encrypt), signature.toLowerCase());
}

/** Decrypts and unframes a ciphertext; throws on a wrong key, bad padding or a length that does not fit. */
export function openMessage(aesKey: string, encrypt: string): { message: string; receiver: string } {
  const k = key(aesKey);
  const decipher = createDecipheriv('aes-256-cbc', k, k.subarray(0, 16));
  decipher.setAutoPadding(false);
  const padded = Buffer.concat([decipher.update(Buffer.from(encrypt, 'base64')), decipher.final()]);
  const pad = padded[padded.length - 1]!;
  if (pad < 1 || pad > BLOCK || padded.length < 20 + pad) throw new Error('bad padding');
  const plain = padded.subarray(0, padded.length - pad);
  const length = plain.readUInt32BE(16);
  if (20 + length > plain.length) throw new Error('bad message length');
  return { message: plain.subarray(20, 20 + length).toString('utf8'), receiver: plain.subarray(20 + length).toString('utf8') };
}

/** Frames and encrypts a message for a receiver (`random`: the 16-byte prefix, fixed only in tests). */
export function sealMessage(aesKey: string, message: string, receiver: string, random: Buffer = randomBytes(16)): string {
  const k = key(aesKey);
  const body = Buffer.from(message, 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(body.length);
  const plain = Buffer.concat([random, length, body, Buffer.from(receiver, 'utf8')]);
  const pad = BLOCK - (plain.length % BLOCK);
  const cipher = createCipheriv('aes-256-cbc', k, k.subarray(0, 16));
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(Buffer.concat([plain, Buffer.alloc(pad, pad)])), cipher.final()]).toString('base64');
}
