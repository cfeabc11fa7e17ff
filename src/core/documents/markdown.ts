/** Markdown of a document's sections: a string is a paragraph, a list of strings a bullet list, a list of records a table, a record a definition list. */
export function sectionsMarkdown(
  title: string,
  sections: readonly { heading: string; body: unknown }[],
  footer: string,
): string {
  const out = [`# ${title}`, ''];
  for (const s of sections) {
    out.push(`## ${s.heading}`, '', ...block(s.body), '');
  }
  out.push(`_${footer}_`, '');
  return out.join('\n');
}

const cell = (v: unknown) =>
  (v === null || v === undefined ? '' : String(typeof v === 'object' ? JSON.stringify(v) : v))
    .replace(/\|/g, '\\|')
    .replace(/\n/g, ' ');

function block(body: unknown): string[] {
  if (typeof body === 'string') return [body];
  if (Array.isArray(body)) {
    if (body.length === 0) return ['(none)'];
    if (body.every((x) => typeof x === 'string')) return body.map((x) => `- ${x as string}`);
    const rows = body as Record<string, unknown>[];
    const keys = [...new Set(rows.flatMap((r) => Object.keys(r)))];
    return [
      `| ${keys.join(' | ')} |`,
      `| ${keys.map(() => '---').join(' | ')} |`,
      ...rows.map((r) => `| ${keys.map((k) => cell(r[k])).join(' | ')} |`),
    ];
  }
  if (body !== null && typeof body === 'object') return Object.entries(body).map(([k, v]) => `- **${k}**: ${cell(v)}`);
  return [cell(body)];
}
