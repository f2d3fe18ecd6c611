import AjvModule, { type ValidateFunction } from 'ajv';
import { pascalCase, pipelineClientSchema } from '../pipeline/client-types.ts';
import type { Pipeline } from '../pipeline/pipeline.generated.ts';

const Ajv = AjvModule.default ?? AjvModule;

/** Checks the `fields` a business system sends against the same schema its generated client types come from. */
export class ApiFields {
  private readonly validators = new Map<string, ValidateFunction>();

  /** The problems, one line each; none when the fields are valid. */
  problems(pipeline: Pipeline, fields: unknown): string[] {
    const validate = this.validator(pipeline);
    if (typeof fields !== 'object' || fields === null) return ['"fields" must be an object'];
    if (validate(fields)) return [];
    const problems = (validate.errors ?? []).map((e) => `${e.instancePath || '(fields)'} ${e.message}${e.params && 'additionalProperty' in e.params ? `: ${String(e.params.additionalProperty)}` : ''}`);
    return problems.length ? problems : ['"fields" must be an object'];
  }

  private validator(p: Pipeline): ValidateFunction {
    const key = `${p.metadata.name}@${p.metadata.version}`;
    let v = this.validators.get(key);
    if (!v) {
      const schema = pipelineClientSchema(p) as { definitions: Record<string, unknown> };
      v = new Ajv({ allErrors: true, strict: false }).compile({ ...(schema.definitions[`${pascalCase(p.metadata.name)}Fields`] as object), definitions: schema.definitions });
      this.validators.set(key, v);
    }
    return v;
  }
}
