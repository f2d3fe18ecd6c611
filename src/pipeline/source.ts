import { isAlias, isCollection, isMap, isNode, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Alias, type Document, type Node } from 'yaml';

export type PathSegment = string | number;
export type Path = readonly PathSegment[];
/** Whether a finding points at a mapping key (unknown key, duplicate) or at its value (wrong type or value). */
export type Target = 'key' | 'value';

export interface Position {
  line: number;
  col: number;
}

export interface SyntaxProblem extends Position {
  code: string;
  message: string;
}

/** yaml's own limit on alias expansion in `toJS` (it throws past it); we check the same before converting. */
const MAX_ALIAS_COUNT = 100;

/** A pipeline file parsed with its source ranges kept, so any instance path maps back to line and column. */
export class SourceFile {
  readonly doc: Document.Parsed;
  readonly syntaxProblems: SyntaxProblem[];
  private readonly lines: LineCounter;
  private readonly value: unknown;

  constructor(
    readonly path: string,
    readonly text: string,
  ) {
    this.lines = new LineCounter();
    this.doc = parseDocument(text, { lineCounter: this.lines, uniqueKeys: false, prettyErrors: false });
    this.syntaxProblems = this.doc.errors.map((e) => ({
      ...this.position(e.code === 'MISSING_CHAR' ? this.openingQuoteBefore(e.pos[0]) : e.pos[0]),
      code: e.code,
      message: cleanYamlMessage(e.message),
    }));
    const bomb = excessiveAlias(this.doc);
    if (bomb) {
      this.syntaxProblems.push({ ...this.position(bomb.range?.[0] ?? 0), code: 'ALIAS_COUNT', message: `alias *${bomb.source} expands the document past ${MAX_ALIAS_COUNT} alias uses (an alias bomb?); write the values out, or use fewer aliases` });
    } else {
      try {
        this.value = this.doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
      } catch (e) {
        this.syntaxProblems.push({ ...this.position(firstContentOffset(this.doc)), code: 'UNCONVERTIBLE', message: `the document cannot be read: ${(e as Error).message}` });
      }
    }
  }

  /** yaml reports an unclosed quote where the file ends; the reader needs the quote that was opened. */
  private openingQuoteBefore(offset: number): number {
    let start = offset;
    visit(this.doc, {
      Scalar(_, node) {
        const [from, , to] = node.range ?? [];
        if ((node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE') && from !== undefined && to !== undefined && to >= offset) {
          start = Math.min(start, from);
        }
      },
    });
    return start;
  }

  /**
   * The plain value of the document (last key wins where a key repeats); undefined when it cannot be expanded.
   * Converted once: every call returns the same object, which nobody may change.
   */
  toJS(): unknown {
    return this.value;
  }

  position(offset: number): Position {
    const { line, col } = this.lines.linePos(offset);
    return { line, col };
  }

  /** Position of the deepest node that exists along `path`. */
  locate(path: Path, target: Target): Position {
    const found = this.find(path);
    const node = target === 'key' ? (found.key ?? found.value) : (found.value ?? found.key);
    const offset = node?.range?.[0] ?? firstContentOffset(this.doc);
    return this.position(offset);
  }

  /** The key and value nodes at `path`, or of its deepest existing ancestor. */
  find(path: Path): { key?: Node; value?: Node; depth: number } {
    let value: Node | undefined = (this.doc.contents as Node | null) ?? undefined;
    let key: Node | undefined;
    let depth = 0;
    for (const segment of path) {
      if (isMap(value)) {
        const pair = lastPair(value.items, segment);
        if (!pair) break;
        key = pair.key as Node;
        value = (pair.value as Node | null) ?? undefined;
      } else if (isSeq(value) && typeof segment === 'number' && segment < value.items.length) {
        key = undefined;
        value = value.items[segment] as Node;
      } else {
        break;
      }
      depth++;
    }
    return { key, value, depth };
  }
}

function lastPair<T extends { key: unknown }>(items: T[], segment: PathSegment): T | undefined {
  for (let i = items.length - 1; i >= 0; i--) {
    const k = items[i]!.key;
    if (isScalar(k) && String(k.value) === String(segment)) return items[i];
  }
  return undefined;
}

/**
 * The alias at which yaml's `toJS` would give up (its count: each use of an anchor, times the expansion of the
 * aliases inside the anchored node), found without expanding anything.
 */
function excessiveAlias(doc: Document.Parsed): Alias | undefined {
  const anchors = new Map<string, Node>();
  const targets = new Map<Alias, Node>();
  const uses = new Map<Node, { count: number; aliasCount: number }>();
  const aliasCount = (node: unknown): number => {
    if (isAlias(node)) {
      const target = targets.get(node);
      const data = target && uses.get(target);
      return data ? data.count * data.aliasCount : 0;
    }
    if (isCollection(node)) return Math.max(0, ...node.items.map(aliasCount));
    if (isPair(node)) return Math.max(aliasCount(node.key), aliasCount(node.value));
    return 1;
  };
  let found: Alias | undefined;
  visit(doc, {
    Node(_, node) {
      if (isAlias(node)) {
        const target = anchors.get(node.source);
        if (!target) return;
        targets.set(node, target);
        const data = uses.get(target)!;
        data.count++;
        if (data.aliasCount === 0) data.aliasCount = aliasCount(target);
        if (data.count * data.aliasCount > MAX_ALIAS_COUNT) {
          found = node;
          return visit.BREAK;
        }
      } else if (isNode(node) && node.anchor) {
        anchors.set(node.anchor, node);
        uses.set(node, { count: 1, aliasCount: 0 });
      }
      return undefined;
    },
  });
  return found;
}

function firstContentOffset(doc: Document.Parsed): number {
  return (doc.contents as Node | null)?.range?.[0] ?? 0;
}

/** yaml's messages end with "at line L, column C"; we print the position ourselves. */
function cleanYamlMessage(message: string): string {
  const first = (message.split('\n')[0] ?? message).replace(/\s+at line \d+, column \d+:?\s*$/, '').replace(/:$/, '');
  if (/^Missing closing "?quote/.test(first)) return 'missing closing quote for the string that starts here';
  return first.charAt(0).toLowerCase() + first.slice(1);
}

export function displayPath(path: Path): string {
  return path.length === 0 ? '(document)' : path.map(String).join('.');
}

/** Splits an ajv instance path (a JSON pointer) into segments. */
export function pointerToPath(pointer: string): PathSegment[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

/** Calls `fn` for every mapping entry in the document with the path of its value. */
export function eachPair(doc: Document.Parsed, fn: (key: string, keyNode: Node, path: PathSegment[]) => void): void {
  const walk = (node: unknown, path: PathSegment[]) => {
    if (isMap(node)) {
      for (const pair of node.items) {
        if (!isScalar(pair.key)) continue;
        const key = String(pair.key.value);
        fn(key, pair.key, [...path, key]);
        walk(pair.value, [...path, key]);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => walk(item, [...path, i]));
    }
  };
  walk(doc.contents, []);
}

export interface DuplicateKey {
  /** Path of the mapping holding the key. */
  mapPath: PathSegment[];
  key: string;
  first: Node;
  again: Node;
}

/** Every key that repeats in a mapping (the parser keeps them; a rule reports them with both places). */
export function duplicateKeys(doc: Document.Parsed): DuplicateKey[] {
  const found: DuplicateKey[] = [];
  const walk = (node: unknown, path: PathSegment[]) => {
    if (isMap(node)) {
      const seen = new Map<string, Node>();
      for (const pair of node.items) {
        if (!isScalar(pair.key)) continue;
        const key = String(pair.key.value);
        const first = seen.get(key);
        if (first) found.push({ mapPath: path, key, first, again: pair.key });
        else seen.set(key, pair.key);
        walk(pair.value, [...path, key]);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => walk(item, [...path, i]));
    }
  };
  walk(doc.contents, []);
  return found;
}
