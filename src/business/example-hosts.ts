/**
 * Sandbox mode only. The example pipelines call hosts under the reserved example domains (RFC 2606: example.com,
 * example.net, example.org and their subdomains), which no real service can own. In sandbox mode the outbound guard
 * sends a request for such a host to the example business service started with the sandbox instead: same method,
 * path, query, headers and body, so a signature over the path verifies there as it would at the named host. Any
 * other host is called as written; outside sandbox mode nothing is rerouted.
 */
const RESERVED = ['example.com', 'example.net', 'example.org'];

export function isExampleHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  return RESERVED.some((domain) => host === domain || host.endsWith(`.${domain}`));
}

/** The URL to connect to in place of `url`: on the example service when its host is reserved, else undefined. */
export function exampleRoute(url: string, exampleService: string | undefined): string | undefined {
  if (!exampleService) return undefined;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  if ((u.protocol !== 'https:' && u.protocol !== 'http:') || !isExampleHost(u.hostname)) return undefined;
  return `${exampleService.replace(/\/+$/, '')}${u.pathname}${u.search}`;
}
