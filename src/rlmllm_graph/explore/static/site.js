/* rlmllm-graph report site: charts from JSON blocks, and the sortable, searchable paper table.
 * No inline scripts anywhere: data arrives as <script type="application/json"> blocks. */
(function () {
  "use strict";

  // Plotly figures: <div data-figure="ID-data"> + <script type="application/json" id="ID-data">
  var figs = document.querySelectorAll("[data-figure]");
  if (figs.length && window.Plotly) {
    var pending = figs.length;
    figs.forEach(function (div) {
      var spec = JSON.parse(document.getElementById(div.dataset.figure).textContent);
      var layout = spec.layout || {};
      layout.autosize = true;
      if (!layout.height) layout.height = 420;  // an empty div has no height to autosize to
      Plotly.newPlot(div, spec.data || [], layout, { responsive: true, displaylogo: false })
        .then(function () { if (--pending === 0) document.body.dataset.ready = "1"; });
    });
  } else {
    document.body.dataset.ready = "1";
  }

  // Taxonomy table: the model name opens the paper in the graph explorer.
  document.querySelectorAll("table.taxonomy-table tr[data-paper-id]").forEach(function (tr) {
    var cell = tr.cells[0];
    if (!cell || cell.querySelector("a")) return;
    var a = document.createElement("a");
    a.href = "graph.html#paper=" + encodeURIComponent(tr.dataset.paperId);
    a.textContent = cell.textContent;
    cell.replaceChildren(a);
  });

  // Sortable, filterable tables. Big tables show PAGE rows at a time: laying out 10,000 rows
  // takes seconds, hidden rows cost nothing.
  var PAGE = 500;
  document.querySelectorAll("table.sortable").forEach(function (table) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var texts = null;  // lower-case row text, computed on the first search
    var match = rows.map(function () { return true; });
    var limit = PAGE;
    var box = document.getElementById("paper-search");
    var count = document.getElementById("paper-count");
    var more = document.getElementById("paper-more");

    function render() {
      var shown = 0, matching = 0;
      rows.forEach(function (r, i) {
        var ok = match[i];
        if (ok) matching++;
        var show = ok && shown < limit;
        if (show) shown++;
        if (r.hidden === show) r.hidden = !show;
      });
      if (count) {
        count.textContent = matching === rows.length
          ? rows.length + " papers" + (shown < matching ? " (showing the first " + shown + ")" : "")
          : matching + " of " + rows.length + " papers" + (shown < matching ? " (showing the first " + shown + ")" : "");
      }
      if (more) {
        more.hidden = shown >= matching;
        more.textContent = "Show " + Math.min(PAGE, matching - shown) + " more";
      }
    }

    var heads = table.querySelectorAll("thead th");
    heads.forEach(function (th, col) {
      th.addEventListener("click", function () {
        var num = th.dataset.type === "num", cur = th.getAttribute("aria-sort");
        // numbers and dates start with the biggest/newest; a second click flips
        var asc = cur ? cur !== "ascending" : !(num || th.textContent.trim() === "Date");
        heads.forEach(function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        var key = function (r) {
          var c = r.cells[col], v = c.dataset.sort !== undefined ? c.dataset.sort : c.textContent.trim().toLowerCase();
          return num ? (parseFloat(v) || 0) : v;
        };
        var order = rows.map(function (r, i) { return [key(r), i]; });
        order.sort(function (a, b) { return (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1]) * (asc ? 1 : -1); });
        rows = order.map(function (o) { return rows[o[1]]; });
        match = order.map(function (o) { return match[o[1]]; });
        if (texts) texts = order.map(function (o) { return texts[o[1]]; });
        limit = PAGE;
        rows.forEach(function (r) { r.hidden = true; });
        var frag = document.createDocumentFragment();
        rows.forEach(function (r) { frag.appendChild(r); });
        body.appendChild(frag);
        render();
      });
    });

    if (box) {
      // every word must appear in the row's text (title, authors, venue, labels, evidence)
      var update = function () {
        if (!texts) texts = rows.map(function (r) { return r.textContent.toLowerCase(); });
        var words = box.value.toLowerCase().split(/\s+/).filter(Boolean);
        match = texts.map(function (t) { return words.every(function (w) { return t.indexOf(w) >= 0; }); });
        limit = PAGE;
        render();
      };
      box.addEventListener("input", update);
      var q = new URLSearchParams(location.search).get("q");
      if (q) { box.value = q; update(); }
    }
    if (more) more.addEventListener("click", function () { limit += PAGE; render(); });
    render();
  });
})();
