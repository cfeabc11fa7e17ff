import { useState, useSyncExternalStore } from 'react';
import { auth, setToken, token } from '../api.ts';

export function useAuthRefused(): boolean {
  return useSyncExternalStore(auth.watch, auth.refused);
}

/**
 * Shown when the server answers 401: the API token is kept in this browser (localStorage) and sent
 * as "Authorization: Bearer" with every request, the event stream included.
 */
export function TokenForm() {
  const [value, setValue] = useState('');
  const had = token() !== null;
  return (
    <section className="panel" aria-labelledby="token-title" data-testid="token-form">
      <h1 id="token-title">{had ? 'That token was refused' : 'This server needs a token'}</h1>
      <p>
        Paste an API token (<code>sluice token create --role viewer</code>; a deployer token or above to send commands).
        The server's first admin token is in <code>&lt;data-dir&gt;/admin.token</code>.
      </p>
      <form onSubmit={(e) => (e.preventDefault(), setToken(value), location.reload())}>
        <label className="field">
          <span>Token</span>
          <input type="password" autoComplete="off" value={value} onChange={(e) => setValue(e.target.value)} required />
        </label>
        <button type="submit" className="primary">
          Use this token
        </button>
      </form>
    </section>
  );
}

export function SignOut() {
  if (token() === null) return null;
  return (
    <button type="button" className="link small" onClick={() => (setToken(null), location.reload())}>
      forget token
    </button>
  );
}
