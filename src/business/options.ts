import type { Field } from '../pipeline/pipeline.generated.ts';
import type { NeutralOption, OptionsPage } from '../providers/lark/options.ts';
import { OutboundError, outboundRequest, type OutboundPolicy } from './outbound.ts';
import { signRequestV11 } from './signature.ts';

export interface OptionsQuery {
  pipeline: string;
  field: string;
  query: string;
  page_token: string;
  locale: string;
  user_id: string;
}

export class OptionsSourceError extends Error {}

/** A static list, filtered by the user's query (label in either language, or id). */
export function staticOptions(field: Field, query: string): OptionsPage {
  const q = query.trim().toLowerCase();
  const options: NeutralOption[] = (field.options ?? [])
    .filter((o) => !q || [o.label, o.label_en, o.id].some((s) => s?.toLowerCase().includes(q)))
    .map((o) => ({ id: o.id, label: { zh_cn: o.label, en_us: o.label_en ?? o.label } }));
  return { options, hasMore: false, nextPageToken: '' };
}

/** Asks the pipeline's options source with an IM-neutral signed request; answers are cached briefly. */
export class OptionsSource {
  private readonly cache = new Map<string, { at: number; page: OptionsPage }>();

  constructor(private readonly options: { policy: OutboundPolicy; ttlMs?: number; timeoutMs?: number; maxEntries?: number; maxBytes?: number }) {}

  async fetch(url: string, secret: string, q: OptionsQuery): Promise<OptionsPage> {
    const key = JSON.stringify([url, q]);
    const hit = this.cache.get(key);
    if (hit && Date.now() - hit.at < (this.options.ttlMs ?? 30_000)) return hit.page;
    const raw = JSON.stringify(q);
    let res: { status: number; body: Buffer };
    try {
      res = await outboundRequest(url, { headers: { 'content-type': 'application/json', ...signRequestV11(secret, { method: 'POST', path: url, rawBody: raw }, { withV1: true }) }, body: raw, timeoutMs: this.options.timeoutMs ?? 2_500, maxBytes: this.options.maxBytes ?? 256 << 10, policy: this.options.policy });
    } catch (e) {
      const why = e instanceof OutboundError ? (e.kind === 'timeout' ? 'timeout' : e.message) : (e as Error).message;
      throw new OptionsSourceError(`the options source did not answer: ${why}`);
    }
    let body: { options?: unknown; has_more?: unknown; next_page_token?: unknown } | undefined;
    try {
      body = JSON.parse(res.body.toString('utf8'));
    } catch {
      body = undefined;
    }
    const ok = res.status >= 200 && res.status < 300;
    if (!ok || !body || !Array.isArray(body.options)) throw new OptionsSourceError(`the options source answered HTTP ${res.status} without {options: [...]}`);
    const page: OptionsPage = {
      options: body.options
        .filter((o): o is { id: string; label: unknown } => typeof (o as { id?: unknown })?.id === 'string')
        .map((o) => ({ id: o.id, label: typeof o.label === 'string' ? { zh_cn: o.label, en_us: o.label } : ((o.label ?? {}) as NeutralOption['label']) })),
      hasMore: body.has_more === true,
      nextPageToken: typeof body.next_page_token === 'string' ? body.next_page_token : '',
    };
    if (this.cache.size >= (this.options.maxEntries ?? 1000)) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, { at: Date.now(), page });
    return page;
  }
}
