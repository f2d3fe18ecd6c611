import { record, type FileRule, type RuleContext } from './rule.ts';

/**
 * A WeCom control is named by its id (`widget.id`, the template's `property.id`, e.g. "Text-1569573760849") or its
 * title (`widget.label`), as 获取审批模板详情 shows them (https://developer.work.weixin.qq.com/document/path/91982);
 * WeCom has no custom id (Lark's `custom_id`).
 */
export const wecomWidget: FileRule = {
  name: 'wecom-widget',
  check(ctx) {
    if (record(ctx.value.provider)?.type !== 'wecom') return;
    for (const [name, raw] of Object.entries(record(ctx.value.fields) ?? {})) {
      check(ctx, ['fields', name], record(raw));
      for (const [column, c] of Object.entries(record(record(raw)?.columns) ?? {})) check(ctx, ['fields', name, 'columns', column], record(c));
    }
  },
};

function check(ctx: RuleContext, path: string[], entry: Record<string, unknown> | undefined): void {
  const widget = record(entry?.widget);
  if (widget && 'custom_id' in widget) {
    ctx.report([...path, 'widget', 'custom_id'], 'key', `a WeCom control is named by "id" (its control id, e.g. Text-1569573760849) or "label" (its title), not "custom_id"`);
  }
}
