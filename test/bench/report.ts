import type { MachineInfo } from "./machine.js";
import type { Section, TargetRow } from "./types.js";

const OPEN = /<!-- bench-section (\S+) (\{.*?\}) -->\n/g;

/** A section as stored in BENCHMARKS.md: its metadata (for the summary) and its markdown verbatim. */
export interface StoredSection {
  id: string;
  meta: Pick<Section, "title" | "measuredAt" | "machine" | "rows">;
  markdown: string;
}

/** JSON that can sit inside an HTML comment. */
function commentJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c").replace(/>/g, "\\u003e").replace(/--/g, "-\\u002d");
}

function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

function metCell(met: boolean | null): string {
  return met === null ? "— (reported)" : met ? "yes" : "**no**";
}

export function targetTable(rows: TargetRow[]): string {
  return [
    "| target | measured | baseline (same run) | met? |",
    "|---|---|---|---|",
    ...rows.map(
      (r) => `| ${cell(r.target)} | ${cell(r.measured)} | ${cell(r.baseline)} | ${metCell(r.met)} |`,
    ),
  ].join("\n");
}

export function renderSection(s: Section): StoredSection {
  const meta = { title: s.title, measuredAt: s.measuredAt, machine: s.machine, rows: s.rows };
  const markdown = [
    `<!-- bench-section ${s.id} ${commentJson(meta)} -->`,
    `## ${s.title}`,
    "",
    `_Bench \`${s.id}\`, measured ${s.measuredAt} on ${s.machine}._`,
    "",
    targetTable(s.rows),
    "",
    s.body.trim(),
    `<!-- /bench-section ${s.id} -->`,
  ].join("\n");
  return { id: s.id, meta, markdown };
}

/** The sections of an existing BENCHMARKS.md, in file order. */
export function parseSections(md: string): StoredSection[] {
  const out: StoredSection[] = [];
  for (const match of md.matchAll(OPEN)) {
    const id = match[1] as string;
    const end = md.indexOf(`<!-- /bench-section ${id} -->`, match.index);
    if (end < 0) continue;
    try {
      const meta = JSON.parse(match[2] as string) as StoredSection["meta"];
      out.push({ id, meta, markdown: md.slice(match.index, end + `<!-- /bench-section ${id} -->`.length) });
    } catch {
      // A hand-damaged marker: drop that section rather than the whole file.
    }
  }
  return out;
}

/** The whole file: header, machine, summary of every section, then the sections. */
export function renderFile(args: {
  writtenAt: string;
  ran: string[];
  all: string[];
  machine: MachineInfo;
  sections: StoredSection[];
}): string {
  const { machine: m } = args;
  const summaryRows = args.sections.flatMap((s) =>
    s.meta.rows.map((r) => ({ ...r, target: `${r.target} ([${s.id}](#${anchor(s.meta.title)}))` })),
  );
  const kept = args.sections.filter((s) => !args.ran.includes(s.id)).map((s) => s.id);
  return `# Benchmarks

Written by \`npm run bench\` ([\`test/bench/run.ts\`](test/bench/run.ts)); do not edit by hand.
\`npm run bench\` runs every bench (${args.all.map((n) => `\`${n}\``).join(", ")}) and rewrites the whole
file. \`npm run bench -- <name>…\` runs only the named benches and replaces only their sections,
keeping the others as they were; every section therefore says when and on what it was measured.
The process exits non-zero only when a bench could not be measured, not when a target is missed.

- **Last written:** ${args.writtenAt} (benches run this time: ${args.ran.map((n) => `\`${n}\``).join(", ")}${kept.length ? `; kept from earlier runs: ${kept.map((n) => `\`${n}\``).join(", ")}` : ""})
- **CPU:** ${m.cpuModel} (from /proc/cpuinfo), **${m.cores} cores**
- **Memory:** ${m.totalMemoryGiB} GiB
- **Node:** ${m.node}
- **OS:** ${m.os}
- **Database:** ${m.postgres} on 127.0.0.1 (same machine)

With ${m.cores} cores, the process under test, the load generator and the bench harness share the
same CPUs: latencies include that contention, for the bot and its baseline alike. Sizes are in
MB = 10^6 bytes.

## Summary

${targetTable(summaryRows)}
${missedList(summaryRows)}
${args.sections.map((s) => s.markdown).join("\n\n")}
`;
}

/** The missed targets with their reason and what would fix it, or nothing when all were met. */
function missedList(rows: TargetRow[]): string {
  const missed = rows.filter((r) => r.met === false);
  if (!missed.length) return "";
  return `\n### Targets missed, why, and what would fix them\n\n${missed
    .map((r) => `- **${r.target}**: ${r.missed ?? "no reason recorded by the bench."}`)
    .join("\n")}\n`;
}

/** GitHub's heading anchor. */
function anchor(title: string): string {
  return title
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s-]/gu, "")
    .trim()
    .replace(/\s/g, "-");
}
