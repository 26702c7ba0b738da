// A step of a derivation, or a display, wider than a narrow screen (a phone) scrolls sideways; each one that does
// is made reachable by keyboard, as book.js does on the book's pages (the deck does not load book.js). Checked on
// every slide shown, since reveal.js lays out a slide only when it is shown.
(function () {
  function markScrolling() {
    document.querySelectorAll(".reveal .katex-display, .reveal .derivation-rhs").forEach(function (box) {
      if (box.scrollWidth > box.clientWidth + 1) {
        box.setAttribute("tabindex", "0");
        box.setAttribute("role", "group");
        box.setAttribute("aria-label", "Scrollable equation");
      } else if (box.getAttribute("tabindex") === "0") {
        box.removeAttribute("tabindex");
        box.removeAttribute("role");
        box.removeAttribute("aria-label");
      }
    });
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
