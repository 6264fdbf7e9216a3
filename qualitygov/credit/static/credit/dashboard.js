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
    var el = document.getElementById("qg-cd-map");
    var data = readJson("qg-cd-map-data");
    if (!el || !data) { return; }
    fetch(el.dataset.geojson).then(function (r) { return r.json(); }).then(function (geo) {
      echarts.registerMap("jilin", geo);
      var chart = echarts.init(el);
      charts.push(chart);
      var values = data.filter(function (d) { return d.value !== undefined; }).map(function (d) { return d.value; });
      var max = values.length ? Math.max(10, Math.ceil(Math.max.apply(null, values) / 10) * 10) : 10;
      chart.setOption({
        tooltip: { trigger: "item", formatter: function (p) {
          var d = p.data || {};
          if (d.value === undefined) { return (d.label || p.name) + "：" + t.none; }
          return d.label + "<br>" + t.low_share + "：" + d.value.toFixed(2) + "%<br>" + t.low + "：" + d.low +
            "<br>" + t.total + "：" + d.total + "<br>" + t.average + "：" + d.average_score.toFixed(2);
        } },
        visualMap: { min: 0, max: max, left: "left", bottom: 10, calculable: true,
                     formatter: function (v) { return v.toFixed(0) + "%"; },
                     inRange: { color: ["#1a9850", "#fee08b", "#d73027"] } },
        series: [{ name: t.low_share, type: "map", map: "jilin", roam: false, label: { show: true, fontSize: 11 },
                   data: data }]
      });
      // Drill into a prefecture in scope: the page again, restricted to it (its counties).
      chart.on("click", function (p) {
        var d = p.data;
        if (d && d.drill && d.value !== undefined && el.dataset.drill) {
          var query = new URLSearchParams(window.location.search);
          query.set("region", d.code);
          window.location.href = el.dataset.drill + "?" + query.toString();
        }
      });
      el.dataset.ready = "1";
    });
  }

  drawBars();
  drawMap();
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
