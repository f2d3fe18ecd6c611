import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { HumanStep } from '../pipeline/pipeline.generated.ts';
import { humanStepTimes, planHumanStep, startClock, type ApprovalClock, type HumanStepAction } from './human-step.ts';

const T0 = Date.parse('2026-11-23T10:00:00Z');
const H = 3_600_000;
const D = 24 * H;
const at = (ms: number) => new Date(T0 + ms);
const iso = (ms: number) => at(ms).toISOString();
const clock = (c: { since?: number; actedAt?: number; remindedAt?: number; reminders?: number } = {}): ApprovalClock => ({
  since: iso(c.since ?? 0),
  reminders: c.reminders ?? 0,
  ...(c.actedAt !== undefined ? { actedAt: iso(c.actedAt) } : {}),
  ...(c.remindedAt !== undefined ? { remindedAt: iso(c.remindedAt) } : {}),
});
const full: HumanStep = { remind_after: '4h', remind_every: '1d', escalate_after: '2d', expire_after: '7d' };
const times = (spec: HumanStep | undefined, c: ApprovalClock, escalated = false) =>
  Object.fromEntries(Object.entries(humanStepTimes(spec, c, escalated)).map(([k, v]) => [k, (v as Date).getTime() - T0]));

describe('the human step: when each action falls', () => {
  test('from the moment the ticket reached approval, with nothing done yet', () => {
    assert.deepEqual(times(full, clock()), { remind: 4 * H, escalate: 2 * D, expire: 7 * D });
  });

  test('no approval block, or an empty one, schedules nothing', () => {
    assert.deepEqual(times(undefined, clock()), {});
    assert.deepEqual(times({}, clock()), {});
  });

  test('each duration alone', () => {
    assert.deepEqual(times({ remind_after: '4h' }, clock()), { remind: 4 * H });
    assert.deepEqual(times({ escalate_after: '2d' }, clock()), { escalate: 2 * D });
    assert.deepEqual(times({ expire_after: '7d' }, clock()), { expire: 7 * D });
    // remind_every without remind_after is refused by validate; the engine then sends nothing.
    assert.deepEqual(times({ remind_every: '1h' }, clock()), {});
  });

  test('seconds and milliseconds, as tests write them', () => {
    assert.deepEqual(times({ remind_after: '1s', remind_every: '2s', escalate_after: '3s', expire_after: '5s' }, clock()), { remind: 1000, escalate: 3000, expire: 5000 });
    assert.deepEqual(times({ remind_after: '250ms' }, clock()), { remind: 250 });
  });

  test('after a reminder: the next one remind_every later; without remind_every, none until an approver acts', () => {
    assert.deepEqual(times(full, clock({ reminders: 1, remindedAt: 4 * H })), { remind: 4 * H + D, escalate: 2 * D, expire: 7 * D });
    assert.deepEqual(times({ remind_after: '4h' }, clock({ reminders: 1, remindedAt: 4 * H })), {});
    // A reminder sent late (the runtime was down) sets the pace from when it was sent.
    assert.deepEqual(times(full, clock({ reminders: 1, remindedAt: 30 * H })), { remind: 30 * H + D, escalate: 2 * D, expire: 7 * D });
  });

  test('an approver acting starts the reminder clock over, not escalation or expiry', () => {
    assert.deepEqual(times(full, clock({ actedAt: 3 * H })), { remind: 7 * H, escalate: 2 * D, expire: 7 * D });
    // Acted after the last reminder: the first reminder after the act comes remind_after later.
    assert.deepEqual(times(full, clock({ reminders: 2, remindedAt: 28 * H, actedAt: 30 * H })), { remind: 34 * H, escalate: 2 * D, expire: 7 * D });
    // Acted before the last reminder: that reminder already counts, the next is remind_every after it.
    assert.deepEqual(times(full, clock({ reminders: 2, remindedAt: 28 * H, actedAt: 20 * H })), { remind: 52 * H, escalate: 2 * D, expire: 7 * D });
    // Without remind_every, an act allows one more reminder.
    assert.deepEqual(times({ remind_after: '4h' }, clock({ reminders: 1, remindedAt: 4 * H, actedAt: 5 * H })), { remind: 9 * H });
  });

  test('an act recorded before the clock started (a reopened ticket) counts from the start', () => {
    assert.deepEqual(times(full, clock({ since: 10 * H, actedAt: 2 * H })), { remind: 14 * H, escalate: 10 * H + 2 * D, expire: 10 * H + 7 * D });
  });

  test('an escalated ticket is not escalated again', () => {
    assert.deepEqual(times(full, clock(), true), { remind: 4 * H, expire: 7 * D });
  });

  test('no reminder at or after expiry', () => {
    assert.deepEqual(times({ remind_after: '7d', expire_after: '7d' }, clock()), { expire: 7 * D });
    assert.deepEqual(times({ remind_after: '8d', expire_after: '7d' }, clock()), { expire: 7 * D });
    assert.deepEqual(times(full, clock({ reminders: 6, remindedAt: 6 * D + 4 * H })), { escalate: 2 * D, expire: 7 * D });
    assert.deepEqual(times(full, clock({ reminders: 6, remindedAt: 5 * D + 4 * H })), { remind: 6 * D + 4 * H, escalate: 2 * D, expire: 7 * D });
  });
});

describe('the human step: what is due now and what comes next', () => {
  const plan = (spec: HumanStep | undefined, c: ApprovalClock, nowMs: number, escalated = false) => {
    const p = planHumanStep(spec, c, escalated, at(nowMs));
    return { due: p.due, next: p.next && { action: p.next.action, in: p.next.at.getTime() - T0 } };
  };

  test('nothing due yet: the first reminder is next', () => {
    assert.deepEqual(plan(full, clock(), 0), { due: [], next: { action: 'remind', in: 4 * H } });
    assert.deepEqual(plan(full, clock(), 4 * H - 1), { due: [], next: { action: 'remind', in: 4 * H } });
  });

  test('due exactly at its time, not a millisecond before', () => {
    assert.deepEqual(plan(full, clock(), 4 * H).due, ['remind']);
    assert.deepEqual(plan({ escalate_after: '2d' }, clock(), 2 * D - 1).due, []);
    assert.deepEqual(plan({ escalate_after: '2d' }, clock(), 2 * D).due, ['escalate']);
  });

  test('what is next leaves out what is due', () => {
    assert.deepEqual(plan(full, clock(), 4 * H), { due: ['remind'], next: { action: 'escalate', in: 2 * D } });
  });

  test('escalation and a reminder due together: escalate first, then remind', () => {
    assert.deepEqual(plan(full, clock({ reminders: 1, remindedAt: D }), 2 * D), { due: ['escalate', 'remind'], next: { action: 'expire', in: 7 * D } });
  });

  test('expiry due: nothing else is, whatever was missed', () => {
    assert.deepEqual(plan(full, clock(), 7 * D), { due: ['expire'], next: undefined });
    assert.deepEqual(plan(full, clock(), 30 * D), { due: ['expire'], next: undefined });
  });

  test('a late run (the runtime was down for days) sends one reminder, not one per missed period', () => {
    const p = plan(full, clock({ reminders: 1, remindedAt: 4 * H }), 4 * D, true);
    assert.deepEqual(p.due, ['remind']);
  });

  test('escalated, reminders spent: only expiry is left', () => {
    assert.deepEqual(plan({ remind_after: '4h', escalate_after: '2d', expire_after: '7d' }, clock({ reminders: 1, remindedAt: 4 * H }), 3 * D, true), { due: [], next: { action: 'expire', in: 7 * D } });
  });

  test('nothing set, nothing ever due', () => {
    assert.deepEqual(plan(undefined, clock(), 100 * D), { due: [], next: undefined });
    assert.deepEqual(plan({ remind_after: '1h' }, clock({ reminders: 1, remindedAt: H }), 100 * D), { due: [], next: undefined });
  });

  test('a started clock counts from its start', () => {
    const c = startClock(at(5 * H));
    assert.deepEqual(c, { since: iso(5 * H), reminders: 0 });
    assert.deepEqual(plan(full, c, 5 * H), { due: [], next: { action: 'remind', in: 9 * H } });
  });

  test('walking a whole wait, minute by minute, carrying out what is due: the documented schedule', () => {
    const spec: HumanStep = { remind_after: '4h', remind_every: '1d', escalate_after: '2d', expire_after: '7d' };
    let c = startClock(at(0));
    let escalated = false;
    const done: Array<[HumanStepAction, number]> = [];
    for (let m = 0; m <= 8 * 24 * 60; m++) {
      const now = m * 60_000;
      const p = planHumanStep(spec, c, escalated, at(now));
      for (const action of p.due) {
        done.push([action, now / H]);
        if (action === 'remind') c = { ...c, reminders: c.reminders + 1, remindedAt: iso(now) };
        if (action === 'escalate') escalated = true;
      }
      if (p.due.includes('expire')) break;
      // An approver acts once, on day 3 at noon: reminders start over from there.
      if (now === 3 * D + 2 * H) c = { ...c, actedAt: iso(now) };
    }
    assert.deepEqual(done, [
      ['remind', 4],
      ['remind', 28],
      ['escalate', 48],
      ['remind', 52],
      ['remind', 78], // 4 h after the act at 74 h
      ['remind', 102],
      ['remind', 126],
      ['remind', 150],
      ['expire', 168],
    ]);
  });

  test('every combination of the four durations: due times never go backwards, and expiry ends the walk', () => {
    const values = [undefined, '1s', '3s', '5s'];
    for (const remind_after of values)
      for (const remind_every of values)
        for (const escalate_after of values)
          for (const expire_after of values) {
            const spec: HumanStep = { remind_after, remind_every, escalate_after, expire_after };
            let c = startClock(at(0));
            let escalated = false;
            let last = -1;
            const label = JSON.stringify(spec);
            for (let ms = 0; ms <= 20_000; ms += 250) {
              const p = planHumanStep(spec, c, escalated, at(ms));
              if (p.next) assert.ok(p.next.at.getTime() > ms, `${label}: next is in the future`);
              for (const action of p.due) {
                assert.ok(ms >= last, `${label}: actions in time order`);
                last = ms;
                if (action === 'remind') c = { ...c, reminders: c.reminders + 1, remindedAt: iso(ms) };
                if (action === 'escalate') escalated = true;
              }
              if (p.due.includes('expire')) {
                assert.ok(expire_after, `${label}: expiry only when set`);
                assert.equal(ms, Number.parseInt(expire_after!) * 1000, `${label}: expires at expire_after`);
                break;
              }
            }
            if (!remind_every && remind_after) assert.ok(c.reminders <= 1, `${label}: one reminder without remind_every`);
            if (escalate_after && (!expire_after || Number.parseInt(escalate_after) < Number.parseInt(expire_after))) assert.ok(escalated, `${label}: escalated`);
          }
  });
});
