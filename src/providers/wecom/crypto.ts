import { msgSignature, openMessage, sealMessage, verifyMsgSignature } from '../msg-crypt.ts';

/**
 * WeCom's callback crypto, WXBizMsgCrypt (加解密方案说明, https://developer.work.weixin.qq.com/document/path/90968;
 * 接收消息与事件, https://developer.work.weixin.qq.com/document/path/90930): the scheme DingTalk shares
 * (src/providers/msg-crypt.ts), with the receive id ("receiveid") after the message: the corp id for a self-built
 * app's callbacks (a suite id for third-party apps, which Ticketflow is not).
 */
export interface WeComKeys {
  token: string;
  /** EncodingAESKey: 43 characters. */
  aesKey: string;
  corpId: string;
}

export const weComSignature = msgSignature;

export const verifyWeComSignature = verifyMsgSignature;

export class WrongReceiver extends Error {}

/**
 * Decrypts `msg_encrypt` (or a URL check's `echostr`) and checks the receive id is our corp id: a message sealed for
 * another corp, even with our key, is not ours. Throws WrongReceiver for that, Error when it does not decrypt.
 */
export function decryptWeCom(keys: Pick<WeComKeys, 'aesKey' | 'corpId'>, encrypt: string): string {
  const { message, receiver } = openMessage(keys.aesKey, encrypt);
  if (receiver !== keys.corpId) throw new WrongReceiver(`the message is for receive id "${receiver.slice(0, 64)}", not this corp`);
  return message;
}

/** What WeCom sends: the message sealed for the corp (the simulator; tests fix `random`). */
export function encryptWeCom(keys: Pick<WeComKeys, 'aesKey' | 'corpId'>, message: string, random?: Buffer): string {
  return sealMessage(keys.aesKey, message, keys.corpId, random);
}
