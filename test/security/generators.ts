/**
 * Seeded generators of hostile input for the security suite. Every test prints its seed; set
 * SECURITY_SEED to replay a failure exactly.
 */
import { seeded } from "../helpers/monitoring.js";

/** The seed of this run: SECURITY_SEED, else a fresh one. */
export const SEED = Number(process.env.SECURITY_SEED ?? Math.floor(Math.random() * 2 ** 31));

/** A seeded random source with the helpers the generators need. */
export class Gen {
  readonly #rand: () => number;
  constructor(seed: number) {
    this.#rand = seeded(seed);
  }
  next(): number {
    return this.#rand();
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.#rand() * (max - min + 1));
  }
  chance(p: number): boolean {
    return this.#rand() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.#rand() * items.length)] as T;
  }
  /** A short random string over a mixed alphabet (ASCII, mrkdwn, unicode, control characters). */
  word(max = 12): string {
    const alphabet = [
      ..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
      ..."-_.:;,!?*~`'\"<>|&@#$%^(){}[]/\\+= ",
      "é",
      "ß",
      "漢",
      "😀",
      "\u202e",
      "\u200b",
      "\t",
      "\n",
      "\u0000",
      "\ud800",
      "\udfff",
    ];
    let s = "";
    const n = this.int(0, max);
    for (let i = 0; i < n; i++) s += this.pick(alphabet);
    return s;
  }
  /** One hostile string: injections, mentions, huge, odd unicode, prototype keys, or random. */
  hostile(): string {
    const n = this.int(0, 2_000_000_000);
    const choices: (() => string)[] = [
      () => this.word(),
      () => this.word(60),
      () => "x".repeat(this.int(200, 5000)),
      () => "'; drop table incidents; --",
      () => "<!channel> <!here> <@U0MAYA> <#C0SBX00001>",
      () => "*bold* _it_ ~strike~ `code` ```block```",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal injection attempt, not a template
      () => "${process.env.SLACK_BOT_TOKEN}",
      () => "{{constructor.constructor('return process')()}}",
      () => "__proto__",
      () => "constructor",
      () => "prototype",
      () => "\u0000\u0001\u001f",
      () => "\ud800\udc00\ud800",
      () => "\u202eevil\u202c",
      () => "😀".repeat(this.int(1, 500)),
      () => String(n),
      () => String(-n),
      () => "NaN",
      () => "Infinity",
      () => "1e308",
      () => "9".repeat(40),
      () => "0x1f",
      () => `INC-${this.pick([0, 1, 2, 3, -1, 2 ** 31, 2 ** 53, n])}`,
      () => "../../etc/passwd",
      () => "%00%2e%2e%2f",
      () => JSON.stringify({ __proto__: { polluted: true }, incidentId: 1 }),
      () => "",
      () => " ".repeat(this.int(1, 50)),
    ];
    return this.pick(choices)();
  }
  /** A hostile value of any JSON type (for payload fields that should be strings or numbers). */
  value(depth = 0): unknown {
    const kinds = depth > 3 ? 6 : 9;
    switch (this.int(0, kinds - 1)) {
      case 0:
      case 1:
      case 2:
        return this.hostile();
      case 3:
        return this.pick([0, -1, 1, 1.5, 2 ** 31, 2 ** 53 + 1, -0, 1e308, Number.MAX_SAFE_INTEGER]);
      case 4:
        return this.pick([null, true, false]);
      case 5:
        return "";
      case 6:
        return Array.from({ length: this.int(0, 4) }, () => this.value(depth + 1));
      case 7: {
        const o: Record<string, unknown> = {};
        for (let i = this.int(0, 4); i > 0; i--)
          o[this.pick(["__proto__", "constructor", this.word(8)])] = this.value(depth + 1);
        return o;
      }
      default:
        return this.hostile();
    }
  }
}

/** `depth` levels of nested arrays as JSON text (built as text: JSON.stringify would recurse). */
export function deepJson(depth: number): string {
  return `${"[".repeat(depth)}1${"]".repeat(depth)}`;
}
