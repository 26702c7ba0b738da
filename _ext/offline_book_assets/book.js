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

// On paper nothing scrolls: scale each display equation that is wider than the column down to fit it, and undo
// that after printing. Run when the page is laid out for print (and by the whole-book PDF step, book_pdf.py).
(function () {
  function fitForPrint() {
    var boxes = document.querySelectorAll(".katex-display");
    boxes.forEach(function (box) { box.firstElementChild && (box.firstElementChild.style.zoom = ""); });
    boxes.forEach(function (box) {
      var formula = box.firstElementChild;
      if (formula && box.scrollWidth > box.clientWidth + 1) {
        formula.style.zoom = (Math.floor(1000 * box.clientWidth / box.scrollWidth) / 1000).toString();
      }
    });
  }
  function unfit() {
    document.querySelectorAll(".katex-display > .katex").forEach(function (formula) { formula.style.zoom = ""; });
  }
  window.bookFitForPrint = fitForPrint;
  window.addEventListener("beforeprint", fitForPrint);
  window.addEventListener("afterprint", unfit);
  if (window.matchMedia) {
    var print = window.matchMedia("print");
    if (print.addEventListener) print.addEventListener("change", function (event) {
      if (event.matches) fitForPrint(); else unfit();
    });
  }
})();
