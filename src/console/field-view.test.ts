import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parse } from 'yaml';
import type { Pipeline } from '../pipeline/pipeline.generated.ts';
import { fieldViews } from './field-view.ts';

const load = (name: string) => parse(readFileSync(new URL(`../../pipelines/${name}.yaml`, import.meta.url), 'utf8')) as Pipeline;
const plain = (html: string) => html.replace(/<[^>]+>/g, '').replace(/&amp;/g, '&');

test('fields carry the pipeline version\'s labels, and option ids their labels in the reader\'s language', () => {
  const admin = load('admin-permission');
  const values = { system: 'crm', roles: ['viewer', 'admin'], until: '2026-12-31', reason: 'on-call\nrotation', retired: 7 };
  const en = fieldViews(values, admin.fields, 'en');
  assert.deepEqual(en.map((f) => [f.name, f.label, plain(f.value.text)]), [
    ['system', 'system', 'crm'],
    ['roles', 'roles', 'Viewer, Administrator'],
    ['until', 'until', '2026-12-31'],
    ['reason', '申请理由', 'on-call\nrotation'],
    ['retired', 'retired', '7'],
  ]);
  assert.equal(en[1]!.description, 'Roles requested in that system.');
  assert.match(en[1]!.value.text, /<span title="viewer">Viewer<\/span>/, 'the id stays at hand');
  assert.equal(plain(fieldViews(values, admin.fields, 'zh')[1]!.value.text), '只读, 管理员');
  assert.equal(plain(fieldViews({ until: null }, admin.fields, 'en')[0]!.value.text), '(empty)');
});

test('amounts, date ranges, tables with their columns\' labels; a link only to http(s)', () => {
  const expense = load('travel-expense');
  const [trip, total, lines, receipts] = fieldViews(
    {
      trip: { start: '2026-11-01', end: '2026-11-03' },
      total: { value: 1234.5, currency: 'CNY' },
      lines: [{ category: 'lodging', amount: { value: 800, currency: 'CNY' }, note: 'hotel' }],
      receipts: [{ name: 'a.pdf', url: 'https://files.example.com/a' }, { name: 'b.pdf', url: 'javascript:alert(1)' }],
    },
    expense.fields,
    'en',
  );
  assert.equal(plain(trip!.value.text), '2026-11-01 → 2026-11-03');
  assert.equal(plain(total!.value.text), '1,234.50 CNY');
  assert.match(lines!.value.text, /<table class="inner">/);
  assert.match(plain(lines!.value.text), /Lodging/);
  assert.match(plain(lines!.value.text), /800\.00 CNY/);
  assert.match(receipts!.value.text, /<a href="https:\/\/files.example.com\/a" rel="noreferrer noopener" target="_blank">a.pdf<\/a>/);
  assert.doesNotMatch(receipts!.value.text, /href="javascript/);
});
