import { useIdentity } from './identity.ts';
import { useConnection } from './live.ts';
import { SignOut, TokenForm, useAuthRefused } from './components/TokenForm.tsx';
import { GraphPage } from './pages/GraphPage.tsx';
import { AnalyticsPage } from './pages/AnalyticsPage.tsx';
import { DrillsPage } from './pages/DrillsPage.tsx';
import { FlagsPage } from './pages/FlagsPage.tsx';
import { Overview } from './pages/Overview.tsx';
import { ServicePage } from './pages/ServicePage.tsx';
import { Link, routeOf, usePath } from './router.tsx';

/** Who the commands will be recorded as: the token's name. */
function Identity() {
  const id = useIdentity();
  if (!id) return null;
  return (
    <span className="actor" data-testid="identity" title="your commands are recorded under this token's name">
      {id.name} <span className="badge phase">{id.role}</span>
    </span>
  );
}

function LiveDot() {
  const state = useConnection();
  const text = {
    live: 'live',
    offline: 'offline — reconnecting',
    'signed-out': 'sign in with a token',
    connecting: 'connecting',
  }[state];
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
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <Link href="/" className="brand">
          Sluice
        </Link>
        <nav aria-label="breadcrumb">{route.page === 'service' && <span className="crumb">/ {route.name}</span>}</nav>
        <Link href="/graph" className="nav-link">
          Graph
        </Link>
        <Link href="/analytics" className="nav-link">
          Analytics
        </Link>
        <Link href="/flags" className="nav-link">
          Flags
        </Link>
        <Link href="/drills" className="nav-link">
          Drills
        </Link>
        <span className="spacer" />
        <LiveDot />
        <Identity />
        <SignOut />
      </header>
      <main id="main" tabIndex={-1}>
        {refused && <TokenForm />}
        {!refused && route.page === 'overview' && <Overview />}
        {!refused && route.page === 'graph' && <GraphPage />}
        {!refused && route.page === 'analytics' && <AnalyticsPage />}
        {!refused && route.page === 'flags' && <FlagsPage />}
        {!refused && route.page === 'drills' && <DrillsPage drill={route.drill} run={route.run} />}
        {!refused && route.page === 'service' && (
          <ServicePage key={route.name} name={route.name} releaseNumber={route.release} />
        )}
        {!refused && route.page === 'missing' && (
          <section className="panel">
            <h1>Nothing at {route.path}</h1>
            <p>
              <Link href="/">Back to the overview</Link>
            </p>
          </section>
        )}
      </main>
    </>
  );
}
