/**
 * Writes the JSON Schemas generated from the zod schemas: mlops.config.schema.json (so editors can
 * autocomplete the YAML config) and docs/profile.schema.json (the body of POST …/profiles).
 */
import { writeFileSync } from "node:fs";
import { z } from "zod";
import { configJsonSchema } from "../src/config/json-schema.js";
import { profileBatchSchema } from "../src/rollups/profile.js";

writeFileSync(
  new URL("../mlops.config.schema.json", import.meta.url),
  `${JSON.stringify(configJsonSchema(), null, 2)}\n`,
);
console.log("wrote mlops.config.schema.json");
writeFileSync(
  new URL("../docs/profile.schema.json", import.meta.url),
  `${JSON.stringify({ title: "mlops-bot profiles (rollup format 2; format 1 accepted)", ...z.toJSONSchema(profileBatchSchema, { io: "input" }) }, null, 2)}\n`,
);
console.log("wrote docs/profile.schema.json");
