import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import Router from '@koa/router';
import Koa from 'koa';
import { HttpError, errorHandler } from '../http/errors.ts';
import { createLogger } from '../log.ts';
import type { Alarm } from './alarm.ts';
import { unexpectedErrorAlarm } from './unexpected.ts';

test('an HTTP 500 raises unexpected_error (keyed by type, message and top frame); a 4xx raises nothing; what goes out has no database detail', async () => {
  const raised: Alarm[] = [];
  const app = new Koa();
  const router = new Router();
  router.get('/boom', () => {
    throw Object.assign(new Error('duplicate key value violates unique constraint "forms_pkey"'), { code: '23505', detail: 'Key (reason)=(my secret reason) already exists.' });
  });
  router.get('/refused', () => {
    throw new HttpError(409, 'conflict', 'no');
  });
  app.use(errorHandler(createLogger('silent'), { raise: (a) => void raised.push(a) }));
  app.use(router.routes());
  const server = createServer(app.callback()).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    assert.equal((await fetch(`${url}/boom`)).status, 500);
    assert.equal((await fetch(`${url}/boom`)).status, 500);
    assert.equal((await fetch(`${url}/refused`)).status, 409);
    assert.equal(raised.length, 2);
    const [a, b] = raised;
    assert.equal(a!.kind, 'unexpected_error');
    assert.equal(a!.key, b!.key, 'the same failure has the same key: the dispatcher folds the repeat');
    assert.match(a!.title, /^Unexpected error in HTTP GET \/boom: Error: duplicate key value/);
    assert.ok(!JSON.stringify(a).includes('my secret reason'));
    assert.equal((a!.error as { detail?: string }).detail, undefined, 'Sentry gets a copy without detail');
    assert.ok((a!.error as Error).stack?.includes('unexpected.test.ts'));
  } finally {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
});

test('a thrown non-error is still an alarm', () => {
  const a = unexpectedErrorAlarm('the notify job (given up after 25 attempts)', 'gone');
  assert.match(a.title, /^Unexpected error in the notify job \(given up after 25 attempts\): Error: gone$/);
});
