import { createHmac } from 'node:crypto';
import type { OutboundPolicy } from '../business/outbound.ts';
import { clip, postRobot, robotHookUrl, type AlarmChannel, type AlarmMessage, type SendResult } from './channel.ts';

/*
 * A DingTalk custom robot (自定义机器人) in a group, with 加签 on, as the official pages say:
 * security settings https://open.dingtalk.com/document/orgapp/customize-robot-security-settings,
 * sending https://open.dingtalk.com/document/orgapp/custom-bot-to-send-group-chat-messages,
 * message types https://open.dingtalk.com/document/orgapp/custom-bot-send-message-type.
 * - The webhook is `https://oapi.dingtalk.com/robot/send?access_token=<token>`; a signed request adds
 *   `&timestamp=<milliseconds>&sign=<urlencode(Base64(HmacSHA256(key = secret, message = timestamp + "\n" + secret)))>`
 *   (the timestamp within an hour of DingTalk's clock). Unlike Lark's bot: the key and the message swap roles, the
 *   timestamp is in milliseconds, and both go in the query.
 * - Success is `{"errcode":0,"errmsg":"ok"}` (HTTP 200); 310000 is a refusal by the security settings (keywords not
 *   in content, invalid timestamp, sign not match, IP not in whitelist).
 * - "每个机器人每分钟最多发送20条消息到群里，如果超过20条，会限流10分钟": 20 messages a minute per robot, then 10
 *   minutes of silence.
 */

const HOST = 'oapi.dingtalk.com';

/**
 * Why a DingTalk robot webhook URL is refused, or undefined when it is the documented shape: https on
 * oapi.dingtalk.com, path `/robot/send`, an `access_token` and nothing else in the query. A loopback host (a local
 * stand-in, tests) may be http on any port. The message never repeats the token.
 */
export function dingTalkHookProblem(raw: string): string | undefined {
  const u = robotHookUrl(raw, [HOST], 'the URL DingTalk shows when the robot is added');
  if (typeof u === 'string') return u;
  if (u.username || u.password || u.hash) return 'must carry nothing but the path and access_token';
  if (u.pathname !== '/robot/send') return 'must be https://oapi.dingtalk.com/robot/send?access_token=<token>';
  const keys = [...u.searchParams.keys()];
  if (!u.searchParams.get('access_token') || keys.length !== 1) return 'must carry access_token, and only it, in its query (the timestamp and sign are added per message)';
  return undefined;
}

/** The webhook as it may be logged: the access token is the robot's credential. */
export function redactDingTalkHook(url: string): string {
  return url.replace(/(access_token=)[^&#]+/, '$1…');
}

/** The `sign` of a robot request, before URL encoding: Base64(HmacSHA256(key = secret, message = `${timestamp}\n${secret}`)). */
export function dingTalkRobotSign(timestampMs: number | string, secret: string): string {
  return createHmac('sha256', secret).update(`${timestampMs}\n${secret}`, 'utf8').digest('base64');
}

/** The URL of one signed request: the webhook with `timestamp` and `sign` (URL-encoded by URLSearchParams, as quote_plus does). */
export function dingTalkSignedUrl(webhook: string, timestampMs: number, secret: string): string {
  const u = new URL(webhook);
  u.searchParams.set('timestamp', String(timestampMs));
  u.searchParams.set('sign', dingTalkRobotSign(timestampMs, secret));
  return u.toString();
}

/**
 * DingTalk's markdown has no escape character, so the alarm's own text cannot make a link or an image of its own:
 * `](` is broken apart (the only link is ours, to the console).
 */
function plain(text: string): string {
  return text.replace(/\]\(/g, '] (');
}

/** A markdown message: the title (what the notification shows), the text, and a link to the console. */
export function dingTalkRobotBody(message: AlarmMessage): Record<string, unknown> {
  const title = clip(message.title, 200);
  const text = clip(message.text, 4_000).split('\n').map(plain).join('  \n');
  return { msgtype: 'markdown', markdown: { title, text: `#### ${plain(title)}\n\n${text}\n\n[打开控制台 Open in the console](${message.link})` } };
}

/** Errors no retry fixes: 310000, the security settings (the secret, the keywords, the IP list). */
const PERMANENT = new Set([310000]);

export interface DingTalkRobotOptions {
  url: string;
  secret: string;
  policy: OutboundPolicy;
  timeoutMs?: number;
  now?: () => number;
}

/** The DingTalk robot channel: one signed POST per message through the outbound guard; `errcode` ≠ 0 is a failure. */
export function dingTalkRobotChannel(options: DingTalkRobotOptions): AlarmChannel {
  const now = options.now ?? Date.now;
  const token = new URL(options.url).searchParams.get('access_token') ?? '';
  const scrub = (text: string) => text.split(token).join('…').split(options.secret).join('[secret]');
  return {
    name: 'dingtalk',
    // 20 a minute per robot, or 10 minutes of silence: one every 6 s is 10 a minute, for all replicas together.
    spacingMs: 6_000,
    async send(message): Promise<SendResult> {
      const posted = await postRobot(dingTalkSignedUrl(options.url, now(), options.secret), dingTalkRobotBody(message), { ...options, scrub });
      if (!('answer' in posted)) return posted;
      const { errcode, errmsg } = posted.answer;
      if (errcode === 0) return { ok: true };
      const said = `errcode ${String(errcode)}${typeof errmsg === 'string' ? ` (${clip(scrub(errmsg), 200)})` : ''}`;
      // The page names no code for the limit; "send too fast" is what the robot is said to answer then: 10 minutes.
      if (typeof errmsg === 'string' && /too fast|exceed/i.test(errmsg)) return { ok: false, retry: true, pauseMs: 600_000, reason: `${said}: the robot's limit of 20 a minute` };
      if (errcode === 310000) return { ok: false, retry: false, reason: `${said}: refused by the robot's security settings; check TICKETFLOW_ALERT_DINGTALK_SECRET and this machine's clock` };
      return { ok: false, retry: !PERMANENT.has(errcode as number), reason: said };
    },
  };
}
