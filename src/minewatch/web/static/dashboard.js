/* MineWatch dashboard: the map and the trend charts, drawn with the vendored ECharts 5 from
 * the dashboard's JSON API (/api/v1/dashboard/map, /trend) and the offline maps under
 * /static/maps. The figures and tables of the page are rendered by the server; this only adds
 * the charts. */
(function () {
  "use strict";

  var root = document.getElementById("dashboard");
  if (!root || !window.echarts) {
    return;
  }
  var labels = JSON.parse(root.getAttribute("data-labels") || "{}");
  var mapApi = root.getAttribute("data-map-api");
  var trendApi = root.getAttribute("data-trend-api");
  var mapBox = document.getElementById("dash-map");
  var barBox = document.getElementById("dash-bars");
  var trendBox = document.getElementById("dash-trend");
  var charts = [];
  var geoLoaded = {};
  var RED = ["#fbe9e7", "#f4a582", "#d6604d", "#8c1c13"];
  var STAGE_COLOURS = {
    open: "#d6604d", assigned: "#e08214", checked: "#b35806", confirmed: "#8c1c13",
    measures_ordered: "#762a83", measures_completed: "#5aae61", cleared: "#1b7837"
  };

  function html(text) {
    return window.echarts.format.encodeHTML(String(text));
  }

  function number(value) {
    return Math.round(value).toLocaleString();
  }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (reply) {
        if (!reply.ok) {
          throw new Error(url + ": " + reply.status);
        }
        return reply.json();
      });
  }

  function chartIn(box) {
    var chart = window.echarts.init(box, null, { renderer: "canvas" });
    charts.push(chart);
    return chart;
  }

  /* Register a map once: the whole file, or only the one area a prefecture or county shows. */
  function mapNamed(view) {
    var name = "mw-" + view.map_name + (view.focus ? "-" + view.focus : "");
    if (view.map_name === "china") {
      name = "china"; /* ECharts adds the South China Sea inset to the map named china */
    }
    if (geoLoaded[name]) {
      return Promise.resolve(name);
    }
    return getJSON(view.map_url).then(function (geo) {
      if (view.focus) {
        geo = {
          type: "FeatureCollection",
          features: geo.features.filter(function (f) { return f.properties.code === view.focus; })
        };
      }
      window.echarts.registerMap(name, geo);
      geoLoaded[name] = true;
      return name;
    });
  }

  var mapChart = null;
  var barChart = null;

  function valueLabel(metric) {
    return metric === "mining_kw" ? labels.mining_kw + " (" + labels.kw + ")" : labels.open_cases;
  }

  function drawMap(view, name) {
    mapChart = mapChart || chartIn(mapBox);
    var metric = view.metric;
    var option = {
      animation: false,
      tooltip: {
        trigger: "item",
        formatter: function (p) {
          if (p.seriesType === "scatter") {
            var d = p.data;
            return html(d.case_no) + "<br>" + html(labels.mining_kw) + ": " +
              (d.value[2] == null ? "—" : number(d.value[2]) + " " + html(labels.kw));
          }
          var area = p.data || { open_cases: 0, open_mining_kw: 0 };
          return html(p.name) + "<br>" + html(labels.open_cases) + ": " + number(area.open_cases || 0) +
            "<br>" + html(labels.mining_kw) + ": " + number(area.open_mining_kw || 0) + " " +
            html(labels.kw);
        }
      },
      geo: {
        map: name,
        roam: true,
        layoutCenter: ["50%", "50%"],
        layoutSize: "95%",
        itemStyle: { areaColor: "#f6f2f1", borderColor: "#8a8a8a" },
        emphasis: { itemStyle: { areaColor: "#f4a582" }, label: { show: false } }
      },
      series: []
    };
    if (view.drill) {
      option.visualMap = {
        min: 0,
        max: Math.max(view.max_value, 1),
        left: 0,
        bottom: 0,
        text: [valueLabel(metric), ""],
        calculable: true,
        inRange: { color: RED }
      };
      option.series.push({
        type: "map",
        geoIndex: 0,
        data: view.areas.map(function (a) {
          return { name: a.name, value: a.value, code: a.region_code,
                   open_cases: a.open_cases, open_mining_kw: a.open_mining_kw };
        })
      });
    } else {
      var largest = view.points.reduce(function (m, p) { return Math.max(m, p.mining_kw || 0); }, 1);
      option.series.push({
        type: "scatter",
        name: labels.sites,
        coordinateSystem: "geo",
        data: view.points.map(function (p) {
          return { case_no: p.case_no, value: [p.longitude, p.latitude, p.mining_kw],
                   itemStyle: { color: STAGE_COLOURS[p.status] || "#8c1c13" } };
        }),
        symbolSize: function (v) {
          return metric === "mining_kw" ? 5 + 20 * Math.sqrt((v[2] || 0) / largest) : 8;
        }
      });
    }
    mapChart.setOption(option, true);
    mapChart.off("click");
    mapChart.on("click", function (p) {
      if (p.seriesType === "scatter" && p.data && p.data.case_no) {
        window.location.href = "/cases/" + encodeURIComponent(p.data.case_no);
      } else if (view.drill && p.data && p.data.code) {
        window.location.href = "/dashboard?region_code=" + encodeURIComponent(p.data.code);
      }
    });
  }

  function drawBars(view) {
    if (!barBox) {
      return;
    }
    barChart = barChart || chartIn(barBox);
    var areas = view.areas.slice().sort(function (a, b) { return a.value - b.value; });
    barChart.setOption({
      animation: false,
      grid: { left: 90, right: 30, top: 20, bottom: 50 },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      xAxis: { type: "value", name: valueLabel(view.metric), nameLocation: "middle", nameGap: 28 },
      yAxis: { type: "category", data: areas.map(function (a) { return a.name; }) },
      series: [{ type: "bar", data: areas.map(function (a) { return a.value; }),
                 itemStyle: { color: "#8c1c13" } }]
    }, true);
  }

  function loadMap(metric) {
    if (!mapBox) {
      return;
    }
    getJSON(mapApi + "&metric=" + encodeURIComponent(metric)).then(function (view) {
      drawBars(view);
      if (!view.map_url) {
        mapBox.hidden = true;
        return null;
      }
      return mapNamed(view).then(function (name) { drawMap(view, name); });
    }).catch(function (error) {
      mapBox.textContent = String(error.message || error);
    });
  }

  function loadTrend() {
    if (!trendBox) {
      return;
    }
    getJSON(trendApi).then(function (trend) {
      var chart = chartIn(trendBox);
      var weeks = trend.weeks.map(function (w) { return w.week; });
      function column(key) { return trend.weeks.map(function (w) { return w[key]; }); }
      chart.setOption({
        animation: false,
        tooltip: { trigger: "axis" },
        legend: { top: 0 },
        grid: { left: 50, right: 70, top: 40, bottom: 40 },
        xAxis: { type: "category", data: weeks },
        yAxis: [
          { type: "value", minInterval: 1 },
          { type: "value", name: labels.kw, splitLine: { show: false } }
        ],
        series: [
          { name: labels.new_cases, type: "bar", data: column("new_cases"), itemStyle: { color: "#f4a582" } },
          { name: labels.confirmed, type: "line", data: column("confirmed"), itemStyle: { color: "#8c1c13" } },
          { name: labels.cleared, type: "line", data: column("cleared"), itemStyle: { color: "#1b7837" } },
          { name: labels.removed_kw, type: "line", yAxisIndex: 1, data: column("removed_mining_kw"),
            lineStyle: { type: "dashed" }, itemStyle: { color: "#2166ac" } }
        ]
      });
    }).catch(function (error) {
      trendBox.textContent = String(error.message || error);
    });
  }

  Array.prototype.forEach.call(root.querySelectorAll("button.metric"), function (button) {
    button.addEventListener("click", function () {
      Array.prototype.forEach.call(root.querySelectorAll("button.metric"), function (other) {
        var on = other === button;
        other.classList.toggle("on", on);
        other.setAttribute("aria-pressed", on ? "true" : "false");
      });
      loadMap(button.getAttribute("data-metric"));
    });
  });
  window.addEventListener("resize", function () {
    charts.forEach(function (chart) { chart.resize(); });
  });

  loadMap("open_cases");
  loadTrend();
}());
