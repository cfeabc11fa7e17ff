/** What `POST /api/apply` answers for each Service in the text: what `sluice apply` prints. */
export interface ApplyResult {
  service: string;
  /** created: first revision deployed; released: a release started; waiting: it starts when its release window opens; configured: non-template change; unchanged. */
  action: 'created' | 'released' | 'waiting' | 'configured' | 'unchanged';
  revision: string;
  version: string;
  message: string;
  /** Whether each step can show a healthy canary in time at the contract's expectedRps (`sluice lint`'s check). */
  warnings?: string[];
  /** The release waits for these dependencies to run a version in range (the API answers 202). */
  heldBy?: { service: string; range: string; running: string | null }[];
}
