import type { Pipeline } from '../pipeline/pipeline.generated.ts';
import { credentialVariables, readDefinition, type DefinitionApis } from './definitions.ts';
import { diagnose, type Finding } from './diagnose.ts';

/**
 * One run of the doctor checks: the pipeline `match`es its IM definition, has `drift`ed from it (findings), or was
 * not checked: `skipped` (no credentials for its IM: never a failure on its own) or `unreadable` (the IM refused or
 * failed the read).
 */
export type DefinitionCheck =
  | { status: 'match' | 'drift'; code: string; findings: Finding[]; notes: string[] }
  | { status: 'skipped'; code: string; reason: string }
  | { status: 'unreadable'; code: string; reason: string };

export const definitionCodeOf = (pipeline: Pipeline) => pipeline.provider.approval_code ?? pipeline.provider.process_code ?? pipeline.provider.template_id ?? '';

/** Reads the pipeline's IM definition through `apis` and compares it with the pipeline. */
export async function checkDefinition(apis: DefinitionApis, pipeline: Pipeline): Promise<DefinitionCheck> {
  const type = pipeline.provider.type;
  const code = definitionCodeOf(pipeline);
  const client = type === 'lark' ? apis.lark : type === 'dingtalk' ? apis.dingtalk : type === 'wecom' ? apis.wecom : undefined;
  if (!client) return { status: 'skipped', code, reason: `no credentials: set ${credentialVariables[type]}` };
  // A managed DingTalk form (provider.form) before its first apply: there is nothing to read yet.
  if (type === 'dingtalk' && !code) return { status: 'skipped', code, reason: 'the pipeline has no process_code yet: ticketflow apply creates its form' };
  let view;
  try {
    view = await readDefinition(apis, pipeline);
  } catch (e) {
    return { status: 'unreadable', code, reason: `could not read ${type} definition ${code}: ${(e as Error).message}` };
  }
  const assistant = 'assistantUserId' in client ? client.assistantUserId : '';
  const findings = diagnose(pipeline, view, assistant);
  const notes: string[] = [];
  if (type === 'lark' && (pipeline.origin ?? 'im') === 'im') notes.push(`Lark's definition does not say who approves a node; check that ${assistant} approves the check and execute nodes`);
  // The template does not show its flow: applyevent with use_template_approver takes the administrator's approvers.
  if (type === 'wecom') notes.push(`WeCom's template does not show its flow; check in 审批 → 模板管理 that the template's approvers are set and no node is 申请人自选 (the create uses the template's approvers)`);
  return { status: findings.length ? 'drift' : 'match', code, findings, notes };
}
