import type { Stage } from '../../engine/ticket.ts';
import type { Pipeline } from '../../pipeline/pipeline.generated.ts';
import type { LarkWidget } from './form.ts';

/** The parts of a Lark instance (GET /approval/v4/instances/:code) the engine reads. */
export interface LarkInstance {
  approval_code: string;
  instance_code: string;
  serial_number?: string;
  user_id: string;
  open_id?: string;
  department_id?: string;
  status: string;
  /** Revoked by its originator after approval (instance get: "单据是否被撤销"). */
  reverted?: boolean;
  form: LarkWidget[];
  task_list: Array<{ id: string; user_id?: string; status: string; node_id?: string; node_name?: string; custom_node_id?: string }>;
}

export function parseInstance(data: Record<string, unknown>): LarkInstance {
  let form: LarkWidget[] = [];
  try {
    form = typeof data.form === 'string' ? (JSON.parse(data.form) as LarkWidget[]) : [];
  } catch {
    form = [];
  }
  return { ...(data as unknown as LarkInstance), form, task_list: (data.task_list as LarkInstance['task_list']) ?? [] };
}

/** Which stage a node is: by the node's custom id first, by its name second. */
export function stageOfNode(pipeline: Pipeline, node: { customKey?: string; nodeName?: string }): Stage | undefined {
  for (const stage of ['check', 'execute'] as const) {
    const ref = pipeline.stages[stage]?.node;
    if (!ref) continue;
    if (ref.custom_id !== undefined && node.customKey && ref.custom_id === node.customKey) return stage;
    if (ref.name !== undefined && node.nodeName !== undefined && ref.name === node.nodeName) return stage;
  }
  return undefined;
}

/** Whether matching a node needs its name (read from the instance), i.e. a stage names its node by name. */
export const matchesByName = (pipeline: Pipeline) => ['check', 'execute'].some((s) => pipeline.stages[s as Stage]?.node?.name !== undefined);
