/**
 * A throwaway Postgres cluster for tests that stop and start the server. The machine's shared
 * Postgres (5432) must never be restarted by a test, so these tests get their own: `initdb` into a
 * temp dir, `pg_ctl` on a free port with its socket in that dir. As root the binaries run as the
 * `postgres` user (Postgres refuses to run as root).
 */
import { execFile } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "../helpers/process.js";

const run = promisify(execFile);

/** The newest Postgres server binaries on this machine, or undefined. */
export function postgresBinDir(): string | undefined {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, "bin", "pg_ctl")) && existsSync(join(root, v, "bin", "initdb")))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], "bin") : undefined;
}

/** Why the cluster tests cannot run here, or undefined when they can. */
export function clusterUnavailableReason(): string | undefined {
  if (!postgresBinDir()) return "no Postgres server binaries under /usr/lib/postgresql/*/bin";
  if (userInfo().uid === 0 && !existsSync("/usr/sbin/runuser") && !existsSync("/sbin/runuser"))
    return "running as root without runuser to drop to the postgres user";
  return undefined;
}

/** A running throwaway cluster. */
export interface PgCluster {
  port: number;
  /** Connection string for the `postgres` superuser (trust auth on loopback). */
  url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops the server (immediately) and deletes its files. */
  destroy(): Promise<void>;
}

/** `initdb` + `pg_ctl start` of a cluster on a free port; trust auth, no fsync (tests only). */
export async function startPgCluster(): Promise<PgCluster> {
  const bin = postgresBinDir();
  if (!bin) throw new Error(clusterUnavailableReason());
  const dir = mkdtempSync(join(tmpdir(), "mlops-pg-"));
  const asRoot = userInfo().uid === 0;
  if (asRoot) {
    const pg = await run("id", ["-u", "postgres"]);
    const gid = await run("id", ["-g", "postgres"]);
    chownSync(dir, Number(pg.stdout.trim()), Number(gid.stdout.trim()));
  }
  chmodSync(dir, 0o700);
  const exec = (tool: string, args: string[]) =>
    asRoot
      ? run("runuser", ["-u", "postgres", "--", join(bin, tool), ...args], { cwd: dir })
      : run(join(bin, tool), args, { cwd: dir });
  const data = join(dir, "data");
  await exec("initdb", ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"]);
  const port = await freePort();
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60`;
  const start = async () => {
    await exec("pg_ctl", ["start", "-D", data, "-w", "-t", "30", "-l", join(dir, "log"), "-o", options]);
  };
  const stop = async (mode = "fast") => {
    await exec("pg_ctl", ["stop", "-D", data, "-w", "-t", "30", "-m", mode]);
  };
  await start();
  return {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start,
    stop: () => stop(),
    async destroy() {
      await stop("immediate").catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
