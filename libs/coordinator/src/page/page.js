// The run's status page and report, in the browser: draws a RunView (see run-view.ts) with uPlot
// and an SVG heatmap. Live, it polls run.json; in a report, the view is embedded in the page.
(function () {
  'use strict';
  var charts = {};
  window.adaloraCharts = charts;
  var app = document.getElementById('app');
  var embedded = document.getElementById('run-data');
  var STATUS_DATA_PATH = '/status/run.json';

  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }
  function fmt(x, digits) {
    if (x === null || x === undefined || (typeof x === 'number' && !isFinite(x))) return '-';
    if (typeof x !== 'number') return String(x);
    if (x !== 0 && (Math.abs(x) < 1e-3 || Math.abs(x) >= 1e5)) return x.toExponential(2);
    return x.toFixed(digits === undefined ? 4 : digits);
  }
  function bytes(n) {
    if (!n) return '-';
    var u = ['B', 'kB', 'MB', 'GB', 'TB'];
    var i = 0;
    while (n >= 1000 && i < u.length - 1) { n /= 1000; i++; }
    return n.toFixed(i ? 1 : 0) + ' ' + u[i];
  }
  function last(a) { return a.length ? a[a.length - 1] : null; }

  function skeleton() {
    app.innerHTML =
      '<h1>AdaLoRA run <span id="run-id"></span></h1>' +
      '<div class="summary" id="summary"></div>' +
      '<div class="charts">' +
      '<div class="chart" id="chart-loss"><h3>loss (train, and dev at evaluations)</h3></div>' +
      '<div class="chart" id="chart-evals"><h3>dev metrics</h3></div>' +
      '<div class="chart" id="chart-schedule"><h3>learning rate and rank budget</h3></div>' +
      '<div class="chart" id="chart-speed"><h3>samples/s and step time split (ms: compute, coordinator, transfer, wait)</h3></div>' +
      '</div>' +
      '<h2>Rank per adapted matrix</h2><div class="legend" id="legend"></div>' +
      '<div class="heatmap-wrap" id="heatmap"></div>' +
      '<h2>Workers</h2><div id="workers"></div>' +
      '<h2>Events</h2><div class="events" id="events"></div>' +
      '<details><summary>Resolved config</summary><pre id="config"></pre></details>';
  }

  function chartWidth(id) {
    return Math.max(320, document.getElementById(id).clientWidth - 14);
  }

  // creates the chart on first data, then only replaces its data
  function plot(name, id, series, data) {
    var el = document.getElementById(id);
    el.setAttribute('data-points', String(data[0].length));
    if (charts[name] && charts[name].series.length === series.length + 1) {
      charts[name].setData(data);
      return;
    }
    if (charts[name]) charts[name].destroy();
    var opts = {
      width: chartWidth(id),
      height: 220,
      scales: { x: { time: false } },
      series: [{ label: 'step' }].concat(series),
      // steps are whole numbers: no tick at 1.25
      axes: [{ incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000] }, { scale: series[0].scale || 'y', size: 60 }],
    };
    var right = series.filter(function (s) { return s.scale && s.scale !== (series[0].scale || 'y'); })[0];
    if (right) opts.axes.push({ scale: right.scale, side: 1, grid: { show: false }, size: 60 });
    charts[name] = new uPlot(opts, data, el);
  }

  var COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf'];

  function drawCharts(v) {
    var s = v.steps;
    // dev loss on the steps' x axis: null where there was no evaluation
    var evalLoss = s.step.map(function (step) {
      var i = v.evals.step.indexOf(step);
      return i < 0 ? null : v.evals.loss[i];
    });
    plot('loss', 'chart-loss', [
      { label: 'train loss', stroke: COLORS[0], width: 1.5 },
      { label: 'dev loss', stroke: COLORS[1], width: 0, points: { show: true, size: 7 } },
    ], [s.step, s.loss, evalLoss]);
    var names = Object.keys(v.evals.metrics);
    if (names.length) {
      var empty = document.querySelector('#chart-evals .empty');
      if (empty) empty.remove();
      plot('evals', 'chart-evals', names.map(function (n, i) {
        return { label: n, stroke: COLORS[i % COLORS.length], width: 1.5, points: { show: true, size: 6 } };
      }), [v.evals.step].concat(names.map(function (n) { return v.evals.metrics[n]; })));
    } else {
      var box = document.getElementById('chart-evals');
      box.setAttribute('data-points', '0');
      if (!box.querySelector('.empty')) box.insertAdjacentHTML('beforeend', '<p class="empty">no evaluation yet (training.evalEvery, and at the end when there is a dev split)</p>');
    }
    plot('schedule', 'chart-schedule', [
      { label: 'lr', stroke: COLORS[0], width: 1.5, scale: 'lr', value: function (u, x) { return fmt(x); } },
      { label: 'budget (triplets)', stroke: COLORS[2], width: 1.5, scale: 'budget' },
    ], [s.step, s.lr, s.budget]);
    plot('speed', 'chart-speed', [
      { label: 'samples/s', stroke: COLORS[0], width: 1.5, scale: 'rate' },
      { label: 'compute ms', stroke: COLORS[2], width: 1, scale: 'ms' },
      { label: 'coordinator ms', stroke: COLORS[3], width: 1, scale: 'ms' },
      { label: 'transfer ms', stroke: COLORS[4], width: 1, scale: 'ms' },
      { label: 'wait ms', stroke: COLORS[5], width: 1, scale: 'ms' },
    ], [s.step, s.samplesPerSecond, s.computeMs, s.coordinatorMs, s.transferMs, s.waitMs]);
  }

  // white (rank 0) to dark blue (the largest rank)
  function rankColor(r, max) {
    if (r <= 0) return '#f0f0f0';
    var t = Math.min(1, r / max);
    var a = [198, 219, 239], b = [8, 48, 107];
    return 'rgb(' + a.map(function (x, i) { return Math.round(x + (b[i] - x) * t); }).join(',') + ')';
  }

  function drawHeatmap(v) {
    var h = v.heatmap;
    var cols = h.columns.length;
    var cell = Math.max(3, Math.min(14, Math.floor(900 / Math.max(1, cols))));
    var rowH = 14, labelW = 260, top = 32, gap = 6;
    var labels = [], cells = [], side = [];
    var y = top, prevLayer;
    var extra = h.trueRanks ? 2 : 1;
    side.push('<text x="' + (labelW + cols * cell + 10) + '" y="28">now</text>');
    if (h.trueRanks) side.push('<text x="' + (labelW + cols * cell + 46) + '" y="28">true</text>');
    h.rows.forEach(function (row, ri) {
      if (ri > 0 && row.layer !== prevLayer) y += gap;
      prevLayer = row.layer;
      var name = (row.layer === null ? '' : 'layer ' + row.layer + ' ') + row.type;
      labels.push('<text x="' + (labelW - 6) + '" y="' + (y + 11) + '" text-anchor="end"><title>' + esc(row.module) + '</title>' + esc(name) + '</text>');
      for (var c = 0; c < cols; c++) {
        var r = h.ranks[ri][c];
        cells.push('<rect class="cell" x="' + (labelW + c * cell) + '" y="' + y + '" width="' + cell + '" height="' + (rowH - 1) +
          '" fill="' + rankColor(r, h.maxRank) + '" data-module="' + esc(row.module) + '" data-step="' + h.columns[c] + '" data-rank="' + r +
          '"><title>' + esc(row.module) + ' step ' + h.columns[c] + ': rank ' + r + '</title></rect>');
      }
      var cur = h.current[ri];
      side.push('<rect class="current" x="' + (labelW + cols * cell + 8) + '" y="' + y + '" width="30" height="' + (rowH - 1) + '" fill="' + rankColor(cur, h.maxRank) +
        '" data-module="' + esc(row.module) + '" data-rank="' + cur + '"></rect>');
      side.push('<text x="' + (labelW + cols * cell + 23) + '" y="' + (y + 11) + '" text-anchor="middle" fill="' + (cur / h.maxRank > 0.5 ? '#fff' : '#000') + '">' + cur + '</text>');
      if (h.trueRanks) side.push('<text x="' + (labelW + cols * cell + 56) + '" y="' + (y + 11) + '" text-anchor="middle" class="true-rank" data-module="' + esc(row.module) + '">' + (h.trueRanks[ri] === null ? '?' : h.trueRanks[ri]) + '</text>');
      y += rowH;
    });
    var axis = [];
    var every = Math.max(1, Math.ceil(cols / 10));
    for (var c = 0; c < cols; c += every) axis.push('<text x="' + (labelW + c * cell) + '" y="' + (y + 12) + '">' + h.columns[c] + '</text>');
    var width = labelW + cols * cell + 40 + extra * 36;
    document.getElementById('heatmap').innerHTML =
      '<svg id="heatmap-svg" width="' + width + '" height="' + (y + 18) + '" data-columns="' + cols + '" data-rows="' + h.rows.length + '">' +
      '<text x="0" y="12">kept rank per matrix (rows) and step (columns: ' + (cols === v.steps.step.length ? 'every step' : 'first, last and every masking step that changed the allocation') + ')</text>' +
      labels.join('') + cells.join('') + side.join('') + axis.join('') + '</svg>';
    var legend = 'colour = kept rank:';
    for (var k = 0; k <= h.maxRank; k++) legend += '<i style="background:' + rankColor(k, h.maxRank) + '"></i>' + k;
    document.getElementById('legend').innerHTML = legend;
  }

  function drawWorkers(v) {
    var rows = v.workers.map(function (w) {
      return '<tr data-worker="' + esc(w.id) + '"><td>' + w.index + '</td><td>' + esc(w.id) + '</td><td>' + esc(w.host) + '</td><td>' + esc(w.backend) + '</td><td>' + esc(w.state) +
        '</td><td class="num">' + fmt(w.lastComputeSeconds, 3) + '</td><td class="num">' + bytes(w.bytesIn) + '</td><td class="num">' + bytes(w.bytesOut) + '</td></tr>';
    });
    document.getElementById('workers').innerHTML = rows.length
      ? '<table id="workers-table"><tr><th>#</th><th>id</th><th>host</th><th>backend</th><th>state</th><th>last step compute (s)</th><th>bytes in</th><th>bytes out</th></tr>' + rows.join('') + '</table>'
      : '<p>no worker connected</p>';
  }

  function drawEvents(v) {
    document.getElementById('events').innerHTML = v.events.slice().reverse().map(function (e) {
      return '<div data-kind="' + e.kind + '"><span class="k">step ' + e.step + '</span><span class="k">' + e.kind + '</span>' + esc(e.text) + '</div>';
    }).join('');
  }

  function drawSummary(v, gone) {
    var s = v.steps;
    var state = gone ? 'gone' : v.state;
    var ev = v.evals.headline && v.evals.metrics[v.evals.headline];
    document.getElementById('run-id').textContent = v.runId || '';
    document.getElementById('summary').innerHTML =
      '<span class="state-' + state + '" id="run-state">' + (gone ? 'coordinator unreachable (run ended?)' : v.state) + '</span>' +
      '<span>step <b id="run-step">' + (last(s.step) || 0) + '</b> / ' + (v.totalSteps || '?') + '</span>' +
      '<span>epoch ' + fmt(last(s.epoch), 2) + '</span>' +
      '<span>loss ' + fmt(last(s.loss)) + '</span>' +
      '<span>lr ' + fmt(last(s.lr)) + '</span>' +
      '<span>budget ' + fmt(last(s.budget), 0) + '</span>' +
      '<span>' + fmt(last(s.samplesPerSecond), 1) + ' samples/s</span>' +
      (ev ? '<span>dev ' + esc(v.evals.headline) + ' ' + fmt(last(ev)) + '</span>' : '') +
      '<span>model ' + esc(v.model || '?') + '</span>' +
      '<span>as of ' + esc(v.generated) + '</span>';
  }

  function draw(v, gone) {
    drawSummary(v, gone);
    drawCharts(v);
    drawHeatmap(v);
    drawWorkers(v);
    drawEvents(v);
    document.getElementById('config').textContent = JSON.stringify(v.config, null, 2);
    document.body.setAttribute('data-steps', String(v.steps.step.length));
  }

  skeleton();
  if (embedded) {
    draw(JSON.parse(embedded.textContent));
    document.body.setAttribute('data-ready', 'report');
    return;
  }
  var latest = null;
  function poll() {
    fetch(STATUS_DATA_PATH + location.search, { cache: 'no-store' })
      .then(function (r) {
        if (!r.ok) throw new Error('HTTP ' + r.status);
        return r.json();
      })
      .then(function (v) {
        latest = v;
        draw(v, false);
        document.body.setAttribute('data-ready', 'live');
        setTimeout(poll, v.state === 'finished' ? 5000 : 1500);
      })
      .catch(function () {
        if (latest) drawSummary(latest, true);
        setTimeout(poll, 5000);
      });
  }
  poll();
})();
