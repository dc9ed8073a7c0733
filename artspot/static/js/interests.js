// Hearts (save a work) and follow buttons, without a page reload.
// The page is the same for every visitor (CloudFront may share it), so the buttons start neutral;
// this asks the site which of the page's works and artists this visitor has (a private, no-store
// JSON answer) and shows it. A click posts with a CSRF token fetched from /csrf/ and an
// Accept: application/json header; a guest is sent to sign in (the server keeps the wish and
// brings them back). Any other trouble falls back to the plain form post (forms.js / no-JS path).
(function () {
  "use strict";
  if (!window.fetch || !window.FormData || !document.querySelector) return;
  var forms = document.querySelectorAll("form[data-interest]");
  if (!forms.length) return;
  var STATE_URL = "/account/interests/";
  var TIMEOUT_MS = 8000;

  function withTimeout(promiseFactory) {
    var controller = window.AbortController ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, TIMEOUT_MS) : null;
    return promiseFactory(controller && controller.signal).finally(function () {
      if (timer) clearTimeout(timer);
    });
  }

  function show(form, on) {
    var button = form.querySelector("button");
    var field = form.querySelector("input[name=on]");
    if (!button || !field) return;
    button.setAttribute("aria-pressed", on ? "true" : "false");
    field.value = on ? "0" : "1";  // the next click undoes
    var label = button.getAttribute(on ? "data-label-on" : "data-label-off");
    var text = button.querySelector(".heart__label, .follow__label");
    if (text && label) text.textContent = label;
    button.title = form.getAttribute("data-interest") === "work" ? (on ? "Saved" : "Save") : "";
  }

  function ids(kind) {
    var seen = {};
    var list = [];
    forms.forEach(function (form) {
      var id = form.getAttribute("data-id");
      if (form.getAttribute("data-interest") === kind && id && !seen[id]) {
        seen[id] = true;
        list.push(id);
      }
    });
    return list.slice(0, 200);
  }

  function loadState() {
    var query = "?works=" + ids("work").join(",") + "&artists=" + ids("artist").join(",");
    withTimeout(function (signal) {
      return fetch(STATE_URL + query, {
        credentials: "same-origin",
        cache: "no-store",
        headers: { Accept: "application/json" },
        signal: signal
      });
    })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data || !data.signed_in) return;
        var saved = {}, following = {};
        (data.saved || []).forEach(function (id) { saved[String(id)] = true; });
        (data.following || []).forEach(function (id) { following[String(id)] = true; });
        forms.forEach(function (form) {
          var mine = form.getAttribute("data-interest") === "work" ? saved : following;
          show(form, !!mine[form.getAttribute("data-id")]);
        });
      })
      .catch(function () { /* the buttons stay neutral and still work */ });
  }

  function token(url) {
    return withTimeout(function (signal) {
      return fetch(url, {
        credentials: "same-origin", cache: "no-store",
        headers: { Accept: "application/json" }, signal: signal
      });
    })
      .then(function (response) { if (!response.ok) throw new Error("no token"); return response.json(); })
      .then(function (data) { if (!data || !data.token) throw new Error("no token"); return data.token; });
  }

  function plainSubmit(form, csrf) {
    if (csrf) {
      var input = form.querySelector("input[name=csrfmiddlewaretoken]");
      if (!input) {
        input = document.createElement("input");
        input.type = "hidden";
        input.name = "csrfmiddlewaretoken";
        form.appendChild(input);
      }
      input.value = csrf;
    }
    HTMLFormElement.prototype.submit.call(form);
  }

  // Capture phase: runs before forms.js, which would otherwise post the form with a reload.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-interest")) return;
    event.preventDefault();
    event.stopPropagation();
    if (form.getAttribute("aria-busy") === "true") return;  // a double click: one request
    form.setAttribute("aria-busy", "true");
    var csrf = null;
    token(form.getAttribute("data-csrf") || "/csrf/")
      .then(function (value) {
        csrf = value;
        var body = new FormData(form);
        body.set("csrfmiddlewaretoken", csrf);
        return withTimeout(function (signal) {
          return fetch(form.action, {
            method: "POST", body: body, credentials: "same-origin",
            headers: { Accept: "application/json", "X-CSRFToken": csrf }, signal: signal
          });
        });
      })
      .then(function (response) {
        return response.json().then(function (data) { return { status: response.status, data: data }; });
      })
      .then(function (answer) {
        form.removeAttribute("aria-busy");
        if (answer.status === 401 && answer.data && answer.data.login_url) {
          window.location.assign(answer.data.login_url);
        } else if (answer.status === 200 && answer.data) {
          show(form, !!(answer.data.saved || answer.data.following));
        } else {
          plainSubmit(form, csrf);  // the server's own page says what went wrong
        }
      })
      .catch(function () {
        form.removeAttribute("aria-busy");
        plainSubmit(form, csrf);
      });
  }, true);

  loadState();
})();
