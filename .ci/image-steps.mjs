#!/usr/bin/env node
// Follows the Dockerfile without Docker: CI reaches no image registry, so it cannot pull
// node:20-slim or build the image. This reads the Dockerfile itself (so the steps cannot drift
// from it), gives each stage a fresh directory as its file system (WORKDIR, COPY and COPY --from
// land there), runs each RUN in that stage's working directory with the stage's ENV (a fresh npm
// cache per stage, as in an image build), then starts the last stage's CMD as its USER with
// nothing but the image's environment: the embedded database and the built-in sandbox. It passes
// when /readyz answers 200, the HEALTHCHECK command exits 0, and SIGTERM stops the bot with exit
// code 0.
//
// What it cannot check: the base image's own contents (it uses this machine's Node.js, which must
// have the major version the FROM names) and anything Docker does beyond these instructions. It
// runs as root, as an image build does; the USER is created if this machine lacks it.
//
//   node .ci/image-steps.mjs            (from the repository root; CI runs it from .ci/run)
import { spawn, spawnSync } from "node:child_process";
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { basename, dirname, isAbsolute, join, posix, resolve } from "node:path";

const context = resolve(dirname(new URL(import.meta.url).pathname), "..");
const started = Date.now();
const log = (message) =>
  console.log(`[image-steps ${((Date.now() - started) / 1000).toFixed(1)}s] ${message}`);
/** Directories this run made: its own temporary tree, and paths outside it that a RUN created. */
const madeHere = [];
const fail = (message) => {
  console.error(`image-steps: ${message}`);
  for (const path of madeHere) rmSync(path, { recursive: true, force: true });
  process.exit(1);
};

/** The Dockerfile's instructions, continuation lines joined, comments dropped, by stage. */
function stages(text) {
  const out = [];
  for (const raw of text.replace(/\\\r?\n/g, " ").split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const [, op, args] = /^(\S+)\s*(.*)$/.exec(line);
    const instruction = { op: op.toUpperCase(), args: args.trim() };
    if (instruction.op === "FROM") out.push({ from: instruction.args, steps: [] });
    else if (!out.length) fail(`${instruction.op} before the first FROM`);
    else out.at(-1).steps.push(instruction);
  }
  return out;
}

/** An exec-form (JSON array) command; fails on the shell form, which the image does not use. */
function execForm(args, what) {
  try {
    const value = JSON.parse(args);
    if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value;
  } catch {}
  fail(`${what} must use the exec form (a JSON array): ${args}`);
}

/** `ENV A=1 B="x y"` as pairs. */
function envPairs(args) {
  return [...args.matchAll(/([^\s=]+)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)/g)].map((m) => [
    m[1],
    m[2].replace(/^["']|["']$/g, ""),
  ]);
}

/** The top-level names .dockerignore keeps out of the context (the only kind of entry it has). */
function ignored() {
  const file = join(context, ".dockerignore");
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
}

/** Whether `path` (relative to the context) falls under a .dockerignore entry. */
function isIgnored(path, patterns) {
  const first = path.replace(/^\.\//, "").split("/")[0];
  return patterns.some((p) => {
    const re = new RegExp(`^${p.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*")}$`);
    return re.test(first);
  });
}

function run(command, args, options) {
  const result = spawnSync(command, args, { stdio: "inherit", ...options });
  if (result.status !== 0)
    fail(`${[command, ...args].join(" ")} exited with ${result.status ?? result.signal}`);
}

function freePort() {
  return new Promise((ok, ko) => {
    const server = createServer();
    server.once("error", ko);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => ok(port));
    });
  });
}

/** `spawn` arguments that run `argv` as `user` (root switches with setpriv, which execs: no extra process). */
function asUser(user, argv) {
  if (!user || user === "root") return argv;
  return ["setpriv", `--reuid=${user}`, `--regid=${user}`, "--init-groups", "--", ...argv];
}

function ensureUser(user) {
  if (!user || user === "root") return;
  if (spawnSync("id", ["-u", user]).status === 0) return;
  log(`creating the system user ${user} (the base image has it)`);
  run("useradd", ["--system", "--user-group", "--no-create-home", "--shell", "/usr/sbin/nologin", user]);
}

if (process.getuid?.() !== 0) fail("run as root, as an image build does (CI does)");
const patterns = ignored();
const dockerfile = stages(readFileSync(join(context, "Dockerfile"), "utf8"));
// A RUN may chown to the image's USER before the USER instruction: the users must exist first.
for (const stage of dockerfile) for (const { op, args } of stage.steps) if (op === "USER") ensureUser(args);
const work = mkdtempSync(join(tmpdir(), "mlops-image-"));
madeHere.push(work);
chmodSync(work, 0o755); // the runtime USER must reach the code
const roots = new Map();
let final;

for (const [index, stage] of dockerfile.entries()) {
  const [image, , name] = stage.from.split(/\s+/);
  const major = /^node:(\d+)/.exec(image)?.[1];
  if (!major) fail(`FROM ${image}: only node:<major> images can be followed without Docker`);
  if (process.versions.node.split(".")[0] !== major)
    fail(`FROM ${image} needs Node.js ${major}; this machine has ${process.version}`);
  const root = join(work, name ?? String(index));
  mkdirSync(root, { mode: 0o755 });
  roots.set(name ?? String(index), root);
  const env = {
    PATH: process.env.PATH,
    HOME: "/root",
    npm_config_cache: join(root, ".npm-cache"), // an image build starts with an empty cache
    npm_config_update_notifier: "false",
  };
  let workdir = root;
  let user;
  let cmd;
  let healthcheck;
  log(`stage ${name ?? index} (FROM ${image}) in ${root}`);
  for (const { op, args } of stage.steps) {
    switch (op) {
      case "WORKDIR":
        workdir = join(root, args);
        mkdirSync(workdir, { recursive: true, mode: 0o755 });
        break;
      case "ENV":
        for (const [k, v] of envPairs(args)) env[k] = v;
        break;
      case "COPY": {
        const words = args.split(/\s+/);
        const from = words[0].startsWith("--from=") ? words.shift().slice("--from=".length) : undefined;
        const dest = words.pop();
        const base = from ? roots.get(from) : context;
        if (!base) fail(`COPY --from=${from}: no such stage before this one`);
        for (const source of words) {
          if (!from && isIgnored(source, patterns))
            fail(`COPY ${source}: .dockerignore leaves it out of the context`);
          const src = from ? join(base, source) : join(context, source);
          if (!existsSync(src))
            fail(`COPY ${source}: not found in ${from ? `stage ${from}` : "the context"}`);
          const target = isAbsolute(dest) ? join(root, dest) : join(workdir, dest);
          const into = statSync(src).isDirectory() || dest.endsWith("/") ? target : dirname(target);
          const to = statSync(src).isDirectory()
            ? target
            : dest.endsWith("/")
              ? join(target, basename(src))
              : target;
          mkdirSync(into, { recursive: true, mode: 0o755 });
          cpSync(src, to, { recursive: true });
        }
        break;
      }
      case "RUN": {
        // The instruction's shell form, as Docker runs it: /bin/sh -c. Paths outside the stage
        // directory (the data directory) are this machine's; remember the ones it creates.
        for (const path of args.match(/\/var\/lib\/[\w.-]+/g) ?? [])
          if (!existsSync(path)) madeHere.push(path);
        log(`RUN ${args}`);
        run("/bin/sh", ["-c", args], { cwd: workdir, env });
        break;
      }
      case "USER":
        user = args;
        break;
      case "CMD":
        cmd = execForm(args, "CMD");
        break;
      case "HEALTHCHECK":
        healthcheck = execForm(/(?:^|\s)CMD\s+(.*)$/.exec(args)?.[1] ?? "", "HEALTHCHECK CMD");
        break;
      case "EXPOSE":
      case "LABEL":
        break;
      default:
        fail(`${op}: not an instruction this script follows; teach it, or keep the Dockerfile to these`);
    }
  }
  final = { root, workdir, env, user, cmd, healthcheck };
}

if (!final?.cmd) fail("the last stage has no CMD");
// The runtime stage's files are read by its USER (in the image they are root-owned and world-readable).
for (let dir = final.workdir; dir.startsWith(work); dir = dirname(dir)) chmodSync(dir, 0o755);

const port = await freePort();
// Nothing of this machine's environment but PATH: no credentials, so the embedded database and the
// sandbox, as `docker run` without -e gives.
const env = { PATH: process.env.PATH, HOME: "/nonexistent", ...final.env, PORT: String(port) };
delete env.npm_config_cache;
delete env.npm_config_update_notifier;
const argv = asUser(final.user, final.cmd);
log(`start: ${final.cmd.join(" ")} as ${final.user ?? "root"} on port ${port}`);
const bot = spawn(argv[0], argv.slice(1), { cwd: final.workdir, env, stdio: ["ignore", "pipe", "pipe"] });
let output = "";
bot.stdout.on("data", (d) => (output += d));
bot.stderr.on("data", (d) => (output += d));
const exited = new Promise((ok) => bot.once("exit", (code, signal) => ok({ code, signal })));

function stop(message) {
  bot.kill("SIGKILL");
  console.error(output.slice(-4000));
  fail(message);
}

let ready = false;
for (const deadline = Date.now() + 60_000; Date.now() < deadline && bot.exitCode === null; ) {
  const res = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
  if (res?.status === 200) {
    ready = true;
    break;
  }
  await new Promise((r) => setTimeout(r, 250));
}
if (!ready)
  stop(
    bot.exitCode === null ? "/readyz did not answer 200 within 60 s" : `the bot exited with ${bot.exitCode}`,
  );
log("/readyz answered 200");

if (final.healthcheck) {
  const hc = asUser(final.user, final.healthcheck);
  const result = spawnSync(hc[0], hc.slice(1), { cwd: final.workdir, env, timeout: 5_000 });
  if (result.status !== 0) stop(`the HEALTHCHECK command exited with ${result.status ?? result.signal}`);
  log("HEALTHCHECK command exited 0");
}

bot.kill("SIGTERM");
const timer = setTimeout(() => stop("SIGTERM: the bot did not exit within 15 s"), 15_000);
const { code, signal } = await exited;
clearTimeout(timer);
if (code !== 0) stop(`SIGTERM: the bot exited with ${code ?? signal}, not 0`);
log("SIGTERM: exited 0");
for (const path of madeHere) rmSync(path, { recursive: true, force: true });
log(`passed: ${posix.basename(context)} starts from its Dockerfile's steps`);
