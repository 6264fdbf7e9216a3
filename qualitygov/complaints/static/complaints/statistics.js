// Complaint statistics charts (back office and the public monthly summary): the monthly trend, cases by
// category, and the Jilin map coloured by the number of cases per prefecture. ECharts and the GeoJSON
// are served by the platform; the data comes from json_script blocks on the page.
(function () {
  "use strict";
  if (typeof echarts === "undefined") { return; }
  function readJson(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }
  var t = readJson("qg-cs-i18n") || {};
  var charts = [];

  function drawTrend() {
    var el = document.getElementById("qg-cs-trend");
    var rows = readJson("qg-cs-trend-data");
    if (!el || !rows) { return; }
    var chart = echarts.init(el);
    charts.push(chart);
    function series(name, key, type) {
      return { name: name, type: type, stack: type === "bar" ? "kind" : undefined,
               data: rows.map(function (r) { return r[key]; }) };
    }
    chart.setOption({
      grid: { left: 40, right: 16, top: 36, bottom: 8, containLabel: true },
      legend: { top: 0 },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: rows.map(function (r) { return r.month; }) },
      yAxis: { type: "value", minInterval: 1 },
      series: [series(t.complaints, "complaints", "bar"), series(t.tip_offs, "tip_offs", "bar"),
               series(t.closed, "closed", "line")]
    });
    el.dataset.ready = "1";
  }

  function drawCategories() {
    var el = document.getElementById("qg-cs-category");
    var rows = readJson("qg-cs-category-data");
    if (!el || !rows) { return; }
    rows = rows.filter(function (r) { return r.count > 0; });
    var chart = echarts.init(el);
    charts.push(chart);
    chart.setOption({
      grid: { left: 8, right: 24, top: 30, bottom: 8, containLabel: true },
      legend: { top: 0 },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      yAxis: { type: "category", inverse: true, data: rows.map(function (r) { return r.label; }) },
      xAxis: { type: "value", minInterval: 1 },
      series: [
        { name: t.complaints, type: "bar", stack: "kind", data: rows.map(function (r) { return r.complaints; }) },
        { name: t.tip_offs, type: "bar", stack: "kind", data: rows.map(function (r) { return r.tip_offs; }) }
      ]
    });
    el.dataset.ready = "1";
  }

  function drawMap() {
    qgJilinMap(document.getElementById("qg-cs-map"), readJson("qg-cs-map-data"), {
      seriesName: t.received, none: t.none,
      max: function (values) { return values.length ? Math.max(5, Math.max.apply(null, values)) : 5; },
      tooltip: function (d) {
        return d.label + "<br>" + t.received + "：" + d.value + "<br>" + t.complaints + "：" + d.complaints +
          "<br>" + t.tip_offs + "：" + d.tip_offs;
      },
      visualMap: { inRange: { color: ["#e0f3f8", "#74add1", "#313695"] } }
    }).then(function (chart) { if (chart) { charts.push(chart); } });
  }

  drawTrend();
  drawCategories();
  drawMap();
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
