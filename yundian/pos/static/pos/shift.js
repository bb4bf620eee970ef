// Shift pages: add up a denomination grid as it is typed (display only; the server counts again).
(function () {
  "use strict";
  // as core.money.Money.format, with the store currency's symbol and minor units from the page
  function fmt(fen, out) {
    var places = parseInt(out.dataset.places, 10) || 0, unit = Math.pow(10, places);
    var whole = String(Math.floor(fen / unit)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return out.dataset.symbol + whole + (places ? "." + String(fen % unit).padStart(places, "0") : "");
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
      out.textContent = fmt(sum, out);
    }
    grid.addEventListener("input", total);
    total();
  });
})();
