/** Writes mlops.config.schema.json from the zod schema so editors can autocomplete the YAML config. */
import { writeFileSync } from "node:fs";
import { configJsonSchema } from "../src/config/json-schema.js";

writeFileSync(
  new URL("../mlops.config.schema.json", import.meta.url),
  `${JSON.stringify(configJsonSchema(), null, 2)}\n`,
);
console.log("wrote mlops.config.schema.json");
