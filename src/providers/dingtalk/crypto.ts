import { msgSignature, openMessage, sealMessage, verifyMsgSignature } from '../msg-crypt.ts';

/**
 * DingTalk's HTTP push crypto: the scheme it shares with WeCom (src/providers/msg-crypt.ts: SHA-1 signature,
 * AES-256-CBC with 32-byte padding), whose receiver id DingTalk calls the owner: the app key.
 */
export const callbackSignature = msgSignature;

export const verifyCallbackSignature = verifyMsgSignature;

export function decryptCallback(aesKey: string, encrypt: string): { message: string; owner: string } {
  const { message, receiver } = openMessage(aesKey, encrypt);
  return { message, owner: receiver };
}

export function encryptCallback(aesKey: string, message: string, owner: string, random?: Buffer): string {
  return sealMessage(aesKey, message, owner, random);
}
