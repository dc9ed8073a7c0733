// Admin editors: accessible names Wagtail's widgets leave out (found by axe-core, tests/e2e).
// - Rich text (Draftail): the editable area (role="textbox") gets its field's label; Wagtail
//   labels the hidden input that stores the value instead.
// - Tags (tag-it): the text box where tags are typed gets its field's label, for the same reason.
// - Chooser modals (role="dialog"): named by their heading.
(function () {
  "use strict";
  var counter = 0;
  function labelId(label) {
    if (!label.id) label.id = "a11y-label-" + ++counter;
    return label.id;
  }
  function unnamed(el) {
    return !el.hasAttribute("aria-label") && !el.hasAttribute("aria-labelledby");
  }
  function fromField(el, fallback) {
    if (!unnamed(el) || (el.id && document.querySelector('label[for="' + el.id + '"]'))) return;
    var field = el.closest(".w-field, [data-field-wrapper], [data-contentpath]");
    var label = field && field.querySelector("label, .w-field__label");
    if (label) el.setAttribute("aria-labelledby", labelId(label));
    else el.setAttribute("aria-label", fallback);
  }
  function name(root) {
    root.querySelectorAll('.public-DraftEditor-content[role="textbox"]').forEach(function (box) {
      fromField(box, "Rich text");
    });
    root.querySelectorAll(".tagit input.ui-autocomplete-input").forEach(function (input) {
      fromField(input, "Tags");
    });
    root.querySelectorAll('.modal[role="dialog"]').forEach(function (dialog) {
      if (!unnamed(dialog)) return;
      var heading = dialog.querySelector("h1, h2");
      if (heading) dialog.setAttribute("aria-labelledby", labelId(heading));
      else dialog.setAttribute("aria-label", "Chooser");
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
