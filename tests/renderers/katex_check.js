// Render many LaTeX formulas with KaTeX in one process (throwOnError: true, display
// mode). Reads a JSON list of formulas on stdin; writes a JSON list on stdout, one entry
// per formula: null when KaTeX rendered it, else KaTeX's error message.
// KATEX_DIR: the folder `npm install --prefix KATEX_DIR katex` filled.
const path = require("path");
const katex = require(path.join(process.env.KATEX_DIR, "node_modules", "katex"));

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", () => {
  const results = JSON.parse(input).map((tex) => {
    try {
      katex.renderToString(tex, { throwOnError: true, displayMode: true, strict: "error" });
      return null;
    } catch (err) {
      return String(err.message || err);
    }
  });
  process.stdout.write(JSON.stringify(results));
});
