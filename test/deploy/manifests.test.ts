/**
 * The deployment files (Dockerfile, compose.yaml, deploy/kubernetes/) checked against the code they
 * deploy: CI cannot build the image or reach a cluster, so this is what keeps them honest. Every
 * variable they set is one the bot reads, every probe path answers 200 on a running bot, no
 * credential is written into a manifest, and the image runs as a non-root user with node as PID 1.
 */
import { readFileSync } from "node:fs";
import { basename, dirname, posix } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import type { Bot } from "../../src/bot.js";
import { envSchema } from "../../src/config/env.js";
import { parseConfig } from "../../src/config/index.js";
import { loadRunbooks } from "../../src/runbooks/index.js";
import { startTestBot } from "../helpers/bot.js";

const root = new URL("../../", import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), "utf8");
const K8S = "deploy/kubernetes/";

/** Every variable the bot reads (src/config/env.ts). */
const KNOWN_ENV = Object.keys(envSchema.shape);
/** Names that hold credentials: these never appear as a literal value in a manifest. */
const SECRET_NAME = /TOKEN|SECRET|DATABASE_URL/;
/** The port the bot listens on when PORT is unset. */
const DEFAULT_PORT = envSchema.shape.PORT.parse(undefined);

// --- Dockerfile -----------------------------------------------------------------------------

interface Instruction {
  op: string;
  args: string;
}

/** The Dockerfile's instructions, continuation lines joined, comments dropped, grouped by stage. */
function dockerStages(text: string): Instruction[][] {
  const lines = text.replace(/\\\r?\n/g, " ").split(/\r?\n/);
  const stages: Instruction[][] = [];
  for (const line of lines) {
    const trimmed = line.trim();
    if (!trimmed || trimmed.startsWith("#")) continue;
    const match = /^(\S+)\s*(.*)$/.exec(trimmed);
    if (!match) continue;
    const instruction = { op: (match[1] as string).toUpperCase(), args: (match[2] as string).trim() };
    if (instruction.op === "FROM") stages.push([]);
    const stage = stages.at(-1);
    if (!stage) throw new Error(`Dockerfile: ${instruction.op} before the first FROM`);
    stage.push(instruction);
  }
  return stages;
}

/** The variables an ENV instruction sets: `ENV A=1 B="x y"` or the legacy `ENV A value`. */
function envNames(args: string): string[] {
  const first = args.split(/\s+/)[0] ?? "";
  if (!first.includes("=")) return [first];
  return [...args.matchAll(/([^\s=]+)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)/g)].map((m) => m[1] as string);
}

/** The value an ENV instruction gives `name`, quotes removed. */
function envValue(args: string, name: string): string | undefined {
  for (const m of args.matchAll(/([^\s=]+)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)/g))
    if (m[1] === name) return (m[2] as string).replace(/^["']|["']$/g, "");
  return undefined;
}

/** An exec-form (JSON array) CMD, ENTRYPOINT or HEALTHCHECK CMD; undefined for the shell form. */
function execForm(args: string): string[] | undefined {
  try {
    const value: unknown = JSON.parse(args);
    return Array.isArray(value) && value.every((v) => typeof v === "string") ? value : undefined;
  } catch {
    return undefined;
  }
}

const dockerfile = dockerStages(read("Dockerfile"));
const runtime = dockerfile.at(-1) ?? [];
const build = dockerfile.slice(0, -1);
const ops = (stage: Instruction[], op: string) => stage.filter((i) => i.op === op);

function healthcheckCommand(): string[] {
  const [healthcheck] = ops(runtime, "HEALTHCHECK");
  if (!healthcheck) throw new Error("the runtime stage has no HEALTHCHECK");
  const cmd = /(?:^|\s)CMD\s+(.*)$/.exec(healthcheck.args)?.[1];
  if (!cmd) throw new Error(`HEALTHCHECK without CMD: ${healthcheck.args}`);
  return execForm(cmd) ?? [cmd];
}

/** The URL paths the HEALTHCHECK requests: string literals in its command that start with '/'. */
function healthcheckPaths(): string[] {
  return healthcheckCommand().flatMap((part) =>
    [...part.matchAll(/(['"`])(\/[^'"`]*)\1/g)].map((m) => m[2] as string),
  );
}

// --- compose.yaml ---------------------------------------------------------------------------

interface ComposeService {
  build?: unknown;
  image?: string;
  environment?: Record<string, string | null> | string[];
  depends_on?: Record<string, { condition?: string }> | string[];
  healthcheck?: { test?: string | string[] };
  volumes?: string[];
}
const compose = parse(read("compose.yaml")) as {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
};

/** The compose services built from this repository (the bot), by name. */
function botServices(): [string, ComposeService][] {
  return Object.entries(compose.services).filter(([, s]) => s.build !== undefined);
}

/** A service's environment as name → value (`null` for a pass-through name without a value). */
function composeEnv(service: ComposeService): Record<string, string | null> {
  const env = service.environment ?? {};
  if (!Array.isArray(env)) return env;
  return Object.fromEntries(
    env.map((entry) => {
      const at = entry.indexOf("=");
      return at < 0 ? [entry, null] : [entry.slice(0, at), entry.slice(at + 1)];
    }),
  );
}

// --- Kubernetes -----------------------------------------------------------------------------

interface HttpProbe {
  httpGet?: { path?: string; port?: number | string };
}
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean } };
}
interface Container {
  name: string;
  image?: string;
  ports?: { name?: string; containerPort: number }[];
  env?: EnvVar[];
  envFrom?: unknown[];
  readinessProbe?: HttpProbe;
  livenessProbe?: HttpProbe;
  startupProbe?: HttpProbe;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; readOnlyRootFilesystem?: boolean };
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}
interface PodSpec {
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
  containers: Container[];
  initContainers?: Container[];
  volumes?: { name: string; configMap?: { name: string }; emptyDir?: unknown; secret?: unknown }[];
}
interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  stringData?: Record<string, string>;
  data?: Record<string, string>;
}
interface Kustomization {
  resources?: string[];
  configMapGenerator?: { name: string; files?: string[] }[];
}

const kustomization = parse(read(`${K8S}kustomization.yaml`)) as Kustomization;

/** Every document of every resource the kustomization lists. */
function k8sResources(): Manifest[] {
  return (kustomization.resources ?? []).flatMap((file) =>
    parseAllDocuments(read(`${K8S}${file}`)).map((doc) => {
      if (doc.errors.length) throw new Error(`${file}: ${doc.errors[0]?.message}`);
      return doc.toJS() as Manifest;
    }),
  );
}

interface Deployment {
  replicas: number;
  labels: Record<string, string>;
  pod: PodSpec;
}

function deployment(): Deployment {
  const found = k8sResources().filter((m) => m.kind === "Deployment");
  expect(found, "one Deployment in the kustomization").toHaveLength(1);
  const spec = found[0]?.spec as {
    replicas: number;
    template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
  };
  return { replicas: spec.replicas, labels: spec.template.metadata.labels, pod: spec.template.spec };
}

/** The bot's container (the Deployment's only one). */
function botContainer(): Container {
  const containers = deployment().pod.containers;
  expect(containers).toHaveLength(1);
  return containers[0] as Container;
}

const probes = (c: Container) =>
  [c.readinessProbe, c.livenessProbe, c.startupProbe].filter((p): p is HttpProbe => p !== undefined);

const secretExample = () => parse(read(`${K8S}secret.example.yaml`)) as Manifest;

// --- the tests ------------------------------------------------------------------------------

describe("every variable the deployment files set is one the bot reads (src/config/env.ts)", () => {
  it("the Dockerfile's ENV lines", () => {
    const names = dockerfile.flat().flatMap((i) => (i.op === "ENV" ? envNames(i.args) : []));
    expect(names.length).toBeGreaterThan(0);
    // NODE_ENV is read by node and npm, not by the bot: the only name allowed outside the schema.
    for (const name of names.filter((n) => n !== "NODE_ENV")) expect(KNOWN_ENV, "ENV").toContain(name);
  });

  it("the bot's environment in compose.yaml", () => {
    const bots = botServices();
    expect(bots.map(([name]) => name)).toEqual(["bot"]);
    for (const [, service] of bots) {
      const names = Object.keys(composeEnv(service));
      expect(names.length).toBeGreaterThan(0);
      for (const name of names) expect(KNOWN_ENV, "compose.yaml").toContain(name);
    }
  });

  it("the Deployment's env, and the keys of the example Secret", () => {
    const container = botContainer();
    expect(container.envFrom, "envFrom would set names nobody checks").toBeUndefined();
    const names = (container.env ?? []).map((e) => e.name);
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) expect(KNOWN_ENV, "deployment.yaml").toContain(name);
    for (const key of Object.keys(secretExample().stringData ?? {}))
      expect(KNOWN_ENV, "secret.example.yaml").toContain(key);
  });

  it("none of them opens the sandbox: HOST and MLOPS_SANDBOX are set nowhere", () => {
    const set = [
      ...dockerfile.flat().flatMap((i) => (i.op === "ENV" ? envNames(i.args) : [])),
      ...botServices().flatMap(([, s]) => Object.keys(composeEnv(s))),
      ...(botContainer().env ?? []).map((e) => e.name),
    ];
    expect(set).not.toContain("HOST");
    expect(set).not.toContain("MLOPS_SANDBOX");
  });
});

describe("every probe path answers 200 on a running bot", () => {
  let bot: Bot | undefined;
  beforeAll(async () => {
    bot = await startTestBot();
  });
  afterAll(async () => {
    await bot?.close();
  });

  const paths = () => {
    const fromK8s = probes(botContainer()).map((p) => p.httpGet?.path);
    const fromDocker = healthcheckPaths();
    expect(fromDocker, "the HEALTHCHECK requests a path").toHaveLength(1);
    for (const path of fromK8s)
      expect(path, "every Kubernetes probe is an httpGet with a path").toBeTypeOf("string");
    return [...new Set([...(fromK8s as string[]), ...fromDocker])];
  };

  it("the probes ask for /readyz and /healthz, and each answers 200", async () => {
    const all = paths();
    expect([...all].sort()).toEqual(["/healthz", "/readyz"]);
    for (const path of all) {
      const res = await fetch(new URL(path, (bot as Bot).url));
      expect({ path, status: res.status }).toEqual({ path, status: 200 });
    }
  });

  it("and on the port the bot listens on", () => {
    const [healthcheck] = healthcheckCommand().slice(-1);
    expect(healthcheck).toContain(`process.env.PORT||${DEFAULT_PORT}`);
    expect(ops(runtime, "EXPOSE").map((i) => i.args)).toEqual([String(DEFAULT_PORT)]);
    const container = botContainer();
    const http = container.ports?.find((p) => p.containerPort === DEFAULT_PORT);
    expect(http, `a container port ${DEFAULT_PORT}`).toBeDefined();
    for (const probe of probes(container)) expect([http?.name, DEFAULT_PORT]).toContain(probe.httpGet?.port);
    for (const [, service] of botServices()) {
      const ports = (service as { ports?: string[] }).ports ?? [];
      expect(ports.some((p) => String(p).endsWith(`:${DEFAULT_PORT}`))).toBe(true);
    }
  });
});

describe("the Kubernetes manifests", () => {
  it("the Deployment: 2 replicas, ready on /readyz, alive on /healthz, not root, read-only root", () => {
    const d = deployment();
    expect(d.replicas).toBe(2);
    const c = botContainer();
    expect(c.readinessProbe?.httpGet?.path).toBe("/readyz");
    expect(c.livenessProbe?.httpGet?.path).toBe("/healthz");
    const nonRoot = c.securityContext?.runAsNonRoot ?? d.pod.securityContext?.runAsNonRoot;
    expect(nonRoot).toBe(true);
    const uid = c.securityContext?.runAsUser ?? d.pod.securityContext?.runAsUser;
    if (uid !== undefined) expect(uid).not.toBe(0);
    expect(c.securityContext?.readOnlyRootFilesystem).toBe(true);
    expect(d.pod.initContainers ?? []).toEqual([]);
  });

  it("every credential comes from a Secret (secretKeyRef), never a literal value", () => {
    const env = botContainer().env ?? [];
    const secretLike = env.filter((e) => SECRET_NAME.test(e.name));
    expect(secretLike.length).toBeGreaterThan(0);
    for (const e of secretLike) {
      expect(e.value, `${e.name} has a literal value`).toBeUndefined();
      expect(e.valueFrom?.secretKeyRef, `${e.name} is not from a Secret`).toBeDefined();
    }
    // Every credential the bot reads is wired, so none has to be added by hand (and then as a literal).
    expect(secretLike.map((e) => e.name).sort()).toEqual(KNOWN_ENV.filter((n) => SECRET_NAME.test(n)).sort());
  });

  it("the Secret they name is the example's, and its required keys are in it", () => {
    const secret = secretExample();
    expect(secret.kind).toBe("Secret");
    for (const e of botContainer().env ?? []) {
      const ref = e.valueFrom?.secretKeyRef;
      if (!ref) continue;
      expect(ref.name).toBe(secret.metadata.name);
      if (!ref.optional) expect(Object.keys(secret.stringData ?? {})).toContain(ref.key);
    }
    // Placeholders only, and the example is never applied with the rest.
    for (const value of Object.values(secret.stringData ?? {})) expect(value).toMatch(/REPLACE-ME/);
    expect(kustomization.resources).not.toContain("secret.example.yaml");
  });

  it("MLOPS_CONFIG is the file the generated ConfigMap is mounted as; the data directory is writable", () => {
    const c = botContainer();
    const value = (name: string) => c.env?.find((e) => e.name === name)?.value;
    const config = value("MLOPS_CONFIG") as string;
    const [generator] = kustomization.configMapGenerator ?? [];
    expect(generator?.files).toHaveLength(1);
    const file = generator?.files?.[0] as string;
    expect(basename(config)).toBe(basename(file));
    const volume = deployment().pod.volumes?.find((v) => v.configMap?.name === generator?.name);
    expect(volume, `a volume of ConfigMap ${generator?.name}`).toBeDefined();
    expect(c.volumeMounts?.find((m) => m.name === volume?.name)?.mountPath).toBe(dirname(config));

    const dataDir =
      value("MLOPS_DATA_DIR") ??
      envValue(
        ops(runtime, "ENV")
          .map((i) => i.args)
          .join(" "),
        "MLOPS_DATA_DIR",
      );
    const dataMount = c.volumeMounts?.find((m) => m.mountPath === dataDir);
    expect(dataMount, `a volume mounted at ${dataDir}`).toBeDefined();
    expect(dataMount?.readOnly).not.toBe(true);
    expect(deployment().pod.volumes?.find((v) => v.name === dataMount?.name)?.emptyDir).toBeDefined();
  });

  it("the config the ConfigMap carries is valid and fits the image's runbooks", () => {
    const [generator] = kustomization.configMapGenerator ?? [];
    const file = `${K8S}${generator?.files?.[0]}`;
    // No environment: a ${VAR} without a default would need a variable the Deployment does not set.
    const config = parseConfig(read(file), file, {});
    expect(() => loadRunbooks(new URL("runbooks", root).pathname, config)).not.toThrow();
  });

  it("the PodDisruptionBudget keeps 1 pod; it and the Service select the Deployment's pods", () => {
    const resources = k8sResources();
    const d = deployment();
    const pdb = resources.find((m) => m.kind === "PodDisruptionBudget");
    expect(pdb?.spec?.minAvailable).toBe(1);
    const service = resources.find((m) => m.kind === "Service");
    const selects = (selector: Record<string, string>) =>
      Object.entries(selector).every(([k, v]) => d.labels[k] === v);
    const pdbSpec = pdb?.spec as { selector: { matchLabels: Record<string, string> } };
    expect(selects(pdbSpec.selector.matchLabels)).toBe(true);
    const serviceSpec = service?.spec as {
      selector: Record<string, string>;
      ports: { targetPort: string | number }[];
    };
    expect(selects(serviceSpec.selector)).toBe(true);
    const targets = serviceSpec.ports.map((p) => p.targetPort);
    expect(targets.length).toBeGreaterThan(0);
    const ports = botContainer().ports ?? [];
    for (const t of targets) expect(ports.some((p) => p.name === t || p.containerPort === t)).toBe(true);
  });
});

describe("compose.yaml", () => {
  it("the bot waits for a healthy postgres:16 with a volume, and reads its credentials from the environment", () => {
    const bot = botServices()[0]?.[1] as ComposeService;
    const dependsOn = bot.depends_on as Record<string, { condition?: string }>;
    const [dbName, dependency] = Object.entries(dependsOn)[0] ?? [];
    expect(dependency?.condition).toBe("service_healthy");
    const db = compose.services[dbName as string] as ComposeService;
    expect(db.image).toBe("postgres:16");
    expect(JSON.stringify(db.healthcheck?.test)).toContain("pg_isready");
    const named = Object.keys(compose.volumes ?? {});
    expect(db.volumes?.some((v) => named.includes(v.split(":")[0] as string))).toBe(true);

    const env = composeEnv(bot);
    expect(new URL((env.DATABASE_URL ?? "").replace(/\$\{[^}]*\}/g, "x")).hostname).toBe(dbName);
    for (const [name, value] of Object.entries(env)) {
      if (!SECRET_NAME.test(name)) continue;
      // A pass-through name, or a value that takes its secret part from ${…}: never a literal.
      if (value === null) continue;
      expect(value, `${name} is written into compose.yaml`).toMatch(/\$\{[A-Z_]+(:\?[^}]*)?\}/);
      if (name !== "DATABASE_URL") expect(value).toMatch(/^\$\{[^}]*\}$/);
    }
  });
});

describe("the Dockerfile", () => {
  it("builds on node:20-slim in every stage, with a build stage before the runtime stage", () => {
    expect(dockerfile.length).toBeGreaterThanOrEqual(2);
    for (const stage of dockerfile)
      expect(stage[0]?.args).toMatch(/^node:20-slim(@sha256:[0-9a-f]{64})?(\s|$)/);
  });

  it("compiles with dev dependencies in the build stage and installs with npm ci --omit=dev at run time", () => {
    const buildRuns = build.flatMap((s) => ops(s, "RUN").map((i) => i.args));
    expect(buildRuns.some((r) => /\bnpm ci\b/.test(r) && !r.includes("--omit=dev"))).toBe(true);
    expect(buildRuns.some((r) => /\bnpm run build\b/.test(r))).toBe(true);
    const installs = ops(runtime, "RUN").filter((i) => /\bnpm (ci|install|i)\b/.test(i.args));
    expect(installs.length).toBeGreaterThan(0);
    for (const i of installs) expect(i.args).toMatch(/\bnpm ci\b.*--omit=dev/);
    expect(ops(runtime, "COPY").some((i) => /--from=\S+\s+\S*dist\/?\s/.test(i.args))).toBe(true);
  });

  it("copies the postinstall script before every npm ci (it runs scripts/patch-deps.mjs)", () => {
    const postinstall = (JSON.parse(read("package.json")) as { scripts: Record<string, string> }).scripts
      .postinstall as string;
    const script = /\bnode\s+(\S+)/.exec(postinstall)?.[1] as string;
    expect(script).toBe("scripts/patch-deps.mjs");
    for (const stage of dockerfile) {
      const ci = stage.findIndex((i) => i.op === "RUN" && /\bnpm ci\b/.test(i.args));
      if (ci < 0) continue;
      const copied = stage.slice(0, ci).some((i) => {
        if (i.op !== "COPY" || i.args.startsWith("--from")) return false;
        const sources = i.args
          .split(/\s+/)
          .slice(0, -1)
          .map((p) => posix.normalize(p));
        return sources.some((p) => p === script || (p.endsWith("/") && script.startsWith(p)));
      });
      expect(copied, `${script} copied before npm ci in stage ${stage[0]?.args}`).toBe(true);
    }
  });

  it("copies what the running bot reads from disk, none of it excluded by .dockerignore", () => {
    const sources = ops(runtime, "COPY")
      .filter((i) => !i.args.startsWith("--from"))
      .flatMap((i) =>
        i.args
          .split(/\s+/)
          .filter((a) => !a.startsWith("--"))
          .slice(0, -1),
      )
      .map((p) => posix.normalize(p).replace(/\/$/, ""));
    for (const needed of ["migrations", "runbooks", "mlops.config.yaml", "src/slack/sandbox/web/static"])
      expect(sources).toContain(needed);
    const ignored = read(".dockerignore")
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith("#"));
    const allSources = dockerfile
      .flat()
      .filter((i) => i.op === "COPY" && !i.args.startsWith("--from"))
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    for (const source of allSources) {
      const first = posix.normalize(source).split("/")[0] as string;
      expect(ignored, `${source} is excluded from the build context`).not.toContain(first);
    }
  });

  it("runs as a non-root USER with a writable MLOPS_DATA_DIR, NODE_ENV=production and a HEALTHCHECK", () => {
    const users = ops(runtime, "USER").map((i) => i.args.split(":")[0]);
    expect(users.length).toBeGreaterThan(0);
    expect(["root", "0"]).not.toContain(users.at(-1));
    const env = ops(runtime, "ENV")
      .map((i) => i.args)
      .join(" ");
    expect(envValue(env, "NODE_ENV")).toBe("production");
    const dataDir = envValue(env, "MLOPS_DATA_DIR") as string;
    expect(dataDir).toMatch(/^\//);
    const owned = ops(runtime, "RUN").some(
      (i) => i.args.includes(dataDir) && i.args.includes(`chown ${users.at(-1)}`),
    );
    expect(owned, `${dataDir} is owned by ${users.at(-1)}`).toBe(true);
    expect(healthcheckCommand()[0]).toBe("node");
  });

  it("starts node itself in exec form, so SIGTERM reaches the bot", () => {
    const [cmd, ...more] = ops(runtime, "CMD").reverse();
    expect(more.length + (cmd ? 1 : 0)).toBe(1);
    const argv = execForm(cmd?.args ?? "");
    expect(argv, "CMD is exec form").toBeDefined();
    // What `npm start` runs, minus npm (which would sit between the signal and the bot).
    const start = (JSON.parse(read("package.json")) as { scripts: Record<string, string> }).scripts.start;
    expect(argv).toEqual(start?.split(/\s+/));
    expect(argv?.[0]).toBe("node");
    for (const entrypoint of ops(runtime, "ENTRYPOINT"))
      expect(execForm(entrypoint.args), "ENTRYPOINT is exec form").toBeDefined();
  });
});
