/* The segment builder (cdp/partials/segment_builder_form.html): nested AND/OR groups of condition rows, each chosen
 * from translated words and searchable pickers, turned into the JSON tree of cdp.conditions. While editing, the tree
 * is counted by the warehouse (debounced); "Preview members" loads the newest matching members (phones masked per
 * role). The vocabulary (words, tiers, tags, campaigns, event kinds, picker addresses, names of chosen ids) comes
 * from the page as JSON; nothing here knows a code a person would have to read. */
(function () {
  "use strict";
  var form = document.querySelector("[data-segment-form]");
  if (!form) return;
  var V = JSON.parse(document.getElementById("segment-vocabulary").textContent);
  var W = V.words;
  var root = form.querySelector("[data-builder]");
  var uid = 0;

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else if (k === "className") node.className = attrs[k];
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) node.append(c); });
    return node;
  }
  function select(param, options, value, attrs) {
    var s = el("select", Object.assign({"data-param": param}, attrs || {}));
    options.forEach(function (o) {
      var opt = el("option", {value: String(o.key), text: o.label});
      if (String(o.key) === String(value)) opt.selected = true;
      s.append(opt);
    });
    return s;
  }
  function number(param, value, attrs) {
    var input = el("input", Object.assign({type: "number", min: "0", step: "1", "data-param": param, inputmode: "numeric"}, attrs || {}));
    if (value !== null && value !== undefined) input.value = value;
    return input;
  }
  function checks(param, options, chosen, type) {
    var box = el("span", {className: "seg-checks", "data-param": param, "data-type": type || "int-list"});
    options.forEach(function (o) {
      var c = el("input", {type: "checkbox", value: String(o.key)});
      if ((chosen || []).map(String).indexOf(String(o.key)) !== -1) c.checked = true;
      box.append(el("label", {}, [c, " " + o.label]));
    });
    return box;
  }
  function picker(param, kind, chosen) {
    // the markup of web/widgets/picker.html; web/picker.js handles choosing, htmx the search
    var id = "seg-pick-" + (++uid);
    var list = el("ul", {className: "picker-list", id: id + "-list", role: "listbox", hidden: ""});
    var input = el("input", {type: "search", className: "picker-q", id: id, name: "q", role: "combobox",
      "aria-autocomplete": "list", "aria-expanded": "false", "aria-controls": id + "-list", autocomplete: "off",
      "hx-get": V.pickers[kind].url, "hx-trigger": "input changed delay:200ms, focus", "hx-target": "#" + id + "-list",
      "hx-sync": "this:replace", form: "picker-search-only"});
    var chips = el("ul", {className: "picker-chosen"});
    (chosen || []).forEach(function (cid) {
      var known = (V.labels[kind] || {})[cid] || {label: "#" + cid, code: ""};
      chips.append(el("li", {className: "chip", "data-id": String(cid)}, [
        el("span", {className: "chip-label", text: known.label}), " ", el("code", {text: known.code}),
        el("input", {type: "hidden", name: "_" + id, value: String(cid)}),
        el("button", {type: "button", className: "chip-x", "aria-label": W.remove + " " + known.label, text: "×"})]));
    });
    var box = el("div", {className: "picker", "data-picker": "", "data-name": "_" + id, "data-multiple": "",
      "data-param": param, "data-type": "picker", "data-remove-label": W.remove}, [chips, input, list]);
    if (window.htmx) window.htmx.process(box);
    return box;
  }
  function opValue(node) {
    return [select("op", V.ops, node.op || ">="), number("value", node.value === undefined ? 1 : node.value)];
  }
  function days(node) {
    return [el("span", {text: W.within}), number("days", node.days, {min: "1", placeholder: W.ever, "aria-label": W.days}),
            el("span", {text: W.days})];
  }
  function yuan(node) {
    var input = el("input", {type: "number", min: "0", step: "0.01", "data-param": "value", "data-type": "money",
      inputmode: "decimal"});
    input.value = node.value === undefined ? "" : (node.value / Math.pow(10, V.money.minor)).toFixed(V.money.minor);
    return input;
  }

  var PARAMS = {
    tier: function (n) { return [checks("in", V.tiers, n["in"])]; },
    birthday_month: function (n) { return [checks("in", V.months, n["in"])]; },
    home_store: function (n) { return [picker("in", "store", n["in"])]; },
    guide: function (n) { return [picker("in", "staff", n["in"])]; },
    registered_via: function (n) { return [checks("in", V.registered_via, n["in"], "str-list")]; },
    gender: function (n) { return [checks("in", V.genders, n["in"], "str-list")]; },
    tag: function (n) {
      return [select("has", [{key: "true", label: W.has}, {key: "false", label: W.hasNot}], n.has === false ? "false" : "true",
                     {"data-type": "bool"}), select("tag_id", V.tags, n.tag_id, {"data-type": "int"})];
    },
    orders: function (n) {
      var measure = select("measure", [{key: "spent", label: W.spent}, {key: "count", label: W.count}], n.measure || "spent");
      var value = (n.measure || "spent") === "spent" ? yuan(n) : number("value", n.value === undefined ? 1 : n.value);
      measure.addEventListener("change", function () {
        var fresh = measure.value === "spent" ? yuan({value: 0}) : number("value", 1);
        value.replaceWith(fresh); value = fresh;
      });
      return [measure, select("op", V.ops, n.op || ">="), value].concat(days(n)).concat([
        el("span", {className: "seg-sub"}, [el("span", {text: W.inCategories}), picker("category_ids", "category", n.category_ids)]),
        el("span", {className: "seg-sub"}, [el("span", {text: W.ofSkus}), picker("sku_ids", "sku", n.sku_ids)]),
        el("span", {className: "seg-sub"}, [el("span", {text: W.throughChannels}),
                                            checks("channels", V.order_channels, n.channels, "str-list")])]);
    },
    event: function (n) {
      return [select("did", [{key: "true", label: W.did}, {key: "false", label: W.didNot}], n.did === false ? "false" : "true",
                     {"data-type": "bool"}), select("event", V.events, n.event || "add_to_cart"),
              select("op_fixed", [{key: ">=", label: V.ops[0].label}], ">=", {disabled: ""}),
              number("min_times", n.min_times || 1, {min: "1"}), el("span", {text: W.times})].concat(days(n));
    },
    points: function (n) { return opValue(n); },
    coupons: function (n) {
      return opValue(n).concat([el("span", {className: "seg-sub"}, [el("span", {text: W.anyCampaign}),
        checks("campaign_ids", V.campaigns, n.campaign_ids)])]);
    },
    consent: function (n) {
      return [select("channel", V.consent, n.channel || "sms"),
              select("granted", [{key: "true", label: W.granted}, {key: "false", label: W.notGranted}],
                     n.granted === false ? "false" : "true", {"data-type": "bool"})];
    }
  };

  function row(node) {
    var kind = node.kind || "tier";
    var params = el("span", {className: "seg-params"}, PARAMS[kind](node));
    var kindSelect = select("kind", V.kinds, kind, {"aria-label": W.addCondition});
    var remove = el("button", {type: "button", className: "link seg-remove", "aria-label": W.remove, text: "×"});
    var r = el("div", {className: "seg-row", "data-row": ""}, [kindSelect, params, remove]);
    kindSelect.addEventListener("change", function () {
      params.replaceChildren.apply(params, PARAMS[kindSelect.value]({}));
    });
    remove.addEventListener("click", function () { r.remove(); changed(); });
    return r;
  }

  function group(node, isRoot) {
    var op = select("group", [{key: "and", label: W.and}, {key: "or", label: W.or}], node.group || "and");
    var body = el("div", {className: "seg-children"});
    (node.conditions || []).forEach(function (c) { body.append(c.group ? group(c, false) : row(c)); });
    var addRow = el("button", {type: "button", text: "+ " + W.addCondition, "data-testid": "segment-add-condition"});
    var addGroup = el("button", {type: "button", text: "+ " + W.addGroup});
    var head = el("div", {className: "seg-group-head"}, [op]);
    if (!isRoot) {
      var remove = el("button", {type: "button", className: "link seg-remove", "aria-label": W.remove, text: "×"});
      head.append(remove);
    }
    var g = el("div", {className: "seg-group", "data-group": ""}, [head, body, el("div", {className: "seg-add"}, [addRow, addGroup])]);
    addRow.addEventListener("click", function () { body.append(row({kind: "tier"})); changed(); });
    addGroup.addEventListener("click", function () { body.append(group({group: "or", conditions: [{kind: "tier"}]}, false)); changed(); });
    if (remove) remove.addEventListener("click", function () { g.remove(); changed(); });
    return g;
  }

  function readParam(p) {
    var type = p.getAttribute("data-type");
    if (type === "picker") {
      return Array.prototype.map.call(p.querySelectorAll(".chip"), function (c) { return parseInt(c.dataset.id, 10); });
    }
    if (type === "int-list" || type === "str-list") {
      return Array.prototype.filter.call(p.querySelectorAll("input:checked"), function () { return true; })
        .map(function (c) { return type === "int-list" ? parseInt(c.value, 10) : c.value; });
    }
    if (type === "bool") return p.value === "true";
    if (type === "int") return p.value === "" ? null : parseInt(p.value, 10);
    if (type === "money") return p.value === "" ? null : Math.round(parseFloat(p.value) * Math.pow(10, V.money.minor));
    if (p.type === "number") {
      if (p.value === "") return p.getAttribute("data-param") === "days" ? null : undefined;
      return Number(p.value);
    }
    return p.value;
  }

  function serialize(node) {
    if (node.hasAttribute("data-group")) {
      var children = Array.prototype.filter.call(node.querySelector(".seg-children").children, function (c) {
        return c.hasAttribute("data-group") || c.hasAttribute("data-row");
      });
      return {group: node.querySelector(".seg-group-head [data-param=group]").value, conditions: children.map(serialize)};
    }
    var out = {kind: node.querySelector("[data-param=kind]").value};
    Array.prototype.forEach.call(node.querySelectorAll(".seg-params [data-param]"), function (p) {
      var name = p.getAttribute("data-param");
      if (name === "op_fixed" || p.closest(".seg-params") !== node.querySelector(".seg-params")) return;
      var value = readParam(p);
      if (value !== undefined) out[name] = value;
    });
    if (out.kind === "tag" || out.kind === "orders") {  // empty optional lists are left out
      ["category_ids", "sku_ids", "channels"].forEach(function (k) { if (out[k] && !out[k].length) delete out[k]; });
    }
    if (out.kind === "coupons" && out.campaign_ids && !out.campaign_ids.length) delete out.campaign_ids;
    return out;
  }

  function tree() { return serialize(root.firstElementChild); }

  function nodeId() {
    var chosen = form.querySelector(".seg-node .chip");
    if (chosen) return parseInt(chosen.dataset.id, 10);
    return form.dataset.nodeId ? parseInt(form.dataset.nodeId, 10) : null;
  }

  function csrf() { return form.querySelector("[name=csrfmiddlewaretoken]").value; }

  function post(url, accept) {
    return fetch(url, {method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrf(), "Accept": accept},
      body: JSON.stringify({definition: tree(), node_id: nodeId()})});
  }

  var countBox = form.querySelector("[data-live-count]");
  var errorBox = form.querySelector("[data-live-error]");
  var timer = null, sent = 0;
  function count() {
    var mine = ++sent;
    countBox.textContent = W.counting;
    errorBox.textContent = "";
    form.querySelectorAll(".seg-bad").forEach(function (n) { n.classList.remove("seg-bad"); });
    post(form.dataset.countUrl, "application/json").then(function (r) { return r.json(); }).then(function (body) {
      if (mine !== sent) return;  // an older answer arriving late
      if (body.error) {
        countBox.textContent = "–";
        errorBox.textContent = body.error.message;
        mark(body.error.details && body.error.details.path);
      } else {
        countBox.textContent = body.count.toLocaleString();
      }
    }).catch(function () { if (mine === sent) { countBox.textContent = "–"; errorBox.textContent = W.failed; } });
  }
  function mark(path) {  // "$.conditions[1].conditions[0].value" -> that row, outlined
    if (!path) return;
    var node = root.firstElementChild, parts = path.match(/conditions\[\d+\]/g) || [];
    parts.forEach(function (p) {
      var i = parseInt(p.match(/\d+/)[0], 10);
      var kids = node && node.querySelector(".seg-children") ? Array.prototype.filter.call(
        node.querySelector(".seg-children").children, function (c) { return c.hasAttribute("data-group") || c.hasAttribute("data-row"); }) : [];
      node = kids[i] || node;
    });
    if (node) node.classList.add("seg-bad");
  }
  function changed() {
    clearTimeout(timer);
    timer = setTimeout(count, 400);
  }

  root.append(group(JSON.parse(document.getElementById("segment-definition").textContent), true));
  if (!root.querySelector("[data-row]")) root.querySelector(".seg-children").append(row({kind: "tier"}));
  form.addEventListener("input", function (e) { if (!e.target.classList.contains("picker-q")) changed(); });
  form.addEventListener("change", function (e) { if (!e.target.classList || !e.target.classList.contains("picker-q")) changed(); });
  form.addEventListener("click", function (e) {
    if (e.target.classList && e.target.classList.contains("chip-x")) setTimeout(changed, 0);
  });
  form.querySelector("[data-preview]").addEventListener("click", function () {
    var box = form.querySelector("[data-preview-box]");
    post(form.dataset.previewUrl, "text/html").then(function (r) { return r.text(); }).then(function (html) {
      box.innerHTML = html;
    });
  });
  form.addEventListener("submit", function () {
    form.querySelector("[name=definition]").value = JSON.stringify(tree());
  });
  count();
})();
