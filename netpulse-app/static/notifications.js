// Settings → Notifications (Alpine CSP build: registered in `alpine:init`, no eval). Everything
// is read and changed through the REST API with the session cookie; changes carry the session's
// CSRF token in `X-CSRF-Token`. API errors are `{"code", "message", "field"}`: a known field's
// message is shown next to it, any other in the form's general error line.
"use strict";

(function () {
  var API = "/api/v1/notifications";
  var EVENTS = ["alert", "recovery", "probe_offline", "probe_back", "digest"];
  // Event and delivery kinds in words.
  var KIND_LABELS = { alert: "Alert", recovery: "Recovery", probe_offline: "Probe offline", probe_back: "Probe back online", digest: "Digest", test: "Test message" };
  function kindLabel(code) { return KIND_LABELS[code] || String(code || "").replace(/_/g, " "); }

  function csrfToken() {
    var m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.getAttribute("content") : "";
  }

  // A request to the API; resolves to the JSON answer (null for 204), rejects with the problem.
  function api(method, path, body) {
    var headers = { Accept: "application/json" };
    if (method !== "GET") headers["X-CSRF-Token"] = csrfToken();
    if (body !== undefined) headers["Content-Type"] = "application/json";
    return fetch(API + path, {
      method: method,
      credentials: "same-origin",
      headers: headers,
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (r) {
      if (r.status === 204) return null;
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (!r.ok) {
          var problem = {
            status: r.status,
            code: data.code || "error",
            message: data.message || ("HTTP " + r.status),
            field: data.field || null
          };
          throw problem;
        }
        return data;
      });
    });
  }

  // Field → message, under `_form` when the field has no place on the form.
  function errorsOf(problem, known) {
    var out = {};
    var message = problem && problem.message ? problem.message : String(problem);
    var field = problem && problem.field;
    if (field && known(field)) out[field] = message;
    else out._form = message;
    return out;
  }

  document.addEventListener("alpine:init", function () {
    Alpine.data("notifications", function () {
      return {
        loaded: false,
        loadError: "",
        busy: false,
        settings: {
          enabled: true, alertAfter: 3, recoverAfter: 1, probeOffline: true, digestDaily: false,
          digestWeekly: false, digestTime: "08:00", digestWeekday: "mon", digestTimezone: "UTC"
        },
        settingsStatus: "",
        errors: {},
        types: [],
        channels: [],
        tests: {},
        editing: false,
        draft: { id: "", name: "", type: "webhook", enabled: true, settings: {}, clear: {}, events: [], quiet: false, quietStart: "22:00", quietEnd: "07:00", quietTimezone: "UTC" },
        editingChannel: null,
        eventKinds: EVENTS,
        log: [],
        logCursor: null,
        timeZone: "UTC",

        init: function () {
          this.timeZone = this.$el.dataset.timezone || "UTC";
          var self = this;
          Promise.all([api("GET", "/settings"), api("GET", "/channel-types"), api("GET", "/channels")])
            .then(function (r) {
              self.settings = r[0];
              // Digests not set up yet: their time zone starts as the site's.
              if (!r[0].digestDaily && !r[0].digestWeekly && r[0].digestTimezone === "UTC") self.settings.digestTimezone = self.timeZone;
              self.types = r[1].items;
              self.channels = r[2].items;
              self.loaded = true;
            })
            .catch(function (p) { self.loadError = "Could not load the notification settings: " + (p.message || p); });
          this.loadLog();
        },

        // Rules.
        saveSettings: function () {
          var self = this;
          var s = this.settings;
          this.errors = {};
          this.settingsStatus = "Saving…";
          this.busy = true;
          api("PATCH", "/settings", {
            enabled: !!s.enabled,
            alertAfter: s.alertAfter,
            recoverAfter: s.recoverAfter,
            probeOffline: !!s.probeOffline,
            digestDaily: !!s.digestDaily,
            digestWeekly: !!s.digestWeekly,
            digestTime: s.digestTime,
            digestWeekday: s.digestWeekday,
            digestTimezone: s.digestTimezone
          }).then(function (saved) {
            self.settings = saved;
            self.settingsStatus = "Saved.";
          }).catch(function (p) {
            self.errors = errorsOf(p, function (f) { return Object.prototype.hasOwnProperty.call(s, f); });
            self.settingsStatus = "Not saved.";
          }).then(function () { self.busy = false; });
        },

        // Channels.
        get currentFields() {
          var type = this.draft.type;
          var t = this.types.filter(function (x) { return x.type === type; })[0];
          return t ? t.fields : [];
        },
        quietLabel: function (ch) {
          var q = ch.quietHours;
          return q ? q.start + "–" + q.end + " " + q.timezone : "none";
        },
        isSecretSet: function (f) {
          return !!this.editingChannel && this.editingChannel.secretsSet.indexOf(f.name) >= 0;
        },
        secretState: function (f) { return this.isSecretSet(f) ? "set" : "not set"; },
        secretPlaceholder: function (f) {
          return this.isSecretSet(f) ? "set: type a new value to replace it" : "not set";
        },
        fieldError: function (f) { return this.errors["settings." + f.name] || ""; },
        quietZoneError: function () {
          return this.errors["quietHours.timezone"] || this.errors.quietHours || "";
        },
        testText: function (ch) {
          var r = this.tests[ch.id];
          if (!r) return "";
          if (r.pending) return "Sending…";
          return r.sent ? "Test sent." : "Test failed: " + (r.error || "unknown error");
        },
        testClass: function (ch) {
          var r = this.tests[ch.id];
          if (!r || r.pending) return "muted";
          return r.sent ? "test-ok" : "test-failed";
        },
        freshDraft: function () {
          return {
            id: "", name: "", type: this.types.length ? this.types[0].type : "webhook", enabled: true,
            settings: {}, clear: {}, events: EVENTS.slice(), quiet: false, quietStart: "22:00",
            quietEnd: "07:00", quietTimezone: this.timeZone
          };
        },
        addChannel: function () {
          this.errors = {};
          this.editingChannel = null;
          this.draft = this.freshDraft();
          this.editing = true;
          this.$nextTick(function () { document.getElementById("c-name").focus(); });
        },
        editChannel: function (ch) {
          var d = this.freshDraft();
          d.id = ch.id;
          d.name = ch.name;
          d.type = ch.type;
          d.enabled = ch.enabled;
          d.events = ch.events.slice();
          Object.keys(ch.settings).forEach(function (k) {
            var v = ch.settings[k];
            d.settings[k] = Array.isArray(v) ? v.join("\n") : String(v);
          });
          if (ch.quietHours) {
            d.quiet = true;
            d.quietStart = ch.quietHours.start;
            d.quietEnd = ch.quietHours.end;
            d.quietTimezone = ch.quietHours.timezone;
          }
          this.errors = {};
          this.editingChannel = ch;
          this.draft = d;
          this.editing = true;
          this.$nextTick(function () { document.getElementById("c-name").focus(); });
        },
        typeChanged: function () {
          this.draft.settings = {};
          this.draft.clear = {};
        },
        cancelEdit: function () {
          this.editing = false;
          this.errors = {};
        },
        channelBody: function () {
          var d = this.draft;
          var settings = {};
          var existing = !!d.id;
          this.currentFields.forEach(function (f) {
            var raw = d.settings[f.name];
            var text = raw === undefined || raw === null ? "" : String(raw);
            if (f.secret) {
              // Write-only: empty keeps the stored value, unless removal is asked for.
              if (d.clear[f.name]) settings[f.name] = null;
              else if (text.trim() !== "") settings[f.name] = f.list ? lines(text) : text;
            } else if (f.list) {
              var items = lines(text);
              if (items.length) settings[f.name] = items;
              else if (existing) settings[f.name] = null;
            } else if (text.trim() !== "") {
              settings[f.name] = text;
            } else if (existing) {
              settings[f.name] = null;
            }
          });
          var body = {
            name: d.name,
            enabled: !!d.enabled,
            settings: settings,
            events: d.events.slice(),
            quietHours: d.quiet ? { start: d.quietStart, end: d.quietEnd, timezone: d.quietTimezone } : null
          };
          if (!existing) body.type = d.type;
          return body;
        },
        saveChannel: function () {
          var self = this;
          var d = this.draft;
          var fields = this.currentFields;
          this.errors = {};
          this.busy = true;
          var request = d.id
            ? api("PATCH", "/channels/" + encodeURIComponent(d.id), this.channelBody())
            : api("POST", "/channels", this.channelBody());
          request.then(function (saved) {
            var others = self.channels.filter(function (c) { return c.id !== saved.id; });
            others.push(saved);
            others.sort(function (a, b) { return a.name.localeCompare(b.name); });
            self.channels = others;
            self.editing = false;
          }).catch(function (p) {
            self.errors = errorsOf(p, function (f) {
              if (f === "name" || f === "type" || f.indexOf("events") === 0 || f.indexOf("quietHours") === 0) return true;
              var key = f.replace(/^settings\./, "").replace(/\[\d+\]$/, "");
              return f.indexOf("settings.") === 0 && fields.some(function (x) { return x.name === key; });
            });
            // Messages about list items go to the list's field.
            Object.keys(self.errors).forEach(function (k) {
              var m = /^(settings\.[^[]+)\[\d+\]$/.exec(k);
              if (m) self.errors[m[1]] = self.errors[k];
              if (/^events\[/.test(k)) self.errors.events = self.errors[k];
            });
          }).then(function () { self.busy = false; });
        },
        deleteChannel: function (ch) {
          if (!window.confirm("Delete the channel " + ch.name + "? Its pending deliveries fail.")) return;
          var self = this;
          api("DELETE", "/channels/" + encodeURIComponent(ch.id)).then(function () {
            self.channels = self.channels.filter(function (c) { return c.id !== ch.id; });
            if (self.draft.id === ch.id) self.editing = false;
          }).catch(function (p) { self.loadError = "Could not delete " + ch.name + ": " + p.message; });
        },
        testChannel: function (ch) {
          var self = this;
          this.tests[ch.id] = { pending: true };
          api("POST", "/channels/" + encodeURIComponent(ch.id) + "/test").then(function (r) {
            self.tests[ch.id] = { sent: r.sent, error: r.error };
            self.loadLog();
          }).catch(function (p) {
            self.tests[ch.id] = { sent: false, error: p.message };
          });
        },

        // Delivery log.
        loadLog: function () {
          var self = this;
          api("GET", "/deliveries?limit=25").then(function (page) {
            self.log = page.items;
            self.logCursor = page.nextCursor;
          }).catch(function (p) { self.loadError = "Could not load the delivery log: " + (p.message || p); });
        },
        olderLog: function () {
          var self = this;
          if (!this.logCursor) return;
          api("GET", "/deliveries?limit=25&before=" + encodeURIComponent(this.logCursor)).then(function (page) {
            self.log = self.log.concat(page.items);
            self.logCursor = page.nextCursor;
          }).catch(function (p) { self.loadError = "Could not load the delivery log: " + (p.message || p); });
        },
        kindLabel: function (code) { return kindLabel(code); },
        eventsText: function (events) { return (events || []).map(kindLabel).join(", "); },
        when: function (rfc3339) {
          try {
            // ISO date and 24-hour time in the site's zone, as everywhere else.
            var parts = {};
            new Intl.DateTimeFormat("en-GB", { timeZone: this.timeZone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" })
              .formatToParts(new Date(rfc3339)).forEach(function (p) { parts[p.type] = p.value; });
            return parts.year + "-" + parts.month + "-" + parts.day + " " + (parts.hour === "24" ? "00" : parts.hour) + ":" + parts.minute + ":" + parts.second;
          } catch (e) {
            return rfc3339;
          }
        }
      };
    });
  });

  function lines(text) {
    return String(text).split("\n").map(function (l) { return l.trim(); }).filter(function (l) { return l; });
  }
})();
