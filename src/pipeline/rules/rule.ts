import type { Severity } from '../diagnostic.ts';
import type { Path, Position, SourceFile, Target } from '../source.ts';

/** A parsed pipeline file as the rules see it: its source (for positions) and its plain value (maybe invalid). */
export interface RuleContext {
  file: SourceFile;
  value: Record<string, unknown>;
  report(path: Path, target: Target, message: string, severity?: Severity): void;
  reportAt(position: Position, message: string, severity?: Severity): void;
  /** `file:line:col` of a path, for messages that name an earlier place. */
  where(path: Path, target?: Target): string;
  /** `file:line:col` of a position in this file. */
  whereAt(position: Position): string;
}

/** A check of one file on its own. */
export interface FileRule {
  name: string;
  check(ctx: RuleContext): void;
}

/** A check across every file validated together (names and definitions unique). */
export interface SetRule {
  name: string;
  check(files: readonly RuleContext[]): void;
}

/** A check of a file against its version at the `--base` revision. */
export interface BaseRule {
  name: string;
  check(ctx: RuleContext, base: { value: Record<string, unknown>; text: string }): void;
}

export type { Position };

export function record(x: unknown): Record<string, unknown> | undefined {
  return typeof x === 'object' && x !== null && !Array.isArray(x) ? (x as Record<string, unknown>) : undefined;
}

export function text(x: unknown): string | undefined {
  return typeof x === 'string' ? x : undefined;
}

export const stageNames = ['check', 'execute'] as const;
