/** A fetch reply's body, refused as soon as it passes `maxBytes` while it is read (the rest is never downloaded). */
export async function readBounded(res: Response, maxBytes: number): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (!res.body) return Buffer.alloc(0);
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new ReplyTooLarge(maxBytes);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

export class ReplyTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`the reply is larger than ${limit} bytes`);
  }
}

/** The JSON of a fetch reply read with a limit; undefined when it is not JSON. */
export async function readJsonBounded(res: Response, maxBytes: number): Promise<unknown> {
  const text = (await readBounded(res, maxBytes)).toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
