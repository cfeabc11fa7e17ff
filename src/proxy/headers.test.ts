import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cookieValue, requestHead, responseHeaders } from './headers.ts';

function pairs(raw: string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i < raw.length; i += 2) out.push([raw[i]!, raw[i + 1]!]);
  return out;
}

test('hop-by-hop headers are dropped, forwarding headers added', () => {
  const head = requestHead(
    ['Host', 'shop', 'Connection', 'keep-alive, X-Trace', 'X-Trace', '1', 'Keep-Alive', 'timeout=5', 'Accept', '*/*'],
    '10.0.0.7',
    undefined,
    undefined,
  );
  assert.deepEqual(pairs(head.headers), [
    ['Host', 'shop'],
    ['Accept', '*/*'],
    ['x-forwarded-for', '10.0.0.7'],
    ['x-forwarded-proto', 'http'],
    ['via', '1.1 sluice'],
  ]);
  assert.equal(head.hasBody, false);
  assert.equal(head.hasHost, true);
});

test('existing forwarding headers are extended, not replaced', () => {
  const head = requestHead(
    ['X-Forwarded-For', '1.2.3.4', 'Via', '1.1 edge', 'X-Forwarded-Proto', 'https'],
    '10.0.0.7',
    undefined,
    undefined,
  );
  assert.deepEqual(pairs(head.headers), [
    ['X-Forwarded-Proto', 'https'],
    ['x-forwarded-for', '1.2.3.4, 10.0.0.7'],
    ['via', '1.1 edge, 1.1 sluice'],
  ]);
  assert.equal(head.hasHost, false);
});

test('a body is detected from content-length or chunked encoding', () => {
  assert.equal(requestHead(['Content-Length', '0'], undefined, undefined, undefined).hasBody, false);
  assert.equal(requestHead(['Content-Length', '12'], undefined, undefined, undefined).hasBody, true);
  const chunked = requestHead(['Transfer-Encoding', 'chunked'], undefined, undefined, undefined);
  assert.equal(chunked.hasBody, true);
  assert.deepEqual(chunked.headers.slice(0, 2), ['transfer-encoding', 'chunked']);
});

test('the sticky key comes from the header or the cookie', () => {
  assert.equal(requestHead(['X-User', 'u1'], undefined, 'x-user', undefined).stickyKey, 'u1');
  assert.equal(requestHead(['X-User', ''], undefined, 'x-user', undefined).stickyKey, undefined);
  assert.equal(requestHead(['Cookie', 'a=1; uid=u2; b=3'], undefined, undefined, 'uid').stickyKey, 'u2');
  assert.equal(requestHead(['Cookie', 'xuid=no'], undefined, undefined, 'uid').stickyKey, undefined);
});

test('cookieValue finds whole cookie names only', () => {
  assert.equal(cookieValue('uid=1', 'uid'), '1');
  assert.equal(cookieValue('auid=2; uid=3', 'uid'), '3');
  assert.equal(cookieValue('uidx=2', 'uid'), undefined);
  assert.equal(cookieValue('uid=', 'uid'), undefined);
});

test('response hop-by-hop headers are dropped', () => {
  assert.deepEqual(
    responseHeaders(['Content-Type', 'text/plain', 'Transfer-Encoding', 'chunked', 'Connection', 'close', 'X-A', '1']),
    ['Content-Type', 'text/plain', 'X-A', '1'],
  );
});
