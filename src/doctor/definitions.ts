import type { Config } from '../config.ts';
import { createLogger } from '../log.ts';
import type { Pipeline } from '../pipeline/pipeline.generated.ts';
import { DingTalkApi, type DingTalkForecastRule, type DingTalkSchemaItem } from '../providers/dingtalk/api.ts';
import { LarkApi } from '../providers/lark/api.ts';
import { WeComApi, type WeComControl } from '../providers/wecom/api.ts';
import { textOf } from '../providers/wecom/form.ts';
import type { DefinitionView } from './diagnose.ts';

/**
 * The IM clients that read approval definitions: the runtime passes its own (their calls are counted against the
 * IM budget), the CLI builds them from the configuration (`definitionApis`). An IM without credentials is absent.
 */
export interface DefinitionApis {
  lark?: { api: LarkApi; assistantUserId: string };
  dingtalk?: { api: DingTalkApi; assistantUserId: string };
  /** WeCom has no assistant: its pipelines are `origin: api`. */
  wecom?: { api: WeComApi };
}

/** The clients the configuration allows: Lark only with real credentials (not the sandbox's), DingTalk when set. */
export function definitionApis(config: Config): DefinitionApis {
  const apis: DefinitionApis = {};
  if (config.lark.enabled && !config.sandbox) {
    const api = new LarkApi({ appId: config.lark.appId, appSecret: config.lark.appSecret, baseUrl: config.lark.baseUrl, log: createLogger('silent') });
    apis.lark = { api, assistantUserId: config.lark.assistantUserId ?? '' };
  }
  if (config.dingtalk) {
    const d = config.dingtalk;
    apis.dingtalk = { api: new DingTalkApi({ appKey: d.appKey, appSecret: d.appSecret, apiBaseUrl: d.apiBaseUrl, oapiBaseUrl: d.oapiBaseUrl }), assistantUserId: d.assistantUserId };
  }
  if (config.wecom) apis.wecom = { api: new WeComApi({ corpId: config.wecom.corpId, appSecret: config.wecom.appSecret, baseUrl: config.wecom.baseUrl }) };
  return apis;
}

/** The variables that give an IM's credentials, for "skipped: no credentials" messages. */
export const credentialVariables: Record<string, string> = {
  lark: 'LARK_APP_ID and LARK_APP_SECRET',
  dingtalk: 'DINGTALK_APP_KEY, DINGTALK_APP_SECRET and DINGTALK_ASSISTANT_USER_ID',
  wecom: 'WECOM_CORP_ID and WECOM_APP_SECRET',
};

/** Reads the IM approval definition a pipeline names, in the form doctor compares. The IM's client must be present. */
export async function readDefinition(apis: DefinitionApis, pipeline: Pipeline): Promise<DefinitionView> {
  if (pipeline.provider.type === 'lark' && apis.lark) {
    const d = await apis.lark.api.getApproval(pipeline.provider.approval_code!);
    const form = JSON.parse(String(d.form ?? '[]')) as Array<{ id: string; custom_id?: string; name: string; type: string }>;
    const nodes = (d.node_list as Array<{ name: string; node_id: string; custom_node_id?: string }>) ?? [];
    return {
      provider: 'lark',
      widgets: form.map((w) => ({ id: w.id, customId: w.custom_id || undefined, label: w.name, type: w.type })),
      // Lark's definition does not say who approves a node.
      nodes: nodes.filter((n) => n.node_id !== 'START' && n.node_id !== 'END').map((n) => ({ key: n.custom_node_id || undefined, name: n.name })),
    };
  }
  if (pipeline.provider.type === 'dingtalk' && apis.dingtalk) {
    const { api, assistantUserId } = apis.dingtalk;
    const code = pipeline.provider.process_code;
    if (!code) throw new Error('the pipeline has no process_code: its form is not created yet (ticketflow apply creates it)');
    // The forecast needs the starter's department (processes/forecast: deptId required): the assistant's, from 查询用户详情.
    const deptId = await api.userDepartment(assistantUserId);
    const [items, rules] = await Promise.all([api.formSchema(code), api.forecast(code, assistantUserId, deptId)]);
    return dingTalkDefinitionView(items, rules);
  }
  if (pipeline.provider.type === 'wecom' && apis.wecom) {
    return weComDefinitionView((await apis.wecom.api.templateDetail(pipeline.provider.template_id!)).controls);
  }
  throw new Error(`no ${pipeline.provider.type} client: set ${credentialVariables[pipeline.provider.type]}`);
}

/**
 * A WeCom template as doctor compares it (获取审批模板详情, https://developer.work.weixin.qq.com/document/path/91982):
 * controls by `property.id` and title; a Selector's type (single or multi) and a Contact's mode (user or department)
 * are part of its type here, since a field needs the right one. The template has no flow (its approvers are the
 * administrator's, and WeCom pipelines have no node of ours): no nodes.
 */
export function weComDefinitionView(controls: WeComControl[]): DefinitionView {
  const type = (c: WeComControl) => {
    const kind = c.property.control;
    if (kind === 'Selector') return `Selector/${c.config?.selector?.type ?? 'single'}`;
    if (kind === 'Contact') return `Contact/${c.config?.contact?.mode ?? 'user'}`;
    return kind;
  };
  return { provider: 'wecom', widgets: controls.map((c) => ({ id: c.property.id, label: textOf(c.property.title), type: type(c) })), nodes: [] };
}

/**
 * A DingTalk process as doctor compares it: controls by `props.id` and `props.label`
 * (https://open.dingtalk.com/document/development/obtain-the-form-schema), activities with their approvers'
 * `workNo`, which is the userId (https://open.dingtalk.com/document/development/approval-process-prediction).
 */
export function dingTalkDefinitionView(items: DingTalkSchemaItem[], rules: DingTalkForecastRule[]): DefinitionView {
  return {
    provider: 'dingtalk',
    widgets: items.map((i) => ({ id: i.props.id, label: i.props.label, type: i.componentName })),
    nodes: rules.map((a) => ({ key: a.activityId, name: a.activityName, approvers: a.workflowActor?.actorSelectionRange?.approvals?.map((x) => x.workNo) })),
  };
}
