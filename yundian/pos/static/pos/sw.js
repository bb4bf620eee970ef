// The till's service worker (served at /pos/sw.js, scope /pos/). The server puts `YUNDIAN_POS` above this
// file: {version: fingerprint of the till's code, shell: its static files, scope}.
//
// - the shell (pos.js, queue.js, pos.css, and whatever else the till page loads from /static/) is cached
//   per code version: cache first, so the till starts offline;
// - the till page and the catalogue/price snapshot are network first: refreshed whenever the server
//   answers, served from the cache when it does not;
// - everything else (the API, POSTs) goes straight to the network: orders are queued by the page, not here.
"use strict";
var SHELL_CACHE = "yundian-pos-shell-" + YUNDIAN_POS.version;
var DATA_CACHE = "yundian-pos-data-v1";
var STATIC_PREFIX = (YUNDIAN_POS.shell[0] || "/static/").replace(/[^/]*\/[^/]*$/, "");

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(SHELL_CACHE).then(function (cache) { return cache.addAll(YUNDIAN_POS.shell); })
    .then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k.indexOf("yundian-pos-shell-") === 0 && k !== SHELL_CACHE; })
      .map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

function isStatic(url) { return url.pathname.indexOf(STATIC_PREFIX) === 0; }

function isData(request, url) {
  return url.pathname.indexOf(YUNDIAN_POS.scope) === 0 &&
    (request.mode === "navigate" || /\/snapshot\.json$/.test(url.pathname));
}

function cacheFirst(request) {
  return caches.match(request).then(function (hit) {
    return hit || fetch(request).then(function (res) {
      if (res.ok) { var copy = res.clone(); caches.open(SHELL_CACHE).then(function (c) { c.put(request, copy); }); }
      return res;
    });
  });
}

function networkFirst(request) {
  return fetch(request).then(function (res) {
    // keep only real pages and snapshots (a redirect to the sign-in page is not the till)
    if (res.ok && !res.redirected) {
      var copy = res.clone();
      caches.open(DATA_CACHE).then(function (c) { c.put(request.url.split("?")[0], copy); });
    }
    return res;
  }, function () {
    return caches.open(DATA_CACHE).then(function (c) { return c.match(request.url.split("?")[0]); })
      .then(function (hit) {
        return hit || new Response("offline", { status: 503, headers: { "Content-Type": "text/plain" } });
      });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (isStatic(url)) { event.respondWith(cacheFirst(request)); return; }
  if (isData(request, url)) { event.respondWith(networkFirst(request)); }
});

// the page asks, once it is running, to keep itself, its snapshot and its static files for offline use
self.addEventListener("message", function (event) {
  var data = event.data || {};
  if (data.type !== "warm" || !Array.isArray(data.urls)) return;
  var port = event.ports && event.ports[0];
  var jobs = data.urls.filter(function (u) { return typeof u === "string" && u.charAt(0) === "/"; }).map(function (u) {
    var cacheName = u.indexOf(STATIC_PREFIX) === 0 ? SHELL_CACHE : DATA_CACHE;
    return fetch(u, { credentials: "same-origin" }).then(function (res) {
      if (!res.ok || res.redirected) throw new Error(u);
      var key = cacheName === SHELL_CACHE ? u : u.split("?")[0];
      return caches.open(cacheName).then(function (c) { return c.put(key, res); });
    });
  });
  event.waitUntil(Promise.all(jobs).then(function () {
    if (port) port.postMessage({ ok: true });
  }, function (err) {
    if (port) port.postMessage({ ok: false, error: String(err) });
  }));
});
