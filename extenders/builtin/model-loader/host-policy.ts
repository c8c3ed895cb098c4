/**
 * Which hosts the https loader may fetch from. A Model is written by whoever may create Models, so its
 * URI must not reach what only the node can reach: loopback and link-local addresses (the cloud
 * metadata endpoint 169.254.169.254 among them) are refused, whether written as an address or
 * resolved from a name, unless the host is listed by name in `allowedHosts`; with `allowedHosts`
 * set, only those hosts (exact, or `*.example.com` for its subdomains) are fetched at all.
 */
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { BlockList, isIP } from 'node:net';

const NODE_ONLY = new BlockList();
for (const [net, prefix, family] of [
  ['0.0.0.0', 8, 'ipv4'],
  ['127.0.0.0', 8, 'ipv4'],
  ['169.254.0.0', 16, 'ipv4'],
  ['::', 128, 'ipv6'],
  ['::1', 128, 'ipv6'],
  ['fe80::', 10, 'ipv6'],
] as const) {
  NODE_ONLY.addSubnet(net, prefix, family);
}

/** A host as compared: lower case, an IPv6 address without its URL brackets. */
const bare = (host: string): string => host.toLowerCase().replace(/^\[(.*)\]$/, '$1');

export class HostPolicy {
  readonly #allowed: readonly string[] | undefined;
  readonly #allowHttp: boolean;

  constructor(allowedHosts: readonly string[] | undefined, allowHttp: boolean) {
    this.#allowed = allowedHosts?.map(bare);
    this.#allowHttp = allowHttp;
  }

  /** Listed by its exact name (not a wildcard): the one way to reach a loopback or link-local host. */
  #listed(host: string): boolean {
    return this.#allowed?.includes(host) === true;
  }

  #matches(host: string): boolean {
    return this.#allowed === undefined || this.#allowed.some((a) => a === host || (a.startsWith('*.') && host.endsWith(a.slice(1))));
  }

  /** `address` may be connected to for `host`. */
  allowsAddress(host: string, address: string): boolean {
    const family = isIP(address);
    return family === 0 || this.#listed(host) || !NODE_ONLY.check(address, family === 6 ? 'ipv6' : 'ipv4');
  }

  /**
   * Throws, saying why, unless `url` may be fetched; `from` is the URL that redirected to it (a
   * redirect may change host only to another allowed host, and only when `allowedHosts` is set).
   */
  check(url: URL, from?: URL): void {
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && this.#allowHttp)) {
      throw new Error(
        `refusing ${url.href}: ${url.protocol === 'http:' ? "plain http:// needs the https loader's allowHttp" : `not an https:// URL`}${from !== undefined ? ` (redirected from ${from.href})` : ''}`,
      );
    }
    const host = bare(url.hostname);
    if (!this.#matches(host))
      throw new Error(
        `refusing ${url.href}: host ${host} is not in the https loader's allowedHosts${from !== undefined ? ` (redirected from ${from.href})` : ''}`,
      );
    if (this.#allowed === undefined && from !== undefined && host !== bare(from.hostname)) {
      throw new Error(`refusing the redirect from ${from.href} to another host, ${host}; list both in the https loader's allowedHosts to allow it`);
    }
    if (!this.allowsAddress(host, host))
      throw new Error(`refusing ${url.href}: ${host} is a loopback or link-local address; list it in the https loader's allowedHosts to allow it`);
  }

  /** A dns.lookup for the connector: names that resolve to loopback or link-local are refused. */
  readonly lookup = (
    hostname: string,
    options: LookupOptions,
    callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
  ): void => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err !== null) return callback(err, []);
      const refused = addresses.find((a) => !this.allowsAddress(hostname.toLowerCase(), a.address));
      if (refused !== undefined) {
        const e: NodeJS.ErrnoException = new Error(
          `refusing ${hostname}: it resolves to ${refused.address}, a loopback or link-local address; list it in the https loader's allowedHosts to allow it`,
        );
        e.code = 'ENEUROREFUSED';
        return callback(e, []);
      }
      if (options.all === true) return callback(null, addresses);
      const first = addresses[0] as LookupAddress;
      return callback(null, first.address, first.family);
    });
  };
}
