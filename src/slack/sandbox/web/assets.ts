import { readFileSync } from "node:fs";

/**
 * The page's script and stylesheet are plain files beside this module's source. `tsc` copies no
 * static files into `dist/`, so they are resolved from the package root, which is four levels up
 * from both `src/slack/sandbox/web/` and `dist/slack/sandbox/web/`.
 */
const STATIC_DIR = new URL("../../../../src/slack/sandbox/web/static/", import.meta.url);

/** A static asset: its bytes and content type. */
export interface Asset {
  body: string;
  type: string;
}

/** Reads the page's assets once (at plugin registration). Throws naming the file if one is missing. */
export function loadAssets(): Record<string, Asset> {
  const read = (name: string) => readFileSync(new URL(name, STATIC_DIR), "utf8");
  return {
    "sandbox.js": { body: read("sandbox.js"), type: "text/javascript; charset=utf-8" },
    "sandbox.css": { body: read("sandbox.css"), type: "text/css; charset=utf-8" },
  };
}
