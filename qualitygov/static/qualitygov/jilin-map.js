// The Jilin choropleth shared by the officers' dashboards (credit, complaints): the GeoJSON served by
// the platform, a tooltip and colour scale of the page's own, and a click on a prefecture in scope that
// reloads the page restricted to it (its counties). Each page passes what differs.
(function () {
  "use strict";
  window.qgJilinMap = function (el, data, options) {
    if (!el || !data || typeof echarts === "undefined") { return Promise.resolve(null); }
    return fetch(el.dataset.geojson).then(function (r) { return r.json(); }).then(function (geo) {
      echarts.registerMap("jilin", geo);
      var chart = echarts.init(el);
      var values = data.filter(function (d) { return d.value !== undefined; }).map(function (d) { return d.value; });
      var visualMap = Object.assign({ min: 0, max: options.max(values), left: "left", bottom: 10, calculable: true },
                                    options.visualMap || {});
      chart.setOption({
        tooltip: { trigger: "item", formatter: function (p) {
          var d = p.data || {};
          if (d.value === undefined) { return (d.label || p.name) + "：" + options.none; }
          return options.tooltip(d);
        } },
        visualMap: visualMap,
        series: [{ name: options.seriesName, type: "map", map: "jilin", roam: false,
                   label: { show: true, fontSize: 11 }, data: data }]
      });
      chart.on("click", function (p) {
        var d = p.data;
        if (d && d.drill && d.value !== undefined && el.dataset.drill) {
          var query = new URLSearchParams(window.location.search);
          query.set("region", d.code);
          window.location.href = el.dataset.drill + "?" + query.toString();
        }
      });
      el.dataset.ready = "1";
      return chart;
    });
  };
})();
