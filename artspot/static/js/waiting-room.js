// Drop waiting room: continue to checkout by itself when the collector's turn comes
// (data-wait-seconds); without JavaScript the "Continue to checkout" button does the same.
(function () {
  "use strict";
  var room = document.querySelector(".waiting-room");
  var form = document.getElementById("waiting-room-form");
  if (!room || !form) return;
  var wait = parseFloat(room.getAttribute("data-wait-seconds")) || 0;
  setTimeout(function () { form.submit(); }, Math.max(0, wait * 1000) + 50);
})();
