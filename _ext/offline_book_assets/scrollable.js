// A display equation or a derivation step wider than its box scrolls sideways: exactly those are made reachable by
// keyboard, as a named group (axe: scrollable-region-focusable), and the mark is taken off when the box fits again.
// One function for the book's pages (book.js) and the deck (slides/_static/slides.js).
// bookText: a message in the page's language (window.BOOK_TEXT, from theme_fixes.py; the English is the default).
window.bookText = function (english) {
  var text = window.BOOK_TEXT || {};
  return Object.prototype.hasOwnProperty.call(text, english) ? text[english] : english;
};
window.bookMarkScrollable = function (box) {
  if (box.scrollWidth > box.clientWidth + 1) {
    box.setAttribute("tabindex", "0");
    box.setAttribute("role", "group");
    box.setAttribute("aria-label", window.bookText("Scrollable equation"));
  } else if (box.getAttribute("tabindex") === "0") {
    box.removeAttribute("tabindex");
    box.removeAttribute("role");
    box.removeAttribute("aria-label");
  }
};
