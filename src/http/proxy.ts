import { BlockList, isIP } from "node:net";
import type { Agent, Dispatcher, Pool } from "undici";
import { ConfigError } from "../errors.js";
import { isLoopbackHost, settingFromEnv } from "../settings.js";

/**
 * The HTTP proxy the environment names for waiter's requests, read as curl, npm and pip read it.
 * Every upstream is reached over https (plain http only on loopback, which never goes through a
 * proxy), so one is taken: https_proxy or HTTPS_PROXY, else http_proxy or HTTP_PROXY, as undici
 * and npm fall back (the lower-case name first, as curl reads them).
 */
export interface HttpProxy {
  /** Its URL as given, its user and password included: for undici alone, never shown. */
  url: string;
  /** Its URL as shown: scheme, host and port, without a user or password. */
  shown: string;
  /** The variable that named it: HTTPS_PROXY, https_proxy, HTTP_PROXY or http_proxy. */
  variable: string;
  /** Whether its URL carries a user and a password, which undici sends as Proxy-Authorization. */
  credentials: boolean;
  /** no_proxy, else NO_PROXY, as given: the hosts reached without the proxy. */
  noProxy: string;
}

const PROXY_VARIABLES = ["https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY"];

/** The proxy `env` names, if any; a ConfigError for one waiter cannot go through. */
export function proxyFrom(env: NodeJS.ProcessEnv): HttpProxy | undefined {
  const variable = PROXY_VARIABLES.find((name) => env[name]?.trim());
  if (!variable) return undefined;
  const given = settingFromEnv(env, variable) ?? "";
  // A Windows domain's user as written, CORP\user: the URL would go to the host corp, without them.
  if (given.includes("\\")) {
    throw new ConfigError(
      `invalid ${variable}: it holds a \\, which a URL reads as a / (http://CORP\\user:… names the host corp); write each \\ in its user or password as %5C, as CORP%5Cuser`,
    );
  }
  // "proxy.corp:3128", without a scheme, is an http:// proxy to curl too.
  const written = /^[a-z][a-z\d+.-]*:\/\//i.test(given) ? given : `http://${given}`;
  const url = URL.canParse(written) ? new URL(written) : undefined;
  if (!url?.hostname) {
    throw new ConfigError(`invalid ${variable}: it is no proxy's URL; write it as http://proxy.example:3128`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ConfigError(
      `invalid ${variable}: it names a ${url.protocol.slice(0, -1)} proxy, and waiter goes through an HTTP one (http:// or https://)`,
    );
  }
  // undici decodes them, and a % that begins no escape (a password's "50%off") would fail every
  // request as a bug in waiter.
  try {
    decodeURIComponent(url.username);
    decodeURIComponent(url.password);
  } catch {
    throw new ConfigError(
      `invalid ${variable}: its user or password holds a % that begins no escape; write each % in them as %25`,
    );
  }
  return {
    url: written,
    shown: url.origin,
    variable,
    credentials: url.username !== "" && url.password !== "",
    // One set empty is unset, as for the proxy: curl then reads NO_PROXY.
    noProxy: settingFromEnv(env, env.no_proxy?.trim() ? "no_proxy" : "NO_PROXY") ?? "",
  };
}

/** Failures of a connection to the proxy itself (refused, timed out, its TLS), not to an upstream beyond it. */
const atProxy = new WeakSet<object>();

/**
 * The proxy's own failure behind `err`, if it is one: its connection's, or undici's wrapping of
 * its TLS's.
 */
export function proxyFailure(err: unknown): Error | undefined {
  for (const failure of [err, (err as { cause?: unknown } | undefined)?.cause]) {
    if (typeof failure === "object" && failure !== null && atProxy.has(failure)) return failure as Error;
  }
  return undefined;
}

/** Per 407 to a CONNECT whose Proxy-Authenticate offers no Basic, the schemes it offers instead. */
const notBasic = new WeakMap<object, string[]>();

/**
 * The schemes a proxy's 407 behind `err` asks for credentials by, if Basic, the one undici sends
 * a user and password as, is not among them (NTLM, Negotiate: a Windows domain's sign-in).
 */
export function schemesWithoutBasic(err: unknown): string[] | undefined {
  return typeof err === "object" && err !== null ? notBasic.get(err) : undefined;
}

/** The schemes in Proxy-Authenticate's challenges: each name at a challenge's start, not a parameter's. */
function challengeSchemes(header: string | string[] | undefined): string[] {
  const values = Array.isArray(header) ? header : header ? [header] : [];
  return values.flatMap((value) =>
    [...value.matchAll(/(?:^|,)\s*([\w!#$%&'*+.^`|~-]+)(?![\w!#$%&'*+.^`|~-]|\s*=)/g)].map(
      ([, scheme]) => scheme ?? "",
    ),
  );
}

/**
 * Not Implemented: the server takes no such request, and no wait changes that. An upstream's 501
 * says so of the request; a CONNECT's came to a server that takes no CONNECT, as a web server
 * does: no proxy.
 */
export const NOT_IMPLEMENTED = 501;

/** The status the proxy answered a CONNECT with instead of 200, as undici words it. */
export function tunnelRefused(err: unknown): number | undefined {
  const said = /^Proxy response \((\d+)\) !== 200 when HTTP Tunneling$/.exec((err as Error | undefined)?.message ?? "");
  return said ? Number(said[1]) : undefined;
}

/** The port a URL of `protocol` goes to when it names none. */
const DEFAULT_PORTS: Record<string, number> = { "http:": 80, "https:": 443 };

/**
 * Whether a request to a URL goes out without the proxy: to loopback, which is this machine and
 * never the proxy's to reach, and to the hosts NO_PROXY names. Its entries are read as undici's
 * EnvHttpProxyAgent reads them (a host and its subdomains, a leading . or *. dropped, a port after
 * a : for that port only, * alone for every host), but for two that it reads as no host: an IPv6
 * address written as curl takes it, without brackets (::1, fd00::5, which it would split into a
 * host and a port, fd00: and 5), and an address range in CIDR form (10.0.0.0/8, fd00::/8), which
 * takes a host written as an address in it. A host given by its name is not resolved for them,
 * as curl does not: the proxy may be the one that knows it.
 */
export function sentDirectly(noProxy: string): (url: URL) => boolean {
  const ranges = new BlockList();
  const hosts: { host: string; port: number }[] = [];
  for (const entry of noProxy.split(/[,\s]+/).filter(Boolean)) {
    const [, network = "", prefix] = /^([^/]+)\/(\d{1,3})$/.exec(entry) ?? [];
    const family = isIP(network);
    if (family && Number(prefix) <= (family === 4 ? 32 : 128)) {
      ranges.addSubnet(network, Number(prefix), family === 4 ? "ipv4" : "ipv6");
      continue;
    }
    const [, address = entry, addressPort] = /^\[([^\]]*)\](?::(\d+))?$/.exec(entry) ?? [];
    if (isIP(address) === 6 && URL.canParse(`http://[${address}]`)) {
      hosts.push({ host: new URL(`http://[${address}]`).hostname, port: Number(addressPort ?? 0) });
      continue;
    }
    const [, host = entry, port] = /^(.+):(\d+)$/.exec(entry) ?? [];
    hosts.push({ host: host.replace(/^\*?\./, "").toLowerCase(), port: Number(port ?? 0) });
  }
  return ({ hostname, port, protocol }) => {
    if (isLoopbackHost(hostname) || noProxy === "*") return true;
    const address = hostname.replace(/^\[|\]$/g, "");
    const family = isIP(address);
    if (family !== 0 && ranges.check(address, family === 4 ? "ipv4" : "ipv6")) return true;
    const to = Number(port) || DEFAULT_PORTS[protocol] || 0;
    return hosts.some(
      (entry) => (!entry.port || entry.port === to) && (hostname === entry.host || hostname.endsWith(`.${entry.host}`)),
    );
  };
}

/**
 * NO_PROXY's entries that match no host, neither here nor for curl: a * but alone as all of it or
 * at a name's start (*.corp.example), as in a Windows bypass list's 192.168.* and <local>.
 */
export function unmatchedNoProxy(noProxy: string): string[] {
  if (noProxy === "*") return [];
  return noProxy.split(/[,\s]+/).filter((entry) => entry.replace(/^\*\./, "").includes("*") || entry.startsWith("<"));
}

/**
 * What requests go out through: undici's ProxyAgent for the URLs `goesThrough` takes (those that
 * sentDirectly does not), given the proxy as waiter read it (never process.env), which tunnels
 * through it; else `direct`.
 * Connections through it have `options`' limits and timeouts, the proxy's own too.
 */
export function throughProxy(
  undici: typeof import("undici"),
  direct: Agent,
  options: Agent.Options & Required<Pick<Agent.Options, "factory">>,
  proxy: HttpProxy,
  goesThrough: (url: URL) => boolean,
  connectTimeoutMs: number,
): { dispatcher: Dispatcher; proxied: Dispatcher } {
  const { ProxyAgent, errors } = undici;
  const proxied = new ProxyAgent({
    ...options,
    uri: proxy.url,
    proxyTls: { timeout: connectTimeoutMs },
    requestTls: { timeout: connectTimeoutMs },
    // The connection to the proxy and its CONNECT: their failures are marked, so that they are told
    // as the proxy's. The proxy has as long to answer the CONNECT (its own connection to the
    // upstream) as a connection has to open: a request waiting for a connection is not cut by
    // its call's deadline, and undici's default (300 s) would hold a tool call that long. Made as
    // the Agent makes an origin's (`options.factory`), its TLS alerts are told as an origin's are.
    clientFactory: (origin, opts) => {
      const pool = options.factory(origin, { ...(opts as Pool.Options), headersTimeout: connectTimeoutMs });
      const tunnel = pool.connect.bind(pool) as (o: Dispatcher.ConnectOptions) => Promise<Dispatcher.ConnectData>;
      pool.connect = ((o: Dispatcher.ConnectOptions) =>
        tunnel(o).then(
          (data) => {
            const schemes = challengeSchemes(data.headers?.["proxy-authenticate"]);
            if (data.statusCode !== 407 || schemes.length === 0 || schemes.some((scheme) => /^basic$/i.test(scheme)))
              return data;
            // undici's own refusal, which keeps only the status, with the schemes the proxy asked for.
            data.socket.on("error", () => {}).destroy();
            const refused = new errors.RequestAbortedError("Proxy response (407) !== 200 when HTTP Tunneling");
            notBasic.set(refused, schemes);
            throw refused;
          },
          (err: Error) => {
            atProxy.add(err);
            throw err;
          },
        )) as typeof pool.connect;
      return pool;
    },
  });
  const dispatcher = direct.compose(
    (dispatch) => (opts, handler) =>
      goesThrough(new URL(String(opts.origin))) ? proxied.dispatch(opts, handler) : dispatch(opts, handler),
  );
  return { dispatcher, proxied };
}
