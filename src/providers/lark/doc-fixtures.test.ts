import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { Pipeline } from '../../pipeline/pipeline.generated.ts';
import { decodeLarkCallback } from './callback.ts';
import { mapLarkForm, type LarkWidget } from './form.ts';
import { larkCreateForm } from './form-create.ts';
import { createLogger } from '../../log.ts';
import { LarkApi } from './api.ts';
import { larkProvider } from './provider.ts';
import { checkCreateForm } from './simulator/create-form.ts';

/** The official pages' own examples (each file names its page), through our decoders and mappers. */
const fixture = (name: string) => JSON.parse(readFileSync(new URL(`./testdata/${name}.json`, import.meta.url), 'utf8')) as Record<string, unknown>;
// Classifying calls nothing: the client's base URL is unreachable on purpose.
const provider = larkProvider(new LarkApi({ appId: 'cli_test', appSecret: 'test', baseUrl: 'http://127.0.0.1:9', log: createLogger('silent') }), 'assistant');

test('the approval instance event of the docs decodes, and each documented status maps explicitly', () => {
  const { _source, ...body } = fixture('approval-instance-event');
  const outcome = decodeLarkCallback(Buffer.from(JSON.stringify(body)), {}, { verificationToken: '41a9425ea7df4536a7623e38fa321bae' });
  assert.equal(outcome.kind, 'event');
  const payload = (outcome as { event: { payload: Record<string, unknown>; eventId: string } }).event;
  assert.equal(payload.eventId, 'bc447199585340d1f3728d26b1c0297a');
  const statusOf = (status: string) => {
    const e = provider.classify({ ...payload.payload, event: { ...(payload.payload.event as object), status } });
    return e.kind === 'instance' ? `${e.status}${e.reopened ? ' reopened' : ''}` : e.kind;
  };
  assert.deepEqual(
    ['PENDING', 'APPROVED', 'REJECTED', 'CANCELED', 'DELETED', 'REVERTED', 'OVERTIME_CLOSE', 'OVERTIME_RECOVER', 'SOMETHING_NEW'].map(statusOf),
    ['PENDING', 'APPROVED', 'REJECTED', 'CANCELED', 'DELETED', 'REVERTED', 'TIMED_OUT', 'PENDING reopened', 'other'],
  );
});

test('attachment names of instance get come quoted in ext; the business receives them bare', () => {
  const { widget } = fixture('instance-get-attachment') as { widget: LarkWidget };
  const pipeline = { fields: { files: { widget: { id: widget.id }, type: 'attachments' } } } as unknown as Pipeline;
  const { fields, problems } = mapLarkForm(pipeline, [widget], new Date('2026-11-25T00:00:00Z'));
  assert.deepEqual(problems, []);
  assert.deepEqual((fields.files as Array<{ name: string; url: string }>).map((f) => [f.name, f.url]), [['Item 1 name', 'Item 1'], ['Item 2 name', 'Item 2']]);
});

test('the docs\' create examples pass the simulator\'s create check, and our create form has the same shapes', () => {
  const values = fixture('create-form-values') as Record<string, { id: string; type: string; value: unknown; currency?: string }>;
  const definition = Object.entries(values).filter(([k]) => k !== '_source').map(([, v]) => ({ id: v.id, name: v.id, type: v.type }));
  checkCreateForm(definition, Object.entries(values).filter(([k]) => k !== '_source').map(([, v]) => v));
  const pipeline = {
    fields: {
      phone: { widget: { id: 'widget_phone' }, type: 'phone' },
      days: { widget: { id: 'widget_days' }, type: 'datetime_range' },
      money: { widget: { id: 'widget_money' }, type: 'amount' },
    },
  } as unknown as Pipeline;
  const ours = larkCreateForm(pipeline, { phone: { country_code: '+86', number: '13122222222' }, days: { start: '2019-10-01T08:12:01+08:00', end: '2019-10-02T08:12:01+08:00' }, money: { value: 1234.5678, currency: 'USD' } }, definition);
  assert.deepEqual(ours, [values.telephone, values.dateInterval, values.amount]);
  checkCreateForm(definition, ours);
});
