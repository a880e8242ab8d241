/** Formats microseconds since the epoch as a Slack `ts`: seconds, a dot, six digits. */
export function formatTs(micros: number): string {
  const seconds = Math.floor(micros / 1_000_000);
  const fraction = micros - seconds * 1_000_000;
  return `${seconds}.${String(fraction).padStart(6, "0")}`;
}

/** Builds a generator of strictly increasing Slack `ts` strings, unique even within one millisecond. */
export function createTsClock(clock: () => number): () => string {
  let last = 0;
  return () => {
    let micros = Math.floor(clock() * 1000);
    if (micros <= last) micros = last + 1;
    last = micros;
    return formatTs(micros);
  };
}

/** Compares two Slack `ts` strings chronologically. */
export function compareTs(a: string, b: string): number {
  const [as = "0", af = "0"] = a.split(".");
  const [bs = "0", bf = "0"] = b.split(".");
  return Number(as) - Number(bs) || Number(af.padEnd(6, "0")) - Number(bf.padEnd(6, "0"));
}
