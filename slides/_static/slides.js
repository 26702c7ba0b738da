// A step of a derivation, or a display, wider than a narrow screen (a phone) scrolls sideways; each one that does
// is made reachable by keyboard by the book's own scrollable.js (inlined before this script). Checked on
// every slide shown, since reveal.js lays out a slide only when it is shown.
(function () {
  function markScrolling() {
    document.querySelectorAll(".reveal .katex-display, .reveal .derivation-rhs").forEach(window.bookMarkScrollable);
  }
  window.addEventListener("load", function () {
    markScrolling();
    if (window.Reveal && Reveal.on) {
      ["ready", "slidechanged", "resize"].forEach(function (event) { Reveal.on(event, markScrolling); });
    }
    window.addEventListener("resize", markScrolling);
    if (document.fonts) document.fonts.ready.then(markScrolling);
  });
})();
