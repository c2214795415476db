// The unit picker, better with JavaScript: typing in the search box
// filters the listed units at once, with or without diacritics, and picks
// the only one left. Without JavaScript the search button asks the server
// (admin_staff_manage.go), which this leaves in place for units not listed.
(function () {
  "use strict";
  var box = document.getElementById("f-unit_q");
  var list = document.getElementById("f-unit");
  if (!box || !list) {
    return;
  }
  function fold(s) {
    return s.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/[đĐ]/g, "d").toLowerCase();
  }
  var options = Array.prototype.slice.call(list.options);
  var status = document.createElement("p");
  status.className = "hint";
  status.id = "unit-count";
  status.setAttribute("role", "status");
  list.parentNode.insertBefore(status, list);
  function filter() {
    var q = fold(box.value.trim());
    var shown = [];
    options.forEach(function (o) {
      var hit = q === "" || fold(o.text).indexOf(q) >= 0;
      o.hidden = !hit;
      o.disabled = !hit;
      if (hit) {
        shown.push(o);
      }
    });
    if (shown.length === 1) {
      shown[0].selected = true;
    }
    status.textContent = q === "" ? "" : shown.length + " / " + options.length;
  }
  box.addEventListener("input", filter);
  box.addEventListener("keydown", function (e) {
    // Enter filters here; the server search stays on its button.
    if (e.key === "Enter" && options.some(function (o) { return !o.hidden; })) {
      e.preventDefault();
      filter();
    }
  });
})();
