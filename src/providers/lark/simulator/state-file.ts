import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { SimulatorState } from './model.ts';

/**
 * The simulated tenant's state in a JSON file (sandbox mode: `<TICKETFLOW_DATA_DIR>/lark-simulator.json`), so that
 * instances and their tasks outlive a restart of the runtime, as a real Lark tenant's would. Written a moment after
 * each change (changes in between are written together), atomically, readable by its owner only: it holds form
 * contents.
 */
export class SimulatorStateFile {
  private timer?: NodeJS.Timeout;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    readonly path: string,
    private readonly snapshot: () => SimulatorState,
    private readonly onError: (e: Error) => void,
    private readonly delayMs = 200,
  ) {}

  /**
   * The state last written, undefined when there is none. A file that cannot be read as a state is moved aside
   * (`.unreadable-<time>`) and reported as `unreadable`, so the next write does not destroy what a person may want to
   * look at.
   */
  async read(): Promise<{ state?: SimulatorState; unreadable?: { movedTo: string; reason: string } }> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw e;
    }
    try {
      const state = JSON.parse(text) as SimulatorState;
      if (state?.version !== 1 || !Array.isArray(state.definitions) || !Array.isArray(state.instances) || !Array.isArray(state.directory) || typeof state.serial !== 'number') throw new Error('not a simulator state (version 1)');
      return { state };
    } catch (e) {
      const movedTo = `${this.path}.unreadable-${Date.now()}`;
      await rename(this.path, movedTo);
      return { unreadable: { movedTo, reason: (e as Error).message } };
    }
  }

  /** Something changed: write soon. */
  changed(): void {
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.write();
    }, this.delayMs);
  }

  /** Writes now what is pending (at shutdown). */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
      await this.write();
    }
    await this.writing;
  }

  private write(): Promise<void> {
    this.writing = this.writing.then(async () => {
      try {
        await mkdir(dirname(this.path), { recursive: true });
        const temporary = `${this.path}.${process.pid}.tmp`;
        await writeFile(temporary, JSON.stringify(this.snapshot()), { mode: 0o600 });
        await rename(temporary, this.path);
      } catch (e) {
        this.onError(e as Error);
      }
    });
    return this.writing;
  }
}
