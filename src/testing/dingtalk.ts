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

/** The CloudDM guide's 数据变更工单 as a DingTalk process: its twelve controls, the assistant's check and execute nodes around the DBAs'. */
export function cloudDmProcess(processCode: string, dbas: string[] = ['dba-li', 'dba-wang']): DtProcess {
  const labels = ['工单类型', '工单标题', '备注信息', '关联实例', '关联实例信息', '实例类型', '关联库', '预计影响行数', '分析的SQL数量', '分析的SQL结果汇总', 'SQL内容', '审批意见'];
  return {
    processCode,
    name: '数据变更工单',
    formComponents: labels.map((label, i) => ({ componentType: label === 'SQL内容' || label === '备注信息' ? 'TextareaField' : 'TextField', props: { id: `TextField-${i}`, label, required: ['工单类型', 'SQL内容'].includes(label) } })),
    activities: [
      { activityId: 'act_sql_check', name: 'SQL 检查', approvers: ['dt-assistant'] },
      { activityId: 'act_dba', name: 'DBA 审批', approvers: dbas, mode: 'OR' },
      { activityId: 'act_sql_execute', name: 'SQL 执行', approvers: ['dt-assistant'] },
    ],
  };
}
