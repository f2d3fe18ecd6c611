import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { chromiumSkip, launchChromium, screenshots } from '../testing/chromium.ts';
import { startStack, type TestStack } from '../testing/runtime.ts';

const skip = chromiumSkip;

/**
 * README, "Your first ticket in five minutes", click by click, on a sandbox runtime as `npm start` makes it on a
 * fresh clone: no IM configured, no pipeline secret set, the example pipelines calling the example business service.
 * Writes the screenshots the README shows.
 */
describe('the five-minute tutorial in headless Chromium', { skip }, () => {
  let stack: TestStack;
  let browser: Browser;
  const base = () => stack.runtime.config.publicUrl;
  before(async () => {
    const unset = Object.fromEntries(['ADMIN_PERMISSION', 'SQL_CHANGE', 'TRAVEL_EXPENSE', 'CLOUDDM_DATA_CHANGE', 'CLOUDDM_PERMISSION'].map((p) => [`TICKETFLOW_SECRET_${p}`, '']));
    stack = await startStack({ env: { LARK_APP_ID: '', ...unset } });
    assert.equal(stack.runtime.config.sandbox, true);
    assert.ok(stack.runtime.exampleService, 'sandbox mode starts the example business service');
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await stack?.close();
  });

  const newPage = async (locale: string): Promise<Page> => (await browser.newContext({ locale, viewport: { width: 1280, height: 900 } })).newPage();

  test('open the console, Playground, admin-permission, submit as alice, approve as the manager, watch check → approval → execute complete', async () => {
    const page = await newPage('en-US');
    const problems: string[] = [];
    page.on('console', (m) => m.type() === 'error' && !m.text().startsWith('Failed to load resource') && problems.push(m.text()));
    page.on('pageerror', (e) => problems.push(e.message));
    // The browser asks for /favicon.ico on its own; the console has none.
    page.on('response', (r) => r.status() >= 400 && !r.url().endsWith('/favicon.ico') && problems.push(`${r.status()} ${r.url()}`));

    // 1. Open the console: sandbox mode signs the local user in as an operator.
    await page.goto(`${base()}/`);
    assert.equal(await page.locator('h1').textContent(), 'Dashboard');
    // 2. Playground, then the admin-permission pipeline.
    await page.click('#nav-playground');
    await page.click('a.pg-pipeline[data-pipeline="admin-permission"]');
    assert.equal(await page.locator('#pg-form').getAttribute('data-pipeline'), 'admin-permission');
    // 3. Fill in the form built from the pipeline's fields.
    await page.selectOption('#pg-f-system', 'crm');
    await page.check('#pg-f-roles input[value="editor"]');
    await page.fill('#pg-f-until', '2026-12-31');
    await page.fill('#pg-f-reason', 'On call for the CRM next quarter');
    await page.fill('#pg-requester', 'alice');
    await page.screenshot({ path: `${screenshots}playground-form.png`, fullPage: true });
    // 4. Submit as alice: the instance is created in the simulator and the page follows it.
    await Promise.all([page.waitForURL(/\/playground\/instances\/[\w-]+$/), page.click('#pg-submit')]);
    // 5. The check passed (a business call), and the manager's task waits.
    const approve = page.locator('button.pg-approve[data-user="manager"]');
    await approve.waitFor({ timeout: 15_000 });
    assert.equal(await page.locator('#pg-ticket-state').getAttribute('data-state'), 'in_approval');
    assert.match((await page.locator('#pg-calls').textContent())!, /business check call #1 · 200 · \d+ ms · Checked: editor in crm can be granted\./);
    assert.equal(await page.locator('.pg-step.done').first().textContent(), 'Check');
    await page.screenshot({ path: `${screenshots}playground-approve.png`, fullPage: true });
    // 6. Approve as the manager, and watch execute run and the ticket complete.
    await page.fill('.pg-task[data-user="manager"] input[name=comment]', 'Approved, enjoy');
    await approve.click();
    await page.locator('#pg-watch[data-done="true"]').waitFor({ timeout: 15_000 });
    assert.equal(await page.locator('#pg-ticket-state').getAttribute('data-state'), 'completed');
    assert.deepEqual(await page.locator('.pg-step').evaluateAll((steps) => steps.map((s) => `${s.textContent}:${s.className.replace('pg-step ', '')}`)), ['Check:done', 'Approval:done', 'Execute:done', 'Completed:done']);
    assert.match((await page.locator('#pg-calls').textContent())!, /business execute call #1 · 200 · \d+ ms · Granted editor in crm\./);
    assert.equal(await page.locator('#pg-instance-status').textContent(), 'APPROVED');
    assert.equal(await page.locator('#pg-live').textContent(), 'The ticket is final.');
    await page.screenshot({ path: `${screenshots}playground-completed.png`, fullPage: true });
    // The ticket is an ordinary one: its console page shows the same story.
    await page.click('#pg-ticket-link');
    assert.equal(await page.locator('#ticket-state').getAttribute('data-state'), 'completed');
    assert.deepEqual(problems, [], 'no script error and nothing refused by the Content-Security-Policy');
  });

  test('then a role alice already holds: the check refuses it at once, and no one is asked to approve', async () => {
    const page = await newPage('en-US');
    await page.goto(`${base()}/playground?pipeline=admin-permission`);
    await page.selectOption('#pg-f-system', 'crm');
    await page.check('#pg-f-roles input[value="viewer"]');
    await page.fill('#pg-f-reason', 'again');
    await Promise.all([page.waitForURL(/\/playground\/instances\/[\w-]+$/), page.click('#pg-submit')]);
    await page.locator('#pg-watch[data-done="true"]').waitFor({ timeout: 15_000 });
    assert.equal(await page.locator('#pg-ticket-state').getAttribute('data-state'), 'rejected_by_check');
    assert.match((await page.locator('#pg-calls').textContent())!, /business check call #1 · 200 · \d+ ms · alice already has viewer in crm; nothing to approve\./);
    assert.equal(await page.locator('.pg-step.failed').first().textContent(), 'Check');
    assert.equal(await page.locator('button.pg-approve').count(), 0);
  });

  test('in Chinese, a missing required field and a bad requester are named in place, and nothing is created', async () => {
    const page = await newPage('zh-CN');
    await page.goto(`${base()}/playground?pipeline=sql-change`);
    await page.fill('#pg-f-database', 'orders');
    await page.fill('#pg-requester', 'not a user id');
    const before = stack.runtime.simulator!.model.instances.size;
    await page.click('#pg-submit');
    await page.locator('.pg-field[data-field="sql"] .pg-problem:not([hidden])').waitFor();
    assert.equal(await page.locator('.pg-field[data-field="sql"] .pg-problem').textContent(), '此项必填。');
    assert.equal(await page.locator('.pg-field[data-field="database"] .pg-problem').isHidden(), true);
    assert.match((await page.locator('#pg-error').textContent())!, /表单有误.*请输入 ID/);
    assert.equal(stack.runtime.simulator!.model.instances.size, before);
  });
});
