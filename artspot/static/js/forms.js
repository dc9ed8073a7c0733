// Forms on pages a shared cache keeps carry no CSRF token (core/csrf.py). On submit, a form
// marked data-csrf="<token url>" fetches this visitor's token from that URL (never cached; it
// also sets the CSRF cookie), adds it as csrfmiddlewaretoken and submits. If the fetch fails or
// hangs, the form goes as it is and the server asks the visitor to confirm: the no-JS path.
(function () {
  "use strict";
  if (!window.fetch || !window.HTMLFormElement) return;
  var TIMEOUT_MS = 5000;

  function setHidden(form, name, value) {
    var input = null;
    for (var i = 0; i < form.elements.length; i++) {
      if (form.elements[i].name === name && form.elements[i].type === "hidden") input = form.elements[i];
    }
    if (!input) {
      input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      form.appendChild(input);
    }
    input.value = value;
  }

  function fetchToken(url) {
    var controller = window.AbortController ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, TIMEOUT_MS) : null;
    return fetch(url, {
      credentials: "same-origin",
      cache: "no-store",
      headers: { Accept: "application/json" },
      signal: controller && controller.signal
    })
      .then(function (response) {
        if (!response.ok) throw new Error("token endpoint answered " + response.status);
        return response.json();
      })
      .then(function (data) {
        if (!data || typeof data.token !== "string" || !data.token) throw new Error("no token");
        return data.token;
      })
      .finally(function () { if (timer) clearTimeout(timer); });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-csrf")) return;
    if ((form.getAttribute("method") || "get").toLowerCase() !== "post") return;
    event.preventDefault();
    if (form.getAttribute("aria-busy") === "true") return; // a double click: one request
    form.setAttribute("aria-busy", "true");
    var submitter = event.submitter;
    fetchToken(form.getAttribute("data-csrf"))
      .then(function (token) { setHidden(form, "csrfmiddlewaretoken", token); })
      .catch(function () { /* sent without a token: the server's confirmation page follows */ })
      .then(function () {
        if (submitter && submitter.name) setHidden(form, submitter.name, submitter.value);
        form.removeAttribute("aria-busy");
        // The prototype's submit: fires no submit event (no loop) and survives a field named "submit".
        HTMLFormElement.prototype.submit.call(form);
      });
  });
})();
