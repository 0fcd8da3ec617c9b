import { isIP } from "node:net";

/** localhost, 127.0.0.0/8 or ::1: where plain http cannot leave the machine. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "");
  if (host === "localhost") return true;
  if (isIP(host) === 4) return host.startsWith("127.");
  if (isIP(host) === 6) return host === "::1";
  return false;
}

/** Why an upstream URL may not be used, or undefined when it may. */
export function upstreamUrlProblem(url: URL): string | undefined {
  if (url.protocol === "https:") return undefined;
  if (url.protocol === "http:" && isLoopbackHost(url.hostname)) return undefined;
  if (url.protocol === "http:") {
    return `plain http is allowed only to loopback addresses; use https://${url.host}${url.pathname}`;
  }
  return `unsupported protocol ${url.protocol} (use https)`;
}
