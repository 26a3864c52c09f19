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
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setupTheme);
  else setupTheme();

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

  function makePlot(el, data, metric) {
    var m = METRICS[metric];
    var accent = getComputedStyle(el).getPropertyValue("--c").trim() || css("--c-" + (data.colour || "primary"));
    var colours = { "--c": accent, "--upload": css("--upload") };
    var points = { show: data.sparse, size: 6 };
    var series = [{}];
    var arrays = [data.x];
    m.series.forEach(function (s) {
      series.push({ label: s[0], stroke: colours[s[2]], width: 1.6, points: points, spanGaps: false,
        value: function (u, v) { return v == null ? "—" : v + " " + m.unit; } });
      arrays.push(data[s[1]]);
    });
    var axisColour = css("--muted");
    var grid = { stroke: css("--border"), width: 1 };
    var opts = {
      width: Math.max(el.clientWidth, 280),
      height: el.clientWidth < 500 ? 220 : 280,
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1e3), data.timeZone || "UTC"); },
      series: series,
      axes: [
        { stroke: axisColour, grid: grid, ticks: grid },
        { stroke: axisColour, grid: grid, ticks: grid, size: 56, values: function (u, vals) { return vals.map(function (v) { return v + " " + m.unit; }); } }
      ],
      scales: { y: { range: function (u, min, max) { return [Math.min(0, min || 0), (max || 1) * 1.1]; } } },
      legend: { live: true },
      cursor: { points: { size: 6 } }
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
          this.$refs.plot.textContent = "";
          this.plot = makePlot(this.$refs.plot, this.data, this.metric);
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
            self.statusText = "Queued. Waiting for the probe to pick it up (it polls about once a minute)…";
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
              self.busy = false;
              self.cursor = "";
              return;
            }
            if (Date.now() - started > 180000) {
              self.statusText = "Still waiting for the agent to report back. The dashboard updates when it does.";
              self.busy = false;
              return;
            }
            self.statusText = running ? "Running on the probe… (" + done + " of " + phases.length + " done)" : "Queued. Waiting for the probe to pick it up…";
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
