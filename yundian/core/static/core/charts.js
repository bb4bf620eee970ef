/* Draws every <figure data-chart="{spec}"> on the page with ECharts (spec: yundian/core/charts.py).
 *
 * The library is loaded once, from this script's data-echarts URL, on the first page that has a chart. When it is
 * missing (not installed) or fails, the figure keeps showing its table (data-chart-state "pending" -> "table"); when drawn the
 * table folds into "Show as table" (data-chart-state="drawn"). Figures an htmx swap brings in are drawn too.
 * Money arrives in minor units with the currency's symbol and minor digits; words come translated in the spec,
 * ECharts' own (toolbox, loading) follow <html lang>. Charts follow the window's and their box's size. */
(function () {
  "use strict";
  var script = document.currentScript;
  var libraryUrl = script ? script.getAttribute("data-echarts") : null;
  var loading = null;
  var charts = [];
  var zh = (document.documentElement.lang || "en").toLowerCase().indexOf("zh") === 0;
  var palette = ["#d4380d", "#2f54eb", "#13a8a8", "#faad14", "#722ed1", "#52c41a", "#eb2f96", "#8c8c8c"];

  function loadLibrary() {
    if (window.echarts) return Promise.resolve(window.echarts);
    if (!libraryUrl) return Promise.reject(new Error("no chart library URL"));
    if (!loading) {
      loading = new Promise(function (resolve, reject) {
        var tag = document.createElement("script");
        tag.src = libraryUrl;
        tag.async = true;
        tag.onload = function () { window.echarts ? resolve(window.echarts) : reject(new Error("no echarts")); };
        tag.onerror = function () { reject(new Error("chart library not installed: " + libraryUrl)); };
        document.head.appendChild(tag);
      });
    }
    return loading;
  }

  function grouped(value, digits) {
    return value.toLocaleString("en-US", {minimumFractionDigits: digits, maximumFractionDigits: digits});
  }

  function compact(value) {  // 12,300 -> 1.23万 / 12.3k
    var abs = Math.abs(value), steps = zh ? [[1e8, "亿"], [1e4, "万"]] : [[1e9, "B"], [1e6, "M"], [1e3, "k"]];
    for (var i = 0; i < steps.length; i++) {
      if (abs >= steps[i][0]) return +(value / steps[i][0]).toFixed(abs >= steps[i][0] * 100 ? 0 : 1) + steps[i][1];
    }
    return String(+value.toFixed(2));
  }

  function format(spec, value, short) {
    if (value === null || value === undefined || value === "-") return "–";
    if (spec.unit === "money") {
      var major = value / Math.pow(10, spec.currency.minor);
      var sign = major < 0 ? "-" : "";
      return sign + spec.currency.symbol + (short ? compact(Math.abs(major)) : grouped(Math.abs(major), spec.currency.minor));
    }
    if (spec.unit === "percent") return (short ? +value.toFixed(1) : grouped(value, 1)) + "%";
    return short ? compact(value) : grouped(value, Number.isInteger(value) ? 0 : 2);
  }

  function tooltipRow(marker, name, text) {
    var span = document.createElement("span");
    span.textContent = name + ": " + text;
    return (marker || "") + span.innerHTML;
  }

  function axisOptions(spec, phone) {
    var category = {type: "category", data: spec.x, axisTick: {alignWithLabel: true},
                    axisLabel: {hideOverlap: true, fontSize: phone ? 10 : 12}};
    var value = {type: "value", axisLabel: {formatter: function (v) { return format(spec, v, true); },
                                            fontSize: phone ? 10 : 12}, splitLine: {lineStyle: {color: "#eef0f3"}}};
    if (spec.type === "bar" && spec.horizontal) {
      category.inverse = true;
      category.axisLabel.width = phone ? 80 : 140;
      category.axisLabel.overflow = "truncate";
      return {xAxis: value, yAxis: category};
    }
    return {xAxis: category, yAxis: value};
  }

  function options(spec, phone) {
    var base = {
      color: palette, animation: !phone,
      textStyle: {fontFamily: "system-ui, -apple-system, 'PingFang SC', 'Microsoft YaHei', sans-serif"},
      tooltip: {confine: true, valueFormatter: function (v) { return format(spec, v, false); }},
    };
    var legend = {type: "scroll", bottom: 0, itemWidth: 14, itemHeight: 8, textStyle: {fontSize: phone ? 11 : 12}};
    if (spec.type === "line" || spec.type === "bar") {
      var axes = axisOptions(spec, phone);
      return Object.assign(base, axes, {
        tooltip: Object.assign(base.tooltip, {trigger: "axis"}),
        legend: spec.series.length > 1 ? Object.assign(legend, {data: spec.series.map(function (s) { return s.name; })}) : undefined,
        grid: {left: 8, right: spec.horizontal ? 28 : (phone ? 12 : 16), top: 16, bottom: spec.series.length > 1 ? 36 : 8, containLabel: true},
        series: spec.series.map(function (s, i) {
          var one = {name: s.name, type: spec.type, data: s.data, emphasis: {focus: "series"}};
          if (spec.type === "line") {
            one.showSymbol = s.data.length <= 14;
            one.smooth = false;
            one.lineStyle = {width: i === 0 ? 2.5 : 1.5, type: s.dashed ? "dashed" : "solid"};
            if (i === 0 && spec.series.length <= 3) one.areaStyle = {opacity: 0.08};
          } else {
            if (spec.stacked) one.stack = "all";
            one.barMaxWidth = 28;
            if (s.dashed) one.itemStyle = {opacity: 0.45};
          }
          return one;
        }),
      });
    }
    if (spec.type === "pie") {
      return Object.assign(base, {
        tooltip: Object.assign(base.tooltip, {trigger: "item", formatter: function (p) {
          return tooltipRow(p.marker, p.name, format(spec, p.value, false) + " (" + p.percent + "%)");
        }}),
        legend: legend,
        series: [{type: "pie", radius: phone ? ["35%", "62%"] : ["40%", "68%"], center: ["50%", "45%"],
                  data: spec.items, label: {formatter: "{b}\n{d}%", fontSize: phone ? 10 : 12},
                  avoidLabelOverlap: true}],
      });
    }
    if (spec.type === "heatmap") {
      var values = spec.cells.map(function (c) { return c[2]; });
      var max = values.length ? Math.max.apply(null, values) : 0;
      return Object.assign(base, {
        tooltip: Object.assign(base.tooltip, {trigger: "item", formatter: function (p) {
          return tooltipRow(p.marker, spec.y[p.value[1]] + " · " + spec.x[p.value[0]], format(spec, p.value[2], false));
        }}),
        grid: {left: 8, right: 8, top: 8, bottom: 48, containLabel: true},
        xAxis: {type: "category", data: spec.x, splitArea: {show: true}, axisLabel: {fontSize: phone ? 9 : 12}},
        yAxis: {type: "category", data: spec.y, splitArea: {show: true}, axisLabel: {fontSize: phone ? 10 : 12}},
        visualMap: {min: 0, max: max || 1, orient: "horizontal", left: "center", bottom: 0, itemHeight: phone ? 120 : 200,
                    calculable: false, inRange: {color: ["#fff7f0", "#ffbb96", "#d4380d"]},
                    formatter: function (v) { return format(spec, v, true); }},
        series: [{type: "heatmap", data: spec.cells, label: {show: !phone && spec.x.length <= 12,
                  formatter: function (p) { return format(spec, p.value[2], true); }}}],
      });
    }
    var root = spec.root;
    if (spec.type === "treemap") {
      return Object.assign(base, {
        tooltip: Object.assign(base.tooltip, {formatter: function (p) {
          return tooltipRow(p.marker, p.name, format(spec, p.value, false));
        }}),
        series: [{type: "treemap", data: root.children && root.children.length ? root.children : [root],
                  name: root.name, roam: false, nodeClick: false, breadcrumb: {show: false},
                  width: "100%", height: "100%", top: 0, left: 0,
                  label: {formatter: function (p) { return p.name + "\n" + format(spec, p.value, true); },
                          fontSize: phone ? 10 : 12},
                  upperLabel: {show: true, height: 20},
                  levels: [{itemStyle: {gapWidth: 2, borderColor: "#fff"}}, {itemStyle: {gapWidth: 1}}]}],
      });
    }
    return Object.assign(base, {  // tree
      tooltip: Object.assign(base.tooltip, {trigger: "item", formatter: function (p) {
        return tooltipRow(p.marker, p.name, format(spec, p.value, false));
      }}),
      series: [{type: "tree", data: [root], orient: "TB", top: 44, bottom: 48, left: 16, right: 16,
                initialTreeDepth: -1, expandAndCollapse: false, symbolSize: 8, roam: phone,
                label: {position: "top", verticalAlign: "bottom", align: "center", fontSize: phone ? 10 : 12,
                        formatter: function (p) { return p.name + "\n" + format(spec, p.value, true); }},
                leaves: {label: {position: "bottom", verticalAlign: "top", align: "center"}}}],
    });
  }

  function draw(echarts, figure) {
    var spec = JSON.parse(figure.getAttribute("data-chart"));
    var box = figure.querySelector(".chart-box");
    var phone = window.innerWidth < 600;
    var wanted = parseInt(figure.getAttribute("data-chart-height") || "300", 10);
    box.style.height = (phone ? Math.min(wanted, spec.type === "tree" || spec.type === "heatmap" ? 320 : 240) : wanted) + "px";
    figure.setAttribute("data-chart-state", "drawn");  // first, so the box is shown and has its width when drawn
    var chart = echarts.init(box, null, {locale: zh ? "ZH" : "EN"});
    chart.setOption(options(spec, phone));
    chart.on("click", function (p) {
      if (p.data && p.data.url) window.location.href = p.data.url;
    });
    charts.push(chart);
    var table = figure.querySelector("details.chart-table");
    if (table) table.open = false;
    if (window.ResizeObserver) new ResizeObserver(function () { chart.resize(); }).observe(box);
  }

  function drawAll(root) {
    var figures = Array.prototype.slice.call((root || document).querySelectorAll("figure[data-chart]"))
      .filter(function (f) { return f.getAttribute("data-chart-state") !== "drawn"; });
    if (root && root.matches && root.matches("figure[data-chart]")) figures.push(root);
    if (!figures.length) return;
    loadLibrary().then(function (echarts) {
      figures.forEach(function (figure) {
        try { draw(echarts, figure); } catch (error) {
          figure.setAttribute("data-chart-state", "table");
          if (window.console) console.warn("chart not drawn", error);
        }
      });
    }, function (error) {
      figures.forEach(function (figure) { figure.setAttribute("data-chart-state", "table"); });
      if (window.console) console.info(error.message + "; charts are shown as tables");
    });
  }

  var pending = null;
  window.addEventListener("resize", function () {
    clearTimeout(pending);
    pending = setTimeout(function () { charts.forEach(function (c) { if (!c.isDisposed()) c.resize(); }); }, 120);
  });
  document.addEventListener("htmx:load", function (event) { drawAll(event.target); });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", function () { drawAll(); });
  else drawAll();
})();
