import type { WeComControl } from '../providers/wecom/api.ts';
import type { WcTemplate } from '../providers/wecom/simulator/model.ts';
import type { WeComSimulator } from '../providers/wecom/simulator/server.ts';

/** The runtime's WeCom settings for a simulator (its callback URL is set once the runtime listens). */
export function weComEnv(sim: WeComSimulator): NodeJS.ProcessEnv {
  return {
    WECOM_CORP_ID: sim.options.corpId,
    WECOM_APP_SECRET: sim.options.appSecret,
    WECOM_TOKEN: sim.options.token,
    WECOM_ENCODING_AES_KEY: sim.options.aesKey,
    WECOM_BASE_URL: sim.url,
  };
}

const title = (text: string) => [{ text, lang: 'zh_CN' }];
const control = (kind: string, id: string, label: string, config?: WeComControl['config'], require = 0): WeComControl => ({ property: { control: kind, id, title: title(label), placeholder: [], require, un_print: 0 }, ...(config ? { config } : {}) });

/**
 * A template with one control of each kind the create fills, shaped as 获取审批模板详情 shows them
 * (https://developer.work.weixin.qq.com/document/path/91982): ids "<Control>-<digits>", titles in zh_CN, selector
 * options with their keys, a date's type, a contact's type and mode, a table's children.
 */
export function weComTemplate(templateId: string, approvers: string[] = ['mgr-wang']): WcTemplate {
  return {
    templateId,
    name: '数据变更申请',
    controls: [
      control('Text', 'Text-1569573760849', '标题', undefined, 1),
      control('Number', 'Number-1569573760850', '影响行数'),
      control('Money', 'Money-1569573760851', '费用'),
      control('Date', 'Date-1569573760852', '执行日期', { date: { type: 'day' } }),
      control('DateRange', 'DateRange-1569573760853', '时间窗口', { date_range: { type: 'halfday' } }),
      control('Selector', 'Selector-1569573760854', '环境', { selector: { type: 'single', exp_type: 0, options: [{ key: 'option-1569573760854', value: title('生产') }, { key: 'option-1569573760855', value: title('测试') }] } }),
      control('Selector', 'Selector-1569573760856', '权限', { selector: { type: 'multi', exp_type: 0, options: [{ key: 'option-1569573760857', value: title('只读') }, { key: 'option-1569573760858', value: title('编辑') }] } }),
      control('Contact', 'Contact-1569573760859', '负责人', { contact: { type: 'single', mode: 'user' } }),
      control('Textarea', 'Textarea-1569573760860', 'SQL内容'),
      control('Date', 'Date-1569573760861', '开始时间', { date: { type: 'hour' } }),
      control('Contact', 'Contact-1569573760862', '部门', { contact: { type: 'multi', mode: 'department' } }),
      control('Table', 'Table-1569573760863', '明细', { table: { children: [control('Text', 'Text-1569573760864', '项目'), control('Money', 'Money-1569573760865', '金额')] } }),
    ],
    nodes: approvers.map((u) => ({ attr: 1 as const, approvers: [u] })),
  };
}
