/**
 * An HTTP/1.1 response parser for the proxy's upstream connections: the status line and headers
 * (as `rawHeaders`, name and value alternating, as node:http gives them), then the body framed by
 * `content-length`, chunked coding (decoded: the client side frames it again) or the connection's
 * end. 1xx answers (100 Continue) are skipped. It allocates per response only the head's strings;
 * body bytes are handed on as slices of the socket's own buffers.
 */

/** What the parser tells its owner. */
export interface ResponseEvents {
  head(status: number, statusMessage: string, rawHeaders: string[]): void;
  /** A slice of the body (valid only during the call). */
  body(chunk: Buffer): void;
  /** The whole response was read; `reusable`: the connection may carry another request. */
  complete(reusable: boolean): void;
}

/** A malformed answer: the connection is not usable any more. */
export class UpstreamProtocolError extends Error {}

const MAX_HEAD_BYTES = 64 * 1024;
const CRLFCRLF = Buffer.from('\r\n\r\n');

/** Where the parser is (plain numbers: a const enum is not erasable syntax). */
const Phase = {
  Head: 0,
  Fixed: 1,
  ChunkSize: 2,
  ChunkData: 3,
  ChunkDataEnd: 4,
  Trailers: 5,
  UntilClose: 6,
  Done: 7,
} as const;
type Phase = (typeof Phase)[keyof typeof Phase];

export class ResponseParser {
  private phase: Phase = Phase.Done;
  private pending: Buffer | null = null;
  /** Body bytes left: of the content-length, or of the current chunk. */
  private left = 0;
  private line = '';
  private noBody = false;
  private reusable = true;
  /** The last answer's `Keep-Alive: timeout=<s>`, in ms (0: none given). */
  keepAliveMs = 0;
  private readonly events: ResponseEvents;

  constructor(events: ResponseEvents) {
    this.events = events;
  }

  /** Expect the next response; `noBody` for a HEAD request (the answer has no body whatever it says). */
  expect(noBody: boolean): void {
    this.phase = Phase.Head;
    this.noBody = noBody;
    this.pending = null;
    this.reusable = true;
  }

  /** Whether a response is being read (its head or body). */
  get busy(): boolean {
    return this.phase !== Phase.Done;
  }

  /** Whether the head was read already (a failure after it cuts a response the client has started). */
  get headDone(): boolean {
    return this.phase !== Phase.Head && this.phase !== Phase.Done;
  }

  /** During `body`: these bytes end a content-length body (the answer is whole with them). */
  get lastBytes(): boolean {
    return this.phase === Phase.Fixed && this.left === 0;
  }

  /** The connection ended: completes a body read until the end; false if a response was cut short. */
  end(): boolean {
    if (this.phase === Phase.UntilClose) {
      this.finish(false);
      return true;
    }
    return this.phase === Phase.Done;
  }

  /** Feeds bytes read from the socket. Throws UpstreamProtocolError on a malformed answer or stray bytes. */
  feed(data: Buffer): void {
    let at = 0;
    while (at < data.length) {
      switch (this.phase) {
        case Phase.Done:
          throw new UpstreamProtocolError('the upstream sent bytes with no request outstanding');
        case Phase.Head:
          at = this.readHead(data, at);
          break;
        case Phase.Fixed: {
          const n = Math.min(this.left, data.length - at);
          this.left -= n;
          this.events.body(at === 0 && n === data.length ? data : data.subarray(at, at + n));
          at += n;
          if (this.left === 0) this.finish(this.reusable);
          break;
        }
        case Phase.UntilClose:
          this.events.body(at === 0 ? data : data.subarray(at));
          at = data.length;
          break;
        case Phase.ChunkData: {
          const n = Math.min(this.left, data.length - at);
          this.left -= n;
          this.events.body(data.subarray(at, at + n));
          at += n;
          if (this.left === 0) {
            this.phase = Phase.ChunkDataEnd;
            this.line = '';
          }
          break;
        }
        default:
          at = this.readLine(data, at);
      }
    }
  }

  private finish(reusable: boolean): void {
    this.phase = Phase.Done;
    this.pending = null;
    this.events.complete(reusable);
  }

  private readHead(data: Buffer, at: number): number {
    let buf = data;
    let from = at;
    const had = this.pending;
    if (had !== null) {
      buf = Buffer.concat([had, data.subarray(at)]);
      from = 0;
    }
    const end = buf.indexOf(CRLFCRLF, had === null ? from : Math.max(0, had.length - 3));
    if (end < 0) {
      if (buf.length - from > MAX_HEAD_BYTES) throw new UpstreamProtocolError('response head larger than 64 KiB');
      this.pending = had === null ? Buffer.from(data.subarray(at)) : buf;
      return data.length;
    }
    this.pending = null;
    this.parseHead(buf.toString('latin1', from, end));
    // Where the body starts, as an offset into `data`.
    return had === null ? end + 4 : end + 4 - had.length + at;
  }

  private parseHead(text: string): void {
    const lines = text.split('\r\n');
    const m = /^HTTP\/1\.([01]) (\d{3})(?: (.*))?$/.exec(lines[0]!);
    if (m === null) throw new UpstreamProtocolError(`bad status line ${JSON.stringify(lines[0]!.slice(0, 80))}`);
    const status = Number(m[2]);
    let keepAlive = m[1] === '1';
    let length = -1;
    let chunked = false;
    this.keepAliveMs = 0;
    const raw: string[] = [];
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const colon = line.indexOf(':');
      if (colon <= 0) throw new UpstreamProtocolError(`bad header line ${JSON.stringify(line.slice(0, 80))}`);
      const name = line.slice(0, colon);
      const value = line.slice(colon + 1).trim();
      raw.push(name, value);
      switch (name.length) {
        case 10:
          if (name.toLowerCase() === 'connection') {
            const v = value.toLowerCase();
            if (v.includes('close')) keepAlive = false;
            else if (v.includes('keep-alive')) keepAlive = true;
          } else if (name.toLowerCase() === 'keep-alive') {
            const t = /timeout=(\d+)/i.exec(value);
            if (t !== null) this.keepAliveMs = Number(t[1]) * 1000;
          }
          break;
        case 14:
          if (name.toLowerCase() === 'content-length') {
            const n = Number(value);
            if (!/^\d+$/.test(value) || (length >= 0 && n !== length))
              throw new UpstreamProtocolError(`bad content-length ${JSON.stringify(value)}`);
            length = n;
          }
          break;
        case 17:
          if (name.toLowerCase() === 'transfer-encoding') chunked = /(?:^|,)\s*chunked\s*$/i.test(value);
          break;
      }
    }
    if (status >= 100 && status < 200) {
      if (status === 101)
        throw new UpstreamProtocolError('the upstream switched protocols (upgrades are not supported)');
      this.phase = Phase.Head; // 100 Continue and the like: the real answer follows
      return;
    }
    this.reusable = keepAlive;
    this.events.head(status, m[3] ?? '', raw);
    if (this.noBody || status === 204 || status === 304) return this.finish(keepAlive);
    if (chunked) {
      this.phase = Phase.ChunkSize;
      this.line = '';
    } else if (length >= 0) {
      this.left = length;
      if (length === 0) this.finish(keepAlive);
      else this.phase = Phase.Fixed;
    } else {
      this.reusable = false;
      this.phase = Phase.UntilClose;
    }
  }

  /** Chunk-size lines, the CRLF after a chunk, trailers: line by line. */
  private readLine(data: Buffer, at: number): number {
    const nl = data.indexOf(10, at);
    const end = nl < 0 ? data.length : nl + 1;
    this.line += data.toString('latin1', at, end);
    if (this.line.length > 4096) throw new UpstreamProtocolError('chunk line longer than 4 KiB');
    if (nl < 0) return end;
    const line = this.line.slice(0, this.line.endsWith('\r\n') ? -2 : -1);
    this.line = '';
    switch (this.phase) {
      case Phase.ChunkSize: {
        const hex = line.split(';', 1)[0]!.trim();
        if (!/^[0-9a-fA-F]{1,12}$/.test(hex)) throw new UpstreamProtocolError(`bad chunk size ${JSON.stringify(hex)}`);
        const size = parseInt(hex, 16);
        if (size === 0) this.phase = Phase.Trailers;
        else {
          this.left = size;
          this.phase = Phase.ChunkData;
        }
        break;
      }
      case Phase.ChunkDataEnd:
        if (line !== '') throw new UpstreamProtocolError('no CRLF after a chunk');
        this.phase = Phase.ChunkSize;
        break;
      case Phase.Trailers:
        if (line === '') this.finish(this.reusable);
        break;
    }
    return end;
  }
}
