// Search-result snippets as plain text. Sphinx's searchtools.js makes each snippet from the text of the page's
// main element, which holds every formula three times (KaTeX's MathML, its TeX annotation and its visual HTML) and
// the page's print-only table of contents. Before Sphinx reads a page, write each formula once, as linear text
// read off its MathML (∂f/∂W, Xᵀ G, Z_ij), and drop what is not the article's own text.
(function () {
  var SUP = {"0": "⁰", "1": "¹", "2": "²", "3": "³", "4": "⁴", "5": "⁵", "6": "⁶", "7": "⁷", "8": "⁸", "9": "⁹",
             "+": "⁺", "−": "⁻", "-": "⁻", "⊤": "ᵀ", "T": "ᵀ", "n": "ⁿ", "i": "ⁱ", "′": "′", "∗": "*", "*": "*"};
  var SUB = {"0": "₀", "1": "₁", "2": "₂", "3": "₃", "4": "₄", "5": "₅", "6": "₆", "7": "₇", "8": "₈", "9": "₉",
             "i": "ᵢ", "j": "ⱼ", "k": "ₖ", "m": "ₘ", "n": "ₙ", "p": "ₚ", "+": "₊", "−": "₋", "a": "ₐ"};

  function small(text, table, mark) {
    var chars = Array.from(text);
    if (chars.length && chars.every(function (c) { return table[c]; })) {
      return chars.map(function (c) { return table[c]; }).join("");
    }
    return mark + group(text);
  }
  // Parenthesise a part that is more than one symbol, so that a/b and x^(n+1) read unambiguously.
  function group(text) {
    return /[\s+\-−=<>≤≥,/]/.test(text.trim()) ? "(" + text.trim() + ")" : text.trim();
  }
  function linear(node) {
    if (node.nodeType === Node.TEXT_NODE) return node.textContent;
    if (node.nodeType !== Node.ELEMENT_NODE) return "";
    var name = node.localName, parts = Array.from(node.children).map(linear);
    switch (name) {
      case "annotation": case "annotation-xml": return "";
      case "semantics": return parts[0] || "";
      case "mi": case "mn": case "mtext": case "ms": return node.textContent;
      case "mo": var op = node.textContent.trim(); return /^[=<>≤≥≠∈≈+−→⊙]$/.test(op) ? " " + op + " " : op;
      case "mspace": return " ";
      case "mfrac": return group(parts[0]) + "/" + group(parts[1]);
      case "msqrt": return "√" + group(parts.join(""));
      case "mroot": return "√[" + parts[1] + "]" + group(parts[0]);
      case "msup": return parts[0] + small(parts[1], SUP, "^");
      case "msub": return parts[0] + small(parts[1], SUB, "_");
      case "msubsup": return parts[0] + small(parts[1], SUB, "_") + small(parts[2], SUP, "^");
      case "munder": return parts[0] + small(parts[1], SUB, "_");
      case "mover": return node.getAttribute("accent") === "true" ? parts[0] : parts[0] + small(parts[1], SUP, "^");
      case "munderover": return parts[0] + small(parts[1], SUB, "_") + small(parts[2], SUP, "^");
      case "mtable": return parts.join("; ");
      case "mtr": case "mlabeledtr": return parts.join(" ").trim();
      default: return parts.join("");
    }
  }
  function formulaText(katex) {
    var math = katex.querySelector("math");
    if (!math) return "";
    // Invisible operators (function application, invisible times) are not text; a display stands apart.
    var text = linear(math).replace(/[\u2061-\u2064]/g, "").replace(/\s+/g, " ").trim();
    return katex.closest(".katex-display") ? " " + text + " " : text;
  }
  function readable(htmlString) {
    var doc = new DOMParser().parseFromString(htmlString, "text/html");
    // Not the article's text: the print-only title and contents, the buttons above the article, the page's
    // table of contents beside it, and the links to the previous and next pages.
    doc.querySelectorAll(".onlyprint, .bd-header-article, .bd-sidebar-secondary, .prev-next-area, .bd-footer-article")
      .forEach(function (el) { el.remove(); });
    doc.querySelectorAll(".katex").forEach(function (katex) {
      katex.replaceWith(doc.createTextNode(formulaText(katex)));
    });
    return doc.documentElement.outerHTML;
  }
  document.addEventListener("DOMContentLoaded", function () {
    if (typeof Search === "undefined" || !Search.htmlToText) return;
    var sphinxHtmlToText = Search.htmlToText;
    Search.htmlToText = function (htmlString, anchor) {
      return sphinxHtmlToText(readable(htmlString), anchor).replace(/\s+/g, " ");
    };
  });
})();
