import { isIP } from 'node:net';
import { isLoopback } from '../../security/loopback.ts';
import { record, stageNames, type FileRule, type RuleContext } from './rule.ts';

/**
 * Business calls (and state-change events) carry signed ticket data: https, or plain http only on loopback or when the
 * pipeline opts in.
 */
export const endpointUrl: FileRule = {
  name: 'endpoint-url',
  check(ctx) {
    const stages = record(ctx.value.stages);
    for (const stage of stageNames) {
      checkUrl(ctx, ['stages', stage, 'endpoint'], record(stages?.[stage])?.endpoint);
    }
    checkUrl(ctx, ['notify_url'], ctx.value.notify_url);
    checkUrl(ctx, ['events_url'], ctx.value.events_url);
    const fields = record(ctx.value.fields) ?? {};
    for (const [name, field] of Object.entries(fields)) {
      checkUrl(ctx, ['fields', name, 'options_source'], record(field)?.options_source);
    }
  },
};

function checkUrl(ctx: RuleContext, path: string[], value: unknown): void {
  if (typeof value !== 'string' || !/^https?:\/\//.test(value)) return; // the schema reports those
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    ctx.report(path, 'value', `"${value}" is not a valid URL`);
    return;
  }
  if (url.username || url.password) {
    ctx.report(path, 'value', `URL "${value}" carries credentials; requests are signed with the pipeline's secret, remove them from the URL`);
    return;
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) && !isLoopback(host)) {
    ctx.report(path, 'value', `"${value}" names an IP address: a certificate, TICKETFLOW_ALLOWED_HOSTS and the outbound guard all work by host name, so prefer the service's DNS name`, 'warning');
  }
  if (url.protocol === 'https:' || isLoopback(url.hostname)) return;
  if (ctx.value.allow_insecure_http === true) {
    ctx.report(path, 'value', `plain http to "${url.host}": ticket data and signatures cross the network unencrypted (allowed by allow_insecure_http)`, 'warning');
  } else {
    ctx.report(
      path,
      'value',
      `"${value}" must use https (plain http is allowed only for loopback hosts, or with "allow_insecure_http: true" at the top level)`,
    );
  }
}
