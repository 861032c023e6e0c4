// piuparts-server report: the filter box, the anchor redirect of paginated
// state pages and the search page. Plain JavaScript, no external URLs.
(function () {
  "use strict";
  var body = document.body;
  var docroot = body.getAttribute("data-docroot") || "";

  function param(name) {
    var m = new RegExp("[?&]" + name + "=([^&#]*)").exec(location.search);
    return m ? decodeURIComponent(m[1].replace(/\+/g, " ")) : "";
  }
  function packageID(name) { return name.replace(/\+/g, "_"); }
  function sourceDir(src) { return src.slice(0, 3) === "lib" ? src.slice(0, 4) : src.slice(0, 1); }
  function pageName(base, n) { return n <= 1 ? base + ".html" : base + "-" + n + ".html"; }
  function getJSON(url, done) {
    var x = new XMLHttpRequest();
    x.open("GET", url);
    x.onload = function () { if (x.status === 200) { done(JSON.parse(x.responseText)); } else { done(null); } };
    x.onerror = function () { done(null); };
    x.send();
  }

  // Filter: hide the items of the list that do not contain the text.
  var filter = document.getElementById("filter");
  if (filter) {
    var list = document.getElementById(filter.getAttribute("data-list"));
    var out = document.getElementById("filter-count");
    var items = list ? list.querySelectorAll(":scope > li, :scope > tbody > tr, :scope > ul > li") : [];
    var apply = function () {
      var q = filter.value.trim().toLowerCase(), shown = 0;
      for (var i = 0; i < items.length; i++) {
        var hit = q === "" || items[i].textContent.toLowerCase().indexOf(q) >= 0;
        items[i].hidden = !hit;
        if (hit) { shown++; }
      }
      out.textContent = q === "" ? "" : shown + " of " + items.length + " shown";
    };
    filter.addEventListener("input", apply);
    if (param("filter")) { filter.value = param("filter"); apply(); }
  }

  // A #anchor to a package listed on a later page of a state page.
  var redirect = body.getAttribute("data-redirect");
  var id = decodeURIComponent(location.hash.slice(1));
  if (redirect && id && !document.getElementById(id)) {
    getJSON("index.json", function (idx) {
      if (!idx) { return; }
      for (var i = 0; i < idx.packages.length; i++) {
        var p = idx.packages[i];
        if (packageID(p[0]) === id && idx.states[p[2]] === redirect) {
          location.replace(pageName("state-" + redirect, p[3]) + "#" + id);
          return;
        }
      }
    });
  }

  // The search page: search.json names the sections' index.json files.
  var form = document.getElementById("search");
  if (!form) { return; }
  var input = document.getElementById("q");
  var status = document.getElementById("search-status");
  var results = document.getElementById("results");
  var indexes = null;
  var LIMIT = 50;

  function el(tag, text, href) {
    var e = document.createElement(tag);
    if (href) { var a = document.createElement("a"); a.href = href; a.textContent = text; e.appendChild(a); }
    else if (text) { e.textContent = text; }
    return e;
  }
  function item(list, parts) {
    var li = document.createElement("li");
    for (var i = 0; i < parts.length; i++) {
      var p = parts[i];
      if (typeof p === "string") { li.appendChild(document.createTextNode(p)); }
      else { var a = document.createElement("a"); a.href = p[1]; a.textContent = p[0]; li.appendChild(a); }
    }
    list.appendChild(li);
  }
  function rank(name, q) { return name === q ? 0 : name.indexOf(q) === 0 ? 1 : 2; }
  function matches(rows, key, q) {
    var hits = [];
    for (var i = 0; i < rows.length; i++) {
      var v = key(rows[i]).toLowerCase();
      if (v.indexOf(q) >= 0) { hits.push([rank(v, q), v, rows[i]]); }
    }
    hits.sort(function (a, b) { return a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0); });
    return hits;
  }
  function run() {
    var q = input.value.trim().toLowerCase();
    results.textContent = "";
    if (q.length < 2) { status.textContent = "Type at least two characters."; return; }
    if (!indexes) { status.textContent = "Loading the index…"; return; }
    var total = 0;
    indexes.forEach(function (idx) {
      var base = docroot + "/" + idx.section + "/";
      var sec = document.createElement("section");
      sec.appendChild(el("h2", idx.section));
      var ul = document.createElement("ul");
      var n = 0;
      idx.states.forEach(function (st, i) {
        if (st.indexOf(q) < 0) { return; }
        var count = 0;
        for (var k = 0; k < idx.packages.length; k++) { if (idx.packages[k][2] === i) { count++; } }
        item(ul, ["state ", [st, base + "state-" + st + ".html"], ": " + count + " packages"]); n++;
      });
      idx.problems.forEach(function (p) {
        if (p[1].toLowerCase().indexOf(q) < 0 && p[0].toLowerCase().indexOf(q) < 0) { return; }
        item(ul, ["known problem ", [p[1], base + p[0]], ": " + p[2] + " logs"]); n++;
      });
      matches(idx.packages, function (p) { return p[0]; }, q).slice(0, LIMIT).forEach(function (h) {
        var p = h[2], st = idx.states[p[2]];
        item(ul, ["package ", [p[0], base + pageName("state-" + st, p[3]) + "#" + packageID(p[0])], " is " + st + ", source ",
          [p[1], base + "source/" + sourceDir(p[1]) + "/" + p[1] + ".html"]]); n++;
      });
      matches(idx.sources, function (s) { return s[0]; }, q).slice(0, LIMIT).forEach(function (h) {
        var s = h[2];
        item(ul, ["source ", [s[0], base + "source/" + sourceDir(s[0]) + "/" + s[0] + ".html"], ": " + s[1]]); n++;
      });
      matches(idx.maintainers, function (m) { return m; }, q).slice(0, LIMIT).forEach(function (h) {
        var m = h[2];
        item(ul, ["maintainer ", [m, base + "maintainer/" + m.charAt(0).toLowerCase() + "/" + m + ".html"]]); n++;
      });
      if (n > 0) { sec.appendChild(ul); results.appendChild(sec); total += n; }
    });
    status.textContent = total === 0 ? "Nothing matches “" + q + "”." : total + " results for “" + q + "”.";
  }
  input.addEventListener("input", run);
  form.addEventListener("submit", function (e) { e.preventDefault(); run(); });
  input.value = param("q");
  getJSON(docroot + "/search.json", function (site) {
    if (!site) { status.textContent = "The search index could not be loaded."; return; }
    var loaded = [], left = site.sections.length;
    if (left === 0) { indexes = []; run(); return; }
    site.sections.forEach(function (s, i) {
      getJSON(s.index, function (idx) {
        if (idx) { loaded[i] = idx; }
        if (--left === 0) { indexes = loaded.filter(function (x) { return x; }); run(); }
      });
    });
  });
})();
