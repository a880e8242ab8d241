import { z } from "zod";
import { configSchema } from "./schema.js";

/** The JSON Schema of the YAML config, for editors (`npm run config:schema` writes it to the root). */
export function configJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(configSchema, { io: "input", unrepresentable: "any", target: "draft-2020-12" }),
    title: "mlops-bot configuration",
  };
}
