import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { test, type TestContext } from 'node:test';
import Router from '@koa/router';
import Koa from 'koa';
import { createLogger } from '../log.ts';
import { migratedTestDatabase } from '../testing/database.ts';
import { rawBody, jsonBody } from './body.ts';
import { errorHandler } from './errors.ts';

async function errorApp(t: TestContext) {
  const db = await migratedTestDatabase();
  t.after(() => db.close());
  await db.pool.query('CREATE TABLE forms (reason text PRIMARY KEY)');
  const lines: string[] = [];
  const log = createLogger('info', new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) }));
  const app = new Koa();
  const router = new Router();
  router.post('/store', rawBody(1 << 16), async (ctx) => {
    const { reason } = jsonBody(ctx);
    await db.pool.query('INSERT INTO forms (reason) VALUES ($1)', [reason]);
    ctx.body = {};
  });
  router.post('/compare', rawBody(1 << 16), async (ctx) => {
    const { when } = jsonBody(ctx);
    await db.pool.query('SELECT $1::timestamptz', [when]);
    ctx.body = {};
  });
  app.use(errorHandler(log));
  app.use(router.routes());
  const server = createServer(app.callback()).listen(0, '127.0.0.1');
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  await new Promise((r) => server.once('listening', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${url}${path}`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    return [res.status, ((await res.json()) as { error?: { code: string } }).error?.code];
  };

  return { post, lines };
}

const secret = 'my salary is 12345 and my manager is Bob';

test('an unexpected error is a 500 whose log line quotes no form content (a database error\'s detail quotes the value)', async (t) => {
  const { post, lines } = await errorApp(t);
  assert.deepEqual(await post('/store', { reason: secret }), [200, undefined]);
  assert.deepEqual(await post('/store', { reason: secret }), [500, 'internal'], 'a unique violation');
  const logged = lines.join('');
  assert.match(logged, /"code":"23505"/);
  assert.match(logged, /"msg":"request failed"/);
  assert.doesNotMatch(logged, /salary/);
});

test('a value the database refuses for what it is (a data exception) is a 400, logged by SQLSTATE only; a NUL in a JSON body a 400', async (t) => {
  const { post, lines } = await errorApp(t);
  assert.deepEqual(await post('/compare', { when: secret }), [400, 'bad_input'], 'invalid timestamp syntax: its message quotes the value');
  assert.deepEqual(await post('/store', { reason: `${secret}\u0000` }), [400, 'unsupported_text']);
  const logged = lines.join('');
  assert.match(logged, /"code":"22007"/);
  assert.doesNotMatch(logged, /salary/);
});
