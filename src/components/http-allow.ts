/**
 * The target allow-list of the `http` built-in (HARMONIA_HTTP_ALLOW): which hosts a workflow may call. A pure matcher,
 * so that the wiring can read the environment and tests can check patterns without a server.
 */

const DEFAULT_PORTS: Record<string, string> = { 'http:': '80', 'https:': '443' }

type HostPattern = { host: string; port: string | undefined }

/** The hostname as URL writes it: lowercase, punycode, canonical IPv4 and IPv6; the raw text if URL refuses it. */
function canonicalHost(host: string): string {
  try {
    return new URL(`http://${host}`).hostname
  } catch {
    return host
  }
}

/** Splits `host`, `host:port`, `[v6]`, `[v6]:port` or a bare IPv6 address; the host canonical, without a trailing dot. */
function parsePattern(raw: string): HostPattern | undefined {
  const text = raw.trim().toLowerCase()
  if (text === '') return undefined
  let host = text
  let port: string | undefined
  const bracketed = /^(\[[^\]]+\])(?::(\d+))?$/.exec(text)
  if (bracketed) {
    host = bracketed[1]!
    port = bracketed[2]
  } else {
    // One colon is host:port; several without brackets are an IPv6 address, which URL.hostname writes bracketed.
    const parts = text.split(':')
    if (parts.length === 2) [host, port] = [parts[0]!, parts[1]]
    else if (parts.length > 2) host = `[${text}]`
  }
  const wildcard = host.startsWith('*.')
  const canonical = canonicalHost(wildcard ? host.slice(2) : host).replace(/\.$/, '')
  // `:080` is port 80; a port that is not a number matches nothing.
  return { host: wildcard ? `*.${canonical}` : canonical, port: port === undefined ? undefined : String(Number(port)) }
}

function hostMatches(pattern: string, hostname: string): boolean {
  if (pattern.startsWith('*.')) {
    // `*.x.y` is any subdomain of x.y, never x.y itself: allowing the apex takes its own entry.
    const suffix = pattern.slice(1)
    return hostname.length > suffix.length && hostname.endsWith(suffix)
  }
  return hostname === pattern
}

/**
 * Whether `url` is a target `patterns` allow: `host` matches that host on any port, `host:port` only that port (the
 * scheme's default port when the URL has none), `*.x.y` the subdomains of x.y; case does not matter.
 */
export function allowsHost(patterns: readonly string[], url: URL): boolean {
  // URL lowercases and punycodes the hostname of http(s) URLs; only a trailing dot (`example.com.`) is left to drop.
  const hostname = url.hostname.replace(/\.$/, '')
  const port = url.port || DEFAULT_PORTS[url.protocol] || ''
  return patterns.some((raw) => {
    const pattern = parsePattern(raw)
    if (!pattern || !hostMatches(pattern.host, hostname)) return false
    return pattern.port === undefined || pattern.port === port
  })
}
