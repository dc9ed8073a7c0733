// Google Analytics 4 (gtag.js), included only when Settings → Site settings has a measurement
// id; the id comes from this script element's data-analytics-id attribute.
(function () {
  "use strict";
  var script = document.currentScript;
  var id = script && script.getAttribute("data-analytics-id");
  if (!id) return;
  window.dataLayer = window.dataLayer || [];
  window.gtag = function () { window.dataLayer.push(arguments); };
  window.gtag("js", new Date());
  window.gtag("config", id, { anonymize_ip: true });
})();
