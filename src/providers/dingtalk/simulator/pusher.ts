import { randomBytes, randomUUID } from 'node:crypto';
import { EventPusher, type Delivery } from '../../lark/simulator/pusher.ts';
import { callbackSignature, decryptCallback, encryptCallback } from '../crypto.ts';
import type { DtEvent } from './model.ts';

/**
 * DingTalk's HTTP push: `POST url?msg_signature&timestamp&nonce` with `{"encrypt"}` (the query names of
 * https://open.dingtalk.com/document/development/develop-stream-mode-push-server, section 开发 HTTP 模式: lowercase
 * `timestamp`), acknowledged only by an encrypted `success` signed with the same token, replied as
 * `{msg_signature, timeStamp, nonce, encrypt}` (https://open.dingtalk.com/document/development/http-callback-overview);
 * a plain 200 counts as a failure and is retried.
 */
export class DingTalkPusher extends EventPusher<DtEvent> {
  constructor(
    options: ConstructorParameters<typeof EventPusher>[0],
    private readonly keys: { token: string; aesKey: string; appKey: string },
  ) {
    super(options);
  }

  /**
   * The HTTP example's envelope (https://open.dingtalk.com/document/development/event-bpms-task-change):
   * PascalCase EventType, EventTime and CorpId around the business fields, and an eventId that a redelivery keeps.
   */
  override push(event: DtEvent) {
    const { EventType, ...data } = event;
    return super.push({ EventType, EventTime: Date.now(), CorpId: 'ding-sim-corp', eventId: randomUUID(), ...data } as DtEvent);
  }

  protected override instanceOf(event: DtEvent): string {
    return event.processInstanceId;
  }

  protected override request(url: string, delivery: Delivery<DtEvent>) {
    const { url: signedUrl, body, headers } = this.sealFor(url, JSON.stringify(delivery.event));
    return { url: signedUrl, body, headers };
  }

  /** The request DingTalk would send for a plaintext message (tests forge variations from it). */
  sealFor(url: string, plain: string): { url: string; body: string; headers: Record<string, string>; encrypt: string } {
    const encrypt = encryptCallback(this.keys.aesKey, plain, this.keys.appKey);
    const timestamp = String(Date.now());
    const nonce = randomBytes(6).toString('hex');
    const target = new URL(url);
    target.searchParams.set('msg_signature', callbackSignature(this.keys.token, timestamp, nonce, encrypt));
    target.searchParams.set('timestamp', timestamp);
    target.searchParams.set('nonce', nonce);
    return { url: target.toString(), body: JSON.stringify({ encrypt }), headers: { 'content-type': 'application/json' }, encrypt };
  }

  protected override async acknowledged(res: Response): Promise<boolean> {
    if (res.status !== 200) return false;
    try {
      const reply = (await res.json()) as { msg_signature?: string; timeStamp?: string; nonce?: string; encrypt?: string };
      if (!reply.encrypt || !reply.timeStamp || !reply.nonce) return false;
      if (callbackSignature(this.keys.token, reply.timeStamp, reply.nonce, reply.encrypt) !== reply.msg_signature) return false;
      return decryptCallback(this.keys.aesKey, reply.encrypt).message === 'success';
    } catch {
      return false;
    }
  }
}
