import type Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { DingTalkApiError, type DingTalkModel } from './model.ts';

/** A work notification as the simulator keeps it: to whom it was delivered, and to whom DingTalk dropped it. */
export interface DtNotification {
  task_id: number;
  agent_id: number;
  msg: Record<string, unknown>;
  /** People it reached. */
  delivered: string[];
  /** People it did not reach although the call succeeded: the same content within a day, or not in the organisation. */
  dropped: Array<{ userid: string; why: 'same_content_today' | 'not_in_organisation' }>;
  at: number;
}

export interface NotificationOptions {
  /** The app's AgentId: work notifications are sent by it. */
  agentId: number;
  /** TerminateProcessInstance refuses an instance younger than this (the page: 15 s); tests lower it. */
  terminateMinAgeMs: number;
}

/**
 * 工作通知 and 终止审批实例, on the simulator's router:
 *
 * - `POST /topapi/message/corpconversation/asyncsend_v2` (old API, https://open.dingtalk.com/document/development/asynchronous-sending-of-enterprise-session-messages):
 *   `agent_id`, `userid_list` (comma-separated, at most 100) and `msg` (one `msgtype`, at most 2048 bytes); answers
 *   `{errcode: 0, task_id, request_id}`. Delivery is asynchronous, and the page says "给同一员工一天只能发送一条内容
 *   相同的消息通知": the call succeeds, and a person who had the same content within the day does not get it again
 *   (`dropped`). The page lists no error codes: a malformed body, an unknown agent or too many people is answered
 *   `errcode 40035` here, the simulator's choice.
 * - `POST /v1.0/workflow/processInstances/terminate` (https://open.dingtalk.com/document/development/revoke-an-approval-instance):
 *   `processInstanceId` (invalidInstanceId), `isSystem` (invalidInstanceTerminateIsSystem when missing, although the
 *   table marks it optional), `operatingUserId` needed when `isSystem` is false and then the originator
 *   (invalidInstanceTerminateOperatingUserId); an unknown instance aflowProcessInstNotExist; a finished one, or one
 *   started less than 15 s ago, aflowProcessInstStatusException; a template that does not allow the submitter to
 *   withdraw (`allowRevoke: false`) internalError. Answers `{result: true, success: true}`.
 */
export function notificationRoutes(
  router: Router,
  deps: {
    model: DingTalkModel;
    options: NotificationOptions;
    /** The new API's guards (token, QPS, quota). */
    authed: Middleware;
    /** The old API's guards (`?access_token=`), then the handler's errcode body. */
    oapi: (handle: (ctx: Context) => Record<string, unknown>) => Middleware;
    body: (ctx: Context) => Record<string, unknown>;
    notifications: DtNotification[];
  },
): void {
  const { model, options, notifications } = deps;
  let taskSeq = 500_000_000;
  const refuse = (errmsg: string) => ({ errcode: 40035, errmsg });

  router.post(
    '/topapi/message/corpconversation/asyncsend_v2',
    deps.oapi((ctx) => {
      const b = deps.body(ctx);
      if (typeof b.agent_id !== 'number' || b.agent_id !== options.agentId) return refuse(`不合法的参数: agent_id ${JSON.stringify(b.agent_id)}`);
      if (typeof b.userid_list !== 'string' || !b.userid_list) return refuse('不合法的参数: userid_list');
      const users = b.userid_list.split(',').map((u) => u.trim()).filter(Boolean);
      if (users.length > 100) return refuse('不合法的参数: userid_list holds more than 100 user ids');
      const msg = b.msg as Record<string, unknown> | undefined;
      const types = ['text', 'image', 'voice', 'file', 'link', 'oa', 'markdown', 'action_card'];
      if (!msg || typeof msg.msgtype !== 'string' || !types.includes(msg.msgtype) || !(msg.msgtype in msg)) return refuse('不合法的参数: msg');
      if (Buffer.byteLength(JSON.stringify(msg)) > 2048) return refuse('不合法的参数: msg is over 2048 bytes');
      const now = Date.now();
      const content = JSON.stringify(msg);
      const notification: DtNotification = { task_id: ++taskSeq, agent_id: b.agent_id, msg, delivered: [], dropped: [], at: now };
      for (const userid of users) {
        const again = notifications.some((n) => n.at > now - 86_400_000 && n.delivered.includes(userid) && JSON.stringify(n.msg) === content);
        if (!model.user(userid)) notification.dropped.push({ userid, why: 'not_in_organisation' });
        else if (again) notification.dropped.push({ userid, why: 'same_content_today' });
        else notification.delivered.push(userid);
      }
      notifications.push(notification);
      return { errcode: 0, errmsg: 'ok', task_id: notification.task_id };
    }),
  );

  router.post('/v1.0/workflow/processInstances/terminate', deps.authed, (ctx) => {
    const b = deps.body(ctx);
    if (typeof b.processInstanceId !== 'string' || !b.processInstanceId) throw new DingTalkApiError('invalidInstanceId', '审批实例ID不能为空');
    if (typeof b.isSystem !== 'boolean') throw new DingTalkApiError('invalidInstanceTerminateIsSystem', '是否通过系统操作参数不能为空');
    const instance = model.instances.get(b.processInstanceId);
    if (!instance) throw new DingTalkApiError('aflowProcessInstNotExist', '审批实例不存在');
    if (!b.isSystem && (typeof b.operatingUserId !== 'string' || b.operatingUserId !== instance.originatorUserId)) throw new DingTalkApiError('invalidInstanceTerminateOperatingUserId', '操作人不能为空，且须为发起人');
    if (instance.status !== 'RUNNING' || Date.now() - Date.parse(instance.createTime) < options.terminateMinAgeMs) throw new DingTalkApiError('aflowProcessInstStatusException', '审批实例状态异常');
    if (model.process(instance.processCode).allowRevoke === false) throw new DingTalkApiError('internalError', '您没有任务处理的权限');
    model.terminate(instance.processInstanceId);
    ctx.body = { result: true, success: true };
  });
}
