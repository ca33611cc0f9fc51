/* rlmllm-graph site data: decodes the packed files data/NAME.js (rlmllm_graph.explore.pack).
 *
 * Each data file assigns a base64 string to window.RLM_DATA[NAME] (a <script src>, so it works
 * from file:// where fetch() does not). rlmData(NAME) turns it into {header, arrays}: the header
 * is JSON (text columns, vocabularies), the arrays are typed arrays over one buffer. Decoding
 * uses the browser's own gzip (DecompressionStream); nothing is requested from anywhere.
 * Also: window.rlmSite, small helpers the pages share (element builder, labels, links).
 */
(function () {
  "use strict";
  var cache = {};
  var CLASSES = { Uint8: Uint8Array, Int8: Int8Array, Uint16: Uint16Array, Int16: Int16Array,
    Uint32: Uint32Array, Int32: Int32Array, Float32: Float32Array, Float64: Float64Array };
  var NAMES = { u1: "Uint8", i1: "Int8", u2: "Uint16", i2: "Int16", u4: "Uint32", i4: "Int32", f4: "Float32", f8: "Float64" };

  function b64bytes(s) {
    var bin = atob(s), n = bin.length, out = new Uint8Array(n);
    for (var i = 0; i < n; i++) out[i] = bin.charCodeAt(i);
    return out;
  }

  function gunzip(bytes) {
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Response(stream).arrayBuffer();
  }

  function parse(buf) {
    var u8 = new Uint8Array(buf);
    if (u8[0] !== 82 || u8[1] !== 76 || u8[2] !== 77 || u8[3] !== 49) throw new Error("not an rlmllm-graph data file");
    var hlen = new DataView(buf).getUint32(4, true);
    var header = JSON.parse(new TextDecoder("utf-8").decode(u8.subarray(8, 8 + hlen)));
    var base = 8 + hlen; base += (8 - base % 8) % 8;
    var arrays = {};
    Object.keys(header.arrays).forEach(function (name) {
      var spec = header.arrays[name], Cls = CLASSES[NAMES[spec[0]]];
      arrays[name] = new Cls(buf, base + spec[1], spec[2]);
    });
    return { header: header, arrays: arrays };
  }

  window.rlmData = function (name) {
    if (!cache[name]) {
      var raw = (window.RLM_DATA || {})[name];
      if (typeof raw !== "string") return Promise.reject(new Error("data file data/" + name + ".js did not load"));
      cache[name] = gunzip(b64bytes(raw)).then(parse);
      window.RLM_DATA[name] = null;  // the decoded copy is what is kept
    }
    return cache[name];
  };

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  // The papers table (data/papers.js) with row accessors.
  function Papers(d) {
    var h = d.header, a = d.arrays, c = h.columns || {};
    this.n = h.n; this.h = h; this.a = a; this.c = c;
    this.facets = h.facets || [];
    this.facetRank = {};
    var self = this;
    this.facets.forEach(function (f, k) { self.facetRank[f.name] = k; });
  }
  Papers.prototype.id = function (i) { return this.c.id[i]; };
  Papers.prototype.title = function (i) { return this.c.title[i] || "(untitled)"; };
  Papers.prototype.year = function (i) { var y = this.a.year[i]; return y ? y : null; };
  Papers.prototype.date = function (i) { return (this.c.date && this.c.date[i]) || (this.year(i) ? String(this.year(i)) : ""); };
  Papers.prototype.citations = function (i) { var v = this.a.citations[i]; return v < 0 ? null : v; };
  Papers.prototype.labels = function (i) {
    // [{facet, value, confidence (0-1 or null), source, evidence, where}]
    var a = this.a, h = this.h, out = [];
    if (!a.lab_start) return out;
    for (var k = a.lab_start[i]; k < a.lab_start[i + 1]; k++) {
      var f = this.facets[a.lab_facet[k]];
      out.push({
        facet: f.name, value: f.values[a.lab_value[k]],
        confidence: a.lab_conf[k] === 255 ? null : a.lab_conf[k] / 100,
        source: a.lab_source[k] === 255 ? "" : h.sources[a.lab_source[k]],
        evidence: h.evidence[k] || "", where: h.where[a.lab_where[k]] || ""
      });
    }
    return out;
  };
  Papers.prototype.indexOf = function (id) {
    if (!this._index) { var m = new Map(); this.c.id.forEach(function (v, k) { m.set(v, k); }); this._index = m; }
    var i = this._index.get(id);
    return i === undefined ? -1 : i;
  };

  function safeHref(url) { return /^https?:\/\//i.test(url || "") ? url : null; }

  // Labels (objects as Papers.labels gives them) as a list, every facet of the vocabulary shown:
  // "not stated" where none.
  function labelList(P, labs) {
    var ul = el("ul", "labels"), have = {};
    labs.forEach(function (l) { have[l.facet] = true; });
    P.facets.forEach(function (f) {
      if (!have[f.name]) {
        if (f.name === "relevance") return;
        var li = el("li", "not-stated");
        li.appendChild(el("span", "chip chip-none", f.name + ": not stated"));
        ul.appendChild(li);
        return;
      }
      labs.forEach(function (l) {
        if (l.facet !== f.name) return;
        var li = el("li");
        var unsure = l.source !== "manual" && l.confidence !== null && l.confidence < 0.6;
        li.appendChild(el("span", "chip chip-" + l.facet + (unsure ? " chip-unsure" : ""), l.facet + ": " + l.value + (unsure ? "?" : "")));
        var how = [];
        if (l.source) how.push(l.source === "manual" ? "manual label" : l.source);
        if (l.confidence !== null && l.source !== "manual") how.push(Math.round(l.confidence * 100) + "%");
        if (how.length) li.appendChild(el("span", "muted", " " + how.join(", ")));
        if (l.where) li.appendChild(el("span", "where", "from " + l.where));
        if (l.evidence && l.evidence !== "manual") li.appendChild(el("q", "evidence", l.evidence));
        ul.appendChild(li);
      });
    });
    return ul;
  }

  // Authors, abstract and labels of a paper as /api/paper/ID answers it (serve), as one fragment.
  function apiPaperText(P, p) {
    var box = document.createDocumentFragment();
    if (p.authors && p.authors.length) box.appendChild(el("p", "authors", p.authors.slice(0, 12).join(", ") + (p.authors.length > 12 ? ", … (+" + (p.authors.length - 12) + ")" : "")));
    if (p.abstract) {
      var ab = el("details", "abstract");
      ab.appendChild(el("summary", null, "Abstract")); ab.appendChild(el("p", null, p.abstract));
      box.appendChild(ab);
    }
    box.appendChild(el("h3", null, "Labels"));
    box.appendChild(labelList(P, (p.labels || []).map(function (l) {
      return { facet: l.facet, value: l.value, confidence: l.confidence === null || l.confidence === undefined ? null : l.confidence,
        source: l.source || "", evidence: l.evidence || "", where: l.evidence_source || "" };
    })));
    return box;
  }

  // Links of paper i (arXiv, Semantic Scholar, DOI), built from ids, never from raw text.
  function paperLinks(P, i) {
    var p = el("p", "links"), c = P.c;
    function link(text, href) {
      if (!href) return;
      var a = el("a", "btn", text); a.href = href; a.target = "_blank"; a.rel = "noopener noreferrer";
      p.appendChild(a);
    }
    if (c.arxiv && c.arxiv[i]) link("arXiv", "https://arxiv.org/abs/" + encodeURIComponent(c.arxiv[i]));
    var s2 = c.url ? safeHref(c.url[i]) : null;
    if (!s2 || s2.indexOf("semanticscholar.org") < 0) s2 = "https://www.semanticscholar.org/paper/" + encodeURIComponent(c.id[i]);
    link("Semantic Scholar", s2);
    if (c.doi && c.doi[i]) link("DOI", "https://doi.org/" + encodeURI(c.doi[i]));
    return p;
  }

  // The #paper=ID fragment, or null when absent or malformed (never throws).
  function paperFromHash() {
    var m = /^#paper=(.*)$/.exec(location.hash || "");
    if (!m || !m[1]) return null;
    try { return decodeURIComponent(m[1]); } catch (e) { return null; }
  }

  window.rlmSite = { el: el, Papers: Papers, labelList: labelList, apiPaperText: apiPaperText, paperLinks: paperLinks,
    safeHref: safeHref, paperFromHash: paperFromHash };
})();
