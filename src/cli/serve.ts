import { ConfigError, loadConfig } from '../config.ts';
import { createLogger } from '../log.ts';
import { ListenError } from '../http/server.ts';
import { startRuntime } from '../runtime.ts';
import { DataDirInUseError, EmbeddedDatabaseError } from '../store/embedded.ts';
import { help } from './validate.ts';
import { parse, type Command } from './usage.ts';

export const serve: Command = {
  summary: 'run the runtime (what npm start runs)',
  usage: `ticketflow serve

Runs the Ticketflow runtime, configured from the environment (see the README): PostgreSQL from DATABASE_URL or,
when unset, an embedded PostgreSQL under TICKETFLOW_DATA_DIR (default ./.data); pipelines from PIPELINES_DIR
(default ./pipelines), hot-reloaded; with no IM configured (LARK_APP_ID, DINGTALK_APP_KEY, WECOM_CORP_ID), sandbox mode on the built-in Lark simulator, loopback only.
SIGTERM or SIGINT drains and exits 0.`,
  async run(args) {
    const { values } = parse(args, {});
    if (values.help) return help(this.usage);
    let config;
    try {
      config = loadConfig();
    } catch (e) {
      if (e instanceof ConfigError) {
        console.error(`ticketflow serve: ${e.message}`);
        return 1;
      }
      throw e;
    }
    const log = createLogger(config.logLevel);
    let runtime;
    try {
      runtime = await startRuntime(config, log);
    } catch (e) {
      if (e instanceof ListenError || e instanceof DataDirInUseError || e instanceof EmbeddedDatabaseError) {
        log.error(e.message);
        return 1;
      }
      throw e;
    }
    await new Promise<void>((resolve) => {
      const onSignal = (signal: string) => {
        log.info({ signal }, 'shutting down');
        void runtime.stop().then(resolve);
      };
      process.once('SIGTERM', onSignal);
      process.once('SIGINT', onSignal);
    });
    return 0;
  },
};
