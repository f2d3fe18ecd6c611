import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import type { Config } from '../config.ts';
import { hostAllowed } from './allowed-hosts.ts';
import { exampleRoute } from './example-hosts.ts';

/**
 * The one door for every outbound request to a business URL (stage endpoints, options sources, notify URLs,
 * state-change events): the host must be allowed (TICKETFLOW_ALLOWED_HOSTS, when set), the address it resolves to
 * must not be a link-local or cloud metadata address unless listed explicitly, redirects are never followed, and
 * the reply is refused as soon as it grows past its limit, while it is read.
 */
export interface OutboundPolicy {
  allowedHosts?: readonly string[];
  /**
   * Sandbox mode only: the origin of the example business service. A URL on a reserved example host
   * (`*.example.com`, see example-hosts.ts) is called there instead, after every check on the URL as written.
   */
  exampleService?: string;
}

/** The policy of every outbound business request of a runtime: its allowed hosts, and in sandbox mode the example service. */
export function outboundPolicy(config: Pick<Config, 'allowedHosts' | 'sandbox' | 'exampleServiceUrl'>): OutboundPolicy {
  return { allowedHosts: config.allowedHosts, ...(config.sandbox && config.exampleServiceUrl ? { exampleService: config.exampleServiceUrl } : {}) };
}

export type OutboundFailure = 'refused' | 'too_large' | 'timeout' | 'network';

export class OutboundError extends Error {
  constructor(
    readonly kind: OutboundFailure,
    message: string,
  ) {
    super(message);
  }
}

export interface OutboundReply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Link-local (169.254.0.0/16, fe80::/10) and cloud metadata (169.254.169.254, fd00:ec2::254) addresses. */
export function isMetadataAddress(address: string): boolean {
  const a = address.toLowerCase().replace(/^\[|\]$/g, '');
  if (isIP(a) === 4) return a.startsWith('169.254.');
  if (isIP(a) !== 6) return false;
  const groups = expandIPv6(a);
  // An IPv4 address inside IPv6: compatible (::/96), mapped (::ffff:0:0/96), SIIT (::ffff:0:0:0/96), NAT64 (64:ff9b::/96).
  const prefix = groups.slice(0, 6).map((g) => g.toString(16)).join(':');
  if (['0:0:0:0:0:0', '0:0:0:0:0:ffff', '0:0:0:0:ffff:0', '64:ff9b:0:0:0:0'].includes(prefix)) {
    const [hi, lo] = [groups[6]!, groups[7]!];
    return isMetadataAddress(`${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`);
  }
  return (groups[0]! & 0xffc0) === 0xfe80 || groups.join(':') === [0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254].join(':');
}

/** The eight 16-bit groups of an IPv6 address (any spelling Node accepts, a dotted IPv4 tail included). */
function expandIPv6(address: string): number[] {
  let text = address;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted[1]!.split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, -dotted[1]!.length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const fill = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...fill, ...right].map((g) => parseInt(g || '0', 16));
}

/** An address or host is "listed explicitly" when an entry of TICKETFLOW_ALLOWED_HOSTS names it without a wildcard. */
function listedExactly(policy: OutboundPolicy, host: string, address: string): boolean {
  const entries = (policy.allowedHosts ?? []).map((e) => e.toLowerCase().replace(/:\d+$/, '').replace(/^\[|\]$/g, ''));
  return entries.includes(host.toLowerCase()) || entries.includes(address.toLowerCase());
}

/** Why a URL may not be asked, or undefined when it may (before DNS: the address is checked again once resolved). */
export function refusal(url: string, policy: OutboundPolicy): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return `"${url}" is not a URL`;
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return `${u.protocol} URLs are not called`;
  if (!hostAllowed(url, policy.allowedHosts)) return `the host of ${url} is not in TICKETFLOW_ALLOWED_HOSTS`;
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) && isMetadataAddress(host) && !listedExactly(policy, host, host)) return `${host} is a link-local or metadata address (list it in TICKETFLOW_ALLOWED_HOSTS to allow it)`;
  return undefined;
}

/**
 * A DNS lookup for net.connect that refuses a host name resolving to a link-local or metadata address (unless
 * listed exactly), so a name cannot smuggle a request to the metadata service.
 */
export function guardedLookup(policy: OutboundPolicy, host: string, resolve: typeof dnsLookup = dnsLookup): LookupFunction {
  return (hostname, opts, callback) => {
    resolve(hostname, { ...opts, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 4);
      const list = addresses as LookupAddress[];
      const bad = list.find((a) => isMetadataAddress(a.address) && !listedExactly(policy, host, a.address));
      if (bad) return callback(Object.assign(new Error(`${hostname} resolves to ${bad.address}, a link-local or metadata address`), { code: 'ETICKETFLOWREFUSED' }), '', 4);
      if ((opts as { all?: boolean }).all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, list);
      callback(null, list[0]!.address, list[0]!.family);
    });
  };
}

export async function outboundRequest(
  url: string,
  options: { method?: string; headers: Record<string, string>; body?: string; timeoutMs: number; maxBytes: number; policy: OutboundPolicy },
): Promise<OutboundReply> {
  const refused = refusal(url, options.policy);
  if (refused) throw new OutboundError('refused', refused);
  const u = new URL(exampleRoute(url, options.policy.exampleService) ?? url);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const lookup = guardedLookup(options.policy, host);
  const send = u.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<OutboundReply>((resolve, reject) => {
    const req = send(u, { method: options.method ?? 'POST', headers: options.headers, lookup, signal: AbortSignal.timeout(options.timeoutMs) }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > options.maxBytes) {
          res.destroy();
          req.destroy();
          reject(new OutboundError('too_large', `the reply is larger than ${options.maxBytes} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', (e) => reject(failure(e, options.timeoutMs)));
    });
    req.on('error', (e) => reject(failure(e, options.timeoutMs)));
    req.end(options.body);
  });
}

function failure(e: Error & { code?: string }, timeoutMs: number): OutboundError {
  if (e instanceof OutboundError) return e;
  if (e.name === 'AbortError' || e.name === 'TimeoutError' || e.code === 'ABORT_ERR') return new OutboundError('timeout', `no reply within ${timeoutMs} ms`);
  if (e.code === 'ETICKETFLOWREFUSED') return new OutboundError('refused', e.message);
  return new OutboundError('network', e.code ?? e.message);
}
