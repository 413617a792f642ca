// Typesets the TeX of an HTML page to SVG with MathJax 3, so the page shows its formulas with no
// script and no internet. Usage: node typeset.js MATHJAX_DIR SVG_OUTPUT_DIR < page.html > page.html
// MATHJAX_DIR holds MathJax's es5 components (startup.js, input/tex.js, adaptors/liteDOM.js),
// SVG_OUTPUT_DIR its output/svg.js and output/svg/fonts/tex.js (book/vendor.py fetches both).
// TeX is looked for as MathJax does in a browser: $...$, \(...\), $$...$$, \[...\] and
// environments, outside <pre>, <code>, <script>, <style> and <textarea>, and only inside elements
// of class tex2jax_process when an ancestor has class tex2jax_ignore (the feedback template marks its
// markdown cells so: students' outputs are never typeset). ui/safe drops javascript: links and the
// like from any TeX all the same.
const fs = require('fs');
const path = require('path');
const [mathjax, svg] = process.argv.slice(2).map((dir) => path.resolve(dir));
const page = fs.readFileSync(0, 'utf8');

global.MathJax = {
  loader: {
    paths: {mathjax},
    source: {
      'output/svg': path.join(svg, 'output', 'svg.js'),
      'output/svg/fonts/tex': path.join(svg, 'output', 'svg', 'fonts', 'tex.js'),
    },
    load: ['adaptors/liteDOM', 'input/tex', 'output/svg', 'ui/safe'],
    require,
  },
  tex: {inlineMath: [['$', '$'], ['\\(', '\\)']], processEscapes: true},
  // One copy of each glyph per page, however many formulas use it.
  svg: {fontCache: 'global'},
  startup: {typeset: false, document: page},
};
require(path.join(mathjax, 'startup.js'));

MathJax.startup.promise.then(() => {
  const doc = MathJax.startup.document;
  // TeX extensions (\color, ...) load on first use: render again once they have.
  return MathJax._.mathjax.mathjax.handleRetriesFor(() => doc.render()).then(() => doc);
}).then((doc) => {
  const adaptor = MathJax.startup.adaptor;
  process.stdout.write(adaptor.doctype(doc.document) + adaptor.outerHTML(adaptor.root(doc.document)));
}).catch((error) => {
  process.stderr.write(String(error && error.message || error) + '\n');
  process.exit(1);
});
