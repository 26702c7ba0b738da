/* The ReLU-layer explorer: f(X, W, Y) = ||max(XW, 0) - Y||_F^2, its mask and its three gradients, in the page.
   Plain JavaScript in a classic script (file:// blocks module scripts), no network, no dependencies.
   Notation as in the book: Z = XW, M = 1[Z > 0], E = max(Z, 0) - Y, G = 2E (.) M,
   df/dW = X^T G, df/dX = G W^T, df/dY = -2E. ReLU'(0) is 0 (PyTorch) unless the reader picks 1. */
(function () {
  "use strict";

  // ---- the mathematics (float64, the same formulas as relugrad.hand_gradients) -------------------------------------
  function zeros(r, c) {
    var out = [];
    for (var i = 0; i < r; i++) { out.push(new Array(c).fill(0)); }
    return out;
  }
  function matmul(A, B) {            // A (r x p) times B (p x c), each sum from p = 0 upwards
    var r = A.length, p = B.length, c = B[0].length, out = zeros(r, c);
    for (var i = 0; i < r; i++) {
      for (var j = 0; j < c; j++) {
        var s = 0;
        for (var q = 0; q < p; q++) { s += A[i][q] * B[q][j]; }
        out[i][j] = s;
      }
    }
    return out;
  }
  function transpose(A) {
    var out = zeros(A[0].length, A.length);
    for (var i = 0; i < A.length; i++) { for (var j = 0; j < A[0].length; j++) { out[j][i] = A[i][j]; } }
    return out;
  }
  function map2(A, fn) { return A.map(function (row, i) { return row.map(function (v, j) { return fn(v, i, j); }); }); }

  // slopeAtZero: the value of ReLU'(0), 0 as torch.relu's backward, or 1 as the homework's Z * (Z >= 0).
  function layer(X, W, Y, slopeAtZero) {
    var Z = matmul(X, W);
    var M = map2(Z, function (z) { return z > 0 ? 1 : (z === 0 ? slopeAtZero : 0); });
    var E = map2(Z, function (z, i, j) { return (z > 0 ? z : 0) - Y[i][j]; });
    var G = map2(E, function (e, i, j) { return 2 * e * M[i][j]; });
    var f = 0;
    E.forEach(function (row) { row.forEach(function (e) { f += e * e; }); });
    return {Z: Z, M: M, E: E, G: G, f: f, dW: matmul(transpose(X), G), dX: matmul(G, transpose(W)),
            dY: map2(E, function (e) { return -2 * e; })};
  }

  // ---- seeded draws: mulberry32 and Box-Muller (not torch's generator; the homework's numbers come from the build) ----
  function generator(seed) {
    var a = seed >>> 0;
    function uniform() {
      a = (a + 0x6D2B79F5) >>> 0;
      var t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    }
    return {
      uniform: uniform,
      normal: function () {
        var u = 1 - uniform(), v = uniform();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
      },
      integer: function (lo, hi) { return lo + Math.floor(uniform() * (hi - lo + 1)); }
    };
  }
  function round2(x) { var r = Math.round(x * 100) / 100; return r === 0 ? 0 : r; }
  function draw(m, k, n, seed, kind) {
    var g = generator(seed);
    function fill(r, c, fn) { return map2(zeros(r, c), fn); }
    var normal = function () { return round2(g.normal()); };
    if (kind === "integers") {          // entries in {-2, ..., 2}: Z = XW is exact, and often exactly 0
      for (var tries = 0; tries < 200; tries++) {
        var X = fill(m, k, function () { return g.integer(-2, 2); });
        var W = fill(k, n, function () { return g.integer(-2, 2); });
        var Z = matmul(X, W), flat = [].concat.apply([], Z);
        if (flat.indexOf(0) >= 0 || tries === 199) { return {X: X, W: W, Y: fill(m, n, normal)}; }
      }
    }
    var X2 = fill(m, k, normal), W2 = fill(k, n, normal), Y2 = fill(m, n, normal);
    if (kind === "zeroW") { W2 = fill(k, n, function () { return 0; }); }
    if (kind === "dying") {             // inputs >= 0 (as after a ReLU); the last unit starts active, targets < 0
      X2 = map2(X2, Math.abs);
      W2 = map2(W2, function (w, i, j) { return j === n - 1 ? Math.abs(w) : w; });
      Y2 = map2(Y2, function (y, i, j) { return j === n - 1 ? round2(-Math.abs(y) - 0.5) : y; });
    }
    return {X: X2, W: W2, Y: Y2};
  }

  // ---- formatting ----------------------------------------------------------------------------------------------------
  var MINUS = "\u2212";
  function show(v) {                  // exact zeros as "0"; anything else with two decimals and a visible sign
    if (v === 0) { return "0"; }
    var t = Math.abs(v) >= 1000 ? v.toExponential(1) : v.toFixed(2);
    if (t === "0.00" || t === "-0.00") { t = (v < 0 ? "-" : "+") + "0.00"; }
    return t.replace("-", MINUS);
  }
  function showInput(v) {             // what a reader would type: integers without decimals
    return Number.isInteger(v) && Math.abs(v) < 1000 ? String(v) : show(v).replace(MINUS, "-").replace("+", "");
  }
  function parse(text) {
    var t = String(text).trim().replace(/\u2212/g, "-").replace(",", ".");
    if (!/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(t)) { return null; }
    var v = Number(t);
    return isFinite(v) && Math.abs(v) <= 1e6 ? v : null;
  }

  // Colours: the book's figures' (relugrad.plotting): blue negative, red positive (the ends of RdBu), symmetric about 0
  // for each matrix; the mask green where active, purple where not (PRGn's ends). Values are written in every cell,
  // so no colour carries meaning alone; the text is black or white, whichever contrasts more (one reaches 4.5:1).
  var NEG = [33, 102, 172], POS = [178, 24, 43], ACTIVE = [27, 120, 55], INACTIVE = [118, 42, 131];
  function mix(a, b, t) { return a.map(function (x, i) { return Math.round(x + (b[i] - x) * t); }); }
  function luminance(rgb) {
    var c = rgb.map(function (x) { x /= 255; return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4); });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  }
  function colours(v, scale, dark, mask) {
    var base = dark ? [26, 28, 30] : [255, 255, 255];
    var t = scale > 0 ? Math.min(1, Math.abs(v) / scale) : 0;
    var rgb = mask ? mix(base, v > 0 ? ACTIVE : INACTIVE, 0.75) : mix(base, v < 0 ? NEG : POS, 0.85 * Math.sqrt(t));
    var L = luminance(rgb);
    var black = (L + 0.05) / 0.05, white = 1.05 / (L + 0.05);
    return {background: "rgb(" + rgb.join(",") + ")", color: black >= white ? "#000" : "#fff"};
  }

  // ---- the page ------------------------------------------------------------------------------------------------------
  // Every word the explorer shows, in the page's language: window.BOOK_TEXT maps each English message to its
  // translation (explorer.py writes it from the book's catalogue; the English edition has none). {name} is filled.
  function tr(english, values) {
    var text = window.BOOK_TEXT || {};
    var s = Object.prototype.hasOwnProperty.call(text, english) ? text[english] : english;
    return s.replace(/\{(\w+)\}/g, function (whole, name) {
      return values && Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : whole;
    });
  }

  var OUTPUTS = [
    ["Z", "Z = XW", tr("pre-activation")],
    ["M", "M = 1[Z > 0]", tr("the ReLU mask")],
    ["E", "E = max(Z, 0) \u2212 Y", tr("error")],
    ["G", "G = 2E \u2299 M", tr("gradient at Z")],
    ["dW", "\u2202f/\u2202W = X\u1d40G", tr("shape of W")],
    ["dX", "\u2202f/\u2202X = GW\u1d40", tr("shape of X")],
    ["dY", "\u2202f/\u2202Y = \u22122E", tr("shape of Y")]
  ];
  var SHAPED_AS_Z = ["Z", "M", "E", "G", "dY"];
  var INPUTS = [["W", "W", tr("weights")], ["X", "X", tr("inputs")], ["Y", "Y", tr("targets")]];   // W first: on a phone, nearest M
  var SIZES = {m: [1, 10], k: [1, 6], n: [1, 6]};

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") { node.textContent = attrs[key]; } else { node.setAttribute(key, attrs[key]); }
    });
    (children || []).forEach(function (child) { if (child) { node.appendChild(child); } });
    return node;
  }

  function Explorer(root) {
    this.root = root;
    this.uid = root.id || "relu-explorer";
    var data = window.RELU_EXPLORER_DATA || {};
    this.homework = data.homework || null;
    this.state = {slope: 0, lr: 0.02, seed: 1, kind: "normal"};
    this.build();
    this.load(this.presets()[0]);
  }

  Explorer.prototype.presets = function () {
    var list = [{id: "small", label: tr("Small, 6 \u00d7 4 \u00d7 3"), m: 6, k: 4, n: 3, seed: 1,
                 kind: "normal"}];
    if (this.homework) {
      list.push({id: "homework", label: tr("The homework, 10 \u00d7 4 \u00d7 4"),
                 values: this.homework});
    }
    list.push({id: "zeros", label: tr("Exact zeros in Z, 6 \u00d7 3 \u00d7 4"), m: 6, k: 3,
               n: 4, seed: 2, kind: "integers"});
    list.push({id: "dying", label: tr("A unit that dies, 6 \u00d7 4 \u00d7 3"), m: 6, k: 4,
               n: 3, seed: 3, kind: "dying"});
    list.push({id: "zeroW", label: "W = 0, 6 \u00d7 4 \u00d7 3", m: 6, k: 4, n: 3, seed: 1,
               kind: "zeroW"});
    return list;
  };

  Explorer.prototype.id = function (name) { return this.uid + "-" + name; };

  Explorer.prototype.field = function (label, control, hint) {
    control.id = control.id || this.id(label.replace(/\W+/g, "-").toLowerCase());
    return el("div", {class: "rx-field"}, [el("label", {for: control.id, text: label}), control,
                                           hint ? el("span", {class: "rx-hint", text: hint}) : null]);
  };

  Explorer.prototype.build = function () {
    var self = this, root = this.root;
    root.textContent = "";
    root.classList.add("rx");

    // Controls: preset, sizes, seed and kind of draw, slope at zero, learning rate and the step buttons.
    var preset = el("select", {id: this.id("preset")});
    this.presets().forEach(function (p) { preset.appendChild(el("option", {value: p.id, text: p.label})); });
    preset.addEventListener("change", function () {
      self.load(self.presets().filter(function (p) { return p.id === preset.value; })[0]);
    });
    this.sizeControls = {};
    var sizes = ["m", "k", "n"].map(function (name) {
      var select = el("select", {id: self.id("size-" + name)});
      for (var s = SIZES[name][0]; s <= SIZES[name][1]; s++) { select.appendChild(el("option", {value: s, text: s})); }
      select.addEventListener("change", function () { self.redraw(); });
      self.sizeControls[name] = select;
      return self.field(name === "m" ? tr("m (samples)") : name === "k" ? tr("k (inputs)") : tr("n (units)"), select);
    });
    var seed = el("input", {type: "text", inputmode: "numeric", id: this.id("seed"), value: "1", size: "6",
                            autocomplete: "off"});
    var kind = el("select", {id: this.id("kind")});
    [["normal", tr("normal, two decimals")], ["integers", tr("integers \u22122 to 2 (exact zeros)")],
     ["zeroW", tr("normal, with W = 0")], ["dying", tr("inputs \u2265 0, last unit's targets < 0")]].forEach(function (o) {
      kind.appendChild(el("option", {value: o[0], text: o[1]}));
    });
    var drawButton = el("button", {type: "button", class: "rx-button", id: this.id("draw"),
                                   text: tr("Re-draw from the seed")});
    drawButton.addEventListener("click", function () { self.redraw(); });
    this.seedInput = seed;
    this.kindSelect = kind;
    this.presetSelect = preset;

    var slope = el("fieldset", {class: "rx-slope"}, [el("legend", {text: tr("Slope of the ReLU at exactly 0")})]);
    [[0, tr("ReLU\u2032(0) = 0, as PyTorch")], [1, tr("ReLU\u2032(0) = 1, as Z \u2299 (Z \u2265 0)")]].forEach(function (o) {
      var input = el("input", {type: "radio", name: self.id("slope"), value: String(o[0]), id: self.id("slope-" + o[0])});
      if (o[0] === 0) { input.checked = true; }
      input.addEventListener("change", function () { if (input.checked) { self.state.slope = o[0]; self.update(false, null, "keep"); } });
      slope.appendChild(el("span", {class: "rx-radio"}, [input, el("label", {for: input.id, text: o[1]})]));
    });

    var lr = el("input", {type: "text", inputmode: "decimal", id: this.id("lr"), value: "0.02", size: "6",
                          autocomplete: "off"});
    lr.addEventListener("input", function () {
      var v = parse(lr.value);
      lr.setAttribute("aria-invalid", v === null || v <= 0 ? "true" : "false");
      if (v !== null && v > 0) { self.state.lr = v; }
    });
    var step = el("button", {type: "button", class: "rx-button rx-primary", id: this.id("step"),
                             text: tr("Take a gradient step")});
    step.addEventListener("click", function () { self.step(1); });
    var step10 = el("button", {type: "button", class: "rx-button", id: this.id("step10"), text: tr("Take 10 steps")});
    step10.addEventListener("click", function () { self.step(10); });

    root.appendChild(el("div", {class: "rx-controls"}, [
      el("div", {class: "rx-group"}, [this.field(tr("Example"), preset)].concat(sizes)),
      el("div", {class: "rx-group"}, [this.field(tr("Seed"), seed), this.field(tr("Draw"), kind), drawButton]),
      el("div", {class: "rx-group"}, [slope]),
      el("div", {class: "rx-group"}, [this.field(tr("Learning rate"), lr), step, step10])
    ]));

    // The objective, the steps taken so far, and what just changed (read out by screen readers).
    this.fValue = el("output", {class: "rx-f", id: this.id("f"), "aria-live": "off"});
    this.history = el("p", {class: "rx-history", id: this.id("history")});
    this.spark = el("div", {class: "rx-spark", "aria-hidden": "true"});
    this.news = el("p", {class: "rx-news", id: this.id("news"), role: "status"});
    root.appendChild(el("div", {class: "rx-summary"}, [
      el("p", {class: "rx-objective"}, [el("span", {text: "f = \u2016E\u2016"}), el("sub", {text: "F"}),
                                    el("sup", {text: "2"}), el("span", {text: " = "}), this.fValue]),
      this.history, this.spark, this.news]));
    this.zeroNote = el("div", {class: "rx-zero-note", id: this.id("zeros")});
    root.appendChild(this.zeroNote);
    root.appendChild(el("p", {class: "rx-help", id: this.id("help"),
      text: tr("Change an entry of X, W or Y by typing a number, with the up and down arrow keys (0.1; with Shift, 1), " +
               "or by dragging it sideways. \u25b2 marks an entry of M that just switched on, \u25bc one that just " +
               "switched off; a dashed outline marks an entry of Z that is exactly 0.")}));

    this.grid = el("div", {class: "rx-grid"});
    root.appendChild(this.grid);
  };

  Explorer.prototype.load = function (preset) {
    this.presetSelect.value = preset.id;
    if (preset.values) {
      var v = preset.values;
      this.X = v.X.map(function (r) { return r.slice(); });
      this.W = v.W.map(function (r) { return r.slice(); });
      this.Y = v.Y.map(function (r) { return r.slice(); });
    } else {
      this.seedInput.value = String(preset.seed);
      this.kindSelect.value = preset.kind;
      var d = draw(preset.m, preset.k, preset.n, preset.seed, preset.kind);
      this.X = d.X; this.W = d.W; this.Y = d.Y;
    }
    this.reset();
  };

  Explorer.prototype.redraw = function () {
    var seed = parse(this.seedInput.value);
    this.seedInput.setAttribute("aria-invalid", seed === null ? "true" : "false");
    if (seed === null) { return; }
    var sz = this.sizeControls;
    var d = draw(Number(sz.m.value), Number(sz.k.value), Number(sz.n.value), Math.round(Math.abs(seed)),
                 this.kindSelect.value);
    this.X = d.X; this.W = d.W; this.Y = d.Y;
    this.reset();
  };

  // Set every input at once (the tests use this after filling the cells; readers never need it).
  Explorer.prototype.setInputs = function (X, W, Y) {
    this.X = X; this.W = W; this.Y = Y;
    this.reset();
  };

  Explorer.prototype.reset = function () {
    var m = this.X.length, k = this.W.length, n = this.W[0].length;
    this.sizeControls.m.value = m; this.sizeControls.k.value = k; this.sizeControls.n.value = n;
    this.previous = null;
    this.fHistory = [];
    this.deaths = [];
    this.layout();
    this.update(true);
  };

  // One panel per matrix: inputs hold text fields, outputs plain cells; each a table with a caption.
  Explorer.prototype.panel = function (key, title, note, rows, cols, editable) {
    var self = this;
    var table = el("table", {class: "rx-matrix", "data-matrix": key, id: this.id("m-" + key)});
    table.appendChild(el("caption", {}, [el("span", {class: "rx-title", text: title}),
                                         el("span", {class: "rx-shape", text: " " + rows + "\u00d7" + cols + ", " + note})]));
    var head = el("tr", {}, [el("td", {class: "rx-corner"})]);
    for (var j = 0; j < cols; j++) { head.appendChild(el("th", {scope: "col", text: String(j + 1)})); }
    table.appendChild(el("thead", {}, [head]));
    var body = el("tbody");
    var cells = [];
    for (var i = 0; i < rows; i++) {
      var line = el("tr", {}, [el("th", {scope: "row", text: String(i + 1)})]);
      var row = [];
      for (j = 0; j < cols; j++) {
        var td = el("td", {class: "rx-cell"});
        if (editable) {
          var input = el("input", {type: "text", inputmode: "decimal", autocomplete: "off", spellcheck: "false",
                                   class: "rx-in", "aria-label": tr("{matrix} row {row}, column {column}", {matrix: key, row: i + 1, column: j + 1}),
                                   "aria-describedby": this.id("help"), "data-row": i, "data-col": j});
          this.wire(input, key, i, j);
          td.appendChild(input);
          row.push(input);
        } else {
          td.appendChild(el("span", {class: "rx-v"}));
          td.appendChild(el("span", {class: "rx-alt"}));
          row.push(td);
        }
        line.appendChild(td);
      }
      cells.push(row);
      body.appendChild(line);
    }
    table.appendChild(body);
    var scroller = el("div", {class: "rx-scroll"}, [table]);
    var box = el("section", {class: "rx-panel" + (editable ? " rx-input" : ""), "aria-labelledby": table.id}, [scroller]);
    self.cells[key] = cells;
    return box;
  };

  Explorer.prototype.layout = function () {
    var self = this, m = this.X.length, k = this.W.length, n = this.W[0].length;
    var shapes = {X: [m, k], W: [k, n], Y: [m, n], Z: [m, n], M: [m, n], E: [m, n], G: [m, n], dW: [k, n],
                  dX: [m, k], dY: [m, n]};
    this.cells = {};
    this.grid.textContent = "";
    var inputs = el("div", {class: "rx-row rx-inputs"}), outputs = el("div", {class: "rx-row rx-outputs"});
    INPUTS.forEach(function (d) { inputs.appendChild(self.panel(d[0], d[1], d[2], shapes[d[0]][0], shapes[d[0]][1], true)); });
    OUTPUTS.forEach(function (d) { outputs.appendChild(self.panel(d[0], d[1], d[2], shapes[d[0]][0], shapes[d[0]][1], false)); });
    this.grid.appendChild(el("h2", {class: "rx-heading", text: tr("Change these")}));
    this.grid.appendChild(inputs);
    this.grid.appendChild(el("h2", {class: "rx-heading", text: tr("Watch these")}));
    this.grid.appendChild(outputs);
  };

  // Typing, arrow keys and sideways dragging on one entry of X, W or Y.
  Explorer.prototype.wire = function (input, key, i, j) {
    var self = this;
    function set(v, keepText) {
      self[key][i][j] = v;
      if (!keepText) { input.value = showInput(v); }
      self.update(false, keepText ? input : null);
    }
    input.addEventListener("input", function () {
      var v = parse(input.value);
      input.setAttribute("aria-invalid", v === null ? "true" : "false");
      if (v !== null) { set(v, true); }
    });
    input.addEventListener("blur", function () {
      input.setAttribute("aria-invalid", "false");
      input.value = showInput(self[key][i][j]);
    });
    input.addEventListener("keydown", function (event) {
      var delta = {ArrowUp: 0.1, ArrowDown: -0.1, PageUp: 1, PageDown: -1}[event.key];
      if (delta === undefined) { return; }
      if (event.shiftKey) { delta *= 10; }
      event.preventDefault();
      set(round2(self[key][i][j] + delta), false);
    });
    // Dragging sideways (vertical swipes still scroll the page: touch-action pan-y): 0.01 per pixel.
    var start = null;
    input.addEventListener("pointerdown", function (event) {
      if (event.button !== 0) { return; }
      start = {x: event.clientX, v: self[key][i][j], dragging: false, id: event.pointerId};
    });
    input.addEventListener("pointermove", function (event) {
      if (!start || event.pointerId !== start.id) { return; }
      var dx = event.clientX - start.x;
      if (!start.dragging && Math.abs(dx) < 6) { return; }
      if (!start.dragging) {
        start.dragging = true;
        try { input.setPointerCapture(event.pointerId); } catch (e) { /* already released */ }
        input.classList.add("rx-dragging");
      }
      event.preventDefault();
      set(round2(start.v + dx * (event.shiftKey ? 0.1 : 0.01)), false);
    });
    function end() {
      if (start && start.dragging) { input.classList.remove("rx-dragging"); }
      start = null;
    }
    input.addEventListener("pointerup", end);
    input.addEventListener("pointercancel", end);
  };

  Explorer.prototype.step = function (count) {
    for (var s = 0; s < count; s++) {
      var r = layer(this.X, this.W, this.Y, this.state.slope), lr = this.state.lr;
      this.W = map2(this.W, function (w, i, j) { return w - lr * r.dW[i][j]; });
      var after = layer(this.X, this.W, this.Y, this.state.slope);
      this.fHistory.push(after.f);
      this.noteDeaths(after);
    }
    this.update(true, null, "stepped");
  };

  // A unit j is dead when its column of M is all zeros: it passes no gradient to W or X.
  function deadUnits(M) {
    var dead = [];
    for (var j = 0; j < M[0].length; j++) {
      if (M.every(function (row) { return row[j] === 0; })) { dead.push(j); }
    }
    return dead;
  }
  Explorer.prototype.noteDeaths = function (r) {
    var before = this.lastDead || [];
    var now = deadUnits(r.M), self = this;
    now.forEach(function (j) {
      if (before.indexOf(j) < 0 && self.fHistory.length > 1) { self.deaths.push({unit: j, step: self.fHistory.length - 1}); }
    });
    this.lastDead = now;
  };

  Explorer.prototype.update = function (refill, typing, stepped) {
    var self = this;
    var r = layer(this.X, this.W, this.Y, this.state.slope);
    var dark = document.documentElement.dataset.theme === "dark";
    this.result = r;
    if (!stepped) { this.fHistory = [r.f]; this.deaths = []; this.lastDead = deadUnits(r.M); }

    // Inputs: value, colour, and the exact value for anyone reading the page's data.
    INPUTS.forEach(function (d) {
      var key = d[0], A = self[key], scale = maxAbs(A);
      self.cells[key].forEach(function (row, i) {
        row.forEach(function (input, j) {
          var c = colours(A[i][j], scale, dark);
          input.style.background = c.background;
          input.style.color = c.color;
          input.setAttribute("data-v", String(A[i][j]));
          if (input !== typing && (refill || document.activeElement !== input)) {
            input.value = showInput(A[i][j]);
          }
        });
      });
    });

    // Outputs, with the entries of M that switched since the last change and the exact zeros of Z.
    var previous = this.previous, switched = {on: [], off: []};
    var other = layer(this.X, this.W, this.Y, 1 - this.state.slope);
    var dead = deadUnits(r.M);
    OUTPUTS.forEach(function (d) {
      var key = d[0], A = r[key], scale = key === "M" ? 1 : maxAbs(A);
      self.cells[key].forEach(function (row, i) {
        row.forEach(function (td, j) {
          var v = A[i][j], c = colours(v, scale, dark, key === "M"), zero = SHAPED_AS_Z.indexOf(key) >= 0 && r.Z[i][j] === 0;
          td.firstChild.textContent = key === "M" ? String(v) : show(v);
          td.style.background = c.background;
          td.style.color = c.color;
          td.setAttribute("data-v", String(v));
          td.classList.toggle("rx-zero", zero && (key === "Z" || key === "M"));
          td.classList.toggle("rx-dead", dead.indexOf(j) >= 0 && (key === "M" || key === "Z"));
          var alt = "";
          if (zero && (key === "M" || key === "G")) {
            alt = tr("or {value}", {value: key === "M" ? String(other.M[i][j]) : show(other.G[i][j])});
          }
          td.lastChild.textContent = alt;
          var mark = "";
          if (key === "M" && previous && previous.length === A.length && previous[0].length === A[0].length &&
              previous[i][j] !== v) {
            mark = v > previous[i][j] ? "on" : "off";
            switched[mark].push("(" + (i + 1) + ", " + (j + 1) + ")");
          }
          td.classList.toggle("rx-on", mark === "on");
          td.classList.toggle("rx-off", mark === "off");
          if (key === "M") {
            td.setAttribute("aria-label", String(v) +
                            (mark === "on" ? tr(", just switched on") : mark === "off" ? tr(", just switched off") : "") +
                            (zero ? tr(", Z is exactly 0: {other}", {other: alt}) : "") +
                            (dead.indexOf(j) >= 0 ? tr(", dead unit") : ""));
          }
        });
      });
    });
    this.previous = r.M.map(function (row) { return row.slice(); });

    // f, its history over gradient steps, and what happened.
    this.fValue.textContent = r.f.toPrecision(6);
    this.fValue.setAttribute("data-v", String(r.f));
    var h = this.fHistory;
    if (h.length > 1) {
      var taken = {steps: h.length - 1, lr: this.state.lr, from: h[0].toPrecision(6), to: h[h.length - 1].toPrecision(6)};
      this.history.textContent = h.length > 2 ?
        tr("After {steps} gradient steps on W (learning rate {lr}): f went from {from} to {to}.", taken) :
        tr("After {steps} gradient step on W (learning rate {lr}): f went from {from} to {to}.", taken);
    } else {
      this.history.textContent = tr("No gradient step taken yet.");
    }
    this.spark.textContent = "";
    if (h.length > 1) { this.spark.appendChild(sparkline(h)); }
    var news = [];
    if (switched.on.length) { news.push(tr("Switched on in M: {entries}.", {entries: switched.on.join(", ")})); }
    if (switched.off.length) { news.push(tr("Switched off in M: {entries}.", {entries: switched.off.join(", ")})); }
    news.push(dead.length ? tr("Dead units (a column of M all zeros, no gradient to W): {units} of {count}.",
                               {units: dead.map(function (j) { return j + 1; }).join(", "), count: r.M[0].length}) :
              tr("No dead unit: every unit is active for some sample."));
    if (this.deaths.length) {
      news.push(this.deaths.map(function (d) { return tr("Unit {unit} died at step {step}.", {unit: d.unit + 1, step: d.step}); }).join(" "));
    }
    this.news.textContent = news.join(" ");
    this.describeZeros(r, other);
  };

  Explorer.prototype.describeZeros = function (r, other) {
    var where = [];
    r.Z.forEach(function (row, i) { row.forEach(function (z, j) { if (z === 0) { where.push([i, j]); } }); });
    var note = this.zeroNote;
    note.textContent = "";
    if (!where.length) {
      note.appendChild(el("p", {text: tr("No entry of Z is exactly 0, so both slopes at 0 give the same gradients. " +
        "Try the integer draw, or type values that make an entry of Z zero.")}));
      return;
    }
    var slope0 = this.state.slope === 0 ? r : other, slope1 = this.state.slope === 0 ? other : r;
    var diff = 0;
    slope0.dW.forEach(function (row, i) { row.forEach(function (v, j) { diff = Math.max(diff, Math.abs(v - slope1.dW[i][j])); }); });
    var zeros = {count: where.length, change: show(diff).replace("+", ""),
                 entries: where.map(function (p) { return "(" + (p[0] + 1) + ", " + (p[1] + 1) + ")"; }).join(", ")};
    note.appendChild(el("p", {text: where.length > 1 ?
      tr("{count} entries of Z are exactly 0: {entries}. There M and G depend on the slope chosen at 0 (the other " +
         "value is shown under each entry). The largest change in \u2202f/\u2202W between ReLU\u2032(0) = 0 and " +
         "ReLU\u2032(0) = 1: {change}.", zeros) :
      tr("{count} entry of Z is exactly 0: {entries}. There M and G depend on the slope chosen at 0 (the other " +
         "value is shown under each entry). The largest change in \u2202f/\u2202W between ReLU\u2032(0) = 0 and " +
         "ReLU\u2032(0) = 1: {change}.", zeros)}));
  };

  function maxAbs(A) {
    var s = 0;
    A.forEach(function (row) { row.forEach(function (v) { s = Math.max(s, Math.abs(v)); }); });
    return s;
  }

  function sparkline(values) {
    var ns = "http://www.w3.org/2000/svg", w = 240, hgt = 48;
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 " + w + " " + hgt);
    svg.setAttribute("width", w);
    svg.setAttribute("height", hgt);
    var lo = Math.min.apply(null, values), hi = Math.max.apply(null, values), span = hi - lo || 1;
    var points = values.map(function (v, i) {
      return (4 + i * (w - 8) / Math.max(1, values.length - 1)).toFixed(1) + "," +
             (4 + (hgt - 8) * (hi - v) / span).toFixed(1);
    });
    var line = document.createElementNS(ns, "polyline");
    line.setAttribute("points", points.join(" "));
    line.setAttribute("fill", "none");
    line.setAttribute("stroke", "currentColor");
    line.setAttribute("stroke-width", "2");
    svg.appendChild(line);
    return svg;
  }

  function start() {
    var roots = document.querySelectorAll(".relu-explorer");
    for (var i = 0; i < roots.length; i++) {
      var explorer = new Explorer(roots[i]);
      roots[i].explorer = explorer;
      // Colours follow the theme's light and dark modes.
      new MutationObserver(function () { this.update(true, null, "keep"); }.bind(explorer))
        .observe(document.documentElement, {attributes: true, attributeFilter: ["data-theme"]});
    }
  }
  window.ReluExplorer = {layer: layer, draw: draw, show: show};
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
