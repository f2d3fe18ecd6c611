import type Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { isExampleHost } from '../business/example-hosts.ts';
import type { AppDeps } from '../http/deps.ts';
import { html } from './html.ts';
import type { Lang } from './i18n.ts';
import { layout, type PageContext } from './pages.ts';

/** This page's words (it is the only one to use them). */
const words = {
  title: { zh: '沙箱', en: 'Sandbox' },
  simulator: { zh: '飞书模拟器', en: 'Lark simulator' },
  simulatorNote: { zh: '控制路由（不是飞书 API）：', en: 'Its control routes (ours, not Lark APIs):' },
  service: { zh: '示例业务服务', en: 'Example business service' },
  serviceNote: {
    zh: '示例流水线调用的 example.com 主机在沙箱模式下都转到这个本地服务（路径不变）；其他 URL 照原样调用。单独运行它（使用下面同样的密钥）：',
    en: 'In sandbox mode the example pipelines’ example.com hosts are called on this local service (paths unchanged); any other URL is called as written. To run it alone, with the same secrets as below:',
  },
  pipeline: { zh: '流水线', en: 'pipeline' },
  secrets: { zh: '流水线签名密钥', en: 'Pipeline signing secrets' },
  secretsNote: {
    zh: '未在环境中设置的 TICKETFLOW_SECRET_* 每次启动都会随机生成。你自己的业务服务用它来验证 Ticketflow 的请求、签名异步回调。',
    en: 'A TICKETFLOW_SECRET_* the environment does not set is random for each run. Your own business service verifies Ticketflow’s requests and signs its async callbacks with it.',
  },
  variable: { zh: '环境变量', en: 'variable' },
  value: { zh: '值', en: 'value' },
  verify: { zh: '在你自己的服务中验证请求', en: 'Verifying a request in your own service' },
  verifyNote: { zh: '使用生成的签名辅助函数（src/generated/，npm run types），运行：', en: 'With the generated signature helper (src/generated/, npm run types); run it with:' },
  copy: { zh: '复制', en: 'Copy' },
} satisfies Record<string, Record<Lang, string>>;

/**
 * GET /sandbox (sandbox mode only; 404 otherwise): where the simulator and the example business service answer,
 * and the pipeline secrets of this run, for the local operator wiring a business service of their own.
 */
export function sandboxRoutes(router: Router, deps: AppDeps, ui: { signedIn: Middleware; page: (ctx: Context) => PageContext }): void {
  const { config, registry, secret } = deps;
  if (!config.sandbox) return;
  router.get('/sandbox', ui.signedIn, (ctx) => {
    const c = ui.page(ctx);
    const w = (key: keyof typeof words) => words[key][c.lang];
    const copy = (value: string) => html`<button type="button" class="copy" data-copy="${value}">${w('copy')}</button>`;
    const pipelines = registry.pipelines().map((p) => ({ name: p.name, variable: p.pipeline.secret_env, value: secret(p.pipeline.secret_env) ?? '' }));
    // The pipelines' URLs that the example service answers in sandbox mode, and their pipeline.
    const hosts = new Map<string, string>();
    for (const p of registry.pipelines()) {
      const urls = [...Object.values(p.pipeline.stages).map((s) => s?.endpoint), ...Object.values(p.pipeline.fields).map((f) => f.options_source)];
      for (const u of urls) if (u && URL.canParse(u) && isExampleHost(new URL(u).hostname)) hosts.set(u, p.name);
    }
    const sim = config.lark.baseUrl;
    const exampleCommand = `${pipelines.map((p) => `${p.variable}=${p.value}`).join(' ')} npm run example-service -- --port 4000`;
    const first = pipelines[0];
    const snippet = first ? verifySnippet(first.name, first.variable) : '';
    const run = first ? `${first.variable}=${first.value} npx tsx my-service.ts` : '';
    ctx.body = layout(
      c,
      w('title'),
      html`<section id="sandbox-simulator"><h2>${w('simulator')}</h2><p><code>${sim}</code> ${copy(sim)}</p>
      <p>${w('simulatorNote')} <code>GET ${sim}/_sim/approvals</code>, <code>POST ${sim}/_sim/instances</code>, <code>POST ${sim}/_sim/tasks/&lt;task_id&gt;/approve|reject|transfer</code>, <code>GET ${sim}/_sim/instances/&lt;code&gt;</code>, <code>GET ${sim}/_sim/deliveries</code></p></section>
      <section id="sandbox-example-service"><h2>${w('service')}</h2><p><code>${config.exampleServiceUrl ?? ''}</code></p><p>${w('serviceNote')}</p>
      <pre><code>${exampleCommand}</code></pre><p>${copy(exampleCommand)}</p>
      <table><tr><th>URL</th><th>${w('pipeline')}</th></tr>${[...hosts].map(([url, name]) => html`<tr><td><code>${url}</code></td><td>${name}</td></tr>`)}</table></section>
      <section id="sandbox-secrets"><h2>${w('secrets')}</h2><p>${w('secretsNote')}</p>
      <table><tr><th>${w('pipeline')}</th><th>${w('variable')}</th><th>${w('value')}</th></tr>${pipelines.map((p) => html`<tr><td>${p.name}</td><td><code>${p.variable}</code></td><td><code class="secret">${p.value}</code> ${copy(p.value)}</td></tr>`)}</table></section>
      ${first ? html`<section id="sandbox-verify"><h2>${w('verify')}</h2><pre><code>${snippet}</code></pre><p>${copy(snippet)}</p><p>${w('verifyNote')}</p><pre><code>${run}</code></pre><p>${copy(run)}</p></section>` : ''}`,
    );
  });
}

/** A minimal business endpoint that verifies Ticketflow's requests for one pipeline (business contract v1.1). */
export function verifySnippet(pipeline: string, variable: string): string {
  const type = `${pipeline.replace(/(^|[-_])(\w)/g, (_, _sep: string, ch: string) => ch.toUpperCase())}Request`;
  return `import { createServer } from 'node:http';
import { signatureHeaders, verifyRequestV11, type ${type}, type TicketResult } from './src/generated/index.ts';

const secret = process.env.${variable};
createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const rawBody = Buffer.concat(chunks);
    // Verify before parsing: the signature covers the method, the path, the Idempotency-Key and the raw body.
    const check = verifyRequestV11({ secrets: [secret], method: req.method!, path: req.url!, rawBody, ...signatureHeaders(req.headers) });
    if (!check.ok) return res.writeHead(401).end(JSON.stringify({ error: check.reason }));
    const ticket = JSON.parse(rawBody.toString('utf8')) as ${type};
    const reply: TicketResult = { ticket_id: ticket.ticket_id, result: true, msg: \`\${ticket.stage} done\` };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(reply));
  });
}).listen(4000, '127.0.0.1');
`;
}
