import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { Writable } from 'node:stream';
import { signatureHeaders, verifyRequestV11 } from '../business/signature.ts';
import { createLogger } from '../log.ts';
import { FakeBusiness } from '../testing/business.ts';
import { signInOverHttp } from '../testing/console.ts';
import { ADMIN, SQL, adminForm, humanDecides, pendingFor, sqlForm, submit, ticketOf, until, waitState } from '../testing/flow.ts';
import { startStack, testSecret, type TestStack } from '../testing/runtime.ts';
import type { StateEvent } from './event.ts';

const eventsSecret = 'events-secret-'.padEnd(40, 'e');
/** The admin-permission pipeline's own events secret (events_secret_env), not its business secret. */
const ownSecret = 'own-events-secret-'.padEnd(40, 'o');
const adminToken = 'admin-token-'.padEnd(40, 'a');

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  raw: string;
  event: StateEvent;
  /** The v1.1 signature verifies with this receiver's secret, over the path it was posted to. */
  signed: boolean;
  /** What the receiver answered. */
  answered?: number;
}

/** A destination of state-change events: real HTTP, verifies every request, answers as the test scripts. */
class Receiver {
  readonly received: Received[] = [];
  private server!: Server;
  url = '';
  reply: (r: Received) => number | Promise<number> = () => 204;

  constructor(private readonly secret: string) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        const raw = Buffer.concat(chunks);
        const signed = verifyRequestV11({ secrets: [this.secret], method: req.method ?? '', path: req.url ?? '', rawBody: raw, ...signatureHeaders(req.headers) }).ok;
        const r: Received = { path: req.url ?? '', headers: req.headers, raw: raw.toString('utf8'), event: JSON.parse(raw.toString('utf8')), signed };
        this.received.push(r);
        r.answered = signed ? await this.reply(r) : 401;
        res.writeHead(r.answered).end();
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** What arrived for the ticket of an IM instance, in arrival order. */
  of(instanceCode: string): Received[] {
    return this.received.filter((r) => r.event.ticket.provider.instance_code === instanceCode);
  }

  /** The events of that ticket answered 2xx, in order. */
  delivered(instanceCode: string): Received[] {
    return this.of(instanceCode).filter((r) => r.answered! >= 200 && r.answered! < 300);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

const changes = (rs: Received[]) => rs.map((r) => `${r.event.seq}:${r.event.from ?? '-'}>${r.event.to}`);

describe('state-change events: every change of state, signed, in order per ticket, at least once, with a dead-letter view', () => {
  let stack: TestStack;
  let business: FakeBusiness;
  let own: Receiver;
  let siem: Receiver;
  before(async () => {
    business = await new FakeBusiness(testSecret).start();
    own = await new Receiver(ownSecret).start();
    siem = await new Receiver(eventsSecret).start();
    stack = await startStack({
      business: business.url,
      edit: (name, text) => {
        // The pipeline's own destination carries a token in its query: the console must never show it.
        if (name === 'admin-permission.yaml') return text.replace(/^secret_env:/m, `events_url: ${own.url}/hooks/events?token=s3cr3t-t0ken\nevents_secret_env: TICKETFLOW_SECRET_ADMIN_PERMISSION_EVENTS\nsecret_env:`);
        // A destination the outbound guard refuses: a cloud metadata address.
        if (name === 'sql-change.yaml') return text.replace(/^secret_env:/m, 'events_url: https://169.254.169.254/latest/events\nevents_secret_env: TICKETFLOW_SECRET_SQL_CHANGE_EVENTS\nsecret_env:');
        return text;
      },
      env: {
        TICKETFLOW_EVENTS_URL: `${siem.url}/siem/ticketflow`,
        TICKETFLOW_EVENTS_SECRET: eventsSecret,
        TICKETFLOW_SECRET_ADMIN_PERMISSION_EVENTS: ownSecret,
        TICKETFLOW_SECRET_SQL_CHANGE_EVENTS: ownSecret,
        TICKETFLOW_EVENTS_RETRY_MS: '100',
        TICKETFLOW_EVENTS_MAX_DELAY_MS: '400',
        // Retries go through the job queue, which looks for due jobs every second: 4 s is 2 or 3 more attempts.
        TICKETFLOW_EVENTS_GIVE_UP_MS: '4000',
        TICKETFLOW_ADMIN_TOKEN: adminToken,
        TICKETFLOW_OPERATORS: 'olivia',
        TICKETFLOW_VIEWERS: 'victor',
      },
    });
  });
  after(async () => {
    await stack.close();
    await Promise.all([business.close(), own.close(), siem.close()]);
  });

  /** A ticket through check → approval → execute → completed; returns its instance code and id. */
  async function completedTicket(): Promise<{ code: string; id: string }> {
    const code = submit(stack, ADMIN, adminForm());
    await until('the manager task', () => pendingFor(stack, code, 'manager').length);
    humanDecides(stack, code, 'approve');
    const done = await waitState(stack, code, 'completed');
    return { code, id: done.id };
  }

  test("a ticket's changes of state arrive in order at its pipeline's events_url (fields included) and at TICKETFLOW_EVENTS_URL (without), signed as documented", async () => {
    const { code, id } = await completedTicket();
    const expected = ['1:->checking', '2:checking>in_approval', '3:in_approval>executing', '4:executing>completed'];
    await until('the 4 events at both destinations', () => own.delivered(code).length === 4 && siem.delivered(code).length === 4);
    assert.deepEqual(changes(own.of(code)), expected, 'the pipeline destination: each change once, in order (no retry was needed)');
    assert.deepEqual(changes(siem.of(code)), expected, 'the runtime destination: the same changes');
    const [opened, , executing, completed] = own.of(code);
    const { applicant } = (await ticketOf(stack, code))!;
    assert.equal(applicant.user_id, 'alice');
    assert.deepEqual(
      { ...executing!.event, at: 'at' },
      {
        id: `${id}:event:3`,
        type: 'ticket.state_changed',
        ticket_id: id,
        pipeline: { name: 'admin-permission', version: 1 },
        seq: 3,
        from: 'in_approval',
        to: 'executing',
        final: false,
        cause: 'assistant_task_pending',
        actor: 'lark',
        at: 'at',
        ticket: { stage: 'execute', provider: { type: 'lark', definition_code: ADMIN, instance_code: code }, applicant, fields: { system: 'crm', roles: ['viewer'], until: '2026-12-31', reason: 'on-call rotation' } },
      },
    );
    assert.match(executing!.event.at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, 'at: RFC 3339, UTC');
    assert.deepEqual([opened!.event.cause, opened!.event.actor, completed!.event.cause, completed!.event.actor, completed!.event.final], ['ticket_opened', 'lark', 'business_result', 'business', true]);
    assert.equal(siem.of(code)[2]!.event.ticket.fields, undefined, 'TICKETFLOW_EVENTS_URL serves every pipeline: it never receives the fields');
    assert.deepEqual({ ...siem.of(code)[2]!.event, ticket: { ...siem.of(code)[2]!.event.ticket, fields: executing!.event.ticket.fields } }, executing!.event, 'otherwise the same event, the same id');

    for (const r of [...own.of(code), ...siem.of(code)]) {
      assert.ok(r.signed, 'signed v1.1 with the destination’s secret (events_secret_env; TICKETFLOW_EVENTS_SECRET)');
      assert.equal(r.headers['idempotency-key'], r.event.id, 'the Idempotency-Key is the event id');
      assert.equal(r.headers['x-ticketflow-signature'], undefined, 'no deprecated v1 header on a new endpoint');
    }
    // The documented algorithm, written out with node:crypto alone (docs/business-contract.md, "Verifying an event").
    const r = own.of(code)[0]!;
    const canonical = ['v1.1', r.headers['x-ticketflow-timestamp'], 'POST', r.path, r.event.id, createHash('sha256').update(r.raw).digest('hex')].join('\n');
    assert.equal(r.headers['x-ticketflow-signature-v11'], `sha256=${createHmac('sha256', ownSecret).update(canonical).digest('hex')}`);
    assert.equal(r.path, '/hooks/events?token=s3cr3t-t0ken', 'the path and query posted to are signed');
    const verify = (over: Partial<{ path: string; secret: string }>) => verifyRequestV11({ secrets: [over.secret ?? ownSecret], method: 'POST', path: over.path ?? r.path, rawBody: r.raw, ...signatureHeaders(r.headers) }).ok;
    assert.equal(verify({}), true);
    assert.equal(verify({ path: '/hooks/events' }), false, 'bound to the destination’s path and query');
    assert.equal(verify({ secret: eventsSecret }), false, 'bound to its secret');
    assert.equal(verify({ secret: testSecret }), false, 'not the business secret: the receiver of events never holds it');
    assert.equal(verifyRequestV11({ secrets: [ownSecret], method: 'POST', path: r.path, rawBody: r.raw, ...signatureHeaders({ ...r.headers, 'idempotency-key': `${id}:event:2` }) }).ok, false, 'bound to the event id');

    // Every attempt is in the ticket's calls (recorded just after the answer).
    const calls = await until('the 8 attempts recorded', async () => {
      const { rows } = await stack.runtime.pool.query(`SELECT request FROM call_attempts WHERE ticket_id = $1 AND target = 'events' ORDER BY id`, [id]);
      return rows.length === 8 ? rows : undefined;
    });
    assert.ok(calls.every((c) => !JSON.stringify(c.request).includes('s3cr3t-t0ken')), 'with the host only, never the URL’s token');
  });

  test('a receiver answering 500 for a while: the event is tried again with the same id and bytes, and the next one waits for it', async () => {
    let failures = 0;
    let code = '';
    own.reply = (r) => (r.event.ticket.provider.instance_code === code && r.event.seq === 1 && failures++ < 2 ? 500 : 204);
    code = submit(stack, ADMIN, adminForm());
    await waitState(stack, code, 'in_approval');
    await until('the 2 events delivered', () => own.delivered(code).length === 2, 10_000);
    own.reply = () => 204;
    assert.deepEqual(changes(own.of(code)), ['1:->checking', '1:->checking', '1:->checking', '2:checking>in_approval'], 'tried 3 times; the second event went only after the first was taken');
    const firsts = own.of(code).filter((r) => r.event.seq === 1);
    assert.deepEqual(firsts.map((r) => r.answered), [500, 500, 204]);
    assert.equal(new Set(firsts.map((r) => r.raw)).size, 1, 'the same body, byte for byte');
    assert.equal(new Set(firsts.map((r) => r.headers['idempotency-key'])).size, 1, 'the same id');
    assert.deepEqual(changes(siem.delivered(code)), ['1:->checking', '2:checking>in_approval'], 'the other destination was not held');
    const metrics = await (await fetch(`${stack.runtime.url}/metrics`)).text();
    assert.match(metrics, /^ticketflow_state_event_deliveries_total\{destination="pipeline",outcome="failed"\} [1-9]/m);
    assert.match(metrics, /^ticketflow_state_event_deliveries_total\{destination="runtime",outcome="delivered"\} [1-9]/m);
  });

  test('a receiver down for good: the event is dead, the later ones held; the console shows it (host only) and an operator redelivers, in order', async () => {
    let down = true;
    let code = '';
    own.reply = (r) => (down && r.event.ticket.provider.instance_code === code ? 503 : 204);
    code = submit(stack, ADMIN, adminForm());
    await until('the manager task', () => pendingFor(stack, code, 'manager').length);
    humanDecides(stack, code, 'approve');
    const ticket = await waitState(stack, code, 'completed');
    const status = async () => (await stack.runtime.pool.query(`SELECT status FROM event_deliveries WHERE ticket_id = $1 AND destination = 'pipeline' ORDER BY audit_id`, [ticket.id])).rows.map((r) => r.status);
    await until('the first event dead', async () => (await status())[0] === 'dead', 15_000);
    assert.deepEqual(await status(), ['dead', 'pending', 'pending', 'pending'], 'the later events are held behind it');
    assert.deepEqual([...new Set(own.of(code).map((r) => r.event.seq))], [1], 'nothing after the dead event was sent');
    assert.ok(own.of(code).length >= 3, 'it was retried until given up');
    await until('the runtime destination got all 4', () => siem.delivered(code).length === 4);

    const bearer = { authorization: `Bearer ${adminToken}` };
    const page = await (await fetch(`${stack.runtime.url}/events?lang=en`, { headers: bearer })).text();
    const row = new RegExp(`<tr class="dead-letter" data-ticket="${ticket.id}" data-destination="pipeline">[\\s\\S]*?</tr>`).exec(page)?.[0];
    assert.ok(row, 'the dead letter is listed');
    assert.ok(row.includes(new URL(own.url).host), 'with the destination’s host');
    assert.ok(!page.includes('s3cr3t-t0ken') && !page.includes('/hooks/events'), 'never its path or token');
    assert.match(row, /#1 /);
    assert.match(row, /HTTP 503/);
    assert.match(row, /<td class="num held"[^>]*>3<\/td>/, 'three events held behind it');
    assert.match(row, /data-action="\/api\/v1\/tickets\/[^"]+\/events\/pipeline\/redeliver"/);
    assert.match(await (await fetch(`${stack.runtime.url}/metrics`)).text(), /^ticketflow_state_events_dead\{destination="pipeline"\} 1$/m);
    const api = await (await fetch(`${stack.runtime.url}/api/v1/events/dead`, { headers: bearer })).json();
    assert.deepEqual(
      api.dead.filter((d: { ticket_id: string }) => d.ticket_id === ticket.id).map((d: Record<string, unknown>) => [d.destination, d.host, d.seq, d.from, d.to, d.dead, d.held, d.last_status]),
      [['pipeline', new URL(own.url).host, 1, null, 'checking', 1, 3, 503]],
    );

    // Only an operator, and from a browser only with the session's CSRF token.
    const redeliver = `${stack.runtime.url}/api/v1/tickets/${ticket.id}/events/pipeline/redeliver`;
    const viewer = await signInOverHttp(stack, 'victor');
    assert.equal((await fetch(redeliver, { method: 'POST', headers: { cookie: viewer.cookie!, 'x-csrf-token': viewer.csrf! } })).status, 403);
    const operator = await signInOverHttp(stack, 'olivia');
    assert.equal((await fetch(redeliver, { method: 'POST', headers: { cookie: operator.cookie! } })).status, 403, 'no CSRF token');
    assert.equal((await fetch(`${stack.runtime.url}/api/v1/tickets/${ticket.id}/events/nowhere/redeliver`, { method: 'POST', headers: bearer })).status, 404);
    assert.equal((await fetch(`${stack.runtime.url}/api/v1/tickets/${ticket.id}/events/runtime/redeliver`, { method: 'POST', headers: bearer })).status, 409, 'nothing dead there');

    down = false;
    const before = own.of(code).length;
    const res = await fetch(redeliver, { method: 'POST', headers: { cookie: operator.cookie!, 'x-csrf-token': operator.csrf! } });
    assert.deepEqual([res.status, await res.json()], [200, { ticket_id: ticket.id, destination: 'pipeline', redelivered: 1 }]);
    await until('every event delivered', async () => (await status()).every((s) => s === 'delivered'), 10_000);
    assert.deepEqual(changes(own.of(code).slice(before)), ['1:->checking', '2:checking>in_approval', '3:in_approval>executing', '4:executing>completed'], 'the dead one first, then the held ones, in order');
    assert.equal((await fetch(`${stack.runtime.url}/events`, { headers: bearer }).then((r) => r.text())).includes(ticket.id), false, 'no dead letter left');
    const audit = (await stack.runtime.pool.query(`SELECT actor, detail FROM ticket_audit WHERE ticket_id = $1 AND event = 'events_redelivered'`, [ticket.id])).rows;
    assert.deepEqual(audit, [{ actor: 'operator:olivia', detail: { destination: 'pipeline', events: 1 } }], 'the action is in the ticket’s history');
    const ticketPage = await (await fetch(`${stack.runtime.url}/tickets/${ticket.id}?lang=en`, { headers: bearer })).text();
    assert.ok(ticketPage.includes('Operator olivia redelivered 1 dead state-change event(s) (Pipeline events_url)'), 'told in its timeline');
    assert.ok(!ticketPage.includes('s3cr3t-t0ken'), 'its calls show the destination by host only');
    assert.equal((await fetch(redeliver, { method: 'POST', headers: bearer })).status, 409, 'a second redeliver has nothing to do');
  });

  test('at least once: the runtime loses its database after the POST, before recording it: the event goes again with the same id, and order holds', async () => {
    let code = '';
    let cut = false;
    let ended: unknown;
    own.reply = async (r) => {
      if (r.event.ticket.provider.instance_code === code && !cut) {
        cut = true;
        // What a crash leaves: the run's connection (and its lock) gone, nothing recorded; the receiver took the event.
        const key = `ticketflow:state-events:${r.event.ticket_id}:pipeline`;
        const { rows } = await stack.runtime.pool.query(
          `SELECT pg_terminate_backend(pid) AS ended FROM pg_locks
           WHERE locktype = 'advisory' AND granted AND objsubid = 1
             AND classid::bigint = (hashtextextended($1, 0) >> 32) & 4294967295 AND objid::bigint = hashtextextended($1, 0) & 4294967295`,
          [key],
        );
        ended = rows;
      }
      return 204;
    };
    code = submit(stack, ADMIN, adminForm());
    await waitState(stack, code, 'in_approval');
    await until('both events delivered and recorded', async () => {
      const t = await ticketOf(stack, code);
      const { rows } = await stack.runtime.pool.query(`SELECT status FROM event_deliveries WHERE ticket_id = $1 AND destination = 'pipeline'`, [t!.id]);
      return rows.length === 2 && rows.every((row) => row.status === 'delivered');
    }, 15_000);
    own.reply = () => 204;
    assert.deepEqual(ended, [{ ended: true }], 'the delivering connection held the ticket’s lock, and was ended');
    const got = own.of(code);
    assert.deepEqual(changes(got), ['1:->checking', '1:->checking', '2:checking>in_approval'], 'the first event twice, then the next');
    assert.equal(got[0]!.raw, got[1]!.raw, 'the same event, byte for byte');
    assert.equal(got[0]!.headers['idempotency-key'], got[1]!.headers['idempotency-key'], 'the same id: the receiver deduplicates on it');
  });

  test('a destination the outbound guard refuses (a metadata address): the event is dead at once with the reason, never sent', async () => {
    const code = submit(stack, SQL, sqlForm());
    const ticket = await until('the ticket', () => ticketOf(stack, code));
    const dead = await until(
      'the dead delivery',
      async () => (await stack.runtime.pool.query(`SELECT status, attempts, last_status, last_error FROM event_deliveries WHERE ticket_id = $1 AND destination = 'pipeline' AND status = 'dead'`, [ticket.id])).rows[0],
      10_000,
    );
    assert.equal(dead.attempts, 1, 'not retried');
    assert.equal(dead.last_status, null, 'no answer: nothing was sent');
    assert.match(dead.last_error, /169\.254\.169\.254 is a link-local or metadata address/);
    await until('the runtime destination still gets it', () => siem.delivered(code).length >= 1);
  });
});

describe('state-change events: a receiver down while the ticket changes state several times', () => {
  test('one retry waits per ticket and destination, for the head event, however many changes were made meanwhile', async () => {
    const business = await new FakeBusiness(testSecret).start();
    const siem = await new Receiver(eventsSecret).start();
    siem.reply = () => 503;
    const stack = await startStack({
      business: business.url,
      // A retry a minute away: every later change of state happens while it waits.
      env: { TICKETFLOW_EVENTS_URL: `${siem.url}/siem`, TICKETFLOW_EVENTS_SECRET: eventsSecret, TICKETFLOW_EVENTS_RETRY_MS: '60000', TICKETFLOW_EVENTS_MAX_DELAY_MS: '60000' },
    });
    try {
      const code = submit(stack, ADMIN, adminForm());
      await until('the manager task', () => pendingFor(stack, code, 'manager').length);
      humanDecides(stack, code, 'approve');
      const { id } = await waitState(stack, code, 'completed');
      const q = async (sql: string) => (await stack.runtime.pool.query(sql, [id])).rows;
      await until('every delivery run of its changes done', async () => (await q(`SELECT 1 FROM pending_effects WHERE payload->>'ticket_id' = $1`)).length === 0 && (await q(`SELECT 1 FROM graphile_worker._private_jobs WHERE payload->>'ticket_id' = $1 AND locked_at IS NOT NULL`)).length === 0);
      assert.deepEqual(changes(siem.of(code)), ['1:->checking'], 'the first event tried once; the later ones held behind it');
      // The view graphile_worker.jobs shows no payload in 0.16: the table itself.
      const waiting = await q(`SELECT j.key, j.run_at > now() + interval '30 seconds' AS later FROM graphile_worker._private_jobs j JOIN graphile_worker._private_tasks t ON t.id = j.task_id WHERE t.identifier = 'deliver_state_events' AND j.payload->>'ticket_id' = $1`);
      assert.deepEqual(waiting, [{ key: `state-events:${id}:runtime`, later: true }], 'one waiting retry, for when the head is due, not one per change of state');
      assert.equal((await q(`SELECT count(*)::int AS n FROM event_deliveries WHERE ticket_id = $1 AND status = 'pending'`))[0].n, 4, 'the 4 events wait, none lost');
    } finally {
      await stack.close();
      await Promise.all([business.close(), siem.close()]);
    }
  });
});

describe('state-change events: nowhere to send them', () => {
  test('without an events_url or TICKETFLOW_EVENTS_URL a ticket leaves no delivery and runs no delivery job', async () => {
    const business = await new FakeBusiness(testSecret).start();
    const stack = await startStack({ business: business.url });
    try {
      const code = submit(stack, ADMIN, adminForm());
      await until('the manager task', () => pendingFor(stack, code, 'manager').length);
      humanDecides(stack, code, 'approve');
      const done = await waitState(stack, code, 'completed');
      const count = async (sql: string) => Number((await stack.runtime.pool.query(sql, [done.id])).rows[0].n);
      assert.equal(await count(`SELECT count(*) AS n FROM event_deliveries WHERE ticket_id = $1`), 0);
      assert.equal(await count(`SELECT count(*) AS n FROM call_attempts WHERE ticket_id = $1 AND target = 'events'`), 0);
      const metrics = await (await fetch(`${stack.runtime.url}/metrics`)).text();
      assert.doesNotMatch(metrics, /task="deliver_state_events"/, 'no delivery job ran');
      assert.match(metrics, /^ticketflow_state_events_pending\{destination="runtime"\} 0$/m);
    } finally {
      await stack.close();
      await business.close();
    }
  });
});

describe('state-change events: a destination TICKETFLOW_ALLOWED_HOSTS does not list', () => {
  test('the dead letter says why by the host only: the URL’s token is never stored, logged or shown', async () => {
    const token = 'q-t0ken-in-the-query';
    const business = await new FakeBusiness(testSecret).start();
    const logs: string[] = [];
    const stack = await startStack({
      business: business.url,
      log: createLogger('debug', new Writable({ write: (chunk, _enc, done) => (logs.push(String(chunk)), done()) })),
      env: {
        // The business service (loopback) is listed; the SIEM is not: its events are refused, never sent.
        TICKETFLOW_ALLOWED_HOSTS: '127.0.0.1',
        TICKETFLOW_EVENTS_URL: `https://siem.unlisted.test/ticketflow/p-t0ken-in-the-path/events?token=${token}`,
        TICKETFLOW_EVENTS_SECRET: eventsSecret,
        TICKETFLOW_ADMIN_TOKEN: adminToken,
      },
    });
    try {
      const code = submit(stack, ADMIN, adminForm());
      const ticket = await until('the ticket', () => ticketOf(stack, code));
      const dead = await until(
        'the dead delivery',
        async () => (await stack.runtime.pool.query(`SELECT last_error FROM event_deliveries WHERE ticket_id = $1 AND destination = 'runtime' AND status = 'dead'`, [ticket.id])).rows[0],
        10_000,
      );
      assert.match(dead.last_error, /siem\.unlisted\.test/, 'why, by the host');
      assert.match(dead.last_error, /TICKETFLOW_ALLOWED_HOSTS/);
      const bearer = { authorization: `Bearer ${adminToken}` };
      const shown = [
        dead.last_error,
        await (await fetch(`${stack.runtime.url}/events?lang=en`, { headers: bearer })).text(),
        await (await fetch(`${stack.runtime.url}/api/v1/events/dead`, { headers: bearer })).text(),
        await (await fetch(`${stack.runtime.url}/tickets/${ticket.id}?lang=en`, { headers: bearer })).text(),
        JSON.stringify((await stack.runtime.pool.query(`SELECT request, error FROM call_attempts WHERE ticket_id = $1 AND target = 'events'`, [ticket.id])).rows),
        logs.join(''),
      ];
      assert.ok(shown[1]!.includes(ticket.id), 'the dead letter is on the Events page');
      for (const text of shown) {
        assert.ok(!text.includes(token) && !text.includes('p-t0ken-in-the-path'), `never the URL's path or query: ${text.slice(0, 300)}`);
      }
    } finally {
      await stack.close();
      await business.close();
    }
  });
});
