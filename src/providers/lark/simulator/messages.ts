import { randomBytes } from 'node:crypto';
import type Router from '@koa/router';
import type { Context, Next } from 'koa';
import { jsonBody } from '../../../http/body.ts';
import { LarkApiError, openIdOf, type LarkModel } from './model.ts';

/** A message the app's bot sent, as the simulator keeps it for assertions. */
export interface SimMessage {
  message_id: string;
  /** The receiver's user id (receive_id_type user_id; an open_id is mapped back when the simulator knows it). */
  user_id: string;
  msg_type: string;
  /** As sent: a serialized JSON string. */
  content: string;
  uuid?: string;
  create_time: string;
}

/** What the simulator's bot keeps: every message sent, and the people outside its availability range. */
export interface SimBot {
  messages: SimMessage[];
  /** People the bot cannot reach although the tenant knows them (Lark 230013: outside its availability range). */
  unreachable: Set<string>;
}

/**
 * 发送消息 and 撤回审批实例, on the simulator's router (`guard`: the tenant token check of every OpenAPI route):
 *
 * - `POST /open-apis/im/v1/messages?receive_id_type=user_id|open_id`
 *   (https://open.feishu.cn/document/server-docs/im-v1/message/create): `receive_id`, `msg_type` and `content` (a JSON
 *   string) are required; a card (`interactive`) is at most 30 KB (230025); a receiver the tenant does not know, or
 *   outside the bot's availability (`unreachable`), is 230013 "Bot has NO availability to this user." (HTTP 400); a
 *   `uuid` used within the hour sends nothing more and answers the first message. The answer is the new message
 *   (message_id, msg_type, create_time, chat_id, sender {id, id_type app_id, sender_type app}, body.content). What
 *   the page does not give: the code of a malformed request (230001 "invalid request parameter" is used) and whether a
 *   uuid repeated with other content is refused (the simulator answers the first message, as for a repeat).
 * - `POST /open-apis/approval/v4/instances/cancel` (https://open.feishu.cn/document/server-docs/approval-v4/instance/cancel):
 *   `approval_code`, `instance_code` and `user_id` are required (1390001); an unknown approval 1390002, an unknown
 *   instance 1390003; only the originator may withdraw (the FAQ: "是否只有发起人可以撤回审批实例…" "是的"), and only a
 *   pending instance of a definition that allows it (更多设置: 允许撤销审批中的申请; `allow_withdraw: false` on a
 *   simulated definition). The page names no code for those refusals: the simulator answers 1390001.
 */
export function botRoutes(router: Router, model: LarkModel, guard: (ctx: Context, next: Next) => Promise<void>, bot: SimBot): void {
  const body = (ctx: Context) => (ctx.request.rawBody.length ? jsonBody(ctx) : {});
  const ok = (ctx: Context, data: unknown = {}) => {
    ctx.body = { code: 0, msg: 'success', data };
  };

  router.post('/open-apis/im/v1/messages', guard, (ctx) => {
    const idType = String(ctx.query.receive_id_type ?? '');
    if (!['open_id', 'user_id', 'union_id', 'email', 'chat_id'].includes(idType)) throw new LarkApiError(230001, 'Your request contains an invalid request parameter: receive_id_type');
    const b = body(ctx);
    if (typeof b.receive_id !== 'string' || !b.receive_id || typeof b.msg_type !== 'string' || typeof b.content !== 'string') throw new LarkApiError(230001, 'Your request contains an invalid request parameter: receive_id, msg_type and content are required');
    if (idType !== 'user_id' && idType !== 'open_id') throw new Error(`the simulator sends to users by user_id or open_id, not ${idType}`);
    try {
      JSON.parse(b.content);
    } catch {
      throw new LarkApiError(230001, 'Your request contains an invalid request parameter: content is not JSON');
    }
    if (b.msg_type === 'interactive' && Buffer.byteLength(b.content) > 30 * 1024) throw new LarkApiError(230025, 'The length of the message content reaches its limit.');
    const known = knownUsers(model);
    const user = idType === 'user_id' ? b.receive_id : [...known].find((u) => openIdOf(u) === b.receive_id);
    if (!user || !known.has(user) || bot.unreachable.has(user)) throw new LarkApiError(230013, 'Bot has NO availability to this user.');
    const uuid = typeof b.uuid === 'string' && b.uuid ? b.uuid : undefined;
    const hourAgo = String(Date.now() - 3_600_000);
    let message = uuid ? bot.messages.find((m) => m.uuid === uuid && m.create_time > hourAgo) : undefined;
    if (!message) {
      message = { message_id: `om_${randomBytes(16).toString('hex')}`, user_id: user, msg_type: b.msg_type, content: b.content, ...(uuid ? { uuid } : {}), create_time: String(Date.now()) };
      bot.messages.push(message);
    }
    ok(ctx, {
      message_id: message.message_id,
      root_id: '',
      parent_id: '',
      msg_type: message.msg_type,
      create_time: message.create_time,
      update_time: message.create_time,
      deleted: false,
      updated: false,
      chat_id: `oc_${openIdOf(user).slice(3)}`,
      sender: { id: model.appId, id_type: 'app_id', sender_type: 'app', tenant_key: 'sim-tenant' },
      body: { content: message.content },
    });
  });

  router.post('/open-apis/approval/v4/instances/cancel', guard, (ctx) => {
    const b = body(ctx);
    for (const k of ['approval_code', 'instance_code', 'user_id']) {
      if (typeof b[k] !== 'string' || b[k] === '') throw new LarkApiError(1390001, `param is invalid: ${k} is required`);
    }
    const definition = model.definition(b.approval_code as string);
    const instance = model.instance(b.instance_code as string);
    if (instance.approval_code !== definition.approval_code) throw new LarkApiError(1390001, 'param is invalid: approval_code does not match the instance');
    if (definition.allow_withdraw === false) throw new LarkApiError(1390001, 'param is invalid: the approval does not allow withdrawing a pending instance');
    model.cancel(instance.instance_code, b.user_id as string);
    ok(ctx);
  });
}

/** Everyone the simulated tenant knows: approvers of its definitions, originators and assignees, its directory. */
function knownUsers(model: LarkModel): Set<string> {
  const users = new Set<string>(model.directory.values());
  for (const d of model.definitions.values()) for (const n of d.nodes) for (const u of n.approvers) users.add(u);
  for (const i of model.instances.values()) {
    users.add(i.user_id);
    for (const t of i.task_list) users.add(t.user_id);
  }
  return users;
}
