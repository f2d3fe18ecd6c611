#!/usr/bin/env node
// Posts `ticketflow plan --format markdown` as ONE pull-request comment, updated on each push (README, "Plan").
//
//   node scripts/plan-comment.mjs plan.md
//
// Reads GITHUB_TOKEN, GITHUB_REPOSITORY (owner/name), GITHUB_EVENT_PATH (a pull_request event) and GITHUB_API_URL
// (default https://api.github.com). The comment to update is the one that starts with the plan's marker and was
// written by the account GITHUB_TOKEN acts as: github-actions[bot] (PLAN_COMMENT_AUTHOR names another, e.g. an
// App's "name[bot]"); nobody else's comment is ever edited. There is none on the first push, so it is created. A token that may not write (a pull request from a
// fork) gets a warning and exit 0: the plan is still in the job summary. No dependencies: Node's own fetch.
import { readFile } from 'node:fs/promises';

const MARKER = '<!-- ticketflow-plan -->';
// GitHub refuses comment bodies over 65,536 characters.
const MAX_BODY = 65_536;
const TRUNCATED = '\n\n*The plan is longer than a comment may be: read all of it in the job summary of this run.*';

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (e) {
  console.error(`plan-comment: ${e.message}`);
  process.exitCode = 1;
}

async function main(args) {
  if (args.length !== 1) return usage('name the file that holds the plan');
  const env = process.env;
  const missing = ['GITHUB_TOKEN', 'GITHUB_REPOSITORY', 'GITHUB_EVENT_PATH'].filter((name) => !env[name]);
  if (missing.length) return usage(`${missing.join(', ')} must be set (the workflow provides them)`);
  const plan = await readFile(args[0], 'utf8');
  if (!plan.startsWith(MARKER)) {
    console.log(`::warning::${args[0]} holds no plan (ticketflow plan failed before writing it); no comment posted`);
    return 0;
  }
  const event = JSON.parse(await readFile(env.GITHUB_EVENT_PATH, 'utf8'));
  const number = event.pull_request?.number;
  if (!Number.isInteger(number)) {
    console.log('plan-comment: not a pull_request event; no comment posted');
    return 0;
  }
  const author = env.PLAN_COMMENT_AUTHOR || 'github-actions[bot]';
  const api = (env.GITHUB_API_URL || 'https://api.github.com').replace(/\/+$/, '');
  const repo = `${api}/repos/${env.GITHUB_REPOSITORY}`;
  const github = (method, url, body) =>
    fetch(url, {
      method,
      headers: {
        authorization: `Bearer ${env.GITHUB_TOKEN}`,
        accept: 'application/vnd.github+json',
        'x-github-api-version': '2022-11-28',
        'user-agent': 'ticketflow-plan-comment',
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      body: body && JSON.stringify(body),
    });

  let existing;
  for (let url = `${repo}/issues/${number}/comments?per_page=100`; url && !existing; ) {
    const res = await github('GET', url);
    if (!res.ok) return refused(res, 'list the comments of');
    existing = (await res.json()).find((c) => c.user?.login === author && typeof c.body === 'string' && c.body.startsWith(MARKER));
    url = nextPage(res.headers.get('link'));
  }
  const body = { body: fit(plan) };
  const res = existing ? await github('PATCH', `${repo}/issues/comments/${existing.id}`, body) : await github('POST', `${repo}/issues/${number}/comments`, body);
  if (!res.ok) return refused(res, existing ? 'update the plan comment on' : 'comment on');
  console.log(`plan comment ${existing ? 'updated' : 'created'}: ${(await res.json()).html_url ?? ''}`);
  return 0;
}

function usage(message) {
  console.error(`plan-comment: ${message}\nusage: node scripts/plan-comment.mjs <plan.md>`);
  return 2;
}

/** A 403 is a token that may not write (pull requests from forks): a warning, since the job summary has the plan. */
async function refused(res, what) {
  const detail = ((await res.json().catch(() => undefined))?.message ?? '').slice(0, 200);
  const line = `could not ${what} pull request (HTTP ${res.status}${detail ? `: ${detail}` : ''})`;
  if (res.status === 403) {
    console.log(`::warning::${line}; a pull request from a fork gets a read-only token. The plan is in the job summary.`);
    return 0;
  }
  console.error(`plan-comment: ${line}`);
  return 1;
}

/** GitHub pages lists with a Link header: `<url>; rel="next"`. */
function nextPage(link) {
  return link?.split(',').map((part) => /<([^>]+)>\s*;\s*rel="next"/.exec(part)?.[1]).find(Boolean);
}

function fit(plan) {
  if (plan.length <= MAX_BODY) return plan;
  let cut = plan.slice(0, MAX_BODY - TRUNCATED.length - 8);
  cut = cut.slice(0, cut.lastIndexOf('\n'));
  // A cut inside a code block would swallow the note.
  if ((cut.match(/^```/gm) ?? []).length % 2 === 1) cut += '\n```';
  return cut + TRUNCATED;
}
