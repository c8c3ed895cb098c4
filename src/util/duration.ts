/** Go/Kubernetes duration strings ("1h30m", "500ms", "2.5s"), parsed strictly. */

const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const SEGMENT = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/y;

export class DurationError extends Error {
  constructor(input: string) {
    super(`invalid duration ${JSON.stringify(input)}: expected a Go duration such as "500ms", "30s", "5m" or "1h30m"`);
    this.name = 'DurationError';
  }
}

/** Parses a duration into milliseconds; "0" is accepted as Go accepts it. Throws DurationError. */
export function parseDuration(input: string): number {
  if (input === '0') return 0;
  if (input.length === 0) throw new DurationError(input);
  SEGMENT.lastIndex = 0;
  let total = 0;
  let pos = 0;
  while (pos < input.length) {
    SEGMENT.lastIndex = pos;
    const m = SEGMENT.exec(input);
    if (m === null) throw new DurationError(input);
    const unit = UNIT_MS[m[2] as string] as number;
    total += Number(m[1]) * unit;
    pos = SEGMENT.lastIndex;
  }
  return total;
}
