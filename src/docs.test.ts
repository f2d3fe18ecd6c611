/**
 * The documentation stays inside the clone and in step with the code: no link in README.md or docs/ leads outside
 * the repository, every relative link names a file (and heading) that exists, every environment variable the code
 * reads is in docs/configuration.md, and the signature test vector of the business contract is right.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { computeSignatureV11 } from './business/signature.ts';
import { finalStates, ticketStates } from './engine/ticket.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** README.md and every Markdown file under docs/. */
function documents(): string[] {
  const docs = existsSync(join(root, 'docs')) ? (readdirSync(join(root, 'docs'), { recursive: true }) as string[]).filter((f) => f.endsWith('.md')).map((f) => join(root, 'docs', f)) : [];
  return [join(root, 'README.md'), ...docs.sort()];
}

// --- a small Markdown reader: enough of CommonMark/GFM to find every link and heading ---------------------------

/** The text with fenced code blocks blanked (line count kept), so nothing in them is taken for a link or heading. */
function withoutFences(text: string): string {
  const out: string[] = [];
  let fence: string | undefined;
  for (const line of text.split('\n')) {
    const open = /^ {0,3}(`{3,}|~{3,})/.exec(line);
    if (fence) {
      if (open && open[1]![0] === fence[0] && open[1]!.length >= fence.length && line.trim() === open[1]) fence = undefined;
      out.push('');
    } else if (open) {
      fence = open[1];
      out.push('');
    } else {
      out.push(line);
    }
  }
  return out.join('\n');
}

/** Inline code spans and HTML comments replaced by a neutral word: a URL in backticks is text, not a link. */
function withoutCodeSpans(text: string): string {
  return text.replace(/<!--[\s\S]*?-->/g, ' ').replace(/(`+)(?!`)([\s\S]*?[^`])\1(?!`)/g, 'code');
}

export interface Link {
  line: number;
  target: string;
  kind: 'inline' | 'reference' | 'autolink' | 'bare' | 'email' | 'html';
}

/** Every link a renderer (GitHub's included) would make of this Markdown. */
export function linksIn(markdown: string): Link[] {
  const prose = withoutCodeSpans(withoutFences(markdown));
  const links: Link[] = [];
  const lineOf = (index: number) => prose.slice(0, index).split('\n').length;
  const add = (kind: Link['kind'], target: string, index: number) => links.push({ kind, target, line: lineOf(index) });
  for (const m of prose.matchAll(/\]\(\s*(<[^>\n]*>|[^)\s]*)/g)) add('inline', m[1]!.replace(/^<|>$/g, ''), m.index!);
  for (const m of prose.matchAll(/^ {0,3}\[[^\]\n]+\]:\s*(<[^>\n]*>|\S+)/gm)) add('reference', m[1]!.replace(/^<|>$/g, ''), m.index!);
  for (const m of prose.matchAll(/<([a-zA-Z][a-zA-Z0-9+.-]{1,31}:[^<>\s]*)>/g)) add('autolink', m[1]!, m.index!);
  for (const m of prose.matchAll(/<([\w.+-]+@[\w-]+(?:\.[\w-]+)+)>/g)) add('email', m[1]!, m.index!);
  for (const m of prose.matchAll(/\b(?:href|src)\s*=\s*["']([^"']*)["']/gi)) add('html', m[1]!, m.index!);
  // GFM's extended autolinks: a URL or www. address written out in prose is a link too.
  // (Link targets, autolinks and HTML tags are counted above: blanked here, so each link is reported once.)
  const bare = prose.replace(/\]\(\s*(<[^>\n]*>|[^)\s]*)\)/g, '](x)').replace(/<[^<>\n]*>/g, ' ').replace(/^ {0,3}\[[^\]\n]+\]:.*$/gm, '');
  for (const m of bare.matchAll(/(?:\b(?:https?|ftp):\/\/|\bwww\.)[^\s<>)]+/gi)) add('bare', m[0], m.index!);
  for (const m of bare.matchAll(/(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-zA-Z]{2,}\b/g)) add('email', m[0], m.index!);
  return links;
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, each space a dash; repeats get -1, -2, … */
export function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of withoutFences(markdown).split('\n')) {
    const m = /^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const text = m[1]!.replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/<[^>]+>/g, '');
    const base = text
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  for (const m of markdown.matchAll(/<a\s+(?:name|id)\s*=\s*["']([^"']+)["']/gi)) anchors.add(m[1]!);
  return anchors;
}

/** What is wrong with one link of `file`, or undefined when it leads to something that exists in the clone. */
export function linkProblem(file: string, link: Link, repoRoot = root): string | undefined {
  const { target } = link;
  if (link.kind === 'bare' || link.kind === 'email' || link.kind === 'autolink') return `leads outside the clone (${target})`;
  if (/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(target) || target.startsWith('//')) return `leads outside the clone (${target})`;
  if (target === '') return 'has an empty target';
  const hash = target.indexOf('#');
  const pathPart = decodeURIComponent((hash >= 0 ? target.slice(0, hash) : target).replace(/\?.*$/, ''));
  const fragment = hash >= 0 ? decodeURIComponent(target.slice(hash + 1)) : undefined;
  if (isAbsolute(pathPart) || pathPart.startsWith('/')) return `is an absolute path (${target}): write it relative to ${relative(repoRoot, file)}`;
  const resolved = pathPart === '' ? file : resolve(dirname(file), pathPart);
  const inside = relative(repoRoot, resolved);
  if (inside.startsWith(`..${sep}`) || inside === '..' || isAbsolute(inside)) return `leads outside the clone (${target})`;
  if (!existsSync(resolved)) return `names ${inside}, which does not exist`;
  if (fragment !== undefined && statSync(resolved).isFile() && extname(resolved) === '.md') {
    if (!anchorsOf(readFileSync(resolved, 'utf8')).has(fragment)) return `names the heading #${fragment}, which ${inside} does not have`;
  }
  return undefined;
}

function problemsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return linksIn(text).flatMap((link) => {
    const problem = linkProblem(file, link);
    return problem ? [`${relative(root, file)}:${link.line}: a link ${problem}`] : [];
  });
}

// --- environment variables ----------------------------------------------------------------------------------------

/** The variables a source file reads: `env.NAME`, `process.env.NAME`, `env['NAME']`, `integer(env, 'NAME', …)`. */
export function envReadsIn(source: string): Set<string> {
  const names = new Set<string>();
  for (const m of source.matchAll(/\benv\.([A-Z][A-Z0-9_]*)\b/g)) names.add(m[1]!);
  for (const m of source.matchAll(/\benv\[\s*['"`]([A-Z][A-Z0-9_]*)['"`]\s*\]/g)) names.add(m[1]!);
  for (const m of source.matchAll(/\(\s*env\s*,\s*['"`]([A-Z][A-Z0-9_]*)['"`]/g)) names.add(m[1]!);
  return names;
}

/** src/config.ts reads every variable of the runtime's Config, some by a name held in a string ('TICKETFLOW_…'). */
function configVariables(): Set<string> {
  const source = readFileSync(join(root, 'src/config.ts'), 'utf8');
  const names = envReadsIn(source);
  for (const m of source.matchAll(/['"`]([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)['"`]/g)) names.add(m[1]!);
  return names;
}

function sourceFiles(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[])
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.endsWith('.d.ts'))
    .map((f) => join(dir, f));
}

const documented = (doc: string, name: string) => doc.includes(`\`${name}\``);

// --- the tests ----------------------------------------------------------------------------------------------------

test('no link in README.md or docs/ leads outside the clone, and every relative link and anchor resolves', () => {
  const files = documents();
  assert.ok(files.some((f) => f.endsWith(join('docs', 'README.md'))), 'docs/README.md, the index, exists');
  const problems = files.flatMap(problemsOf);
  assert.deepEqual(problems, [], `links to fix:\n${problems.join('\n')}`);
});

test('the README links to the business contract and the configuration reference', () => {
  const targets = linksIn(readFileSync(join(root, 'README.md'), 'utf8')).map((l) => l.target.replace(/#.*$/, ''));
  for (const doc of ['docs/business-contract.md', 'docs/configuration.md']) assert.ok(targets.includes(doc), `README.md links to ${doc}`);
});

test('every environment variable src/config.ts reads is in docs/configuration.md', () => {
  const doc = readFileSync(join(root, 'docs/configuration.md'), 'utf8');
  const names = [...configVariables()].sort();
  assert.ok(names.length >= 30, `found ${names.length} variables in src/config.ts: the parser lost track of it`);
  for (const expected of ['DATABASE_URL', 'PORT', 'LARK_RATE_PER_MINUTE', 'TICKETFLOW_ADMIN_TOKEN', 'DINGTALK_AES_KEY', 'TICKETFLOW_METRICS_TOKEN']) {
    assert.ok(names.includes(expected), `the parser finds ${expected} in src/config.ts`);
  }
  const missing = names.filter((name) => !documented(doc, name));
  assert.deepEqual(missing, [], `add to docs/configuration.md: ${missing.join(', ')}`);
});

test('every environment variable read anywhere under src/ (tests aside) is in docs/configuration.md', () => {
  const doc = readFileSync(join(root, 'docs/configuration.md'), 'utf8');
  const missing = new Map<string, string>();
  for (const file of sourceFiles(join(root, 'src'))) {
    for (const name of envReadsIn(readFileSync(file, 'utf8'))) if (!documented(doc, name) && !missing.has(name)) missing.set(name, relative(root, file));
  }
  assert.deepEqual([...missing].map(([name, file]) => `${name} (${file})`), [], 'add these to docs/configuration.md');
  // Pipeline secrets are read by a name the pipeline gives, and their rotation partner by a suffix.
  for (const pattern of ['TICKETFLOW_SECRET_<NAME>', 'TICKETFLOW_SECRET_<NAME>_PREVIOUS']) assert.ok(documented(doc, pattern), `docs/configuration.md documents ${pattern}`);
});

test('the signature test vector in the business contract is what the helper computes', () => {
  const doc = readFileSync(join(root, 'docs/business-contract.md'), 'utf8');
  const body = '{"ticket_id":"tk_3q2-7wQx9PZ1aB0c","result":true,"msg":"granted"}';
  const signature = computeSignatureV11('test-secret-0123456789abcdef0123456789', '1767225600', {
    method: 'POST',
    path: 'https://ticketflow.example.com/api/v1/callback/execute',
    idempotencyKey: 'tk_3q2-7wQx9PZ1aB0c:execute',
    rawBody: body,
  });
  for (const text of [body, signature, 'test-secret-0123456789abcdef0123456789', '1767225600', 'tk_3q2-7wQx9PZ1aB0c:execute']) assert.ok(doc.includes(text), `the test vector shows ${text}`);
});

test('the business contract lists every ticket state, the final ones marked final', () => {
  const doc = readFileSync(join(root, 'docs/business-contract.md'), 'utf8');
  const section = /^## Ticket states\n([\s\S]*?)(?=^## )/m.exec(doc)?.[1];
  assert.ok(section, 'docs/business-contract.md has a "## Ticket states" section');
  const rows = [...section.matchAll(/^\| `([a-z_]+)` \|.*\| *(yes)? *\|$/gm)].map((m) => [m[1]!, m[2] === 'yes'] as const);
  assert.deepEqual(rows.map(([state]) => state).sort(), [...ticketStates].sort(), 'one row per state of src/engine/ticket.ts');
  for (const [state, final] of rows) assert.equal(final, finalStates.has(state as (typeof ticketStates)[number]), `${state} is ${finalStates.has(state as never) ? '' : 'not '}final`);
});

test('the link checker itself: what it refuses and what it lets pass', () => {
  const file = join(root, 'docs', 'example.md');
  const problems = (md: string) => linksIn(md).map((l) => linkProblem(file, l)).filter(Boolean);
  // Refused.
  assert.equal(problems('See [Lark](https://open.feishu.cn/document).').length, 1);
  assert.equal(problems('See https://open.feishu.cn/document or www.example.com.').length, 2);
  assert.equal(problems('See <https://example.com> and <ops@example.com> and ops@example.com.').length, 3);
  assert.equal(problems('[x][ref]\n\n[ref]: https://example.com').length, 1);
  assert.equal(problems('<a href="https://example.com">x</a>').length, 1);
  assert.equal(problems('![shot](../../outside.png)').length, 1);
  assert.equal(problems('[abs](/etc/passwd)').length, 1);
  assert.equal(problems('[missing](no-such-file.md)').length, 1);
  assert.equal(problems('[bad anchor](configuration.md#no-such-heading)').length, 1);
  assert.equal(problems('[mail](mailto:ops@example.com)').length, 1);
  // Let pass.
  assert.deepEqual(problems('`https://open.feishu.cn` in code, and\n```\ncurl https://example.com\n```\n'), []);
  assert.deepEqual(problems('[the contract](business-contract.md#signatures-v11), [config](configuration.md#lark), [up](../README.md), [dir](../src/generated/)'), []);
  assert.deepEqual(problems('open.dingtalk.com, as plain text'), []);
});

test('heading anchors follow GitHub', () => {
  const anchors = anchorsOf('# The business contract (v1.1)\n## Tickets born in a business system, and `doctor`\n## Limits\n## Limits\n### 中文 标题\n```\n# not a heading\n```\n');
  assert.deepEqual([...anchors], ['the-business-contract-v11', 'tickets-born-in-a-business-system-and-doctor', 'limits', 'limits-1', '中文-标题']);
});
