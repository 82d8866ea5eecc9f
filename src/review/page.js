// Filtering and folding only: the page reads without this script.
(function () {
  "use strict";
  var form = document.getElementById("filter");
  if (!form) return;
  form.hidden = false;
  var cells = Array.prototype.slice.call(document.querySelectorAll("table.matrix td.cell[data-status]"));
  var details = Array.prototype.slice.call(document.querySelectorAll("details.cell-detail"));
  function shown(node, statuses, name) {
    var text = (node.dataset.policy + " " + node.dataset.query).toLowerCase();
    return statuses.has(node.dataset.status) && (name === "" || text.indexOf(name) >= 0);
  }
  function apply() {
    var statuses = new Set();
    form.querySelectorAll("input[name=status]").forEach(function (box) {
      if (box.checked) statuses.add(box.value);
    });
    var name = form.querySelector("input[name=name]").value.trim().toLowerCase();
    cells.forEach(function (cell) { cell.classList.toggle("off", !shown(cell, statuses, name)); });
    details.forEach(function (detail) { detail.classList.toggle("off", !shown(detail, statuses, name)); });
    document.querySelectorAll("table.matrix tbody tr").forEach(function (row) {
      row.classList.toggle("off-row", row.querySelector("td.cell:not(.off)[data-status]") === null);
    });
  }
  form.addEventListener("input", apply);
  form.addEventListener("change", apply);
  function open(hash) {
    var target = hash && document.getElementById(hash.slice(1));
    if (target && target.tagName === "DETAILS") {
      target.open = true;
      for (var up = target.parentElement; up; up = up.parentElement) {
        if (up.tagName === "DETAILS") up.open = true;
      }
      target.classList.remove("off");
      target.scrollIntoView();
    }
  }
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[href^='#']");
    if (link) open(link.hash);
  });
  window.addEventListener("hashchange", function () { open(location.hash); });
  open(location.hash);
  var folded = false;
  document.getElementById("fold").addEventListener("click", function () {
    folded = !folded;
    document.querySelectorAll("ul.tree details:not(.files)").forEach(function (d) { d.open = !folded; });
    this.textContent = folded ? "unfold all plans" : "fold all plans";
  });
})();
