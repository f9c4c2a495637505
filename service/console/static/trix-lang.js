// Trix's own words (toolbar tooltips, the link dialog, caption placeholders) in the page's
// language. The page renders them with its translations into data-trix-lang on this script
// tag (a JSON object keyed as Trix.config.lang). It runs right after Trix loads and before
// the <trix-editor> in the body is parsed: Trix builds its toolbar from Trix.config.lang
// when the editor connects, so console.js (deferred, run after parsing) would be too late.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !window.Trix) return;
  var words;
  try { words = JSON.parse(script.getAttribute("data-trix-lang") || "{}"); } catch (e) { return; }
  Object.keys(words).forEach(function (key) {
    if (typeof words[key] === "string" && words[key]) window.Trix.config.lang[key] = words[key];
  });
})();
