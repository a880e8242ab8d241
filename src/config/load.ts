import { readFileSync } from "node:fs";
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from "yaml";
import type { z } from "zod";
import { ConfigError } from "./errors.js";
import { configSchema, type MlopsConfig } from "./schema.js";

type Path = ReadonlyArray<PropertyKey>;

/** Renders a key path the way a reader of the YAML looks for it: `models[0].monitors.drift`. */
export function formatPath(path: Path): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out || "(top level)";
}

const ENV_REF = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Replaces `${VAR}` and `${VAR:-default}` in every string value with the environment's value
 * (`$${` stays a literal `${`). Only values are substituted, never keys, so a secret cannot change
 * the shape of the file. Missing variables are collected as problems with the key path.
 */
export function substituteEnv(
  value: unknown,
  env: Record<string, string | undefined>,
  problems: string[],
  path: PropertyKey[] = [],
): unknown {
  if (typeof value === "string") {
    return value.replace(ENV_REF, (whole, name: string | undefined, fallback: string | undefined) => {
      if (whole === "$${") return "${";
      const found = env[name as string];
      if (found !== undefined && found !== "") return found;
      if (fallback !== undefined) return fallback;
      problems.push(
        `${formatPath(path)}: environment variable ${name} is not set (referenced as \${${name}})`,
      );
      return "";
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => substituteEnv(v, env, problems, [...path, i]));
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, substituteEnv(v, env, problems, [...path, k])]),
    );
  }
  return value;
}

function nodeAt(root: Node | null, path: Path): Node | null {
  let node: Node | null = root;
  for (const key of path) {
    if (!node) return null;
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && p.key.value === key);
      if (!pair) return node;
      node = (pair.value as Node | null) ?? (pair.key as Node);
    } else if (isSeq(node) && typeof key === "number") {
      node = (node.items[key] as Node | undefined) ?? node;
    } else return node;
  }
  return node;
}

function valueAt(root: unknown, path: Path): unknown {
  let value = root;
  for (const key of path) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

function describeIssue(issue: z.core.$ZodIssue, input: unknown): { path: Path; text: string } {
  if (issue.code === "unrecognized_keys") {
    return {
      path: [...issue.path, issue.keys[0] ?? ""],
      text: `unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `'${k}'`).join(", ")}`,
    };
  }
  if (issue.path.length > 0 && valueAt(input, issue.path) === undefined) {
    const expected = issue.message
      .replace(/^Invalid (input|option): /, "")
      .replace(/, received undefined$/, "");
    return { path: issue.path, text: `required key missing (${expected})` };
  }
  return { path: issue.path, text: issue.message.replace(/^Invalid input: /, "") };
}

/** Parses and validates config text; `file` is used in messages only. */
export function parseConfig(
  text: string,
  file: string,
  env: Record<string, string | undefined>,
): MlopsConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => {
        const pos = e.pos ? lineCounter.linePos(e.pos[0]) : undefined;
        return `${pos ? `line ${pos.line}: ` : ""}YAML syntax: ${e.message.split("\n")[0]}`;
      }),
    );
  }
  const raw = doc.toJS({ maxAliasCount: 100 }) as unknown;
  const problems: string[] = [];
  const substituted = substituteEnv(raw ?? {}, env, problems);
  if (problems.length > 0) throw new ConfigError(file, problems);

  const result = configSchema.safeParse(substituted);
  if (!result.success) {
    throw new ConfigError(
      file,
      result.error.issues.map((issue) => {
        const { path, text: message } = describeIssue(issue, substituted);
        const node = nodeAt(doc.contents as Node | null, path);
        const line = node?.range ? lineCounter.linePos(node.range[0]).line : undefined;
        return `${formatPath(path)}${line ? ` (line ${line})` : ""}: ${message}`;
      }),
    );
  }
  return result.data;
}

/** Reads, substitutes and validates the YAML config at `file`. Throws ConfigError. */
export function loadConfig(file: string, env: Record<string, string | undefined>): MlopsConfig {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(file, [
      code === "ENOENT" ? "file not found (set MLOPS_CONFIG to the config's path)" : `cannot read: ${code}`,
    ]);
  }
  return parseConfig(text, file, env);
}
