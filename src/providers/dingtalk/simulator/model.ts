import { randomUUID } from 'node:crypto';

/** The approval state of a simulated DingTalk organisation: processes, instances, tasks per activity, and the events DingTalk pushes. */
export interface DtComponent {
  componentType: string;
  props: { id: string; label: string; required?: boolean; options?: string[] };
}

export interface DtActivity {
  activityId: string;
  name: string;
  approvers: string[];
  mode?: 'AND' | 'OR';
}

export interface DtProcess {
  processCode: string;
  name: string;
  formComponents: DtComponent[];
  activities: DtActivity[];
}

export interface DtTask {
  taskId: string;
  userId: string;
  status: 'RUNNING' | 'COMPLETED' | 'CANCELED';
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
  originatorDeptId: string;
  formComponentValues: Array<{ id: string; name: string; value: string; componentType: string }>;
  tasks: DtTask[];
  operationRecords: Array<{ userId: string; type: string; result: string; remark?: string; date: string }>;
  createTime: string;
  activityIndex: number;
}

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

export class DingTalkModel {
  readonly processes = new Map<string, DtProcess>();
  readonly instances = new Map<string, DtInstance>();
  /** The organisation's people by mobile number. */
  readonly directory = new Map<string, string>();
  private serial = 0;
  private taskSeq = 80_000_000_000;

  constructor(
    private readonly emit: (event: DtEvent) => void,
    readonly corpId = 'ding-sim-corp',
  ) {}

  defineProcess(p: DtProcess): DtProcess {
    this.processes.set(p.processCode, p);
    return p;
  }

  process(code: string): DtProcess {
    const p = this.processes.get(code);
    if (!p) throw new DingTalkApiError('processCodeError', 'the process code does not exist');
    return p;
  }

  instance(id: string): DtInstance {
    const i = this.instances.get(id);
    if (!i) throw new DingTalkApiError('instanceNotExist', 'the process instance does not exist');
    return i;
  }

  /** A requester starts an instance; values are addressed by control title (`name`). */
  start(input: { processCode: string; originatorUserId: string; deptId?: string; formComponentValues: Array<{ name: string; value: string }> }): DtInstance {
    const process = this.process(input.processCode);
    const values = process.formComponents.map((c) => {
      const given = input.formComponentValues.find((v) => v.name === c.props.label);
      if (c.props.required && (!given || given.value === '')) throw new DingTalkApiError('formConverterError', `the control "${c.props.label}" is required`);
      return { id: c.props.id, name: c.props.label, value: given?.value ?? '', componentType: c.componentType };
    });
    for (const v of input.formComponentValues) {
      if (!process.formComponents.some((c) => c.props.label === v.name)) throw new DingTalkApiError('illegalComponent', `no control titled "${v.name}"`);
    }
    const instance: DtInstance = {
      processInstanceId: randomUUID(),
      processCode: process.processCode,
      title: `${input.originatorUserId}提交的${process.name}`,
      businessId: String(202611230000 + ++this.serial),
      status: 'RUNNING',
      result: '',
      originatorUserId: input.originatorUserId,
      originatorDeptId: input.deptId ?? '1',
      formComponentValues: values,
      tasks: [],
      operationRecords: [],
      createTime: new Date().toISOString(),
      activityIndex: -1,
    };
    this.instances.set(instance.processInstanceId, instance);
    this.emitInstance(instance, 'start');
    this.advance(instance);
    return instance;
  }

  /** processInstances/execute: the task's current assignee agrees or refuses. */
  execute(input: { processInstanceId: string; taskId: string; actionerUserId: string; result: 'agree' | 'refuse'; remark?: string }): void {
    const instance = this.instance(input.processInstanceId);
    const task = instance.tasks.find((t) => t.taskId === input.taskId);
    if (!task) throw new DingTalkApiError('taskNotExist', 'the task does not exist');
    if (task.status !== 'RUNNING' || instance.status !== 'RUNNING') throw new DingTalkApiError('aflowProcessInstCanNotBeExecuted', 'the task has been executed or the instance is finished');
    if (task.userId !== input.actionerUserId) throw new DingTalkApiError('invalidActioner', 'the actioner is not the assignee of the task');
    this.finish(instance, task, input.result === 'agree' ? 'AGREE' : 'REFUSE', input.remark);
    if (input.result === 'refuse') {
      for (const t of instance.tasks.filter((x) => x.status === 'RUNNING')) this.cancelTask(instance, t);
      this.close(instance, 'COMPLETED', 'refuse');
      return;
    }
    const activity = this.activity(instance);
    const open = instance.tasks.filter((t) => t.activityId === task.activityId && t.status === 'RUNNING');
    if ((activity.mode ?? 'OR') === 'OR') {
      for (const t of open) this.cancelTask(instance, t);
      this.advance(instance);
    } else if (open.length === 0) {
      this.advance(instance);
    }
  }

  /** The originator withdraws (撤销) the instance. */
  terminate(processInstanceId: string): void {
    const instance = this.instance(processInstanceId);
    if (instance.status !== 'RUNNING') throw new DingTalkApiError('aflowProcessInstCanNotBeExecuted', 'the instance is finished');
    for (const t of instance.tasks.filter((x) => x.status === 'RUNNING')) this.cancelTask(instance, t);
    this.close(instance, 'TERMINATED', '');
  }

  comment(processInstanceId: string, userId: string, text: string): void {
    this.instance(processInstanceId).operationRecords.push({ userId, type: 'ADD_REMARK', result: 'NONE', remark: text, date: new Date().toISOString() });
  }

  private activity(instance: DtInstance): DtActivity {
    return this.process(instance.processCode).activities[instance.activityIndex]!;
  }

  private advance(instance: DtInstance): void {
    const activities = this.process(instance.processCode).activities;
    while (++instance.activityIndex < activities.length) {
      const a = activities[instance.activityIndex]!;
      if (a.approvers.length === 0) continue;
      for (const user of a.approvers) {
        const task: DtTask = { taskId: String(++this.taskSeq), userId: user, status: 'RUNNING', result: 'NONE', activityId: a.activityId, createTime: new Date().toISOString() };
        instance.tasks.push(task);
        this.emitTask(instance, task, 'start');
      }
      return;
    }
    this.close(instance, 'COMPLETED', 'agree');
  }

  private finish(instance: DtInstance, task: DtTask, result: 'AGREE' | 'REFUSE', remark?: string): void {
    task.status = 'COMPLETED';
    task.result = result;
    task.finishTime = new Date().toISOString();
    instance.operationRecords.push({ userId: task.userId, type: 'EXECUTE_TASK_NORMAL', result, remark, date: task.finishTime });
    this.emitTask(instance, task, 'finish', result === 'AGREE' ? 'agree' : 'refuse', remark);
  }

  private cancelTask(instance: DtInstance, task: DtTask): void {
    task.status = 'CANCELED';
    task.finishTime = new Date().toISOString();
    this.emitTask(instance, task, 'cancel');
  }

  private close(instance: DtInstance, status: 'COMPLETED' | 'TERMINATED', result: '' | 'agree' | 'refuse'): void {
    instance.status = status;
    instance.result = result;
    this.emitInstance(instance, status === 'TERMINATED' ? 'terminate' : 'finish', result || undefined);
  }

  private emitTask(instance: DtInstance, task: DtTask, type: string, result?: string, remark?: string): void {
    this.emit({ EventType: 'bpms_task_change', processInstanceId: instance.processInstanceId, processCode: instance.processCode, corpId: this.corpId, type, ...(result ? { result } : {}), staffId: task.userId, taskId: task.taskId, title: instance.title, createTime: Date.parse(task.createTime), ...(task.finishTime ? { finishTime: Date.parse(task.finishTime) } : {}), ...(remark ? { remark } : {}) });
  }

  private emitInstance(instance: DtInstance, type: string, result?: string): void {
    this.emit({ EventType: 'bpms_instance_change', processInstanceId: instance.processInstanceId, processCode: instance.processCode, corpId: this.corpId, type, ...(result ? { result } : {}), staffId: instance.originatorUserId, title: instance.title, createTime: Date.now(), ...(type !== 'start' ? { finishTime: Date.now() } : {}) });
  }
}
