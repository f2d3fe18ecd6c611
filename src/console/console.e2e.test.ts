import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { FakeBusiness } from '../testing/business.ts';
import { ADMIN, adminForm, pendingFor, submit, until, waitState } from '../testing/flow.ts';
import { startStack, testSecret, type TestStack } from '../testing/runtime.ts';

const chromiumPath = '/usr/bin/chromium';
const screenshots = fileURLToPath(new URL('./screenshots/', import.meta.url));
const skip = existsSync(chromiumPath) ? false : 'Chromium is not installed (apt-get install chromium; .ci/run does it)';

describe('operator console in headless Chromium', { skip }, () => {
  let stack: TestStack;
  let business: FakeBusiness;
  let browser: Browser;
  let down = true;
  /** The console is used at PUBLIC_URL, where Lark sends the browser back after sign-in. */
  const base = () => stack.runtime.config.publicUrl;
  before(async () => {
    business = await new FakeBusiness(testSecret).start();
    business.reply = (c) => (c.body.stage === 'execute' && down ? { status: 503 } : { status: 200, body: { ticket_id: c.body.ticket_id, result: true, msg: `${c.body.stage} ok` } });
    stack = await startStack({
      business: business.url,
      env: { TICKETFLOW_OPERATORS: 'olivia', TICKETFLOW_VIEWERS: 'victor', TICKETFLOW_SESSION_SECRET: 's'.repeat(40) },
      edit: (name, text) => (name === 'admin-permission.yaml' ? text.replace('retry: { attempts: 8, initial_delay: 2s, max_delay: 10m }', 'retry: { attempts: 2, initial_delay: 50ms, max_delay: 100ms }') : text),
    });
    browser = await chromium.launch({
      executablePath: chromiumPath,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    await mkdir(screenshots, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    await stack?.close();
    await business?.close();
  });

  async function signIn(user: string): Promise<Page> {
    const page = await (await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 800 } })).newPage();
    await page.goto(`${base()}/`);
    await page.click('#sign-in');
    await page.fill('#user_id', user);
    await Promise.all([page.waitForURL(`${base()}/`), page.click('#authorize')]);
    return page;
  }

  test('an anonymous visitor gets the sign-in page, an anonymous API call 401', async () => {
    const page = await (await browser.newContext()).newPage();
    const res = await page.goto(`${base()}/tickets`);
    assert.equal(res?.status(), 401);
    assert.equal(await page.locator('#sign-in').count(), 1);
    const api = await page.request.get(`${base()}/api/v1/tickets`);
    assert.equal(api.status(), 401);
  });

  test('an operator signs in through Lark, finds the stuck ticket, retries it after the business recovers, and sees it completed; a viewer cannot retry', async () => {
    for (let i = 0; i < 3; i++) {
      const done = submit(stack, ADMIN, adminForm([{ id: 'roles', value: ['editor'] }]), `user-${i}`);
      await until('manager', () => pendingFor(stack, done, 'manager').length);
      down = false;
      stack.lark.model.approveTask({ approval_code: ADMIN, instance_code: done, user_id: 'manager', task_id: pendingFor(stack, done, 'manager')[0]!.id });
      await waitState(stack, done, 'completed');
      down = true;
    }
    const code = submit(stack, ADMIN, adminForm());
    await until('manager', () => pendingFor(stack, code, 'manager').length);
    stack.lark.model.approveTask({ approval_code: ADMIN, instance_code: code, user_id: 'manager', task_id: pendingFor(stack, code, 'manager')[0]!.id });
    const stuck = await waitState(stack, code, 'needs_operator');

    const page = await signIn('olivia');
    assert.equal(await page.locator('h1').textContent(), 'Dashboard');
    await page.goto(`${base()}/tickets`);
    assert.equal(await page.locator('table.tickets tr').count(), 5, 'a header row and four tickets');
    await page.screenshot({ path: `${screenshots}ticket-list.png`, fullPage: true });
    await page.fill('input[name=q]', code);
    await page.click('form.filters button');
    await page.click(`a[href="/tickets/${stuck.id}"]`);
    assert.equal(await page.locator('#ticket-state').textContent(), 'needs_operator');

    down = false;
    await Promise.all([page.waitForEvent('load'), page.click('#retry')]);
    for (let i = 0; i < 100 && (await page.locator('#ticket-state').textContent()) !== 'completed'; i++) {
      await page.waitForTimeout(100);
      await page.reload();
    }
    assert.equal(await page.locator('#ticket-state').textContent(), 'completed');
    assert.ok((await page.locator('.timeline').textContent())!.includes('operator:olivia'));
    await page.screenshot({ path: `${screenshots}ticket-detail.png`, fullPage: true });

    const viewer = await signIn('victor');
    await viewer.goto(`${base()}/tickets/${stuck.id}`);
    assert.equal(await viewer.locator('#retry').count(), 0);
    const forced = await viewer.request.post(`${base()}/api/v1/tickets/${stuck.id}/retry`, { headers: { 'x-csrf-token': (await viewer.locator('body').getAttribute('data-csrf'))! } });
    assert.equal(forced.status(), 403);
  });
});
