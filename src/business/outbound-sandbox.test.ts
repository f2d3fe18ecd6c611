import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../config.ts';
import { exampleRoute, isExampleHost } from './example-hosts.ts';
import { OutboundError, outboundPolicy, outboundRequest } from './outbound.ts';

test('only the reserved example domains are example hosts, and only they are routed, path and query kept', () => {
  for (const host of ['example.com', 'admin.example.com', 'a.b.example.org', 'EXAMPLE.NET', 'dbops.example.com.']) assert.equal(isExampleHost(host), true, host);
  for (const host of ['example.co', 'notexample.com', 'example.com.evil.io', 'admin-example.com', 'localhost', '127.0.0.1']) assert.equal(isExampleHost(host), false, host);
  const local = 'http://127.0.0.1:4567';
  assert.equal(exampleRoute('https://admin.example.com/ticketflow/check', local), 'http://127.0.0.1:4567/ticketflow/check');
  assert.equal(exampleRoute('https://dbops.example.com:8443/api/x?a=1&b=2', `${local}/`), 'http://127.0.0.1:4567/api/x?a=1&b=2');
  assert.equal(exampleRoute('https://api.acme.io/check', local), undefined, 'a real host is called as written');
  assert.equal(exampleRoute('ftp://admin.example.com/x', local), undefined);
  assert.equal(exampleRoute('https://admin.example.com/x', undefined), undefined, 'no example service: nothing is rerouted');
});

test('the runtime policy carries the example service in sandbox mode only', () => {
  const sandbox = { ...loadConfig({}), exampleServiceUrl: 'http://127.0.0.1:4567' };
  assert.deepEqual(outboundPolicy(sandbox), { allowedHosts: undefined, exampleService: 'http://127.0.0.1:4567' });
  const configured = { ...loadConfig({ LARK_APP_ID: 'cli_x', LARK_APP_SECRET: 's', LARK_ASSISTANT_USER_ID: 'a', LARK_VERIFICATION_TOKEN: 't', TICKETFLOW_ALLOWED_HOSTS: '*.example.com' }), exampleServiceUrl: 'http://127.0.0.1:4567' };
  assert.deepEqual(outboundPolicy(configured), { allowedHosts: ['*.example.com'] }, 'outside sandbox mode a stray example service URL changes nothing');
});

describe('outboundRequest with the sandbox mapping', () => {
  let service: Server;
  let url: string;
  const seen: Array<{ method?: string; url?: string; host?: string; body: string }> = [];
  before(async () => {
    service = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, host: req.headers.host, body });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      });
    });
    await new Promise<void>((r) => service.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(service.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => service.close(() => r())));

  const send = (target: string, policy: Parameters<typeof outboundRequest>[1]['policy']) => outboundRequest(target, { headers: { 'content-type': 'application/json', 'x-signed': 'yes' }, body: '{"a":1}', timeoutMs: 3_000, maxBytes: 1024, policy });

  test('an example host reaches the example service with the same method, path, query, headers and body', async () => {
    const reply = await send('https://admin.example.com/ticketflow/check?x=1', { exampleService: url });
    assert.equal(reply.status, 200);
    assert.deepEqual(seen.at(-1), { method: 'POST', url: '/ticketflow/check?x=1', host: new URL(url).host, body: '{"a":1}' });
  });

  test('the checks on the URL as written still apply: a host outside TICKETFLOW_ALLOWED_HOSTS is refused, not rerouted', async () => {
    const before = seen.length;
    await assert.rejects(send('https://admin.example.com/ticketflow/check', { exampleService: url, allowedHosts: ['api.acme.io'] }), (e: OutboundError) => e.kind === 'refused' && /TICKETFLOW_ALLOWED_HOSTS/.test(e.message));
    assert.equal(seen.length, before, 'nothing reached the example service');
  });

  test('without the mapping (validation, production) an example host is called as written', async () => {
    const before = seen.length;
    await assert.rejects(send('https://admin.example.invalid/ticketflow/check', { exampleService: url }), (e: OutboundError) => e.kind === 'network', 'not an example host: DNS, not the example service');
    await assert.rejects(send('http://admin.example.com:1/ticketflow/check', {}), (e: OutboundError) => e.kind === 'network' || e.kind === 'timeout');
    assert.equal(seen.length, before);
  });
});
