/**
 * nginx.conf for one service, as a pure function of the route table: one weighted upstream
 * (smooth weighted round-robin), a `hash … consistent` upstream for requests that carry the
 * sticky key, one upstream per cohort route chosen through a `map`, and a status server on a unix
 * socket that answers the config generation (how the router sees that a reload took effect).
 */
import { HEARTBEAT_PATH, nginxLogFormat, sourceName } from '../../access-log.ts';
import type { HeaderRoute, RouteTable } from '../../types.ts';

export interface NginxPaths {
  dir: string;
  pid: string;
  errorLog: string;
  statusSocket: string;
}

export interface NginxSettings {
  listen: string;
  stickiness: { header?: string; cookie?: string } | undefined;
  upstreamTimeoutMs: number;
  workers: number | 'auto';
  /** Where nginx sends one line per request (syslog over UDP), or absent. */
  accessLog?: string | undefined;
}

/** The name nginx writes in its log lines: its listen address. */
export const logSource = (listen: string) => sourceName(`nginx-${listen}`);

export const SAFE_HEADER = /^[A-Za-z0-9-]+$/;
export const SAFE_COOKIE = /^[A-Za-z0-9_]+$/;
export const SAFE_VALUE = /^[A-Za-z0-9_.~:@+=/!*-]+$/;

/** The nginx variable holding a request header or cookie. */
function variable(match: { header: string } | { cookie: string }): string {
  return 'header' in match ? `$http_${match.header.toLowerCase().replaceAll('-', '_')}` : `$cookie_${match.cookie}`;
}

/** Exact-match regex for a map entry (plain map strings match case-insensitively). */
const exactly = (value: string) => `"~^${value.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$"`;

function hostPort(url: string): string {
  const u = new URL(url);
  if (u.pathname !== '/' || u.search !== '') throw new Error(`endpoint ${url}: the nginx router cannot add a path prefix`);
  return `${u.hostname}:${u.port === '' ? 80 : u.port}`;
}

/** One server line per endpoint of the backends with weight; `units` turns percent per endpoint into an nginx weight. */
function servers(table: RouteTable, units: number): string[] {
  const out: string[] = [];
  for (const b of table.backends) {
    if (b.weight <= 0) continue;
    const weight = Math.max(1, Math.round((b.weight * units) / b.endpoints.length));
    // max_fails=0: a failing endpoint stays in rotation, so its errors count against its revision.
    for (const url of b.endpoints) out.push(`    server ${hostPort(url)} weight=${weight} max_fails=0;`);
  }
  return out;
}

function upstream(name: string, lines: string[], extra: string[] = []): string[] {
  return [`  upstream ${name} {`, ...extra, ...lines, '    keepalive 64;', '  }'];
}

export function renderNginxConfig(table: RouteTable, s: NginxSettings, paths: NginxPaths, generation: number): string {
  const routes: HeaderRoute[] = table.routes ?? [];
  const tmp = (name: string) => `${paths.dir}/tmp/${name}`;
  const lines = [
    '# Written by Sluice (nginx router). Edits are overwritten on the next apply.',
    'daemon off;',
    `worker_processes ${s.workers};`,
    `pid ${paths.pid};`,
    `error_log ${paths.errorLog} warn;`,
    'events { worker_connections 4096; }',
    'http {',
    '  access_log off;',
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((k) => `  ${k}_temp_path ${tmp(k)};`),
    // Units of 0.01% for round-robin; whole percents for the hash ring (160 points per unit).
    ...upstream('sluice_weighted', servers(table, 100)),
  ];
  let pick = 'sluice_weighted';
  if (s.stickiness !== undefined) {
    const key = variable(s.stickiness.header !== undefined ? { header: s.stickiness.header } : { cookie: s.stickiness.cookie! });
    lines.push(...upstream('sluice_sticky', servers(table, 1), [`    hash ${key} consistent;`]));
    // Requests without the key are spread by weight, as in the built-in proxy.
    lines.push(`  map ${key} $sluice_pick {`, '    "" sluice_weighted;', '    default sluice_sticky;', '  }');
    pick = '$sluice_pick';
  }
  routes.forEach((r, i) => {
    const backend = table.backends.find((b) => b.key === r.key)!;
    lines.push(...upstream(`sluice_route_${i}`, backend.endpoints.map((url) => `    server ${hostPort(url)} max_fails=0;`)));
    lines.push(`  map ${variable(r.match)} $sluice_r${i} {`, '    default "";', `    ${exactly(r.match.value)} sluice_route_${i};`, '  }');
  });
  const timeout = `${Math.max(1, Math.round(s.upstreamTimeoutMs))}ms`;
  if (s.accessLog !== undefined) lines.push(`  log_format sluice_stream '${nginxLogFormat(logSource(s.listen))}';`);
  lines.push(
    '  server {',
    `    listen ${s.listen};`,
    // One line per request to Sluice's receiver (the access-log metrics provider), and a heartbeat
    // nginx answers itself, so the receiver tells a silent stream from an idle service.
    ...(s.accessLog === undefined
      ? []
      : [`    access_log syslog:server=${s.accessLog},nohostname,tag=sluice sluice_stream;`, `    location = ${HEARTBEAT_PATH} { return 204; }`]),
    '    location / {',
    `      set $sluice_target ${pick};`,
    // Checked last to first, so the first matching route wins.
    ...routes.map((_, i) => `      if ($sluice_r${i} != "") { set $sluice_target $sluice_r${i}; }`).reverse(),
    '      proxy_pass http://$sluice_target;',
    '      proxy_http_version 1.1;',
    '      proxy_set_header Connection "";',
    '      proxy_set_header Host $http_host;',
    '      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
    '      proxy_set_header X-Forwarded-Proto $scheme;',
    `      proxy_read_timeout ${timeout};`,
    `      proxy_send_timeout ${timeout};`,
    '      proxy_buffering off;',
    '    }',
    '  }',
    '  server {',
    `    listen unix:${paths.statusSocket};`,
    `    location = /generation { return 200 "${generation}\\n"; }`,
    '  }',
    '}',
  );
  return `${lines.join('\n')}\n`;
}
