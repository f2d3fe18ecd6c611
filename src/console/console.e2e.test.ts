import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { chromiumSkip, launchChromium, screenshots } from '../testing/chromium.ts';
import { FakeBusiness } from '../testing/business.ts';
import { ADMIN, adminForm, pendingFor, submit, until, waitState } from '../testing/flow.ts';
import { startStack, testSecret, type TestStack } from '../testing/runtime.ts';

const skip = chromiumSkip;

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
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await stack?.close();
    await business?.close();
  });

  /** A reader in Shanghai (UTC+08:00): the dashboard is drawn again once for their time zone. */
  async function signIn(user: string, options: { locale?: string; width?: number; height?: number } = {}): Promise<Page> {
    const context = await browser.newContext({ locale: options.locale ?? 'en-US', timezoneId: 'Asia/Shanghai', viewport: { width: options.width ?? 1280, height: options.height ?? 800 } });
    const page = await context.newPage();
    await page.goto(`${base()}/`);
    await page.click('#sign-in');
    await page.fill('#user_id', user);
    await Promise.all([page.waitForURL(`${base()}/`), page.click('#authorize')]);
    await page.waitForSelector('#per-day[data-offset="480"]');
    return page;
  }

  /** A ticket whose execute call failed twice: it waits for an operator. */
  async function stuckTicket(): Promise<string> {
    down = true;
    const code = submit(stack, ADMIN, adminForm());
    await until('manager', () => pendingFor(stack, code, 'manager').length);
    stack.lark.model.approveTask({ approval_code: ADMIN, instance_code: code, user_id: 'manager', task_id: pendingFor(stack, code, 'manager')[0]!.id });
    return (await waitState(stack, code, 'needs_operator')).id;
  }

  const stateOf = (page: Page) => page.locator('#ticket-state').getAttribute('data-state');

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
    }
    const id = await stuckTicket();

    const page = await signIn('olivia');
    assert.equal(await page.locator('h1').textContent(), 'Dashboard');
    const series = await page.locator('#per-day svg.chart rect.bar').evaluateAll((rects) => [...new Set(rects.map((r) => r.getAttribute('data-series')))].sort());
    assert.deepEqual(series, ['completed', 'open'], 'three completed and one in progress, drawn');
    await page.screenshot({ path: `${screenshots}dashboard.png`, fullPage: true });
    await page.goto(`${base()}/tickets`);
    assert.equal(await page.locator('table.tickets tr').count(), 5, 'a header row and four tickets');
    await page.screenshot({ path: `${screenshots}ticket-list.png`, fullPage: true });
    await page.fill('input[name=q]', id);
    await page.click('form.filters button');
    await page.click(`a[href="/tickets/${id}"]`);
    assert.equal(await stateOf(page), 'needs_operator');
    assert.equal(await page.locator('#ticket-state').textContent(), 'Needs an operator');
    const fields = await page.locator('table.fields').textContent();
    assert.ok(fields!.includes('申请理由') && fields!.includes('Viewer'), 'the pipeline\'s label and the option\'s label, not ids');
    const timeline = await page.locator('ol.timeline').textContent();
    assert.ok(timeline!.includes('Check passed — “check ok”'), timeline!);
    assert.ok(timeline!.includes('Approved in Lark by manager'));
    assert.ok(timeline!.includes('Could not reach the execute service (attempt 2: HTTP 503)'));
    assert.equal(await page.locator('ol.timeline details.raw[open]').count(), 0, 'the raw JSON stays folded');

    down = false;
    await Promise.all([page.waitForEvent('load'), page.click('#retry')]);
    for (let i = 0; i < 100 && (await stateOf(page)) !== 'completed'; i++) {
      await page.waitForTimeout(100);
      await page.reload();
    }
    assert.equal(await stateOf(page), 'completed');
    assert.ok((await page.locator('ol.timeline').textContent())!.includes('Operator olivia retried the execute call'));
    await page.screenshot({ path: `${screenshots}ticket-detail.png`, fullPage: true });

    const viewer = await signIn('victor');
    await viewer.goto(`${base()}/tickets/${id}`);
    assert.equal(await viewer.locator('#retry').count(), 0);
    const forced = await viewer.request.post(`${base()}/api/v1/tickets/${id}/retry`, { headers: { 'x-csrf-token': (await viewer.locator('body').getAttribute('data-csrf'))! } });
    assert.equal(forced.status(), 403);
  });

  test('reject and resolve look unlike retry and ask first; dismissed, nothing happens; confirmed, the ticket is rejected_by_operator', async () => {
    const id = await stuckTicket();
    const page = await signIn('olivia');
    await page.goto(`${base()}/tickets/${id}`);
    const background = (selector: string) => page.locator(selector).evaluate((el) => getComputedStyle(el).backgroundColor);
    assert.notEqual(await background('#reject'), await background('#retry'));
    assert.equal(await background('#reject'), await background('#resolve'));
    assert.ok(await page.locator('.destructive #reject').count(), 'set apart from retry');

    const dialogs: string[] = [];
    page.once('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await page.click('#resolve');
    await page.fill('input[name=comment]', 'The CRM is frozen this week.');
    page.once('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await page.click('#reject');
    await page.waitForTimeout(300);
    assert.match(dialogs[0]!, new RegExp(`^Mark ticket ${id} as resolved\\?`));
    assert.match(dialogs[1]!, new RegExp(`^Reject ticket ${id}\\?\\nThe requester reads: “The CRM is frozen this week.”`));
    assert.equal((await stack.runtime.pool.query('SELECT state FROM tickets WHERE id = $1', [id])).rows[0].state, 'needs_operator', 'dismissed: nothing sent');

    page.once('dialog', (d) => void d.accept());
    await Promise.all([page.waitForEvent('load'), page.click('#reject')]);
    assert.equal(await stateOf(page), 'rejected_by_operator');
    assert.equal(await page.locator('#ticket-state').textContent(), 'Rejected by an operator');
    assert.ok((await page.locator('ol.timeline').textContent())!.includes('Rejected by operator olivia — “The CRM is frozen this week.”'));
  });

  test('in Chinese, the browser\'s own messages too: a confirmation, an action that no longer applies', async () => {
    const id = await stuckTicket();
    const page = await signIn('olivia', { locale: 'zh-CN' });
    await page.goto(`${base()}/tickets/${id}`);
    assert.equal(await page.locator('#ticket-state').textContent(), '待人工处理');
    // Meanwhile another tab rejects it.
    const elsewhere = await page.request.post(`${base()}/api/v1/tickets/${id}/reject`, { headers: { 'x-csrf-token': (await page.locator('body').getAttribute('data-csrf'))! }, data: { comment: 'no' } });
    assert.equal(elsewhere.status(), 200);
    let asked = '';
    page.once('dialog', (d) => {
      asked = d.message();
      void d.accept();
    });
    await page.fill('input[name=comment]', '重复申请');
    await page.click('#reject');
    await page.waitForSelector('#action-error:not([hidden])');
    assert.match(asked, new RegExp(`^确定驳回工单 ${id}？\\n申请人会看到：“重复申请”`));
    assert.equal(await page.locator('#action-error').textContent(), '操作失败：工单状态已经变化，这个操作不再适用。请刷新页面。');
    assert.equal(await page.locator('#reject').textContent(), '驳回', 'the button is back');
  });

  test('the language switch keeps the page\'s query; times are the reader\'s; versions have headers', async () => {
    const page = await signIn('olivia');
    await page.goto(`${base()}/tickets?state=completed`);
    await Promise.all([page.waitForURL(/lang=zh/), page.click('#language')]);
    const url = new URL(page.url());
    assert.deepEqual([url.pathname, url.searchParams.get('state'), url.searchParams.get('lang')], ['/tickets', 'completed', 'zh']);
    assert.equal(await page.locator('h1').textContent(), '工单');
    assert.equal(await page.locator('select[name=state]').inputValue(), 'completed');

    await page.goto(`${base()}/pipelines/admin-permission?lang=en`);
    assert.deepEqual(await page.locator('table.versions th').allTextContents(), ['Version', 'First loaded (your time)', 'File']);
    const time = page.locator('table.versions time').first();
    const utc = new Date((await time.getAttribute('datetime'))!);
    const shanghai = new Date(utc.getTime() + 8 * 3_600_000).toISOString();
    assert.equal(await time.textContent(), `${shanghai.slice(0, 10)} ${shanghai.slice(11, 19)}`);
    assert.match((await time.getAttribute('title'))!, / UTC$/);
  });

  test('nothing overflows at 1280 px, and every page is usable at 390 px without scrolling sideways', async () => {
    const id = await stuckTicket();
    for (const [width, height] of [[1280, 800], [390, 844]] as const) {
      const page = await signIn('olivia', { width, height, locale: width < 500 ? 'zh-CN' : 'en-US' });
      for (const path of ['/', '/tickets', `/tickets/${id}`, '/pipelines', '/pipelines/admin-permission?a=1&b=1', '/events']) {
        await page.goto(`${base()}${path}`);
        const [scroll, client] = await page.evaluate(() => [Math.max(document.documentElement.scrollWidth, document.body.scrollWidth), document.documentElement.clientWidth]);
        assert.ok(scroll <= client, `${path} at ${width} px: the page is ${scroll} px wide`);
      }
      if (width < 500) {
        await page.goto(`${base()}/tickets/${id}`);
        await page.screenshot({ path: `${screenshots}ticket-detail-390.png`, fullPage: true });
      }
    }
  });
});
