import type { Command } from './usage.ts';

/**
 * Every command, loaded when it runs: a command imports only what it needs (`validate` does not load the runtime,
 * the IM SDKs or the job queue, seconds of start-up for each run in CI and in the tests).
 */
export const commands: Record<string, () => Promise<Command>> = {
  validate: async () => (await import('./validate.ts')).validate,
  test: async () => (await import('./test.ts')).test,
  types: async () => (await import('./types.ts')).types,
  serve: async () => (await import('./serve.ts')).serve,
  demo: async () => (await import('./demo.ts')).demo,
  doctor: async () => (await import('./doctor.ts')).doctor,
  plan: async () => (await import('./plan.ts')).plan,
  apply: async () => (await import('./apply.ts')).apply,
  'example-service': async () => (await import('./example-service.ts')).exampleService,
};
