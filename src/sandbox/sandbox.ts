import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Config } from '../config.ts';
import { startExampleService, type ExampleService } from '../examples/example-service.ts';
import type { Logger } from '../log.ts';
import type { Pipeline } from '../pipeline/pipeline.generated.ts';
import { definitionForPipeline } from '../providers/lark/simulator/from-pipeline.ts';
import { startLarkSimulator, type LarkSimulator } from '../providers/lark/simulator/server.ts';
import { SimulatorStateFile } from '../providers/lark/simulator/state-file.ts';
import { definitionCode } from '../registry/registry.ts';

/**
 * Sandbox mode (Config.sandbox): the built-in Lark simulator stands in for Lark (its state kept in the data dir),
 * the example business service answers the example pipelines' calls, and unset pipeline secrets are random.
 */
export interface Sandbox {
  simulator: LarkSimulator;
  exampleService: ExampleService;
  /** The Lark settings that reach the simulator, to use in place of the configured ones. */
  lark: Pick<Config['lark'], 'baseUrl' | 'appId' | 'appSecret' | 'encryptKey' | 'verificationToken' | 'assistantUserId'>;
  /**
   * A pipeline secret: the environment's value, else a random one, the same for the whole run (the example service
   * signs and verifies with the same). A rotation's `_PREVIOUS` is never invented.
   */
  secret(name: string): string | undefined;
  /** Gives each Lark pipeline that went live an approval definition in the simulator, or updates it to the pipeline. */
  define(pipelines: readonly Pipeline[]): void;
  /** Points the simulator's event pushes at the runtime serving at url. */
  pushTo(url: string): void;
  close(): Promise<void>;
}

export const SIMULATOR_STATE_FILE = 'lark-simulator.json';

export async function startSandbox(configured: Config['lark'], log: Logger, options: { dataDir: string; env: NodeJS.ProcessEnv }): Promise<Sandbox> {
  const simulator = await startLarkSimulator({ encryptKey: randomBytes(16).toString('hex'), verificationToken: randomBytes(16).toString('hex'), approveRatePerMinute: configured.ratePerMinute });
  const state = new SimulatorStateFile(join(options.dataDir, SIMULATOR_STATE_FILE), () => simulator.model.snapshot(), (e) => log.error({ err: e.message }, 'SANDBOX MODE: the Lark simulator state could not be written'));
  const kept = await state.read().catch(async (e: Error) => {
    await simulator.close();
    throw e;
  });
  if (kept.state) simulator.model.restore(kept.state);
  if (kept.unreadable) log.warn({ file: kept.unreadable.movedTo, err: kept.unreadable.reason }, 'SANDBOX MODE: the Lark simulator state file was unreadable; it was moved aside and the simulator starts empty');
  simulator.model.watch(() => state.changed());

  const invented = new Map<string, string>();
  const secret = (name: string) => {
    if (options.env[name]) return options.env[name];
    if (name.endsWith('_PREVIOUS')) return undefined;
    if (!invented.has(name)) {
      invented.set(name, randomBytes(32).toString('hex'));
      log.warn({ variable: name }, 'SANDBOX MODE: the pipeline secret is not set; using a random one for this run');
    }
    return invented.get(name);
  };
  const exampleService = await startExampleService({ secret, say: (line) => log.debug(`example service: ${line}`) }).catch(async (e: Error) => {
    await simulator.close();
    throw e;
  });

  const lark = {
    baseUrl: simulator.url,
    appId: simulator.options.appId,
    appSecret: simulator.options.appSecret,
    encryptKey: simulator.options.encryptKey,
    verificationToken: simulator.options.verificationToken,
    assistantUserId: configured.assistantUserId ?? 'ticketflow-assistant',
  };
  log.warn(`SANDBOX MODE: no IM is configured (LARK_APP_ID, DINGTALK_APP_KEY, WECOM_CORP_ID), so Lark is the built-in simulator at ${simulator.url} (play the requester and approvers through its /_sim routes), every visitor of the console is a local operator and unset pipeline secrets are random. It listens on loopback only. Set LARK_APP_ID, LARK_APP_SECRET and LARK_VERIFICATION_TOKEN/LARK_ENCRYPT_KEY (or the DINGTALK_* or WECOM_* variables) to talk to an IM.`);
  log.info({ file: state.path, instances: simulator.model.instances.size }, `SANDBOX MODE: the Lark simulator keeps its approvals and instances in ${state.path} (${simulator.model.instances.size} instance(s) from earlier runs)`);
  // One host may serve several pipelines (clouddm.example.com: both CloudDM pipelines).
  const hosts: Record<string, string> = {};
  for (const a of exampleService.apps) hosts[a.host] = hosts[a.host] ? `${hosts[a.host]}, ${a.pipeline}` : a.pipeline;
  log.warn(
    { example_service: exampleService.url, hosts },
    `SANDBOX MODE: business calls to example.com hosts (${Object.keys(hosts).join(', ')}) go to the example business service at ${exampleService.url}, path unchanged; every other URL is called as written`,
  );
  return {
    simulator,
    exampleService,
    lark,
    secret,
    define(pipelines) {
      for (const p of pipelines) {
        const wanted = definitionForPipeline(p, lark.assistantUserId);
        const existing = simulator.model.definitions.get(definitionCode(p));
        const same = existing && JSON.stringify([existing.approval_name, existing.form, existing.nodes]) === JSON.stringify([wanted.approval_name, wanted.form, wanted.nodes]);
        // A definition that exists is edited, as an administrator would in Lark: its update is pushed (when
        // subscribed), so the drift watch checks it again.
        if (!same && existing) simulator.model.updateDefinition(existing.approval_code, { approval_name: wanted.approval_name, form: wanted.form, nodes: wanted.nodes });
        else if (!same) simulator.model.defineApproval({ ...wanted, subscribed: false });
      }
    },
    pushTo(url) {
      simulator.setCallbackUrl(`${url}/api/v1/lark/callback`);
    },
    async close() {
      await exampleService.close();
      await simulator.close();
      await state.flush();
    },
  };
}
