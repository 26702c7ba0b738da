// Display equations wider than the column. One at most a quarter too wide is scaled down to fit; a wider one
// scrolls sideways (a phone's column is far narrower than most derivations), and exactly those are made reachable
// by keyboard. On paper nothing scrolls, so every wide one is scaled to fit (also for the whole-book PDF).
(function () {
  var SHRINK_AT_MOST = 0.75;
  // A display equation, and the right side of one step of a derivation (_ext/derivation.py).
  var SCROLL_BOXES = ".katex-display, .derivation-rhs";
  var printing = window.matchMedia ? window.matchMedia("print") : {matches: false};

  function fitMath(smallest) {
    document.querySelectorAll(SCROLL_BOXES).forEach(function (box) {
      var formula = box.firstElementChild;
      if (formula) {
        formula.style.zoom = "";
        var scale = box.clientWidth / box.scrollWidth;
        if (scale < 1 && scale >= smallest) formula.style.zoom = String(Math.floor(scale * 1000) / 1000);
      }
      window.bookMarkScrollable(box);   // scrollable.js, inlined before this script
    });
  }
  function refit() { fitMath(printing.matches ? 0 : SHRINK_AT_MOST); }
  function fitForPrint() { fitMath(0); }

  document.addEventListener("DOMContentLoaded", function () {
    refit();
    // Widths change when the math fonts arrive (possibly after "load") and when the window is resized.
    if (document.fonts) document.fonts.ready.then(refit);
    if (window.ResizeObserver) {
      var observer = new ResizeObserver(refit);
      // the box (its width) and its formula (the content's width)
      document.querySelectorAll(".katex-display, .katex-display > .katex, .derivation-rhs, .derivation-rhs > .math")
        .forEach(function (box) {
        observer.observe(box);
      });
    }
  });
  window.addEventListener("load", refit);
  window.addEventListener("resize", refit);
  // Chromium lays the page out for paper after "beforeprint"; the media query's change follows with print widths.
  window.addEventListener("beforeprint", fitForPrint);
  window.addEventListener("afterprint", refit);
  if (printing.addEventListener) printing.addEventListener("change", refit);
  window.bookFitForPrint = fitForPrint;
})();

// Opened from disk (file://), the browser refuses the fetches that build search-result snippets and logs an
// error for each: list the results without snippets there.
if (location.protocol === "file:" && typeof DOCUMENTATION_OPTIONS !== "undefined") {
  DOCUMENTATION_OPTIONS.SHOW_SEARCH_SUMMARY = false;
}

// sphinx-book-theme blurs these buttons when they are clicked, to hide their tooltips. Pressed from the keyboard,
// that throws the focus to the top of the page, and the sidebar dialog has no button to give it back to when it
// closes. Keep the focus when the click comes from a key (a click event whose detail, the click count, is 0).
document.addEventListener("click", function (event) {
  var button = event.target.closest &&
    event.target.closest(".primary-toggle, .secondary-toggle, .theme-switch-button, .search-button");
  if (!button || event.detail !== 0) return;
  button.blur = function () {};
  setTimeout(function () { delete button.blur; }, 0);
}, true);

// The notebook download (the theme's `btn-download-source-button`) is a file to save, not a page of JSON to open in
// a new tab. Over http the `download` attribute saves it. A page opened from disk (file://) is an origin of its own,
// so the browser ignores that attribute and may not fetch the file either; it may still run a script from disk: the
// build writes the notebook's text beside it as one (`<notebook>.ipynb.js`, theme_fixes.py), loaded on the click,
// and the text is saved from a Blob, which the page itself made and so may save.
window.bookNotebookArrived = function (name, text) {
  var url = URL.createObjectURL(new Blob([text], {type: "application/x-ipynb+json"}));
  var link = document.createElement("a");
  link.href = url;
  link.download = name;
  link.hidden = true;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(function () { URL.revokeObjectURL(url); }, 60000);
};
document.addEventListener("DOMContentLoaded", function () {
  // relugrad's wheel (relugrad_wheel.py) is saved, not opened in a tab; from disk the browser saves it anyway.
  document.querySelectorAll("a.btn-download-relugrad-button[href$='.whl']").forEach(function (link) {
    link.setAttribute("download", link.getAttribute("href").split("/").pop());
    link.removeAttribute("target");
  });
  document.querySelectorAll("a.btn-download-source-button[href$='.ipynb'], a.download-source-button[href$='.ipynb']")
    .forEach(function (link) {
    link.setAttribute("download", link.getAttribute("href").split("/").pop());
    link.removeAttribute("target");
    link.addEventListener("click", function (event) {
      if (location.protocol !== "file:") return;
      event.preventDefault();
      var script = document.createElement("script");
      script.src = link.href + ".js";
      script.onload = function () { script.remove(); };
      script.onerror = function () { script.remove(); window.open(link.href); };   // no copy: show it, at least
      document.head.appendChild(script);
    });
  });
});

// A solution opens and closes from anywhere on its heading. sphinx-togglebutton's button (its chevron) is stretched
// over the whole heading (book.css), so a click or a tap anywhere on it is a click on the button, and the keyboard
// reaches it as one control that opens with Enter or Space. The button is named by the heading ("Solution to
// Exercise 7 ..."), not "Toggle hidden content"; togglebutton keeps its aria-expanded. The link back to the exercise
// is inside the solution (exercises.py). Runs after togglebutton's script, which makes the buttons on this event.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll(".admonition.toggle > .admonition-title > button.toggle-button").forEach(function (button) {
    var title = button.parentElement;
    var heading = title.querySelector(".book-solution-heading");
    if (!heading) {   // another kind of folded box: its title's text becomes the label
      heading = document.createElement("span");
      while (title.firstChild && title.firstChild !== button) heading.appendChild(title.firstChild);
      title.insertBefore(heading, button);
    }
    if (!heading.id) heading.id = button.id + "-heading";
    button.setAttribute("aria-labelledby", heading.id);
    button.removeAttribute("aria-label");
  });
});

// The solutions of the exercises (sphinx-exercise's dropdowns) are hidden until asked for. On paper a solution right
// under its exercise would be read before the exercise is tried: the whole-book PDF calls this to print them open,
// in a section of their own at the end of their chapter. Returns how many it moved.
window.bookSolutionsToEnd = function () {
  var article = document.querySelector("article.bd-article");
  // Folded boxes of other kinds (a {dropdown}'s <details>) print open: paper cannot be unfolded.
  if (article) article.querySelectorAll("details").forEach(function (box) { box.open = true; });
  var solutions = article ? article.querySelectorAll("div.solution") : [];
  if (!solutions.length) return 0;
  var section = document.createElement("section");
  section.className = "book-print-solutions";
  var heading = document.createElement("h2");
  heading.textContent = window.bookText("Solutions to the exercises");
  section.appendChild(heading);
  solutions.forEach(function (solution) {
    solution.classList.remove("toggle-hidden");
    var button = solution.querySelector(".toggle-button");
    if (button) button.remove();
    section.appendChild(solution);
  });
  article.appendChild(section);
  return solutions.length;
};
