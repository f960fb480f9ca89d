// Instance browser of a run page. Rows live in data/rows_NNNN.js and the search index in data/index_NNNN.js;
// each file assigns its part to a global, and is loaded with a <script> element when needed, which works
// from file:// as well as from a web server. Only the chunks a page shows are ever loaded.
(function () {
  "use strict";
  var run = window.MERCURY_RUN;
  var PAGE_SIZE = 20;
  var container = document.getElementById("instances");
  var searchBox = document.getElementById("search");
  var prevButton = document.getElementById("prev");
  var nextButton = document.getElementById("next");
  var pageInfo = document.getElementById("page-info");
  var loading = {};
  var state = { page: 0, matches: null, query: "", busy: 0 };

  function pad(k) { return ("0000" + k).slice(-4); }

  function loadScript(src) {
    if (!loading[src]) {
      loading[src] = new Promise(function (resolve, reject) {
        var script = document.createElement("script");
        script.src = src;
        script.onload = resolve;
        script.onerror = function () { delete loading[src]; reject(new Error("cannot load " + src)); };
        document.head.appendChild(script);
      });
    }
    return loading[src];
  }

  function rowsChunk(k) {
    window.MERCURY_ROWS = window.MERCURY_ROWS || {};
    if (window.MERCURY_ROWS[k]) return Promise.resolve(window.MERCURY_ROWS[k]);
    return loadScript("data/rows_" + pad(k) + ".js").then(function () { return window.MERCURY_ROWS[k]; });
  }

  function indexChunk(k) {
    window.MERCURY_INDEX = window.MERCURY_INDEX || {};
    if (window.MERCURY_INDEX[k]) return Promise.resolve(window.MERCURY_INDEX[k]);
    return loadScript("data/index_" + pad(k) + ".js").then(function () { return window.MERCURY_INDEX[k]; });
  }

  function row(i) {
    return rowsChunk(Math.floor(i / run.rowsPerChunk)).then(function (chunk) { return chunk[i % run.rowsPerChunk]; });
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function fmt(v) { return typeof v === "number" ? (Math.round(v * 1000) / 1000).toString() : String(v); }

  function renderRow(r, i) {
    var card = el("article", "instance");
    card.setAttribute("data-row", i);
    var meta = el("div", "meta");
    meta.appendChild(el("span", "id", r.id || "#" + i));
    meta.appendChild(el("span", null, r.split));
    meta.appendChild(el("span", null, r.perturbation ? "perturbation: " + r.perturbation : "original"));
    if (r.trial) meta.appendChild(el("span", null, "trial " + r.trial));
    if (run.mainMetric && r.metrics[run.mainMetric] !== undefined) {
      var v = r.metrics[run.mainMetric];
      meta.appendChild(el("span", v > 0 ? "score-good" : "score-bad", run.mainMetric + " = " + fmt(v)));
    }
    card.appendChild(meta);
    card.appendChild(el("div", "label", "Input"));
    card.appendChild(el("pre", "input", r.input));
    if (r.references.length) {
      card.appendChild(el("div", "label", "References"));
      var refs = el("ul", "refs");
      r.references.forEach(function (ref) {
        refs.appendChild(el("li", ref[1] ? "correct" : null, (ref[1] ? "✓ " : "") + ref[0]));
      });
      card.appendChild(refs);
    }
    r.requests.forEach(function (req, k) {
      var suffix = r.requests.length > 1 ? " " + (k + 1) : "";
      card.appendChild(el("div", "label", "Completion" + suffix));
      if (req.error) card.appendChild(el("pre", "error", "request failed: " + req.error));
      req.completions.forEach(function (text) { card.appendChild(el("pre", "completion", text)); });
      var details = el("details");
      details.appendChild(el("summary", null, "Prompt" + suffix));
      details.appendChild(el("pre", "prompt", req.prompt));
      card.appendChild(details);
    });
    var names = Object.keys(r.metrics);
    if (names.length) {
      card.appendChild(el("div", "metrics", names.map(function (n) { return n + "=" + fmt(r.metrics[n]); }).join("  ")));
    }
    return card;
  }

  function total() { return state.matches ? state.matches.length : run.numRows; }

  function render() {
    var count = total();
    var pages = Math.max(1, Math.ceil(count / PAGE_SIZE));
    state.page = Math.min(state.page, pages - 1);
    var start = state.page * PAGE_SIZE;
    var indices = [];
    for (var k = start; k < Math.min(start + PAGE_SIZE, count); k++) indices.push(state.matches ? state.matches[k] : k);
    prevButton.disabled = state.page === 0;
    nextButton.disabled = state.page >= pages - 1;
    var what = state.matches ? count + " matching “" + state.query + "”" : count + " instances";
    pageInfo.textContent = count ? "Page " + (state.page + 1) + " of " + pages + " · " + what : "No instance · " + what;
    var ticket = ++state.busy;
    return Promise.all(indices.map(row)).then(function (rows) {
      if (ticket !== state.busy) return;
      container.textContent = "";
      rows.forEach(function (r, n) { container.appendChild(renderRow(r, indices[n])); });
      container.setAttribute("data-page", state.page);
    }).catch(function (error) { container.textContent = String(error); });
  }

  function search(query) {
    var terms = query.toLowerCase().split(/\s+/).filter(Boolean);
    state.query = query.trim();
    state.page = 0;
    if (!terms.length) { state.matches = null; return render(); }
    var ticket = ++state.busy;
    pageInfo.textContent = "Searching…";
    var matches = [];
    var chain = Promise.resolve();
    for (var k = 0; k < run.numIndexChunks; k++) {
      (function (k) {
        chain = chain.then(function () { return indexChunk(k); }).then(function (entries) {
          var base = k * run.indexRowsPerChunk;
          entries.forEach(function (entry, n) {
            for (var t = 0; t < terms.length; t++) if (entry[0].indexOf(terms[t]) < 0) return;
            matches.push(base + n);
          });
        });
      })(k);
    }
    return chain.then(function () {
      if (ticket !== state.busy) return;
      state.matches = matches;
      return render();
    });
  }

  var timer = null;
  searchBox.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () { search(searchBox.value); }, 200);
  });
  prevButton.addEventListener("click", function () { state.page--; render(); });
  nextButton.addEventListener("click", function () { state.page++; render(); });
  render();
})();
