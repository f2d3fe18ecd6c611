import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../config.ts';
import { startExampleService } from '../examples/example-service.ts';
import { createLogger } from '../log.ts';
import { startRuntime } from '../runtime.ts';
import { scratchDatabase } from '../store/scratch-database.ts';
import { getTicketByInstance } from '../store/sql/get-ticket-by-instance.ts';
import { ticketHistory } from '../store/sql/ticket-history.ts';
import { help } from './validate.ts';
import { parse, type Command } from './usage.ts';

const repoPipelines = fileURLToPath(new URL('../../pipelines/', import.meta.url));

export const demo: Command = {
  summary: 'walk three tickets through check → approval → execute on the built-in simulator',
  usage: `ticketflow demo

Starts the Lark simulator (sandbox mode), the runtime on an embedded PostgreSQL in a temporary folder (or on a
new database on the server of DATABASE_URL, dropped at the end), and an example business service written against the generated types; then walks three
admin-permission tickets through submit → check → approval → execute, printing each step and the comments the
requester reads in Lark: one that is granted, one the check rejects, one whose execution fails.`,
  async run(args) {
    const { values } = parse(args, {});
    if (values.help) return help(this.usage);
    const say = (line: string) => console.log(line);
    const secret = randomBytes(32).toString('hex');
    const work = await mkdtemp(join(tmpdir(), 'ticketflow-demo-'));
    const service = await startExampleService({ secret: (name) => (name === 'TICKETFLOW_SECRET_ADMIN_PERMISSION' ? secret : undefined), callbackDelayMs: 100, say: (line) => say(`[business]    ${line}`) });
    const pipelines = join(work, 'pipelines');
    await cp(join(repoPipelines, 'admin-permission.yaml'), join(pipelines, 'admin-permission.yaml'));
    const file = join(pipelines, 'admin-permission.yaml');
    await writeFile(file, (await readFile(file, 'utf8')).replace(/(endpoint|options_source): https:\/\/[^/\s]+/g, `$1: ${service.url}`));
    // A database of its own: the demo's pipeline (pointing at this run's business service) is new content for the
    // same version each run, which a database that saw an earlier run refuses.
    const scratch = process.env.DATABASE_URL ? await scratchDatabase('tf_demo') : undefined;
    const env = { ...process.env, ...(scratch && { DATABASE_URL: scratch.url }), LARK_APP_ID: '', PORT: '0', PIPELINES_DIR: pipelines, TICKETFLOW_DATA_DIR: join(work, 'data'), TICKETFLOW_SECRET_ADMIN_PERMISSION: secret };
    const runtime = await startRuntime(loadConfig(env), createLogger(process.env.LOG_LEVEL ?? 'warn'), { env }).catch(async (e) => {
      await scratch?.close();
      throw e;
    });
    const lark = runtime.simulator!;
    const approval = '7C468A54-8745-2245-9675-08B7C63E7A85';
    say(`\nTicketflow demo: runtime ${runtime.url}, Lark simulator ${lark.url}, business service ${service.url}\n`);
    try {
      const walk = async (title: string, user: string, system: string, roles: string[]) => {
        say(`— ${title}`);
        const form = [
          { id: 'system', value: system },
          { id: 'roles', value: roles },
          { id: 'widget_reason', value: 'on-call rotation' },
        ];
        const code = lark.model.createInstance({ approval_code: approval, user_id: user, form: JSON.stringify(form) }).instance_code;
        say(`[lark]        ${user} submits "管理后台权限申请": ${roles.join(', ')} in ${system} (instance ${code.slice(0, 8)}…)`);
        let printed = 0;
        let managerDone = false;
        for (let i = 0; i < 600; i++) {
          const ticket = await getTicketByInstance(runtime.pool, 'lark', code);
          if (ticket) {
            const rows = (await ticketHistory(runtime.pool, ticket.id)).audit.filter((r) => r.event !== 'im_task');
            for (const r of rows.slice(printed)) say(`[ticketflow]  ${ticket.id}: ${r.event} → ${r.to_state}`);
            printed = rows.length;
          }
          const instance = lark.model.instance(code);
          const manager = instance.task_list.find((t) => t.user_id === 'manager' && t.status === 'PENDING');
          if (manager && !managerDone) {
            managerDone = true;
            say(`[lark]        the manager approves`);
            lark.model.approveTask({ approval_code: approval, instance_code: code, user_id: 'manager', task_id: manager.id, comment: 'LGTM' });
          }
          if (instance.status !== 'PENDING' && ticket && ['completed', 'rejected_by_check', 'execute_failed'].includes(ticket.state) && printed >= 3) {
            await new Promise((r) => setTimeout(r, 200));
            say(`[lark]        instance ${instance.status}; what ${user} reads in Lark:`);
            for (const e of instance.timeline.filter((x) => x.comment)) say(`                "${String(e.comment)}"`);
            say('');
            return;
          }
          await new Promise((r) => setTimeout(r, 50));
        }
        throw new Error(`the ticket for ${code} did not finish`);
      };
      await walk('a request that is granted', 'bob', 'crm', ['editor']);
      await walk('a request the check rejects (alice already has the role)', 'alice', 'crm', ['viewer']);
      await walk('a request whose execution fails', 'carol', 'erp', ['viewer']);
      return 0;
    } finally {
      await runtime.stop();
      await scratch?.close();
      await service.close();
      await rm(work, { recursive: true, force: true });
    }
  },
};
