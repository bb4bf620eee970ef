// The journey canvas: drawflow (npm, vendor/drawflow) holds the boxes and wires; this file turns them into the
// graph the server stores and back ({"nodes": [{id, kind, config, x, y}], "edges": [{source, port, target}]}),
// fills the side panel for the selected node (server-rendered, with real pickers) and writes the panel back into
// the node's config, asks the server to validate (errors shown on the offending node), saves the draft and
// publishes. A node's `id` ("n3") lives in its drawflow data, so it survives reloads and results find it again.
(function () {
  "use strict";
  var root = document.querySelector("[data-journey-canvas]");
  if (!root) return;
  var palette = JSON.parse(document.getElementById("journey-palette").textContent);
  var initial = JSON.parse(document.getElementById("journey-graph").textContent);
  var summaries = JSON.parse(document.getElementById("journey-summaries").textContent);
  var readOnly = root.hasAttribute("data-readonly");
  var box = root.querySelector(".jc-drawflow");
  var panel = document.getElementById("jc-panel");
  var status = document.getElementById("jc-status");
  var csrf = root.dataset.csrf;
  var selected = null; // drawflow id of the node in the panel

  if (typeof window.Drawflow !== "function") {
    root.classList.add("jc-missing");
    return;
  }
  var editor = new window.Drawflow(box);
  editor.reroute = false;
  editor.force_first_input = false;
  editor.zoom_min = 0.4;
  editor.start();
  if (readOnly) editor.editor_mode = "fixed";

  function kindOf(k) { return palette.kinds[k]; }
  function portsOf(kind, config) {
    if (kind === "split") {
      var arms = (config && config.weights && config.weights.length) ? config.weights.length : 2;
      var ports = palette.letters.slice(0, arms).split("");
      return config && config.holdout > 0 ? ports.concat(["holdout"]) : ports;
    }
    return kindOf(kind).ports.slice();
  }
  function escapeHtml(text) {
    return String(text == null ? "" : text).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c];
    });
  }
  function nodeHtml(kind, summary) {
    var k = kindOf(kind);
    return '<div class="jn" data-kind="' + kind + '"><div class="jn-head"><svg class="icon" viewBox="0 0 24 24" aria-hidden="true"><path d="' +
      k.icon + '"/></svg><span class="jn-title">' + escapeHtml(k.label) + '</span></div><div class="jn-summary">' +
      escapeHtml(summary || "") + '</div><div class="jn-badges" hidden></div><div class="jn-error" hidden></div></div>';
  }
  function elementOf(dfId) { return document.getElementById("node-" + dfId); }
  function labelPorts(dfId) {
    var node = editor.getNodeFromId(dfId), ports = portsOf(node.data.kind, node.data.config);
    var outs = elementOf(dfId).querySelectorAll(".outputs .output");
    Array.prototype.forEach.call(outs, function (out, i) {
      var port = ports[i] || "";
      out.dataset.port = port;
      var label = palette.portLabels[port] !== undefined ? palette.portLabels[port] : port.toUpperCase();
      out.dataset.label = label;
      out.title = label;
    });
    elementOf(dfId).dataset.gid = node.data.gid;
  }
  function nextGid() {
    var highest = 0;
    var data = editor.export().drawflow.Home.data;
    Object.keys(data).forEach(function (k) {
      var m = /^n(\d+)$/.exec(data[k].data.gid || "");
      if (m) highest = Math.max(highest, parseInt(m[1], 10));
    });
    return "n" + (highest + 1);
  }
  function addNode(kind, config, x, y, gid, summary) {
    var k = kindOf(kind);
    var ports = portsOf(kind, config);
    var data = {gid: gid || nextGid(), kind: kind, config: config};
    var id = editor.addNode(kind, k.inputs, ports.length, x, y, "jk-" + kind, data, nodeHtml(kind, summary));
    labelPorts(id);
    return id;
  }
  function dfIdByGid() {
    var out = {}, data = editor.export().drawflow.Home.data;
    Object.keys(data).forEach(function (k) { out[data[k].data.gid] = parseInt(k, 10); });
    return out;
  }

  // --- the graph <-> drawflow ---------------------------------------------------------------------------------
  function load(graph) {
    loading = true;
    editor.clear();
    (graph.nodes || []).forEach(function (n) {
      addNode(n.kind, n.config || {}, n.x || 0, n.y || 0, n.id, summaries[n.id]);
    });
    var ids = dfIdByGid();
    (graph.edges || []).forEach(function (e) {
      var source = ids[e.source], target = ids[e.target];
      if (source === undefined || target === undefined) return;
      var node = editor.getNodeFromId(source);
      var index = portsOf(node.data.kind, node.data.config).indexOf(e.port);
      if (index < 0) return;
      editor.addConnection(source, target, "output_" + (index + 1), "input_1");
    });
    loading = false;
  }
  // the whole graph in view: zoomed out (never in) and moved so every node shows, with a margin
  function fit() {
    var nodes = box.querySelectorAll(".drawflow-node");
    if (!nodes.length) return;
    var minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
    var data = editor.export().drawflow.Home.data;
    Object.keys(data).forEach(function (k) {
      var el = elementOf(k), n = data[k];
      minX = Math.min(minX, n.pos_x); minY = Math.min(minY, n.pos_y);
      maxX = Math.max(maxX, n.pos_x + el.offsetWidth + 60); maxY = Math.max(maxY, n.pos_y + el.offsetHeight);
    });
    var pad = 24, width = box.clientWidth - 2 * pad, height = box.clientHeight - 2 * pad;
    var zoom = Math.max(0.75, Math.min(1, width / (maxX - minX), height / (maxY - minY)));
    editor.zoom = zoom;
    // drawflow scales around the canvas's centre: shift so the graph's top left lands at the margin
    var cx = box.clientWidth / 2, cy = box.clientHeight / 2;
    editor.canvas_x = pad - (minX - cx) * zoom - cx;
    editor.canvas_y = pad - (minY - cy) * zoom - cy;
    editor.zoom_last_value = zoom;
    editor.precanvas.style.transform = "translate(" + editor.canvas_x + "px, " + editor.canvas_y + "px) scale(" + zoom + ")";
  }
  function serialise() {
    var data = editor.export().drawflow.Home.data, nodes = [], edges = [];
    var keys = Object.keys(data).sort(function (a, b) { return parseInt(a, 10) - parseInt(b, 10); });
    keys.forEach(function (k) {
      var n = data[k];
      nodes.push({id: n.data.gid, kind: n.data.kind, config: n.data.config || {},
                  x: Math.round(n.pos_x), y: Math.round(n.pos_y)});
      var ports = portsOf(n.data.kind, n.data.config);
      Object.keys(n.outputs).sort().forEach(function (out) {
        var port = ports[parseInt(out.replace("output_", ""), 10) - 1];
        n.outputs[out].connections.forEach(function (c) {
          edges.push({source: n.data.gid, port: port, target: data[c.node].data.gid});
        });
      });
    });
    return {nodes: nodes, edges: edges};
  }
  window.journeyCanvas = {serialise: serialise, load: load, editor: editor};

  // a split whose number of arms changed: the node is drawn again with its ports, its wires kept by port name
  function rebuildPorts(dfId) {
    var node = editor.getNodeFromId(dfId);
    var ports = portsOf(node.data.kind, node.data.config);
    var have = Object.keys(node.outputs).length;
    if (have === ports.length) { labelPorts(dfId); return; }
    var graph = serialise();
    load(graph);
    selected = dfIdByGid()[node.data.gid];
    elementOf(selected).classList.add("selected");
    var wires = panel.querySelector(".jp-wires");
    if (wires) wires.remove();
    wiresPanel(selected);
  }

  // --- the palette: drag a kind onto the canvas (or press it: it lands in the middle of the view) --------------
  function dropPosition(clientX, clientY) {
    var rect = editor.precanvas.getBoundingClientRect();
    return {x: (clientX - rect.x) / editor.zoom, y: (clientY - rect.y) / editor.zoom};
  }
  document.querySelectorAll("[data-palette-kind]").forEach(function (item) {
    item.addEventListener("dragstart", function (e) {
      e.dataTransfer.setData("text/plain", item.dataset.paletteKind);
      e.dataTransfer.effectAllowed = "copy";
    });
    item.addEventListener("click", function () {
      var rect = box.getBoundingClientRect();
      var at = dropPosition(rect.x + rect.width / 2 - 90, rect.y + rect.height / 3);
      var id = addNode(item.dataset.paletteKind, JSON.parse(JSON.stringify(kindOf(item.dataset.paletteKind).config)), at.x, at.y);
      dirty();
      select(id);
    });
  });
  box.addEventListener("dragover", function (e) { if (!readOnly) { e.preventDefault(); e.dataTransfer.dropEffect = "copy"; } });
  box.addEventListener("drop", function (e) {
    if (readOnly) return;
    e.preventDefault();
    var kind = e.dataTransfer.getData("text/plain");
    if (!palette.kinds[kind]) return;
    var at = dropPosition(e.clientX, e.clientY);
    var id = addNode(kind, JSON.parse(JSON.stringify(kindOf(kind).config)), at.x - 80, at.y - 20);
    dirty();
    select(id);
  });

  // --- the side panel -------------------------------------------------------------------------------------------
  function post(url, body) {
    return fetch(url, {method: "POST", credentials: "same-origin", body: JSON.stringify(body),
                       headers: {"Content-Type": "application/json", "X-CSRFToken": csrf, "Accept": "application/json"}});
  }
  function select(dfId) {
    selected = dfId;
    var node = editor.getNodeFromId(dfId);
    panel.setAttribute("aria-busy", "true");
    post(root.dataset.panelUrl, {kind: node.data.kind, config: node.data.config || {}, id: node.data.gid, readonly: readOnly})
      .then(function (r) { return r.text(); })
      .then(function (html) {
        if (selected !== dfId) return;
        panel.innerHTML = html;
        panel.removeAttribute("aria-busy");
        if (window.htmx) window.htmx.process(panel);
        applyWhen();
        if (!readOnly) wiresPanel(dfId);
        var error = elementOf(dfId).dataset.error;
        var slot = panel.querySelector("[data-node-error]");
        if (slot && error) { slot.textContent = error; slot.hidden = false; }
      });
  }
  // the wires of the selected node as selects (a keyboard or touch alternative to dragging from a port)
  function nodeTitle(dfId) {
    var el = elementOf(dfId);
    var summary = el.querySelector(".jn-summary").textContent;
    return el.querySelector(".jn-title").textContent + (summary ? " · " + summary : "") + " (" + el.dataset.gid + ")";
  }
  function wiresPanel(dfId) {
    var node = editor.getNodeFromId(dfId), ports = portsOf(node.data.kind, node.data.config);
    if (!ports.length) return;
    var box = document.createElement("fieldset");
    box.className = "jp-wires";
    box.innerHTML = "<legend>" + escapeHtml(root.dataset.wordWires) + "</legend>";
    var data = editor.export().drawflow.Home.data;
    ports.forEach(function (port, i) {
      var out = "output_" + (i + 1), current = (node.outputs[out] || {connections: []}).connections[0];
      var label = document.createElement("label");
      label.className = "jf";
      var name = palette.portLabels[port] !== undefined ? palette.portLabels[port] : port.toUpperCase();
      label.innerHTML = '<span class="jf-label">' + escapeHtml(name || root.dataset.wordNext) + "</span>";
      var select = document.createElement("select");
      select.dataset.wirePort = port;
      select.add(new Option("—", ""));
      Object.keys(data).forEach(function (k) {
        if (String(k) === String(dfId) || data[k].data.kind === "entry") return;
        var selectedNow = current && String(current.node) === String(k);
        select.add(new Option(nodeTitle(k), data[k].data.gid, selectedNow, selectedNow));
      });
      select.addEventListener("change", function (e) {
        e.stopPropagation();
        var wires = editor.getNodeFromId(dfId).outputs[out].connections.slice();
        wires.forEach(function (w) { editor.removeSingleConnection(dfId, w.node, out, w.output); });
        if (select.value) editor.addConnection(dfId, dfIdByGid()[select.value], out, "input_1");
        dirty();
      });
      label.appendChild(select);
      box.appendChild(label);
    });
    panel.querySelector(".jp").appendChild(box);
  }
  function applyWhen() {
    panel.querySelectorAll("[data-when-key]").forEach(function (f) {
      var other = panel.querySelector("[data-key='" + f.dataset.whenKey + "'] select");
      var values = f.dataset.whenValues.split(",");
      f.hidden = !other || other.closest("[data-key]").hidden || values.indexOf(other.value) < 0;
    });
  }
  function fieldValue(f) {
    var type = f.dataset.type;
    if (type === "choice" || type === "time" || type === "datetime") return f.querySelector("select, input").value;
    if (type === "bool") return f.querySelector("select").value === "true";
    if (type === "text" || type === "url") return f.querySelector("input").value.trim();
    if (type === "int") { var v = f.querySelector("input").value; return v === "" ? null : parseInt(v, 10); }
    if (type === "duration") { var a = f.querySelector("input").value; return a === "" ? null : parseInt(a, 10); }
    if (type === "arms") {
      return Array.prototype.map.call(f.querySelectorAll("input[type=number]"), function (i) { return parseInt(i.value || "0", 10); });
    }
    if (type === "picker") {
      var ids = Array.prototype.map.call(f.querySelectorAll(".chip input[type=hidden]"), function (i) { return parseInt(i.value, 10); });
      return f.hasAttribute("data-multiple") ? ids : (ids.length ? ids[0] : null);
    }
    return null;
  }
  function fieldText(f) {
    var type = f.dataset.type, label = f.querySelector(".jf-label").textContent.trim();
    if (type === "choice" || type === "bool") { var s = f.querySelector("select"); return s.options[s.selectedIndex] ? s.options[s.selectedIndex].text : ""; }
    if (type === "duration") { var u = f.querySelector("select"); return label + " " + f.querySelector("input").value + " " + u.options[u.selectedIndex].text; }
    if (type === "picker") return Array.prototype.map.call(f.querySelectorAll(".chip-label"), function (c) { return c.textContent; }).join(", ");
    if (type === "arms") return fieldValue(f).join(" / ");
    var input = f.querySelector("input");
    return input && input.value !== "" ? label + " " + input.value : "";
  }
  function put(config, key, value) {
    var parts = key.split("."), at = config;
    parts.slice(0, -1).forEach(function (p) { if (typeof at[p] !== "object" || at[p] === null) at[p] = {}; at = at[p]; });
    at[parts[parts.length - 1]] = value;
  }
  function readPanel() {
    if (selected === null || readOnly) return;
    applyWhen();
    var config = {}, texts = [];
    panel.querySelectorAll("[data-key]").forEach(function (f) {
      if (f.hidden) return;
      put(config, f.dataset.key, fieldValue(f));
      if (f.dataset.type === "duration") config.unit = f.querySelector("select").value;
      var t = fieldText(f); if (t) texts.push(t);
    });
    var node = editor.getNodeFromId(selected);
    editor.updateNodeDataFromId(selected, {gid: node.data.gid, kind: node.data.kind, config: config});
    var summary = texts.slice(0, 3).join(" · ");
    summaries[node.data.gid] = summary;
    elementOf(selected).querySelector(".jn-summary").textContent = summary;
    clearError(selected);
    if (node.data.kind === "split") rebuildPorts(selected);
    dirty();
  }
  panel.addEventListener("change", readPanel);
  panel.addEventListener("input", function (e) { if (!e.target.classList.contains("picker-q")) readPanel(); });
  panel.addEventListener("click", function (e) {
    var add = e.target.closest("[data-arm-add]"), remove = e.target.closest("[data-arm-remove]");
    if (!add && !remove) return;
    var list = panel.querySelector("[data-arms]");
    if (add && list.children.length < palette.letters.length) {
      var row = list.lastElementChild.cloneNode(true);
      row.querySelector("input").value = "10";
      list.appendChild(row);
    } else if (remove && list.children.length > 2) {
      remove.closest("li").remove();
    }
    Array.prototype.forEach.call(list.children, function (li, i) { li.querySelector(".arm-letter").textContent = palette.letters[i].toUpperCase(); });
    readPanel();
  });

  editor.on("nodeSelected", function (id) { select(parseInt(id, 10)); });
  editor.on("nodeUnselected", function () { selected = null; panel.innerHTML = panel.dataset.empty; });
  ["nodeRemoved", "connectionCreated", "connectionRemoved", "nodeMoved"].forEach(function (event) {
    editor.on(event, function () { dirty(); });
  });
  // a wire from an output that already has one replaces it: each port leads to one next step
  editor.on("connectionCreated", function (c) {
    var node = editor.getNodeFromId(c.output_id);
    var wires = node.outputs[c.output_class].connections;
    if (wires.length > 1) {
      wires.slice(0, -1).forEach(function (w) { editor.removeSingleConnection(c.output_id, w.node, c.output_class, w.output); });
    }
  });

  // --- validate, save, publish ----------------------------------------------------------------------------------
  var changed = false, loading = false;
  function dirty() {
    if (loading) return;
    changed = true;
    if (status) { status.textContent = status.dataset.unsaved; status.dataset.state = "unsaved"; }
  }
  function clearError(dfId) {
    var el = elementOf(dfId);
    if (!el) return;
    el.classList.remove("jn-invalid");
    delete el.dataset.error;
    var slot = el.querySelector(".jn-error"); slot.hidden = true; slot.textContent = "";
  }
  function showErrors(errors) {
    var ids = dfIdByGid(), list = document.getElementById("jc-errors");
    Object.keys(ids).forEach(function (gid) { clearError(ids[gid]); });
    list.innerHTML = "";
    (errors || []).forEach(function (err) {
      var li = document.createElement("li");
      li.textContent = err.message;
      li.dataset.code = err.code || "";
      if (err.node && ids[err.node] !== undefined) {
        var el = elementOf(ids[err.node]);
        el.classList.add("jn-invalid");
        el.dataset.error = err.message;
        var slot = el.querySelector(".jn-error");
        slot.textContent = (slot.textContent ? slot.textContent + " " : "") + err.message;
        slot.hidden = false;
        li.dataset.node = err.node;
        li.tabIndex = 0;
        li.addEventListener("click", function () { select(ids[err.node]); });
      }
      list.appendChild(li);
    });
    list.hidden = !errors || !errors.length;
  }
  var nameInput = document.getElementById("jc-name");
  if (nameInput) nameInput.addEventListener("input", dirty);
  function call(url) {
    var body = {graph: serialise()};
    if (nameInput) body.name = nameInput.value;
    return post(url, body).then(function (r) {
      return r.json().then(function (body) { body.httpStatus = r.status; return body; });
    });
  }
  function validate() {
    return call(root.dataset.validateUrl).then(function (body) {
      showErrors(body.errors);
      if (status) {
        status.textContent = body.errors && body.errors.length ? status.dataset.invalid : status.dataset.valid;
        status.dataset.state = body.errors && body.errors.length ? "invalid" : "valid";
      }
      return body;
    });
  }
  function save() {
    return call(root.dataset.saveUrl).then(function (body) {
      if (body.httpStatus >= 400) {
        showErrors(body.errors || [{message: body.message, code: body.code}]);
        if (status) { status.textContent = body.message || status.dataset.invalid; status.dataset.state = "invalid"; }
        return body;
      }
      changed = false;
      showErrors(body.errors || []);
      if (status) { status.textContent = status.dataset.saved; status.dataset.state = "saved"; }
      return body;
    });
  }
  function on(selector, handler) {
    var el = document.querySelector(selector);
    if (el) el.addEventListener("click", handler);
  }
  on("[data-action=validate]", function () { validate(); });
  on("[data-action=save]", function () { save(); });
  on("[data-action=publish]", function () {
    save().then(function (body) {
      if (body.httpStatus >= 400) return;
      return validate().then(function (checked) {
        if (checked.errors && checked.errors.length) return;
        document.getElementById("jc-publish-dialog").showModal();
      });
    });
  });
  on("[data-action=zoom-in]", function () { editor.zoom_in(); });
  on("[data-action=zoom-out]", function () { editor.zoom_out(); });
  on("[data-action=zoom-reset]", function () { fit(); });
  window.addEventListener("beforeunload", function (e) { if (changed && !readOnly) { e.preventDefault(); e.returnValue = ""; } });
  document.querySelectorAll("form[data-leaves]").forEach(function (f) { f.addEventListener("submit", function () { changed = false; }); });

  // --- results on the canvas: a badge row per node ----------------------------------------------------------------
  function drawResults(results) {
    var ids = dfIdByGid();
    Object.keys(results.nodes || {}).forEach(function (gid) {
      if (ids[gid] === undefined) return;
      var counts = results.nodes[gid], slot = elementOf(ids[gid]).querySelector(".jn-badges");
      slot.innerHTML = "";
      results.order.forEach(function (key) {
        var b = document.createElement("span");
        b.className = "jb jb-" + key;
        b.dataset.count = key;
        b.title = results.labels[key];
        b.innerHTML = '<span class="jb-l">' + escapeHtml(results.labels[key]) + '</span> <b>' + (counts[key] || 0).toLocaleString() + "</b>";
        slot.appendChild(b);
      });
      slot.hidden = false;
    });
  }

  load(initial);
  fit();
  panel.dataset.empty = panel.innerHTML;
  var resultsData = document.getElementById("journey-results");
  if (resultsData) drawResults(JSON.parse(resultsData.textContent));
  root.dataset.ready = "true";
})();
