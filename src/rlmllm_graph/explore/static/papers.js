/* The paper list of rlmllm-graph: every paper of data/papers.js, only the rows in view in the DOM.
 *
 * Rows have one fixed height; a spacer gives the list its full height and the rows in view
 * (plus a margin) are laid out absolutely on each scroll. Search (every word, anywhere in the
 * title, authors, venue or labels) and sort work on the data arrays, not on the DOM. A click on
 * a row opens the paper's details: its labels with confidence, source, evidence and where the
 * evidence came from, and "not stated" for facets no text settles. Text goes in by textContent.
 *
 * window.paperList exposes the state for tests.
 */
(function () {
  "use strict";
  var S = window.rlmSite, el = S.el, $ = function (id) { return document.getElementById(id); };
  var ROW = 52, MARGIN = 8;

  function fail(err) {
    $("paper-count").textContent = "The paper list could not be loaded: " + (err && err.message ? err.message : err);
    document.body.dataset.ready = "1";
  }
  window.rlmData("papers").then(function (d) {
    try { if (d.header.text === false) startLive(new S.Papers(d)); else start(new S.Papers(d)); } catch (e) { fail(e); throw e; }
  }, fail);

  function getJSON(url) {
    return fetch(url).then(function (r) {
      return r.json().then(function (body) { if (!r.ok) throw new Error(body.error || r.status); return body; });
    });
  }

  // Served by `rlmllm-graph serve` from a big database: the page holds ids and titles only; the rows in
  // view come from /api/papers a page at a time (sorted and searched by the database), details from
  // /api/paper/ID. Nothing is downloaded that is not shown.
  function startLive(P) {
    var PAGE = 100, list = $("papers"), spacer = $("papers-spacer"), box = $("paper-search"), count = $("paper-count");
    var state = { sort: "date", descending: true, total: 0, pages: {}, rendered: [], requests: 0, seq: 0 };
    document.querySelectorAll("#papers-head [data-sort=in_corpus], #papers-head [data-sort=pagerank]").forEach(function (h) {
      h.removeAttribute("data-sort"); h.title = "Sorted only in the static report";
    });
    function load(k) {
      var key = Math.floor(k / PAGE);
      if (state.pages[key]) return;
      state.pages[key] = "loading";
      var seq = state.seq;
      state.requests++;
      getJSON("api/papers?offset=" + key * PAGE + "&limit=" + PAGE + "&sort=" + state.sort + "&order=" +
        (state.descending ? "desc" : "asc") + "&q=" + encodeURIComponent(box.value.trim())).then(function (res) {
        if (seq !== state.seq) return;
        state.pages[key] = res.papers; state.total = res.total; render();
      }, function (err) { count.textContent = "The server could not answer: " + err.message; });
    }
    function row(k) { var pg = state.pages[Math.floor(k / PAGE)]; return pg && pg !== "loading" ? pg[k % PAGE] : null; }
    var pool = [];
    function render() {
      count.textContent = state.total.toLocaleString("en") + " papers" + (box.value.trim() ? " match" : "");
      spacer.style.height = (state.total * ROW) + "px";
      var top = list.scrollTop, h = list.clientHeight || 600;
      var first = Math.max(0, Math.floor(top / ROW) - MARGIN), last = Math.min(state.total, Math.ceil((top + h) / ROW) + MARGIN);
      while (pool.length < last - first) { var div = el("div", "vrow"); div.setAttribute("role", "row"); list.appendChild(div); pool.push(div); }
      while (pool.length > Math.max(0, last - first)) list.removeChild(pool.pop());
      state.rendered = [];
      for (var k = first; k < last; k++) {
        var d = pool[k - first], r = row(k);
        d.style.top = (k * ROW) + "px";
        d.replaceChildren();
        if (!r) { load(k); d.appendChild(el("span", "c-title muted", "…")); continue; }
        d.dataset.id = r.paper_id;
        var t = el("span", "c-title"), a = el("a", "title", r.title || "(untitled)");
        a.href = "graph.html#paper=" + encodeURIComponent(r.paper_id);
        a.addEventListener("click", function (ev) { ev.stopPropagation(); });
        t.appendChild(a); d.appendChild(t);
        d.appendChild(el("span", "c-date", r.publication_date || r.year || ""));
        d.appendChild(el("span", "c-venue", r.venue || ""));
        d.appendChild(el("span", "c-num", r.citation_count === null ? "" : r.citation_count.toLocaleString("en")));
        var i = P.indexOf(r.paper_id);
        d.appendChild(el("span", "c-num", i >= 0 ? String(P.a.in_corpus[i]) : ""));
        d.appendChild(el("span", "c-num", i >= 0 ? P.a.pagerank[i].toFixed(4) : ""));
        var lab = el("span", "c-labels");
        r.labels.forEach(function (l) { if (!(l[0] === "relevance" && l[1] === "other")) lab.appendChild(el("span", "chip chip-" + l[0], l[1])); });
        d.appendChild(lab);
        state.rendered.push(r.paper_id);
      }
    }
    function reset() { state.seq++; state.pages = {}; list.scrollTop = 0; load(0); }
    list.addEventListener("scroll", render, { passive: true });
    list.addEventListener("click", function (ev) {
      var r = ev.target.closest ? ev.target.closest(".vrow") : null;
      if (r && r.dataset.id) showLive(r.dataset.id);
    });
    function showLive(id) {
      getJSON("api/paper/" + encodeURIComponent(id)).then(function (p) {
        var body = $("details-body");
        body.replaceChildren();
        body.appendChild(el("h2", "paper-title", p.title || "(untitled)"));
        body.appendChild(S.apiPaperText(P, p));
        $("details").hidden = false;
      }, function (err) { count.textContent = "The server could not answer: " + err.message; });
    }
    $("details-close").addEventListener("click", function () { $("details").hidden = true; });
    document.querySelectorAll("#papers-head [data-sort]").forEach(function (h) {
      h.addEventListener("click", function () {
        var k = h.dataset.sort;
        if (state.sort === k) state.descending = !state.descending; else { state.sort = k; state.descending = k !== "title" && k !== "venue"; }
        document.querySelectorAll("#papers-head [data-sort]").forEach(function (x) { x.removeAttribute("aria-sort"); });
        h.setAttribute("aria-sort", state.descending ? "descending" : "ascending");
        reset();
      });
    });
    var timer = null;
    box.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(reset, 200); });
    getJSON("api/papers?offset=0&limit=" + PAGE + "&sort=date&order=desc").then(function (res) {
      state.pages[0] = res.papers; state.total = res.total; state.requests++; render();
      document.body.dataset.ready = "1";
    }, fail);
    window.paperList = {
      state: state, live: true,
      shown: function () { return state.total; },
      domRows: function () { return list.querySelectorAll(".vrow").length; },
      scrollToEnd: function () { list.scrollTop = list.scrollHeight; render(); },
      rowHeight: ROW
    };
  }

  function start(P) {
    var N = P.n, c = P.c, a = P.a;
    var list = $("papers"), spacer = $("papers-spacer"), box = $("paper-search"), count = $("paper-count");
    var rows = new Uint32Array(N), shown = N, haystack = null;
    var state = { sort: "date", descending: true, rendered: [], selected: null };

    function dateKey(i) { return (c.date && c.date[i]) || (a.year[i] ? String(a.year[i]) : ""); }
    var KEYS = {
      title: function (i) { return P.title(i).toLowerCase(); }, date: dateKey,
      venue: function (i) { return (c.venue[i] || "").toLowerCase(); },
      citations: function (i) { return a.citations[i]; }, in_corpus: function (i) { return a.in_corpus[i]; },
      pagerank: function (i) { return a.pagerank[i]; }
    };
    var base = null;  // every paper in the current sort order
    function sortAll() {
      var key = KEYS[state.sort], keys = new Array(N), idx = new Array(N), dir = state.descending ? -1 : 1;
      for (var i = 0; i < N; i++) { keys[i] = key(i); idx[i] = i; }
      idx.sort(function (x, y) {
        var p = keys[x], q = keys[y];
        if (p === "" && q !== "") return 1; if (q === "" && p !== "") return -1;  // unknown last either way
        return (p < q ? -1 : p > q ? 1 : 0) * dir || x - y;
      });
      base = Uint32Array.from(idx);
    }
    function text(i) {
      var parts = [P.title(i), c.authors[i], c.venue[i], dateKey(i)];
      P.labels(i).forEach(function (l) { parts.push(l.facet + ": " + l.value, l.value, l.evidence); });
      return parts.join(" \u0001 ").toLowerCase();
    }
    function filter() {
      var words = box.value.toLowerCase().split(/\s+/).filter(Boolean);
      if (words.length && !haystack) { haystack = new Array(N); for (var k = 0; k < N; k++) haystack[k] = text(k); }
      shown = 0;
      for (var q = 0; q < N; q++) {
        var i = base[q], ok = true;
        for (var w = 0; w < words.length && ok; w++) ok = haystack[i].indexOf(words[w]) >= 0;
        if (ok) rows[shown++] = i;
      }
      count.textContent = shown === N ? N.toLocaleString("en") + " papers" :
        shown.toLocaleString("en") + " of " + N.toLocaleString("en") + " papers";
      spacer.style.height = (shown * ROW) + "px";
      render(true);
    }

    var pool = [];
    function cell(cls, txt) { return el("span", cls, txt); }
    function fillRow(div, i) {
      div.replaceChildren();
      div.dataset.id = c.id[i];
      div.dataset.index = String(i);
      var t = cell("c-title");
      var ta = el("a", "title", P.title(i));
      ta.href = "graph.html#paper=" + encodeURIComponent(c.id[i]);
      ta.title = "Show in the graph explorer";
      ta.addEventListener("click", function (ev) { ev.stopPropagation(); });
      t.appendChild(ta);
      t.appendChild(el("span", "authors muted", c.authors[i]));
      div.appendChild(t);
      div.appendChild(cell("c-date", dateKey(i)));
      div.appendChild(cell("c-venue", c.venue[i]));
      var ct = P.citations(i);
      div.appendChild(cell("c-num", ct === null ? "" : ct.toLocaleString("en")));
      div.appendChild(cell("c-num", String(a.in_corpus[i])));
      div.appendChild(cell("c-num", a.pagerank[i].toFixed(4)));
      var lab = cell("c-labels");
      P.labels(i).forEach(function (l) {
        if (l.facet === "relevance" && l.value === "other") return;
        var unsure = l.source !== "manual" && l.confidence !== null && l.confidence < 0.6;
        lab.appendChild(el("span", "chip chip-" + l.facet + (unsure ? " chip-unsure" : ""), l.value + (unsure ? "?" : "")));
      });
      div.appendChild(lab);
      div.classList.toggle("selected", state.selected === i);
    }
    var lastFirst = -1;
    function render(force) {
      var top = list.scrollTop, h = list.clientHeight || 600;
      var first = Math.max(0, Math.floor(top / ROW) - MARGIN), last = Math.min(shown, Math.ceil((top + h) / ROW) + MARGIN);
      if (!force && first === lastFirst && pool.length === last - first) return;
      lastFirst = first;
      var need = last - first;
      while (pool.length < need) {
        var div = el("div", "vrow"); div.setAttribute("role", "row"); list.appendChild(div); pool.push(div);
      }
      while (pool.length > need) list.removeChild(pool.pop());
      state.rendered = [];
      for (var k = 0; k < need; k++) {
        var i = rows[first + k], d = pool[k];
        d.style.top = ((first + k) * ROW) + "px";
        fillRow(d, i);
        state.rendered.push(i);
      }
    }
    list.addEventListener("scroll", function () { render(false); }, { passive: true });
    window.addEventListener("resize", function () { render(true); });

    list.addEventListener("click", function (ev) {
      var row = ev.target.closest ? ev.target.closest(".vrow") : null;
      if (row) showDetails(+row.dataset.index);
    });
    function showDetails(i) {
      state.selected = i;
      var body = $("details-body");
      body.replaceChildren();
      body.appendChild(el("h2", "paper-title", P.title(i)));
      if (c.authors[i]) body.appendChild(el("p", "authors", c.authors[i] + (a.n_authors[i] > 12 ? ", … (+" + (a.n_authors[i] - 12) + ")" : "")));
      var meta = el("dl", "meta");
      function row(k, v) { if (!v && v !== 0) return; meta.appendChild(el("dt", null, k)); meta.appendChild(el("dd", null, v)); }
      row("Date", dateKey(i)); row("Venue", c.venue[i]);
      var ct = P.citations(i);
      row("Citations", (ct === null ? "unknown" : ct.toLocaleString("en")) + " (Semantic Scholar), " + a.in_corpus[i] + " in this graph");
      body.appendChild(meta);
      body.appendChild(S.paperLinks(P, i));
      var g = el("a", "btn", "Show in the graph"); g.href = "graph.html#paper=" + encodeURIComponent(c.id[i]);
      body.lastChild.appendChild(g);
      if (c.abstract[i]) {
        var ab = el("details", "abstract"); ab.open = true;
        ab.appendChild(el("summary", null, "Abstract")); ab.appendChild(el("p", null, c.abstract[i]));
        body.appendChild(ab);
      }
      body.appendChild(el("h3", null, "Labels"));
      body.appendChild(S.labelList(P, P.labels(i)));
      $("details").hidden = false;
      render(true);
    }
    $("details-close").addEventListener("click", function () { $("details").hidden = true; state.selected = null; render(true); });

    var heads = document.querySelectorAll("#papers-head [data-sort]");
    function markSort() {
      heads.forEach(function (h) {
        if (h.dataset.sort === state.sort) h.setAttribute("aria-sort", state.descending ? "descending" : "ascending");
        else h.removeAttribute("aria-sort");
      });
    }
    heads.forEach(function (h) {
      h.addEventListener("click", function () {
        var k = h.dataset.sort;
        // numbers and dates start with the biggest/newest; a second click flips
        if (state.sort === k) state.descending = !state.descending;
        else { state.sort = k; state.descending = k !== "title" && k !== "venue"; }
        markSort(); sortAll(); list.scrollTop = 0; filter();
      });
    });
    box.addEventListener("input", function () { list.scrollTop = 0; filter(); });
    var q = new URLSearchParams(location.search).get("q");
    if (q) box.value = q;
    markSort(); sortAll(); filter();
    var id = S.paperFromHash();
    if (id !== null && P.indexOf(id) >= 0) showDetails(P.indexOf(id));
    document.body.dataset.ready = "1";

    window.paperList = {
      state: state,
      shown: function () { return shown; },
      rowOrder: function () { return Array.prototype.slice.call(rows, 0, shown).map(function (i) { return c.id[i]; }); },
      // the sort key of every shown row, in order (for tests)
      values: function (key) { var out = []; for (var k = 0; k < shown; k++) out.push(KEYS[key](rows[k])); return out; },
      domRows: function () { return list.querySelectorAll(".vrow").length; },
      scrollToEnd: function () { list.scrollTop = list.scrollHeight; render(true); },
      rowHeight: ROW
    };
  }
})();
