// Severities, contact lists and incidents (Alpine CSP build: registered in `alpine:init`, no
// eval), through the REST API with the session cookie and `X-CSRF-Token` for changes. API errors
// are `{"code", "message", "field"}`: a known field's message is shown next to it, any other in
// the form's general error line.
"use strict";

(function () {
  var SEVERITIES = ["critical", "high", "medium", "low"];
  var KIND_LABELS = { connection: "Connection", outage: "Outage", check: "Service check", probe_offline: "Probe offline" };
  var SOURCE_LABELS = { connection: "Connection unhealthy", probe_offline: "Probe offline", check: "Service check failing", outage: "Internet outage" };

  function csrfToken() {
    var m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.getAttribute("content") : "";
  }

  function api(method, path, body) {
    var headers = { Accept: "application/json" };
    if (method !== "GET") headers["X-CSRF-Token"] = csrfToken();
    if (body !== undefined) headers["Content-Type"] = "application/json";
    return fetch("/api/v1" + path, {
      method: method,
      credentials: "same-origin",
      headers: headers,
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (r) {
      if (r.status === 204) return null;
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (!r.ok) throw { status: r.status, message: data.message || ("HTTP " + r.status), field: data.field || null };
        return data;
      });
    });
  }

  function errorsOf(p, known) {
    var out = {};
    var message = p && p.message ? p.message : String(p);
    if (p && p.field && known.indexOf(p.field.replace(/\[\d+\]$/, "")) >= 0) out[p.field.replace(/\[\d+\]$/, "")] = message;
    else out._form = message;
    return out;
  }

  document.addEventListener("alpine:init", function () {
    // Settings → Notifications: the severity per alert source and the contact lists.
    Alpine.data("alerting", function () {
      return {
        severityNames: SEVERITIES,
        sources: [],
        severityStatus: "",
        channels: [],
        lists: [],
        editing: false,
        draft: { id: "", name: "", reminderMinutes: "", minSeverity: "", channelIds: [] },
        errors: {},
        listError: "",

        init: function () {
          var self = this;
          api("GET", "/notifications/severities").then(function (r) {
            self.sources = r.items.map(function (s) { s.choice = s.configured || ""; return s; });
          }).catch(function (p) { self.severityStatus = "Could not load the severities: " + p.message; });
          this.reload();
        },
        reload: function () {
          var self = this;
          Promise.all([api("GET", "/notifications/channels"), api("GET", "/notifications/contact-lists")])
            .then(function (r) {
              self.channels = r[0].items;
              self.lists = r[1].items;
              // The probe and check alerting section offers the same lists.
              window.dispatchEvent(new CustomEvent("np-contact-lists", { detail: r[1].items }));
            })
            .catch(function (p) { self.listError = "Could not load the contact lists: " + p.message; });
        },
        sourceLabel: function (s) { return SOURCE_LABELS[s.source] || s.source; },
        severityLabel: function (n) { return String(n).toUpperCase(); },
        defaultLabel: function (s) { return "default (" + s.default.toUpperCase() + ")"; },
        saveSeverities: function () {
          var self = this;
          var body = { connection: null, probeOffline: null, check: null };
          this.sources.forEach(function (s) {
            var key = s.source === "probe_offline" ? "probeOffline" : s.source;
            body[key] = s.choice || null;
          });
          this.severityStatus = "Saving…";
          api("PUT", "/notifications/severities", body).then(function (r) {
            self.sources = r.items.map(function (s) { s.choice = s.configured || ""; return s; });
            self.severityStatus = "Saved.";
          }).catch(function (p) { self.severityStatus = "Not saved: " + p.message; });
        },
        channelNames: function (l) {
          var names = this.channels.filter(function (c) { return l.channelIds.indexOf(c.id) >= 0; })
            .map(function (c) { return c.name; });
          return names.length ? names.join(", ") : "no channel";
        },
        reminderText: function (l) { return l.reminderMinutes ? "every " + l.reminderMinutes + " min" : "none"; },
        minText: function (l) { return l.minSeverity ? l.minSeverity.toUpperCase() + " and above" : "every severity"; },
        addList: function () {
          this.errors = {};
          this.draft = { id: "", name: "", reminderMinutes: "", minSeverity: "", channelIds: [] };
          this.editing = true;
        },
        editList: function (l) {
          this.errors = {};
          this.draft = { id: l.id, name: l.name, reminderMinutes: l.reminderMinutes || "", minSeverity: l.minSeverity || "", channelIds: l.channelIds.slice() };
          this.editing = true;
        },
        cancelList: function () { this.editing = false; this.errors = {}; },
        saveList: function () {
          var self = this;
          var d = this.draft;
          var minutes = String(d.reminderMinutes).trim();
          var body = {
            name: d.name,
            reminderMinutes: minutes === "" ? null : Number(minutes),
            minSeverity: d.minSeverity || null,
            channelIds: d.channelIds
          };
          this.errors = {};
          var req = d.id ? api("PUT", "/notifications/contact-lists/" + d.id, body) : api("POST", "/notifications/contact-lists", body);
          req.then(function () { self.editing = false; self.reload(); })
            .catch(function (p) { self.errors = errorsOf(p, ["name", "reminderMinutes", "minSeverity", "channelIds"]); });
        },
        deleteList: function (l) {
          var self = this;
          if (!window.confirm("Delete the contact list " + l.name + "?")) return;
          this.listError = "";
          api("DELETE", "/notifications/contact-lists/" + l.id).then(function () { self.reload(); })
            .catch(function (p) { self.listError = p.message; });
        }
      };
    });

    // A connection's own severity and contact list (on its edit page).
    Alpine.data("connectionAlerting", function () {
      return {
        severityNames: SEVERITIES,
        severity: "",
        contactListId: "",
        lists: [],
        errors: {},
        status: "",
        init: function () {
          var self = this;
          this.path = "/connections/" + this.$el.dataset.connection + "/alerting";
          Promise.all([api("GET", this.path), api("GET", "/notifications/contact-lists")]).then(function (r) {
            self.lists = r[1].items;
            self.severity = r[0].severity || "";
            self.contactListId = r[0].contactListId || "";
          }).catch(function (p) { self.status = "Could not load the alerting settings: " + p.message; });
        },
        severityLabel: function (n) { return String(n).toUpperCase(); },
        save: function () {
          var self = this;
          this.errors = {};
          this.status = "Saving…";
          api("PUT", this.path, { severity: this.severity || null, contactListId: this.contactListId || null })
            .then(function () { self.status = "Saved."; })
            .catch(function (p) { self.errors = errorsOf(p, ["severity", "contactListId"]); self.status = "Not saved."; });
        }
      };
    });

    // Settings → Notifications: each probe's and service check's own severity and contact
    // list (`/probes/{id}/alerting`, `/checks/{id}/alerting`), one row each, saved per row.
    Alpine.data("subjectAlerting", function () {
      return {
        severityNames: SEVERITIES,
        rows: [],
        lists: [],
        loaded: false,
        error: "",
        init: function () {
          var self = this;
          Promise.all([api("GET", "/probes"), api("GET", "/checks"), api("GET", "/notifications/contact-lists")]).then(function (r) {
            self.lists = r[2].items;
            var rows = [];
            r[0].items.forEach(function (p) {
              rows.push(self.row("probe", p.id, p.name, "/probes/" + p.id + "/alerting"));
              r[1].items.filter(function (c) { return c.probeId === p.id; }).forEach(function (c) {
                var label = c.kind.toUpperCase() + " " + c.target + (c.port ? ":" + c.port : "") + " (" + c.family + ")";
                rows.push(self.row("check", c.id, label, "/checks/" + c.id + "/alerting"));
              });
            });
            return Promise.all(rows.map(function (row) {
              return api("GET", row.path).then(function (a) {
                row.severity = a.severity || "";
                row.contactListId = a.contactListId || "";
              });
            })).then(function () { self.rows = rows; self.loaded = true; });
          }).catch(function (p) { self.error = "Could not load the probes' and checks' alerting: " + p.message; });
        },
        row: function (kind, id, label, path) {
          return { kind: kind, id: id, label: label, path: path, severity: "", contactListId: "", status: "", message: "", errors: {} };
        },
        setLists: function (e) { this.lists = e.detail; },
        severityLabel: function (n) { return String(n).toUpperCase(); },
        save: function (r) {
          r.errors = {};
          r.message = "";
          r.status = "Saving…";
          api("PUT", r.path, { severity: r.severity || null, contactListId: r.contactListId || null })
            .then(function () { r.status = "Saved."; })
            .catch(function (p) {
              r.errors = errorsOf(p, ["severity", "contactListId"]);
              r.message = p.message;
              r.status = "Not saved.";
            });
        }
      };
    });

    // Incidents of every kind (connection alerts, outages, service checks, probes offline) in one list, newest first, with an
    // acknowledge button (operators and admins; the API decides).
    Alpine.data("incidents", function () {
      return {
        state: "open",
        items: [],
        loaded: false,
        error: "",
        init: function () { this.load(); },
        load: function () {
          var self = this;
          this.error = "";
          api("GET", "/incidents?state=" + this.state).then(function (r) { self.items = r.entries; self.loaded = true; })
            .catch(function (p) { self.error = "Could not load the incidents: " + p.message; });
        },
        show: function (s) { this.state = s; this.load(); },
        isState: function (s) { return this.state === s; },
        kindLabel: function (i) { return KIND_LABELS[i.kind] || i.kind; },
        severityLabel: function (i) { return String(i.severity).toUpperCase(); },
        when: function (t) { return t ? new Date(t).toLocaleString() : ""; },
        ackText: function (i) { return i.acknowledgedBy ? i.acknowledgedBy + ", " + this.when(i.acknowledgedAt) : ""; },
        ack: function (i) {
          var self = this;
          this.error = "";
          var path = i.kind === "connection" ? "/incidents/" : "/outage-incidents/";
          api("POST", path + encodeURIComponent(i.id) + "/ack").then(function () { self.load(); })
            .catch(function (p) { self.error = p.status === 403 ? "Only operators and admins may acknowledge incidents." : p.message; });
        }
      };
    });
  });
})();
