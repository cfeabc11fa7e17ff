import assert from 'node:assert/strict';
import { test } from 'node:test';
import { childEnv, redactSecrets, rememberSecret, scrubSecrets } from './secrets.ts';

test('a stored literal secret shows as [redacted]: secret fields, credential headers, secret-named env', () => {
  const spec = {
    spec: {
      target: { env: { DB_PASSWORD: 'hunter22', COLOR: 'blue' } },
      metrics: { headers: { Authorization: 'Bearer x', 'X-Team': 'a' } },
      notifications: [{ driver: 'webhook', secret: 'whsec' }],
    },
  };
  assert.deepEqual(redactSecrets(spec), {
    spec: {
      target: { env: { DB_PASSWORD: '[redacted]', COLOR: 'blue' } },
      metrics: { headers: { Authorization: '[redacted]', 'X-Team': 'a' } },
      notifications: [{ driver: 'webhook', secret: '[redacted]' }],
    },
  });
});

test('remembered secrets and secret-named server variables are scrubbed from output', () => {
  rememberSecret('tok_abcdef123');
  process.env.SLUICE_UNIT_API_KEY = 'key-987654';
  try {
    assert.equal(scrubSecrets('a tok_abcdef123 b key-987654 c'), 'a [secret] b [secret] c');
  } finally {
    delete process.env.SLUICE_UNIT_API_KEY;
  }
});

test('a child inherits PATH, HOME, LANG, TZ only, then what it is given', () => {
  process.env.SLUICE_UNIT_OTHER = 'x';
  try {
    const env = childEnv({ PORT: '1' });
    assert.equal(env.SLUICE_UNIT_OTHER, undefined);
    assert.equal(env.PORT, '1');
    assert.equal(env.PATH, process.env.PATH);
  } finally {
    delete process.env.SLUICE_UNIT_OTHER;
  }
});
