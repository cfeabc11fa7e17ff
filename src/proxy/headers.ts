/**
 * Header rewriting on the request path, done in one pass over `rawHeaders` (no header objects are
 * built): drop hop-by-hop headers (RFC 9110 §7.6.1, plus any the Connection header names), add
 * forwarding headers, and pick out what routing needs (the sticky key, whether there is a body).
 */

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

const VIA = '1.1 sluice';
const NO_TOKENS: string[] = [];

export interface RequestHead {
  /** Headers for the upstream request, in rawHeaders form (name, value, name, value …). */
  headers: string[];
  /** The sticky header or cookie value, when the table is sticky and the request carries it. */
  stickyKey: string | undefined;
  /** The request has a body (content-length > 0 or chunked); such requests are never retried. */
  hasBody: boolean;
  /** The body comes chunked (Node de-chunks it; the upstream request frames it again). */
  chunked: boolean;
  hasHost: boolean;
  /** Values of the headers cohort routes look at (lower-case name → first value), when there are any. */
  routeValues: Map<string, string> | undefined;
  /** The Cookie header (the first one), for cookie routes. */
  cookie: string | undefined;
}

/** Splits a Connection header into the extra header names it makes hop-by-hop. */
function connectionTokens(value: string): string[] {
  // The usual values name no extra headers; skip the split on every keep-alive request.
  if (value.length <= 10) {
    const v = value.toLowerCase();
    if (v === 'keep-alive' || v === 'close') return NO_TOKENS;
  }
  const out: string[] = [];
  for (const t of value.split(',')) {
    const name = t.trim().toLowerCase();
    if (name !== '' && name !== 'close' && name !== 'keep-alive') out.push(name);
  }
  return out;
}

function withoutNames(headers: string[], names: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    if (!names.includes(headers[i]!.toLowerCase())) out.push(headers[i]!, headers[i + 1]!);
  }
  return out;
}

/** The value of cookie `name` in a Cookie header, or undefined. */
export function cookieValue(header: string, name: string): string | undefined {
  let from = 0;
  for (;;) {
    const i = header.indexOf(name, from);
    if (i < 0) return undefined;
    const before = i === 0 ? 59 : header.charCodeAt(i - 1);
    if ((before === 59 || before === 32) && header.charCodeAt(i + name.length) === 61) {
      const end = header.indexOf(';', i);
      const value = header.slice(i + name.length + 1, end < 0 ? header.length : end).trim();
      return value === '' ? undefined : value;
    }
    from = i + 1;
  }
}

export function requestHead(
  raw: string[],
  clientIp: string | undefined,
  stickyHeader: string | undefined,
  stickyCookie: string | undefined,
  routeHeaders?: ReadonlySet<string>,
): RequestHead {
  const headers: string[] = [];
  let routeValues: Map<string, string> | undefined;
  let cookie: string | undefined;
  let stickyKey: string | undefined;
  let hasBody = false;
  let chunked = false;
  let hasHost = false;
  let hasProto = false;
  let forwardedFor: string | undefined;
  let via: string | undefined;
  let extraHop: string[] | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower)) {
      if (lower === 'transfer-encoding') {
        // Node de-chunks the body; say chunked again so the upstream request is framed the same way.
        hasBody = true;
        chunked = true;
        headers.push('transfer-encoding', 'chunked');
      } else if (lower === 'connection') {
        const tokens = connectionTokens(value);
        if (tokens.length > 0) extraHop = (extraHop ?? []).concat(tokens);
      }
      continue;
    }
    if (lower === stickyHeader && stickyKey === undefined && value !== '') stickyKey = value;
    if (routeHeaders !== undefined && routeHeaders.has(lower)) {
      routeValues ??= new Map();
      if (!routeValues.has(lower)) routeValues.set(lower, value);
    }
    switch (lower) {
      case 'host':
        hasHost = true;
        break;
      case 'content-length':
        if (value !== '0') hasBody = true;
        break;
      case 'x-forwarded-for':
        forwardedFor = forwardedFor === undefined ? value : `${forwardedFor}, ${value}`;
        continue;
      case 'via':
        via = via === undefined ? value : `${via}, ${value}`;
        continue;
      case 'x-forwarded-proto':
        hasProto = true;
        break;
      case 'cookie':
        cookie ??= value;
        if (stickyCookie !== undefined && stickyKey === undefined) stickyKey = cookieValue(value, stickyCookie);
        break;
    }
    headers.push(name, value);
  }
  if (clientIp !== undefined) {
    headers.push('x-forwarded-for', forwardedFor === undefined ? clientIp : `${forwardedFor}, ${clientIp}`);
  } else if (forwardedFor !== undefined) {
    headers.push('x-forwarded-for', forwardedFor);
  }
  if (!hasProto) headers.push('x-forwarded-proto', 'http');
  headers.push('via', via === undefined ? VIA : `${via}, ${VIA}`);
  return {
    headers: extraHop === undefined ? headers : withoutNames(headers, extraHop),
    stickyKey,
    hasBody,
    chunked,
    hasHost,
    routeValues,
    cookie,
  };
}

/** Response headers for the client: the upstream's minus hop-by-hop ones (Node frames the body itself). */
export function responseHeaders(raw: string[]): string[] {
  const headers: string[] = [];
  let extraHop: string[] | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower)) {
      if (lower === 'connection') {
        const tokens = connectionTokens(raw[i + 1]!);
        if (tokens.length > 0) extraHop = (extraHop ?? []).concat(tokens);
      }
      continue;
    }
    headers.push(name, raw[i + 1]!);
  }
  return extraHop === undefined ? headers : withoutNames(headers, extraHop);
}

/** The request head as written upstream: request line, `name: value` lines, blank line (one string, one write). */
export function requestText(method: string, path: string, headers: readonly string[], host?: string): string {
  let text = `${method} ${path} HTTP/1.1\r\n`;
  for (let i = 0; i < headers.length; i += 2) text += `${headers[i]!}: ${headers[i + 1]!}\r\n`;
  if (host !== undefined) text += `host: ${host}\r\n`;
  return `${text}\r\n`;
}
