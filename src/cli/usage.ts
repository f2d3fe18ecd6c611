import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError, loadConfig, type Config } from '../config.ts';

export class UsageError extends Error {}

/** parseArgs that turns its errors into a UsageError (exit 2). */
export function parse<T extends ParseArgsConfig['options']>(args: string[], options: T, allowPositionals = false) {
  try {
    return parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

export type Command = {
  summary: string;
  usage: string;
  run(args: string[]): Promise<number>;
};

/** The runtime's configuration for a command that reads it (doctor, apply): a refused one is bad usage (exit 2). */
export function cliConfig(): Config {
  try {
    return loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) throw new UsageError(e.message);
    throw e;
  }
}
