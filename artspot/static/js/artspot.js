// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";
  var toggle = document.querySelector(".nav-toggle");
  var nav = document.getElementById("primary-nav");
  if (!toggle || !nav) return;
  toggle.addEventListener("click", function () {
    var open = toggle.getAttribute("aria-expanded") === "true";
    toggle.setAttribute("aria-expanded", String(!open));
    nav.classList.toggle("is-open", !open);
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && nav.classList.contains("is-open")) {
      toggle.setAttribute("aria-expanded", "false");
      nav.classList.remove("is-open");
      toggle.focus();
    }
  });
})();

// Artwork zoom: open the large image in a modal dialog; without JS the link opens the image.
(function () {
  "use strict";
  var dialog = document.querySelector(".zoom-dialog");
  if (!dialog || typeof dialog.showModal !== "function") return;
  var img = dialog.querySelector("img");
  var opener = null;
  document.querySelectorAll("[data-zoom]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      opener = link;
      img.src = link.href;
      var thumb = link.querySelector("img");
      img.alt = thumb ? thumb.alt : "";
      dialog.showModal();
    });
  });
  img.addEventListener("click", function () { dialog.close(); });
  dialog.addEventListener("close", function () { if (opener) opener.focus(); });
})();

/* --- Search --- */
// Suggestions under the header search box, from /search/autocomplete/ (ARIA 1.2 combobox with a
// listbox popup). Without this script the box is a plain search form that submits to /search/.
(function () {
  "use strict";
  var form = document.querySelector("form[data-autocomplete-url]");
  var input = form && form.querySelector('input[type="search"]');
  if (!input || !window.fetch || !window.URLSearchParams) return;

  var endpoint = form.getAttribute("data-autocomplete-url");
  var MIN_LENGTH = 2;
  var DELAY_MS = 200;
  var KINDS = { artwork: "Artwork", artist: "Artist", story: "Story", collection: "Collection" };
  var listId = input.id + "-suggestions";
  var timer = null;
  var pending = null;
  var options = [];
  var active = -1;

  var list = document.createElement("ul");
  list.id = listId;
  list.className = "search-suggest";
  list.setAttribute("role", "listbox");
  list.setAttribute("aria-label", "Suggestions");
  list.hidden = true;
  var status = document.createElement("p");
  status.className = "visually-hidden";
  status.setAttribute("role", "status");
  form.appendChild(list);
  form.appendChild(status);

  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-controls", listId);
  input.setAttribute("aria-expanded", "false");

  function sameSite(url) {
    try {
      return new URL(url, window.location.href).origin === window.location.origin;
    } catch (error) {
      return false;
    }
  }

  function setActive(index) {
    if (options[active]) options[active].setAttribute("aria-selected", "false");
    active = index;
    if (options[active]) {
      options[active].setAttribute("aria-selected", "true");
      input.setAttribute("aria-activedescendant", options[active].id);
      options[active].scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  function close() {
    setActive(-1);
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
  }

  function open() {
    if (!options.length) return;
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
  }

  function render(results) {
    list.textContent = "";
    options = [];
    active = -1;
    results.filter(function (result) { return sameSite(result.url); }).forEach(function (result, i) {
      var option = document.createElement("li");
      option.id = listId + "-" + i;
      option.className = "search-suggest__option";
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", "false");
      option.setAttribute("data-url", result.url);
      var title = document.createElement("span");
      title.className = "search-suggest__title";
      title.textContent = result.title;
      var meta = document.createElement("span");
      meta.className = "search-suggest__meta";
      meta.textContent = (KINDS[result.type] || "") + (result.subtitle ? " · " + result.subtitle : "");
      option.appendChild(title);
      option.appendChild(meta);
      list.appendChild(option);
      options.push(option);
    });
    status.textContent = options.length
      ? options.length + (options.length === 1 ? " suggestion" : " suggestions") + ", use the up and down arrows to choose."
      : "";
    if (options.length) open(); else close();
  }

  function fetchSuggestions() {
    var query = input.value.trim();
    if (pending) pending.abort();
    if (query.length < MIN_LENGTH) {
      render([]);
      return;
    }
    pending = window.AbortController ? new AbortController() : null;
    var url = endpoint + "?" + new URLSearchParams({ q: query }).toString();
    fetch(url, { headers: { Accept: "application/json" }, signal: pending && pending.signal })
      .then(function (response) { return response.ok ? response.json() : { results: [] }; })
      .then(function (data) {
        // An answer to an older query than what is in the box now is ignored.
        if (input.value.trim() === query) render(data.results || []);
      })
      .catch(function () { /* aborted or offline: the form still submits */ });
  }

  input.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(fetchSuggestions, DELAY_MS);
  });

  input.addEventListener("keydown", function (event) {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!options.length) return;
      event.preventDefault();
      if (list.hidden) open();
      var step = event.key === "ArrowDown" ? 1 : -1;
      var next = active + step;
      setActive(next < -1 ? options.length - 1 : next >= options.length ? -1 : next);
    } else if (event.key === "Enter" && !list.hidden && options[active]) {
      event.preventDefault();
      window.location.assign(options[active].getAttribute("data-url"));
    } else if (event.key === "Escape" && !list.hidden) {
      event.preventDefault();
      close();
    }
  });

  // mousedown, not click: choosing happens before the input loses focus and closes the list.
  list.addEventListener("mousedown", function (event) {
    var option = event.target.closest('[role="option"]');
    if (!option) return;
    event.preventDefault();
    window.location.assign(option.getAttribute("data-url"));
  });

  input.addEventListener("blur", close);
  input.addEventListener("focus", open);
})();

// Drops: release times in the visitor's own time zone, and a live countdown to the start.
(function () {
  "use strict";
  var format = new Intl.DateTimeFormat(undefined, { dateStyle: "long", timeStyle: "long" });
  document.querySelectorAll("time[data-local-time]").forEach(function (el) {
    var when = new Date(el.getAttribute("datetime"));
    if (!isNaN(when)) el.textContent = format.format(when);
  });
  var counters = document.querySelectorAll("[data-countdown]");
  if (!counters.length) return;
  function tick() {
    var now = Date.now();
    counters.forEach(function (el) {
      var left = Math.max(0, Math.floor((new Date(el.getAttribute("data-countdown")) - now) / 1000));
      if (left === 0) { el.textContent = "— on sale now, refresh the page"; return; }
      var d = Math.floor(left / 86400), h = Math.floor(left % 86400 / 3600), m = Math.floor(left % 3600 / 60), s = left % 60;
      el.textContent = "— in " + (d ? d + "d " : "") + h + "h " + m + "m " + s + "s";
    });
  }
  tick();
  setInterval(tick, 1000);
})();

// Browse filters apply as soon as one changes; the URL keeps only the filters that are set.
// Without JS the "Show works" button submits and the server drops the empty parameters.
(function () {
  "use strict";
  var form = document.querySelector("form[data-autofilter]");
  if (!form || typeof URLSearchParams !== "function") return;
  var KEY = "artspot-filter-focus";
  // The "Filters" disclosure: open on wide screens (CSS hides its summary there), closed on
  // phones so the works come first, and open again after a change made in it.
  var panel = form.closest("details");
  if (panel && window.matchMedia && window.matchMedia("(min-width: 52.01rem)").matches) panel.open = true;
  // Keyboard users stay on the control they changed once the filtered page has loaded.
  try {
    var last = window.sessionStorage.getItem(KEY);
    window.sessionStorage.removeItem(KEY);
    var control = last && form.elements.namedItem(last);
    if (control && panel) panel.open = true;
    if (control && typeof control.focus === "function") control.focus({ preventScroll: true });
  } catch (error) { /* storage refused: focus simply starts at the top */ }
  function go(event) {
    try {
      if (event && event.target && event.target.name) window.sessionStorage.setItem(KEY, event.target.name);
    } catch (error) { /* storage refused */ }
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, key) {
      if (typeof value === "string" && value.trim() !== "") params.append(key, value);
    });
    var query = params.toString();
    window.location.assign(form.action.split("?")[0] + (query ? "?" + query : ""));
  }
  form.addEventListener("change", go);
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    go(null);
  });
})();

// "Enquire about this work": scroll to the form and put focus in its first field.
// Without JS the link's target is the form's heading (tabindex="-1"), so Tab reaches the field next.
(function () {
  "use strict";
  document.querySelectorAll("a[data-focus-form]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      var section = document.getElementById(link.getAttribute("data-focus-form"));
      var field = section && section.querySelector(
        "input:not([type=hidden]):not([disabled]), select:not([disabled]), textarea:not([disabled])"
      );
      if (!field) return;
      event.preventDefault();
      field.focus();
      field.scrollIntoView({ block: "center" });
      if (window.history && window.history.replaceState) window.history.replaceState(null, "", link.hash);
    });
  });
})();
