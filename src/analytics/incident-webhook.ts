import { z } from 'zod';
import { type ImportRecord, type LineError, readImportLine } from '../core/analytics/import-lines.ts';

/** Alertmanager's webhook (version 4): each alert with a `service` label is an incident; its fingerprint is the id. */
const alertmanagerBody = z.object({
  version: z.string().optional(),
  alerts: z
    .array(
      z.object({
        status: z.enum(['firing', 'resolved']),
        labels: z.record(z.string(), z.string()),
        startsAt: z.string(),
        endsAt: z.string().optional(),
        fingerprint: z.string().min(1),
      }),
    )
    .max(10_000),
});

/**
 * Incidents posted by an alerting tool: Alertmanager's webhook body, or incident lines of the import
 * format (one object, or `{"incidents": [...]}`). An alert without a `service` label is refused with
 * its index; the others are still taken.
 */
export function incidentsFromWebhook(body: unknown): { records: ImportRecord[]; errors: LineError[] } {
  const records: ImportRecord[] = [];
  const errors: LineError[] = [];
  const take = (value: unknown, index: number) => {
    const r = readImportLine(value);
    if (typeof r === 'string') errors.push({ line: index, message: r });
    else if (r.type !== 'incident')
      errors.push({
        line: index,
        message: `type "${r.type}": this webhook takes incidents only; import other lines with POST /api/analytics/import`,
      });
    else records.push(r);
  };
  const am = alertmanagerBody.safeParse(body);
  if (am.success) {
    am.data.alerts.forEach((a, i) => {
      const service = a.labels.service;
      if (service === undefined) {
        errors.push({
          line: i + 1,
          message: `alerts[${i}] (${a.labels.alertname ?? a.fingerprint}) has no "service" label; add one in the alert rule so the incident is counted against its service`,
        });
        return;
      }
      const resolved = a.status === 'resolved' && a.endsAt !== undefined && !a.endsAt.startsWith('0001-');
      take(
        {
          type: 'incident',
          id: `alertmanager:${a.fingerprint}:${a.startsAt}`,
          service,
          ...(a.labels.environment !== undefined && { environment: a.labels.environment }),
          openedAt: a.startsAt,
          resolvedAt: resolved ? a.endsAt : null,
        },
        i + 1,
      );
    });
    return { records, errors };
  }
  const list = (body as { incidents?: unknown } | null)?.incidents;
  if (Array.isArray(list)) list.forEach((x, i) => take({ type: 'incident', ...(x as object) }, i + 1));
  else take({ type: 'incident', ...(body as object) }, 1);
  return { records, errors };
}
