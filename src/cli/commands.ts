import type { Command } from './usage.ts';
import { demo } from './demo.ts';
import { doctor } from './doctor.ts';
import { serve } from './serve.ts';
import { types } from './types.ts';
import { validate } from './validate.ts';

export const commands: Record<string, Command> = {
  validate,
  types,
  serve,
  demo,
  doctor,
};
