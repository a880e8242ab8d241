// Prints the failed tests of vitest JSON reports (the files named on the command line), with the
// first lines of each error, so that the end of a CI log says what failed and why.
import { existsSync, readFileSync } from "node:fs";
import { relative } from "node:path";

let failed = 0;
for (const file of process.argv.slice(2)) {
  if (!existsSync(file)) continue;
  const report = JSON.parse(readFileSync(file, "utf8"));
  for (const suite of report.testResults ?? []) {
    const where = relative(process.cwd(), suite.name);
    const tests = (suite.assertionResults ?? []).filter((t) => t.status === "failed");
    if (tests.length === 0 && suite.status === "failed") {
      failed++;
      console.log(`\nFAILED ${where} (the file itself)\n${indent(suite.message ?? "")}`);
    }
    for (const t of tests) {
      failed++;
      console.log(`\nFAILED ${where} > ${t.fullName ?? t.title}`);
      for (const m of t.failureMessages ?? []) console.log(indent(m));
    }
  }
}
if (failed > 0) console.log(`\n${failed} failed test(s), listed above.`);

function indent(text) {
  return String(text)
    .split("\n")
    .filter((l) => !l.includes("node_modules") && !l.includes("(<anonymous>)"))
    .slice(0, 12)
    .map((l) => `    ${l}`)
    .join("\n");
}
