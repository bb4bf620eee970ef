// The till's offline order queue in IndexedDB: each sale rung up while the server cannot be reached is kept
// here, with the client key made on the device, until the server has booked it. Entries are read back in the
// order they were queued (`seq`). An entry is "pending" (to sync) or "attention" (the server refused it or
// booked it differently: a manager must look at it). Nothing leaves the queue except a booked order or a
// manager's explicit "settled".
(function (global) {
  "use strict";
  var DB_NAME = "yundian-pos";
  var DB_VERSION = 1;
  var STORE = "orders";
  var opening = null;

  function promisify(request) {
    return new Promise(function (resolve, reject) {
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function open() {
    if (opening) return opening;
    opening = new Promise(function (resolve, reject) {
      var request = indexedDB.open(DB_NAME, DB_VERSION);
      request.onupgradeneeded = function () {
        var db = request.result;
        if (!db.objectStoreNames.contains(STORE)) {
          var store = db.createObjectStore(STORE, { keyPath: "seq", autoIncrement: true });
          store.createIndex("by_ref", ["store_id", "client_ref"], { unique: true });
        }
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { opening = null; reject(request.error); };
    });
    return opening;
  }

  function tx(mode, work) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var t = db.transaction(STORE, mode);
        var result;
        Promise.resolve(work(t.objectStore(STORE))).then(function (r) { result = r; }, reject);
        t.oncomplete = function () { resolve(result); };
        t.onerror = function () { reject(t.error); };
        t.onabort = function () { reject(t.error); };
      });
    });
  }

  global.PosQueue = {
    /** Queue a sale; resolves to its seq. The same (store, client key) is never queued twice. */
    add: function (entry) {
      entry.status = "pending";
      entry.attempts = 0;
      entry.queued_at = new Date().toISOString();
      return tx("readwrite", function (store) { return promisify(store.add(entry)); });
    },
    /** Every entry of a store, oldest first. */
    list: function (storeId) {
      return tx("readonly", function (store) { return promisify(store.getAll()); }).then(function (rows) {
        return rows.filter(function (r) { return r.store_id === storeId; })
          .sort(function (a, b) { return a.seq - b.seq; });
      });
    },
    get: function (seq) {
      return tx("readonly", function (store) { return promisify(store.get(seq)); });
    },
    put: function (entry) {
      return tx("readwrite", function (store) { return promisify(store.put(entry)); });
    },
    remove: function (seq) {
      return tx("readwrite", function (store) { return promisify(store.delete(seq)); });
    }
  };
})(window);
