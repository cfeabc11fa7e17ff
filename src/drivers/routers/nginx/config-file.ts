/**
 * nginx.conf for one service, as a pure function of the route table's backends and routes: one
 * upstream per backend, the backend picked per request from the weight table on disk
 * (weight-table.ts: `split_clients` buckets, `if (-f …)`), one upstream per cohort route chosen
 * through a `map`, and a status server on a unix socket that answers the config generation (how
 * the router sees that a reload took effect). Weights are not in the config: changing them is no reload.
 */
import { HEARTBEAT_PATH, nginxLogFormat, sourceName } from '../../access-log.ts';
import type { HeaderRoute, RouteTable } from '../types.ts';
import { BUCKETS, defaultBackend } from './weight-table.ts';

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
  if (u.pathname !== '/' || u.search !== '')
    throw new Error(`endpoint ${url}: the nginx router cannot add a path prefix`);
  return `${u.hostname}:${u.port === '' ? 80 : u.port}`;
}

function upstream(name: string, lines: string[], extra: string[] = []): string[] {
  return [`  upstream ${name} {`, ...extra, ...lines, '    keepalive 64;', '  }'];
}

/** One bucket per 0.1% of requests (weight-table.ts): 999 of 0.1%, and the rest. */
function buckets(key: string): string[] {
  const lines = [`  split_clients "${key}" $sluice_bucket {`];
  for (let k = 0; k < BUCKETS - 1; k++) lines.push(`    0.1% "${k}";`);
  lines.push(`    * "${BUCKETS - 1}";`, '  }');
  return lines;
}

/**
 * The config serves the table's backends and routes; the weights are not in it but in the weight
 * table under `weightsDir` (weight-table.ts), so a weight change needs no reload.
 */
export function renderNginxConfig(
  table: RouteTable,
  s: NginxSettings,
  paths: NginxPaths,
  generation: number,
  weightsDir: string,
): string {
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
  ];
  let splitKey = '${request_id}';
  const hash: string[] = [];
  if (s.stickiness !== undefined) {
    const key = variable(
      s.stickiness.header !== undefined ? { header: s.stickiness.header } : { cookie: s.stickiness.cookie! },
    );
    // Requests without the key are spread by weight, as in the built-in proxy.
    lines.push(`  map ${key} $sluice_split_key {`, '    "" $request_id;', `    default ${key};`, '  }');
    splitKey = '${sluice_split_key}';
    hash.push('    hash $sluice_split_key consistent;');
  }
  lines.push(...buckets(splitKey));
  table.backends.forEach((b, i) => {
    if (b.endpoints.length === 0) return;
    const own = b.endpoints.map((url) => `    server ${hostPort(url)} max_fails=0;`);
    // A refused connection is retried on the other revisions' endpoints, as one upstream did before
    // (nginx allows backup servers with round-robin only, not with hash).
    const others =
      hash.length > 0
        ? []
        : [...new Set(table.backends.flatMap((o, j) => (j === i ? [] : o.endpoints.map(hostPort))))].filter(
            (a) => !b.endpoints.map(hostPort).includes(a),
          );
    lines.push(
      ...upstream(`sluice_b${i}`, [...own, ...others.map((a) => `    server ${a} max_fails=0 backup;`)], hash),
    );
  });
  const fallback = defaultBackend(table);
  const pick = [
    `      set $sluice_target sluice_b${fallback};`,
    ...table.backends.flatMap((b, i) =>
      i === fallback || b.endpoints.length === 0
        ? []
        : [`      if (-f ${weightsDir}/${i}/$sluice_bucket) { set $sluice_target sluice_b${i}; }`],
    ),
  ];
  routes.forEach((r, i) => {
    const backend = table.backends.find((b) => b.key === r.key)!;
    lines.push(
      ...upstream(
        `sluice_route_${i}`,
        backend.endpoints.map((url) => `    server ${hostPort(url)} max_fails=0;`),
      ),
    );
    lines.push(
      `  map ${variable(r.match)} $sluice_r${i} {`,
      '    default "";',
      `    ${exactly(r.match.value)} sluice_route_${i};`,
      '  }',
    );
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
      : [
          `    access_log syslog:server=${s.accessLog},nohostname,tag=sluice sluice_stream;`,
          `    location = ${HEARTBEAT_PATH} { return 204; }`,
        ]),
    '    location / {',
    ...pick,
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
