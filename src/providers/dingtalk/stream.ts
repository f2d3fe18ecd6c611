import { DWClient, type DWClientDownStream } from 'dingtalk-stream';
import { readJsonBounded } from '../../security/bounded-body.ts';
import type { InboundEvent } from '../../intake/inbound-event.ts';

export const DINGTALK_GATEWAY_URL = 'https://api.dingtalk.com/v1.0/gateway/connections/open';

/** A Stream-mode event as the inbox stores it (the payload carries EventType, like an HTTP push). */
export function streamEvent(message: DWClientDownStream): InboundEvent | undefined {
  const eventType = message.headers.eventType;
  if (eventType !== 'bpms_task_change' && eventType !== 'bpms_instance_change') return undefined;
  let data: Record<string, unknown>;
  try {
    data = JSON.parse(message.data);
  } catch {
    return undefined;
  }
  const payload = { EventType: eventType, ...data };
  return {
    provider: 'dingtalk',
    eventId: message.headers.eventId ?? message.headers.messageId,
    eventType,
    definitionCode: typeof data.processCode === 'string' ? data.processCode : undefined,
    instanceCode: typeof data.processInstanceId === 'string' ? data.processInstanceId : undefined,
    payload,
    payloadText: JSON.stringify(payload),
  };
}

/**
 * DingTalk Stream mode with `dingtalk-stream`'s client, changed in two places: the gateway is DINGTALK_STREAM_URL
 * (its own is hard-coded), and an event is acknowledged only after it is committed — the library acks at once,
 * with whatever its listener returns synchronously — or answered LATER, so DingTalk redelivers it.
 */
export class StreamIntake extends DWClient {
  constructor(
    private readonly gatewayUrl: string,
    credentials: { clientId: string; clientSecret: string },
    private readonly handle: (message: DWClientDownStream) => Promise<'ack' | 'later'>,
  ) {
    super({ ...credentials, ua: 'ticketflow' });
  }

  override async getEndpoint(): Promise<this> {
    const res = await fetch(this.gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ clientId: this.config.clientId, clientSecret: this.config.clientSecret, ua: this.config.ua, subscriptions: this.config.subscriptions }),
    });
    const data = ((await readJsonBounded(res, 64 << 10)) ?? {}) as { endpoint?: string; ticket?: string };
    if (!res.ok || !data.endpoint || !data.ticket) throw new Error(`the Stream gateway answered ${res.status} without an endpoint`);
    this.config.endpoint = data.endpoint;
    // dw_url is private in the library's types but is what its _connect() dials.
    (this as unknown as { dw_url: string }).dw_url = `${data.endpoint}?ticket=${data.ticket}`;
    return this;
  }

  override onEvent(message: DWClientDownStream): void {
    void this.handle(message)
      .catch(() => 'later' as const)
      .then((result) => this.send(message.headers.messageId, { status: result === 'ack' ? 'SUCCESS' : 'LATER' }));
  }
}
