import { larkDecrypt } from '../crypto.ts';
import { openIdOf } from './model.ts';

/** An internal Lark user id, as the `user_id` of an external options request carries (not the user's user_id). */
export const internalIdOf = (userId: string) => `7${BigInt(`0x${openIdOf(userId).slice(3, 18)}`).toString().padStart(18, '0').slice(0, 18)}`;

/**
 * Lark asking a data source for external options as an approval form does
 * (https://open.feishu.cn/document/server-docs/approval-v4/approval/associate-external-options): POST JSON
 * `{user_id (internal), employee_id (the user's user_id), token, linkage_params, page_token, query, locale}`,
 * within 3 s. With a Key configured, `data.result` comes back encrypted and is decrypted here as Lark would.
 */
export async function askExternalOptions(url: string, ask: { token: string; key?: string; userId: string; query?: string; pageToken?: string; locale?: string }): Promise<{ status: number; body: Record<string, unknown>; result?: Record<string, unknown> }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user_id: internalIdOf(ask.userId), employee_id: ask.userId, token: ask.token, linkage_params: {}, page_token: ask.pageToken ?? '', query: ask.query ?? '', locale: ask.locale ?? 'zh_cn' }),
    signal: AbortSignal.timeout(3_000),
  });
  const body = (await res.json()) as Record<string, unknown>;
  const data = body.data as { result?: unknown } | undefined;
  if (res.status !== 200 || body.code !== 0 || data?.result === undefined) return { status: res.status, body };
  if (typeof data.result === 'string') {
    if (!ask.key) throw new Error('the data source encrypted its result but no Key is configured');
    return { status: res.status, body, result: JSON.parse(larkDecrypt(ask.key, data.result)) as Record<string, unknown> };
  }
  if (ask.key) throw new Error('a Key is configured but the data source answered in plaintext');
  return { status: res.status, body, result: data.result as Record<string, unknown> };
}
