import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeFrame, encodeFrame, headerOf, type Frame } from './pbbp2.ts';

// Bytes written by the SDK's own codec (@larksuiteoapi/node-sdk 1.74.0, pbbp2.Frame.encode) for
// {SeqID: 1, LogID: 2, service: 3, method: 1, headers: type=event, message_id=m1, sum=1, seq=0, trace_id=t, payload: {"a":1}}.
const SDK_BYTES = '08011002180320012a0d0a047479706512056576656e742a100a0a6d6573736167655f696412026d312a080a0373756d1201312a080a037365711201302a0d0a0874726163655f696412017442077b2261223a317d';

const frame: Frame = {
  SeqID: 1n,
  LogID: 2n,
  service: 3,
  method: 1,
  headers: [
    { key: 'type', value: 'event' },
    { key: 'message_id', value: 'm1' },
    { key: 'sum', value: '1' },
    { key: 'seq', value: '0' },
    { key: 'trace_id', value: 't' },
  ],
  payload: new TextEncoder().encode('{"a":1}'),
};

test('the simulator writes a frame byte for byte as the SDK does', () => {
  assert.equal(encodeFrame(frame).toString('hex'), SDK_BYTES);
});

test('the simulator reads what the SDK writes, and round-trips large ids, unknown fields and empty frames', () => {
  const read = decodeFrame(Buffer.from(SDK_BYTES, 'hex'));
  assert.deepEqual(read, frame);
  assert.equal(headerOf(read, 'message_id'), 'm1');
  const big = { ...frame, SeqID: 2n ** 63n + 5n, LogID: 0n, LogIDNew: 'x', payloadType: 'json', headers: [] };
  assert.deepEqual(decodeFrame(encodeFrame(big)), big);
  // An unknown field (number 15, a varint) is skipped, as protobuf readers do.
  assert.deepEqual(decodeFrame(Buffer.concat([encodeFrame(frame), Buffer.from([0x78, 0x01])])), frame);
  assert.throws(() => decodeFrame(Buffer.from('0801', 'hex')), /required LogID/);
});
