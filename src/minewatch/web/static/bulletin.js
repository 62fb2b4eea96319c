/* MineWatch bulletin page: the cumulative cleared count, week by week, drawn with the vendored
 * ECharts 5 from the series the server put on the chart's element. */
(function () {
  "use strict";

  var box = document.getElementById("bulletin-cleared");
  if (!box || !window.echarts) {
    return;
  }
  var series = JSON.parse(box.getAttribute("data-series") || "{}");
  var chart = window.echarts.init(box, null, { renderer: "canvas" });
  chart.setOption({
    animation: false,
    tooltip: { trigger: "axis" },
    grid: { left: 50, right: 20, top: 20, bottom: 40 },
    xAxis: { type: "category", data: series.weeks || [] },
    yAxis: { type: "value", minInterval: 1 },
    series: [{ type: "line", step: "end", data: series.cleared || [], areaStyle: { opacity: 0.15 },
               itemStyle: { color: "#1b7837" } }]
  });
  window.addEventListener("resize", function () { chart.resize(); });
}());
