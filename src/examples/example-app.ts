/**
 * One business service behind an example pipeline, as the example service hosts it: where the pipeline file says
 * it lives, the secret it shares with Ticketflow, and what it decides per path. Deciding is the business's part;
 * signatures, replies and async callbacks are the example service's (example-service.ts).
 */
import type { OptionsAnswer, OptionsQuery, TicketResult } from '../generated/index.ts';

export interface ExampleApp {
  /** The pipeline it serves (`metadata.name`). */
  pipeline: string;
  /** The variable holding the pipeline's signing secret (`secret_env`). */
  secretEnv: string;
  /** The host of its URLs in the pipeline file. */
  host: string;
  /** Check and execute endpoints by path: the decision on one ticket. An async stage's decision goes to its `callback_url`. */
  stages: Record<string, (request: never) => TicketResult>;
  /** Options sources by path. */
  options?: Record<string, (query: OptionsQuery) => OptionsAnswer>;
}

/** A static list filtered by the user's query, in an options source's answer shape. */
export function optionsAnswer(list: ReadonlyArray<readonly [id: string, zh: string, en: string]>, query: string): OptionsAnswer {
  const q = query.trim().toLowerCase();
  const options = list.filter((o) => !q || o.some((s) => s.toLowerCase().includes(q))).map(([id, zh_cn, en_us]) => ({ id, label: { zh_cn, en_us } }));
  return { options, has_more: false, next_page_token: '' };
}
