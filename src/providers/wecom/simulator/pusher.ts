import { randomBytes } from 'node:crypto';
import { EventPusher, type Delivery } from '../../lark/simulator/pusher.ts';
import { encryptWeCom, weComSignature, type WeComKeys } from '../crypto.ts';
import type { WcEvent, WcInstance } from './model.ts';

const cdata = (s: string) => `<![CDATA[${s.replaceAll(']]>', ']]]]><![CDATA[>')}]]>`;

/**
 * The decrypted sys_approval_change message, laid out as CALLBACK's example (审批申请状态变化回调通知,
 * https://developer.work.weixin.qq.com/document/path/91815; the current example is on the 代开发 page 96508):
 * ToUserName the corp id, FromUserName "sys", AgentID 3010040 (the 审批 system app's, even when a self-built app
 * receives it), SpNoStr beside SpNo, repeated SpRecord / Details / Notifyer / Comments siblings with no wrapper.
 */
export function approvalChangeXml(corpId: string, e: WcEvent): string {
  const i: WcInstance = e.instance;
  const record = i.nodes
    .map(
      (n) =>
        `<SpRecord><SpStatus>${n.status}</SpStatus><ApproverAttr>${n.attr}</ApproverAttr>${n.approvers
          .map((a) => `<Details><Approver><UserId>${cdata(a.userid)}</UserId></Approver><Speech>${cdata(a.speech)}</Speech><SpStatus>${a.status}</SpStatus><SpTime>${a.sptime}</SpTime></Details>`)
          .join('')}</SpRecord>`,
    )
    .join('');
  const notifyer = i.notifyer.map((u) => `<Notifyer><UserId>${cdata(u)}</UserId></Notifyer>`).join('');
  const comments = i.comments.map((c) => `<Comments><CommentUserInfo><UserId>${cdata(c.userid)}</UserId></CommentUserInfo><CommentTime>${c.time}</CommentTime><CommentContent>${cdata(c.content)}</CommentContent><CommentId>${cdata(c.id)}</CommentId></Comments>`).join('');
  return (
    `<xml><ToUserName>${cdata(corpId)}</ToUserName><FromUserName>${cdata('sys')}</FromUserName><CreateTime>${e.createTime}</CreateTime><MsgType>${cdata('event')}</MsgType><Event>${cdata('sys_approval_change')}</Event><AgentID>3010040</AgentID>` +
    `<ApprovalInfo><SpNoStr>${cdata(i.spNo)}</SpNoStr><SpNo>${i.spNo}</SpNo><SpName>${cdata(i.spName)}</SpName><SpStatus>${i.status}</SpStatus><TemplateId>${cdata(i.templateId)}</TemplateId><ApplyTime>${i.applyTime}</ApplyTime>` +
    `<Applyer><UserId>${cdata(i.creator)}</UserId><Party>${cdata('1')}</Party></Applyer>${record}${notifyer}${comments}<StatuChangeEvent>${e.statuChangeEvent}</StatuChangeEvent></ApprovalInfo></xml>`
  );
}

/**
 * WeCom's callback delivery (接收消息与事件, https://developer.work.weixin.qq.com/document/path/90930):
 * `POST url?msg_signature&timestamp&nonce` with `<xml><ToUserName/><AgentID/><Encrypt/></xml>`; HTTP 200 is the receipt
 * (any body, an empty one included: "直接返回200（即以空串为返回包）"); "其他错误码…一律当做失败并发起重试"; no answer
 * within 5 s drops the connection and retries, "总共重试三次". The page gives no interval between retries: 1 s here
 * (tests shorten it further). Events of one request are delivered in order, one at a time.
 */
export class WeComPusher extends EventPusher<WcEvent> {
  constructor(
    options: { target: () => string | undefined; retryDelaysMs?: number[] },
    private readonly keys: WeComKeys,
  ) {
    super({ target: options.target, verificationToken: '', retryDelaysMs: options.retryDelaysMs ?? [1_000, 1_000, 1_000], timeoutMs: 5_000 });
  }

  protected override instanceOf(event: WcEvent): string {
    return event.spNo;
  }

  protected override request(url: string, delivery: Delivery<WcEvent>) {
    return this.sealFor(url, approvalChangeXml(this.keys.corpId, delivery.event));
  }

  /** The request WeCom would send for a plaintext message (tests forge variations from it). */
  sealFor(url: string, plain: string, keys: Pick<WeComKeys, 'aesKey' | 'corpId'> = this.keys): { url: string; body: string; headers: Record<string, string>; encrypt: string } {
    const encrypt = encryptWeCom(keys, plain);
    const timestamp = String(Math.floor(Date.now() / 1000));
    const nonce = String(randomBytes(4).readUInt32BE(0));
    const target = new URL(url);
    target.searchParams.set('msg_signature', weComSignature(this.keys.token, timestamp, nonce, encrypt));
    target.searchParams.set('timestamp', timestamp);
    target.searchParams.set('nonce', nonce);
    const body = `<xml><ToUserName>${cdata(keys.corpId)}</ToUserName><AgentID>${cdata('3010040')}</AgentID><Encrypt>${cdata(encrypt)}</Encrypt></xml>`;
    return { url: target.toString(), body, headers: { 'content-type': 'text/xml' }, encrypt };
  }

  protected override async acknowledged(res: Response): Promise<boolean> {
    await res.arrayBuffer();
    return res.status === 200;
  }
}
