import type { FileRule } from './rule.ts';

/** The first line tells editors where the schema is, for completion and hover help. */
export const schemaModeline: FileRule = {
  name: 'schema-modeline',
  check(ctx) {
    if (!/^# yaml-language-server: \$schema=\S+/.test(ctx.file.text)) {
      ctx.reportAt(
        { line: 1, col: 1 },
        'start the file with "# yaml-language-server: $schema=../schemas/pipeline.schema.json" for completion and hover help in editors',
        'warning',
      );
    }
  },
};
