// Trace graph: batches, items, logistic units and places, with the flow between them (ECharts force
// layout). ECharts is served by the platform (vendor/echarts), no CDN.
(function () {
  "use strict";
  if (typeof echarts === "undefined") { return; }
  function readJson(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }
  var el = document.getElementById("qg-trace-graph");
  var data = readJson("qg-trace-data");
  var t = readJson("qg-trace-i18n") || {};
  if (!el || !data) { return; }
  var kinds = [];
  data.nodes.forEach(function (n) { if (kinds.indexOf(n.kind_label) < 0) { kinds.push(n.kind_label); } });
  var chart = echarts.init(el);
  chart.setOption({
    tooltip: { formatter: function (p) {
      if (p.dataType === "edge") {
        var e = p.data.raw;
        return e.relation + (e.quantity !== null ? "<br>" + t.quantity + "：" + e.quantity + " " + e.uom : "") +
          "<br>" + t.time + "：" + e.time;
      }
      var n = p.data.raw;
      var text = n.kind_label + "<br>" + n.label;
      if (n.region) { text += "<br>" + n.region; }
      if (!n.in_scope) { text += "<br>" + t.out_of_scope; }
      return text;
    } },
    legend: { data: kinds, top: 0 },
    series: [{
      type: "graph", layout: "force", roam: true, draggable: true,
      categories: kinds.map(function (k) { return { name: k }; }),
      force: { repulsion: 220, edgeLength: 90 },
      edgeSymbol: ["none", "arrow"], edgeSymbolSize: 8,
      label: { show: data.nodes.length <= 60, position: "right", fontSize: 11,
               formatter: function (p) { return p.data.raw.label; } },
      data: data.nodes.map(function (n) {
        return { id: n.id, name: n.id, raw: n, category: kinds.indexOf(n.kind_label),
                 symbolSize: n.id === data.start ? 26 : (n.kind === "location" || n.kind === "party" ? 18 : 12),
                 itemStyle: n.in_scope ? {} : { opacity: 0.5 } };
      }),
      links: data.edges.map(function (e) { return { source: e.from, target: e.to, raw: e }; }),
      lineStyle: { curveness: 0.1 }
    }]
  });
  el.dataset.ready = "1";
  window.addEventListener("resize", function () { chart.resize(); });
}());
