import { useState } from 'react';
import { actor, setActor } from './api.ts';
import { useConnection } from './live.ts';
import { SignOut, TokenForm, useAuthRefused } from './components/TokenForm.tsx';
import { Overview } from './pages/Overview.tsx';
import { ServicePage } from './pages/ServicePage.tsx';
import { Link, routeOf, usePath } from './router.tsx';

function ActorField() {
  const [name, setName] = useState(actor());
  return (
    <label className="actor" title="Recorded as the actor of the commands you send (X-Sluice-Actor)">
      <span>acting as</span>
      <input value={name} size={10} onChange={(e) => setName(e.target.value)} onBlur={() => setActor(name)} aria-label="your name, recorded with your commands" />
    </label>
  );
}

function LiveDot() {
  const state = useConnection();
  const text = state === 'live' ? 'live' : state === 'offline' ? 'offline — reconnecting' : 'connecting';
  return (
    <span className={`live live-${state}`} role="status" data-testid="connection">
      <span className="dot" aria-hidden="true" />
      {text}
    </span>
  );
}

export function App() {
  const route = routeOf(usePath());
  const refused = useAuthRefused();
  return (
    <>
      <a className="skip" href="#main">Skip to content</a>
      <header className="top">
        <Link href="/" className="brand">Sluice</Link>
        <nav aria-label="breadcrumb">{route.page === 'service' && <span className="crumb">/ {route.name}</span>}</nav>
        <span className="spacer" />
        <LiveDot />
        <ActorField />
        <SignOut />
      </header>
      <main id="main" tabIndex={-1}>
        {refused && <TokenForm />}
        {!refused && route.page === 'overview' && <Overview />}
        {!refused && route.page === 'service' && <ServicePage key={route.name} name={route.name} releaseNumber={route.release} />}
        {!refused && route.page === 'missing' && (
          <section className="panel">
            <h1>Nothing at {route.path}</h1>
            <p><Link href="/">Back to the overview</Link></p>
          </section>
        )}
      </main>
    </>
  );
}
