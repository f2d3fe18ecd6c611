import type { Field, Pipeline, WidgetRef } from '../pipeline/pipeline.generated.ts';

export interface MappedFields {
  fields: Record<string, unknown>;
  /** One sentence per missing or malformed field, naming it (shown to the requester). */
  problems: string[];
}

/**
 * The part of form mapping every IM shares: find each field's widget, convert a present value, fall back to the
 * default, and name every required field that is missing or malformed.
 */
export function mapFormFields<W>(
  pipeline: Pipeline,
  widget: {
    find(ref: WidgetRef): W | undefined;
    isEmpty(w: W): boolean;
    convert(field: Field, w: W): unknown;
    describe(ref: WidgetRef): string;
  },
): MappedFields {
  const fields: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [name, field] of Object.entries(pipeline.fields)) {
    const found = widget.find(field.widget);
    const label = widget.describe(field.widget);
    try {
      const value = found !== undefined && !widget.isEmpty(found) ? widget.convert(field, found) : undefined;
      if (value !== undefined) fields[name] = value;
      else if (field.default !== undefined) fields[name] = field.default;
      else if (field.required !== false) problems.push(`"${name}" (${label}) is required but ${found ? 'empty' : 'not in the form'}`);
    } catch (e) {
      problems.push(`"${name}" (${label}) ${(e as Error).message}`);
    }
  }
  return { fields, problems };
}
