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

  // Sortable tables: click a header; numbers sort by data-sort.
  document.querySelectorAll("table.sortable").forEach(function (table) {
    var heads = table.querySelectorAll("thead th");
    heads.forEach(function (th, col) {
      th.addEventListener("click", function () {
        var num = th.dataset.type === "num", cur = th.getAttribute("aria-sort");
        // numbers and dates start with the biggest/newest; a second click flips
        var asc = cur ? cur !== "ascending" : !(num || th.textContent.trim() === "Date");
        heads.forEach(function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        var key = function (r) {
          var c = r.cells[col], v = c.dataset.sort !== undefined ? c.dataset.sort : c.textContent.trim().toLowerCase();
          return num ? (parseFloat(v) || 0) : v;
        };
        var keys = new Map(rows.map(function (r) { return [r, key(r)]; }));
        rows.sort(function (a, b) {
          var x = keys.get(a), y = keys.get(b);
          return (x < y ? -1 : x > y ? 1 : 0) * (asc ? 1 : -1);
        });
        var frag = document.createDocumentFragment();
        rows.forEach(function (r) { frag.appendChild(r); });
        body.appendChild(frag);
      });
    });
  });

  // Paper filter: every word must appear in the row's text (title, authors, venue, labels, evidence).
  var box = document.getElementById("paper-search");
  if (box) {
    var table = document.getElementById("papers");
    var rows = Array.prototype.slice.call(table.tBodies[0].rows);
    var texts = rows.map(function (r) { return r.textContent.toLowerCase(); });
    var count = document.getElementById("paper-count");
    var update = function () {
      var words = box.value.toLowerCase().split(/\s+/).filter(Boolean), shown = 0;
      rows.forEach(function (r, i) {
        var ok = words.every(function (w) { return texts[i].indexOf(w) >= 0; });
        r.hidden = !ok; if (ok) shown++;
      });
      count.textContent = shown + " of " + rows.length + " papers";
    };
    box.addEventListener("input", update);
    var q = new URLSearchParams(location.search).get("q");
    if (q) box.value = q;
    update();
  }
})();
