/** A Service spec with environments (staging → production) for the example service, and the calls the governance tests make. */
import { SERVICE_SCRIPT, type SluiceServer } from './sluice.ts';

export interface EnvSpecOptions {
  name?: string;
  version: string;
  stagingPort: number;
  productionPort: number;
  labels?: Record<string, string>;
  risk?: string;
  minSoak?: string;
  approvals?: number;
  /** Extra YAML lines under the production environment (indented 6 spaces). */
  production?: string[];
  contractBy?: string;
  /** The contract's window (default: the schema's 30s). */
  contractWindow?: string;
}

export function envSpec(o: EnvSpecOptions): string {
  const labels = Object.entries(o.labels ?? {})
    .map(([k, v]) => `${k}: ${v}`)
    .join(', ');
  return `apiVersion: sluice.dev/v1alpha1
kind: Service
metadata:
  name: ${o.name ?? 'shop'}
  labels: { ${labels} }
spec:
  version: "${o.version}"
${o.risk ? `  risk: ${o.risk}\n` : ''}  target:
    driver: process
    command: ["node", "${SERVICE_SCRIPT}"]
    readiness: { path: /healthz, timeout: 10s }
    instances: 1
  router:
    driver: builtin
    listen: 127.0.0.1:${o.stagingPort}
  strategy:
    canary:
      steps:
        - setWeight: 50
        - pause: {}
  rollbackContract:
    interval: 250ms
    minSamples: 20
${o.contractWindow ? `    window: ${o.contractWindow}\n` : ''}    rules:
      - { metric: error_rate, failIf: { above: baseline, by: ${o.contractBy ?? '0.02'} } }
  environments:
    - name: staging
    - name: production
      router: { listen: 127.0.0.1:${o.productionPort} }
${o.minSoak ? `      minSoak: ${o.minSoak}\n` : ''}${o.approvals !== undefined ? `      approvals: { required: ${o.approvals}, role: approver }\n` : ''}${(o.production ?? []).map((l) => `      ${l}\n`).join('')}`;
}

export interface GateView {
  gate: string;
  outcome: string;
  detail: string;
  evidence: Record<string, unknown>;
}
export interface PlanView {
  id: string;
  environment: string;
  version: string;
  status: string;
  detail: string;
  requestedBy: string;
  release: { service: string; id: string } | null;
  gates: GateView[];
}
export interface PlanAnswer {
  outcome: 'started' | 'waiting' | 'refused';
  plan: PlanView;
  postmortem?: string;
}
export interface ErrorAnswer {
  error: { code: string; message: string; detail?: PlanAnswer };
}

/** A POST with a chosen token (the harness's api() always sends the admin token). */
export async function callAs<T>(
  server: SluiceServer,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(20_000),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
}

export const gate = (a: PlanAnswer | undefined, name: string) => a?.plan.gates.find((g) => g.gate === name);
