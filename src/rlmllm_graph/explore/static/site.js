/* rlmllm-graph report site: charts from JSON blocks, links from the taxonomy table to the explorer.
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

})();
