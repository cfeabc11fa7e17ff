import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ResponseParser, UpstreamProtocolError } from './response-parser.ts';

interface Seen {
  status: number;
  message: string;
  headers: string[];
  body: string;
  lasts: number;
  reusable: boolean | null;
}

function parser(): { p: ResponseParser; seen: Seen } {
  const seen: Seen = { status: 0, message: '', headers: [], body: '', lasts: 0, reusable: null };
  const p: ResponseParser = new ResponseParser({
    head: (status, message, headers) => Object.assign(seen, { status, message, headers }),
    body: (chunk) => {
      seen.body += chunk.toString('latin1');
      if (p.lastBytes) seen.lasts++;
    },
    complete: (reusable) => (seen.reusable = reusable),
  });
  return { p, seen };
}

/** Feeds `text` whole, and again split at every byte boundary: the outcome must not depend on the split. */
function eachSplit(text: string, noBody: boolean, check: (seen: Seen, p: ResponseParser) => void): void {
  const bytes = Buffer.from(text, 'latin1');
  for (let at = 0; at <= bytes.length; at++) {
    const { p, seen } = parser();
    p.expect(noBody);
    if (at > 0) p.feed(bytes.subarray(0, at));
    if (at < bytes.length) p.feed(bytes.subarray(at));
    check(seen, p);
  }
}

test('a content-length answer: head, body, reusable; the last bytes are marked', () => {
  const text = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nKeep-Alive: timeout=5\r\n\r\nhello';
  eachSplit(text, false, (seen, p) => {
    assert.equal(seen.status, 200);
    assert.equal(seen.message, 'OK');
    assert.deepEqual(seen.headers, ['Content-Type', 'text/plain', 'Content-Length', '5', 'Keep-Alive', 'timeout=5']);
    assert.equal(seen.body, 'hello');
    assert.equal(seen.lasts, 1);
    assert.equal(seen.reusable, true);
    assert.equal(p.keepAliveMs, 5000);
    assert.equal(p.busy, false);
  });
});

test('a chunked answer is decoded (extensions and trailers skipped), whatever the splits', () => {
  const text =
    'HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nX-Trailer: t\r\n\r\n';
  eachSplit(text, false, (seen) => {
    assert.equal(seen.status, 201);
    assert.equal(seen.body, 'hello, world');
    assert.equal(seen.reusable, true);
  });
});

test('100 Continue is skipped; HEAD, 204 and 304 answers have no body', () => {
  eachSplit('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', false, (seen) => {
    assert.equal(seen.status, 200);
    assert.equal(seen.body, 'ok');
  });
  eachSplit('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n', true, (seen) => {
    assert.equal(seen.body, '');
    assert.equal(seen.reusable, true);
  });
  eachSplit('HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n', false, (seen) =>
    assert.equal(seen.reusable, true),
  );
});

test('without a length the body runs to the end of the connection, which is then not reusable', () => {
  const { p, seen } = parser();
  p.expect(false);
  p.feed(Buffer.from('HTTP/1.0 200 OK\r\n\r\npart one, '));
  p.feed(Buffer.from('part two'));
  assert.equal(seen.reusable, null);
  assert.equal(p.end(), true);
  assert.equal(seen.body, 'part one, part two');
  assert.equal(seen.reusable, false);
});

test('Connection: close makes the connection single-use; a cut body is reported by end()', () => {
  const { p, seen } = parser();
  p.expect(false);
  p.feed(Buffer.from('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 10\r\n\r\nhalf'));
  assert.equal(p.headDone, true);
  assert.equal(p.end(), false, 'six bytes never came');
  assert.equal(seen.reusable, null);
  const second = parser();
  second.p.expect(false);
  second.p.feed(Buffer.from('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n'));
  assert.equal(second.seen.reusable, false);
});

test('malformed answers and stray bytes are protocol errors', () => {
  for (const bad of [
    'HTTP/2 200 OK\r\n\r\n',
    'HTTP/1.1 200 OK\r\nno colon here\r\n\r\n',
    'HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
    'HTTP/1.1 101 Switching Protocols\r\n\r\n',
  ]) {
    const { p } = parser();
    p.expect(false);
    assert.throws(() => p.feed(Buffer.from(bad)), UpstreamProtocolError, bad);
  }
  const { p } = parser();
  p.expect(false);
  assert.throws(() => p.feed(Buffer.from('HTTP/1.1 204 No Content\r\n\r\nextra')), UpstreamProtocolError);
});
