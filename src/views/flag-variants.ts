/**
 * What `GET /api/flags/:name/variants` answers: per sample of the flag guard (flags/variant-series.ts),
 * the requests and errors each variant got through the built-in proxy since the sample before,
 * and the contract's verdict on the judged window then. Columns, as the charts want them.
 */
export interface FlagVariantSeries {
  flag: string;
  environment: string;
  offVariant: string;
  /** A sample at most this often (a Fail always gets one). */
  sampleMs: number;
  /** How many samples are kept (the oldest go first). */
  capacity: number;
  at: number[];
  variants: {
    variant: string;
    requests: number[];
    errors: number[];
    /** The verdict on this variant against the off variant at each sample (null: not judged: no traffic, or the off variant). */
    outcome: ('Pass' | 'Fail' | 'Inconclusive' | null)[];
    reason: (string | null)[];
  }[];
}
