import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { larkEncrypt, larkSignature } from '../providers/lark/crypto.ts';
import { scratchDatabase } from '../store/scratch-database.ts';
import { benchKeys } from './keys.ts';
import { sendAll, type LoadResult } from './load.ts';
import { fmt, median, percentile } from './stats.ts';

const serverScript = fileURLToPath(new URL('./intake-server.ts', import.meta.url));

export function signedEvents(count: number, prefix: string): Array<{ body: string; headers: Record<string, string> }> {
  return Array.from({ length: count }, (_, i) => {
    const plain = JSON.stringify({
      ts: '1700000000.0',
      uuid: `${prefix}-${i}`,
      token: benchKeys.verificationToken,
      type: 'event_callback',
      event: { app_id: 'cli_x', tenant_key: 't', type: 'approval_task', approval_code: '7C468A54-8745-2245-9675-08B7C63E7A85', instance_code: `INST-${i % 500}`, task_id: String(i), user_id: 'assistant', open_id: 'ou_x', status: 'PENDING', operate_time: '1700000000000', custom_key: 'check_node', def_key: 'n' },
    });
    const body = JSON.stringify({ encrypt: larkEncrypt(benchKeys.encryptKey, plain) });
    const timestamp = '1700000000';
    const nonce = randomBytes(6).toString('hex');
    return { body, headers: { 'content-type': 'application/json', 'x-lark-request-timestamp': timestamp, 'x-lark-request-nonce': nonce, 'x-lark-signature': larkSignature(timestamp, nonce, benchKeys.encryptKey, body) } };
  });
}

async function startServer(mode: string, databaseUrl: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', serverScript, mode, databaseUrl], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /ready (\S+)/.exec(out);
      if (m) resolve(`${m[1]}/api/v1/lark/callback`);
    });
    child.on('exit', (code) => reject(new Error(`${mode} server exited with ${code}`)));
  });
  return { url, child };
}

const labels: Record<string, string> = {
  bare: 'bare Koa JSON handler (no verify, no store)',
  naive: 'naive: verify+decrypt+INSERT, one txn per event',
  ticketflow: 'ticketflow intake (group commit, intake-only)',
};

export async function benchIntake(): Promise<void> {
  const count = Number(process.env.BENCH_INTAKE_EVENTS ?? 3000);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  const concurrency = 32;
  const modes = ['bare', 'naive', 'ticketflow'];
  const where = process.env.DATABASE_URL ? 'the PostgreSQL of DATABASE_URL' : 'an embedded PostgreSQL each';
  console.log(`\n## intake — signed, encrypted Lark events (verify, decrypt, token, store, answer); ${concurrency} keep-alive connections;`);
  console.log(`   each server in its own process on ${where}; ${rounds} alternating rounds of ${count} events; median events/s, pooled p50/p99`);
  const servers: Record<string, { url: string; child: ChildProcess; close(): Promise<void> }> = {};
  try {
    for (const mode of modes) {
      const db = await scratchDatabase('tf_bench');
      const { url, child } = await startServer(mode, db.url);
      servers[mode] = { url, child, close: async () => { child.kill('SIGKILL'); await new Promise((r) => setTimeout(r, 200)); await db.close(); } };
      await sendAll(url, signedEvents(500, `warm-${mode}`), concurrency);
    }
    const runs: Record<string, LoadResult[]> = { bare: [], naive: [], ticketflow: [] };
    for (let round = 0; round < rounds; round++) {
      for (const mode of modes) runs[mode]!.push(await sendAll(servers[mode]!.url, signedEvents(count, `run-${mode}-${round}`), concurrency));
    }
    console.log('server                                           events/s    p50 ms    p99 ms  failures');
    const summary: Record<string, { perSecond: number; p50: number; p99: number }> = {};
    for (const mode of modes) {
      const r = runs[mode]!;
      const s = { perSecond: median(r.map((x) => x.perSecond)), p50: percentile(r.flatMap((x) => x.latencies).sort((a, b) => a - b), 50), p99: percentile(r.flatMap((x) => x.latencies).sort((a, b) => a - b), 99) };
      summary[mode] = s;
      console.log(`${labels[mode]!.padEnd(48)} ${fmt(s.perSecond, 0).padStart(8)}  ${fmt(s.p50).padStart(8)}  ${fmt(s.p99).padStart(8)}  ${String(r.reduce((n, x) => n + x.failures, 0)).padStart(8)}`);
    }
    const t = summary.ticketflow!;
    console.log(`ratio     ticketflow / naive throughput: ${fmt(t.perSecond / summary.naive!.perSecond)}× (target ≥ 2×); ticketflow / bare: ${fmt(t.perSecond / summary.bare!.perSecond)}×`);
    console.log(`latency   ticketflow p99 ${fmt(t.p99)} ms (target < 20 ms); the bare handler's own p99 here is ${fmt(summary.bare!.p99)} ms`);
  } finally {
    for (const s of Object.values(servers)) await s.close();
  }
}
