// Admin editors: give each rich text editor (Draftail) the accessible name of its field's label.
// Wagtail labels the hidden input that stores the value; the editable area itself (role="textbox")
// would otherwise have no name for a screen reader (axe: aria-input-field-name).
(function () {
  "use strict";
  var counter = 0;
  function name(root) {
    root.querySelectorAll('.public-DraftEditor-content[role="textbox"]').forEach(function (box) {
      if (box.hasAttribute("aria-label") || box.hasAttribute("aria-labelledby")) return;
      var field = box.closest(".w-field, [data-field-wrapper], [data-contentpath]");
      var label = field && field.querySelector("label, .w-field__label");
      if (label) {
        if (!label.id) label.id = "rich-text-label-" + ++counter;
        box.setAttribute("aria-labelledby", label.id);
      } else {
        box.setAttribute("aria-label", "Rich text");
      }
    });
  }
  function start() {
    name(document);
    new MutationObserver(function () { name(document); }).observe(document.body, {
      childList: true,
      subtree: true,
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
