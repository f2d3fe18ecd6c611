import AjvModule, { type ErrorObject, type ValidateFunction } from 'ajv';
import { pipelineSchema } from './schema.ts';
import { didYouMean } from './suggest.ts';
import { displayPath, pointerToPath, type Path, type Target } from './source.ts';

const Ajv = AjvModule.default ?? AjvModule;

export interface SchemaFinding {
  path: Path;
  target: Target;
  message: string;
}

let compiled: ValidateFunction | undefined;

function validator(): ValidateFunction {
  // `tsType` tells json-schema-to-typescript the TypeScript type where JSON Schema cannot say it.
  compiled ??= new Ajv({ allErrors: true, verbose: true, strict: true, keywords: ['tsType'] }).compile(pipelineSchema);
  return compiled;
}

/** Validates a plain pipeline value against the JSON Schema; every finding carries the path to report at. */
export function checkSchema(value: unknown): SchemaFinding[] {
  const validate = validator();
  return validate(value) ? [] : schemaFindings(validate.errors ?? [], 'the pipeline');
}

/** ajv's errors as findings at their paths; `document` names the root in messages ("the pipeline"). */
export function schemaFindings(errors: readonly ErrorObject[], document: string): SchemaFinding[] {
  const findings: SchemaFinding[] = [];
  for (const error of errors) {
    const finding = describe(error, document);
    if (finding) findings.push(finding);
  }
  return findings;
}

const patternHints: Record<string, string> = {
  '^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$': 'a slug: lowercase letters, digits and dashes, starting with a letter (e.g. "admin-permission")',
  '^[0-9]+(ms|s|m|h|d)$': 'a duration: a whole number and a unit ms, s, m, h or d (e.g. "10s", "2h")',
  '^https?://': 'an http(s) URL',
  '^[A-Z]{3}$': 'an ISO 4217 currency code (e.g. "CNY")',
  '^TICKETFLOW_SECRET_[A-Z0-9_]+$': 'the name of an environment variable starting with TICKETFLOW_SECRET_',
  '^[a-z_][a-zA-Z0-9_]*$': 'an API name: a lowercase letter or "_" followed by letters, digits or "_"',
};

function describe(e: ErrorObject, document: string): SchemaFinding | undefined {
  // propertyNames reports once on the map and again for the inner keyword; keep the former.
  if (e.propertyName !== undefined) return undefined;
  const path = pointerToPath(e.instancePath);
  const at = `"${displayPath(path)}"`;
  const where = path.length === 0 ? document : at;
  const parentProperties = Object.keys((e.parentSchema as { properties?: object } | undefined)?.properties ?? {});
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String(e.params.additionalProperty);
      const allowed = parentProperties.join(', ');
      return {
        path: [...path, key],
        target: 'key',
        message: `unknown key "${key}" in ${where}${didYouMean(key, parentProperties)} (allowed: ${allowed})`,
      };
    }
    case 'required':
      return { path, target: 'key', message: `missing required key "${e.params.missingProperty}" in ${where}` };
    case 'enum': {
      const allowed = (e.params.allowedValues as unknown[]).map(String);
      const got = String(e.data);
      return {
        path,
        target: 'value',
        message: `invalid value ${JSON.stringify(e.data)} for ${at}${didYouMean(got, allowed)} (expected one of: ${allowed.join(', ')})`,
      };
    }
    case 'type':
      return { path, target: 'value', message: `${at} must be ${withArticle(String(e.params.type))}, got ${kindOf(e.data)}` };
    case 'pattern': {
      const hint = patternHints[String(e.params.pattern)] ?? `a string matching ${e.params.pattern}`;
      return { path, target: 'value', message: `${at} must be ${hint}, got ${JSON.stringify(e.data)}` };
    }
    case 'propertyNames': {
      const name = String(e.params.propertyName);
      const pattern = String((e.schema as { pattern?: string }).pattern ?? '');
      const hint = patternHints[pattern] ?? `a name matching ${pattern}`;
      return { path: [...path, name], target: 'key', message: `key "${name}" in ${where} must be ${hint}` };
    }
    case 'minimum':
    case 'maximum':
      return { path, target: 'value', message: `${at} must be ${e.params.comparison} ${e.params.limit}, got ${JSON.stringify(e.data)}` };
    case 'minLength':
      return { path, target: 'value', message: `${at} must not be empty` };
    case 'minItems':
      return { path, target: 'value', message: `${at} must list at least ${e.params.limit} item(s)` };
    case 'minProperties':
    case 'maxProperties': {
      const exactlyOne = (e.parentSchema as { maxProperties?: number }).maxProperties === 1;
      const choices = parentProperties.join(', ');
      const message = exactlyOne
        ? `${at} must name exactly one of: ${choices}`
        : `${at} must declare at least ${(e.parentSchema as { minProperties?: number }).minProperties} of: ${choices || 'its entries'}`;
      return { path, target: exactlyOne && e.keyword === 'maxProperties' ? 'value' : 'key', message };
    }
    default:
      return { path, target: 'value', message: `${at} ${e.message ?? 'is invalid'}` };
  }
}

function withArticle(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${JSON.stringify(value)}`;
}
