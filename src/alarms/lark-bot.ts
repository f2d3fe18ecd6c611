import { createHmac } from 'node:crypto';
import type { OutboundPolicy } from '../business/outbound.ts';
import { clip, postRobot, robotHookUrl, type AlarmChannel, type AlarmMessage, type SendResult } from './channel.ts';

/*
 * A Lark (Feishu) custom bot in a group chat, with 签名校验 (signature verification) on, as its official page says:
 * https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot (Lark: https://open.larksuite.com/document/client-docs/bot-v3/use-custom-bots-in-a-group).
 * - The webhook is `https://open.feishu.cn/open-apis/bot/v2/hook/<token>` (`open.larksuite.com` for Lark).
 * - The body carries `timestamp` (seconds, within an hour of Lark's clock) and `sign` = Base64(HmacSHA256 keyed
 *   with `timestamp + "\n" + secret`, over an empty message).
 * - Every answer is HTTP 200; a failure has a non-zero `code`: 9499 bad request (malformed or over 20 KB), 19021 sign
 *   match fail or timestamp out of range, 19022 IP not allowed, 19024 keywords not found, 11232 rate limit.
 * - A bot may send 100 messages a minute and 5 a second; the body is at most 20 KB.
 */

const HOSTS = ['open.feishu.cn', 'open.larksuite.com'];
const HOOK_PATH = /^\/open-apis\/bot\/v2\/hook\/([A-Za-z0-9_-]+)$/;

/**
 * Why a Lark bot webhook URL is refused, or undefined when it is the documented shape: https on open.feishu.cn or
 * open.larksuite.com, path `/open-apis/bot/v2/hook/<token>`. A loopback host (a local stand-in, tests) may be http
 * on any port. The message never repeats the token.
 */
export function larkHookProblem(raw: string): string | undefined {
  const u = robotHookUrl(raw, HOSTS, 'the URL Lark shows when the custom bot is added');
  if (typeof u === 'string') return u;
  if (u.username || u.password || u.search || u.hash) return 'must carry nothing but the hook path';
  if (!HOOK_PATH.test(u.pathname)) return 'must be https://open.feishu.cn/open-apis/bot/v2/hook/<token>';
  return undefined;
}

/** The webhook as it may be logged: the token is the bot's credential. */
export function redactLarkHook(url: string): string {
  return url.replace(/(\/hook\/)[^/?#]+/, '$1…');
}

/** The `sign` of a custom bot's message: Base64(HmacSHA256(key = `${timestamp}\n${secret}`, message = '')). */
export function larkBotSign(timestampSeconds: number | string, secret: string): string {
  return createHmac('sha256', `${timestampSeconds}\n${secret}`).update('').digest('base64');
}

const TEMPLATE: Record<AlarmMessage['kind'], string> = {
  needs_operator: 'orange',
  escalation: 'orange',
  pipeline_load_error: 'red',
  definition_drift: 'red',
  im_quota: 'yellow',
  unexpected_error: 'red',
  instance_not_ended: 'orange',
  storm: 'red',
};

/**
 * The message body: an interactive card (JSON 1.0: header, a plain-text block, a button opening the console), so
 * nothing of the alarm's text is read as Markdown or a mention. Title and text are clipped far below 20 KB.
 */
export function larkBotBody(message: AlarmMessage, timestampSeconds: number, secret: string): Record<string, unknown> {
  return {
    timestamp: String(timestampSeconds),
    sign: larkBotSign(timestampSeconds, secret),
    msg_type: 'interactive',
    card: {
      config: { wide_screen_mode: true },
      header: { template: TEMPLATE[message.kind], title: { tag: 'plain_text', content: clip(message.title, 200) } },
      elements: [
        { tag: 'div', text: { tag: 'plain_text', content: clip(message.text, 4_000) } },
        { tag: 'action', actions: [{ tag: 'button', type: 'primary', text: { tag: 'plain_text', content: '打开控制台 Open in the console' }, url: message.link }] },
      ],
    },
  };
}

/** Codes of Lark's page that another try cannot fix (the secret, the IP list, the keywords, the body). */
const PERMANENT = new Set([9499, 19021, 19022, 19024]);
const RATE_LIMITED = 11232;

export interface LarkBotOptions {
  url: string;
  secret: string;
  policy: OutboundPolicy;
  timeoutMs?: number;
  now?: () => number;
}

/** The Lark bot channel: one signed POST per message through the outbound guard; `code` ≠ 0 is a failure. */
export function larkBotChannel(options: LarkBotOptions): AlarmChannel {
  const now = options.now ?? Date.now;
  const scrub = (text: string) => text.split(options.url).join(redactLarkHook(options.url)).split(options.secret).join('[secret]');
  return {
    name: 'lark',
    // Lark allows 100 a minute and 5 a second per bot: one every 2 s is 30 a minute, for all replicas together.
    spacingMs: 2_000,
    async send(message): Promise<SendResult> {
      const posted = await postRobot(options.url, larkBotBody(message, Math.floor(now() / 1000), options.secret), { ...options, scrub });
      if (!('answer' in posted)) return posted;
      const { code, msg } = posted.answer;
      if (code === 0) return { ok: true };
      const said = `code ${String(code)}${typeof msg === 'string' ? ` (${clip(scrub(msg), 200)})` : ''}`;
      if (code === RATE_LIMITED) return { ok: false, retry: true, pauseMs: 60_000, reason: `${said}: the bot's rate limit` };
      if (code === 19021) return { ok: false, retry: false, reason: `${said}: the signature was refused; check TICKETFLOW_ALERT_LARK_SECRET and this machine's clock` };
      return { ok: false, retry: !PERMANENT.has(code as number), reason: said };
    },
  };
}
