import type Router from '@koa/router';
import type { Context, Next } from 'koa';
import { takeEvent } from '../../intake/take-event.ts';
import { decodeWeComCallback, decodeWeComVerification, type CallbackOutcome } from '../../providers/wecom/callback.ts';
import type { AppDeps } from '../deps.ts';
import { rawBody } from '../body.ts';
import { HttpError } from '../errors.ts';
import { intakeError } from '../intake-error.ts';

/**
 * /api/v1/wecom/callback, the URL of the approval app's 接收消息 → 设置API接收 (接收消息与事件,
 * https://developer.work.weixin.qq.com/document/path/90930):
 *
 * - GET: the URL check. The decrypted `echostr` is answered as it is, plain text, "在1秒内" (within a second): nothing
 *   here reads the database or the network.
 * - POST: an event. Verified, decrypted (our corp id the receiver), and a sys_approval_change stored in the inbox,
 *   deduplicated, **before** the answer: HTTP 200 with an empty body, which the page allows ("直接返回200（即以空串为返回
 *   包）") and which is all a receipt needs. Anything else WeCom retries ("其他错误码…一律当做失败并发起重试"), as it
 *   does without an answer within 5 s, three times in all: a 503 when the event could not be stored asks for that.
 *   Nothing on this path calls WeCom; the state is read when the event is processed.
 */
export function weComCallbackRoutes(router: Router, { config, log, metrics, registry, inbox }: AppDeps): void {
  const intake = { log, metrics, registry, inbox };
  const keys = () => {
    const w = config.wecom;
    if (!w) throw new HttpError(404, 'not_configured', 'WeCom is not configured (WECOM_CORP_ID, WECOM_APP_SECRET, WECOM_TOKEN, WECOM_ENCODING_AES_KEY)');
    return { token: w.token, aesKey: w.aesKey, corpId: w.corpId };
  };
  const refuse = (ctx: Context, outcome: Extract<CallbackOutcome, { kind: 'refused' }>) => {
    metrics.eventsRefused.inc({ provider: 'wecom', reason: outcome.reason });
    log.warn({ reason: outcome.reason, ip: ctx.ip }, `WeCom callback refused: ${outcome.message}`);
    return new HttpError(outcome.status, outcome.reason, outcome.message);
  };
  const countBodyErrors = async (ctx: Context, next: Next) => {
    try {
      await next();
    } catch (e) {
      if (e instanceof HttpError && (e.status === 413 || e.code === 'bad_body')) {
        metrics.eventsRefused.inc({ provider: 'wecom', reason: e.status === 413 ? 'oversized' : 'unreadable' });
        log.warn({ reason: e.code, ip: ctx.ip }, 'WeCom callback refused');
      }
      throw e;
    }
  };

  router.get('/api/v1/wecom/callback', (ctx) => {
    const outcome = decodeWeComVerification(ctx.query, keys());
    if (outcome.kind === 'refused') throw refuse(ctx, outcome);
    if (outcome.kind !== 'verified') throw new HttpError(400, 'malformed', 'not a URL check');
    // "不能加引号，不能带bom头，不能带换行符": the bare plaintext.
    ctx.type = 'text/plain; charset=utf-8';
    ctx.body = outcome.echo;
  });

  router.post(
    '/api/v1/wecom/callback',
    async (ctx, next) => {
      keys();
      await next();
    },
    countBodyErrors,
    rawBody(config.bodyLimit),
    async (ctx) => {
      const end = metrics.intakeSeconds.startTimer({ provider: 'wecom' });
      const outcome = decodeWeComCallback(ctx.query, ctx.request.rawBody, keys());
      if (outcome.kind === 'refused') throw refuse(ctx, outcome);
      if (outcome.kind === 'event') {
        const error = intakeError(await takeEvent(intake, outcome.event, { label: 'WeCom callback', fields: { ip: ctx.ip } }));
        if (error) throw error;
      } else if (outcome.kind === 'ignored') {
        metrics.eventsIgnored.inc({ provider: 'wecom', reason: outcome.reason });
      }
      ctx.status = 200;
      ctx.type = 'text/plain';
      ctx.body = '';
      end();
    },
  );
}
