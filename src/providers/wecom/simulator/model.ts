import type { WeComContent, WeComControl, WeComText } from '../api.ts';
import { textOf } from '../form.ts';

/**
 * The approval state of a simulated WeCom corp: members, templates, requests (审批申请) with their nodes and approvers,
 * and the sys_approval_change events WeCom sends. Each behaviour names the official page it follows:
 * APPLY = 提交审批申请 https://developer.work.weixin.qq.com/document/path/91853,
 * DETAIL = 获取审批申请详情 https://developer.work.weixin.qq.com/document/path/91983,
 * TEMPLATE = 获取审批模板详情 https://developer.work.weixin.qq.com/document/path/91982,
 * CALLBACK = 审批申请状态变化回调通知 https://developer.work.weixin.qq.com/document/path/91815.
 */

/** An error answer: WeCom answers HTTP 200 with `{errcode, errmsg}` (全局错误码, https://developer.work.weixin.qq.com/document/path/90313). */
export class WeComApiError extends Error {
  constructor(
    readonly errcode: number,
    message: string,
  ) {
    super(message);
  }
}

/** 301025 审批开放接口参数错误: the errmsg carries the detail (e.g. "creator_userid not in app visiable range"). */
const paramError = (detail: string) => new WeComApiError(301025, detail);

export interface WcUser {
  userid: string;
  name: string;
  mobile?: string;
  department?: string;
}

/** A template: its controls (TEMPLATE's shape) and the approval flow its administrator set (one entry per node). */
export interface WcTemplate {
  templateId: string;
  name: string;
  controls: WeComControl[];
  /** Approver nodes in order: `attr` 1 或签 (any one), 2 会签 (all) (DETAIL: approverattr). */
  nodes: Array<{ attr: 1 | 2; approvers: string[] }>;
  notifyer?: string[];
}

/** Node and approver statuses (DETAIL, sp_record): 1 审批中, 2 已同意, 3 已驳回, 4 已转审. */
export type WcRecordStatus = 1 | 2 | 3 | 4;

/** Request statuses (DETAIL, sp_status): 1 审批中, 2 已通过, 3 已驳回, 4 已撤销, 6 通过后撤销, 7 已删除, 10 已支付. */
export type WcStatus = 1 | 2 | 3 | 4 | 6 | 7 | 10;

export interface WcInstance {
  spNo: string;
  templateId: string;
  spName: string;
  creator: string;
  /** Unix seconds. */
  applyTime: number;
  status: WcStatus;
  nodes: Array<{ attr: 1 | 2; status: WcRecordStatus; approvers: Array<{ userid: string; status: WcRecordStatus; speech: string; sptime: number }> }>;
  notifyer: string[];
  /** As submitted (APPLY's shapes). */
  contents: WeComContent[];
  comments: Array<{ userid: string; time: number; content: string; id: string }>;
}

/** One sys_approval_change WeCom sends: `StatuChangeEvent` (CALLBACK: 1 提单, 2 同意, 3 驳回, 6 撤销, 8 通过后撤销, 10 添加备注) and the request as it is then. */
export interface WcEvent extends Record<string, unknown> {
  spNo: string;
  statuChangeEvent: number;
  createTime: number;
  instance: WcInstance;
}

export class WeComModel {
  readonly users = new Map<string, WcUser>();
  readonly templates = new Map<string, WcTemplate>();
  readonly instances = new Map<string, WcInstance>();
  private seq = 0;

  constructor(
    private readonly emit: (e: WcEvent) => void,
    private readonly now: () => number = Date.now,
  ) {}

  addUser(...users: Array<WcUser | string>): void {
    for (const u of users) {
      const user = typeof u === 'string' ? { userid: u, name: u } : u;
      this.users.set(user.userid, user);
    }
  }

  defineTemplate(t: WcTemplate): WcTemplate {
    this.templates.set(t.templateId, structuredClone(t));
    for (const node of t.nodes) for (const u of node.approvers) if (!this.users.has(u)) this.addUser(u);
    return t;
  }

  template(id: string): WcTemplate {
    const t = this.templates.get(id);
    if (!t) throw paramError(`invalid template_id: ${id}`);
    return t;
  }

  instance(spNo: string): WcInstance {
    const i = this.instances.get(spNo);
    if (!i) throw paramError(`invalid sp_no: ${spNo}`);
    return i;
  }

  /**
   * 提交审批申请 with the template's flow (use_template_approver 1): the contents are checked against the template
   * as APPLY's appendix describes each control; the request starts at its first node and WeCom tells the app (提单, 1).
   */
  apply(body: { creator_userid?: unknown; template_id?: unknown; use_template_approver?: unknown; apply_data?: { contents?: unknown } }): WcInstance {
    if (typeof body.template_id !== 'string' || !body.template_id) throw paramError('template_id is required');
    const template = this.template(body.template_id);
    if (typeof body.creator_userid !== 'string' || !this.users.has(body.creator_userid)) throw paramError('creator_userid not in app visiable range');
    // APPLY: 0 = the approvers given in the request (required then), 1 = the template's. The simulator models 1 only.
    if (body.use_template_approver !== 1) throw paramError('the simulator models use_template_approver 1 only (the template\'s approvers)');
    if (!template.nodes.length) throw paramError('the template has no approver');
    const contents = body.apply_data?.contents;
    if (!Array.isArray(contents)) throw paramError('apply_data.contents is required');
    checkContents(contents as WeComContent[], template.controls, this.users, 'apply_data.contents');
    const now = Math.floor(this.now() / 1000);
    const day = new Date(this.now() + 8 * 3_600_000).toISOString().slice(0, 10).replaceAll('-', '');
    // DETAIL's example numbers look like 201909270001: the day and a sequence.
    const spNo = `${day}${String(++this.seq).padStart(4, '0')}`;
    const i: WcInstance = {
      spNo,
      templateId: template.templateId,
      spName: template.name,
      creator: body.creator_userid,
      applyTime: now,
      status: 1,
      nodes: template.nodes.map((n) => ({ attr: n.attr, status: 1, approvers: n.approvers.map((u) => ({ userid: u, status: 1 as WcRecordStatus, speech: '', sptime: 0 })) })),
      notifyer: template.notifyer ?? [],
      contents: structuredClone(contents as WeComContent[]),
      comments: [],
    };
    this.instances.set(spNo, i);
    this.event(i, 1);
    return i;
  }

  /** An approver agrees in the WeCom client (no API does this: APPLY's overview lists none). */
  approve(spNo: string, userid: string, speech = ''): WcInstance {
    const { i, node, approver } = this.pendingFor(spNo, userid);
    approver.status = 2;
    approver.speech = speech;
    approver.sptime = Math.floor(this.now() / 1000);
    if (node.attr === 1 || node.approvers.every((a) => a.status === 2)) node.status = 2;
    if (i.nodes.every((n) => n.status === 2)) i.status = 2;
    this.event(i, 2);
    return i;
  }

  reject(spNo: string, userid: string, speech = ''): WcInstance {
    const { i, node, approver } = this.pendingFor(spNo, userid);
    approver.status = 3;
    approver.speech = speech;
    approver.sptime = Math.floor(this.now() / 1000);
    node.status = 3;
    i.status = 3;
    this.event(i, 3);
    return i;
  }

  /** The applicant withdraws a request in approval (撤销: StatuChangeEvent 6, sp_status 4). */
  withdraw(spNo: string): WcInstance {
    const i = this.instance(spNo);
    if (i.status !== 1) throw new Error(`request ${spNo} is not in approval`);
    i.status = 4;
    this.event(i, 6);
    return i;
  }

  /** Withdrawn after it passed (通过后撤销: StatuChangeEvent 8, sp_status 6). */
  revokeAfterPass(spNo: string): WcInstance {
    const i = this.instance(spNo);
    if (i.status !== 2) throw new Error(`request ${spNo} has not passed`);
    i.status = 6;
    this.event(i, 8);
    return i;
  }

  /** 添加备注 (StatuChangeEvent 10): the status does not change. */
  comment(spNo: string, userid: string, content: string): WcInstance {
    const i = this.instance(spNo);
    i.comments.push({ userid, time: Math.floor(this.now() / 1000), content, id: String(6_750_538_708_562_308_220n + BigInt(i.comments.length)) });
    this.event(i, 10);
    return i;
  }

  /**
   * Deleted (7) or paid (10). CALLBACK lists no StatuChangeEvent for either, and no page says WeCom calls back for
   * them: the simulator changes the status silently; a read (the reconciler) finds it.
   */
  setStatus(spNo: string, status: 7 | 10): WcInstance {
    const i = this.instance(spNo);
    i.status = status;
    return i;
  }

  private pendingFor(spNo: string, userid: string) {
    const i = this.instance(spNo);
    if (i.status !== 1) throw new Error(`request ${spNo} is not in approval`);
    const node = i.nodes.find((n) => n.status === 1);
    const approver = node?.approvers.find((a) => a.userid === userid && a.status === 1);
    if (!node || !approver) throw new Error(`${userid} has nothing to approve on ${spNo}`);
    return { i, node, approver };
  }

  private event(i: WcInstance, statuChangeEvent: number): void {
    this.emit({ spNo: i.spNo, statuChangeEvent, createTime: Math.floor(this.now() / 1000), instance: structuredClone(i) });
  }

  /** A request's form as DETAIL shows it: each control with its title, option texts and member names added. */
  shownContents(i: WcInstance): WeComContent[] {
    const template = this.templates.get(i.templateId);
    return shown(i.contents, template?.controls ?? [], this.users);
  }
}

function shown(contents: WeComContent[], controls: WeComControl[], users: Map<string, WcUser>): WeComContent[] {
  return contents.map((c) => {
    const control = controls.find((x) => x.property.id === c.id);
    const value = structuredClone(c.value) as Record<string, unknown>;
    const selector = value.selector as { options?: Array<{ key: string; value?: WeComText }> } | undefined;
    if (selector?.options) for (const o of selector.options) o.value = control?.config?.selector?.options?.find((x) => x.key === o.key)?.value ?? [];
    const members = value.members as Array<{ userid: string; name?: string }> | undefined;
    if (members) for (const m of members) m.name = users.get(m.userid)?.name ?? m.userid;
    const children = value.children as Array<{ list: WeComContent[] }> | undefined;
    if (children) value.children = children.map((row) => ({ list: shown(row.list, control?.config?.table?.children ?? [], users) }));
    return { control: c.control, id: c.id, title: control?.property.title ?? [], value };
  });
}

const numeric = (v: unknown) => typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v));
const seconds = (v: unknown) => (typeof v === 'number' || typeof v === 'string') && /^\d{1,10}$/.test(String(v));

/** APPLY's appendix, control by control; 301025 with the detail for anything else. */
function checkContents(contents: WeComContent[], controls: WeComControl[], users: Map<string, WcUser>, where: string): void {
  const seen = new Set<string>();
  for (const c of contents) {
    const control = controls.find((x) => x.property.id === c?.id);
    if (!control) throw paramError(`invalid control id: ${String(c?.id)} (${where})`);
    if (c.control !== control.property.control) throw paramError(`control ${c.id} is a ${control.property.control}, not ${String(c.control)}`);
    seen.add(c.id);
    const v = (c.value ?? {}) as Record<string, unknown>;
    const bad = (what: string) => paramError(`invalid value of control ${c.id} (${textOf(control.property.title)}): ${what}`);
    switch (control.property.control) {
      case 'Text':
      case 'Textarea':
        if (typeof v.text !== 'string') throw bad('{text} expected');
        break;
      case 'Number':
        if (!numeric(v.new_number)) throw bad('{new_number: "<number>"} expected');
        break;
      case 'Money':
        if (!numeric(v.new_money)) throw bad('{new_money: "<number>"} expected');
        break;
      case 'Date': {
        const d = v.date as { type?: unknown; s_timestamp?: unknown } | undefined;
        // "type must match the template config" (the appendix: day or hour as the control is set).
        if (!d || d.type !== (control.config?.date?.type ?? 'day') || !seconds(d.s_timestamp)) throw bad(`{date: {type: "${control.config?.date?.type ?? 'day'}", s_timestamp: "<seconds>"}} expected`);
        break;
      }
      case 'DateRange': {
        const r = v.date_range as { new_begin?: unknown; new_end?: unknown; new_duration?: unknown } | undefined;
        if (!r || !seconds(r.new_begin) || !seconds(r.new_end) || Number(r.new_end) < Number(r.new_begin) || typeof r.new_duration !== 'number') throw bad('{date_range: {new_begin, new_end, new_duration}} in seconds expected');
        break;
      }
      case 'Selector': {
        const s = v.selector as { type?: unknown; options?: Array<{ key?: unknown }> } | undefined;
        const type = control.config?.selector?.type ?? 'single';
        const keys = control.config?.selector?.options?.map((o) => o.key) ?? [];
        if (!s || s.type !== type || !Array.isArray(s.options) || s.options.length === 0) throw bad(`{selector: {type: "${type}", options: [{key}]}} expected`);
        if (type === 'single' && s.options.length !== 1) throw bad('a single selector takes one option');
        for (const o of s.options) if (!keys.includes(String(o.key))) throw bad(`unknown option key ${String(o.key)}`);
        break;
      }
      case 'Contact': {
        const mode = control.config?.contact?.mode ?? 'user';
        const list = (mode === 'user' ? v.members : v.departments) as Array<Record<string, unknown>> | undefined;
        if (!Array.isArray(list) || list.length === 0) throw bad(mode === 'user' ? '{members: [{userid}]} expected' : '{departments: [{openapi_id}]} expected');
        if ((control.config?.contact?.type ?? 'single') === 'single' && list.length !== 1) throw bad('a single contact takes one');
        if (mode === 'user') for (const m of list) if (typeof m.userid !== 'string' || !users.has(m.userid)) throw bad(`unknown userid ${String(m.userid)}`);
        break;
      }
      case 'File': {
        const files = v.files as Array<{ file_id?: unknown }> | undefined;
        // "一个审批申请单，全局仅支持上传6个附件".
        if (!Array.isArray(files) || files.some((f) => typeof f.file_id !== 'string') || files.length > 6) throw bad('{files: [{file_id}]}, at most 6, expected');
        break;
      }
      case 'Table': {
        const rows = v.children as Array<{ list?: unknown }> | undefined;
        if (!Array.isArray(rows)) throw bad('{children: [{list: [...]}]} expected');
        for (const row of rows) {
          if (!Array.isArray(row.list)) throw bad('each row is {list: [...]}');
          checkContents(row.list as WeComContent[], control.config?.table?.children ?? [], users, `${where} table ${c.id}`);
        }
        break;
      }
      default:
        // Formula "提交表单时无需填写，后台自动计算"; Tips has no value; the others are not modelled.
        throw bad(`the simulator does not take ${control.property.control} controls`);
    }
  }
  for (const control of controls) {
    if (control.property.require === 1 && !seen.has(control.property.id)) throw paramError(`control ${control.property.id} (${textOf(control.property.title)}) is required`);
  }
}
