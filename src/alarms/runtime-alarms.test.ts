import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { larkBotStandIn } from '../testing/alarm-stand-ins.ts';
import { FakeBusiness } from '../testing/business.ts';
import { ADMIN, SQL, adminForm, submit, until, waitState } from '../testing/flow.ts';
import { startStack, testSecret, type TestStack } from '../testing/runtime.ts';

const botSecret = 'lark-bot-signing-secret-for-the-runtime-test';

/** The text a card shows: its header title and its plain-text block, and the console link of its button. */
function cardOf(body: Record<string, unknown>) {
  const card = body.card as { header: { title: { content: string } }; elements: Array<{ tag: string; text?: { content: string }; actions?: Array<{ url: string }> }> };
  return { title: card.header.title.content, text: card.elements.find((e) => e.tag === 'div')?.text?.content ?? '', link: card.elements.find((e) => e.tag === 'action')?.actions?.[0]?.url };
}

describe('alarms from a running runtime to a Lark custom bot (a local stand-in checking the signature)', () => {
  let stack: TestStack;
  let business: FakeBusiness;
  let bot: Awaited<ReturnType<typeof larkBotStandIn>>;
  before(async () => {
    bot = await larkBotStandIn(botSecret);
    business = await new FakeBusiness(testSecret).start();
    stack = await startStack({
      business: business.url,
      env: { TICKETFLOW_ALERT_LARK_WEBHOOK: bot.url, TICKETFLOW_ALERT_LARK_SECRET: botSecret },
      edit: (name, text) => (name === 'admin-permission.yaml' ? text.replace('retry: { attempts: 5, initial_delay: 1s, max_delay: 1m }', 'retry: { attempts: 2, initial_delay: 50ms, max_delay: 100ms }') : text),
      // sql-change's Lark definition lost a widget: the drift watch finds it at start.
      beforeStart(lark) {
        const d = lark.model.definition(SQL);
        lark.model.defineApproval({ ...d, form: d.form.filter((w) => w.custom_id !== 'reviewers') });
      },
    });
  });
  after(async () => {
    await stack?.close();
    await business?.close();
    await bot?.close();
  });

  test('a ticket reaching needs_operator: one signed card, with the ticket, its pipeline and stage, linking to its console page', async () => {
    business.reply = (c) => (c.body.stage === 'check' ? { status: 502 } : { status: 200, body: { ticket_id: c.body.ticket_id, result: true } });
    const ticket = await waitState(stack, submit(stack, ADMIN, adminForm()), 'needs_operator');
    const cards = () => bot.requests.filter((r) => r.verified && cardOf(r.body).title.includes(ticket.id));
    await until('the needs_operator alarm', () => cards().length);
    await new Promise((r) => setTimeout(r, 2_500));
    assert.equal(cards().length, 1, 'one alarm for the ticket');
    const card = cardOf(cards()[0]!.body);
    assert.equal(card.title, `Ticket ${ticket.id} needs an operator (admin-permission)`);
    assert.match(card.text, /Pipeline admin-permission v1, check stage: needs an operator: the check stage could not reach the business service/);
    assert.equal(card.link, `${stack.runtime.config.publicUrl}/tickets/${ticket.id}`);
    const metrics = await (await fetch(`${stack.runtime.url}/metrics`)).text();
    assert.match(metrics, /^ticketflow_alarms_total\{kind="needs_operator",channel="lark",outcome="sent"\} 1$/m);
  });

  test('a pipeline file with a YAML syntax error: a load error alarm naming the file and the error, linking to the pipelines page', async () => {
    const loads = stack.runtime.registry.loadCount;
    await writeFile(join(stack.pipelinesDir, 'broken.yaml'), 'apiVersion: ticketflow/v1\nkind: Pipeline\nmetadata: { name: broken, version: 1\n');
    await until('the reload', () => stack.runtime.registry.loadCount > loads && stack.runtime.registry.loadErrors().length);
    const cards = () => bot.requests.filter((r) => r.verified && cardOf(r.body).title.includes('broken.yaml'));
    await until('the load error alarm', () => cards().length, 10_000);
    const card = cardOf(cards()[0]!.body);
    assert.match(card.title, /^Pipeline file .*broken\.yaml does not load$/);
    assert.match(card.text, /broken\.yaml:\d+:\d+: error: .*\[yaml-syntax\]/);
    assert.equal(card.link, `${stack.runtime.config.publicUrl}/pipelines`);
  });

  test('a definition drift found by the drift watch: one alarm naming the finding and its remedy, linking to the pipeline page', async () => {
    const cards = () => bot.requests.filter((r) => r.verified && cardOf(r.body).title.startsWith('Pipeline sql-change'));
    await until('the drift alarm', () => cards().length, 10_000);
    const card = cardOf(cards()[0]!.body);
    assert.equal(card.title, 'Pipeline sql-change v1 no longer matches its Lark definition');
    assert.match(card.text, /- field "reviewers": the Lark form has no widget with custom id "reviewers" \(fix: .*\)\nTickets go on \(on_drift: warn\)\./);
    assert.equal(card.link, `${stack.runtime.config.publicUrl}/pipelines/sql-change`);
    assert.equal(cards().length, 1);
  });
});
