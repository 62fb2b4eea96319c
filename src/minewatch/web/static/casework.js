/* Casework charts: each [data-chart] element holds its data as JSON (see minewatch/web/charts.py);
   this draws it with the vendored ECharts. No data is fetched. */
(function () {
  "use strict";

  function meterLoad(el, d) {
    var chart = echarts.init(el);
    var load = {
      name: d.labels.kwh, type: "line", data: d.daily_kwh, showSymbol: false, connectNulls: false
    };
    if (d.start_date) {
      load.markLine = {
        symbol: "none", label: { formatter: d.labels.start + " " + d.start_date },
        lineStyle: { color: "#8c1c13", type: "dashed" }, data: [{ xAxis: d.start_date }]
      };
    }
    chart.setOption({
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 64, right: 64, top: 36, bottom: 48 },
      xAxis: { type: "category", data: d.dates },
      yAxis: [{ type: "value", name: "kWh" }, { type: "value", name: "kW" }],
      dataZoom: [{ type: "inside" }, { type: "slider", height: 16, bottom: 8 }],
      series: [load, {
        name: d.labels.kw, type: "line", yAxisIndex: 1, data: d.floor_kw, showSymbol: false,
        lineStyle: { width: 1 }
      }]
    });
    return chart;
  }

  function meterProfile(el, d) {
    var chart = echarts.init(el);
    chart.setOption({
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 64, right: 24, top: 36, bottom: 44 },
      xAxis: { type: "category", name: d.labels.hour, nameLocation: "middle", nameGap: 26, data: d.hours },
      yAxis: { type: "value", name: "kW" },
      series: [
        { name: d.labels.before, type: "line", data: d.before, showSymbol: false },
        { name: d.labels.after, type: "line", data: d.after, showSymbol: false }
      ]
    });
    return chart;
  }

  function plantWeekly(el, d) {
    var chart = echarts.init(el);
    var expected = { name: d.labels.expected, type: "bar", data: d.expected };
    if (d.period && d.period[0]) {
      var from = null, to = null;
      for (var i = 0; i < d.dates.length; i++) {
        if (from === null && d.dates[i] >= d.period[0].slice(0, 10)) { from = d.dates[Math.max(i - 1, 0)]; }
        if (d.period[1] && d.dates[i] <= d.period[1].slice(0, 10)) { to = d.dates[i]; }
      }
      if (from !== null && to !== null) {
        expected.markArea = {
          itemStyle: { color: "rgba(140, 28, 19, 0.08)" },
          data: [[{ name: d.labels.period, xAxis: from }, { xAxis: to }]]
        };
      }
    }
    chart.setOption({
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 72, right: 24, top: 36, bottom: 32 },
      xAxis: { type: "category", data: d.dates },
      yAxis: { type: "value", name: "kWh" },
      series: [
        expected,
        { name: d.labels.observed, type: "bar", data: d.observed },
        { name: d.labels.shortfall, type: "line", data: d.shortfall, showSymbol: false }
      ]
    });
    return chart;
  }

  var KINDS = { "meter-load": meterLoad, "meter-profile": meterProfile, "plant-weekly": plantWeekly };

  function drawAll() {
    if (!window.echarts) { return; }
    var charts = [];
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var spec = JSON.parse(el.getAttribute("data-chart"));
      var draw = KINDS[spec.kind];
      if (draw) { charts.push(draw(el, spec)); }
    });
    window.addEventListener("resize", function () {
      charts.forEach(function (c) { c.resize(); });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
