import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { createLogger } from '../log.ts';
import { startDingTalkSimulator, type DingTalkSimulator } from '../providers/dingtalk/simulator/server.ts';
import { cloudDmDataChangeProcess, cloudDmPermissionProcess, DATA_CHANGE_IM, dataChangeImPipeline, dataChangeImProcess, dingTalkEnv } from '../testing/dingtalk.ts';
import { until } from '../testing/flow.ts';
import { startStack, type TestStack } from '../testing/runtime.ts';

const PROCESS = DATA_CHANGE_IM.processCode;

/**
 * DingTalk pushes no definition event: a form edited in DingTalk is found by the periodic check, here every 400 ms
 * (TICKETFLOW_DRIFT_CHECK_INTERVAL_MS), through the runtime's own DingTalk client.
 */
describe('the drift watch (DingTalk, periodic)', () => {
  let stack: TestStack;
  let ding: DingTalkSimulator;
  const logs: Array<Record<string, unknown>> = [];
  before(async () => {
    ding = await startDingTalkSimulator();
    ding.model.addUser({ userid: 'dt-assistant', deptIds: [12] }, 'dba-li');
    ding.model.defineProcess(dataChangeImProcess(PROCESS, ['dba-li']));
    // The example CloudDM pipelines (origin: api) are DingTalk's too, and checked by the same watch.
    ding.model.defineProcess(cloudDmDataChangeProcess(undefined, ['dba-li']));
    ding.model.defineProcess(cloudDmPermissionProcess(undefined, ['dba-li']));
    stack = await startStack({
      extra: dataChangeImPipeline(),
      env: { ...dingTalkEnv(ding), TICKETFLOW_DRIFT_CHECK_INTERVAL_MS: '400' },
      log: createLogger('info', new Writable({ write: (chunk, _enc, done) => (logs.push(JSON.parse(String(chunk))), done()) })),
    });
  });
  after(async () => {
    await stack?.close();
    await ding.close();
  });

  const metrics = async () => (await fetch(`${stack.runtime.url}/metrics`)).text();
  const gauge = async () => Number(/ticketflow_definition_drift\{pipeline="clouddm-data-change-im"\} (\d+)/.exec(await metrics())?.[1] ?? NaN);
  const checks = async (pipelines: string[] = [DATA_CHANGE_IM.name]) =>
    [...(await metrics()).matchAll(/ticketflow_definition_checks_total\{pipeline="([^"]+)",outcome="(?:match|drift)"\} (\d+)/g)].filter((m) => pipelines.includes(m[1]!)).reduce((n, m) => n + Number(m[2]), 0);

  test('a control renamed in DingTalk is found by the periodic check; each check costs one user lookup, one form schema and one forecast', async () => {
    await until('the start check: a match', async () => (await gauge()) === 0);
    const first = await checks();
    await until('periodic checks', async () => (await checks()) >= first + 2, 10_000);

    ding.model.processes.get(PROCESS)!.formComponents.find((c) => c.props.label === '关联库')!.props.label = '关联数据库';
    await until('the drift', async () => (await gauge()) === 1, 10_000);
    const error = logs.find((l) => l.level === 50 && l.pipeline === DATA_CHANGE_IM.name)!;
    assert.equal(error.check, 'periodic');
    assert.match(String(error.msg), /no longer matches its DingTalk definition PROC-CLOUDDM-DATA-CHANGE-IM: field "database": the DingTalk form has no widget with title "关联库"; there is "关联数据库" \(fix: rename the widget back to "关联库" in the DingTalk form designer, or map the field to "关联数据库"\); tickets go on \(on_drift: warn\)/);
    const { rows } = await stack.runtime.pool.query(`SELECT status, version, provider, definition_code FROM definition_checks WHERE pipeline = '${DATA_CHANGE_IM.name}'`);
    assert.deepEqual(rows[0], { status: 'drift', version: 1, provider: 'dingtalk', definition_code: PROCESS });

    // The cost of a check, from what the simulator received, against the checks counted (the same client), at a
    // moment no check of the three DingTalk pipelines is half done.
    const count = (path: string) => ding.calls.filter((c) => c.path.startsWith(path)).length;
    let seen = '';
    const consistent = async () => {
      const made = await checks([DATA_CHANGE_IM.name, 'clouddm-data-change', 'clouddm-permission']);
      const [users, schemas, forecasts] = [count('/topapi/v2/user/get'), count('/v1.0/workflow/forms/schemas/processCodes'), count('/v1.0/workflow/processes/forecast')];
      seen = `${users}, ${schemas}, ${forecasts} for ${made} checks`;
      return Math.abs(users - made) <= 1 && users === schemas && schemas === forecasts;
    };
    await until('per check: 1 user lookup, 1 form schema, 1 forecast', consistent, 5_000).catch((e: Error) => assert.fail(`${e.message} (${seen})`));

    ding.model.processes.get(PROCESS)!.formComponents.find((c) => c.props.label === '关联数据库')!.props.label = '关联库';
    await until('cleared', async () => (await gauge()) === 0, 10_000);
    assert.equal(logs.filter((l) => l.level === 50 && l.pipeline === DATA_CHANGE_IM.name).length, 1, 'said once, not at every periodic check');
  });
});
