// Sortable tables: click a header to sort by that column (numbers by value, '-' last), again to reverse.
(function () {
  "use strict";
  function value(cell) {
    var text = cell.textContent.trim();
    var number = parseFloat(text.replace(/[$,%]/g, ""));
    return text === "-" || text === "" ? null : isNaN(number) ? text.toLowerCase() : number;
  }
  function compare(a, b, ascending) {
    if (a === null) return b === null ? 0 : 1;
    if (b === null) return -1;
    if (typeof a !== typeof b) { a = String(a); b = String(b); }
    var order = a < b ? -1 : a > b ? 1 : 0;
    return ascending ? order : -order;
  }
  function sortBy(table, index, th) {
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (r1, r2) { return compare(value(r1.cells[index]), value(r2.cells[index]), ascending); });
    rows.forEach(function (row) { body.appendChild(row); });
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, index) {
      th.title = "Sort by " + th.textContent;
      th.addEventListener("click", function () { sortBy(table, index, th); });
    });
  });
})();
