// Dashboard choropleth: counts by prefecture on the Jilin map (ECharts, GeoJSON served locally).
(function () {
  "use strict";
  var el = document.getElementById("qg-map");
  if (!el || typeof echarts === "undefined") { return; }
  var data = JSON.parse(document.getElementById("qg-map-data").textContent);
  var max = data.reduce(function (m, d) { return Math.max(m, d.value); }, 0) || 1;
  fetch(el.dataset.geojson).then(function (r) { return r.json(); }).then(function (geo) {
    echarts.registerMap("jilin", geo);
    var chart = echarts.init(el);
    chart.setOption({
      tooltip: { trigger: "item", formatter: function (p) { return p.name + "：" + (p.value || 0); } },
      visualMap: { min: 0, max: max, left: "left", bottom: 10, text: ["", ""], calculable: true,
                   inRange: { color: ["#e0f3f8", "#4575b4"] } },
      series: [{ name: el.dataset.seriesName, type: "map", map: "jilin", roam: false,
                 label: { show: true, fontSize: 11 }, data: data }]
    });
    chart.on("click", function (p) {
      var row = data.find(function (d) { return d.name === p.name; });
      if (row) { window.location.href = "/registry/entities/?region=" + row.code; }
    });
    window.addEventListener("resize", function () { chart.resize(); });
    el.dataset.ready = "1";
  });
})();
