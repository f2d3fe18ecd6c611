import { Composer, Document } from 'yaml';

export interface YamlWork<T> {
  result: T;
  /** Documents parsed from text. */
  parses: number;
  /** Parsed documents converted to plain values. */
  conversions: number;
}

/** Counts the YAML work `fn` makes the yaml package do, by wrapping its parse and conversion while `fn` runs. */
export async function countYamlWork<T>(fn: () => Promise<T>): Promise<YamlWork<T>> {
  const compose = Composer.prototype.compose;
  const toJS = Document.prototype.toJS;
  const counts = { parses: 0, conversions: 0 };
  Composer.prototype.compose = function* (this: Composer, ...args: Parameters<typeof compose>) {
    counts.parses++;
    return yield* compose.apply(this, args);
  } as typeof compose;
  Document.prototype.toJS = function (this: Document, ...args: Parameters<typeof toJS>) {
    counts.conversions++;
    return toJS.apply(this, args);
  } as typeof toJS;
  try {
    return { result: await fn(), ...counts };
  } finally {
    Composer.prototype.compose = compose;
    Document.prototype.toJS = toJS;
  }
}
