// Display equations wider than the column scroll sideways; make exactly those reachable by keyboard.
(function () {
  function markScrollableMath() {
    document.querySelectorAll(".katex-display").forEach(function (box) {
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
  document.addEventListener("DOMContentLoaded", function () {
    markScrollableMath();
    // Widths change when the math fonts arrive (possibly after "load") and when the window is resized.
    if (document.fonts) document.fonts.ready.then(markScrollableMath);
    if (window.ResizeObserver) {
      var observer = new ResizeObserver(markScrollableMath);
      // the box (its width) and its formula (the content's width)
      document.querySelectorAll(".katex-display, .katex-display > .katex").forEach(function (box) {
        observer.observe(box);
      });
    }
  });
  window.addEventListener("load", markScrollableMath);
  window.addEventListener("resize", markScrollableMath);
})();

// Opened from disk (file://), the browser refuses the fetches that build search-result snippets and logs an
// error for each: list the results without snippets there.
if (location.protocol === "file:" && typeof DOCUMENTATION_OPTIONS !== "undefined") {
  DOCUMENTATION_OPTIONS.SHOW_SEARCH_SUMMARY = false;
}
