// Recommendation events from staff pages (the till, a guide's customer page), like the storefront's tracker
// (cdp/static/cdp/track.js) sends them: recommendation_view once per suggestion box ([data-rec-slot][data-rec-member],
// an A/B holdout's empty one too) and recommendation_click when a suggestion is picked. They go to /api/v1/events
// as the signed-in staff member (session + CSRF) naming the member and the store, so the A/B counters
// (recommend.experiments) count the till's and the guides' boxes as well. The boxes arrive by htmx; the script comes
// with each box and initialises once.
(function () {
  "use strict";
  if (window.ydRecStaff) { window.ydRecStaff.scan(); return; }
  var endpoint = "/api/v1/events", counter = 0, pageKey = Math.random().toString(36).slice(2, 12);

  function csrfToken() {
    var m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (m) return decodeURIComponent(m[1]);
    try { return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"]; } catch (e) { return ""; }
  }

  function number(value) {
    var n = parseInt(value, 10);
    return isNaN(n) ? null : n;
  }

  function send(box, kind, fields, extra) {
    var at = new Date().toISOString();
    var event = {event_id: "rec-" + pageKey + "-" + (++counter) + "-" + kind, kind: kind, timestamp: at,
                 member_id: number(box.getAttribute("data-rec-member")),
                 store_id: number(box.getAttribute("data-rec-store")),
                 properties: {rec_slot: String(box.getAttribute("data-rec-slot") || "").slice(0, 32),
                              rec_variant: String(box.getAttribute("data-rec-variant") || "").slice(0, 32),
                              rec_experiment: String(box.getAttribute("data-rec-experiment") || "0").slice(0, 12)}};
    var channel = box.getAttribute("data-rec-channel");
    if (channel) event.channel = channel;
    for (var k in fields) if (Object.prototype.hasOwnProperty.call(fields, k)) event[k] = fields[k];
    for (var p in extra) if (Object.prototype.hasOwnProperty.call(extra, p)) event.properties[p] = extra[p];
    if (!event.member_id) return;
    fetch(endpoint, {method: "POST", credentials: "same-origin", keepalive: true,
                     headers: {"Content-Type": "application/json", "X-CSRFToken": csrfToken()},
                     body: JSON.stringify({sent_at: at, events: [event]})}).catch(function () {});
  }

  function scan() {
    var boxes = document.querySelectorAll("[data-rec-slot][data-rec-member]:not([data-rec-seen])");
    for (var i = 0; i < boxes.length; i++) {
      boxes[i].setAttribute("data-rec-seen", "");
      send(boxes[i], "recommendation_view", {}, {items: boxes[i].querySelectorAll("[data-rec-product]").length});
    }
  }

  document.addEventListener("click", function (e) {
    var pick = e.target && e.target.closest && e.target.closest("[data-rec-member] [data-rec-product]");
    if (!pick) return;
    var sku = number(pick.getAttribute("data-rec-sku"));
    if (!sku) return;
    send(pick.closest("[data-rec-member]"), "recommendation_click", {sku_id: sku}, {});
    pick.setAttribute("aria-pressed", "true");
  }, true);
  document.addEventListener("htmx:afterSettle", scan);
  window.ydRecStaff = {scan: scan};
  scan();
})();
