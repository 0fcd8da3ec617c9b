import type { IncomingHttpHeaders } from "node:http";
import { bracketedHost, isLoopbackHost, isWildcardHost } from "../settings.js";
import { quote } from "../shown.js";
import type { WebhooksConfig } from "./settings.js";

/**
 * How other machines reach the listener, as a phrase for a refusal ("on 0.0.0.0 (WAITER_LISTEN),
 * which is not a loopback address"), or undefined when this machine alone does. A publicUrl or an
 * allowedHosts name that is not loopback says a reverse proxy or a tunnel passes it requests from
 * elsewhere, whatever address it binds. `named` says where each was set:
 * the flag, the variable, or the key and the file.
 */
export function reachedFromElsewhere(
  webhooks: Pick<WebhooksConfig, "listen" | "publicUrl" | "allowedHosts">,
  named: (setting: "listen" | "publicUrl" | "allowedHosts") => string,
): string | undefined {
  const { host } = webhooks.listen;
  if (!isLoopbackHost(host)) return `on ${host} (${named("listen")}), which is not a loopback address`;
  const through = "through a proxy or tunnel that other machines reach";
  if (webhooks.publicUrl && !isLoopbackHost(new URL(webhooks.publicUrl).hostname)) {
    return `at ${webhooks.publicUrl} (${named("publicUrl")}), ${through}`;
  }
  const allowed = webhooks.allowedHosts.find((name) => !isLoopbackHost(name));
  return allowed === undefined ? undefined : `to ${allowed} (${named("allowedHosts")}), ${through}`;
}

export interface Refusal {
  /** What is counted for the source: a fixed phrase, never the refused value. */
  reason: string;
  /** What the client is told. */
  message: string;
}

const LOOPBACK_NAMES = ["localhost", "127.0.0.1", "[::1]"];

/** A socket's address as a Host header names it: an IPv4 one as it is (also when mapped into IPv6), an IPv6 one bracketed. */
function asHostName(address: string): string {
  const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (v4) return v4;
  return address.includes(":") ? `[${address.toLowerCase()}]` : address;
}
/** Only a name or address and a port: `evil.example@127.0.0.1` must not pass as 127.0.0.1. */
const HOST_HEADER = /^(\[[0-9a-f:.]+\]|[a-z0-9._-]+)(?::(\d{1,5}))?$/;

/** The names a request may give listen address `host` by: its own, and on loopback or a wildcard every loopback name. */
function listenNamesOf(host: string): Set<string> {
  const wildcard = isWildcardHost(host);
  const names = new Set(wildcard || isLoopbackHost(host) ? LOOPBACK_NAMES : []);
  if (!wildcard) names.add(bracketedHost(host));
  return names;
}

/**
 * Whether a page of `origin` may call waiter (on the listen port `localPort`): one in
 * allowedOrigins, or waiter's own (publicUrl's, or the listen address's over plain HTTP).
 */
export function originCheck(
  webhooks: Pick<WebhooksConfig, "listen" | "publicUrl" | "allowedOrigins">,
): (origin: string, localPort: number) => boolean {
  const listenNames = listenNamesOf(webhooks.listen.host.toLowerCase());
  const own = webhooks.publicUrl ? new URL(webhooks.publicUrl).origin : undefined;
  const allowedOrigins = new Set(webhooks.allowedOrigins);
  return (value, localPort) => {
    if (!URL.canParse(value)) return false;
    const origin = new URL(value);
    if (allowedOrigins.has(origin.origin) || origin.origin === own) return true;
    return origin.protocol === "http:" && listenNames.has(origin.hostname) && Number(origin.port || 80) === localPort;
  };
}

/**
 * Whether a request names the listener by publicUrl's host or an allowedHosts one, as a reverse
 * proxy or tunnel passes on a request from anyone; never by a loopback name or the listen
 * address, which this machine's own checks name it by too.
 */
export function byPublicName(
  webhooks: Pick<WebhooksConfig, "listen" | "publicUrl" | "allowedHosts">,
): (host: string | undefined) => boolean {
  const own = listenNamesOf(webhooks.listen.host.toLowerCase());
  const names = new Set(
    [...(webhooks.publicUrl ? [new URL(webhooks.publicUrl).hostname] : []), ...webhooks.allowedHosts].filter(
      (name) => !isLoopbackHost(name) && !own.has(name),
    ),
  );
  return (host) => host !== undefined && names.has(HOST_HEADER.exec(host.toLowerCase())?.[1] ?? "");
}

/**
 * Whether `path` is where OAuth metadata is looked for, which any page may read: under /.well-known/,
 * or OpenID's address after the issuer's path, where a client that takes /mcp for the issuer looks;
 * in any letter case, as express routes both.
 */
export const isWellKnown = (path: string): boolean => /^(?:\/mcp)?\/\.well-known\//i.test(path);

/**
 * Who may talk to the listener. Webhook senders name the listener in `Host` and send no
 * `Origin`; a web page the user visits does send one, and a DNS-rebinding page names its own
 * host. So a request must name the listen address (with the bound port; on loopback any loopback
 * name), publicUrl's host (a loopback one by any loopback name), or a host in allowedHosts, and carry no Origin but an allowed one or
 * waiter's own (publicUrl's, or the listen address's over plain HTTP): a page from there is no
 * other site's.
 * Bound to a wildcard address with neither publicUrl nor allowedHosts, the listener cannot know
 * the names it is reached by and takes any Host; it still refuses an Origin. The address a
 * connection came to, named as it is (a Kubernetes probe, a load balancer's health check, both of
 * which name a target by its address), passes too: no name a page could have rebound is an address.
 * What is under /.well-known/ (the OAuth metadata of `waiter serve`) is published for anyone to
 * discover, browser-based MCP clients included: any page may read it.
 */
export function requestGuard(
  webhooks: Pick<WebhooksConfig, "listen" | "publicUrl" | "allowedHosts" | "allowedOrigins">,
): (headers: IncomingHttpHeaders, localPort: number, path: string, localAddress?: string) => Refusal | undefined {
  const listenHost = webhooks.listen.host.toLowerCase();
  const publicUrl = webhooks.publicUrl ? new URL(webhooks.publicUrl) : undefined;
  const publicPort = publicUrl && (publicUrl.port || (publicUrl.protocol === "https:" ? "443" : "80"));
  // A loopback publicUrl is this machine's, by whichever of its names a proxy here passes on.
  const publicNames = new Set(
    publicUrl ? [publicUrl.hostname, ...(isLoopbackHost(publicUrl.hostname) ? LOOPBACK_NAMES : [])] : [],
  );
  const anyHost = isWildcardHost(listenHost) && !publicUrl && webhooks.allowedHosts.length === 0;
  const listenNames = listenNamesOf(listenHost);
  const allowedHosts = new Set(webhooks.allowedHosts);
  const originAllowed = originCheck(webhooks);

  const hostAllowed = (value: string, localPort: number, localAddress: string | undefined): boolean => {
    const match = HOST_HEADER.exec(value.toLowerCase());
    if (!match) return false;
    const [, name = "", port] = match;
    const samePort = Number(port ?? 80) === localPort;
    if (listenNames.has(name) && samePort) return true;
    if (localAddress && name === asHostName(localAddress) && samePort) return true;
    if (publicNames.has(name) && (port === undefined || port === publicPort)) return true;
    return allowedHosts.has(name);
  };

  return (headers, localPort, path, localAddress) => {
    const host = headers.host;
    if (!anyHost && host === undefined) {
      return { reason: "Host not allowed", message: "refused: the request names no Host" };
    }
    if (!anyHost && host !== undefined && !hostAllowed(host, localPort, localAddress)) {
      return {
        reason: "Host not allowed",
        // With publicUrl set, a Host of another name is most often a proxy that does not pass it on.
        message: publicUrl
          ? `refused: Host ${quote(host)} is not an address of this listener, which answers to webhooks.publicUrl's host, ${publicUrl.host}: a reverse proxy in front must pass on the Host it was asked for (nginx: proxy_set_header Host $host); if ${quote(host)} is an address of it, add the host to webhooks.allowedHosts`
          : `refused: Host ${quote(host)} is not an address of this listener; if it is, set webhooks.publicUrl to the address senders use (behind a proxy), or add the host to webhooks.allowedHosts`,
      };
    }
    const origin = headers.origin;
    if (origin !== undefined && !isWellKnown(path) && !originAllowed(origin, localPort)) {
      const page = `refused: a request from a web page (Origin ${quote(origin)})`;
      return {
        reason: "Origin not allowed",
        message: path.startsWith("/webhooks/")
          ? `${page}; webhook senders send no Origin, and webhooks.allowedOrigins does not list this one`
          : `${page} that webhooks.allowedOrigins does not list; add it there if the page may call waiter (an MCP client that runs in a browser page)`,
      };
    }
    return undefined;
  };
}
