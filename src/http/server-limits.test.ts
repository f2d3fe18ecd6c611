import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { loadConfig, ConfigError } from '../config.ts';
import { startStack, type TestStack } from '../testing/runtime.ts';

/** A raw connection and what became of it: the first line the server answered, and when it closed. */
function open(url: string, send?: string): { socket: Socket; firstLine: Promise<string | undefined>; closedAfterMs: Promise<number> } {
  const { hostname, port } = new URL(url);
  const started = Date.now();
  const socket = connect(Number(port), hostname);
  socket.on('error', () => undefined);
  if (send) socket.write(send);
  let received = '';
  socket.on('data', (d) => (received += String(d)));
  const closedAfterMs = new Promise<number>((resolve) => socket.on('close', () => resolve(Date.now() - started)));
  return { socket, firstLine: closedAfterMs.then(() => received.split('\r\n')[0] || undefined), closedAfterMs };
}

describe('HTTP server limits: slow clients are let go, connections are capped', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startStack({ env: { TICKETFLOW_HEADERS_TIMEOUT_MS: '400', TICKETFLOW_REQUEST_TIMEOUT_MS: '800', TICKETFLOW_MAX_CONNECTIONS: '20' } });
  });
  after(() => stack.close());

  test('a connection that sends nothing, or half its headers, is answered 408 and closed after TICKETFLOW_HEADERS_TIMEOUT_MS; a body that trickles, after TICKETFLOW_REQUEST_TIMEOUT_MS', async () => {
    const silent = open(stack.runtime.url);
    const halfHeaders = open(stack.runtime.url, 'GET /healthz HTTP/1.1\r\nHost: x\r\n');
    const slowBody = open(stack.runtime.url, 'POST /api/v1/lark/callback HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":');
    const times = await Promise.all([silent.closedAfterMs, halfHeaders.closedAfterMs, slowBody.closedAfterMs].map((p) => Promise.race([p, new Promise<number>((r) => setTimeout(() => r(Infinity), 5_000))])));
    for (const c of [silent, halfHeaders, slowBody]) c.socket.destroy();
    assert.ok(times[0]! < 2_500 && times[1]! < 2_500, `headers timeout: closed after ${times[0]} and ${times[1]} ms`);
    assert.ok(times[2]! >= 700 && times[2]! < 3_000, `request timeout: closed after ${times[2]} ms`);
    assert.equal(await halfHeaders.firstLine, 'HTTP/1.1 408 Request Timeout');
    assert.equal(await slowBody.firstLine, 'HTTP/1.1 408 Request Timeout');
  });

  test('past TICKETFLOW_MAX_CONNECTIONS a new connection is dropped at once; once the idle ones time out, requests are served again', async () => {
    const held = Array.from({ length: 20 }, () => open(stack.runtime.url));
    await new Promise((r) => setTimeout(r, 100));
    const extra = open(stack.runtime.url, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    const dropped = await Promise.race([extra.closedAfterMs, new Promise<number>((r) => setTimeout(() => r(Infinity), 1_000))]);
    extra.socket.destroy();
    assert.ok(dropped < 300, `the 21st connection was dropped after ${dropped} ms`);
    assert.equal(await extra.firstLine, undefined, 'without an answer');
    await Promise.all(held.map((c) => c.closedAfterMs));
    const res = await fetch(`${stack.runtime.url}/healthz`);
    assert.equal(res.status, 200);
  });

  test('the limits are checked at start', () => {
    assert.throws(() => loadConfig({ ...stack.env, TICKETFLOW_HEADERS_TIMEOUT_MS: '5000', TICKETFLOW_REQUEST_TIMEOUT_MS: '1000' }), ConfigError);
    assert.throws(() => loadConfig({ ...stack.env, TICKETFLOW_MAX_CONNECTIONS: '0' }), ConfigError);
    const defaults = loadConfig({ ...stack.env, TICKETFLOW_HEADERS_TIMEOUT_MS: '', TICKETFLOW_REQUEST_TIMEOUT_MS: '', TICKETFLOW_MAX_CONNECTIONS: '' }).http;
    assert.deepEqual([defaults.headersTimeoutMs, defaults.requestTimeoutMs, defaults.maxConnections], [10_000, 30_000, 1_000]);
  });
});
