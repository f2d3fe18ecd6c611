import assert from 'node:assert/strict';
import type { LookupAddress } from 'node:dns';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { guardedLookup, OutboundError, outboundRequest, refusal } from './outbound.ts';

const listen = async (server: Server) => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
};

test('refused before any request: a host outside TICKETFLOW_ALLOWED_HOSTS, a metadata or link-local address, another scheme', () => {
  assert.match(refusal('https://evil.example.net/x', { allowedHosts: ['*.example.com'] })!, /TICKETFLOW_ALLOWED_HOSTS/);
  assert.equal(refusal('https://api.example.com/x', { allowedHosts: ['*.example.com'] }), undefined);
  assert.match(refusal('http://169.254.169.254/latest/meta-data/', {})!, /metadata/);
  assert.match(refusal('http://[fd00:ec2::254]/latest/meta-data/', {})!, /metadata/);
  assert.match(refusal('http://[fe80::1]/', {})!, /link-local/);
  assert.match(refusal('http://[::ffff:169.254.1.1]/', {})!, /metadata/);
  for (const spelling of ['http://[::169.254.169.254]/', 'http://[64:ff9b::169.254.169.254]/', 'http://[::ffff:0:169.254.169.254]/', 'http://[FD00:EC2:0::254]/', 'http://2852039166/', 'http://0xa9.0xfe.0xa9.0xfe/']) {
    assert.match(refusal(spelling, {})!, /metadata/, spelling);
  }
  assert.equal(refusal('http://[2001:db8::1]/', {}), undefined);
  assert.equal(refusal('http://[::1]:8080/', {}), undefined);
  assert.equal(refusal('http://169.254.169.254/', { allowedHosts: ['169.254.169.254'] }), undefined, 'listed explicitly');
  assert.match(refusal('file:///etc/passwd', {})!, /not called/);
});

test('a host name that resolves to a metadata address is refused after DNS, unless listed exactly', async () => {
  const fakeDns = ((_h: string, _o: unknown, cb: (e: null, a: LookupAddress[]) => void) => cb(null, [{ address: '169.254.169.254', family: 4 }])) as never;
  const ask = (allowed: string[] | undefined) =>
    new Promise<string>((resolve) => guardedLookup({ allowedHosts: allowed }, 'metadata.internal', fakeDns)('metadata.internal', {}, (err, address) => resolve(err ? `refused: ${err.message}` : String(address))));
  assert.match(await ask(undefined), /^refused: metadata\.internal resolves to 169\.254\.169\.254/);
  assert.equal(await ask(['metadata.internal']), '169.254.169.254');
});

describe('replies', () => {
  let target: Server;
  let redirecting: Server;
  let flooding: Server;
  let targetHits = 0;
  let floodWritten = 0;
  let urls: { target: string; redirecting: string; flooding: string };
  before(async () => {
    target = createServer((_req, res) => {
      targetHits++;
      res.end('{"options":[]}');
    });
    const t = await listen(target);
    redirecting = createServer((_req, res) => {
      res.writeHead(302, { location: `${t}/secret` });
      res.end();
    });
    flooding = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 << 10, 0x20);
      const pump = () => {
        while (floodWritten < 200 << 20 && !res.destroyed) {
          floodWritten += chunk.length;
          if (!res.write(chunk)) return res.once('drain', pump);
        }
        res.end();
      };
      pump();
    });
    urls = { target: t, redirecting: await listen(redirecting), flooding: await listen(flooding) };
  });
  after(() => {
    for (const s of [target, redirecting, flooding]) s.closeAllConnections(), s.close();
  });

  test('a redirect is answered as it is, never followed', async () => {
    const res = await outboundRequest(urls.redirecting, { headers: {}, body: '{}', timeoutMs: 2000, maxBytes: 1 << 20, policy: {} });
    assert.equal(res.status, 302);
    assert.equal(targetHits, 0);
  });

  test('a reply is refused as soon as it passes its limit, while it is read (200 MB offered, far less taken)', async () => {
    await assert.rejects(outboundRequest(urls.flooding, { headers: {}, body: '{}', timeoutMs: 10_000, maxBytes: 1 << 20, policy: {} }), (e: OutboundError) => e.kind === 'too_large');
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(floodWritten < 32 << 20, `the server wrote ${floodWritten >> 20} MiB before the connection closed`);
  });
});
