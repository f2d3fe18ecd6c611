import { spawn, type ChildProcess } from 'node:child_process';
import { cliPath, repoRoot } from './cli.ts';

export interface ServeProcess {
  child: ChildProcess;
  url: string;
  output(): string;
  exited: Promise<number | null>;
}

/** Starts `ticketflow serve` as a separate process and waits for /healthz (or for the process to exit). */
export async function startServe(env: NodeJS.ProcessEnv, port: number, timeoutMs = 60_000): Promise<ServeProcess> {
  const child = spawn(process.execPath, [cliPath, 'serve'], { cwd: repoRoot, env: { ...process.env, DATABASE_URL: '', LARK_APP_ID: '', PORT: String(port), LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  let done = false;
  void exited.then(() => (done = true));
  while (!done && Date.now() < deadline) {
    const ok = await fetch(`${url}/healthz`).then((r) => r.ok, () => false);
    if (ok) return { child, url, output: () => out, exited };
    await new Promise((r) => setTimeout(r, 100));
  }
  if (!done) child.kill('SIGKILL');
  throw new Error(`serve did not become healthy:\n${out}`);
}

export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}
