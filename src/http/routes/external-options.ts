import type Router from '@koa/router';
import { OptionsSource, OptionsSourceError, staticOptions } from '../../business/options.ts';
import { outboundPolicy } from '../../business/outbound.ts';
import { larkOptionsResponse } from '../../providers/lark/options.ts';
import { safeEqual } from '../../security/constant-time.ts';
import type { AppDeps } from '../deps.ts';
import { jsonBody, rawBody } from '../body.ts';

/** POST /field/<pipeline>/<field>: Lark's external options (外部选项) for a select widget, within its 3 s budget. */
export function externalOptionsRoutes(router: Router, { config, registry, log, secret }: AppDeps): void {
  const source = new OptionsSource({ policy: outboundPolicy(config) });
  router.post('/field/:pipeline/:field', rawBody(64 << 10), async (ctx) => {
    const body = jsonBody(ctx);
    const expected = config.lark.optionsToken;
    const given = typeof body.token === 'string' ? body.token : '';
    if (expected ? !safeEqual(given, expected) : !config.sandbox) {
      ctx.status = 401;
      ctx.body = { code: 401, msg: expected ? 'token does not match LARK_OPTIONS_TOKEN' : 'LARK_OPTIONS_TOKEN is not set' };
      return;
    }
    const live = registry.get(ctx.params.pipeline!);
    const field = live?.pipeline.fields[ctx.params.field!];
    if (!live || !field || (field.type !== 'option' && field.type !== 'options')) {
      ctx.status = 404;
      ctx.body = { code: 404, msg: `no option field ${ctx.params.field} in a live pipeline ${ctx.params.pipeline}` };
      return;
    }
    const query = typeof body.query === 'string' ? body.query : '';
    const encryptKey = config.lark.optionsEncryptKey;
    if (!field.options_source) {
      ctx.body = larkOptionsResponse(staticOptions(field, query), encryptKey);
      return;
    }
    const signing = secret(live.pipeline.secret_env);
    try {
      const page = await source.fetch(field.options_source, signing ?? '', {
        pipeline: live.name,
        field: ctx.params.field!,
        query,
        page_token: typeof body.page_token === 'string' ? body.page_token : '',
        locale: typeof body.locale === 'string' ? body.locale : 'zh_cn',
        // Lark's `user_id` is an internal id; `employee_id` is the user's real user id (external options page).
        user_id: typeof body.employee_id === 'string' ? body.employee_id : '',
      });
      ctx.body = larkOptionsResponse(page, encryptKey);
    } catch (e) {
      if (!(e instanceof OptionsSourceError)) throw e;
      log.warn({ pipeline: live.name, field: ctx.params.field, err: e.message }, 'external options unavailable');
      ctx.status = 502;
      ctx.body = { code: 502, msg: e.message };
    }
  });
}
