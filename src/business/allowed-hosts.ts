/**
 * TICKETFLOW_ALLOWED_HOSTS: comma-separated host patterns pipeline endpoints may call (an SSRF guard). A pattern
 * is a host name (`api.example.com`), a wildcard suffix (`*.example.com`, which does not match `example.com`
 * itself), or either with a port (`api.example.com:8443`). Unset: any host.
 */
export function hostAllowed(url: string, patterns: readonly string[] | undefined): boolean {
  if (!patterns) return true;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  const host = u.hostname.toLowerCase().replace(/^\[|\]$/g, '');
  const port = u.port || (u.protocol === 'https:' ? '443' : '80');
  return patterns.some((raw) => {
    const pattern = raw.toLowerCase();
    const m = /^(.*?)(?::(\d+))?$/.exec(pattern)!;
    const [, hostPattern, portPattern] = m;
    if (portPattern && portPattern !== port) return false;
    if (hostPattern!.startsWith('*.')) return host.endsWith(hostPattern!.slice(1));
    return host === hostPattern;
  });
}
