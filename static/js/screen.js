// The big screen (投屏) and the secretary's remote control: the clocks tick
// here, every second, against the server's time (data-now); the screen's
// content comes again from the server — at once when the live stream
// (GET /api/v1/meetings/{id}/events?screen=TOKEN) says something changed,
// and every few seconds in any case, so that it keeps up without the
// stream too. No meta refresh: the page itself never reloads.
(function () {
  "use strict";
  let skew = 0; // server time minus this computer's time, in ms

  function readSkew(root) {
    const holder = root.querySelector("[data-now]");
    if (holder) {
      const server = Date.parse(holder.dataset.now);
      if (!Number.isNaN(server)) skew = server - Date.now();
    }
  }

  function clock(seconds) {
    const sign = seconds < 0 ? "-" : "";
    const rest = Math.abs(seconds);
    const minutes = Math.floor(rest / 60);
    const secs = rest % 60;
    return sign + minutes + ":" + String(secs).padStart(2, "0");
  }

  function tick() {
    const now = Date.now() + skew;
    document.querySelectorAll("[data-deadline]").forEach((element) => {
      const deadline = Date.parse(element.dataset.deadline);
      if (Number.isNaN(deadline)) return;
      const seconds = Math.trunc((deadline - now) / 1000);
      element.textContent = clock(seconds);
      const holder = element.closest(".screen-countdown") || element;
      holder.classList.toggle("is-over", seconds < 0);
    });
  }

  function startScreen(frame) {
    const body = document.getElementById("screen-body");
    const url = frame.dataset.bodyUrl;
    const every = Math.max(2, Number(frame.dataset.pollSeconds) || 3) * 1000;
    let busy = false;
    let timer = null;

    async function refresh() {
      if (busy) return;
      busy = true;
      try {
        const response = await fetch(url, { cache: "no-store", credentials: "same-origin" });
        if (response.status === 404) {
          // the link was revoked: nothing more to show
          body.innerHTML = "";
          document.body.classList.add("screen-stale");
          window.clearInterval(timer);
          return;
        }
        if (response.ok) {
          body.innerHTML = await response.text();
          readSkew(body);
          tick();
          document.body.classList.remove("screen-stale");
        }
      } catch (error) {
        document.body.classList.add("screen-stale");
      } finally {
        busy = false;
      }
    }

    timer = window.setInterval(refresh, every);
    if (window.EventSource && frame.dataset.eventsUrl) {
      const source = new EventSource(frame.dataset.eventsUrl);
      ["state", "agenda", "checkin", "turnout", "poll_opened", "poll_closed", "speaker", "revoked"].forEach((name) => {
        source.addEventListener(name, refresh);
      });
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    readSkew(document);
    tick();
    window.setInterval(tick, 1000);
    const frame = document.querySelector(".screen-frame[data-body-url]");
    if (frame) startScreen(frame);
  });
})();
