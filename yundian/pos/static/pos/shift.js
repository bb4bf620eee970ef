// Shift pages: add up a denomination grid as it is typed (display only; the server counts again).
(function () {
  "use strict";
  function fmt(fen) {
    var whole = Math.floor(fen / 100), part = fen % 100;
    return "¥" + String(whole).replace(/\B(?=(\d{3})+(?!\d))/g, ",") + "." + String(part).padStart(2, "0");
  }
  document.querySelectorAll("form").forEach(function (form) {
    var grid = form.querySelector("[data-count-grid]"), out = form.querySelector("[data-count-total]");
    if (!grid || !out) return;
    function total() {
      var sum = 0;
      grid.querySelectorAll("input[data-value]").forEach(function (input) {
        var n = /^\d{1,6}$/.test(input.value.trim()) ? parseInt(input.value, 10) : 0;
        sum += n * parseInt(input.dataset.value, 10);
      });
      out.textContent = fmt(sum);
    }
    grid.addEventListener("input", total);
    total();
  });
})();
