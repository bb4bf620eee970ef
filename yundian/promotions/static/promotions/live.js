// A live session's storefront page: the countdown before it starts (hh:mm:ss), then the page reloads so the buy
// buttons come alive. No library.
(function () {
  "use strict";
  var box = document.getElementById("sd-countdown");
  if (!box) return;
  var starts = Date.parse(box.getAttribute("data-starts"));
  var out = box.querySelector("[data-countdown]");
  var days = box.getAttribute("data-label-days") || "d";
  function two(n) { return (n < 10 ? "0" : "") + n; }
  function tick() {
    var left = Math.max(0, Math.floor((starts - Date.now()) / 1000));
    if (left <= 0) { window.location.reload(); return; }
    var d = Math.floor(left / 86400), h = Math.floor(left % 86400 / 3600), m = Math.floor(left % 3600 / 60);
    out.textContent = (d ? d + days + " " : "") + two(h) + ":" + two(m) + ":" + two(left % 60);
    setTimeout(tick, 1000);
  }
  if (!isNaN(starts)) tick();
})();
