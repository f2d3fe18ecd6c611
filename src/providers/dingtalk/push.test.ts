import assert from 'node:assert/strict';
import { test } from 'node:test';
import { callbackSignature, encryptCallback } from './crypto.ts';
import { decodeDingTalkPush } from './push.ts';
import { DingTalkPusher } from './simulator/pusher.ts';

const settings = { token: 'push-token', aesKey: 'b'.repeat(43), appKey: 'dingappkey' };
const sealed = () => {
  const encrypt = encryptCallback(settings.aesKey, JSON.stringify({ EventType: 'bpms_instance_change', processInstanceId: 'i-1', processCode: 'PROC-1', type: 'start', eventId: 'e-1' }), settings.appKey);
  return { encrypt, signature: callbackSignature(settings.token, '1783610513', 'n1', encrypt), body: Buffer.from(JSON.stringify({ encrypt })) };
};

test('an HTTP push whose query spells the timestamp timeStamp (as the reply does) is accepted, like the documented timestamp', () => {
  const { signature, body } = sealed();
  const camel = decodeDingTalkPush({ msg_signature: signature, timeStamp: '1783610513', nonce: 'n1' }, body, settings);
  assert.equal(camel.kind, 'event');
  const lower = decodeDingTalkPush({ signature, timestamp: '1783610513', nonce: 'n1' }, body, settings);
  assert.equal(lower.kind, 'event');
  const none = decodeDingTalkPush({ msg_signature: signature, nonce: 'n1' }, body, settings);
  assert.deepEqual(none.kind === 'refused' && none.status, 400);
});

test('the simulator pushes with the documented lowercase timestamp query parameter', () => {
  const pusher = new DingTalkPusher({ target: () => undefined, verificationToken: '' }, settings);
  const url = new URL(pusher.sealFor('http://127.0.0.1/cb', '{}').url);
  assert.deepEqual([...url.searchParams.keys()].sort(), ['msg_signature', 'nonce', 'timestamp']);
});

test('a repeated query parameter or a decrypted message that is not an object is a 400, never a 500', () => {
  const { signature, body } = sealed();
  const repeated = decodeDingTalkPush({ msg_signature: [signature, 'zz'], timestamp: '1783610513', nonce: 'n1' }, body, settings);
  assert.deepEqual(repeated.kind === 'refused' && [repeated.status, repeated.reason], [400, 'malformed']);
  for (const plain of ['null', '[]', '5']) {
    const encrypt = encryptCallback(settings.aesKey, plain, settings.appKey);
    const outcome = decodeDingTalkPush({ msg_signature: callbackSignature(settings.token, '1783610513', 'n1', encrypt), timestamp: '1783610513', nonce: 'n1' }, Buffer.from(JSON.stringify({ encrypt })), settings);
    assert.deepEqual(outcome.kind === 'refused' && [outcome.status, outcome.reason], [400, 'malformed'], plain);
  }
});
