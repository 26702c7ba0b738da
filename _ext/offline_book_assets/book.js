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
  document.addEventListener("DOMContentLoaded", markScrollableMath);
  window.addEventListener("load", markScrollableMath);  // widths change once the math fonts are in
  window.addEventListener("resize", markScrollableMath);
})();

// Opened from disk (file://), the browser refuses the fetches that build search-result snippets and logs an
// error for each: list the results without snippets there.
if (location.protocol === "file:" && typeof DOCUMENTATION_OPTIONS !== "undefined") {
  DOCUMENTATION_OPTIONS.SHOW_SEARCH_SUMMARY = false;
}
