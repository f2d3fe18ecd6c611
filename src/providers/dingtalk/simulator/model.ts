import { randomUUID } from 'node:crypto';

/** The approval state of a simulated DingTalk organisation: people, processes, instances, tasks per activity, and the events DingTalk pushes. */
export interface DtComponent {
  componentType: string;
  /** `options` are the options' values (labels), as the form schema shows them; other props are kept as given. */
  props: { id: string; label: string; required?: boolean; options?: string[]; format?: string; bizAlias?: string; placeholder?: string; [prop: string]: unknown };
  /** A TableField's columns. */
  children?: DtComponent[];
}

export interface DtActivity {
  activityId: string;
  name: string;
  approvers: string[];
  /**
   * The forecast's `approvalMethod` (https://open.dingtalk.com/document/development/approval-process-prediction):
   * ONE_BY_ONE (依次), AND (会签), OR (或签, the default here).
   */
  mode?: 'AND' | 'OR' | 'ONE_BY_ONE';
}

export interface DtProcess {
  processCode: string;
  name: string;
  /** The form's description, shown as `memo` by the schema read. */
  description?: string;
  formComponents: DtComponent[];
  activities: DtActivity[];
  /**
   * Ids of controls an administrator made branch conditions (分支条件) in the flow designer: an update may neither
   * change their type nor remove them (formschema.error, FORMS below).
   */
  conditionComponents?: string[];
  /**
   * 高级设置 → 撤销/修改审批单 → 允许提交人撤销审批中的审批单: whether TerminateProcessInstance may end its running
   * instances (internalError otherwise, src/providers/dingtalk/simulator/notifications.ts); allowed unless false.
   */
  allowRevoke?: boolean;
}

/** A member of the organisation, as 查询用户详情 shows them (https://open.dingtalk.com/document/development/query-user-details). */
export interface DtUser {
  userid: string;
  name: string;
  mobile?: string;
  /** Department ids; the root department is 1. */
  deptIds: number[];
}

export interface DtTask {
  /** Long in the documents (https://open.dingtalk.com/document/development/obtains-the-details-of-a-single-approval-instance-pop). */
  taskId: number;
  processInstanceId: string;
  userId: string;
  /** NEW is 未启动: a task of a sequential (依次) activity that its approver has not reached yet. */
  status: 'NEW' | 'RUNNING' | 'COMPLETED' | 'CANCELED';
  result: 'NONE' | 'AGREE' | 'REFUSE' | 'REDIRECTED';
  activityId: string;
  createTime: string;
  finishTime?: string;
}

export interface DtInstance {
  processInstanceId: string;
  processCode: string;
  title: string;
  businessId: string;
  status: 'RUNNING' | 'COMPLETED' | 'TERMINATED';
  result: '' | 'agree' | 'refuse';
  originatorUserId: string;
  /** 1 is the root department (shown as -1 when the instance is read). */
  originatorDeptId: number;
  formComponentValues: Array<{ id: string; name: string; value: string; componentType: string }>;
  tasks: DtTask[];
  operationRecords: Array<{ userId: string; type: string; result: string; remark?: string; date: string; activityId?: string }>;
  createTime: string;
  finishTime?: string;
  activityIndex: number;
}

/** The business fields of a bpms event; the transport (HTTP push or Stream) adds its own envelope. */
export type DtEvent = Record<string, unknown> & { EventType: 'bpms_task_change' | 'bpms_instance_change'; processInstanceId: string };

export class DingTalkApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly httpStatus = 400,
  ) {
    super(message);
  }
}

export const ROOT_DEPT = 1;

export class DingTalkModel {
  readonly processes = new Map<string, DtProcess>();
  readonly instances = new Map<string, DtInstance>();
  /** The organisation's people by user id. */
  readonly users = new Map<string, DtUser>();
  private serial = 0;
  private taskSeq = 80_000_000_000;

  constructor(private readonly emit: (event: DtEvent) => void) {}

  defineProcess(p: DtProcess): DtProcess {
    this.processes.set(p.processCode, p);
    return p;
  }

  /** Adds people to the organisation (in the root department unless told otherwise). */
  addUser(...users: Array<string | (Partial<DtUser> & { userid: string })>): void {
    for (const u of users) {
      const user = typeof u === 'string' ? { userid: u } : u;
      this.users.set(user.userid, { name: user.userid, deptIds: [ROOT_DEPT], ...user });
    }
  }

  user(userid: string): DtUser | undefined {
    return this.users.get(userid);
  }

  userByMobile(mobile: string): DtUser | undefined {
    return [...this.users.values()].find((u) => u.mobile === mobile);
  }

  // processCodeError: "获取审批模板失败或者模板已被删除" (https://open.dingtalk.com/document/development/create-an-approval-instance).
  process(code: string, errorCode = 'processCodeError'): DtProcess {
    const p = this.processes.get(code);
    if (!p) throw new DingTalkApiError(errorCode, '获取审批模板失败或者模板已被删除');
    return p;
  }

  /**
   * 创建或更新审批表单模板 (FORMS): without `processCode` a new process with the form, with one that process's form
   * replaced (its flow kept). Refusals are the page's codes. FORMS says a new form comes with a default flow
   * ("生成默认审批流程") but not what it holds: the simulator's has no approver activity.
   */
  saveForm(input: { processCode?: unknown; name?: unknown; description?: unknown; formComponents?: unknown }): DtProcess {
    const existing = input.processCode === undefined || input.processCode === '' ? undefined : this.processes.get(String(input.processCode));
    if (input.processCode !== undefined && input.processCode !== '' && !existing) throw new DingTalkApiError('processcode.error', 'processCode对应的审批流程不存在');
    // FORMS lists formName.error only as "已有相同名称表单"; a missing or too long name has no code of its own there,
    // and formName.error (说明 "表单名称错误") is the nearest.
    if (typeof input.name !== 'string' || input.name === '' || [...input.name].length > 200) throw new DingTalkApiError('formName.error', '表单名称错误: name is required, at most 200 characters');
    if ([...this.processes.values()].some((p) => p !== existing && p.name === input.name)) throw new DingTalkApiError('formName.error', '已有相同名称表单');
    // The rest is the form's content: formschema.error "%s" (表单schema不合法) with what is wrong.
    if (input.description !== undefined && (typeof input.description !== 'string' || [...input.description].length > 300)) throw schemaError('description is a string of at most 300 characters');
    if (!Array.isArray(input.formComponents) || input.formComponents.length === 0 || input.formComponents.length > 200) throw schemaError('formComponents holds 1 to 200 controls');
    const ids = new Set<string>();
    const components = input.formComponents.map((c, i) => storedComponent(c, `formComponents[${i}]`, ids, true));
    for (const id of existing?.conditionComponents ?? []) {
      const before = existing!.formComponents.find((c) => c.props.id === id);
      const after = components.find((c) => c.props.id === id);
      if (before && (!after || after.componentType !== before.componentType)) throw new DingTalkApiError('formschema.error', '流程条件分支中已使用的表单控件不可修改或删除');
    }
    const description = typeof input.description === 'string' ? input.description : '';
    if (existing) return Object.assign(existing, { name: input.name, description, formComponents: components });
    return this.defineProcess({ processCode: `PROC-${randomUUID().toUpperCase()}`, name: input.name, description, formComponents: components, activities: [] });
  }

  // processInstanceNotExist: "审批实例不存在" (https://open.dingtalk.com/document/development/obtains-the-details-of-a-single-approval-instance-pop).
  instance(id: string): DtInstance {
    const i = this.instances.get(id);
    if (!i) throw new DingTalkApiError('processInstanceNotExist', '审批实例不存在');
    return i;
  }

  /**
   * A requester starts an instance; values are addressed by control title (`name`). Without `deptId` it is a
   * start in the DingTalk app: the originator's first department is used (someone a test did not add joins the
   * root department). Through the API (`deptId` given) the originator must exist and belong to the department,
   * -1 meaning the root (processInstanceInvalidParameter: "发起人、审批人、抄送人的userid错误，发起部门id错误，发起人不在发起部门中",
   * https://open.dingtalk.com/document/development/create-an-approval-instance).
   */
  start(input: { processCode: string; originatorUserId: string; deptId?: number; formComponentValues: Array<{ name: string; value: string }> }): DtInstance {
    const process = this.process(input.processCode);
    if (input.deptId === undefined && !this.user(input.originatorUserId)) this.addUser(input.originatorUserId);
    const originator = this.user(input.originatorUserId);
    if (!originator) throw new DingTalkApiError('processInstanceInvalidParameter', `审批实例参数错误: 发起人 ${input.originatorUserId} 不存在`);
    const deptId = input.deptId === undefined ? originator.deptIds[0]! : input.deptId === -1 ? ROOT_DEPT : input.deptId;
    if (!originator.deptIds.includes(deptId)) throw new DingTalkApiError('processInstanceInvalidParameter', `审批实例参数错误: 发起人不在发起部门 ${input.deptId} 中`);
    const values = process.formComponents.map((c) => {
      const given = input.formComponentValues.find((v) => v.name === c.props.label);
      if (c.props.required && (!given || given.value === '')) throw new DingTalkApiError('formConverterError', `表单数据校验失败，失败控件：${c.props.label}`);
      if (given) checkDateValue(c, given.value);
      return { id: c.props.id, name: c.props.label, value: given?.value ?? '', componentType: c.componentType };
    });
    for (const v of input.formComponentValues) {
      if (!process.formComponents.some((c) => c.props.label === v.name)) throw new DingTalkApiError('illegalComponent', `表单组件入参错误: no control titled "${v.name}"`);
    }
    const now = new Date().toISOString();
    const instance: DtInstance = {
      processInstanceId: randomUUID(),
      processCode: process.processCode,
      title: `${originator.name}提交的${process.name}`,
      businessId: String(202611230000 + ++this.serial),
      status: 'RUNNING',
      result: '',
      originatorUserId: input.originatorUserId,
      originatorDeptId: deptId,
      formComponentValues: values,
      tasks: [],
      operationRecords: [{ userId: input.originatorUserId, type: 'START_PROCESS_INSTANCE', result: 'NONE', date: now }],
      createTime: now,
      activityIndex: -1,
    };
    this.instances.set(instance.processInstanceId, instance);
    this.emitInstance(instance, 'start');
    this.advance(instance);
    return instance;
  }

  /**
   * processInstances/execute: the task's current assignee agrees or refuses. Error codes from
   * https://open.dingtalk.com/document/development/approve-or-reject-the-approval-task; the page names none for
   * an unknown task id, so that is its generic `invalidParameter`.
   */
  execute(input: { processInstanceId: string; taskId: number; actionerUserId: string; result: 'agree' | 'refuse'; remark?: string }): void {
    const instance = this.instance(input.processInstanceId);
    const task = instance.tasks.find((t) => t.taskId === input.taskId);
    if (!task) throw new DingTalkApiError('invalidParameter', `同意或拒绝审批任务参数错误: no task ${input.taskId} in the instance`);
    if (task.status !== 'RUNNING' || instance.status !== 'RUNNING') throw new DingTalkApiError('aflowProcessInstCanNotBeExecuted', '审批状态异常，无法执行');
    // needAuth "没有同意拒绝审批的权限" is the page's nearest code for someone else's task.
    if (task.userId !== input.actionerUserId) throw new DingTalkApiError('needAuth', '没有同意拒绝审批的权限');
    this.finish(instance, task, input.result === 'agree' ? 'AGREE' : 'REFUSE', input.remark);
    if (input.result === 'refuse') {
      // What becomes of the other tasks is not documented: running ones are cancelled (with an event), not-started ones silently.
      for (const t of instance.tasks.filter((x) => x.status === 'RUNNING' || x.status === 'NEW')) this.cancelTask(instance, t, t.status === 'RUNNING');
      this.close(instance, 'COMPLETED', 'refuse');
      return;
    }
    const mode = this.activity(instance).mode ?? 'OR';
    const ofActivity = instance.tasks.filter((t) => t.activityId === task.activityId);
    if (mode === 'OR') {
      // "cancel：说明当前节点有多个审批人并且是或签，其中一个人执行了审批，其他审批人会推送cancel类型事件"
      // (https://open.dingtalk.com/document/development/event-subscription-approval-event).
      for (const t of ofActivity.filter((x) => x.status === 'RUNNING')) this.cancelTask(instance, t, true);
      this.advance(instance);
    } else if (mode === 'ONE_BY_ONE') {
      const next = ofActivity.find((t) => t.status === 'NEW');
      if (next) this.startTask(instance, next);
      else this.advance(instance);
    } else if (!ofActivity.some((t) => t.status === 'RUNNING')) {
      this.advance(instance);
    }
  }

  /** The originator withdraws (撤销) the instance. */
  terminate(processInstanceId: string): void {
    const instance = this.instance(processInstanceId);
    if (instance.status !== 'RUNNING') throw new DingTalkApiError('aflowProcessInstCanNotBeExecuted', '审批状态异常，无法执行');
    for (const t of instance.tasks.filter((x) => x.status === 'RUNNING' || x.status === 'NEW')) this.cancelTask(instance, t, t.status === 'RUNNING');
    this.close(instance, 'TERMINATED', '');
  }

  comment(processInstanceId: string, userId: string, text: string): void {
    this.instance(processInstanceId).operationRecords.push({ userId, type: 'ADD_REMARK', result: 'NONE', remark: text, date: new Date().toISOString() });
  }

  private activity(instance: DtInstance): DtActivity {
    return this.process(instance.processCode).activities[instance.activityIndex]!;
  }

  /**
   * Opens the next activity with approvers. A sequential one (ONE_BY_ONE, 依次) has a task per approver at once:
   * the first RUNNING, the others NEW ("未启动") until their turn. The documents define NEW but do not say when
   * such tasks appear; this is the simulator's reading, and no start event is pushed for a NEW task.
   */
  private advance(instance: DtInstance): void {
    const activities = this.process(instance.processCode).activities;
    while (++instance.activityIndex < activities.length) {
      const a = activities[instance.activityIndex]!;
      if (a.approvers.length === 0) continue;
      a.approvers.forEach((user, i) => {
        const task: DtTask = { taskId: ++this.taskSeq, processInstanceId: instance.processInstanceId, userId: user, status: 'NEW', result: 'NONE', activityId: a.activityId, createTime: new Date().toISOString() };
        instance.tasks.push(task);
        if (a.mode !== 'ONE_BY_ONE' || i === 0) this.startTask(instance, task);
      });
      return;
    }
    this.close(instance, 'COMPLETED', 'agree');
  }

  private startTask(instance: DtInstance, task: DtTask): void {
    task.status = 'RUNNING';
    this.emitTask(instance, task, 'start');
  }

  private finish(instance: DtInstance, task: DtTask, result: 'AGREE' | 'REFUSE', remark?: string): void {
    task.status = 'COMPLETED';
    task.result = result;
    task.finishTime = new Date().toISOString();
    instance.operationRecords.push({ userId: task.userId, type: 'EXECUTE_TASK_NORMAL', result, remark, date: task.finishTime, activityId: task.activityId });
    this.emitTask(instance, task, 'finish', result === 'AGREE' ? 'agree' : 'refuse', remark);
  }

  private cancelTask(instance: DtInstance, task: DtTask, announce: boolean): void {
    task.status = 'CANCELED';
    task.finishTime = new Date().toISOString();
    if (announce) this.emitTask(instance, task, 'cancel');
  }

  private close(instance: DtInstance, status: 'COMPLETED' | 'TERMINATED', result: '' | 'agree' | 'refuse'): void {
    instance.status = status;
    instance.result = result;
    instance.finishTime = new Date().toISOString();
    this.emitInstance(instance, status === 'TERMINATED' ? 'terminate' : 'finish', result || undefined);
  }

  // The fields of the examples on https://open.dingtalk.com/document/development/event-bpms-task-change and
  // .../event-bpms-instance-change: taskId a number, times in epoch milliseconds.
  private emitTask(instance: DtInstance, task: DtTask, type: string, result?: string, remark?: string): void {
    this.emit({ EventType: 'bpms_task_change', processInstanceId: instance.processInstanceId, processCode: instance.processCode, businessId: instance.businessId, title: instance.title, type, ...(result ? { result } : {}), staffId: task.userId, taskId: task.taskId, createTime: Date.parse(task.createTime), ...(task.finishTime ? { finishTime: Date.parse(task.finishTime) } : {}), ...(remark ? { remark } : {}) });
  }

  private emitInstance(instance: DtInstance, type: string, result?: string): void {
    this.emit({ EventType: 'bpms_instance_change', processInstanceId: instance.processInstanceId, processCode: instance.processCode, businessId: instance.businessId, title: instance.title, type, ...(result ? { result } : {}), staffId: instance.originatorUserId, createTime: Date.parse(instance.createTime), ...(instance.finishTime ? { finishTime: Date.parse(instance.finishTime) } : {}) });
  }
}

/**
 * The create page's date formats: DDDateField "value 仅支持 yyyy-MM-dd 一种格式", DDDateRangeField a JSON array of
 * two such dates (https://open.dingtalk.com/document/development/create-an-approval-instance). Another page
 * (oa-formcomponent-message) shows "yyyy-MM-dd HH:mm" for a date control; the simulator follows the create page.
 */
function checkDateValue(c: DtComponent, value: string): void {
  const day = /^\d{4}-\d{2}-\d{2}$/;
  let ok = true;
  if (c.componentType === 'DDDateField') ok = day.test(value);
  if (c.componentType === 'DDDateRangeField') {
    try {
      const range = JSON.parse(value) as unknown;
      ok = Array.isArray(range) && range.length === 2 && range.every((d) => typeof d === 'string' && day.test(d));
    } catch {
      ok = false;
    }
  }
  if (!ok) throw new DingTalkApiError('formConverterError', `表单数据校验失败，失败控件：${c.props.label} (dates are yyyy-MM-dd)`);
}

// FORMS: https://open.dingtalk.com/document/development/create-an-approval-form-template ("官方OA审批模板仅支持文档下方所展示的
// 审批组件，其他组件均不支持": the components of its samples); COMPONENTS: https://open.dingtalk.com/document/development/oa-formcomponent-message
// (label ≤ 20 characters, componentId ≤ 64, "与bizAlias二选一", options `{value, key}` with key "非必填，系统会默认生成").
const FORM_COMPONENTS = new Set(['TextField', 'TextareaField', 'NumberField', 'DDSelectField', 'DDMultiSelectField', 'DDDateField', 'DDDateRangeField', 'TextNote', 'PhoneField', 'DDPhotoField', 'MoneyField', 'TableField', 'DDAttachment', 'InnerContactField', 'DepartmentField', 'RelateField', 'AddressField', 'StarRatingField']);

const schemaError = (what: string) => new DingTalkApiError('formschema.error', `表单schema不合法: ${what}`);

/** One control of a save, checked and stored as the schema read shows it. */
function storedComponent(raw: unknown, at: string, ids: Set<string>, topLevel: boolean): DtComponent {
  const c = raw as { componentType?: unknown; props?: Record<string, unknown>; children?: unknown };
  if (typeof c?.componentType !== 'string' || !FORM_COMPONENTS.has(c.componentType)) throw schemaError(`${at}.componentType ${JSON.stringify(c?.componentType)} is not a supported component`);
  const props = c.props;
  if (typeof props !== 'object' || props === null) throw schemaError(`${at}.props is required`);
  const label = props.label;
  if (c.componentType !== 'TextNote' && (typeof label !== 'string' || label === '')) throw schemaError(`${at}.props.label is required`);
  // A date range's label is the JSON array of its two titles: COMPONENTS does not say whether the 20 characters
  // count that string or each title; each title is counted.
  const titles = c.componentType === 'DDDateRangeField' ? rangeTitles(String(label)) : [String(label ?? '')];
  if (!titles) throw schemaError(`${at}.props.label of a DDDateRangeField is the JSON array of two titles`);
  if (titles.some((t) => [...t].length > 20)) throw schemaError(`${at}.props.label is longer than 20 characters`);
  // The page's own request example has controls with neither componentId nor bizAlias: the simulator then assigns an id.
  const id = typeof props.componentId === 'string' && props.componentId !== '' ? props.componentId : typeof props.bizAlias === 'string' && props.bizAlias !== '' ? props.bizAlias : `${c.componentType}_${randomUUID().slice(0, 12).toUpperCase()}`;
  if (id.length > 64) throw schemaError(`${at}.props.componentId is longer than 64 characters`);
  if (ids.has(id)) throw schemaError(`${at}.props.componentId "${id}" is used twice`);
  ids.add(id);
  let options: string[] | undefined;
  if (c.componentType === 'DDSelectField' || c.componentType === 'DDMultiSelectField') {
    if (!Array.isArray(props.options) || props.options.length === 0) throw schemaError(`${at}.props.options is required for a ${c.componentType}`);
    options = props.options.map((o, j) => {
      const option = o as { value?: unknown; key?: unknown };
      if (typeof option !== 'object' || option === null || typeof option.value !== 'string') throw schemaError(`${at}.props.options[${j}] is an object {key, value}`);
      return option.value;
    });
  }
  let children: DtComponent[] | undefined;
  if (c.componentType === 'TableField') {
    if (!topLevel || !Array.isArray(c.children) || c.children.length === 0) throw schemaError(`${at}: a TableField is a top-level control with children`);
    children = c.children.map((x, j) => storedComponent(x, `${at}.children[${j}]`, ids, false));
  }
  const { componentId: _id, options: _options, ...rest } = props;
  return { componentType: c.componentType, props: { ...rest, id, label: String(label ?? ''), required: props.required === true, ...(options ? { options } : {}) }, ...(children ? { children } : {}) };
}

function rangeTitles(label: string): string[] | undefined {
  try {
    const v = JSON.parse(label) as unknown;
    return Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined;
  } catch {
    return undefined;
  }
}
