import { randomBytes } from 'node:crypto';
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import type { Pipeline } from '../pipeline/pipeline.generated.ts';
import { definitionForPipeline } from '../providers/lark/simulator/from-pipeline.ts';
import { startLarkSimulator, type LarkSimulator } from '../providers/lark/simulator/server.ts';
import { definitionCode } from '../registry/registry.ts';

/** Sandbox mode (Config.sandbox): the built-in Lark simulator stands in for Lark, and unset pipeline secrets are random. */
export interface Sandbox {
  simulator: LarkSimulator;
  /** The Lark settings that reach the simulator, to use in place of the configured ones. */
  lark: Pick<Config['lark'], 'baseUrl' | 'appId' | 'appSecret' | 'encryptKey' | 'verificationToken' | 'assistantUserId'>;
  /** A random value for a pipeline secret the environment does not set, the same for the whole run. */
  secret(name: string): string;
  /** Gives each Lark pipeline that went live an approval definition in the simulator, unless it has one. */
  define(pipelines: readonly Pipeline[]): void;
  /** Points the simulator's event pushes at the runtime serving at url. */
  pushTo(url: string): void;
  close(): Promise<void>;
}

export async function startSandbox(configured: Config['lark'], log: Logger): Promise<Sandbox> {
  const simulator = await startLarkSimulator({ encryptKey: randomBytes(16).toString('hex'), verificationToken: randomBytes(16).toString('hex'), approveRatePerMinute: configured.ratePerMinute });
  const lark = {
    baseUrl: simulator.url,
    appId: simulator.options.appId,
    appSecret: simulator.options.appSecret,
    encryptKey: simulator.options.encryptKey,
    verificationToken: simulator.options.verificationToken,
    assistantUserId: configured.assistantUserId ?? 'ticketflow-assistant',
  };
  log.warn(`SANDBOX MODE: no IM is configured (LARK_APP_ID, DINGTALK_APP_KEY), so Lark is the built-in simulator at ${simulator.url} (play the requester and approvers through its /_sim routes), every visitor of the console is a local operator and unset pipeline secrets are random. It listens on loopback only. Set LARK_APP_ID, LARK_APP_SECRET and LARK_VERIFICATION_TOKEN/LARK_ENCRYPT_KEY (or the DINGTALK_* variables) to talk to an IM.`);
  const secrets = new Map<string, string>();
  return {
    simulator,
    lark,
    secret(name) {
      if (!secrets.has(name)) {
        secrets.set(name, randomBytes(32).toString('hex'));
        log.warn({ variable: name }, 'SANDBOX MODE: the pipeline secret is not set; using a random one for this run');
      }
      return secrets.get(name)!;
    },
    define(pipelines) {
      for (const p of pipelines) {
        if (!simulator.model.definitions.has(definitionCode(p))) simulator.model.defineApproval(definitionForPipeline(p, lark.assistantUserId));
      }
    },
    pushTo(url) {
      simulator.setCallbackUrl(`${url}/api/v1/lark/callback`);
    },
    close: () => simulator.close(),
  };
}
