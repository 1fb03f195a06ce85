/* Live updates of a meeting (issue 16): follows the meeting's server-sent
   events (GET /api/v1/meetings/<id>/events, with the login session's cookie)
   and updates the page in place. Without JavaScript the page stays as it is
   and shows the news on the next load.

   Marks in the page:
   - data-live-meeting="<id>" (and data-live-screen="<token>" on the big
     screen) on one element: which meeting to follow;
   - data-live="turnout" data-poll-id="<id>": its [data-live-field="cast"],
     [data-live-field="eligible"], [data-live-field="by_proxy"] get the numbers;
     a <meter> among them its value and max; without fields, the text "N / M";
   - data-live="attendance": [data-live-field="present"], "invited",
     "voting_present", "voting_invited", the quorum panel's count and a <meter>
     (voting present of voting invited);
   - data-live-refresh="poll_opened poll_closed agenda speaker" with an id: the
     element is fetched again from the page's address and swapped in place
     when one of these events comes; data-live-reload="…" on the followed
     element reloads the whole page for these events instead.
   A refresh waits while someone is typing in a form of the page. */
(function () {
  "use strict";
  var root = document.querySelector("[data-live-meeting]");
  if (!root || !window.EventSource || !window.fetch) { return; }
  var meetingId = root.getAttribute("data-live-meeting");
  var screen = root.getAttribute("data-live-screen");
  var url = "/api/v1/meetings/" + encodeURIComponent(meetingId) + "/events" +
    (screen ? "?screen=" + encodeURIComponent(screen) : "");
  var reloadOn = (root.getAttribute("data-live-reload") || "").split(/\s+/).filter(Boolean);
  var pending = {};
  var refreshTimer = null;
  var failures = 0;
  var source = null;

  function setText(scope, field, value) {
    Array.prototype.forEach.call(
      scope.querySelectorAll('[data-live-field="' + field + '"]'),
      function (element) { element.textContent = String(value); }
    );
  }

  function setMeter(scope, value, max) {
    Array.prototype.forEach.call(scope.querySelectorAll("meter"), function (meter) {
      meter.max = max || 1;
      meter.value = value;
      meter.textContent = value + " / " + max;
    });
  }

  function turnout(data) {
    var regions = document.querySelectorAll(
      '[data-live="turnout"][data-poll-id="' + data.poll_id + '"]'
    );
    Array.prototype.forEach.call(regions, function (region) {
      if (!region.querySelector("[data-live-field], meter")) {
        region.textContent = data.cast + " / " + data.eligible;
        return;
      }
      setText(region, "cast", data.cast);
      setText(region, "eligible", data.eligible);
      setText(region, "by_proxy", data.by_proxy);
      setMeter(region, data.cast, data.eligible);
    });
  }

  function attendance(data) {
    Array.prototype.forEach.call(
      document.querySelectorAll('[data-live="attendance"]'),
      function (region) {
        ["present", "invited", "voting_present", "voting_invited"].forEach(function (field) {
          if (field in data) { setText(region, field, data[field]); }
        });
        // the quorum panel (meeting/_macros.html): "<strong>present</strong> / invited"
        Array.prototype.forEach.call(region.querySelectorAll(".quorum-count"), function (line) {
          var strong = document.createElement("strong");
          strong.textContent = String(data.voting_present);
          line.replaceChildren(strong, document.createTextNode(" / " + data.voting_invited));
        });
        setMeter(region, data.voting_present, data.voting_invited);
      }
    );
  }

  function typing() {
    var active = document.activeElement;
    return !!(active && active.form && /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName) &&
      active.type !== "submit" && active.type !== "button");
  }

  function refresh() {
    refreshTimer = null;
    if (typing()) {
      document.addEventListener("focusout", schedule, { once: true });
      return;
    }
    var events = Object.keys(pending);
    pending = {};
    if (events.some(function (name) { return reloadOn.indexOf(name) >= 0; })) {
      window.location.reload();
      return;
    }
    var regions = Array.prototype.filter.call(
      document.querySelectorAll("[data-live-refresh]"),
      function (region) {
        var wanted = region.getAttribute("data-live-refresh").split(/\s+/);
        return events.some(function (name) { return wanted.indexOf(name) >= 0; });
      }
    );
    if (!regions.length) { return; }
    if (regions.some(function (region) { return !region.id; })) {
      window.location.reload();
      return;
    }
    fetch(window.location.href, { credentials: "same-origin", headers: { "X-Live": "1" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html");
        regions.forEach(function (region) {
          var replacement = fresh.getElementById(region.id);
          if (replacement) {
            region.replaceWith(document.importNode(replacement, true));
          } else {
            region.hidden = true;  // gone from the page (the poll closed)
          }
        });
      })
      .catch(function () { /* the next event or load shows it */ });
  }

  function schedule(name) {
    if (typeof name === "string") { pending[name] = true; }
    // spread over a second and a half: a hall of phones does not fetch its
    // pages again all in the same instant
    if (!refreshTimer) { refreshTimer = window.setTimeout(refresh, 250 + Math.random() * 1500); }
  }

  function connect() {
    source = new EventSource(url, { withCredentials: true });
    source.addEventListener("open", function () { failures = 0; });
    source.addEventListener("state", function (event) {
      var state = JSON.parse(event.data);
      (state.polls || []).forEach(turnout);
      if (state.attendance) { attendance(state.attendance); }
    });
    source.addEventListener("turnout", function (event) { turnout(JSON.parse(event.data)); });
    source.addEventListener("checkin", function (event) { attendance(JSON.parse(event.data)); });
    ["poll_opened", "poll_closed", "agenda", "speaker"].forEach(function (name) {
      source.addEventListener(name, function () { schedule(name); });
    });
    source.addEventListener("revoked", function () { source.close(); });
    source.addEventListener("error", function () {
      // EventSource reconnects by itself after a dropped connection; after a
      // refusal (401/403, or 503 when a threaded server has no stream to
      // spare) it gives up: try again later, less and less often.
      if (source.readyState === EventSource.CLOSED) {
        failures += 1;
        window.setTimeout(connect, Math.min(5000 * failures, 30000));
      }
    });
  }

  connect();
})();
