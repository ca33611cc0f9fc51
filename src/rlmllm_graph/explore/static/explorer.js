/* The graph explorer of rlmllm-graph: sigma.js (WebGL) over graphology.
 *
 * Reads the payload of rlmllm_graph.explore.graph_to_payload from
 * <script type="application/json" id="graph-data">. Positions are precomputed in
 * Python, so the first frame needs no physics. Every piece of paper text is
 * untrusted: it reaches the DOM through textContent only, and links are built
 * from ids with encodeURIComponent or accepted only when they are http(s).
 *
 * window.explorer exposes the state and a few actions for tests and the console.
 */
(function () {
  "use strict";

  var T0 = performance.now();
  var P = JSON.parse(document.getElementById("graph-data").textContent);
  var N = P.n;
  var NODES = P.nodes;
  var FACETS = {}, FACET_RANK = {};
  P.facets.forEach(function (f, k) { FACETS[f.name] = f; FACET_RANK[f.name] = k; });

  var PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1", "#76b7b2", "#edc948",
    "#ff9da7", "#9c755f", "#17becf", "#bcbd22", "#8c564b", "#1f3b73", "#7f7f7f"];
  var FIXED = {
    relevance: { core: "#d62728", related: "#1f77b4", other: "#b8b8b8" },
    community: { "other communities": "#aab2bd" }
  };
  var NONE_COLOUR = "#c8c8c8";
  var DIM_COLOUR = "#ececec";

  var $ = function (id) { return document.getElementById(id); };
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function safeHref(url) { return /^https?:\/\//i.test(url || "") ? url : null; }
  function yearColour(k, count) {
    // old → new: blue → yellow
    var t = count > 1 ? k / (count - 1) : 1;
    var r = Math.round(40 + t * 215), g = Math.round(80 + t * 140), b = Math.round(170 - t * 130);
    return "rgb(" + r + "," + g + "," + b + ")";
  }

  var state = {
    colourFacet: FACETS.relevance && FACETS.relevance.values.length ? "relevance" : "community",
    sizeBy: "pagerank",
    selected: null,
    neighbours: null,
    yearMin: P.years ? P.years[0] : null,
    yearMax: P.years ? P.years[1] : null,
    filters: {},          // facet → Set of allowed value indices (+ -1 for "none"); absent = all
    visible: new Uint8Array(N).fill(1),
    visibleCount: N,
    firstFrameMs: null
  };

  // ---------------------------------------------------------------- graph
  var GraphCls = graphology.Graph || graphology;
  var graph = new GraphCls({ type: "directed", multi: false, allowSelfLoops: false });
  var titlesLower = new Array(N);
  for (var i = 0; i < N; i++) {
    var t = NODES.title[i];
    titlesLower[i] = t.toLowerCase();
    graph.addNode(String(i), {
      x: NODES.x[i], y: NODES.y[i], size: 3, color: NONE_COLOUR,
      label: t.length > 60 ? t.slice(0, 57) + "…" : t
    });
  }
  var E = P.edges;
  for (var k = 0; k + 1 < E.length; k += 2) {
    var s = String(E[k]), d = String(E[k + 1]);
    if (!graph.hasEdge(s, d)) graph.addEdge(s, d, { s: E[k], t: E[k + 1], size: 0.5, color: "#cfd4da" });
  }
  var outN = [], inN = [];
  for (i = 0; i < N; i++) { outN.push([]); inN.push([]); }
  for (k = 0; k + 1 < E.length; k += 2) { outN[E[k]].push(E[k + 1]); inN[E[k + 1]].push(E[k]); }

  function valueColour(facetName, v) {
    var f = FACETS[facetName];
    if (facetName === "year") return yearColour(v, f.values.length);
    var fixed = FIXED[facetName];
    if (fixed && fixed[f.values[v]]) return fixed[f.values[v]];
    return PALETTE[v % PALETTE.length];
  }
  function colourOf(facetName, i) {
    var mem = FACETS[facetName].members[i];
    return mem.length ? valueColour(facetName, mem[0]) : NONE_COLOUR;
  }

  function sizes(by) {
    var out = new Float64Array(N), i, max = 0, vals = new Float64Array(N);
    for (i = 0; i < N; i++) {
      var v = by === "pagerank" ? NODES.pagerank[i] :
        by === "citations" ? Math.log1p(NODES.citations[i] || 0) :
        by === "in_corpus" ? Math.log1p(NODES.in_corpus[i]) : 0;
      vals[i] = v; if (v > max) max = v;
    }
    var min = Infinity;
    for (i = 0; i < N; i++) if (vals[i] < min) min = vals[i];
    var lo = N > 3000 ? 1.6 : 2, span = N > 3000 ? 9 : 12, range = max - min;
    for (i = 0; i < N; i++) out[i] = range > 0 ? lo + span * Math.sqrt((vals[i] - min) / range) : lo + 1;
    return out;
  }

  function applyStyle() {
    var sz = sizes(state.sizeBy);
    for (var i = 0; i < N; i++) {
      graph.mergeNodeAttributes(String(i), { color: colourOf(state.colourFacet, i), size: sz[i] });
    }
    renderLegend();
  }

  // ---------------------------------------------------------------- filters
  function passes(i) {
    var y = NODES.year[i];
    if (P.years && (state.yearMin > P.years[0] || state.yearMax < P.years[1])) {
      if (y === null || y < state.yearMin || y > state.yearMax) return false;
    }
    for (var name in state.filters) {
      var allowed = state.filters[name], mem = FACETS[name].members[i];
      if (!mem.length) { if (!allowed.has(-1)) return false; continue; }
      var ok = false;
      for (var j = 0; j < mem.length; j++) if (allowed.has(mem[j])) { ok = true; break; }
      if (!ok) return false;
    }
    return true;
  }

  function applyFilters() {
    var c = 0;
    for (var i = 0; i < N; i++) { state.visible[i] = passes(i) ? 1 : 0; c += state.visible[i]; }
    state.visibleCount = c;
    $("count").textContent = "Showing " + c.toLocaleString("en") + " of " + N.toLocaleString("en") + " papers";
    renderLegend();
    renderer.refresh();
  }

  // ---------------------------------------------------------------- renderer
  var SigmaCls = (window.Sigma && window.Sigma.Sigma) || window.Sigma;
  var container = $("graph");
  var R = window.Sigma.rendering || {};
  var programs = {};
  // gl.POINTS nodes cost a quarter of sigma's default triangles on software WebGL (measured:
  // 18 vs 5 frames/s zooming at 10k nodes); 1-px lines for edges; labels hidden while moving
  if (R.NodePointProgram) programs.nodeProgramClasses = { circle: R.NodePointProgram };
  if (R.EdgeLineProgram) programs.edgeProgramClasses = { line: R.EdgeLineProgram };
  var renderer = new SigmaCls(graph, container, Object.assign(programs, {
    zIndex: true,
    hideEdgesOnMove: N > 3000,
    hideLabelsOnMove: true,
    labelDensity: 0.25,
    labelGridCellSize: 150,
    labelRenderedSizeThreshold: 7,
    labelFont: "system-ui, sans-serif",
    labelSize: 12,
    defaultEdgeColor: "#cfd4da",
    minCameraRatio: 0.01,
    maxCameraRatio: 4,
    nodeReducer: function (node, data) {
      var i = +node;
      if (!state.visible[i]) return Object.assign({}, data, { hidden: true });
      if (state.selected !== null) {
        if (i === state.selected) return Object.assign({}, data, { highlighted: true, forceLabel: true, zIndex: 3 });
        if (state.neighbours.has(i)) return Object.assign({}, data, { zIndex: 2, forceLabel: state.neighbours.size <= 12 });
        return Object.assign({}, data, { color: DIM_COLOUR, label: "", zIndex: 0 });
      }
      return data;
    },
    edgeReducer: function (edge, data) {
      if (!state.visible[data.s] || !state.visible[data.t]) return Object.assign({}, data, { hidden: true });
      if (state.selected !== null) {
        if (data.s === state.selected || data.t === state.selected) {
          return Object.assign({}, data, { color: data.s === state.selected ? "#e15759" : "#4e79a7", size: 1.5, zIndex: 1 });
        }
        return Object.assign({}, data, { hidden: true });
      }
      return data;
    }
  }));

  renderer.on("clickNode", function (e) { select(+e.node); });
  renderer.on("clickStage", function () { select(null); });
  renderer.on("enterNode", function () { container.style.cursor = "pointer"; });
  renderer.on("leaveNode", function () { container.style.cursor = ""; });

  // ---------------------------------------------------------------- selection & details
  function select(i, opts) {
    opts = opts || {};
    if (i === null || i === undefined) {
      state.selected = null; state.neighbours = null;
      $("details").hidden = true;
      renderer.refresh();
      return;
    }
    state.selected = i;
    state.neighbours = new Set(outN[i].concat(inN[i]));
    renderDetails(i);
    renderer.refresh();
    if (opts.centre) centreOn(i);
  }

  function centreOn(i) {
    var d = renderer.getNodeDisplayData(String(i));
    if (!d) return;
    // zoom in to a scale where a neighbourhood fills the view, more so in big graphs
    var cam = renderer.getCamera(), ratio = Math.min(cam.ratio, Math.max(0.08, Math.min(0.6, Math.sqrt(200 / N))));
    // centre the paper in the part of the canvas the details panel leaves visible
    var panel = $("details").hidden ? 0 : $("details").offsetWidth;
    var dims = renderer.getDimensions();
    var target = renderer.viewportToFramedGraph(
      { x: dims.width / 2 + panel / 2, y: dims.height / 2 },
      { cameraState: { x: d.x, y: d.y, ratio: ratio, angle: cam.angle } }
    );
    cam.animate({ x: target.x, y: target.y, ratio: ratio }, { duration: 500 });
  }

  function labelLink(list, i) {
    var li = el("li");
    var a = el("a", "nb", NODES.title[i]);
    a.href = "#";
    a.addEventListener("click", function (ev) { ev.preventDefault(); select(i, { centre: true }); });
    li.appendChild(a);
    if (NODES.year[i] !== null) li.appendChild(el("span", "muted", " (" + NODES.year[i] + ")"));
    list.appendChild(li);
  }

  function renderDetails(i) {
    var box = $("details-body");
    box.replaceChildren();
    box.appendChild(el("h2", "paper-title", NODES.title[i]));
    var authors = NODES.authors[i];
    if (authors.length) {
      box.appendChild(el("p", "authors", authors.slice(0, 12).join(", ") + (authors.length > 12 ? ", … (+" + (authors.length - 12) + ")" : "")));
    }
    var meta = el("dl", "meta");
    function row(k, v) { if (v === null || v === undefined || v === "") return; meta.appendChild(el("dt", null, k)); meta.appendChild(el("dd", null, v)); }
    row("Date", NODES.date[i] || NODES.year[i]);
    row("Venue", NODES.venue[i]);
    var c = NODES.citations[i];
    row("Citations", (c === null ? "unknown" : c.toLocaleString("en")) + " (Semantic Scholar), " + NODES.in_corpus[i] + " in this graph");
    row("PageRank", NODES.pagerank[i] ? NODES.pagerank[i].toExponential(2) : null);
    var cf = FACETS.community, cm = cf.members[i];
    row("Community", cm.length ? cf.values[cm[0]] : "unconnected");
    if (NODES.hop[i] === 0) row("Role", "seed paper");
    box.appendChild(meta);

    var links = el("p", "links");
    function link(text, href) {
      if (!href) return;
      var a = el("a", "btn", text); a.href = href; a.target = "_blank"; a.rel = "noopener noreferrer";
      links.appendChild(a);
    }
    if (NODES.arxiv[i]) link("arXiv", "https://arxiv.org/abs/" + encodeURIComponent(NODES.arxiv[i]));
    var s2 = safeHref(NODES.url[i]);
    if (!s2 || s2.indexOf("semanticscholar.org") < 0) s2 = "https://www.semanticscholar.org/paper/" + encodeURIComponent(NODES.id[i]);
    link("Semantic Scholar", s2);
    if (NODES.doi[i]) link("DOI", "https://doi.org/" + encodeURI(NODES.doi[i]));
    box.appendChild(links);
    if (NODES.abstract[i]) {
      var ab = el("details", "abstract");
      ab.appendChild(el("summary", null, "Abstract"));
      ab.appendChild(el("p", null, NODES.abstract[i]));
      box.appendChild(ab);
    }

    var labs = P.labels[i];
    box.appendChild(el("h3", null, "Labels"));
    if (!labs.length) {
      box.appendChild(el("p", "muted", "Not labelled yet."));
    } else {
      var ul = el("ul", "labels");
      labs.slice().sort(function (a, b) {
        return (FACET_RANK[a[0]] - FACET_RANK[b[0]]) || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0);
      }).forEach(function (l) {
        var li = el("li");
        li.appendChild(el("span", "chip chip-" + l[0], l[0] + ": " + l[1]));
        var how = [];
        if (l[3]) how.push(l[3]);
        if (l[2] !== null) how.push(Math.round(l[2] * 100) + "%");
        if (how.length) li.appendChild(el("span", "muted", " " + how.join(", ")));
        if (l[4]) li.appendChild(el("q", "evidence", l[4]));
        ul.appendChild(li);
      });
      box.appendChild(ul);
    }
    [["Cites", outN[i]], ["Cited by", inN[i]]].forEach(function (pair) {
      if (!pair[1].length) return;
      box.appendChild(el("h3", null, pair[0] + " (" + pair[1].length + " in this graph)"));
      var ol = el("ul", "neighbours");
      pair[1].slice().sort(function (a, b) { return NODES.pagerank[b] - NODES.pagerank[a]; })
        .slice(0, 30).forEach(function (j) { labelLink(ol, j); });
      box.appendChild(ol);
    });
    $("details").hidden = false;
  }

  // ---------------------------------------------------------------- search
  function search(q) {
    q = (q || "").trim().toLowerCase();
    if (q.length < 2) return [];
    var hits = [];
    for (var i = 0; i < N && hits.length < 200; i++) if (titlesLower[i].indexOf(q) >= 0) hits.push(i);
    hits.sort(function (a, b) {
      var pa = titlesLower[a].indexOf(q) === 0 ? 0 : 1, pb = titlesLower[b].indexOf(q) === 0 ? 0 : 1;
      return pa - pb || NODES.pagerank[b] - NODES.pagerank[a];
    });
    return hits.slice(0, 12);
  }

  var searchBox = $("search"), results = $("search-results");
  function resultItem(i, note) {
    var li = el("li", null, NODES.title[i]);
    if (NODES.year[i] !== null) li.appendChild(el("span", "muted", " " + NODES.year[i]));
    if (note) li.appendChild(el("span", "muted", " · " + note));
    li.addEventListener("mousedown", function (ev) { ev.preventDefault(); pick(i); });
    results.appendChild(li);
  }
  // Served live (rlmllm-graph serve), the search also asks the database's full-text index
  // (titles and abstracts); from file:// it is titles only.
  var LIVE = location.protocol === "http:" || location.protocol === "https:";
  var idIndex = null, searchSeq = 0, searchTimer = null;
  function fullText(q, seq, shown) {
    fetch("api/search?limit=20&q=" + encodeURIComponent(q)).then(function (r) { return r.ok ? r.json() : null; })
      .then(function (res) {
        if (!res || seq !== searchSeq) return;
        if (!idIndex) { idIndex = new Map(); NODES.id.forEach(function (id, k) { idIndex.set(id, k); }); }
        var added = 0;
        res.results.forEach(function (r) {
          var i = idIndex.get(r.paper_id);
          if (i === undefined || shown.has(i) || added >= 8) return;
          shown.add(i); added++; resultItem(i, "in abstract");
        });
        if (added) results.hidden = false;
      }).catch(function () {});
  }
  function showResults() {
    var hits = search(searchBox.value), seq = ++searchSeq;
    results.replaceChildren();
    hits.forEach(function (i) { resultItem(i); });
    results.hidden = !hits.length;
    if (LIVE && searchBox.value.trim().length >= 3) {
      clearTimeout(searchTimer);
      var q = searchBox.value.trim(), shown = new Set(hits);
      searchTimer = setTimeout(function () { fullText(q, seq, shown); }, 150);
    }
  }
  function pick(i) {
    results.hidden = true;
    searchBox.value = NODES.title[i];
    select(i, { centre: true });
  }
  searchBox.addEventListener("input", showResults);
  searchBox.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter") { var h = search(searchBox.value); if (h.length) pick(h[0]); }
    if (ev.key === "Escape") { results.hidden = true; }
  });
  searchBox.addEventListener("blur", function () { results.hidden = true; });
  document.addEventListener("keydown", function (ev) { if (ev.key === "Escape" && ev.target === document.body) select(null); });
  $("details-close").addEventListener("click", function () { select(null); });

  // ---------------------------------------------------------------- controls
  var colourSel = $("colour-by");
  P.facets.forEach(function (f) {
    if (!f.values.length) return;
    var o = el("option", null, f.name); o.value = f.name; colourSel.appendChild(o);
  });
  colourSel.value = state.colourFacet;
  colourSel.addEventListener("change", function () { state.colourFacet = colourSel.value; applyStyle(); renderer.refresh(); });
  var sizeSel = $("size-by");
  sizeSel.value = state.sizeBy;
  sizeSel.addEventListener("change", function () { state.sizeBy = sizeSel.value; applyStyle(); renderer.refresh(); });

  var yMin = $("year-min"), yMax = $("year-max");
  if (P.years) {
    [yMin, yMax].forEach(function (inp) { inp.min = P.years[0]; inp.max = P.years[1]; });
    yMin.value = P.years[0]; yMax.value = P.years[1];
    var onYear = function () {
      var a = +yMin.value, b = +yMax.value;
      if (a > b) { if (this === yMin) yMax.value = a; else yMin.value = b; }
      state.yearMin = +yMin.value; state.yearMax = +yMax.value;
      $("year-label").textContent = state.yearMin + " – " + state.yearMax;
      applyFilters();
    };
    yMin.addEventListener("input", onYear); yMax.addEventListener("input", onYear);
    $("year-label").textContent = P.years[0] + " – " + P.years[1];
  } else {
    $("year-filter").hidden = true;
  }

  function facetCounts(f) {
    var counts = new Array(f.values.length).fill(0), none = 0;
    for (var i = 0; i < N; i++) {
      var m = f.members[i];
      if (!m.length) none++;
      for (var j = 0; j < m.length; j++) counts[m[j]]++;
    }
    return { counts: counts, none: none };
  }

  var filterBox = $("filters");
  P.facets.forEach(function (f) {
    if (!f.values.length || f.name === "year") return;
    var det = el("details", "facet-filter");
    det.dataset.facet = f.name;
    det.appendChild(el("summary", null, f.name));
    var c = facetCounts(f);
    var entries = f.values.map(function (v, k) { return [k, v, c.counts[k]]; });
    entries.push([-1, "(none)", c.none]);
    entries.forEach(function (e) {
      if (e[0] === -1 && !e[2]) return;
      var lab = el("label", "check");
      var cb = el("input"); cb.type = "checkbox"; cb.checked = true; cb.value = String(e[0]);
      cb.addEventListener("change", function () {
        var all = det.querySelectorAll("input[type=checkbox]"), allowed = new Set(), every = true;
        all.forEach(function (x) { if (x.checked) allowed.add(+x.value); else every = false; });
        if (every) delete state.filters[f.name]; else state.filters[f.name] = allowed;
        applyFilters();
      });
      lab.appendChild(cb);
      lab.appendChild(document.createTextNode(" " + e[1] + " "));
      lab.appendChild(el("span", "muted", "(" + e[2] + ")"));
      det.appendChild(lab);
    });
    filterBox.appendChild(det);
  });
  $("reset").addEventListener("click", function () {
    state.filters = {};
    filterBox.querySelectorAll("input[type=checkbox]").forEach(function (x) { x.checked = true; });
    if (P.years) { yMin.value = P.years[0]; yMax.value = P.years[1]; state.yearMin = P.years[0]; state.yearMax = P.years[1]; $("year-label").textContent = P.years[0] + " – " + P.years[1]; }
    select(null);
    applyFilters();
    renderer.getCamera().animatedReset({ duration: 300 });
  });

  // a click on a legend entry shows or hides that value (the same as its filter checkbox)
  function legendToggle(row, facet, value) {
    var cb = filterBox.querySelector("details[data-facet='" + facet + "'] input[value='" + value + "']");
    if (!cb) return;
    row.classList.add("toggle");
    if (!cb.checked) row.classList.add("off");
    row.title = "Click to " + (cb.checked ? "hide" : "show") + " these papers";
    row.addEventListener("click", function () {
      cb.checked = !cb.checked;
      cb.dispatchEvent(new Event("change"));
    });
  }

  function renderLegend() {
    var f = FACETS[state.colourFacet], box = $("legend");
    box.replaceChildren();
    box.appendChild(el("div", "legend-title", "Colour: " + f.name + (f.name !== "year" && f.name !== "community" ? " (first value when several)" : "")));
    var counts = new Array(f.values.length).fill(0), none = 0;
    for (var i = 0; i < N; i++) {
      if (!state.visible[i]) continue;
      var m = f.members[i];
      if (!m.length) none++; else counts[m[0]]++;
    }
    var items = f.values.map(function (v, k) { return [k, v]; });
    if (f.name === "year" && items.length > 12) {
      items = items.filter(function (_, k) { return k === 0 || k === items.length - 1 || k % Math.ceil(items.length / 10) === 0; });
    }
    items.forEach(function (it) {
      var row = el("div", "legend-row");
      legendToggle(row, f.name, it[0]);
      var sw = el("span", "swatch"); sw.style.background = valueColour(f.name, it[0]);
      row.appendChild(sw);
      row.appendChild(el("span", null, it[1]));
      if (f.name !== "year") row.appendChild(el("span", "muted", " " + counts[it[0]]));
      box.appendChild(row);
    });
    var r = el("div", "legend-row"), s = el("span", "swatch"); s.style.background = NONE_COLOUR;
    legendToggle(r, f.name, -1);
    r.appendChild(s); r.appendChild(el("span", null, f.name === "community" ? "unconnected" : "none"));
    r.appendChild(el("span", "muted", " " + none));
    box.appendChild(r);
  }
  applyStyle();
  applyFilters();

  requestAnimationFrame(function () {
    requestAnimationFrame(function () {
      state.firstFrameMs = performance.now();
      state.scriptMs = performance.now() - T0;
      document.body.dataset.ready = "1";
    });
  });

  // graph.html#paper=ID (links from the other pages) selects and centres that paper
  function fromHash() {
    var m = /^#paper=(.+)$/.exec(location.hash);
    if (!m) return;
    var i = NODES.id.indexOf(decodeURIComponent(m[1]));
    if (i >= 0) select(i, { centre: true });
  }
  window.addEventListener("hashchange", fromHash);
  fromHash();

  window.explorer = {
    graph: graph, renderer: renderer, state: state, payload: P,
    select: function (i) { select(i, { centre: true }); },
    search: search,
    visibleCount: function () { return state.visibleCount; },
    renderedNodeCount: function () {
      var c = 0;
      graph.forEachNode(function (n) { var d = renderer.getNodeDisplayData(n); if (d && !d.hidden) c++; });
      return c;
    },
    indexOf: function (paperId) { return NODES.id.indexOf(paperId); }
  };
})();
