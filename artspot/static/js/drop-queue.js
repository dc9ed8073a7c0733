// Drop queue (drops/queue.py): join the drop's queue the moment it opens, then show this
// visitor's place and wait, asking again when the server says to (poll_in). The page itself is
// cached and the same for everyone; without JavaScript the "Join the queue" button posts to the
// same endpoint and lands on a page that refreshes by itself.
(function () {
  "use strict";
  var panel = document.querySelector("[data-drop-queue]");
  if (!panel || !window.fetch) return;
  var joinUrl = panel.getAttribute("data-join-url");
  var statusUrl = panel.getAttribute("data-status-url");
  var message = panel.querySelector("[data-queue-message]");
  var form = panel.querySelector("[data-queue-form]");
  var startsAt = Date.parse(panel.getAttribute("data-starts-at"));
  var failures = 0;

  function show(text) {
    message.textContent = text;
    message.hidden = false;
  }

  function later(seconds, next) {
    setTimeout(next, Math.max(0, seconds * 1000));
  }

  function ask(url, method) {
    return fetch(url, {
      method: method,
      credentials: "same-origin",
      cache: "no-store",
      headers: { Accept: "application/json" }
    }).then(function (response) {
      return response.json().then(function (body) {
        return { status: response.status, body: body };
      });
    });
  }

  function handle(answer, retry) {
    var body = answer.body || {};
    failures = 0;
    if (body.message) show(body.message);
    if (answer.status === 200) {
      if (form) form.hidden = true;
      panel.setAttribute("data-queue-state", body.state);
      if (body.state === "admitted" || body.state === "open") return;  // no (more) waiting
      later(body.poll_in || 2, poll);
    } else if (answer.status === 409 && body.retry_in !== undefined) {
      later(body.retry_in + Math.random() * 0.3, retry);  // not open yet (clocks differ)
    } else if (answer.status === 404 && body.state === "no_ticket") {
      join();
    }
    // 404 (no queue), 410 (ended), 429 (refused): the message says so; nothing more to do.
  }

  function failed(retry) {
    failures += 1;
    show("The queue is not answering just now; trying again…");
    later(Math.min(30, Math.pow(2, failures)) + Math.random(), retry);
  }

  function join() {
    ask(joinUrl, "POST").then(function (a) { handle(a, join); }, function () { failed(join); });
  }

  function poll() {
    ask(statusUrl, "GET").then(function (a) { handle(a, poll); }, function () { failed(poll); });
  }

  if (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      join();
    });
  }
  var untilStart = isNaN(startsAt) ? 0 : (startsAt - Date.now()) / 1000;
  later(untilStart, join);  // at the opening (the server says if this clock is early)
})();
