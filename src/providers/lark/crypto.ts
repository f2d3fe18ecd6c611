import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/** Lark's event encryption: key = SHA-256(encrypt key); AES-256-CBC, PKCS#7; base64(iv ‖ ciphertext). */
const keys = new Map<string, Buffer>();
function aesKey(encryptKey: string): Buffer {
  let key = keys.get(encryptKey);
  if (!key) {
    key = createHash('sha256').update(encryptKey).digest();
    keys.set(encryptKey, key);
  }
  return key;
}

export function larkDecrypt(encryptKey: string, encrypt: string): string {
  const data = Buffer.from(encrypt, 'base64');
  if (data.length < 32 || data.length % 16 !== 0) throw new Error('ciphertext has the wrong length');
  const decipher = createDecipheriv('aes-256-cbc', aesKey(encryptKey), data.subarray(0, 16));
  return Buffer.concat([decipher.update(data.subarray(16)), decipher.final()]).toString('utf8');
}

export function larkEncrypt(encryptKey: string, plaintext: string, iv: Buffer = randomBytes(16)): string {
  const cipher = createCipheriv('aes-256-cbc', aesKey(encryptKey), iv);
  return Buffer.concat([iv, cipher.update(plaintext, 'utf8'), cipher.final()]).toString('base64');
}

/** X-Lark-Signature: hex SHA-256 of timestamp + nonce + encrypt key + the raw body bytes. */
export function larkSignature(timestamp: string, nonce: string, encryptKey: string, rawBody: Buffer | string): string {
  return createHash('sha256').update(timestamp + nonce + encryptKey).update(rawBody).digest('hex');
}
