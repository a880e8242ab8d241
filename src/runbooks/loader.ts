import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { isAbsolute, join, relative, resolve } from "node:path";
import { parseDocument } from "yaml";
import type { MlopsConfig } from "../config/index.js";
import { formatPath } from "../config/index.js";
import { RunbookManifestError } from "./errors.js";
import { manifestSchema, type Runbook } from "./model.js";

/** The manifest file name in each runbook folder. */
export const MANIFEST_FILE = "runbook.yaml";

function validateOne(file: string, dir: string, folder: string, problems: string[]): Runbook | undefined {
  const shown = relative(process.cwd(), file) || file;
  const doc = parseDocument(readFileSync(file, "utf8"), { uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length) {
    for (const e of doc.errors) problems.push(`${shown}: YAML syntax: ${e.message.split("\n")[0]}`);
    return undefined;
  }
  const parsed = manifestSchema.safeParse(doc.toJS({ maxAliasCount: 50 }) ?? {});
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const path =
        issue.code === "unrecognized_keys" ? [...issue.path, issue.keys[0] ?? ""] : [...issue.path];
      const text = issue.code === "unrecognized_keys" ? `unknown key '${issue.keys[0]}'` : issue.message;
      problems.push(`${shown}: ${formatPath(path)}: ${text.replace(/^Invalid input: /, "")}`);
    }
    return undefined;
  }
  const m = parsed.data;
  const before = problems.length;
  if (m.name !== folder) problems.push(`${shown}: name: '${m.name}' must equal its folder name '${folder}'`);
  for (const [field, argv] of [
    ["run", m.run],
    ["verify", m.verify],
  ] as const) {
    const program = argv?.[0];
    if (!program || program === "node") continue;
    if (program.includes("{")) {
      problems.push(`${shown}: ${field}[0]: the program cannot come from a parameter`);
    } else if (program.includes("/") && !isAbsolute(program)) {
      const path = resolve(dir, program);
      if (!path.startsWith(dir) || !existsSync(path))
        problems.push(`${shown}: ${field}[0]: ${program} is not a file in the runbook's folder`);
    }
  }
  // Scripts named as the first argument of `node` must exist beside the manifest.
  for (const [field, argv] of [
    ["run", m.run],
    ["verify", m.verify],
  ] as const) {
    const script = argv?.[0] === "node" ? argv[1] : undefined;
    if (script && !script.startsWith("-") && !script.includes("{")) {
      const path = resolve(dir, script);
      if (!path.startsWith(`${dir}/`) || !existsSync(path))
        problems.push(
          `${shown}: ${field}[1]: script ${script} not found in ${relative(process.cwd(), dir) || dir}`,
        );
    }
  }
  return problems.length === before ? { ...m, dir, file } : undefined;
}

/**
 * Loads every `runbooks/<name>/runbook.yaml` under `root`. Any invalid manifest fails the whole
 * load with one line per problem naming the file and the key, so the bot never starts with a
 * runbook it would refuse later. A missing root means no runbooks.
 */
export function loadRunbooks(root: string, config?: MlopsConfig): Runbook[] {
  const base = resolve(root);
  if (!existsSync(base)) return [];
  const problems: string[] = [];
  const out: Runbook[] = [];
  for (const folder of readdirSync(base).sort()) {
    const dir = join(base, folder);
    if (!statSync(dir).isDirectory()) continue;
    const file = join(dir, MANIFEST_FILE);
    if (!existsSync(file)) {
      problems.push(`${relative(process.cwd(), dir) || dir}: no ${MANIFEST_FILE} in this runbook folder`);
      continue;
    }
    const rb = validateOne(file, dir, folder, problems);
    if (!rb) continue;
    if (config) {
      const shown = relative(process.cwd(), file) || file;
      const groups = config.workspace.user_groups;
      rb.allowed_groups.forEach((g, i) => {
        if (g !== "owners" && !/^[UW]/.test(g) && !groups[g])
          problems.push(`${shown}: allowed_groups[${i}]: unknown user group '${g}'`);
      });
      rb.when.models.forEach((slug, i) => {
        if (!config.models.some((m) => m.slug === slug))
          problems.push(`${shown}: when.models[${i}]: unknown model '${slug}'`);
      });
    }
    out.push(rb);
  }
  if (problems.length) throw new RunbookManifestError(problems);
  return out;
}
