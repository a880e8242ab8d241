import { readFileSync } from "node:fs";
import { cpus, release, totalmem } from "node:os";
import postgres from "postgres";

/** What the numbers were measured on. */
export interface MachineInfo {
  cpuModel: string;
  cores: number;
  totalMemoryGiB: number;
  node: string;
  os: string;
  postgres: string;
}

function readOr(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

/** CPU model from /proc/cpuinfo, core count, memory, Node, OS and the Postgres server version. */
export async function machineInfo(adminUrl: string): Promise<MachineInfo> {
  const cpuinfo = readOr("/proc/cpuinfo");
  const cpuModel = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? cpus()[0]?.model ?? "unknown";
  const processors = cpuinfo.match(/^processor\s*:/gm)?.length ?? cpus().length;
  const osRelease = /^PRETTY_NAME="?([^"\n]+)"?$/m.exec(readOr("/etc/os-release"))?.[1] ?? process.platform;
  let pg = "unreachable";
  const sql = postgres(adminUrl, { max: 1, connect_timeout: 5, onnotice: () => {} });
  try {
    const [row] = await sql<{ v: string }[]>`select current_setting('server_version') as v`;
    pg = `PostgreSQL ${row?.v ?? "?"}`;
  } catch (err) {
    pg = `unreachable (${(err as Error).message})`;
  } finally {
    await sql.end({ timeout: 2 });
  }
  return {
    cpuModel,
    cores: processors,
    totalMemoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    os: `${osRelease}, Linux ${release()}`,
    postgres: pg,
  };
}

/** One line for a section header. */
export function machineLine(m: MachineInfo): string {
  return `${m.cpuModel}, ${m.cores} cores, ${m.totalMemoryGiB} GiB, Node ${m.node}, ${m.postgres}`;
}
