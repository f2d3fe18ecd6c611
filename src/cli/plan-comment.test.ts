import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('../../scripts/plan-comment.mjs', import.meta.url));
const MARKER = '<!-- ticketflow-plan -->';
const TOKEN = 'ghs_test_token';

interface Comment {
  id: number;
  issue: number;
  body: string;
  user: { login: string; type: 'User' | 'Bot' };
  html_url: string;
}

/** GitHub's issue-comment REST API as far as the script uses it: list (paged by 30 here, or per_page), create, update. */
class GitHubStandIn {
  comments: Comment[] = [];
  requests: Array<{ method: string; path: string }> = [];
  readOnly = false;
  private server?: Server;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req).then(({ status, body, headers }) => res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body))));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
    return this;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server!.close(() => resolve()));
  }

  botComments(issue: number): Comment[] {
    return this.comments.filter((c) => c.issue === issue && c.user.type === 'Bot');
  }

  private async handle(req: IncomingMessage): Promise<{ status: number; body: unknown; headers?: Record<string, string> }> {
    const url = new URL(req.url!, this.url);
    this.requests.push({ method: req.method!, path: url.pathname });
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return { status: 401, body: { message: 'Bad credentials' } };
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const list = /^\/repos\/acme\/ops\/issues\/(\d+)\/comments$/.exec(url.pathname);
    const one = /^\/repos\/acme\/ops\/issues\/comments\/(\d+)$/.exec(url.pathname);
    if (list && req.method === 'GET') {
      const perPage = Number(url.searchParams.get('per_page') ?? 30);
      const page = Number(url.searchParams.get('page') ?? 1);
      const all = this.comments.filter((c) => c.issue === Number(list[1]));
      const headers: Record<string, string> = {};
      if (page * perPage < all.length) headers.link = `<${this.url}${url.pathname}?per_page=${perPage}&page=${page + 1}>; rel="next", <${this.url}${url.pathname}?per_page=${perPage}&page=${Math.ceil(all.length / perPage)}>; rel="last"`;
      return { status: 200, body: all.slice((page - 1) * perPage, page * perPage), headers };
    }
    if ((list && req.method === 'POST') || (one && req.method === 'PATCH')) {
      if (this.readOnly) return { status: 403, body: { message: 'Resource not accessible by integration' } };
      const { body } = JSON.parse(raw) as { body: string };
      if (body.length > 65_536) return { status: 422, body: { message: 'body is too long (maximum is 65536 characters)' } };
      if (one) {
        const comment = this.comments.find((c) => c.id === Number(one[1]));
        if (!comment) return { status: 404, body: { message: 'Not Found' } };
        comment.body = body;
        return { status: 200, body: comment };
      }
      const id = 1000 + this.comments.length;
      const comment: Comment = { id, issue: Number(list![1]), body, user: { login: 'github-actions[bot]', type: 'Bot' }, html_url: `https://github.test/acme/ops/pull/${list![1]}#issuecomment-${id}` };
      this.comments.push(comment);
      return { status: 201, body: comment };
    }
    return { status: 404, body: { message: 'Not Found' } };
  }
}

function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [script, ...args], { env: { PATH: process.env.PATH, ...env } }, (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }));
  });
}

describe('scripts/plan-comment.mjs upserts one pull-request comment', () => {
  let github: GitHubStandIn;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const plan = (text: string) => writeFile(join(dir, 'plan.md'), `${MARKER}\n## Ticketflow plan\n\n${text}\n`);

  before(async () => {
    github = await new GitHubStandIn().start();
    dir = await mkdtemp(join(tmpdir(), 'tf-plan-comment-'));
    await writeFile(join(dir, 'event.json'), JSON.stringify({ action: 'synchronize', pull_request: { number: 7 } }));
    env = { GITHUB_TOKEN: TOKEN, GITHUB_REPOSITORY: 'acme/ops', GITHUB_EVENT_PATH: join(dir, 'event.json'), GITHUB_API_URL: github.url };
    // A long discussion: the plan comment lands on the second page. People quoting the marker are never edited.
    for (let i = 0; i < 120; i++) github.comments.push({ id: i + 1, issue: 7, body: i === 3 ? `${MARKER} pasted by a person` : i === 4 ? `> ${MARKER}\n> quoted` : `comment ${i}`, user: { login: `dev${i}`, type: 'User' }, html_url: '' });
    github.comments.push({ id: 500, issue: 8, body: `${MARKER}\nanother pull request's plan`, user: { login: 'github-actions[bot]', type: 'Bot' }, html_url: '' });
  });
  after(async () => {
    await github.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('the first push creates the comment, the next pushes update that same comment: never two', async () => {
    await plan('first push');
    const first = await run([join(dir, 'plan.md')], env);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /plan comment created: https:\/\/github\.test\/acme\/ops\/pull\/7#issuecomment-/);
    assert.equal(github.botComments(7).length, 1);
    const [comment] = github.botComments(7);
    assert.equal(comment!.body, `${MARKER}\n## Ticketflow plan\n\nfirst push\n`);

    for (const push of ['second push', 'third push']) {
      await plan(push);
      github.requests = [];
      const again = await run([join(dir, 'plan.md')], env);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, /plan comment updated/);
      assert.deepEqual(github.botComments(7).map((c) => c.id), [comment!.id]);
      assert.match(comment!.body, new RegExp(push));
      assert.deepEqual(github.requests.map((r) => `${r.method} ${r.path}`), [
        'GET /repos/acme/ops/issues/7/comments',
        'GET /repos/acme/ops/issues/7/comments',
        `PATCH /repos/acme/ops/issues/comments/${comment!.id}`,
      ], 'both pages read, then the one comment patched');
    }
    assert.equal(github.comments.find((c) => c.id === 4)!.body, `${MARKER} pasted by a person`);
    assert.equal(github.comments.find((c) => c.id === 500)!.body, `${MARKER}\nanother pull request's plan`);
  });

  test("a marked comment by another bot (any GitHub App a pull request can trigger) is never taken for the plan's", async () => {
    // Patching it would fail (403) on every push, and the plan comment would never be posted.
    github.comments.push({ id: 600, issue: 11, body: `${MARKER}\nechoed by another app`, user: { login: 'echo-app[bot]', type: 'Bot' }, html_url: '' });
    await writeFile(join(dir, 'other-bot.json'), JSON.stringify({ pull_request: { number: 11 } }));
    await plan('eleven');
    github.requests = [];
    const r = await run([join(dir, 'plan.md')], { ...env, GITHUB_EVENT_PATH: join(dir, 'other-bot.json') });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /plan comment created/);
    assert.deepEqual(github.requests.map((q) => q.method), ['GET', 'POST']);
    assert.equal(github.comments.find((c) => c.id === 600)!.body, `${MARKER}\nechoed by another app`);
  });

  test('a read-only token (a pull request from a fork) gets a warning and exit 0: the job summary still has the plan', async () => {
    await writeFile(join(dir, 'fork.json'), JSON.stringify({ pull_request: { number: 9 } }));
    github.readOnly = true;
    try {
      await plan('from a fork');
      const r = await run([join(dir, 'plan.md')], { ...env, GITHUB_EVENT_PATH: join(dir, 'fork.json') });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^::warning::could not comment on pull request \(HTTP 403: Resource not accessible by integration\); a pull request from a fork gets a read-only token\. The plan is in the job summary\.$/m);
      assert.equal(github.comments.filter((c) => c.issue === 9).length, 0);
    } finally {
      github.readOnly = false;
    }
  });

  test('a plan longer than a comment may be is cut at a line, its code block closed, with a pointer to the job summary', async () => {
    await plan(`\`\`\`diff\n${'+  a_field_of_a_very_large_pipeline: string;\n'.repeat(2000)}\`\`\``);
    const r = await run([join(dir, 'plan.md')], env);
    assert.equal(r.code, 0, r.stderr);
    const body = github.botComments(7)[0]!.body;
    assert.ok(body.length <= 65_536, `${body.length} characters`);
    assert.ok(body.startsWith(MARKER));
    assert.match(body, /string;\n```\n\n\*The plan is longer than a comment may be: read all of it in the job summary of this run\.\*$/);
  });

  test('no plan written (the plan step crashed), a wrong token, or missing variables are said plainly', async () => {
    await writeFile(join(dir, 'empty.md'), '');
    const empty = await run([join(dir, 'empty.md')], env);
    assert.equal(empty.code, 0);
    assert.match(empty.stdout, /::warning::.*empty\.md holds no plan/);

    await plan('x');
    const wrong = await run([join(dir, 'plan.md')], { ...env, GITHUB_TOKEN: 'wrong' });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /plan-comment: could not list the comments of pull request \(HTTP 401: Bad credentials\)/);

    const unset = await run([join(dir, 'plan.md')], { ...env, GITHUB_TOKEN: '' });
    assert.equal(unset.code, 2);
    assert.match(unset.stderr, /GITHUB_TOKEN must be set/);
  });
});
