import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { LarkModel, type SimEvent } from './model.ts';
import { SimulatorStateFile } from './state-file.ts';

const definition = {
  approval_code: 'APPROVAL-1',
  approval_name: 'Access',
  form: [{ id: 'w_reason', name: 'reason', type: 'textarea', required: true }],
  nodes: [
    { node_id: 'n1', name: 'manager', approvers: ['manager'] },
    { node_id: 'n2', name: 'owner', approvers: ['owner'] },
  ],
};

test('the tenant outlives its process: definitions, instances, tasks, uuids and serial numbers come back from the file', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'tf-sim-state-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'lark-simulator.json');
  const events: SimEvent[] = [];
  const before = new LarkModel((e) => events.push(e));
  const file = new SimulatorStateFile(path, () => before.snapshot(), (e) => assert.fail(e), 20);
  before.watch(() => file.changed());
  before.defineApproval(definition);
  const created = before.createInstance({ approval_code: 'APPROVAL-1', user_id: 'alice', form: JSON.stringify([{ id: 'w_reason', value: 'x' }]), uuid: 'Ticket-UUID-1' });
  const first = created.task_list[0]!;
  before.approveTask({ approval_code: 'APPROVAL-1', instance_code: created.instance_code, user_id: 'manager', task_id: first.id });
  await file.flush();
  assert.equal((await stat(path)).mode & 0o777, 0o600, 'form contents: readable by the owner only');

  const after = new LarkModel(() => undefined);
  const read = await new SimulatorStateFile(path, () => after.snapshot(), () => undefined).read();
  after.restore(read.state!);
  const instance = after.instance('ticket-uuid-1');
  assert.equal(instance.instance_code, created.instance_code, 'found by its creation uuid, case-insensitively');
  assert.deepEqual(instance.task_list.map((t) => [t.user_id, t.status]), [['manager', 'APPROVED'], ['owner', 'PENDING']]);
  const owner = instance.task_list[1]!;
  after.approveTask({ approval_code: 'APPROVAL-1', instance_code: instance.instance_code, user_id: 'owner', task_id: owner.id });
  assert.equal(after.instance(instance.instance_code).status, 'APPROVED', 'the flow goes on where it was');
  assert.notEqual(after.createInstance({ approval_code: 'APPROVAL-1', user_id: 'bob', form: JSON.stringify([{ id: 'w_reason', value: 'y' }]) }).serial_number, created.serial_number);
});

test('a state file that cannot be read is moved aside, never overwritten, and the simulator starts empty', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'tf-sim-state-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'lark-simulator.json');
  await writeFile(path, '{"version": 1, "definitions": [');
  const read = await new SimulatorStateFile(path, () => new LarkModel(() => undefined).snapshot(), () => undefined).read();
  assert.equal(read.state, undefined);
  assert.match(read.unreadable!.movedTo, /lark-simulator\.json\.unreadable-\d+$/);
  assert.deepEqual((await readdir(dir)).map((n) => n.replace(/\d+$/, 'N')), ['lark-simulator.json.unreadable-N']);
  assert.equal(await readFile(read.unreadable!.movedTo, 'utf8'), '{"version": 1, "definitions": [');
  assert.deepEqual(await new SimulatorStateFile(join(dir, 'none.json'), () => new LarkModel(() => undefined).snapshot(), () => undefined).read(), {}, 'no file yet: nothing to restore');
});
