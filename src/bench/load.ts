import { Agent, request } from 'node:http';
import { percentile } from './stats.ts';

export interface LoadResult {
  count: number;
  seconds: number;
  perSecond: number;
  p50: number;
  p99: number;
  failures: number;
  /** Every request's latency in ms, sorted. */
  latencies: number[];
}

/** Sends prepared requests with `concurrency` keep-alive connections; latency per request in ms. */
export async function sendAll(url: string, requests: ReadonlyArray<{ body: string; headers: Record<string, string> }>, concurrency: number): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const target = new URL(url);
  const latencies: number[] = [];
  let failures = 0;
  let next = 0;
  const one = (r: { body: string; headers: Record<string, string> }) =>
    new Promise<void>((resolve) => {
      const start = process.hrtime.bigint();
      const req = request({ host: target.hostname, port: target.port, path: target.pathname, method: 'POST', agent, headers: { ...r.headers, 'content-length': Buffer.byteLength(r.body) } }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode !== 200) failures++;
          latencies.push(Number(process.hrtime.bigint() - start) / 1e6);
          resolve();
        });
      });
      req.on('error', () => {
        failures++;
        resolve();
      });
      req.end(r.body);
    });
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < requests.length) await one(requests[next++]!);
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return { count: requests.length, seconds, perSecond: requests.length / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), failures, latencies };
}
