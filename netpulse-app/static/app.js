// NetPulse dashboard behaviour. Loaded before Alpine (CSP build): components are registered in
// `alpine:init` and templates only reference their properties and methods (no eval).
"use strict";

(function () {
  function csrfToken() {
    var m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.getAttribute("content") : "";
  }

  function css(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || "#888";
  }

  // Theme: auto (system) → dark → light → auto; remembered in localStorage.
  function setupTheme() {
    var button = document.getElementById("theme-toggle");
    if (!button) return;
    button.addEventListener("click", function () {
      var root = document.documentElement;
      var next = { auto: "dark", dark: "light", light: "auto" }[root.dataset.theme || "auto"] || "auto";
      root.dataset.theme = next;
      try {
        if (next === "auto") localStorage.removeItem("np-theme");
        else localStorage.setItem("np-theme", next);
      } catch (e) { /* private mode */ }
      button.setAttribute("aria-label", "Theme: " + next + ". Switch theme");
      document.dispatchEvent(new CustomEvent("np-theme"));
    });
  }
  // The narrow-screen menu.
  function setupMenu() {
    var button = document.getElementById("nav-toggle");
    if (!button) return;
    button.addEventListener("click", function () {
      var top = button.closest(".top");
      var open = !top.classList.contains("is-open");
      top.classList.toggle("is-open", open);
      button.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }
  // A time-zone field still on the default (UTC) is preselected with this browser's zone,
  // and says so; saving applies it.
  function setupZones() {
    var zone = "";
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { return; }
    document.querySelectorAll("input[data-browser-zone]").forEach(function (input) {
      if (!zone || zone === "UTC" || input.value !== "UTC") return;
      input.value = zone;
      var hint = document.getElementById(input.dataset.browserZone);
      if (hint) hint.textContent = "Preselected from this browser (" + zone + "); save to apply.";
    });
  }
  function setup() { setupTheme(); setupMenu(); setupZones(); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setup);
  else setup();

  function getJSON(url) {
    return fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" }).then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    });
  }

  function postJSON(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrfToken() },
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (!r.ok) throw new Error(data.message || ("HTTP " + r.status));
        return data;
      });
    });
  }

  var METRICS = {
    speed: { unit: "Mbps", series: [["Download", "download", "--c"], ["Upload", "upload", "--upload"]] },
    ping: { unit: "ms", series: [["Ping", "ping", "--c"], ["Jitter", "jitter", "--upload"]] },
    loss: { unit: "%", series: [["Packet loss", "loss", "--c"]] }
  };
  var AXIS_FONT = "12px system-ui, -apple-system, \"Segoe UI\", Roboto, sans-serif";

  // One number format: at most one decimal, none when whole.
  function num(v) {
    var r = Math.round(v * 10) / 10;
    return (r % 1 === 0 ? r.toFixed(0) : r.toFixed(1));
  }
  // Mbps values in Mbps, or in Gbps from 1000 Mbps on.
  function label(v, unit) {
    if (v == null) return "—";
    if (unit === "Mbps" && Math.abs(v) >= 1000) return num(v / 1000) + " Gbps";
    return num(v) + " " + unit;
  }

  // ISO dates and 24-hour times in the site's time zone.
  var partsCache = {};
  function parts(ts, zone) {
    var f = partsCache[zone];
    if (!f) {
      try {
        f = new Intl.DateTimeFormat("en-GB", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
      } catch (e) {
        f = new Intl.DateTimeFormat("en-GB", { timeZone: "UTC", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
      }
      partsCache[zone] = f;
    }
    var out = {};
    f.formatToParts(new Date(ts * 1e3)).forEach(function (p) { out[p.type] = p.value; });
    if (out.hour === "24") out.hour = "00";
    return out;
  }
  function isoDateTime(ts, zone) {
    var p = parts(ts, zone);
    return p.year + "-" + p.month + "-" + p.day + " " + p.hour + ":" + p.minute;
  }
  function xLabels(zone) {
    return function (u, splits, axisIdx, space, incr) {
      var lastDay = null;
      return splits.map(function (ts) {
        if (ts == null) return null;
        var p = parts(ts, zone);
        var day = p.month + "-" + p.day;
        if (incr >= 86400) return day;
        var text = p.hour + ":" + p.minute;
        if (day !== lastDay) { text += "\n" + day; lastDay = day; }
        return text;
      });
    };
  }

  // The y axis as wide as its widest label.
  var measure = document.createElement("canvas").getContext("2d");
  function axisSize(u, values) {
    if (!values) return 40;
    measure.font = AXIS_FONT;
    var widest = 0;
    values.forEach(function (v) {
      String(v).split("\n").forEach(function (line) { widest = Math.max(widest, measure.measureText(line).width); });
    });
    return Math.ceil(widest) + 18;
  }

  // The reference lines of a metric: [value, label, dashed?] in the chart's unit.
  function references(data, metric) {
    var r = data.refs || {};
    var out = [];
    function speed(ref, name) {
      if (!ref) return;
      out.push([ref.plan, name + " plan " + label(ref.plan, "Mbps"), "plan"]);
      out.push([ref.floor, name + " floor " + label(ref.floor, "Mbps") + " (" + ref.ratio + " %)", "floor"]);
    }
    if (metric === "speed") { speed(r.download, "Download"); speed(r.upload, "Upload"); }
    if (metric === "ping" && r.ping != null) out.push([r.ping, "Ping cap " + label(r.ping, "ms"), "floor"]);
    if (metric === "ping" && r.jitter != null) out.push([r.jitter, "Jitter cap " + label(r.jitter, "ms"), "floor"]);
    if (metric === "loss" && r.loss != null) out.push([r.loss, "Loss cap " + label(r.loss, "%"), "floor"]);
    return out;
  }

  // The baseline bands of a metric: [low, high, median, colour key, label] in the chart's unit.
  function bandsOf(data, metric) {
    var b = data.bands || {};
    var out = [];
    function one(band, name, colour) {
      if (band) out.push([band.low, band.high, band.median, colour, name + " baseline " + label(band.median, metric === "speed" ? "Mbps" : "ms") + " ± " + band.pct + " %"]);
    }
    if (metric === "speed") { one(b.download, "Download", "--c"); one(b.upload, "Upload", "--upload"); }
    if (metric === "ping") one(b.ping, "Ping", "--c");
    return out;
  }

  // Baseline bands, then reference lines under the series (drawn before them, so no label hides a point), and
  // failed tests as red markers along the bottom, over everything.
  function overlay(data, refs, bands, colours) {
    return {
      hooks: {
        drawAxes: function (u) {
          var ctx = u.ctx, b = u.bbox, dpr = devicePixelRatio || 1;
          ctx.save();
          bands.forEach(function (band) {
            var top = Math.max(b.top, Math.round(u.valToPos(band[1], "y", true)));
            var bottom = Math.min(b.top + b.height, Math.round(u.valToPos(band[0], "y", true)));
            if (bottom <= top) return;
            ctx.fillStyle = colours[band[3]];
            ctx.globalAlpha = 0.1;
            ctx.fillRect(b.left, top, b.width, bottom - top);
            ctx.globalAlpha = 0.5;
            var y = Math.round(u.valToPos(band[2], "y", true));
            ctx.strokeStyle = colours[band[3]];
            ctx.lineWidth = dpr;
            ctx.setLineDash([8 * dpr, 3 * dpr, 2 * dpr, 3 * dpr]);
            ctx.beginPath(); ctx.moveTo(b.left, y); ctx.lineTo(b.left + b.width, y); ctx.stroke();
            ctx.globalAlpha = 1;
          });
          ctx.font = Math.round(11 * dpr) + "px system-ui, sans-serif";
          ctx.textAlign = "right";
          refs.forEach(function (ref) {
            var y = Math.round(u.valToPos(ref[0], "y", true));
            if (y < b.top || y > b.top + b.height) return;
            ctx.strokeStyle = colours.muted;
            ctx.lineWidth = dpr;
            ctx.setLineDash(ref[2] === "plan" ? [6 * dpr, 4 * dpr] : [2 * dpr, 3 * dpr]);
            ctx.beginPath(); ctx.moveTo(b.left, y); ctx.lineTo(b.left + b.width, y); ctx.stroke();
            // Labels on wide charts only (the key below names the lines).
            if (b.width / dpr < 560) return;
            var w = ctx.measureText(ref[1]).width, tx = b.left + b.width - 4 * dpr, ty = y - 4 * dpr;
            ctx.fillStyle = colours.surface;
            ctx.globalAlpha = 0.85;
            ctx.fillRect(tx - w - 3 * dpr, ty - 11 * dpr, w + 6 * dpr, 14 * dpr);
            ctx.globalAlpha = 1;
            ctx.fillStyle = colours.muted;
            ctx.fillText(ref[1], tx, ty);
          });
          ctx.restore();
        },
        draw: function (u) {
          var ctx = u.ctx, b = u.bbox, dpr = devicePixelRatio || 1;
          ctx.save();
          ctx.fillStyle = colours.bad;
          (data.failed || []).forEach(function (ts) {
            var x = u.valToPos(ts, "x", true);
            if (x < b.left || x > b.left + b.width) return;
            var y = b.top + b.height - 2 * dpr, s = 5 * dpr;
            ctx.beginPath(); ctx.moveTo(x, y - 2 * s); ctx.lineTo(x - s, y); ctx.lineTo(x + s, y); ctx.closePath(); ctx.fill();
          });
          ctx.restore();
        }
      }
    };
  }

  // One column for uPlot: null only where the line really breaks (a break row), undefined
  // (joined over) where this figure alone is missing.
  function columnOf(values, breaks) {
    return values.map(function (v, i) { return v == null && breaks.indexOf(i) < 0 ? undefined : v; });
  }

  function makePlot(el, data, metric) {
    var m = METRICS[metric];
    var accent = getComputedStyle(el).getPropertyValue("--c").trim() || css("--c-" + (data.colour || "primary"));
    var colours = { "--c": accent, "--upload": css("--upload"), muted: css("--muted"), bad: css("--bad"), surface: css("--surface") };
    var zone = data.timeZone || "UTC";
    var breaks = data.breaks || [];
    var series = [{ value: function (u, ts) { return ts == null ? "—" : isoDateTime(ts, zone); } }];
    var arrays = [data.x];
    var refs = references(data, metric);
    var bands = bandsOf(data, metric);
    var dataMax = 0;
    m.series.forEach(function (s, i) {
      var alone = (data.alone && data.alone[s[1]]) || [];
      series.push({
        label: s[0], stroke: colours[s[2]], width: 1.8, spanGaps: false,
        points: {
          show: !!data.sparse, size: 7, fill: colours[s[2]],
          filter: function (u, sidx, show) { return show ? null : alone; }
        },
        value: function (u, v) { return label(v, m.unit); }
      });
      var col = columnOf(data[s[1]], breaks);
      col.forEach(function (v) { if (v != null && v > dataMax) dataMax = v; });
      arrays.push(col);
    });
    // The reference lines are in range when they are near the data (a 100 ms cap would flatten
    // a 10 ms ping line; its label still names it in the key).
    var top = dataMax || 1;
    refs.forEach(function (r) { if (r[0] <= Math.max(dataMax, 1) * 1.6) top = Math.max(top, r[0]); });
    bands.forEach(function (r) { if (r[1] <= Math.max(dataMax, 1) * 1.6) top = Math.max(top, r[1]); });
    var grid = { stroke: css("--border"), width: 1 };
    var width = Math.max(el.clientWidth, 280);
    var opts = {
      width: width,
      height: width < 500 ? 220 : 280,
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1e3), zone); },
      series: series,
      scales: {
        x: { time: true, range: function () { return [data.from, data.to]; } },
        y: { range: function () { return [0, top * 1.12]; } }
      },
      axes: [
        { stroke: colours.muted, grid: grid, ticks: grid, font: AXIS_FONT, values: xLabels(zone), space: 70 },
        { stroke: colours.muted, grid: grid, ticks: grid, font: AXIS_FONT, size: axisSize,
          values: function (u, vals) { return vals.map(function (v) { return label(v, m.unit); }); } }
      ],
      legend: { live: true },
      cursor: { points: { size: 7 } },
      plugins: [overlay(data, refs, bands, colours)]
    };
    return new uPlot(opts, arrays, el);
  }

  document.addEventListener("alpine:init", function () {
    // The selected connection's chart; the metric is switched without a request.
    Alpine.data("chart", function () {
      return {
        metric: "speed",
        plot: null,
        data: null,
        observer: null,
        init: function () {
          try { this.data = JSON.parse(this.$refs.data.textContent); } catch (e) { return; }
          this.draw();
          var self = this;
          if (window.ResizeObserver) {
            this.observer = new ResizeObserver(function () {
              // Resize on the next frame, and only when the width really changed: resizing
              // inside the callback would loop.
              requestAnimationFrame(function () {
                if (!self.plot) return;
                var width = Math.max(self.$refs.plot.clientWidth, 280);
                if (Math.abs(width - self.plot.width) > 1) self.plot.setSize({ width: width, height: self.plot.height });
              });
            });
            this.observer.observe(this.$refs.plot);
          }
          this.onTheme = function () { self.draw(); };
          document.addEventListener("np-theme", this.onTheme);
        },
        destroy: function () {
          if (this.observer) this.observer.disconnect();
          if (this.plot) this.plot.destroy();
          document.removeEventListener("np-theme", this.onTheme);
        },
        draw: function () {
          if (!this.data || typeof uPlot === "undefined") return;
          if (this.plot) this.plot.destroy();
          this.plot = null;
          this.$refs.plot.textContent = "";
          if (!this.data.x.length && !(this.data.failed || []).length) {
            var empty = document.createElement("p");
            empty.className = "chart-empty muted";
            empty.textContent = "No results in this range yet.";
            this.$refs.plot.appendChild(empty);
            return;
          }
          this.plot = makePlot(this.$refs.plot, this.data, this.metric);
          // Reachable from the element (the browser tests read the drawn geometry).
          this.$refs.plot.npPlot = this.plot;
        },
        pick: function (e) {
          this.metric = e.currentTarget.dataset.metric;
          this.draw();
        },
        get isSpeed() { return this.metric === "speed"; },
        get isPing() { return this.metric === "ping"; },
        get isLoss() { return this.metric === "loss"; }
      };
    });

    // The dashboard's live region and the Run test dialog.
    Alpine.data("live", function () {
      return {
        cursor: "",
        query: "",
        timer: null,
        busy: false,
        scope: "connection",
        poolEntry: "",
        pool: [],
        runName: "",
        runConnection: "",
        statusText: "",
        resultHref: "",
        resultText: "",
        waiting: [],
        init: function () {
          this.cursor = this.$el.dataset.cursor;
          this.query = this.$el.dataset.query;
          var self = this;
          this.timer = setInterval(function () { self.poll(); }, 5000);
          document.addEventListener("visibilitychange", function () { if (!document.hidden) self.poll(); });
        },
        destroy: function () { clearInterval(this.timer); },
        get isAll() { return this.scope === "all"; },
        get hasResult() { return this.resultHref !== ""; },
        poll: function () {
          if (document.hidden) return;
          var self = this;
          getJSON("/dashboard/cursor").then(function (d) {
            if (d.cursor !== self.cursor) {
              self.cursor = d.cursor;
              self.refresh();
            }
          }).catch(function () { /* offline for a moment: try again next tick */ });
        },
        refresh: function () {
          if (this.$refs.dialog.open) return;
          var self = this;
          fetch("/?" + this.query, { headers: { "X-NetPulse-Fragment": "live" }, credentials: "same-origin" })
            .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.text(); })
            .then(function (html) { self.$refs.region.innerHTML = html; })
            .catch(function () {});
        },
        openRun: function (e) {
          var b = e.currentTarget.dataset;
          this.runConnection = b.connection;
          this.runName = b.name;
          this.pool = b.pool ? b.pool.split(" ").filter(function (p) { return p; }) : [];
          this.scope = b.enabled === "yes" ? "connection" : "all";
          this.poolEntry = "";
          this.statusText = b.enabled === "yes" ? "" : "This connection is disabled; only all enabled connections can run.";
          this.busy = false;
          this.resultHref = "";
          this.resultText = "";
          this.$refs.dialog.showModal();
        },
        closeRun: function () {
          this.$refs.dialog.close();
          this.refresh();
        },
        submitRun: function () {
          var self = this;
          var body = { scope: this.scope };
          if (this.scope === "connection") {
            body.connectionId = this.runConnection;
            if (this.poolEntry) body.poolEntry = this.poolEntry;
          }
          this.busy = true;
          this.statusText = "Queuing…";
          postJSON("/dashboard/run", body).then(function (d) {
            self.waiting = d.queued || [];
            if (!self.waiting.length) {
              self.statusText = "Nothing to run: no enabled connection.";
              self.busy = false;
              return;
            }
            self.statusText = "Queued. Waiting for the probe to pick it up…";
            self.follow(Date.now());
          }).catch(function (err) {
            self.statusText = "Could not queue the test: " + err.message;
            self.busy = false;
          });
        },
        follow: function (started) {
          var self = this;
          Promise.all(this.waiting.map(function (id) {
            return getJSON("/dashboard/run-status?connection=" + encodeURIComponent(id));
          })).then(function (states) {
            var phases = states.map(function (s) { return s.state; });
            var done = phases.filter(function (p) { return p === "done" || p === "cancelled"; }).length;
            var running = phases.filter(function (p) { return p === "running"; }).length;
            if (done === phases.length) {
              self.statusText = phases.length === 1 ? "Done: the result is in." : "Done: all " + done + " results are in.";
              var r = states.length === 1 ? states[0].result : null;
              if (r) {
                self.resultHref = r.href;
                self.resultText = "↓ " + r.download + " · ↑ " + r.upload + " · ping " + r.ping + " (" + r.verdict + ") — open the result";
              }
              self.busy = false;
              self.cursor = "";
              return;
            }
            if (Date.now() - started > 180000) {
              self.statusText = "Still waiting for the agent to report back. The dashboard updates when it does.";
              self.busy = false;
              return;
            }
            var polls = states.map(function (s) { return s.nextPollSeconds; }).filter(function (n) { return n != null; });
            var wait = polls.length ? Math.max.apply(null, polls) : null;
            var when = wait == null ? " (its agent has not polled yet)" : wait > 0 ? " (next poll in ~" + wait + " s)" : " (the agent is due to poll now)";
            self.statusText = running ? "Running on the probe… (" + done + " of " + phases.length + " done)" : "Queued. Waiting for the probe to pick it up" + when + "…";
            setTimeout(function () { self.follow(started); }, 2000);
          }).catch(function () { setTimeout(function () { self.follow(started); }, 4000); });
        }
      };
    });

    // Live preview of cron expressions (one per line) in a time zone.
    Alpine.data("cronPreview", function () {
      return {
        lines: [],
        error: "",
        timer: null,
        init: function () { this.update(); },
        schedule: function () {
          var self = this;
          clearTimeout(this.timer);
          this.timer = setTimeout(function () { self.update(); }, 300);
        },
        update: function () {
          var cron = document.getElementById("cron");
          var tz = document.getElementById("timezone");
          if (!cron) return;
          var self = this;
          var q = "cron=" + encodeURIComponent(cron.value) + "&timezone=" + encodeURIComponent(tz ? tz.value : "UTC");
          getJSON("/settings/connections/cron-preview?" + q).then(function (d) {
            self.lines = d.next || [];
            self.error = d.error || "";
          }).catch(function () {});
        }
      };
    });

    // Shows the fields of the chosen schedule mode.
    Alpine.data("scheduleMode", function () {
      return {
        mode: "even",
        init: function () { this.mode = this.$el.dataset.mode || "even"; },
        get isEven() { return this.mode === "even"; },
        get isCron() { return this.mode === "cron"; }
      };
    });

    // Copies a secret to the clipboard.
    Alpine.data("copy", function () {
      return {
        copied: false,
        copy: function () {
          var self = this;
          var text = this.$refs.secret.textContent.trim();
          if (navigator.clipboard) navigator.clipboard.writeText(text).then(function () { self.copied = true; });
        },
        get label() { return this.copied ? "Copied" : "Copy"; }
      };
    });

    // A public link, absolute, with a copy button.
    Alpine.data("shareLink", function () {
      return {
        copied: false,
        get absolute() { return new URL(this.$root.dataset.path, location.href).href; },
        copy: function () {
          var self = this;
          var text = new URL(this.$root.dataset.path, location.href).href;
          if (navigator.clipboard) navigator.clipboard.writeText(text).then(function () { self.copied = true; }).catch(function () {});
        },
        get label() { return this.copied ? "Copied" : "Copy link"; }
      };
    });

    // Asks before a destructive form is sent.
    Alpine.data("confirm", function () {
      return {
        check: function (e) {
          if (!window.confirm(this.$el.dataset.confirm || "Are you sure?")) e.preventDefault();
        }
      };
    });
  });
})();
