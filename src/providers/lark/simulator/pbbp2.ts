/**
 * The frames of Lark's long connection (长连接), encoded by hand. Lark publishes no wire specification: the official
 * SDKs are the only one. Their schema is `pbbp2.proto` (proto2), as generated into @larksuiteoapi/node-sdk
 * (lib/index.js, `pbbp2.Frame.encode`/`decode`, 1.74.0) and larksuite/oapi-sdk-go (`ws/pbbp2.pb.go`):
 *
 * ```proto
 * syntax = "proto2"; package pbbp2;
 * message Header { required string key = 1; required string value = 2; }
 * message Frame {
 *   required uint64 SeqID = 1; required uint64 LogID = 2;
 *   required int32 service = 3; required int32 method = 4;   // method: 0 control (ping, pong), 1 data (event, card)
 *   repeated Header headers = 5;
 *   optional string payload_encoding = 6; optional string payload_type = 7;
 *   optional bytes payload = 8; optional string LogIDNew = 9;
 * }
 * ```
 *
 * Written apart from the SDK's own codec (which it does not export), so that the simulator is a second
 * implementation the SDK's decoder must read; pbbp2.test.ts checks it against bytes the SDK's codec wrote.
 */

export interface FrameHeader {
  key: string;
  value: string;
}

export interface Frame {
  SeqID: bigint;
  LogID: bigint;
  service: number;
  method: number;
  headers: FrameHeader[];
  payloadEncoding?: string;
  payloadType?: string;
  payload?: Uint8Array;
  LogIDNew?: string;
}

/** `method`: a control frame (ping, pong) or a data frame (an event, or a card callback). */
export const FRAME_CONTROL = 0;
export const FRAME_DATA = 1;

export function headerOf(frame: Frame, key: string): string | undefined {
  return frame.headers.find((h) => h.key === key)?.value;
}

// ---- writing -------------------------------------------------------------------------------------------------

function varint(out: number[], value: bigint): void {
  let v = BigInt.asUintN(64, value);
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
}

function tag(out: number[], field: number, wireType: number): void {
  varint(out, BigInt((field << 3) | wireType));
}

function bytesField(out: number[], field: number, bytes: Uint8Array): void {
  tag(out, field, 2);
  varint(out, BigInt(bytes.length));
  for (const b of bytes) out.push(b);
}

const utf8 = (s: string) => new TextEncoder().encode(s);

export function encodeFrame(frame: Frame): Buffer {
  const out: number[] = [];
  tag(out, 1, 0);
  varint(out, frame.SeqID);
  tag(out, 2, 0);
  varint(out, frame.LogID);
  // int32: a negative value is sign-extended to 64 bits, as protobuf writes it.
  tag(out, 3, 0);
  varint(out, BigInt(frame.service));
  tag(out, 4, 0);
  varint(out, BigInt(frame.method));
  for (const h of frame.headers) {
    const inner: number[] = [];
    bytesField(inner, 1, utf8(h.key));
    bytesField(inner, 2, utf8(h.value));
    bytesField(out, 5, Uint8Array.from(inner));
  }
  if (frame.payloadEncoding !== undefined) bytesField(out, 6, utf8(frame.payloadEncoding));
  if (frame.payloadType !== undefined) bytesField(out, 7, utf8(frame.payloadType));
  if (frame.payload !== undefined) bytesField(out, 8, frame.payload);
  if (frame.LogIDNew !== undefined) bytesField(out, 9, utf8(frame.LogIDNew));
  return Buffer.from(out);
}

// ---- reading -------------------------------------------------------------------------------------------------

class Reader {
  pos = 0;
  constructor(private readonly buf: Uint8Array) {}
  get done(): boolean {
    return this.pos >= this.buf.length;
  }
  varint(): bigint {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (this.pos >= this.buf.length) throw new Error('truncated varint');
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return BigInt.asUintN(64, result);
    }
    throw new Error('varint too long');
  }
  bytes(): Uint8Array {
    const length = Number(this.varint());
    if (this.pos + length > this.buf.length) throw new Error('truncated field');
    const slice = this.buf.subarray(this.pos, this.pos + length);
    this.pos += length;
    return slice;
  }
  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 2) this.bytes();
    else if (wireType === 1) this.pos += 8;
    else if (wireType === 5) this.pos += 4;
    else throw new Error(`unsupported wire type ${wireType}`);
  }
}

const text = (b: Uint8Array) => new TextDecoder('utf-8').decode(b);

function decodeHeader(buf: Uint8Array): FrameHeader {
  const r = new Reader(buf);
  const h: Partial<FrameHeader> = {};
  while (!r.done) {
    const t = Number(r.varint());
    if (t >> 3 === 1 && (t & 7) === 2) h.key = text(r.bytes());
    else if (t >> 3 === 2 && (t & 7) === 2) h.value = text(r.bytes());
    else r.skip(t & 7);
  }
  if (h.key === undefined || h.value === undefined) throw new Error('header without its required key or value');
  return h as FrameHeader;
}

/** Reads a frame; a frame without its required fields is an error, as with the SDK's generated decoder. */
export function decodeFrame(buf: Uint8Array): Frame {
  const r = new Reader(buf);
  const f: Partial<Frame> & { headers: FrameHeader[] } = { headers: [] };
  while (!r.done) {
    const t = Number(r.varint());
    const field = t >> 3;
    const wire = t & 7;
    if (wire === 0 && field === 1) f.SeqID = r.varint();
    else if (wire === 0 && field === 2) f.LogID = r.varint();
    else if (wire === 0 && field === 3) f.service = Number(BigInt.asIntN(32, r.varint()));
    else if (wire === 0 && field === 4) f.method = Number(BigInt.asIntN(32, r.varint()));
    else if (wire === 2 && field === 5) f.headers.push(decodeHeader(r.bytes()));
    else if (wire === 2 && field === 6) f.payloadEncoding = text(r.bytes());
    else if (wire === 2 && field === 7) f.payloadType = text(r.bytes());
    else if (wire === 2 && field === 8) f.payload = Uint8Array.from(r.bytes());
    else if (wire === 2 && field === 9) f.LogIDNew = text(r.bytes());
    else r.skip(wire);
  }
  for (const k of ['SeqID', 'LogID', 'service', 'method'] as const) if (f[k] === undefined) throw new Error(`frame without its required ${k}`);
  return f as Frame;
}
