import { createHash, randomUUID } from 'node:crypto';

/**
 * The approval state of a simulated Lark tenant: definitions, instances, tasks per node, comments, and the v1
 * events Lark would push for every change. Plain in-memory objects (Lark is an external system; our own
 * state is always in PostgreSQL).
 */

export interface SimWidget {
  id: string;
  custom_id?: string;
  name: string;
  type: string;
  required?: boolean;
  /** For radioV2/checkboxV2: static options as [{value (key), text}]. */
  option?: Array<{ value: string; text: string }>;
}

export interface SimNode {
  node_id: string;
  custom_node_id?: string;
  name: string;
  /** Users assigned to the node; empty = auto-pass (START/END style). */
  approvers: string[];
  /** AND: every approver must approve (会签); OR: one is enough (或签). */
  mode?: 'AND' | 'OR';
}

export interface SimDefinition {
  approval_code: string;
  approval_name: string;
  form: SimWidget[];
  nodes: SimNode[];
  subscribed: boolean;
  /** Raised by every edit (`updateDefinition`); the definition-updated event carries it as `version_id`. */
  version?: number;
  /** 更多设置: 允许撤销审批中的申请 — whether the originator may withdraw a pending instance (approval/v4/instances/cancel); allowed unless false. */
  allow_withdraw?: boolean;
}

/**
 * Statuses as the v1 events carry them (approval task / instance event pages, e.g.
 * https://open.feishu.cn/document/server-docs/approval-v4/event/common-event/approval-instance-event). Instance get
 * documents only PENDING, APPROVED, REJECTED, CANCELED and DELETED, with `reverted: true` for a revoked instance;
 * what it shows for an instance closed by timeout is not documented, and the simulator shows OVERTIME_CLOSE.
 */
export type TaskStatus = 'PENDING' | 'APPROVED' | 'REJECTED' | 'TRANSFERRED' | 'DONE' | 'OVERTIME_CLOSE';
export type InstanceStatus = 'PENDING' | 'APPROVED' | 'REJECTED' | 'CANCELED' | 'DELETED' | 'OVERTIME_CLOSE';

export interface SimTask {
  id: string;
  user_id: string;
  open_id: string;
  status: TaskStatus;
  node_id: string;
  node_name: string;
  custom_node_id: string;
  type: 'AND' | 'OR';
  start_time: string;
  end_time: string;
}

export interface SimInstance {
  approval_code: string;
  approval_name: string;
  instance_code: string;
  serial_number: string;
  user_id: string;
  open_id: string;
  department_id: string;
  status: InstanceStatus;
  start_time: string;
  end_time: string;
  uuid: string;
  /** Revoked by its originator after approval (instance get: `reverted`). */
  reverted: boolean;
  form: string;
  task_list: SimTask[];
  comment_list: Array<{ id: string; user_id: string; open_id: string; comment: string; create_time: string }>;
  timeline: Array<Record<string, unknown>>;
  nodeIndex: number;
}

/** A v1 event body (`event` of the schema 1.0 envelope). */
export type SimEvent = Record<string, unknown> & { type: 'approval_task' | 'approval_instance'; instance_code: string };

export class LarkApiError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly httpStatus = 400,
  ) {
    super(message);
  }
}

export const openIdOf = (userId: string) => `ou_${createHash('sha256').update(userId).digest('hex').slice(0, 32)}`;

/** Everything a tenant holds, as plain JSON: what sandbox mode keeps across restarts. */
export interface SimulatorState {
  version: 1;
  definitions: SimDefinition[];
  instances: SimInstance[];
  directory: Array<[mobile: string, userId: string]>;
  serial: number;
}

export class LarkModel {
  readonly definitions = new Map<string, SimDefinition>();
  /** The tenant's people by mobile number (contact lookup). */
  readonly directory = new Map<string, string>();
  readonly instances = new Map<string, SimInstance>();
  private readonly byUuid = new Map<string, string>();
  private serial = 0;
  private clock: () => number;
  private onChange?: () => void;

  private readonly emitSchema2?: (eventType: string, event: Record<string, unknown>, queue: string) => void;

  constructor(
    private readonly emit: (event: SimEvent) => void,
    options: { now?: () => number; appId?: string; emitSchema2?: (eventType: string, event: Record<string, unknown>, queue: string) => void } = {},
  ) {
    this.clock = options.now ?? Date.now;
    this.appId = options.appId ?? 'cli_simulator00000000';
    this.emitSchema2 = options.emitSchema2;
  }

  readonly appId: string;

  /** Called after every change of the tenant's state (definitions, subscriptions, instances, tasks, comments). */
  watch(onChange: () => void): void {
    this.onChange = onChange;
  }

  snapshot(): SimulatorState {
    return { version: 1, definitions: [...this.definitions.values()], instances: [...this.instances.values()], directory: [...this.directory], serial: this.serial };
  }

  /** Takes over a snapshot's state, in place of the current one (no event is pushed). */
  restore(state: SimulatorState): void {
    for (const map of [this.definitions, this.instances, this.byUuid, this.directory]) map.clear();
    for (const d of state.definitions) this.definitions.set(d.approval_code, d);
    for (const i of state.instances) {
      this.instances.set(i.instance_code, i);
      if (i.uuid) this.byUuid.set(i.uuid.toLowerCase(), i.instance_code);
    }
    for (const [mobile, userId] of state.directory) this.directory.set(mobile, userId);
    this.serial = state.serial;
  }

  defineApproval(def: Omit<SimDefinition, 'subscribed'> & { subscribed?: boolean }): SimDefinition {
    const d: SimDefinition = { ...def, subscribed: def.subscribed ?? false };
    this.definitions.set(d.approval_code, d);
    this.onChange?.();
    return d;
  }

  /**
   * An administrator edits the definition in Lark's approval admin (its name, form or flow), and publishes it.
   * Lark then pushes 审批定义更新, `approval.approval.updated_v4`, a schema 2.0 event, to an app that subscribed to
   * the definition (its prerequisites: the event subscribed in the developer console, and the definition subscribed
   * with approval/v4/approvals/:code/subscribe; https://open.feishu.cn/document/server-docs/approval-v4/event/common-event/custom-approval-event).
   * `event.object` as the page's table gives it: approval_code, approval_id, version_id, widget_group_type (0: no
   * widget group), form_definition_id, process_obj, timestamp (seconds; an int in the page's table, a string in the
   * SDK's type) and extra. Where the simulator differs: instances in flight follow the edited flow (Lark keeps an
   * instance on the version it started with).
   */
  updateDefinition(code: string, change: Partial<Pick<SimDefinition, 'approval_name' | 'form' | 'nodes'>>): SimDefinition {
    const d = this.definition(code);
    Object.assign(d, change);
    d.version = (d.version ?? 1) + 1;
    this.onChange?.();
    if (d.subscribed) {
      const digest = (v: unknown) => createHash('sha256').update(JSON.stringify(v)).digest('hex');
      this.emitSchema2?.(
        'approval.approval.updated_v4',
        {
          object: {
            approval_code: d.approval_code,
            approval_id: BigInt(`0x${digest(d.approval_code).slice(0, 15)}`).toString(),
            version_id: String(d.version),
            widget_group_type: 0,
            form_definition_id: BigInt(`0x${digest(d.form).slice(0, 15)}`).toString(),
            process_obj: JSON.stringify(d.nodes.map((n) => ({ node_id: n.node_id, custom_node_id: n.custom_node_id ?? '', name: n.name }))),
            timestamp: Math.floor(this.clock() / 1000),
            extra: '',
          },
        },
        `definition:${d.approval_code}`,
      );
    }
    return d;
  }

  definition(code: string): SimDefinition {
    const d = this.definitions.get(code);
    if (!d) throw new LarkApiError(1390002, 'approval code not found');
    return d;
  }

  /** An instance by its code, or by the uuid it was created with (instance get accepts both). */
  instance(code: string): SimInstance {
    const i = this.instances.get(code) ?? this.instances.get(this.byUuid.get(code.toLowerCase()) ?? '');
    if (!i) throw new LarkApiError(1390003, 'instance code not found');
    return i;
  }

  subscribe(code: string): void {
    const d = this.definition(code);
    if (d.subscribed) throw new LarkApiError(1390007, 'subscription existed');
    d.subscribed = true;
    this.onChange?.();
  }

  /** The requester submits (or an app creates) an instance; the first node's tasks become PENDING. */
  createInstance(input: { approval_code: string; user_id: string; form: string; uuid?: string; department_id?: string }): SimInstance {
    const def = this.definition(input.approval_code);
    let widgets: Array<{ id?: string; type?: string; value?: unknown }>;
    try {
      widgets = JSON.parse(input.form);
      if (!Array.isArray(widgets)) throw new Error();
    } catch {
      throw new LarkApiError(1390001, 'param is invalid: form must be a JSON array string');
    }
    // "同一个 uuid 只能用于创建一个审批实例，如果冲突则创建失败并返回错误码 60012" (instance create page): any
    // reuse, whatever the content. Its HTTP status and message are not documented; 400 as the page's other errors.
    if (input.uuid && this.byUuid.has(input.uuid.toLowerCase())) throw new LarkApiError(60012, 'OpenApiErrorCodeUuidConflict: uuid conflict');
    const formValues = def.form.map((w) => {
      const given = widgets.find((g) => g.id === w.id || g.id === w.custom_id);
      if (w.required && (given?.value === undefined || given.value === '')) throw new LarkApiError(1390001, `param is invalid: widget ${w.id} is required`);
      const value = given ? this.readValue(w, given.value) : '';
      // A contact widget reads back its users' open ids beside their user ids.
      const openIds = w.type === 'contact' && Array.isArray(value) ? { open_ids: value.map((u) => openIdOf(String(u))) } : {};
      return { id: w.id, custom_id: w.custom_id, name: w.name, type: w.type, value, ...openIds, ...this.readExt(w, given) };
    });
    const now = this.now();
    const instance: SimInstance = {
      approval_code: def.approval_code,
      approval_name: def.approval_name,
      instance_code: randomUUID().toUpperCase(),
      serial_number: String(202600000000 + ++this.serial),
      user_id: input.user_id,
      open_id: openIdOf(input.user_id),
      department_id: input.department_id ?? 'od-default',
      status: 'PENDING',
      start_time: now,
      end_time: '0',
      uuid: input.uuid ?? '',
      reverted: false,
      form: JSON.stringify(formValues),
      task_list: [],
      comment_list: [],
      timeline: [{ type: 'START', create_time: now, user_id: input.user_id, open_id: openIdOf(input.user_id) }],
      nodeIndex: -1,
    };
    this.instances.set(instance.instance_code, instance);
    // The uuid is case-insensitive ("不区分大小写").
    if (input.uuid) this.byUuid.set(input.uuid.toLowerCase(), instance.instance_code);
    this.emitInstance(instance);
    this.advance(instance);
    return instance;
  }

  /** Create-time values differ from read-time ones: a radioV2 takes the option key and reads back its text. */
  private readValue(widget: SimWidget, value: unknown): unknown {
    if (widget.type === 'radioV2' && widget.option) return widget.option.find((o) => o.value === value)?.text ?? value;
    if (widget.type === 'checkboxV2' && widget.option && Array.isArray(value)) {
      return value.map((v) => widget.option!.find((o) => o.value === v)?.text ?? v);
    }
    return value;
  }

  /**
   * The `ext` a control reads back with (instance get, 控件值说明): an attachmentV2's names as one string of quoted
   * names, "'Item 1 name','Item 2 name'"; an amount's currency.
   */
  private readExt(widget: SimWidget, given: { value?: unknown; ext?: unknown; currency?: unknown } | undefined): { ext?: unknown } {
    if (!given) return {};
    if (widget.type === 'attachmentV2' && Array.isArray(given.ext)) return { ext: given.ext.map((n) => `'${String(n)}'`).join(',') };
    if (widget.type === 'amount' && typeof given.currency === 'string') return { ext: { currency: given.currency } };
    return given.ext === undefined ? {} : { ext: given.ext };
  }

  approveTask(input: { approval_code: string; instance_code: string; user_id: string; task_id: string; comment?: string }): void {
    const { instance, task } = this.pendingTask(input);
    this.finishTask(instance, task, 'APPROVED', input.comment);
    const node = this.currentNode(instance);
    const siblings = instance.task_list.filter((t) => t.node_id === task.node_id && t.status === 'PENDING');
    if ((node.mode ?? 'OR') === 'OR') {
      for (const s of siblings) this.finishTask(instance, s, 'DONE');
      this.advance(instance);
    } else if (siblings.length === 0) {
      this.advance(instance);
    }
  }

  rejectTask(input: { approval_code: string; instance_code: string; user_id: string; task_id: string; comment?: string }): void {
    const { instance, task } = this.pendingTask(input);
    this.finishTask(instance, task, 'REJECTED', input.comment);
    for (const t of instance.task_list.filter((t) => t.status === 'PENDING')) this.finishTask(instance, t, 'DONE');
    this.closeInstance(instance, 'REJECTED');
  }

  /** The assignee hands the task to someone else on the same node. */
  transferTask(input: { instance_code: string; task_id: string; user_id: string; to_user_id: string }): SimTask {
    const instance = this.instance(input.instance_code);
    const task = this.pendingTask({ approval_code: instance.approval_code, ...input }).task;
    this.finishTask(instance, task, 'TRANSFERRED');
    return this.openTask(instance, this.currentNode(instance), input.to_user_id);
  }

  /** The requester recalls the instance. */
  cancel(instanceCode: string, userId: string): void {
    const instance = this.instance(instanceCode);
    if (instance.user_id !== userId) throw new LarkApiError(1390001, 'param is invalid: only the originator can recall');
    if (instance.status !== 'PENDING') throw new LarkApiError(1390001, 'param is invalid: instance is not pending');
    for (const t of instance.task_list.filter((t) => t.status === 'PENDING')) this.finishTask(instance, t, 'DONE');
    this.closeInstance(instance, 'CANCELED');
  }

  /** The originator revokes an approved instance (撤销): the instance event says REVERTED; get shows `reverted`. */
  revert(instanceCode: string, userId: string): void {
    const instance = this.instance(instanceCode);
    if (instance.user_id !== userId) throw new LarkApiError(1390001, 'param is invalid: only the originator can revoke');
    if (instance.status !== 'APPROVED') throw new LarkApiError(1390001, 'param is invalid: only an approved instance can be revoked');
    instance.reverted = true;
    this.emitInstance(instance, 'REVERTED');
  }

  /** The definition's timeout closes a pending instance: open tasks and the instance say OVERTIME_CLOSE. */
  timeOut(instanceCode: string): void {
    const instance = this.instance(instanceCode);
    if (instance.status !== 'PENDING') throw new LarkApiError(1390001, 'param is invalid: instance is not pending');
    for (const t of instance.task_list.filter((t) => t.status === 'PENDING')) this.finishTask(instance, t, 'OVERTIME_CLOSE');
    this.closeInstance(instance, 'OVERTIME_CLOSE');
  }

  /** An administrator recovers a timed-out instance: its closed tasks are open again (OVERTIME_RECOVER events). */
  recover(instanceCode: string): void {
    const instance = this.instance(instanceCode);
    if (instance.status !== 'OVERTIME_CLOSE') throw new LarkApiError(1390001, 'param is invalid: instance is not closed by timeout');
    instance.status = 'PENDING';
    instance.end_time = '0';
    this.emitInstance(instance, 'OVERTIME_RECOVER');
    for (const t of instance.task_list.filter((t) => t.status === 'OVERTIME_CLOSE')) {
      t.status = 'PENDING';
      t.end_time = '0';
      this.emitTask(instance, t, 'OVERTIME_RECOVER');
    }
  }

  addComment(instanceCode: string, userId: string, content: string): { comment_id: string } {
    const instance = this.instance(instanceCode);
    let text: string;
    try {
      text = String((JSON.parse(content) as { text?: unknown }).text ?? '');
    } catch {
      throw new LarkApiError(1390001, 'param is invalid: content must be a JSON string');
    }
    const comment = { id: randomUUID(), user_id: userId, open_id: openIdOf(userId), comment: text, create_time: this.now() };
    instance.comment_list.push(comment);
    this.onChange?.();
    return { comment_id: comment.id };
  }

  private pendingTask(input: { approval_code?: string; instance_code: string; user_id: string; task_id: string }): { instance: SimInstance; task: SimTask } {
    const instance = this.instance(input.instance_code);
    if (input.approval_code && input.approval_code !== instance.approval_code) throw new LarkApiError(1390001, 'param is invalid: approval_code does not match the instance');
    const task = instance.task_list.find((t) => t.id === input.task_id);
    // Task approve/reject page: "400 | 1390010 | task not found".
    if (!task) throw new LarkApiError(1390010, 'task not found');
    if (task.user_id !== input.user_id) throw new LarkApiError(1390001, 'param is invalid: user is not the assignee of the task');
    if (task.status !== 'PENDING' || instance.status !== 'PENDING') throw new LarkApiError(1390001, 'param is invalid: task is not pending');
    return { instance, task };
  }

  private currentNode(instance: SimInstance): SimNode {
    return this.definition(instance.approval_code).nodes[instance.nodeIndex]!;
  }

  /** Moves to the next node with approvers (auto-passing empty ones), or approves the instance at the end. */
  private advance(instance: SimInstance): void {
    const nodes = this.definition(instance.approval_code).nodes;
    while (++instance.nodeIndex < nodes.length) {
      const node = nodes[instance.nodeIndex]!;
      if (node.approvers.length === 0) continue;
      for (const user of node.approvers) this.openTask(instance, node, user);
      return;
    }
    this.closeInstance(instance, 'APPROVED');
  }

  private openTask(instance: SimInstance, node: SimNode, userId: string): SimTask {
    const task: SimTask = {
      id: String(7_000_000_000_000_000 + Math.floor(Math.random() * 1e15)),
      user_id: userId,
      open_id: openIdOf(userId),
      status: 'PENDING',
      node_id: node.node_id,
      node_name: node.name,
      custom_node_id: node.custom_node_id ?? '',
      type: node.mode ?? 'OR',
      start_time: this.now(),
      end_time: '0',
    };
    instance.task_list.push(task);
    this.emitTask(instance, task);
    return task;
  }

  private finishTask(instance: SimInstance, task: SimTask, status: TaskStatus, comment?: string): void {
    task.status = status;
    task.end_time = this.now();
    if (comment) instance.timeline.push({ type: status === 'APPROVED' ? 'PASS' : 'REJECT', user_id: task.user_id, task_id: task.id, comment, create_time: this.now() });
    this.emitTask(instance, task);
  }

  private closeInstance(instance: SimInstance, status: InstanceStatus): void {
    instance.status = status;
    instance.end_time = this.now();
    this.emitInstance(instance);
  }

  private emitTask(instance: SimInstance, task: SimTask, status: string = task.status): void {
    this.onChange?.();
    this.emit({
      app_id: this.appId,
      tenant_key: 'sim-tenant',
      type: 'approval_task',
      approval_code: instance.approval_code,
      instance_code: instance.instance_code,
      task_id: task.id,
      user_id: task.user_id,
      open_id: task.open_id,
      status,
      operate_time: this.now(),
      custom_key: task.custom_node_id,
      def_key: task.node_id,
    });
  }

  private emitInstance(instance: SimInstance, status: string = instance.status): void {
    this.onChange?.();
    this.emit({
      app_id: this.appId,
      tenant_key: 'sim-tenant',
      type: 'approval_instance',
      approval_code: instance.approval_code,
      instance_code: instance.instance_code,
      status,
      operate_time: this.now(),
      instance_operate_time: this.now(),
      uuid: instance.uuid,
    });
  }

  private now(): string {
    return String(this.clock());
  }
}
