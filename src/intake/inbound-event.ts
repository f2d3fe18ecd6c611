/** An IM event as the inbox stores it: what every IM's decoding produces. */
export interface InboundEvent {
  provider: 'lark' | 'dingtalk' | 'wecom';
  eventId: string;
  eventType: string;
  definitionCode?: string;
  instanceCode?: string;
  payload: Record<string, unknown>;
  /** The payload as received (decrypted), stored as is rather than serialised again. */
  payloadText?: string;
}
