// The marketplace page's search: filters the server-rendered cards as the user types.
// The page reads the same without it; the form then asks the server to filter (?q=).
"use strict";
(function () {
  var input = document.getElementById("q");
  var count = document.getElementById("count");
  var empty = document.getElementById("empty");
  var services = Array.prototype.slice.call(document.querySelectorAll("article.service"));
  var sections = Array.prototype.slice.call(document.querySelectorAll("section.category"));
  var total = Number(document.body.getAttribute("data-total") || services.length);
  if (!input || !count || !empty) {
    return;
  }
  // Styles and tests can tell the live search is on.
  document.documentElement.classList.add("js");
  // Lower-cased once, so that the comparison below treats every letter alike.
  var texts = services.map(function (s) { return (s.getAttribute("data-search") || "").toLowerCase(); });

  function apply() {
    var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = {};
    services.forEach(function (s, i) {
      var hit = words.every(function (w) { return texts[i].indexOf(w) >= 0; });
      s.hidden = !hit;
      if (hit) {
        shown[s.getAttribute("data-service")] = true;
      }
    });
    sections.forEach(function (sec) {
      sec.hidden = !sec.querySelector("article.service:not([hidden])");
    });
    var n = Object.keys(shown).length;
    count.textContent = words.length ? n + " of " + total + " services match" : total + " services";
    empty.hidden = n !== 0;
  }

  // "input" as the user types; "change" and "search" when the box is cleared some other way.
  ["input", "change", "search"].forEach(function (type) {
    input.addEventListener(type, apply);
  });
  // Searching here needs no round trip; the form still works without this script.
  input.form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    apply();
    var url = new URL(window.location.href);
    if (input.value) {
      url.searchParams.set("q", input.value);
    } else {
      url.searchParams.delete("q");
    }
    window.history.replaceState(null, "", url.toString());
  });
  // A click on a tag searches for it.
  document.addEventListener("click", function (ev) {
    var t = ev.target;
    if (t && t.matches && t.matches("ul.tags li")) {
      input.value = t.textContent;
      apply();
    }
  });
  apply();
})();
