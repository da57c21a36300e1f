/** A metric that counts questions (the SQuAD scores' `total`, `HasAns_total`, `NoAns_total`), not a rate. */
export function isCountMetric(name: string): boolean {
  return name === 'total' || name.endsWith('_total');
}

/**
 * Metrics as the log prints them: `name value`, comma-separated; rates and scores with four
 * decimals, counts as integers (`NoAns_total 16`, not `16.0000`).
 */
export function formatMetrics(metrics: Readonly<Record<string, number>>): string {
  return Object.entries(metrics)
    .map(([k, v]) => `${k} ${isCountMetric(k) ? String(Math.round(v)) : v.toFixed(4)}`)
    .join(', ');
}
