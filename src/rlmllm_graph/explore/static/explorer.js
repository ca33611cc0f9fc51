/* The graph explorer of rlmllm-graph: its own small WebGL layer over packed typed arrays.
 *
 * Data: data/papers.js (the papers table) and data/graph.js (layout positions computed in
 * Python, citation edges, facet bit masks), decoded by assets/data.js. Drawing: one gl.POINTS
 * call for every node (positions, sizes, colours and a flag per node in GPU buffers); filters
 * and selection rewrite the flag buffer only. Citation links are drawn for the selected paper
 * always, and for the papers in view once few enough are in view (zoomed in). Labels go on a
 * 2D canvas over the WebGL one: biggest papers first, a label only where it overlaps none
 * already placed. Hover and click find the paper under the pointer through a spatial grid.
 *
 * Paper text is untrusted: it reaches the DOM through textContent only; the label canvas
 * draws it as pixels. window.explorer exposes the state and a few actions for tests.
 */
(function () {
  "use strict";

  var S = window.rlmSite, el = S.el;
  var $ = function (id) { return document.getElementById(id); };
  var PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1", "#76b7b2", "#edc948",
    "#ff9da7", "#9c755f", "#17becf", "#bcbd22", "#8c564b", "#1f3b73", "#7f7f7f"];
  var FIXED = { relevance: { core: "#d62728", related: "#1f77b4", other: "#b8b8b8" },
    community: { "other communities": "#aab2bd" } };
  var NONE_COLOUR = "#c8c8c8";
  var EDGE_BUDGET = 150000;   // links drawn at most at once (software WebGL stays smooth)
  var MAX_LABELS = 60;

  function fail(err) {
    $("count").textContent = "The graph could not be drawn: " + (err && err.message ? err.message : err);
    document.body.dataset.ready = "1";
    document.body.dataset.failed = "1";
  }

  Promise.all([window.rlmData("papers"), window.rlmData("graph")]).then(function (r) {
    var decodedMs = performance.now();
    try { start(new S.Papers(r[0]), r[1], decodedMs); } catch (e) { fail(e); throw e; }
  }, fail);

  function hexRgb(h) {
    if (h.charAt(0) === "#") return [parseInt(h.slice(1, 3), 16), parseInt(h.slice(3, 5), 16), parseInt(h.slice(5, 7), 16)];
    var m = /(\d+),\s*(\d+),\s*(\d+)/.exec(h); return [+m[1], +m[2], +m[3]];
  }
  function yearColour(k, count) {
    var t = count > 1 ? k / (count - 1) : 1;
    return "rgb(" + Math.round(40 + t * 215) + "," + Math.round(80 + t * 140) + "," + Math.round(170 - t * 130) + ")";
  }

  function start(P, G, decodedMs) {
    var H = G.header, A = G.arrays, N = H.n, X = A.x, Y = A.y, SRC = A.src, DST = A.dst, M = SRC.length;
    var DEG = A.degree;

    // ------------------------------------------------------------ adjacency (CSR, both directions)
    function csr(from, to) {
      var start = new Uint32Array(N + 1), list = new Uint32Array(M), fill, k;
      for (k = 0; k < M; k++) start[from[k] + 1]++;
      for (k = 0; k < N; k++) start[k + 1] += start[k];
      fill = start.slice(0, N);
      for (k = 0; k < M; k++) list[fill[from[k]]++] = to[k];
      return { start: start, list: list };
    }
    var OUT = csr(SRC, DST), IN = csr(DST, SRC);
    function neighbours(i, adj) { return Array.prototype.slice.call(adj.list.subarray(adj.start[i], adj.start[i + 1])); }

    // ------------------------------------------------------------ facets (bit masks)
    var years = [], yMinAll = Infinity, yMaxAll = -Infinity;
    for (var i = 0; i < N; i++) { var yy = P.a.year[i]; if (yy) { if (yy < yMinAll) yMinAll = yy; if (yy > yMaxAll) yMaxAll = yy; } }
    var YEARS = yMinAll <= yMaxAll ? [yMinAll, yMaxAll] : null;
    var FACETS = [];
    H.facets.forEach(function (f) { FACETS.push({ name: f.name, values: f.values, mask: A["mask_" + f.name] }); });
    if (YEARS) {
      var yv = []; for (var y = YEARS[0]; y <= YEARS[1]; y++) yv.push(String(y));
      FACETS.push({ name: "year", values: yv, mask: null });
    }
    var FACET = {}; FACETS.forEach(function (f) { FACET[f.name] = f; });
    function firstValue(f, i) {  // index of the paper's first value in facet f, -1 for none
      if (f.name === "year") { var yr = P.a.year[i]; return yr ? yr - YEARS[0] : -1; }
      var m = f.mask[i]; if (!m) return -1;
      return 31 - Math.clz32(m & -m);
    }
    function has(f, i, k) {
      if (f.name === "year") return firstValue(f, i) === k;
      return k < 0 ? f.mask[i] === 0 : ((f.mask[i] >>> k) & 1) === 1;
    }

    var state = {
      colourFacet: FACET.relevance && FACET.relevance.values.length ? "relevance" : "community",
      sizeBy: "pagerank", selected: null, neighbours: null,
      yearMin: YEARS ? YEARS[0] : null, yearMax: YEARS ? YEARS[1] : null,
      filters: {}, showIsolated: H.isolated === N, visible: new Uint8Array(N), visibleCount: 0,
      drawnNodes: 0, drawnEdges: 0, labels: [], firstFrameMs: null, isolated: H.isolated,
      decodedMs: decodedMs, drawnMs: null  // when the data was decoded and the first draw issued (ms since navigation)
    };

    // ------------------------------------------------------------ WebGL
    var box = $("graph"), canvas = $("graph-gl"), lcan = $("graph-labels"), lctx = lcan.getContext("2d");
    var gl = canvas.getContext("webgl", { antialias: false, alpha: false, depth: false, preserveDrawingBuffer: false });
    if (!gl) throw new Error("this browser has no WebGL");
    function shader(type, src) {
      var s = gl.createShader(type); gl.shaderSource(s, src); gl.compileShader(s);
      if (!gl.getShaderParameter(s, gl.COMPILE_STATUS)) throw new Error(gl.getShaderInfoLog(s));
      return s;
    }
    function program(vs, fs) {
      var p = gl.createProgram();
      gl.attachShader(p, shader(gl.VERTEX_SHADER, vs)); gl.attachShader(p, shader(gl.FRAGMENT_SHADER, fs));
      gl.linkProgram(p);
      if (!gl.getProgramParameter(p, gl.LINK_STATUS)) throw new Error(gl.getProgramInfoLog(p));
      return p;
    }
    var nodeProg = program(
      "attribute vec2 a_pos; attribute float a_size; attribute vec4 a_col; attribute float a_flag;" +
      "uniform vec2 u_scale; uniform vec2 u_shift; uniform float u_grow;" +
      "varying vec4 v_col; varying float v_flag;" +
      "void main() {" +
      "  if (a_flag < 0.5) { gl_Position = vec4(2.0, 2.0, 2.0, 1.0); gl_PointSize = 0.0; return; }" +
      "  gl_Position = vec4(a_pos * u_scale + u_shift, 0.0, 1.0);" +
      "  float s = a_size * u_grow; if (a_flag > 2.5) s = s * 1.6 + 4.0;" +
      "  gl_PointSize = max(s, 1.5);" +
      "  v_col = a_flag > 1.5 && a_flag < 2.5 ? vec4(0.925, 0.925, 0.925, 1.0) : a_col; v_flag = a_flag;" +
      "}",
      "precision mediump float; varying vec4 v_col; varying float v_flag;" +
      "void main() {" +
      "  vec2 d = gl_PointCoord - vec2(0.5); float r = dot(d, d);" +
      "  if (r > 0.25) discard;" +
      "  gl_FragColor = r > 0.16 && v_flag > 2.5 ? vec4(0.1, 0.1, 0.1, 1.0) : v_col;" +
      "}");
    var edgeProg = program(
      "attribute vec2 a_pos; attribute vec4 a_col; uniform vec2 u_scale; uniform vec2 u_shift; varying vec4 v_col;" +
      "void main() { gl_Position = vec4(a_pos * u_scale + u_shift, 0.0, 1.0); v_col = a_col; }",
      "precision mediump float; varying vec4 v_col; void main() { gl_FragColor = v_col; }");
    var loc = {
      n: { pos: gl.getAttribLocation(nodeProg, "a_pos"), size: gl.getAttribLocation(nodeProg, "a_size"),
        col: gl.getAttribLocation(nodeProg, "a_col"), flag: gl.getAttribLocation(nodeProg, "a_flag"),
        scale: gl.getUniformLocation(nodeProg, "u_scale"), shift: gl.getUniformLocation(nodeProg, "u_shift"),
        grow: gl.getUniformLocation(nodeProg, "u_grow") },
      e: { pos: gl.getAttribLocation(edgeProg, "a_pos"), col: gl.getAttribLocation(edgeProg, "a_col"),
        scale: gl.getUniformLocation(edgeProg, "u_scale"), shift: gl.getUniformLocation(edgeProg, "u_shift") }
    };
    function buffer(data, usage) { var b = gl.createBuffer(); gl.bindBuffer(gl.ARRAY_BUFFER, b); gl.bufferData(gl.ARRAY_BUFFER, data, usage || gl.STATIC_DRAW); return b; }
    var XY = new Float32Array(2 * N);
    for (i = 0; i < N; i++) { XY[2 * i] = X[i]; XY[2 * i + 1] = Y[i]; }
    var SIZE = new Float32Array(N), COL = new Uint8Array(4 * N), FLAG = new Uint8Array(N);
    var bufXY = buffer(XY), bufSize = buffer(SIZE, gl.DYNAMIC_DRAW), bufCol = buffer(COL, gl.DYNAMIC_DRAW),
      bufFlag = buffer(FLAG, gl.DYNAMIC_DRAW);
    // the selected paper and its neighbours, drawn again on top
    var overlay = { n: 0, xy: buffer(new Float32Array(2), gl.DYNAMIC_DRAW), size: buffer(new Float32Array(1), gl.DYNAMIC_DRAW),
      col: buffer(new Uint8Array(4), gl.DYNAMIC_DRAW), flag: buffer(new Uint8Array(1), gl.DYNAMIC_DRAW) };
    var edgeBuf = { n: 0, xy: gl.createBuffer(), col: gl.createBuffer() };
    var selEdgeBuf = { n: 0, xy: gl.createBuffer(), col: gl.createBuffer() };

    // ------------------------------------------------------------ camera
    var cam = { x: 0, y: 0, zoom: 1 }, W = 1, Hh = 1, DPR = Math.min(window.devicePixelRatio || 1, 2);
    function resize() {
      W = Math.max(1, box.clientWidth); Hh = Math.max(1, box.clientHeight);
      [canvas, lcan].forEach(function (c) { c.width = Math.round(W * DPR); c.height = Math.round(Hh * DPR); c.style.width = W + "px"; c.style.height = Hh + "px"; });
      gl.viewport(0, 0, canvas.width, canvas.height);
    }
    function toScreen(gx, gy) { return [(gx - cam.x) * cam.zoom + W / 2, -(gy - cam.y) * cam.zoom + Hh / 2]; }
    function toGraph(sx, sy) { return [(sx - W / 2) / cam.zoom + cam.x, -(sy - Hh / 2) / cam.zoom + cam.y]; }
    var home = { x: 0, y: 0, zoom: 1 };
    // the view that frames the visible papers, from the 1st to the 99th percentile on each axis
    // (a few far-out papers, such as small components on the outer ring, do not shrink the picture)
    function fit() {
      var xs = [], ys = [];
      for (var i = 0; i < N; i++) if (state.visible[i]) { xs.push(X[i]); ys.push(Y[i]); }
      if (!xs.length) { home = { x: 0, y: 0, zoom: 1 }; return; }
      var fx = Float32Array.from(xs).sort(), fy = Float32Array.from(ys).sort();
      var lo = xs.length > 200 ? Math.floor(xs.length * 0.01) : 0, hi = xs.length - 1 - lo;
      var x0 = fx[lo], x1 = fx[hi], y0 = fy[lo], y1 = fy[hi];
      var zoom = Math.min(W / Math.max(x1 - x0, 1e-6), Hh / Math.max(y1 - y0, 1e-6)) * (lo ? 0.85 : 0.9);
      home = { x: (x0 + x1) / 2, y: (y0 + y1) / 2, zoom: zoom };
    }
    function grow() { return Math.min(2.5, Math.max(0.6, Math.pow(cam.zoom / home.zoom, 0.35))); }

    // ------------------------------------------------------------ spatial grid (hover, in-view queries)
    var gx0 = Infinity, gx1 = -Infinity, gy0 = Infinity, gy1 = -Infinity;
    for (i = 0; i < N; i++) { if (X[i] < gx0) gx0 = X[i]; if (X[i] > gx1) gx1 = X[i]; if (Y[i] < gy0) gy0 = Y[i]; if (Y[i] > gy1) gy1 = Y[i]; }
    if (!N) { gx0 = gy0 = 0; gx1 = gy1 = 1; }
    var GRID = Math.max(1, Math.ceil(Math.sqrt(N / 3))), CW = Math.max(gx1 - gx0, 1e-9) / GRID, CH = Math.max(gy1 - gy0, 1e-9) / GRID;
    function cellOf(x, y) {
      var cx = Math.min(GRID - 1, Math.max(0, Math.floor((x - gx0) / CW))), cy = Math.min(GRID - 1, Math.max(0, Math.floor((y - gy0) / CH)));
      return cy * GRID + cx;
    }
    var cellStart = new Uint32Array(GRID * GRID + 1), cellList = new Uint32Array(N);
    var cellOfNode = new Uint32Array(N);
    for (i = 0; i < N; i++) { cellOfNode[i] = cellOf(X[i], Y[i]); cellStart[cellOfNode[i] + 1]++; }
    for (i = 0; i < GRID * GRID; i++) cellStart[i + 1] += cellStart[i];
    var cfill = cellStart.slice(0, GRID * GRID);
    for (i = 0; i < N; i++) cellList[cfill[cellOfNode[i]]++] = i;
    function forEachIn(x0, y0, x1, y1, fn) {  // every node in cells overlapping the graph rectangle
      var cx0 = Math.max(0, Math.floor((x0 - gx0) / CW)), cx1 = Math.min(GRID - 1, Math.floor((x1 - gx0) / CW));
      var cy0 = Math.max(0, Math.floor((y0 - gy0) / CH)), cy1 = Math.min(GRID - 1, Math.floor((y1 - gy0) / CH));
      for (var cy = cy0; cy <= cy1; cy++) for (var cx = cx0; cx <= cx1; cx++) {
        var c = cy * GRID + cx;
        for (var k = cellStart[c]; k < cellStart[c + 1]; k++) if (fn(cellList[k]) === false) return;
      }
    }
    function viewRect(margin) {
      var a = toGraph(-margin, Hh + margin), b = toGraph(W + margin, -margin);
      return [a[0], a[1], b[0], b[1]];
    }
    function nodeAt(sx, sy) {
      var g = toGraph(sx, sy), best = -1, bestD = Infinity, r = 14 / cam.zoom, gr = grow();
      forEachIn(g[0] - r, g[1] - r, g[0] + r, g[1] + r, function (i) {
        if (!FLAG[i] && i !== state.selected) return;
        var p = toScreen(X[i], Y[i]), dx = p[0] - sx, dy = p[1] - sy, d = dx * dx + dy * dy;
        var rad = Math.max(SIZE[i] * gr / 2, 3) + 2;
        if (d <= rad * rad && d < bestD) { best = i; bestD = d; }
      });
      return best;
    }

    // ------------------------------------------------------------ style: sizes and colours
    function valueColour(name, k) {
      var f = FACET[name];
      if (name === "year") return yearColour(k, f.values.length);
      var fixed = FIXED[name]; if (fixed && fixed[f.values[k]]) return fixed[f.values[k]];
      return PALETTE[k % PALETTE.length];
    }
    var order = null;  // nodes by size, biggest first (label priority)
    function applyStyle() {
      var by = state.sizeBy, vals = new Float64Array(N), lo = Infinity, hi = -Infinity, i;
      for (i = 0; i < N; i++) {
        var v = by === "pagerank" ? P.a.pagerank[i] : by === "citations" ? Math.log1p(Math.max(0, P.a.citations[i])) :
          by === "in_corpus" ? Math.log1p(P.a.in_corpus[i]) : 0;
        vals[i] = v; if (v < lo) lo = v; if (v > hi) hi = v;
      }
      var base = N > 20000 ? 2 : N > 3000 ? 3 : 5, span = N > 20000 ? 9 : N > 3000 ? 12 : 14, range = hi - lo;
      for (i = 0; i < N; i++) SIZE[i] = range > 0 ? base + span * Math.sqrt((vals[i] - lo) / range) : base + 2;
      var f = FACET[state.colourFacet], cache = {}, none = hexRgb(NONE_COLOUR);
      for (i = 0; i < N; i++) {
        var k = firstValue(f, i), rgb = k < 0 ? none : (cache[k] || (cache[k] = hexRgb(valueColour(f.name, k))));
        COL[4 * i] = rgb[0]; COL[4 * i + 1] = rgb[1]; COL[4 * i + 2] = rgb[2]; COL[4 * i + 3] = 255;
      }
      gl.bindBuffer(gl.ARRAY_BUFFER, bufSize); gl.bufferData(gl.ARRAY_BUFFER, SIZE, gl.DYNAMIC_DRAW);
      gl.bindBuffer(gl.ARRAY_BUFFER, bufCol); gl.bufferData(gl.ARRAY_BUFFER, COL, gl.DYNAMIC_DRAW);
      var idx = new Uint32Array(N); for (i = 0; i < N; i++) idx[i] = i;
      order = Array.prototype.slice.call(idx).sort(function (a, b) { return SIZE[b] - SIZE[a] || a - b; });
      renderLegend();
      updateOverlay();
    }

    // ------------------------------------------------------------ filters: the flag buffer
    function passes(i) {
      if (!state.showIsolated && DEG[i] === 0) return false;
      if (YEARS && (state.yearMin > YEARS[0] || state.yearMax < YEARS[1])) {
        var y = P.a.year[i]; if (!y || y < state.yearMin || y > state.yearMax) return false;
      }
      for (var name in state.filters) {
        var allowed = state.filters[name], f = FACET[name], ok = false;
        for (var k = 0; k < allowed.length && !ok; k++) ok = has(f, i, allowed[k]);
        if (!ok) return false;
      }
      return true;
    }
    function applyFlags() {
      var sel = state.selected, nb = state.neighbours, c = 0, drawn = 0;
      for (var i = 0; i < N; i++) {
        var v = state.visible[i], fl = 0;
        if (v) fl = sel === null ? 1 : (i === sel || nb.has(i)) ? 1 : 2;
        FLAG[i] = fl; if (fl) drawn++;
      }
      state.drawnNodes = drawn;
      gl.bindBuffer(gl.ARRAY_BUFFER, bufFlag); gl.bufferData(gl.ARRAY_BUFFER, FLAG, gl.DYNAMIC_DRAW);
    }
    function applyFilters() {
      var c = 0;
      for (var i = 0; i < N; i++) { state.visible[i] = passes(i) ? 1 : 0; c += state.visible[i]; }
      state.visibleCount = c;
      $("count").textContent = "Showing " + c.toLocaleString("en") + " of " + N.toLocaleString("en") + " papers";
      applyFlags();
      edgesDirty = true;
      renderLegend();
      updateOverlay();
      requestDraw();
    }

    // ------------------------------------------------------------ edges
    var edgesDirty = true, edgeNote = "";
    var EDGE_RGBA = [160, 168, 180, 90];
    function fillEdges(target, list, colourOf) {
      var n = list.length / 2, xy = new Float32Array(4 * n), col = new Uint8Array(8 * n);
      for (var k = 0; k < n; k++) {
        var a = list[2 * k], b = list[2 * k + 1], c = colourOf ? colourOf(a, b) : EDGE_RGBA;
        xy[4 * k] = X[a]; xy[4 * k + 1] = Y[a]; xy[4 * k + 2] = X[b]; xy[4 * k + 3] = Y[b];
        for (var j = 0; j < 4; j++) { col[8 * k + j] = c[j]; col[8 * k + 4 + j] = c[j]; }
      }
      gl.bindBuffer(gl.ARRAY_BUFFER, target.xy); gl.bufferData(gl.ARRAY_BUFFER, xy, gl.DYNAMIC_DRAW);
      gl.bindBuffer(gl.ARRAY_BUFFER, target.col); gl.bufferData(gl.ARRAY_BUFFER, col, gl.DYNAMIC_DRAW);
      target.n = 2 * n;
    }
    // links between visible papers with at least one end in view; none when more than the budget
    function rebuildEdges() {
      edgesDirty = false;
      var v = state.visible, list = [], over = false;
      if (M <= EDGE_BUDGET && state.visibleCount === N) {
        for (var k = 0; k < M; k++) list.push(SRC[k], DST[k]);
      } else {
        var r = viewRect(0), inView = new Uint8Array(N), nodes = [];
        forEachIn(r[0], r[1], r[2], r[3], function (i) {
          if (v[i] && X[i] >= r[0] && X[i] <= r[2] && Y[i] >= r[1] && Y[i] <= r[3]) { inView[i] = 1; nodes.push(i); }
        });
        for (var q = 0; q < nodes.length && !over; q++) {
          var i = nodes[q], k2;
          for (k2 = OUT.start[i]; k2 < OUT.start[i + 1]; k2++) { var j = OUT.list[k2]; if (v[j]) list.push(i, j); }
          for (k2 = IN.start[i]; k2 < IN.start[i + 1]; k2++) { var h = IN.list[k2]; if (v[h] && !inView[h]) list.push(h, i); }
          if (list.length > 2 * EDGE_BUDGET) over = true;
        }
      }
      if (over) list = [];
      edgeNote = over ? "Zoom in to see the citation links." : "";
      $("graph-note").textContent = edgeNote;
      fillEdges(edgeBuf, list);
    }
    function updateOverlay() {
      var sel = state.selected;
      if (sel === null) { overlay.n = 0; selEdgeBuf.n = 0; return; }
      var ids = [sel], list = [];
      state.neighbours.forEach(function (j) { if (state.visible[j]) ids.unshift(j); });
      neighbours(sel, OUT).forEach(function (j) { if (state.visible[j]) list.push(sel, j); });
      neighbours(sel, IN).forEach(function (j) { if (state.visible[j]) list.push(j, sel); });
      fillEdges(selEdgeBuf, list, function (a) { return a === sel ? [225, 87, 89, 230] : [78, 121, 167, 230]; });
      var n = ids.length, xy = new Float32Array(2 * n), sz = new Float32Array(n), col = new Uint8Array(4 * n), fl = new Uint8Array(n);
      ids.forEach(function (i, k) {
        xy[2 * k] = X[i]; xy[2 * k + 1] = Y[i]; sz[k] = SIZE[i];
        for (var j = 0; j < 4; j++) col[4 * k + j] = COL[4 * i + j];
        fl[k] = i === sel ? 3 : 1;
      });
      [[overlay.xy, xy], [overlay.size, sz], [overlay.col, col], [overlay.flag, fl]].forEach(function (p) {
        gl.bindBuffer(gl.ARRAY_BUFFER, p[0]); gl.bufferData(gl.ARRAY_BUFFER, p[1], gl.DYNAMIC_DRAW);
      });
      overlay.n = n;
    }

    // ------------------------------------------------------------ drawing
    var pending = false, settleTimer = null, moving = false;
    function requestDraw() { if (!pending) { pending = true; requestAnimationFrame(draw); } }
    function uniforms(l) {
      var sx = 2 * cam.zoom / W, sy = 2 * cam.zoom / Hh;
      gl.uniform2f(l.scale, sx, sy); gl.uniform2f(l.shift, -cam.x * sx, -cam.y * sy);
    }
    function attrib(locn, buf, size, type, norm) {
      gl.bindBuffer(gl.ARRAY_BUFFER, buf); gl.enableVertexAttribArray(locn); gl.vertexAttribPointer(locn, size, type, norm, 0, 0);
    }
    function drawEdges(b) {
      if (!b.n) return;
      gl.useProgram(edgeProg); uniforms(loc.e);
      attrib(loc.e.pos, b.xy, 2, gl.FLOAT, false); attrib(loc.e.col, b.col, 4, gl.UNSIGNED_BYTE, true);
      gl.drawArrays(gl.LINES, 0, b.n);
      gl.disableVertexAttribArray(loc.e.col);
    }
    function drawNodes(xy, size, col, flag, n) {
      gl.useProgram(nodeProg); uniforms(loc.n); gl.uniform1f(loc.n.grow, grow());
      attrib(loc.n.pos, xy, 2, gl.FLOAT, false); attrib(loc.n.size, size, 1, gl.FLOAT, false);
      attrib(loc.n.col, col, 4, gl.UNSIGNED_BYTE, true); attrib(loc.n.flag, flag, 1, gl.UNSIGNED_BYTE, false);
      gl.drawArrays(gl.POINTS, 0, n);
      [loc.n.size, loc.n.col, loc.n.flag].forEach(function (l) { gl.disableVertexAttribArray(l); });
    }
    function draw() {
      pending = false;
      if (edgesDirty && !moving) rebuildEdges();
      gl.clearColor(1, 1, 1, 1); gl.clear(gl.COLOR_BUFFER_BIT);
      gl.enable(gl.BLEND); gl.blendFunc(gl.SRC_ALPHA, gl.ONE_MINUS_SRC_ALPHA);
      if (state.selected === null) drawEdges(edgeBuf);  // with a selection, only its own links
      state.drawnEdges = (state.selected === null ? edgeBuf.n : selEdgeBuf.n) / 2;
      drawNodes(bufXY, bufSize, bufCol, bufFlag, N);
      drawEdges(selEdgeBuf);
      if (overlay.n) drawNodes(overlay.xy, overlay.size, overlay.col, overlay.flag, overlay.n);
      if (moving) { lctx.clearRect(0, 0, lcan.width, lcan.height); state.labels = []; } else drawLabels();
    }
    function settleSoon() {
      moving = true; requestDraw();
      clearTimeout(settleTimer);
      settleTimer = setTimeout(function () { moving = false; edgesDirty = true; requestDraw(); }, 140);
    }

    // labels: biggest first, each only where it overlaps no label already placed
    var FONT = "12px system-ui, sans-serif", widths = new Float32Array(N);
    function labelText(i) { var t = P.title(i); return t.length > 48 ? t.slice(0, 46) + "…" : t; }
    function drawLabels() {
      lctx.setTransform(DPR, 0, 0, DPR, 0, 0);
      lctx.clearRect(0, 0, W, Hh);
      lctx.font = FONT; lctx.textBaseline = "middle";
      var placed = [], boxes = [], CELL = 64, occ = {}, gr = grow(), scanned = 0;
      function free(b) {
        for (var cx = Math.floor(b[0] / CELL); cx <= Math.floor(b[2] / CELL); cx++)
          for (var cy = Math.floor(b[1] / CELL); cy <= Math.floor(b[3] / CELL); cy++) {
            var list = occ[cx + ":" + cy]; if (!list) continue;
            for (var k = 0; k < list.length; k++) { var o = list[k]; if (b[0] < o[2] && b[2] > o[0] && b[1] < o[3] && b[3] > o[1]) return false; }
          }
        return true;
      }
      function take(b) {
        for (var cx = Math.floor(b[0] / CELL); cx <= Math.floor(b[2] / CELL); cx++)
          for (var cy = Math.floor(b[1] / CELL); cy <= Math.floor(b[3] / CELL); cy++) (occ[cx + ":" + cy] = occ[cx + ":" + cy] || []).push(b);
      }
      function tryLabel(i, force) {
        var p = toScreen(X[i], Y[i]);
        if (p[0] < 0 || p[0] > W || p[1] < 0 || p[1] > Hh) return;
        if (!widths[i]) widths[i] = lctx.measureText(labelText(i)).width || 1;
        var r = SIZE[i] * gr / 2 + 3, b = [p[0] + r, p[1] - 8, p[0] + r + widths[i] + 4, p[1] + 8];
        if (!force && (b[2] > W || !free(b))) return;
        take(b); boxes.push(b); placed.push(i);
      }
      var sel = state.selected;
      if (sel !== null) {
        tryLabel(sel, true);
        if (state.neighbours.size <= 12) state.neighbours.forEach(function (j) { if (state.visible[j]) tryLabel(j, false); });
      }
      var limit = Math.min(MAX_LABELS, Math.round(W * Hh / 16000));
      for (var q = 0; q < N && placed.length < limit && scanned < 40000; q++) {
        var i = order[q];
        if (!FLAG[i] || FLAG[i] === 2 || i === sel) continue;
        scanned++;
        if (SIZE[i] * gr < 5 && q > 2000) break;
        tryLabel(i, false);
      }
      placed.forEach(function (i, k) {
        var b = boxes[k];
        lctx.fillStyle = "rgba(255,255,255,0.78)"; lctx.fillRect(b[0], b[1], b[2] - b[0], b[3] - b[1]);
        lctx.fillStyle = i === sel ? "#000" : "#27303d"; lctx.fillText(labelText(i), b[0] + 2, (b[1] + b[3]) / 2);
      });
      state.labels = placed.map(function (i, k) { return { i: i, box: boxes[k] }; });
    }

    // ------------------------------------------------------------ camera animation and input
    var anim = null;
    function animateTo(target, ms) {
      var from = { x: cam.x, y: cam.y, zoom: cam.zoom }, t0 = performance.now();
      if (anim) cancelAnimationFrame(anim);
      function step(now) {
        var t = Math.min(1, (now - t0) / ms), e = t < 0.5 ? 2 * t * t : 1 - Math.pow(-2 * t + 2, 2) / 2;
        cam.x = from.x + (target.x - from.x) * e; cam.y = from.y + (target.y - from.y) * e;
        cam.zoom = Math.exp(Math.log(from.zoom) + (Math.log(target.zoom) - Math.log(from.zoom)) * e);
        settleSoon();
        anim = t < 1 ? requestAnimationFrame(step) : null;
      }
      anim = requestAnimationFrame(step);
    }
    var drag = null, downAt = null;
    canvas.style.touchAction = "none";
    lcan.addEventListener("pointerdown", function (e) {
      drag = { x: e.clientX, y: e.clientY, cx: cam.x, cy: cam.y }; downAt = [e.clientX, e.clientY];
      lcan.setPointerCapture(e.pointerId);
    });
    lcan.addEventListener("pointermove", function (e) {
      var rect = lcan.getBoundingClientRect(), sx = e.clientX - rect.left, sy = e.clientY - rect.top;
      if (drag) {
        cam.x = drag.cx - (e.clientX - drag.x) / cam.zoom; cam.y = drag.cy + (e.clientY - drag.y) / cam.zoom;
        settleSoon(); return;
      }
      var i = nodeAt(sx, sy), tip = $("tooltip");
      lcan.style.cursor = i >= 0 ? "pointer" : "";
      if (i < 0) { tip.hidden = true; return; }
      tip.textContent = P.title(i) + (P.year(i) ? " (" + P.year(i) + ")" : "");
      tip.style.left = Math.min(sx + 14, W - 260) + "px"; tip.style.top = (sy + 12) + "px"; tip.hidden = false;
    });
    lcan.addEventListener("pointerup", function (e) {
      var moved = downAt && Math.abs(e.clientX - downAt[0]) + Math.abs(e.clientY - downAt[1]) > 4;
      drag = null;
      if (moved) return;
      var rect = lcan.getBoundingClientRect(), i = nodeAt(e.clientX - rect.left, e.clientY - rect.top);
      select(i >= 0 ? i : null);
    });
    lcan.addEventListener("pointerleave", function () { $("tooltip").hidden = true; });
    lcan.addEventListener("wheel", function (e) {
      e.preventDefault();
      var rect = lcan.getBoundingClientRect(), sx = e.clientX - rect.left, sy = e.clientY - rect.top;
      var before = toGraph(sx, sy), f = Math.exp(-e.deltaY * 0.0015);
      cam.zoom = Math.min(home.zoom * 400, Math.max(home.zoom * 0.3, cam.zoom * f));
      var after = toGraph(sx, sy);
      cam.x += before[0] - after[0]; cam.y += before[1] - after[1];
      settleSoon();
    }, { passive: false });
    window.addEventListener("resize", function () { resize(); requestDraw(); });

    // ------------------------------------------------------------ selection and details
    function select(i, opts) {
      opts = opts || {};
      if (i === null || i === undefined || i < 0) {
        state.selected = null; state.neighbours = null; $("details").hidden = true;
      } else {
        state.selected = i;
        state.neighbours = new Set(neighbours(i, OUT).concat(neighbours(i, IN)));
        renderDetails(i);
      }
      applyFlags(); updateOverlay(); requestDraw();
      if (opts.centre && state.selected !== null) centreOn(i);
    }
    function centreOn(i) {
      var zoom = Math.max(cam.zoom, home.zoom * Math.max(2, Math.min(12, Math.sqrt(N / 200))));
      var panel = $("details").hidden ? 0 : $("details").offsetWidth;
      animateTo({ x: X[i] + panel / 2 / zoom, y: Y[i], zoom: zoom }, 450);
    }
    function neighbourLink(list, j) {
      var li = el("li"), a = el("a", "nb", P.title(j));
      a.href = "#";
      a.addEventListener("click", function (ev) { ev.preventDefault(); select(j, { centre: true }); });
      li.appendChild(a);
      if (P.year(j)) li.appendChild(el("span", "muted", " (" + P.year(j) + ")"));
      list.appendChild(li);
    }
    function renderDetails(i) {
      var body = $("details-body"), c = P.c;
      body.replaceChildren();
      body.appendChild(el("h2", "paper-title", P.title(i)));
      if (c.authors && c.authors[i]) {
        var more = P.a.n_authors[i] > 12 ? ", … (+" + (P.a.n_authors[i] - 12) + ")" : "";
        body.appendChild(el("p", "authors", c.authors[i] + more));
      }
      var meta = el("dl", "meta");
      function row(k, v) { if (v === null || v === undefined || v === "") return; meta.appendChild(el("dt", null, k)); meta.appendChild(el("dd", null, v)); }
      row("Date", P.date(i)); row("Venue", c.venue ? c.venue[i] : "");
      var ct = P.citations(i);
      row("Citations", (ct === null ? "unknown" : ct.toLocaleString("en")) + " (Semantic Scholar), " + P.a.in_corpus[i] + " in this graph");
      row("PageRank", P.a.pagerank[i] ? P.a.pagerank[i].toExponential(2) : null);
      var cf = FACET.community, ck = cf ? firstValue(cf, i) : -1;
      row("Community", ck >= 0 ? cf.values[ck] : "unconnected");
      if (c.hop && c.hop[i] === "0") row("Role", "seed paper");
      body.appendChild(meta);
      body.appendChild(S.paperLinks(P, i));
      var textBox = el("div");
      body.appendChild(textBox);
      if (P.h.text === false) {
        // served from a big database: authors, abstract and labels come from the server, for this paper only
        textBox.appendChild(el("p", "muted", "Loading…"));
        fetch("api/paper/" + encodeURIComponent(c.id[i])).then(function (r) { return r.ok ? r.json() : null; }).then(function (p) {
          if (state.selected !== i) return;
          textBox.replaceChildren();
          if (!p) { textBox.appendChild(el("p", "muted", "The server did not answer.")); return; }
          textBox.appendChild(S.apiPaperText(P, p));
        }).catch(function () {});
      } else {
        if (c.abstract && c.abstract[i]) {
          var ab = el("details", "abstract");
          ab.appendChild(el("summary", null, "Abstract")); ab.appendChild(el("p", null, c.abstract[i]));
          textBox.appendChild(ab);
        }
        textBox.appendChild(el("h3", null, "Labels"));
        if (!P.labels(i).length) textBox.appendChild(el("p", "muted", "Not labelled yet."));
        else textBox.appendChild(S.labelList(P, P.labels(i)));
      }
      [["Cites", neighbours(i, OUT)], ["Cited by", neighbours(i, IN)]].forEach(function (pair) {
        if (!pair[1].length) return;
        body.appendChild(el("h3", null, pair[0] + " (" + pair[1].length + " in this graph)"));
        var ul = el("ul", "neighbours");
        pair[1].sort(function (a, b) { return P.a.pagerank[b] - P.a.pagerank[a]; }).slice(0, 30).forEach(function (j) { neighbourLink(ul, j); });
        body.appendChild(ul);
      });
      $("details").hidden = false;
    }
    $("details-close").addEventListener("click", function () { select(null); });
    document.addEventListener("keydown", function (ev) { if (ev.key === "Escape" && ev.target === document.body) select(null); });

    // ------------------------------------------------------------ search
    var lower = null;
    function search(q) {
      q = (q || "").trim().toLowerCase();
      if (q.length < 2) return [];
      if (!lower) { lower = new Array(N); for (var k = 0; k < N; k++) lower[k] = P.title(k).toLowerCase(); }
      var hits = [];
      for (var i = 0; i < N && hits.length < 500; i++) if (lower[i].indexOf(q) >= 0) hits.push(i);
      hits.sort(function (a, b) {
        var pa = lower[a].indexOf(q) === 0 ? 0 : 1, pb = lower[b].indexOf(q) === 0 ? 0 : 1;
        return pa - pb || P.a.pagerank[b] - P.a.pagerank[a];
      });
      return hits.slice(0, 12);
    }
    var searchBox = $("search"), results = $("search-results");
    function resultItem(i, note) {
      var li = el("li", null, P.title(i));
      if (P.year(i)) li.appendChild(el("span", "muted", " " + P.year(i)));
      if (note) li.appendChild(el("span", "muted", " · " + note));
      li.addEventListener("mousedown", function (ev) { ev.preventDefault(); pick(i); });
      results.appendChild(li);
    }
    // Served live (rlmllm-graph serve), the search also asks the database's full-text index.
    var LIVE = location.protocol === "http:" || location.protocol === "https:";
    var searchSeq = 0, searchTimer = null;
    function fullText(q, seq, shown) {
      fetch("api/search?limit=20&q=" + encodeURIComponent(q)).then(function (r) { return r.ok ? r.json() : null; })
        .then(function (res) {
          if (!res || seq !== searchSeq) return;
          var added = 0;
          res.results.forEach(function (r) {
            var i = P.indexOf(r.paper_id);
            if (i < 0 || shown.has(i) || added >= 8) return;
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
    function pick(i) { results.hidden = true; searchBox.value = P.title(i); select(i, { centre: true }); }
    searchBox.addEventListener("input", showResults);
    searchBox.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter") { var h = search(searchBox.value); if (h.length) pick(h[0]); }
      if (ev.key === "Escape") results.hidden = true;
    });
    searchBox.addEventListener("blur", function () { results.hidden = true; });

    // ------------------------------------------------------------ controls
    var colourSel = $("colour-by");
    FACETS.forEach(function (f) { if (f.values.length) { var o = el("option", null, f.name); o.value = f.name; colourSel.appendChild(o); } });
    colourSel.value = state.colourFacet;
    colourSel.addEventListener("change", function () { state.colourFacet = colourSel.value; applyStyle(); requestDraw(); });
    var sizeSel = $("size-by");
    sizeSel.value = state.sizeBy;
    sizeSel.addEventListener("change", function () { state.sizeBy = sizeSel.value; applyStyle(); requestDraw(); });

    var isoBox = $("show-isolated");
    function isoLabel() {
      $("isolated-label").textContent = (state.showIsolated ? "Showing " : "Show ") + H.isolated.toLocaleString("en") +
        " unconnected paper" + (H.isolated === 1 ? "" : "s") + " (no citation link in this graph)";
    }
    if (H.isolated && H.isolated < N) {
      $("isolated-toggle").hidden = false;
      isoBox.checked = state.showIsolated;
      isoBox.addEventListener("change", function () { state.showIsolated = isoBox.checked; isoLabel(); applyFilters(); });
      isoLabel();
    }

    var yMin = $("year-min"), yMax = $("year-max");
    function yearLabel() { $("year-label").textContent = state.yearMin + " – " + state.yearMax; }
    if (YEARS) {
      [yMin, yMax].forEach(function (inp) { inp.min = YEARS[0]; inp.max = YEARS[1]; });
      yMin.value = YEARS[0]; yMax.value = YEARS[1];
      var onYear = function () {
        var a = +yMin.value, b = +yMax.value;
        if (a > b) { if (this === yMin) yMax.value = a; else yMin.value = b; }
        state.yearMin = +yMin.value; state.yearMax = +yMax.value; yearLabel(); applyFilters();
      };
      yMin.addEventListener("input", onYear); yMax.addEventListener("input", onYear);
      yearLabel();
    } else {
      $("year-filter").hidden = true;
    }

    function facetCounts(f, onlyVisible) {
      var counts = new Array(f.values.length).fill(0), none = 0;
      for (var i = 0; i < N; i++) {
        if (onlyVisible && !state.visible[i]) continue;
        if (f.name === "year") { var k = firstValue(f, i); if (k < 0) none++; else counts[k]++; continue; }
        var m = f.mask[i];
        if (!m) { none++; continue; }
        while (m) { var b = 31 - Math.clz32(m & -m); counts[b]++; m &= m - 1; }
      }
      return { counts: counts, none: none };
    }
    var filterBox = $("filters");
    FACETS.forEach(function (f) {
      if (!f.values.length || f.name === "year") return;
      var det = el("details", "facet-filter");
      det.dataset.facet = f.name;
      det.appendChild(el("summary", null, f.name));
      var c = facetCounts(f, false), entries = f.values.map(function (v, k) { return [k, v, c.counts[k]]; });
      entries.push([-1, f.name === "community" ? "(unconnected)" : "(not stated)", c.none]);
      entries.forEach(function (e) {
        if (e[0] === -1 && !e[2]) return;
        var lab = el("label", "check"), cb = el("input");
        cb.type = "checkbox"; cb.checked = true; cb.value = String(e[0]);
        cb.addEventListener("change", function () {
          var allowed = [], every = true;
          det.querySelectorAll("input[type=checkbox]").forEach(function (x) { if (x.checked) allowed.push(+x.value); else every = false; });
          if (every) delete state.filters[f.name]; else state.filters[f.name] = allowed;
          applyFilters();
        });
        lab.appendChild(cb); lab.appendChild(document.createTextNode(" " + e[1] + " "));
        lab.appendChild(el("span", "muted", "(" + e[2] + ")"));
        det.appendChild(lab);
      });
      filterBox.appendChild(det);
    });
    $("reset").addEventListener("click", function () {
      state.filters = {};
      filterBox.querySelectorAll("input[type=checkbox]").forEach(function (x) { x.checked = true; });
      if (YEARS) { yMin.value = YEARS[0]; yMax.value = YEARS[1]; state.yearMin = YEARS[0]; state.yearMax = YEARS[1]; yearLabel(); }
      select(null);
      applyFilters();
      animateTo(home, 300);
    });

    function legendToggle(row, facet, value) {
      var cb = filterBox.querySelector("details[data-facet='" + facet + "'] input[value='" + value + "']");
      if (!cb) return;
      row.classList.add("toggle");
      if (!cb.checked) row.classList.add("off");
      row.title = "Click to " + (cb.checked ? "hide" : "show") + " these papers";
      row.addEventListener("click", function () { cb.checked = !cb.checked; cb.dispatchEvent(new Event("change")); });
    }
    function renderLegend() {
      var f = FACET[state.colourFacet], lbox = $("legend");
      if (!f) return;
      lbox.replaceChildren();
      lbox.appendChild(el("div", "legend-title", "Colour: " + f.name + (f.name !== "year" && f.name !== "community" ? " (first value when several)" : "")));
      var c = facetCounts(f, true), items = f.values.map(function (v, k) { return [k, v]; });
      if (f.name === "year" && items.length > 12) {
        items = items.filter(function (_, k) { return k === 0 || k === items.length - 1 || k % Math.ceil(items.length / 10) === 0; });
      }
      items.forEach(function (it) {
        var row = el("div", "legend-row");
        legendToggle(row, f.name, it[0]);
        var sw = el("span", "swatch"); sw.style.background = valueColour(f.name, it[0]);
        row.appendChild(sw); row.appendChild(el("span", null, it[1]));
        if (f.name !== "year") row.appendChild(el("span", "muted", " " + c.counts[it[0]]));
        lbox.appendChild(row);
      });
      var r = el("div", "legend-row"), s = el("span", "swatch"); s.style.background = NONE_COLOUR;
      legendToggle(r, f.name, -1);
      r.appendChild(s); r.appendChild(el("span", null, f.name === "community" ? "unconnected" : "not stated"));
      r.appendChild(el("span", "muted", " " + c.none));
      lbox.appendChild(r);
    }

    // ------------------------------------------------------------ first frame
    resize();
    for (i = 0; i < N; i++) state.visible[i] = passes(i) ? 1 : 0;
    fit(); cam.x = home.x; cam.y = home.y; cam.zoom = home.zoom;
    applyStyle();
    applyFilters();
    draw();
    state.drawnMs = performance.now();
    requestAnimationFrame(function () {
      requestAnimationFrame(function () {
        state.firstFrameMs = performance.now();
        document.body.dataset.ready = "1";
      });
    });

    // graph.html#paper=ID (links from the other pages) selects and centres that paper
    function fromHash() {
      var id = S.paperFromHash();
      if (id === null) return;
      var i = P.indexOf(id);
      if (i >= 0) select(i, { centre: true });
      else $("graph-note").textContent = "No paper with that id in this graph.";
    }
    window.addEventListener("hashchange", fromHash);
    fromHash();

    window.explorer = {
      state: state, papers: P, graph: G,
      select: function (i) { select(i, { centre: true }); },
      search: search,
      indexOf: function (id) { return P.indexOf(id); },
      visibleCount: function () { return state.visibleCount; },
      renderedNodeCount: function () { return state.drawnNodes; },
      camera: function () { return { x: cam.x, y: cam.y, zoom: cam.zoom, home: home }; },
      // where paper i is on the page (client coordinates), for tests and tools
      clientXY: function (i) { var r = lcan.getBoundingClientRect(), p = toScreen(X[i], Y[i]); return [r.left + p[0], r.top + p[1]]; },
      inView: function (i) { var p = toScreen(X[i], Y[i]); return p[0] >= 0 && p[0] <= W && p[1] >= 0 && p[1] <= Hh; },
      neighbours: function (i) { return { cites: neighbours(i, OUT), citedBy: neighbours(i, IN) }; },
      setIsolated: function (on) { isoBox.checked = !!on; state.showIsolated = !!on; isoLabel(); applyFilters(); },
      // move the camera as a drag would (pixels); for tests and the benchmark's frame rate
      panBy: function (dx, dy) { cam.x -= dx / cam.zoom; cam.y += dy / cam.zoom; settleSoon(); },
      zoomBy: function (f) { cam.zoom *= f; settleSoon(); },
      redraw: function () { moving = false; edgesDirty = true; draw(); return { nodes: state.drawnNodes, edges: state.drawnEdges }; }
    };
  }
})();
