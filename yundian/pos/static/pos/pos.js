// The till. Plain JS, no build step.
//
// Prices: online, every cart change asks the server for a quote (the sales pricing function) and shows its
// totals; offline, lines show the cached price list's unit prices and the totals are marked provisional.
// Checkout posts the order with a client key made on this device (crypto.randomUUID()); when the server
// cannot be reached the order goes into the IndexedDB queue (queue.js) and is synced later, once, in order,
// with the same key, so a retry can never book it twice. Refusals and changed prices go to "needs attention".
(function () {
  "use strict";

  var cfg = JSON.parse(document.getElementById("pos-config").textContent);
  var msg = JSON.parse(document.getElementById("pos-messages").textContent);
  var root = document.getElementById("pos");
  var storeId = cfg.store_id;
  var SYMBOLS = { CNY: "¥", USD: "$", EUR: "€", HKD: "HK$", JPY: "¥", KRW: "₩" };
  var PLACES = { JPY: 0, KRW: 0 };

  var state = {
    snapshot: null, byId: {}, byBarcode: {}, byPlu: {}, schemes: {},
    cart: [], nextKey: 1, member: null, quote: null, quoteFor: "", quoteSeq: 0, coupons: [],
    reachable: true, syncing: false
  };

  function $(id) { return document.getElementById(id); }
  function show(el, on) { el.hidden = !on; }
  function text(el, value) { el.textContent = value; }

  // --- money display (formatting only; amounts come from the server or the cached price list) -----------

  // a moment as the store's wall clock (HH:MM, or HH:MM:SS), in the store's time zone like every page of the till
  function clock(iso, seconds) {
    var opts = { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: cfg.time_zone };
    if (seconds) opts.second = "2-digit";
    try { return new Date(iso).toLocaleTimeString("en-GB", opts); }
    catch (e) { return new Date(iso).toTimeString().slice(0, seconds ? 8 : 5); }
  }
  function places() { return PLACES[cfg.currency] === undefined ? 2 : PLACES[cfg.currency]; }

  function fmt(fen) {
    var p = places(), sign = fen < 0 ? "-" : "", abs = Math.abs(fen), unit = Math.pow(10, p);
    var whole = Math.floor(abs / unit), part = abs % unit;
    var w = String(whole).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return sign + (SYMBOLS[cfg.currency] || "") + w + (p ? "." + String(part).padStart(p, "0") : "");
  }

  // "12.5" -> 1250 fen, exactly (strings, not floats); null if it is not an amount
  function parseAmount(raw) {
    var value = String(raw || "").trim(), p = places();
    var re = p ? new RegExp("^(\\d{1,9})(?:\\.(\\d{1," + p + "}))?$") : /^(\d{1,11})$/;
    var m = re.exec(value);
    if (!m) return null;
    var part = p ? (m[2] || "").padEnd(p, "0") : "";
    return parseInt(m[1], 10) * Math.pow(10, p) + (part ? parseInt(part, 10) : 0);
  }

  function yuanText(fen) {
    var p = places(), unit = Math.pow(10, p);
    return p ? Math.floor(fen / unit) + "." + String(fen % unit).padStart(p, "0") : String(fen);
  }

  function qtyText(line) {
    if (!line.is_weighed) return String(line.quantity);
    if (!line.quantity) return "—";
    return Math.floor(line.quantity / 1000) + "." + String(line.quantity % 1000).padStart(3, "0") + " kg";
  }

  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return b.toString(16).padStart(2, "0"); }).join("");
  }

  // --- talking to the server ---------------------------------------------------------------------------

  function csrfToken() {
    var m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (m) return decodeURIComponent(m[1]);
    var headers = document.body.getAttribute("hx-headers");
    try { return JSON.parse(headers)["X-CSRFToken"]; } catch (e) { return ""; }
  }

  // resolves {status, body}; status 0 = the network or server could not be reached
  function call(method, url, body, extraHeaders) {
    var headers = { "Accept": "application/json" };
    if (body !== undefined) { headers["Content-Type"] = "application/json"; headers["X-CSRFToken"] = csrfToken(); }
    Object.assign(headers, extraHeaders || {});
    return fetch(url, { method: method, headers: headers, credentials: "same-origin",
                        body: body === undefined ? undefined : JSON.stringify(body) })
      .then(function (res) {
        setReachable(true);
        return res.text().then(function (raw) {
          var data = null;
          try { data = raw ? JSON.parse(raw) : null; } catch (e) { data = null; }
          return { status: res.status, body: data };
        });
      }, function () {
        setReachable(false);
        return { status: 0, body: null };
      });
  }

  // the server answered but could not book it (5xx, a proxy's error page): try again later, like a network error
  function unreachable(res) { return res.status === 0 || res.status >= 500; }

  function errorText(res) {
    if (res.body && res.body.error && res.body.error.message) return res.body.error.message;
    return res.status === 0 ? msg.need_network : msg.server_error;
  }

  function online() { return navigator.onLine && state.reachable; }

  function setReachable(value) {
    if (state.reachable !== value) { state.reachable = value; renderNet(); }
  }

  function renderNet() {
    var el = $("net-status");
    var s = !navigator.onLine ? "offline" : (state.reachable ? "online" : "unreachable");
    el.dataset.state = s;
    text(el, s === "online" ? msg.online : (s === "offline" ? msg.offline : msg.sync_paused));
  }

  // --- the catalogue/price snapshot --------------------------------------------------------------------

  function applySnapshot(data) {
    if (!data || !data.skus) return;
    state.snapshot = data;
    state.byId = {}; state.byBarcode = {}; state.byPlu = {}; state.schemes = {};
    data.skus.forEach(function (s) {
      state.byId[s.id] = s;
      s.barcodes.forEach(function (b) { state.byBarcode[b] = s; });
      if (s.plu) state.byPlu[String(parseInt(s.plu, 10))] = s;
    });
    data.weighed_schemes.forEach(function (w) { state.schemes[w.prefix] = w; });
    var at = data.generated_at ? new Date(data.generated_at) : null;
    text($("snapshot-version"), at && !isNaN(at) ? clock(data.generated_at) : "✓");
    $("snapshot-version").dataset.version = data.version;
    renderKeys();
  }

  function loadSnapshot() {
    return fetch(cfg.urls.snapshot, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (res) { if (!res.ok) throw new Error(String(res.status)); return res.json(); })
      .then(applySnapshot)
      .catch(function () { /* keep the snapshot already loaded (or the service worker's copy next time) */ });
  }

  function gs1Valid(code) {
    if (!/^\d+$/.test(code) || [8, 12, 13].indexOf(code.length) < 0) return true;  // not a GS1 code
    var sum = 0, digits = code.slice(0, -1).split("").reverse();
    digits.forEach(function (d, i) { sum += parseInt(d, 10) * (i % 2 === 0 ? 3 : 1); });
    return String((10 - (sum % 10)) % 10) === code.slice(-1);
  }

  // offline: what a scanned code is, from the snapshot; {sku, code, grams, weighed} or null
  function lookupLocal(code) {
    var scheme = code.length === 13 && /^\d+$/.test(code) ? state.schemes[code.slice(0, 2)] : null;
    if (scheme) {
      var plu = String(parseInt(code.substr(2, scheme.item_digits), 10));
      var value = parseInt(code.substr(2 + scheme.item_digits, scheme.value_digits), 10);
      var sku = state.byPlu[plu];
      if (!sku) return null;
      // a price-embedded label: the weight is estimated for display only; the server decodes it again
      var grams = scheme.value_kind === "weight" ? value : (sku.price ? Math.round(value * 1000 / sku.price) : null);
      return { sku: sku, code: code, grams: grams, weighed: true };
    }
    var forms = [code];
    if (code.length === 12) forms.push("0" + code);
    if (code.length === 13 && code.charAt(0) === "0") forms.push(code.slice(1));
    for (var i = 0; i < forms.length; i++) {
      if (state.byBarcode[forms[i]]) return { sku: state.byBarcode[forms[i]], code: code, grams: null, weighed: false };
    }
    return null;
  }

  // --- the cart ----------------------------------------------------------------------------------------

  function scanError(message) {
    text($("scan-error"), message || "");
    show($("scan-error"), !!message);
  }

  function addSku(sku, opts) {
    opts = opts || {};
    if (opts.weighedCode) {
      state.cart.push({ key: state.nextKey++, sku_id: sku.id, barcode: opts.weighedCode, quantity: opts.grams || 0,
                        name: sku.name, code: sku.code, is_weighed: true, price: sku.price });
    } else {
      var line = state.cart.filter(function (l) { return l.sku_id === sku.id && !l.barcode; })[0];
      var step = sku.is_weighed ? 1000 : 1;
      if (line) line.quantity += step;
      else state.cart.push({ key: state.nextKey++, sku_id: sku.id, barcode: "", quantity: step, name: sku.name,
                             code: sku.code, is_weighed: sku.is_weighed, price: sku.price });
    }
    cartChanged();
  }

  // behaviour events for the warehouse (yundian.cdp, /api/v1/events): fire and forget; lost while offline
  function trackTill(kind, fields) {
    var at = new Date().toISOString(), id = "pos-" + storeId + "-" + Date.now() + "-" + Math.random().toString(36).slice(2, 10);
    if (online()) call("POST", cfg.urls.events, { sent_at: at, events: [Object.assign({ event_id: id, kind: kind, store_id: storeId, channel: "pos", timestamp: at }, fields)] });
  }

  function handleCode(raw) {
    var code = String(raw || "").replace(/[\s-]/g, "");
    if (!/^[0-9A-Za-z]{1,32}$/.test(code)) { scanError(msg.bad_barcode); return Promise.resolve(); }
    scanError("");
    var local = function () {
      if (!gs1Valid(code)) { scanError(msg.bad_barcode); return; }
      var found = lookupLocal(code);
      if (!found) { scanError(msg.unknown_barcode); return; }
      addSku(found.sku, found.weighed ? { weighedCode: code, grams: found.grams } : {});
      trackTill("scan", { sku_id: found.sku.id, properties: { barcode: code } });
    };
    if (!online()) { local(); return Promise.resolve(); }
    return call("GET", cfg.urls.scan + encodeURIComponent(code) + "?store_id=" + storeId).then(function (res) {
      if (unreachable(res)) { local(); return; }
      if (res.status !== 200) { scanError(errorText(res)); return; }
      var d = res.body, cached = state.byId[d.sku.id];
      var sku = cached || { id: d.sku.id, code: d.sku.code, name: (d.product.name + " " + d.sku.name).trim(),
                            is_weighed: d.sku.is_weighed, price: d.unit_price.price.amount };
      addSku(sku, d.kind === "weighed" ? { weighedCode: d.code, grams: d.grams } : {});
      trackTill("scan", { sku_id: sku.id, properties: { barcode: code } });
    });
  }

  function linePayload(line) {
    return line.barcode ? { barcode: line.barcode } : { sku_id: line.sku_id, quantity: line.quantity };
  }

  function cartSignature() {
    return JSON.stringify([state.cart.map(linePayload), state.member && state.member.id || null, state.coupons]);
  }

  function quoteFresh() { return state.quote && state.quoteFor === cartSignature(); }

  // the provisional amount of a line from the cached unit price (shown only when no server quote is at hand)
  function provisionalAmount(line) {
    return line.is_weighed ? Math.round(line.price * line.quantity / 1000) : line.price * line.quantity;
  }

  function cartChanged() {
    renderCart();
    requestQuote();
  }

  function requestQuote() {
    if (!state.cart.length || !online()) return Promise.resolve();
    var signature = cartSignature(), seq = ++state.quoteSeq;
    var body = { lines: state.cart.map(linePayload), member_id: state.member && state.member.id || null,
                 coupon_codes: state.coupons };
    return call("POST", cfg.urls.quote, body).then(function (res) {
      if (seq !== state.quoteSeq) return;  // a newer cart is being priced
      if (res.status === 200) {
        state.quote = res.body; state.quoteFor = signature;
        res.body.lines.forEach(function (q, i) {
          var line = state.cart[i];
          if (line && line.is_weighed && line.barcode) line.quantity = q.quantity;
        });
        scanError("");
      } else if (!unreachable(res)) {
        scanError(errorText(res));
      }
      renderCart();
    });
  }

  function renderCart() {
    var body = $("cart-lines"), fresh = quoteFresh();
    body.textContent = "";
    state.cart.forEach(function (line, i) {
      var q = fresh ? state.quote.lines[i] : null;
      var tr = document.createElement("tr");
      tr.dataset.skuId = line.sku_id;
      tr.dataset.key = line.key;
      tr.className = "cart-line";
      var name = document.createElement("td");
      name.innerHTML = "<strong></strong><br><small class='muted'></small> <span class='stock'></span>";
      name.firstChild.textContent = line.name;
      name.querySelector("small").textContent = line.code;
      var stockEl = name.querySelector(".stock");
      if (q && q.available !== null && q.available !== undefined) {
        var avail = line.is_weighed ? qtyText({ is_weighed: true, quantity: q.available }) : String(q.available);
        stockEl.textContent = (q.short ? msg.stock_short : msg.stock_left).replace("%(n)s", avail);
        stockEl.className = "stock" + (q.short ? " short" : "");
        tr.dataset.available = q.available;
        if (q.short) tr.classList.add("is-short");
      }
      var price = document.createElement("td");
      price.className = "num" + (q ? "" : " provisional");
      price.textContent = fmt(q ? q.unit_price : line.price) + (line.is_weighed ? "/kg" : "");
      var qty = document.createElement("td");
      qty.className = "qty";
      if (line.barcode) {
        qty.textContent = qtyText(line);
      } else {
        qty.innerHTML = "<button type='button' class='qty-minus' aria-label='-'>−</button>" +
          "<span class='qty-n'></span><button type='button' class='qty-plus' aria-label='+'>+</button>";
        qty.querySelector(".qty-n").textContent = qtyText(line);
      }
      var amount = document.createElement("td");
      amount.className = "num line-total" + (q ? "" : " provisional");
      amount.textContent = fmt(q ? q.line_total : provisionalAmount(line));
      var remove = document.createElement("td");
      remove.innerHTML = "<button type='button' class='link line-remove'>×</button>";
      remove.firstChild.setAttribute("aria-label", msg.remove);
      [name, price, qty, amount, remove].forEach(function (td) { tr.appendChild(td); });
      body.appendChild(tr);
    });
    show($("cart-empty"), !state.cart.length);
    renderTotals();
  }

  function currentTotal() {
    if (quoteFresh()) return state.quote.total;
    return state.cart.reduce(function (sum, line) { return sum + provisionalAmount(line); }, 0);
  }

  function renderTotals() {
    var fresh = quoteFresh(), box = $("totals");
    var provisional = !!state.cart.length && !fresh;
    box.dataset.provisional = provisional ? "1" : "0";
    if (!state.cart.length) {
      ["subtotal", "discount", "total"].forEach(function (id) { text($(id), "—"); });
    } else if (fresh) {
      text($("subtotal"), state.quote.subtotal_display);
      text($("discount"), state.quote.discount_display);
      text($("total"), state.quote.total_display);
    } else {
      var total = currentTotal();
      text($("subtotal"), "≈ " + fmt(total));
      text($("discount"), "—");
      text($("total"), "≈ " + fmt(total) + " (" + msg.provisional + ")");
    }
    show($("provisional-note"), provisional);
    var ex = state.exchange, button = $("checkout");
    show($("exchange-refund-row"), !!ex);
    show($("exchange-diff-row"), !!ex && !!state.cart.length);
    if (ex) {
      text($("exchange-refund"), "−" + fmt(ex.refund));
      var diff = currentTotal() - ex.refund;
      text($("exchange-diff-label"), diff >= 0 ? msg.customer_pays : msg.customer_gets);
      text($("exchange-diff"), fmt(Math.abs(diff)));
      $("exchange-diff-row").dataset.difference = diff;
    }
    text(button, ex ? button.dataset.labelExchange : button.dataset.labelSale);
    renderPromotions();
    button.disabled = !state.cart.length;
    renderTenders();
  }

  $("cart-lines").addEventListener("click", function (ev) {
    var tr = ev.target.closest("tr.cart-line");
    if (!tr) return;
    var key = parseInt(tr.dataset.key, 10);
    var line = state.cart.filter(function (l) { return l.key === key; })[0];
    if (!line) return;
    var step = line.is_weighed ? 100 : 1;
    if (ev.target.closest(".qty-plus")) line.quantity += step;
    else if (ev.target.closest(".qty-minus")) {
      if (line.quantity > step) line.quantity -= step;
      else state.cart = state.cart.filter(function (l) { return l !== line; });
    } else if (ev.target.closest(".line-remove")) state.cart = state.cart.filter(function (l) { return l !== line; });
    else return;
    cartChanged();
    $("scan").focus();
  });

  $("scan-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var input = $("scan"), code = input.value;
    input.value = "";
    handleCode(code).then(function () { input.focus(); });
  });

  // a keyboard-wedge scanner types digits + Enter wherever the focus is: send them to the scan field
  document.addEventListener("keydown", function (ev) {
    var t = ev.target;
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT")) return;
    if (/^[0-9]$/.test(ev.key)) $("scan").focus();
  });

  // product search in the snapshot (works offline)
  $("search").addEventListener("input", function () {
    var q = this.value.trim().toLowerCase(), list = $("search-results");
    list.textContent = "";
    if (!q || !state.snapshot) { show(list, false); return; }
    var hits = state.snapshot.skus.filter(function (s) {
      return s.name.toLowerCase().indexOf(q) >= 0 || s.code.toLowerCase().indexOf(q) >= 0;
    }).slice(0, 12);
    if (!hits.length) {
      var none = document.createElement("li");
      none.className = "muted";
      none.textContent = msg.no_results;
      list.appendChild(none);
    }
    hits.forEach(function (s) {
      var li = document.createElement("li"), b = document.createElement("button");
      b.type = "button"; b.dataset.skuId = s.id;
      b.textContent = s.name + " · " + s.code + " · " + fmt(s.price) + (s.is_weighed ? "/kg" : "");
      li.appendChild(b); list.appendChild(li);
    });
    show(list, true);
  });
  $("search-results").addEventListener("click", function (ev) {
    var b = ev.target.closest("button[data-sku-id]");
    if (!b) return;
    addSku(state.byId[parseInt(b.dataset.skuId, 10)]);
    $("search").value = ""; show($("search-results"), false); $("scan").focus();
  });

  // --- quick keys: every sellable SKU as a key (a picture if the product has one, else a drawn tile), in tabs by
  // top-level category and in pages that fit the grid without scrolling (3 rows on a tablet, 6 x 2 on a phone) ------

  function tileColour(code) {
    var h = 0;
    for (var i = 0; i < code.length; i++) h = (h * 31 + code.charCodeAt(i)) % 360;
    return "hsl(" + h + ", 55%, 88%)";
  }

  var keys = { group: "all", page: 0 };
  var PHONE = window.matchMedia ? window.matchMedia("(max-width: 760px)") : null;

  function keysPerPage(box) {
    if (PHONE && PHONE.matches) return 12;
    var cols = getComputedStyle(box).gridTemplateColumns.split(" ").filter(Boolean).length;
    return Math.max(cols, 1) * 3;
  }

  function keyGroups() {
    var groups = [{ id: "all", name: msg.all_products }].concat(state.snapshot.groups || []);
    if (groups.length > 1 && state.snapshot.skus.some(function (s) { return !s.group; })) {
      groups.push({ id: 0, name: msg.other_products });
    }
    return groups.length > 2 ? groups : [];  // one category: no tabs
  }

  function renderTabs() {
    var bar = $("quick-tabs");
    bar.textContent = "";
    keyGroups().forEach(function (g) {
      var b = document.createElement("button");
      b.type = "button"; b.className = "pos-tab"; b.setAttribute("role", "tab");
      b.dataset.group = String(g.id);
      b.setAttribute("aria-selected", String(String(g.id) === String(keys.group)));
      b.textContent = g.name;
      bar.appendChild(b);
    });
  }

  function keyButton(s) {
    var b = document.createElement("button");
    b.type = "button"; b.className = "pos-key"; b.dataset.skuId = s.id;
    var pic = document.createElement("span");
    pic.className = "pos-key-pic";
    if (s.image) {
      var img = document.createElement("img");
      img.src = s.image; img.alt = ""; img.loading = "lazy";
      img.onerror = function () { img.remove(); pic.textContent = s.name.charAt(0); };
      pic.appendChild(img);
    } else {
      pic.textContent = s.name.charAt(0);
    }
    pic.style.background = tileColour(s.code);
    var label = document.createElement("span");
    label.className = "pos-key-name"; label.textContent = s.name;
    var price = document.createElement("span");
    price.className = "pos-key-price"; price.textContent = fmt(s.price) + (s.is_weighed ? "/kg" : "");
    b.appendChild(pic); b.appendChild(label); b.appendChild(price);
    return b;
  }

  function renderKeys() {
    var box = $("quick-keys");
    if (!box || !state.snapshot) return;
    renderTabs();
    var list = state.snapshot.skus.filter(function (s) {
      return keys.group === "all" || String(s.group || 0) === keys.group;
    });
    var per = keysPerPage(box), pages = Math.max(1, Math.ceil(list.length / per));
    keys.page = Math.min(keys.page, pages - 1);
    box.textContent = "";
    list.slice(keys.page * per, (keys.page + 1) * per).forEach(function (s) { box.appendChild(keyButton(s)); });
    text($("keys-page"), (keys.page + 1) + " / " + pages);
    $("keys-prev").disabled = keys.page === 0;
    $("keys-next").disabled = keys.page >= pages - 1;
    $("keys-pager").hidden = pages < 2;
  }

  $("quick-tabs").addEventListener("click", function (ev) {
    var b = ev.target.closest("button[data-group]");
    if (!b) return;
    keys.group = b.dataset.group; keys.page = 0;
    renderKeys();
  });
  $("keys-prev").addEventListener("click", function () { keys.page = Math.max(0, keys.page - 1); renderKeys(); });
  $("keys-next").addEventListener("click", function () { keys.page += 1; renderKeys(); });
  var keysResize = null;
  window.addEventListener("resize", function () {  // a turned tablet fits another number of keys a page
    clearTimeout(keysResize);
    keysResize = setTimeout(renderKeys, 150);
  });

  $("quick-keys").addEventListener("click", function (ev) {
    var b = ev.target.closest("button[data-sku-id]");
    if (!b) return;
    var sku = state.byId[parseInt(b.dataset.skuId, 10)];
    if (sku) addSku(sku);
  });

  // --- park and recall a sale (kept on this device) ------------------------------------------------------

  var PARK_KEY = "yundian-pos-parked-" + storeId;

  function parked() {
    try { return JSON.parse(localStorage.getItem(PARK_KEY) || "[]"); } catch (e) { return []; }
  }

  function saveParked(list) {
    localStorage.setItem(PARK_KEY, JSON.stringify(list));
    renderParked();
  }

  function renderParked() {
    var list = parked(), ul = $("park-list");
    text($("park-count"), String(list.length));
    ul.textContent = "";
    list.forEach(function (p) {
      var li = document.createElement("li");
      li.dataset.parkId = p.id;
      var what = document.createElement("span");
      what.textContent = clock(p.at) + " · " +
        p.cart.map(function (l) { return l.name + " × " + qtyText(l); }).join(", ") +
        (p.member ? " · " + (p.member.name || p.member.value || "") : "");
      var recall = document.createElement("button");
      recall.type = "button"; recall.className = "primary park-recall"; recall.textContent = msg.recall;
      var drop = document.createElement("button");
      drop.type = "button"; drop.className = "link park-drop"; drop.textContent = msg.remove;
      li.appendChild(what); li.appendChild(recall); li.appendChild(drop);
      ul.appendChild(li);
    });
    show($("park-empty"), !list.length);
  }

  $("park-sale").addEventListener("click", function () {
    if (!state.cart.length) return;
    var list = parked();
    list.push({ id: newKey(), at: new Date().toISOString(), cart: state.cart, member: state.member,
                coupons: state.coupons });
    saveParked(list);
    resetSale();
  });
  $("park-toggle").addEventListener("click", function () { $("park-panel").hidden = !$("park-panel").hidden; renderParked(); });
  $("park-close").addEventListener("click", function () { show($("park-panel"), false); });
  $("park-list").addEventListener("click", function (ev) {
    var li = ev.target.closest("li[data-park-id]");
    if (!li) return;
    var list = parked(), entry = list.filter(function (p) { return p.id === li.dataset.parkId; })[0];
    if (!entry) return;
    if (ev.target.closest(".park-recall")) {
      if (state.cart.length) {  // the sale on the till goes to the parked list in its place
        list.push({ id: newKey(), at: new Date().toISOString(), cart: state.cart, member: state.member,
                    coupons: state.coupons });
      }
      resetSale();
      state.cart = entry.cart;
      state.nextKey = entry.cart.reduce(function (m, l) { return Math.max(m, l.key + 1); }, state.nextKey);
      state.coupons = entry.coupons || [];
      saveParked(list.filter(function (p) { return p.id !== entry.id; }));
      show($("park-panel"), false);
      if (entry.member) attachMember(entry.member); else cartChanged();
    } else if (ev.target.closest(".park-drop")) {
      saveParked(list.filter(function (p) { return p.id !== entry.id; }));
    }
  });

  // --- returns and exchanges by receipt ------------------------------------------------------------------

  var ret = { order: null, picks: {}, quote: null, seq: 0 };

  function returnError(message) { text($("return-error"), message || ""); show($("return-error"), !!message); }

  function returnLines() {
    return Object.keys(ret.picks).filter(function (id) { return ret.picks[id] > 0; })
      .map(function (id) { return { order_line_id: parseInt(id, 10), quantity: ret.picks[id] }; });
  }

  function renderReturn() {
    var body = $("return-lines"), order = ret.order;
    body.textContent = "";
    if (!order) { show($("return-order"), false); return; }
    show($("return-order"), true);
    text($("return-number"), order.number);
    text($("return-meta"), order.placed_at + " · " + order.total_display + " · " + order.status_label +
      " · " + order.payments.map(function (p) { return p.label + " " + p.amount_display; }).join(" + "));
    var refunds = {};
    (ret.quote ? ret.quote.lines : []).forEach(function (l) { refunds[l.order_line_id] = l.refund; });
    order.lines.forEach(function (l) {
      var tr = document.createElement("tr");
      tr.className = "return-line"; tr.dataset.lineId = l.id;
      var n = ret.picks[l.id] || 0;
      tr.innerHTML = "<td><strong></strong><br><small class='muted'></small></td><td class='num'></td>" +
        "<td class='qty'><button type='button' class='ret-minus' aria-label='-'>−</button><span class='qty-n'></span>" +
        "<button type='button' class='ret-plus' aria-label='+'>+</button> <small class='muted ret-max'></small></td><td class='num ret-refund'></td>";
      tr.querySelector("strong").textContent = l.name;
      tr.querySelector("small").textContent = l.code;
      tr.children[1].textContent = l.line_total_display + " / " + l.quantity;
      tr.querySelector(".qty-n").textContent = String(n);
      tr.querySelector(".ret-max").textContent = "≤ " + l.returnable;
      tr.querySelector(".ret-refund").textContent = refunds[l.id] !== undefined ? fmt(refunds[l.id]) : "";
      if (!l.returnable) tr.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
      body.appendChild(tr);
    });
    show($("return-approval"), !!order.needs_approval);
    text($("return-approval-note"), msg.late_return.replace("%(days)s", order.return_days));
    var total = ret.quote ? ret.quote.refund_total : 0;
    text($("return-refund"), fmt(total));
    text($("return-tenders"), order.payments.length ? "(" + order.payments.map(function (p) { return p.label; }).join(", ") + ")" : "");
    var pinOk = !order.needs_approval || /^\d{4,8}$/.test($("approval-pin").value);
    var any = returnLines().length > 0 && !!ret.quote && pinOk;
    $("return-refund-only").disabled = !any;
    $("return-exchange").disabled = !any;
  }

  function quoteReturn() {
    var lines = returnLines(), seq = ++ret.seq;
    ret.quote = null;
    if (!lines.length) { renderReturn(); return Promise.resolve(); }
    renderReturn();
    return call("POST", cfg.urls.return_quote, { order_id: ret.order.id, lines: lines }).then(function (res) {
      if (seq !== ret.seq) return;
      if (res.status === 200) { ret.quote = res.body; returnError(""); }
      else returnError(errorText(res));
      renderReturn();
    });
  }

  $("return-toggle").addEventListener("click", function () {
    show($("return-panel"), $("return-panel").hidden);
    if (!$("return-panel").hidden) $("return-query").focus();
  });
  $("approval-pin").addEventListener("input", renderReturn);
  $("return-close").addEventListener("click", function () { show($("return-panel"), false); $("scan").focus(); });

  $("return-lookup").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var q = $("return-query").value.trim();
    if (!q) return;
    if (!online()) { returnError(msg.need_network); return; }
    call("GET", cfg.urls.receipt_lookup + "?q=" + encodeURIComponent(q)).then(function (res) {
      if (res.status !== 200) { ret.order = null; returnError(errorText(res)); renderReturn(); return; }
      returnError("");
      ret.order = res.body; ret.picks = {}; ret.quote = null;
      if (!res.body.returnable) returnError(msg.not_returnable);
      renderReturn();
    });
  });

  $("return-lines").addEventListener("click", function (ev) {
    var tr = ev.target.closest("tr[data-line-id]");
    if (!tr || !ret.order) return;
    var id = parseInt(tr.dataset.lineId, 10);
    var line = ret.order.lines.filter(function (l) { return l.id === id; })[0];
    var n = ret.picks[id] || 0;
    if (ev.target.closest(".ret-plus") && n < line.returnable) ret.picks[id] = n + 1;
    else if (ev.target.closest(".ret-minus") && n > 0) ret.picks[id] = n - 1;
    else return;
    quoteReturn();
  });

  function submitReturn(newLines, payments) {
    var body = { order_id: ret.order.id, lines: returnLines(), client_ref: newKey(),
                 reason: $("return-reason").value.trim() };
    if (newLines) { body.new_lines = newLines; body.payments = payments; }
    if (ret.order.needs_approval) {
      body.approval = { manager_id: parseInt($("approval-manager").value, 10) || null, pin: $("approval-pin").value };
    }
    if (newLines && state.coupons.length) body.coupon_codes = state.coupons.slice();
    return call("POST", cfg.urls.exchange, body);
  }

  $("return-refund-only").addEventListener("click", function () {
    var button = this;
    button.disabled = true;
    submitReturn(null).then(function (res) {
      button.disabled = false;
      if (res.status === 200 || res.status === 201) {
        showExchangeResult(res.body);
        endExchange();
        show($("return-panel"), false);
        refreshLookup();
      } else returnError(errorText(res));
    });
  });

  $("return-exchange").addEventListener("click", function () {
    state.exchange = { order: ret.order, lines: returnLines(), refund: ret.quote.refund_total };
    text($("exchange-summary"), msg.exchange_summary.replace("%(number)s", ret.order.number)
      .replace("%(amount)s", fmt(ret.quote.refund_total)));
    show($("exchange-banner"), true);
    show($("return-panel"), false);
    renderTotals();
    $("scan").focus();
  });

  function endExchange() {
    state.exchange = null;
    ret.order = null; ret.picks = {}; ret.quote = null;
    $("return-query").value = ""; $("return-reason").value = ""; $("approval-pin").value = "";
    show($("exchange-banner"), false);
    renderReturn();
    renderTotals();
  }
  $("exchange-cancel").addEventListener("click", endExchange);

  function showExchangeResult(data) {
    var panel = $("receipt-panel"), body = $("receipt-body");
    panel.dataset.state = "returned";
    panel.dataset.orderId = data.order ? data.order.id : "";
    panel.dataset.returnNumber = data["return"].number;
    text($("receipt-title"), (data.order ? msg.exchange_done : msg.return_done) + " " + data["return"].number +
      (data.order ? " · " + data.order.number : ""));
    body.textContent = "";
    var p = document.createElement("p");
    p.className = "pos-sums";
    var refunds = data["return"].refunds.map(function (r) { return r.label + " " + r.amount_display; }).join(" + ");
    p.textContent = msg.refunded + ": " + data["return"].refund_display + (refunds ? " (" + refunds + ")" : "") +
      (data.order ? " · " + msg.new_sale + ": " + data.order.total_display : "");
    body.appendChild(p);
    if (data.order) {
      var d = document.createElement("p");
      d.className = "pos-diff";
      d.dataset.difference = data.difference;
      d.textContent = (data.difference >= 0 ? msg.customer_pays : msg.customer_gets) + " " + data.difference_display +
        (data.order.change ? " · " + msg.change + ": " + data.order.change_display : "");
      body.appendChild(d);
    }
    show($("receipt-print"), !!data.order);
    show(panel, true);
  }

  // --- member and guide --------------------------------------------------------------------------------

  function memberError(message) { text($("member-error"), message || ""); show($("member-error"), !!message); }

  // the member's tags, RFM, lifecycle and coupons: a fragment of the CDP (a higher context), loaded by its URL
  function memberCdp(member) {
    var box = $("member-cdp");
    if (!box) return;
    box.innerHTML = "";
    if (!member || !member.id || member.offline || !window.htmx || !navigator.onLine) {
      show(box, false); memberSuggestions(member); return;
    }
    show(box, true);
    window.htmx.ajax("GET", box.dataset.url.replace("/0/", "/" + member.id + "/") + "?compact=1",
                     { target: box, swap: "innerHTML" });
    memberSuggestions(member);
  }

  // what to suggest to the member from this store's shelf (yundian.recommend, a higher context), by its URL
  function memberSuggestions(member) {
    var box = $("member-rec");
    if (!box) return;
    box.innerHTML = "";
    if (!member || !member.id || member.offline || !window.htmx || !navigator.onLine) { show(box, false); return; }
    show(box, true);
    window.htmx.ajax("GET", box.dataset.url.replace("/0/", "/" + member.id + "/"), { target: box, swap: "innerHTML" });
  }

  // a suggestion picked at the till goes into the sale (its recommendation_click is recommend's staff_track.js)
  if ($("member-rec")) $("member-rec").addEventListener("click", function (ev) {
    var b = ev.target.closest("[data-rec-sku]");
    var sku = b && state.byId[parseInt(b.getAttribute("data-rec-sku"), 10)];
    if (sku) addSku(sku);
  });

  function attachMember(member) {
    state.member = member;
    memberCdp(member);
    if (member.id && !member.offline) trackTill("member_identified", { member_id: member.id });
    text($("member-name"), member.name || ("#" + (member.id || "")));
    text($("member-phone"), member.offline ? member.value + " · " + msg.member_offline : (member.phone || ""));
    $("member-attached").dataset.memberId = member.id || "";
    show($("member-attached"), true);
    show($("member-form"), false);
    memberError("");
    $("member-register").open = false;
    cartChanged();
  }

  $("member-detach").addEventListener("click", function () {
    state.member = null;
    memberCdp(null);
    show($("member-attached"), false); show($("member-form"), true);
    $("member-value").value = "";
    cartChanged();
  });

  $("member-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var kind = $("member-kind").value, value = $("member-value").value.trim();
    if (!value) return;
    if (!online()) { attachMember({ offline: true, kind: kind, value: value, name: msg.member_by_phone }); return; }
    var url = cfg.urls.member_lookup + "?store_id=" + storeId + "&kind=" + encodeURIComponent(kind) +
      "&value=" + encodeURIComponent(value);
    call("GET", url).then(function (res) {
      if (res.status === 200) attachMember(res.body);
      else if (unreachable(res)) attachMember({ offline: true, kind: kind, value: value, name: msg.member_by_phone });
      else {
        memberError(errorText(res));
        if (res.status === 404 && kind === "phone") {
          $("register-form").elements.phone.value = value;
          $("member-register").open = true;
        }
      }
    });
  });

  $("register-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var form = ev.target;
    if (!online()) { memberError(msg.need_network); return; }
    var guide = $("guide").selectedOptions[0];
    var body = { store_id: storeId, channel: "pos", phone: form.elements.phone.value.trim(),
                 name: form.elements.name.value.trim() };
    if (guide && guide.dataset.isGuide === "1") body.guide_id = parseInt(guide.value, 10);
    var button = form.querySelector("button");
    button.disabled = true;
    call("POST", cfg.urls.member_register, body, { "Idempotency-Key": newKey() }).then(function (res) {
      button.disabled = false;
      if (res.status === 201) { form.reset(); attachMember(res.body); }
      else memberError(errorText(res));
    });
  });

  $("mode").addEventListener("change", function () { show($("delivery-field"), this.value === "delivery"); });

  // --- payment -----------------------------------------------------------------------------------------

  function addTender(method) {
    var node = $("tender-template").content.firstElementChild.cloneNode(true);
    if (method) node.querySelector(".tender-method").value = method;
    $("tenders").appendChild(node);
    renderTenders();
    return node;
  }

  function tenderRows() { return Array.prototype.slice.call($("tenders").querySelectorAll(".pos-tender")); }

  // the last tender pays what the others leave; every other tender needs its amount typed
  function renderTenders() {
    var rows = tenderRows(), total = state.cart.length ? currentTotal() : 0, others = 0;
    rows.forEach(function (row, i) {
      var last = i === rows.length - 1, amount = row.querySelector(".tender-amount");
      var cash = row.querySelector(".tender-method").value === "cash";
      show(row.querySelector(".tender-given"), cash);
      show(row.querySelector(".tender-remove"), rows.length > 1);
      if (last) {
        amount.readOnly = true;
        amount.value = state.cart.length ? yuanText(Math.max(total - others, 0)) : "";
      } else {
        amount.readOnly = false;
        others += parseAmount(amount.value) || 0;
      }
    });
    var change = "";
    rows.forEach(function (row) {
      var given = parseAmount(row.querySelector(".tender-given").value), amount = parseAmount(row.querySelector(".tender-amount").value);
      if (row.querySelector(".tender-method").value === "cash" && given !== null && amount !== null && given > amount) {
        change = msg.change + " " + fmt(given - amount);
      }
    });
    text($("change"), change);
  }

  $("tenders").addEventListener("input", renderTenders);
  $("tenders").addEventListener("change", renderTenders);
  $("tenders").addEventListener("click", function (ev) {
    if (ev.target.closest(".tender-remove")) { ev.target.closest(".pos-tender").remove(); renderTenders(); }
  });
  $("split").addEventListener("click", function () { addTender("card"); });

  // --- coupons and the promotions the server's quote applied ---------------------------------------------

  function renderPromotions() {
    var chips = $("coupon-list"), list = $("promotions-applied"), fresh = quoteFresh();
    chips.textContent = "";
    state.coupons.forEach(function (code) {
      var li = document.createElement("li");
      li.dataset.code = code;
      var why = fresh ? (state.quote.coupons_refused || []).filter(function (c) { return c.code === code; })[0] : null;
      li.className = why ? "refused" : "";
      li.textContent = code + (why ? " · " + why.explanation : "");
      var x = document.createElement("button");
      x.type = "button"; x.className = "link coupon-remove"; x.textContent = "×";
      x.setAttribute("aria-label", msg.remove);
      li.appendChild(x);
      chips.appendChild(li);
    });
    list.textContent = "";
    if (!fresh) return;
    (state.quote.applied || []).forEach(function (a) {
      var li = document.createElement("li");
      li.textContent = a.name + (a.explanation ? " · " + a.explanation : "") + " −" + fmt(a.amount || 0);
      list.appendChild(li);
    });
  }

  $("coupon-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var code = $("coupon-value").value.replace(/\s+/g, "").toUpperCase();
    if (code && state.coupons.indexOf(code) < 0 && state.coupons.length < 5) state.coupons.push(code);
    $("coupon-value").value = "";
    cartChanged();
  });
  $("coupon-list").addEventListener("click", function (ev) {
    var li = ev.target.closest("li[data-code]");
    if (!li || !ev.target.closest(".coupon-remove")) return;
    state.coupons = state.coupons.filter(function (c) { return c !== li.dataset.code; });
    cartChanged();
  });

  function checkoutError(message) { text($("checkout-error"), message || ""); show($("checkout-error"), !!message); }

  function buildPayments(clientRef) {
    var payments = [], total = currentTotal(), sum = 0, problem = null;
    tenderRows().forEach(function (row, i) {
      var method = row.querySelector(".tender-method").value;
      var amount = parseAmount(row.querySelector(".tender-amount").value);
      var givenRaw = row.querySelector(".tender-given").value.trim();
      var given = givenRaw ? parseAmount(givenRaw) : null;
      if (amount === null || amount <= 0) { problem = problem || msg.bad_amount; return; }
      if (givenRaw && given === null) { problem = problem || msg.bad_amount; return; }
      if (method === "cash" && given !== null && given < amount) { problem = problem || msg.cash_short; return; }
      sum += amount;
      var p = { method: method, client_ref: clientRef + "-p" + (i + 1), amount: amount };
      if (method === "cash" && given !== null) p.tendered = given;
      payments.push(p);
    });
    if (!problem && sum !== total) problem = msg.amounts_mismatch;
    return { payments: payments, problem: problem };
  }

  function checkout() {
    checkoutError("");
    if (!state.cart.length) return Promise.resolve();
    // a cart changed a moment ago: wait for the server's price before taking the money
    if (online() && !quoteFresh()) {
      $("checkout").disabled = true;
      return requestQuote().then(function () { $("checkout").disabled = false; return submitSale(); });
    }
    return submitSale();
  }

  function submitSale() {
    var mode = $("mode").value, address = $("delivery").value.trim();
    if (mode === "delivery" && !address) { checkoutError(msg.need_address); return; }
    var clientRef = newKey(), built = buildPayments(clientRef);
    if (built.problem) { checkoutError(built.problem); return; }
    if (state.exchange) {
      if (!online()) { checkoutError(msg.need_network); return; }
      $("checkout").disabled = true;
      return submitReturn(state.cart.map(linePayload), built.payments).then(function (res) {
        $("checkout").disabled = false;
        if (res.status === 200 || res.status === 201) {
          showExchangeResult(res.body);
          endExchange();
          resetSale();
          refreshLookup();
        } else checkoutError(errorText(res));
      });
    }
    var payload = { store_id: storeId, client_ref: clientRef, channel: "pos", mode: mode,
                    lines: state.cart.map(linePayload), payments: built.payments,
                    guide_id: parseInt($("guide").value, 10) || null };
    if (state.coupons.length) payload.coupon_codes = state.coupons.slice();
    if (mode === "delivery") payload.delivery = { address: address };
    if (state.member) {
      if (state.member.id) payload.member_id = state.member.id;
      else if (state.member.kind === "card") payload.member_card = state.member.value;
      else payload.member_phone = state.member.value;
    }
    var entry = {
      store_id: storeId, client_ref: clientRef, payload: payload, provisional: !quoteFresh(),
      provisional_total: currentTotal(),
      summary: state.cart.map(function (l) { return { name: l.name, quantity: qtyText(l) }; })
    };
    var button = $("checkout");
    button.disabled = true;
    var done = function () { button.disabled = !state.cart.length; };
    if (!online()) return enqueue(entry).then(done);
    return call("POST", cfg.urls.orders, payload).then(function (res) {
      if (res.status === 200 || res.status === 201) {
        showReceipt(res.body);
        resetSale();
        refreshLookup();
      } else if (unreachable(res) || res.status === 401) {
        // not booked as far as we know: keep it, with its key, and sync it (a replay returns the same order)
        return enqueue(entry);
      } else {
        checkoutError(errorText(res));
      }
    }).then(done);
  }

  $("checkout").addEventListener("click", checkout);
  $("clear-sale").addEventListener("click", function () { resetSale(); checkoutError(""); });

  function resetSale() {
    state.cart = []; state.quote = null; state.quoteFor = ""; state.coupons = [];
    state.member = null;
    memberCdp(null);
    show($("member-attached"), false); show($("member-form"), true);
    $("member-value").value = ""; memberError("");
    $("delivery").value = "";
    $("tenders").textContent = "";
    addTender("cash");
    renderCart();
    $("scan").focus();
  }

  // --- receipts ----------------------------------------------------------------------------------------

  function receiptUrl(orderId) { return cfg.urls.receipt.replace(/\/0\/receipt\/$/, "/" + orderId + "/receipt/"); }
  function orderUrl(orderId) { return cfg.urls.order_detail.replace(/\/0\/$/, "/" + orderId + "/"); }

  function showReceipt(order) {
    var panel = $("receipt-panel"), body = $("receipt-body");
    panel.dataset.orderId = order.id;
    panel.dataset.clientRef = order.client_ref;
    panel.dataset.state = "booked";
    text($("receipt-title"), msg.order_title + " " + order.number);
    body.textContent = "";
    var table = document.createElement("table");
    table.className = "table";
    order.lines.forEach(function (l) {
      var tr = table.insertRow();
      tr.insertCell().textContent = l.name;
      tr.insertCell().textContent = l.is_weighed ? qtyText({ is_weighed: true, quantity: l.quantity }) : String(l.quantity);
      var c = tr.insertCell(); c.className = "num"; c.textContent = fmt(l.line_total);
    });
    body.appendChild(table);
    var change = order.payments.reduce(function (s, p) { return s + p.change; }, 0);
    var sums = document.createElement("p");
    sums.className = "pos-sums";
    sums.textContent = msg.total + ": " + fmt(order.total) + " · " + msg.paid + ": " + fmt(order.paid_total) +
      (change ? " · " + msg.change + ": " + fmt(change) : "") + (order.due ? " · " + msg.still_due + ": " + fmt(order.due) : "") +
      (order.points_earned ? " · " + order.points_earned + " " + msg.points : "");
    body.appendChild(sums);
    show($("receipt-print"), true);
    show(panel, true);
  }

  function showQueued(entry) {
    var panel = $("receipt-panel"), body = $("receipt-body");
    panel.dataset.orderId = "";
    panel.dataset.clientRef = entry.client_ref;
    panel.dataset.state = "queued";
    text($("receipt-title"), msg.queued_title);
    body.textContent = "";
    var ul = document.createElement("ul");
    entry.summary.forEach(function (l) { var li = document.createElement("li"); li.textContent = l.name + " × " + l.quantity; ul.appendChild(li); });
    body.appendChild(ul);
    var p = document.createElement("p");
    p.textContent = msg.total + ": ≈ " + fmt(entry.provisional_total) + " (" + msg.provisional + ") · " + msg.client_key + ": " + entry.client_ref;
    body.appendChild(p);
    show($("receipt-print"), false);
    show(panel, true);
  }

  $("receipt-print").addEventListener("click", function () {
    var id = $("receipt-panel").dataset.orderId;
    if (id) window.open(receiptUrl(id) + "?print=1", "_blank", "noopener");
  });
  $("next-sale").addEventListener("click", function () { show($("receipt-panel"), false); $("scan").focus(); });

  function refreshLookup() {
    var form = document.querySelector("#lookup-panel form");
    if (window.htmx && form && online()) window.htmx.trigger(form, "submit");
  }

  // --- the offline queue and its sync ------------------------------------------------------------------

  function enqueue(entry) {
    // the time of sale: the order is dated and priced then, however late it syncs
    entry.payload.placed_at = entry.payload.placed_at || new Date().toISOString();
    return PosQueue.add(entry).then(function () {
      showQueued(entry);
      resetSale();
      return renderQueue();
    }).then(function () { if (online()) sync(); });
  }

  function renderQueue() {
    return PosQueue.list(storeId).then(function (rows) {
      var pending = rows.filter(function (r) { return r.status === "pending"; });
      var attention = rows.filter(function (r) { return r.status === "attention"; });
      text($("queue-count"), String(pending.length));
      text($("attention-count"), String(attention.length));
      show($("attention-badge"), attention.length > 0);
      show($("attention-panel"), attention.length > 0);
      var qlist = $("queue-list");
      qlist.textContent = "";
      pending.forEach(function (r) { qlist.appendChild(entryItem(r, false)); });
      var alist = $("attention-list");
      alist.textContent = "";
      attention.forEach(function (r) { alist.appendChild(entryItem(r, true)); });
      return rows;
    });
  }

  function entryItem(r, attention) {
    var li = document.createElement("li");
    li.dataset.clientRef = r.client_ref;
    li.dataset.seq = r.seq;
    var what = document.createElement("span");
    what.textContent = clock(r.queued_at, true) + " · " +
      r.summary.map(function (l) { return l.name + " × " + l.quantity; }).join(", ") + " · ≈ " + fmt(r.provisional_total);
    li.appendChild(what);
    if (attention && r.error) {
      li.dataset.code = r.error.code || "";
      var why = document.createElement("div");
      why.className = "error";
      why.textContent = r.error.message + (r.error.code ? " (" + r.error.code + ")" : "");
      li.appendChild(why);
      var actions = document.createElement("div");
      actions.className = "pos-row";
      if (r.order && r.order.id) {
        var a = document.createElement("a");
        a.href = orderUrl(r.order.id); a.target = "_blank"; a.rel = "noopener";
        a.textContent = msg.order_link + " " + r.order.number;
        actions.appendChild(a);
      } else {
        var retry = document.createElement("button");
        retry.type = "button"; retry.className = "entry-retry"; retry.textContent = msg.retry;
        actions.appendChild(retry);
      }
      if (cfg.may_manage) {
        var dismiss = document.createElement("button");
        dismiss.type = "button"; dismiss.className = "link entry-dismiss"; dismiss.textContent = msg.dismiss;
        actions.appendChild(dismiss);
      }
      li.appendChild(actions);
    }
    return li;
  }

  $("attention-list").addEventListener("click", function (ev) {
    var li = ev.target.closest("li[data-seq]");
    if (!li) return;
    var seq = parseInt(li.dataset.seq, 10);
    if (ev.target.closest(".entry-retry")) {
      PosQueue.get(seq).then(function (e) {
        if (!e) return;
        e.status = "pending"; e.error = null;
        return PosQueue.put(e);
      }).then(renderQueue).then(sync);
    } else if (ev.target.closest(".entry-dismiss") && window.confirm(msg.confirm_dismiss)) {
      PosQueue.remove(seq).then(renderQueue);
    }
  });
  $("queue-toggle").addEventListener("click", function () { $("queue-panel").hidden = !$("queue-panel").hidden; });

  function syncStatus(stateName, label) {
    var el = $("sync-status");
    el.dataset.state = stateName;
    text(el, label || "");
  }

  function syncOnce() {
    return PosQueue.list(storeId).then(function (rows) {
      var pending = rows.filter(function (r) { return r.status === "pending"; });
      if (!pending.length) return "synced";
      syncStatus("syncing", msg.syncing);
      // one at a time, oldest first; stop at the first sign the server is unreachable (keeps the order)
      return pending.reduce(function (chain, entry) {
        return chain.then(function (outcome) {
          if (outcome !== "ok") return outcome;
          return call("POST", cfg.urls.orders, entry.payload).then(function (res) {
            if (unreachable(res)) return "paused";
            if (res.status === 401) return "signin";
            entry.attempts = (entry.attempts || 0) + 1;
            if (res.status === 200 || res.status === 201) {
              var order = res.body;
              var changed = entry.provisional && order.total !== entry.provisional_total;
              if (order.due > 0 || changed) {
                entry.status = "attention";
                entry.order = { id: order.id, number: order.number, total: order.total, due: order.due };
                entry.error = { code: "price_changed", status: res.status,
                                message: msg.price_changed.replace("%(provisional)s", fmt(entry.provisional_total))
                                  .replace("%(total)s", fmt(order.total)) };
                return PosQueue.put(entry).then(function () { return "ok"; });
              }
              if ($("receipt-panel").dataset.clientRef === entry.client_ref) showReceipt(order);
              return PosQueue.remove(entry.seq).then(function () { return "ok"; });
            }
            var err = res.body && res.body.error ? res.body.error : {};
            entry.status = "attention";
            entry.error = { code: err.code || String(res.status), status: res.status, message: errorText(res),
                            details: err.details || {} };
            return PosQueue.put(entry).then(function () { return "ok"; });
          });
        });
      }, Promise.resolve("ok")).then(function (outcome) { return outcome === "ok" ? "synced" : outcome; });
    });
  }

  function sync() {
    if (state.syncing || !navigator.onLine) return Promise.resolve();
    state.syncing = true;
    var run = function () { return syncOnce(); };
    var job = navigator.locks ? navigator.locks.request("yundian-pos-sync-" + storeId, run) : run();
    return job.then(function (outcome) {
      if (outcome === "synced") syncStatus("synced", msg.synced);
      else if (outcome === "signin") syncStatus("signin", msg.signin);
      else syncStatus("paused", msg.sync_paused);
      if (outcome === "synced") refreshLookup();
    }, function () { syncStatus("paused", msg.sync_paused); })
      .then(function () { state.syncing = false; return renderQueue(); });
  }

  window.addEventListener("online", function () {
    state.reachable = true;
    renderNet();
    loadSnapshot().then(function () { requestQuote(); });
    sync();
  });
  window.addEventListener("offline", function () { renderNet(); renderTotals(); });
  setInterval(function () {
    if (!navigator.onLine) return;
    if (state.reachable) { sync(); return; }
    // is the server back? any HTTP answer says yes (the service worker passes HEAD requests through)
    fetch(cfg.urls.snapshot, { method: "HEAD", credentials: "same-origin" }).then(function () {
      setReachable(true);
      sync();
      requestQuote();
    }, function () { setReachable(false); });
  }, 15000);
  setInterval(function () { if (online()) loadSnapshot(); }, 300000);

  // --- service worker: the shell and the snapshot stay available offline --------------------------------

  function warmServiceWorker() {
    if (!("serviceWorker" in navigator)) return Promise.resolve(false);
    return navigator.serviceWorker.register(cfg.urls.sw, { scope: cfg.urls.scope })
      .then(function () { return navigator.serviceWorker.ready; })
      .then(function (reg) {
        var urls = [cfg.urls.page, cfg.urls.snapshot];
        document.querySelectorAll("script[src], link[rel=stylesheet][href]").forEach(function (el) {
          var u = new URL(el.src || el.href, location.href);
          if (u.origin === location.origin) urls.push(u.pathname + u.search);
        });
        return new Promise(function (resolve) {
          var channel = new MessageChannel();
          channel.port1.onmessage = function (ev) { resolve(ev.data && ev.data.ok); };
          reg.active.postMessage({ type: "warm", urls: urls }, [channel.port2]);
        });
      })
      .catch(function () { return false; });
  }

  // --- start -------------------------------------------------------------------------------------------

  addTender("cash");
  renderNet();
  renderCart();
  renderParked();
  Promise.all([loadSnapshot(), renderQueue()]).then(function () {
    root.dataset.ready = "1";
    if (online()) sync();
  });
  warmServiceWorker().then(function (ok) { root.dataset.offlineReady = ok ? "1" : "0"; });
})();
