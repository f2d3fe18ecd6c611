import { readFileSync } from 'node:fs';
import type { DtProcess } from '../providers/dingtalk/simulator/model.ts';
import type { DingTalkSimulator } from '../providers/dingtalk/simulator/server.ts';

/** The runtime's DingTalk settings for a simulator, over HTTP push or Stream mode. */
export function dingTalkEnv(sim: DingTalkSimulator, mode: 'http' | 'stream' = 'http'): NodeJS.ProcessEnv {
  return {
    DINGTALK_APP_KEY: sim.options.appKey,
    DINGTALK_APP_SECRET: sim.options.appSecret,
    DINGTALK_API_BASE_URL: sim.url,
    DINGTALK_OAPI_BASE_URL: sim.url,
    DINGTALK_ASSISTANT_USER_ID: 'dt-assistant',
    ...(mode === 'http'
      ? { DINGTALK_TOKEN: sim.options.token, DINGTALK_AES_KEY: sim.options.aesKey }
      : { DINGTALK_EVENT_MODE: 'stream', DINGTALK_STREAM_URL: `${sim.url}/v1.0/gateway/connections/open` }),
  };
}

type Control = readonly [title: string, type: 'TextField' | 'TextareaField'];

/** CloudDM's guide, 表单设计 → 数据变更工单: its twelve controls, 单行输入框 (TextField) or 多行输入框 (TextareaField), in its order. */
export const CLOUDDM_DATA_CHANGE_CONTROLS: readonly Control[] = [
  ['工单类型', 'TextField'],
  ['工单标题', 'TextField'],
  ['备注信息', 'TextareaField'],
  ['关联实例', 'TextField'],
  ['关联实例信息', 'TextField'],
  ['实例类型', 'TextField'],
  ['关联库', 'TextField'],
  ['预计影响行数', 'TextField'],
  ['分析的SQL数量', 'TextField'],
  ['分析的SQL结果汇总', 'TextareaField'],
  ['SQL内容', 'TextareaField'],
  ['审批意见', 'TextareaField'],
];

/** CloudDM's guide, 表单设计 → 权限申请工单: its nine controls, in its order. */
export const CLOUDDM_PERMISSION_CONTROLS: readonly Control[] = [
  ['工单类型', 'TextField'],
  ['工单标题', 'TextField'],
  ['备注信息', 'TextareaField'],
  ['关联实例', 'TextField'],
  ['关联实例信息', 'TextField'],
  ['实例类型', 'TextField'],
  ['关联库', 'TextField'],
  ['申请的权限', 'TextField'],
  ['审批意见', 'TextareaField'],
];

const components = (controls: readonly Control[]) => controls.map(([label, componentType], i) => ({ componentType, props: { id: `${componentType}-${i}`, label } }));

/**
 * CloudDM数据变更工单 as CloudDM uses it (pipelines/clouddm-data-change.yaml, origin: api): the guide's twelve
 * controls and a flow of approvers only, as the guide lets an administrator design it (no assistant node).
 */
export function cloudDmDataChangeProcess(processCode = 'PROC-CLOUDDM-DATA-CHANGE', dbas: string[] = ['dba-li', 'dba-wang']): DtProcess {
  return { processCode, name: 'CloudDM数据变更工单', formComponents: components(CLOUDDM_DATA_CHANGE_CONTROLS), activities: [{ activityId: 'act_dba', name: 'DBA 审批', approvers: dbas, mode: 'OR' }] };
}

/** CloudDM权限申请工单 as CloudDM uses it (pipelines/clouddm-permission.yaml, origin: api): the guide's nine controls, approvers only. */
export function cloudDmPermissionProcess(processCode = 'PROC-CLOUDDM-PERMISSION', dbas: string[] = ['dba-li', 'dba-wang']): DtProcess {
  return { processCode, name: 'CloudDM权限申请工单', formComponents: components(CLOUDDM_PERMISSION_CONTROLS), activities: [{ activityId: 'act_dba', name: 'DBA 审批', approvers: dbas, mode: 'OR' }] };
}

/**
 * The DingTalk flow tests' form filled in by the requester (origin: im): pipeline `clouddm-data-change-im` of
 * src/providers/dingtalk/testdata/pipelines/, with the twelve controls of CloudDM's data change form.
 */
export const DATA_CHANGE_IM = { name: 'clouddm-data-change-im', processCode: 'PROC-CLOUDDM-DATA-CHANGE-IM', file: 'clouddm-data-change-im.yaml' } as const;

/** DATA_CHANGE_IM's process: the twelve controls, the assistant's check and execute nodes around the DBAs'. */
export function dataChangeImProcess(processCode: string = DATA_CHANGE_IM.processCode, dbas: string[] = ['dba-li', 'dba-wang']): DtProcess {
  return {
    processCode,
    name: '数据变更工单',
    formComponents: components(CLOUDDM_DATA_CHANGE_CONTROLS),
    activities: [
      { activityId: 'act_sql_check', name: 'SQL 检查', approvers: ['dt-assistant'] },
      { activityId: 'act_dba', name: 'DBA 审批', approvers: dbas, mode: 'OR' },
      { activityId: 'act_sql_execute', name: 'SQL 执行', approvers: ['dt-assistant'] },
    ],
  };
}

/** DATA_CHANGE_IM's file as a startStack `extra`: its endpoints at `business` when given, then `edit`ed. */
export function dataChangeImPipeline(options: { business?: string; edit?: (text: string) => string } = {}): Record<string, string> {
  let text = readFileSync(new URL(`../providers/dingtalk/testdata/pipelines/${DATA_CHANGE_IM.file}`, import.meta.url), 'utf8');
  if (options.business) text = text.replace(/(endpoint): https:\/\/[^/\s]+/g, `$1: ${options.business}`);
  return { [DATA_CHANGE_IM.file]: options.edit ? options.edit(text) : text };
}
