import { record, text, type FileRule } from './rule.ts';

/**
 * Fields a business system cannot send when it creates the IM instance (`origin: api`), per the IM's create API.
 * Lark: an address control takes a region id of Lark's geographic library plus a detail line (form control
 * parameters page,
 * https://open.feishu.cn/document/uAjLw4CM/ukTMukTMukTM/reference/approval-v4/instance/approval-instance-form-control-parameters),
 * which a text address cannot become.
 */
export const createFields: FileRule = {
  name: 'create-fields',
  check(ctx) {
    if ((ctx.value.origin ?? 'im') !== 'api') return;
    const provider = text(record(ctx.value.provider)?.type);
    for (const [name, raw] of Object.entries(record(ctx.value.fields) ?? {})) {
      const type = text(record(raw)?.type);
      if (provider === 'lark' && type === 'address') {
        ctx.report(['fields', name, 'type'], 'value', `field "${name}": Lark's create API takes an address as a region id of its geographic library, not text, so an "address" field cannot be sent with "origin: api"; use "text"`);
      }
      // WeCom's applyevent (https://developer.work.weixin.qq.com/document/path/91853): a File control takes media ids
      // uploaded beforehand (media/upload), which Ticketflow does not do, and there is no document control.
      if (provider === 'wecom' && (type === 'attachments' || type === 'document')) {
        ctx.report(['fields', name, 'type'], 'value', `field "${name}": WeCom's create takes ${type === 'attachments' ? 'files as media ids uploaded beforehand, which Ticketflow does not do' : 'no document'}, so "${type}" fields cannot be sent; leave it out of the pipeline`);
      }
    }
  },
};
