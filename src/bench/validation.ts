import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { checkPipelines, type PipelineSource } from '../pipeline/check.ts';
import { fmt, medianMs } from './stats.ts';

/** 1,000 distinct pipelines derived from the examples: each with its own name, approval code and endpoints. */
export function generatePipelines(count: number): PipelineSource[] {
  const templates = ['admin-permission', 'sql-change', 'travel-expense'].map((name) => ({
    name,
    text: readFileSync(new URL(`../../pipelines/${name}.yaml`, import.meta.url), 'utf8'),
  }));
  return Array.from({ length: count }, (_, i) => {
    const t = templates[i % templates.length]!;
    const name = `${t.name}-${i}`;
    const text = t.text
      .replace(`name: ${t.name}`, `name: ${name}`)
      .replace(/(approval_code: )\S+/, `$1BENCH-${i}`)
      .replace(/example\.com/g, `svc${i}.example.com`);
    return { path: `pipelines/${name}.yaml`, text };
  });
}

export async function benchValidation(): Promise<void> {
  const count = 1000;
  const sources = generatePipelines(count);
  const result = checkPipelines(sources);
  if (result.errorCount > 0) throw new Error(`generated pipelines are invalid: ${result.diagnostics[0]?.message}`);
  const rounds = 7;
  const yamlMs = await medianMs(rounds, () => sources.forEach((s) => parse(s.text)));
  const validateMs = await medianMs(rounds, () => checkPipelines(sources));
  console.log(`\n## validation — ${count} generated pipelines, median of ${rounds} rounds (in-memory sources, no file I/O)`);
  console.log(`baseline  yaml.parse only            ${fmt(yamlMs)} ms total  ${fmt((yamlMs * 1000) / count)} µs/pipeline`);
  console.log(`measured  full validate              ${fmt(validateMs)} ms total  ${fmt((validateMs * 1000) / count)} µs/pipeline  (positions, schema, every rule, cross-file)`);
  console.log(`ratio     validate / yaml.parse      ${fmt(validateMs / yamlMs)}×`);
}
