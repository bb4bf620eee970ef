// Yundian storefront tracker: first-party behaviour events to /api/v1/events, no library.
//
// The storefront's base template loads this script only when the shopper may be tracked (a signed-in member who
// withdrew tracking consent gets no tracker at all), with data-endpoint, data-store (the storefront address) and
// data-member (a signed member token, or empty). What it sends:
//   page_view on load; product_view on a product page; search when the page shows results for ?q=;
//   add_to_cart / remove_from_cart when a cart form is submitted; share when a share link is copied or clicked;
//   coupon_view for the coupons a page lists; recommendation_view for each recommendation block a page shows
//   ([data-rec-slot], an A/B holdout's hidden one too) and recommendation_click when a product in one is opened; a
//   cart add on a page opened from a recommendation (?rec=slot.variant.experiment) carries the same rec_ fields.
// Events wait in a small queue: sent every few seconds or at 20, and with navigator.sendBeacon when the page is
// hidden or left (pagehide / visibilitychange), so a form submit that navigates away loses nothing. Each event
// has its own id, so a resend after a network error is counted once by the server. The device id lives in
// localStorage ("yd.device"); a browser that refuses storage gets a per-page id.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !window.JSON) return;
  var endpoint = script.getAttribute("data-endpoint");
  var store = script.getAttribute("data-store");
  var memberToken = script.getAttribute("data-member") || "";
  var BATCH = 20, EVERY_MS = 4000, MAX_QUEUE = 200;
  var queue = [], timer = null, counter = 0;

  function randomId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var s = "";
    for (var i = 0; i < 4; i++) s += Math.floor(Math.random() * 0x100000000).toString(16);
    return s;
  }

  var device = (function () {
    try {
      var known = localStorage.getItem("yd.device");
      if (known) return known;
      var fresh = randomId();
      localStorage.setItem("yd.device", fresh);
      return fresh;
    } catch (e) {
      return randomId();
    }
  })();
  var pageKey = randomId().slice(0, 12);

  function track(kind, fields) {
    var event = {event_id: pageKey + "-" + (++counter) + "-" + kind, kind: kind, anonymous_id: device,
                 timestamp: new Date().toISOString(), properties: {}};
    if (memberToken) event.member_token = memberToken;
    for (var k in fields) if (Object.prototype.hasOwnProperty.call(fields, k)) event[k] = fields[k];
    queue.push(event);
    if (queue.length > MAX_QUEUE) queue.splice(0, queue.length - MAX_QUEUE);
    if (queue.length >= BATCH) flush(false);
    else if (!timer) timer = setTimeout(function () { flush(false); }, EVERY_MS);
  }

  function body(events) {
    return JSON.stringify({store: store, sent_at: new Date().toISOString(), events: events});
  }

  // leaving: hand everything to the browser, which sends it after the page is gone
  function flush(leaving) {
    if (timer) { clearTimeout(timer); timer = null; }
    while (queue.length) {
      var events = queue.splice(0, BATCH);
      if (leaving && navigator.sendBeacon) {
        if (!navigator.sendBeacon(endpoint, new Blob([body(events)], {type: "application/json"}))) {
          queue = events.concat(queue);
          return;
        }
        continue;
      }
      send(events);
    }
  }

  function send(events) {
    fetch(endpoint, {method: "POST", body: body(events), keepalive: true, credentials: "same-origin",
                     headers: {"Content-Type": "application/json"}})
      .then(function (response) {
        // 5xx and 429: try again later; a 4xx would fail again, so those events are dropped
        if (response.status >= 500 || response.status === 429) requeue(events);
      })
      .catch(function () { requeue(events); });
  }

  function requeue(events) {
    queue = events.concat(queue).slice(0, MAX_QUEUE);
    if (!timer) timer = setTimeout(function () { flush(false); }, EVERY_MS * 3);
  }

  function number(value) {
    var n = parseInt(value, 10);
    return isNaN(n) ? null : n;
  }

  // --- what the page shows --------------------------------------------------------------------------------
  var path = (location.pathname + location.search).slice(0, 500);
  track("page_view", {properties: {path: path, referrer: (document.referrer || "").slice(0, 500)}});

  var firstSku = document.querySelector("[data-sku-id]");
  if (firstSku && document.querySelector(".sf-skus")) {
    track("product_view", {sku_id: number(firstSku.getAttribute("data-sku-id"))});
  }

  var searchBox = document.querySelector("form[role=search] input[name=q]");
  var query = new URLSearchParams(location.search).get("q");
  if (searchBox && query && query.trim()) {
    track("search", {properties: {query: query.trim().slice(0, 200)}});
  }

  var coupons = document.querySelectorAll("[data-coupon-code], .ma-coupon[data-code]");
  for (var i = 0; i < coupons.length && i < 20; i++) {
    var code = coupons[i].getAttribute("data-coupon-code") || coupons[i].getAttribute("data-code");
    if (code) track("coupon_view", {properties: {code: code.slice(0, 64)}});
  }

  // recommendation blocks (yundian.recommend): one impression per block and page, clicks on its products
  function recFields(slot, variant, experiment) {
    return {rec_slot: String(slot || "").slice(0, 32), rec_variant: String(variant || "").slice(0, 32),
            rec_experiment: String(experiment || "0").slice(0, 12)};
  }
  var recBlocks = document.querySelectorAll("[data-rec-slot]");
  for (var r = 0; r < recBlocks.length && r < 10; r++) {
    var rb = recBlocks[r];
    var props = recFields(rb.getAttribute("data-rec-slot"), rb.getAttribute("data-rec-variant"),
                          rb.getAttribute("data-rec-experiment"));
    props.items = rb.querySelectorAll("[data-rec-product]").length;
    track("recommendation_view", {properties: props});
  }
  var recFrom = (new URLSearchParams(location.search).get("rec") || "").split(".");
  document.addEventListener("click", function (e) {
    var card = e.target && e.target.closest && e.target.closest("[data-rec-slot] [data-rec-product]");
    if (!card) return;
    var box = card.closest("[data-rec-slot]");
    var sku = number(card.getAttribute("data-rec-sku"));
    if (!sku) return;
    track("recommendation_click", {sku_id: sku, properties: recFields(box.getAttribute("data-rec-slot"),
      box.getAttribute("data-rec-variant"), box.getAttribute("data-rec-experiment"))});
    flush(true);  // the click navigates away: send now
  }, true);

  // --- what the shopper does ------------------------------------------------------------------------------
  document.addEventListener("submit", function (e) {
    var form = e.target;
    var skuInput = form.querySelector && form.querySelector("input[name=sku_id]");
    if (!skuInput) return;
    var sku = number(skuInput.value);
    var qtyInput = form.querySelector("input[name=quantity]");
    var action = form.querySelector("input[name=action]");
    if (action && action.value === "set" && qtyInput) {       // the cart's quantity form
      var before = number(qtyInput.defaultValue) || 0, after = Math.max(number(qtyInput.value) || 0, 0);
      if (after > before) track("add_to_cart", {sku_id: sku, properties: {quantity: after - before}});
      if (after < before) track("remove_from_cart", {sku_id: sku, properties: {quantity: before - after}});
    } else if (/\/cart\/add$/.test(form.getAttribute("action") || "")) {
      var added = {quantity: Math.max(qtyInput ? number(qtyInput.value) || 1 : 1, 1)};
      if (recFrom.length === 3 && recFrom[0]) {
        var from = recFields(recFrom[0], recFrom[1], recFrom[2]);
        for (var f in from) added[f] = from[f];
      }
      track("add_to_cart", {sku_id: sku, properties: added});
    } else {
      return;
    }
    flush(true);  // the submit navigates away: send now
  }, true);

  function shared(target, how) {
    track("share", {properties: {channel: how, target: String(target || location.href).slice(0, 500)}});
  }
  document.addEventListener("copy", function (e) {
    var el = e.target && e.target.closest && e.target.closest(".sd-share, [data-share]");
    if (el) shared(el.value || el.getAttribute("data-share") || el.getAttribute("href"), "copy");
  }, true);
  document.addEventListener("click", function (e) {
    var el = e.target && e.target.closest && e.target.closest("[data-share]");
    if (el) shared(el.getAttribute("data-share") || el.getAttribute("href"), "link");
  }, true);

  addEventListener("pagehide", function () { flush(true); });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") flush(true);
  });
  window.ydTrack = track;  // for page scripts that want to send their own (custom) events
})();
