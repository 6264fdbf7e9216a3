// Credit dashboard charts: grade distribution by region (stacked bars) and the Jilin map coloured by
// the share of C and D grades per prefecture. ECharts and the GeoJSON are served by the platform.
(function () {
  "use strict";
  if (typeof echarts === "undefined") { return; }
  function readJson(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }
  var t = readJson("qg-cd-i18n") || {};
  var charts = [];
  var COLOURS = ["#1a9850", "#66bd63", "#a6d96a", "#fee08b", "#f46d43", "#d73027"];

  function drawBars() {
    var el = document.getElementById("qg-cd-chart");
    var rows = readJson("qg-cd-chart-data");
    var grades = readJson("qg-cd-grades");
    if (!el || !rows || !grades) { return; }
    var chart = echarts.init(el);
    charts.push(chart);
    chart.setOption({
      grid: { left: 40, right: 16, top: 36, bottom: 8, containLabel: true },
      legend: { top: 0 },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      xAxis: { type: "category", data: rows.map(function (r) { return r.name; }),
               axisLabel: { interval: 0, rotate: rows.length > 6 ? 35 : 0, fontSize: 11 } },
      yAxis: { type: "value", minInterval: 1 },
      series: grades.map(function (g, i) {
        return { name: g, type: "bar", stack: "grades", itemStyle: { color: COLOURS[i] },
                 data: rows.map(function (r) { return r.cells[i].count; }) };
      })
    });
    el.dataset.ready = "1";
  }

  function drawMap() {
    qgJilinMap(document.getElementById("qg-cd-map"), readJson("qg-cd-map-data"), {
      seriesName: t.low_share, none: t.none,
      max: function (values) { return values.length ? Math.max(10, Math.ceil(Math.max.apply(null, values) / 10) * 10) : 10; },
      tooltip: function (d) {
        return d.label + "<br>" + t.low_share + "：" + d.value.toFixed(2) + "%<br>" + t.low + "：" + d.low +
          "<br>" + t.total + "：" + d.total + "<br>" + t.average + "：" + d.average_score.toFixed(2);
      },
      visualMap: { formatter: function (v) { return v.toFixed(0) + "%"; },
                   inRange: { color: ["#1a9850", "#fee08b", "#d73027"] } }
    }).then(function (chart) { if (chart) { charts.push(chart); } });
  }

  drawBars();
  drawMap();
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
