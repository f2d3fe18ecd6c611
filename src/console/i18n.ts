export type Lang = 'zh' | 'en';

const messages = {
  title: { zh: 'Ticketflow 控制台', en: 'Ticketflow console' },
  dashboard: { zh: '概览', en: 'Dashboard' },
  pipelines: { zh: '流水线', en: 'Pipelines' },
  tickets: { zh: '工单', en: 'Tickets' },
  signIn: { zh: '使用飞书登录', en: 'Sign in with Lark' },
  signOut: { zh: '退出', en: 'Sign out' },
  signInTitle: { zh: '登录 Ticketflow', en: 'Sign in to Ticketflow' },
  notAllowed: { zh: '你的账号不在 TICKETFLOW_OPERATORS 或 TICKETFLOW_VIEWERS 中。', en: 'Your account is in neither TICKETFLOW_OPERATORS nor TICKETFLOW_VIEWERS.' },
  sandbox: { zh: '沙箱模式：未配置任何 IM（LARK_APP_ID、DINGTALK_APP_KEY），你已作为本地操作员登录，飞书为内置模拟器，仅监听本机地址。', en: 'Sandbox mode: no IM is configured (LARK_APP_ID, DINGTALK_APP_KEY), you are signed in as a local operator and Lark is the built-in simulator; it listens on loopback only.' },
  byState: { zh: '各状态工单数', en: 'Tickets by state' },
  failures24h: { zh: '最近 24 小时失败', en: 'Failures in the last 24 h' },
  live: { zh: '线上版本', en: 'Live version' },
  owner: { zh: '负责人', en: 'Owner' },
  provider: { zh: 'IM', en: 'IM' },
  stages: { zh: '阶段', en: 'Stages' },
  fields: { zh: '字段', en: 'Fields' },
  loadErrors: { zh: '加载错误（上一个正确版本仍在运行）', en: 'Load errors (the last good version stays live)' },
  none: { zh: '无', en: 'None' },
  urls: { zh: '粘贴到飞书的地址', en: 'URLs to paste into Lark' },
  eventCallback: { zh: '事件回调', en: 'Event callback' },
  externalOptions: { zh: '外部选项', en: 'External options' },
  copy: { zh: '复制', en: 'Copy' },
  versions: { zh: '版本历史', en: 'Versions' },
  diff: { zh: '对比', en: 'Diff' },
  filter: { zh: '筛选', en: 'Filter' },
  search: { zh: '工单 ID 或实例 Code', en: 'Ticket id or instance code' },
  applicant: { zh: '申请人', en: 'Applicant' },
  state: { zh: '状态', en: 'State' },
  any: { zh: '全部', en: 'Any' },
  from: { zh: '开始', en: 'From' },
  to: { zh: '结束', en: 'To' },
  created: { zh: '创建时间', en: 'Created' },
  next: { zh: '下一页', en: 'Next page' },
  pinned: { zh: '固定的流水线版本', en: 'Pinned pipeline version' },
  timeline: { zh: '时间线', en: 'Timeline' },
  calls: { zh: '调用记录', en: 'Calls' },
  request: { zh: '请求', en: 'Request' },
  response: { zh: '响应', en: 'Response' },
  actions: { zh: '操作', en: 'Actions' },
  retry: { zh: '重试', en: 'Retry' },
  reject: { zh: '驳回', en: 'Reject' },
  resolve: { zh: '标记为已解决', en: 'Mark as resolved' },
  comment: { zh: '备注（申请人可见）', en: 'Comment (the requester reads it)' },
  viewerOnly: { zh: '只读账号不能操作。', en: 'Viewers cannot act.' },
  empty: { zh: '没有工单。', en: 'No tickets.' },
  language: { zh: 'English', en: '中文' },
} as const;

export type MessageKey = keyof typeof messages;

export function t(lang: Lang, key: MessageKey): string {
  return messages[key][lang];
}

export function pickLang(query: string | undefined, cookie: string | undefined, acceptLanguage: string | undefined): Lang {
  const chosen = query ?? cookie;
  if (chosen === 'en' || chosen === 'zh') return chosen;
  return /^\s*en/i.test(acceptLanguage ?? '') ? 'en' : 'zh';
}
