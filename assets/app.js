// callhook dashboard: sorts a table's rows by a clicked header (the rows of
// the page shown; the server pages newest first). No dependencies.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("table.sortable th[data-type]").forEach(function (th) {
    th.addEventListener("click", function () {
      var table = th.closest("table"), body = table.tBodies[0];
      var col = Array.prototype.indexOf.call(th.parentNode.children, th);
      var asc = !th.classList.contains("asc");
      table.querySelectorAll("th").forEach(function (h) { h.classList.remove("asc", "desc"); });
      th.classList.add(asc ? "asc" : "desc");
      var num = th.dataset.type === "num";
      var key = function (row) {
        var cell = row.children[col];
        var v = cell.dataset.sort !== undefined ? cell.dataset.sort : cell.textContent.trim();
        if (!num) return v;
        var n = parseFloat(v);
        return isNaN(n) ? -Infinity : n;
      };
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = key(a), y = key(b);
        var c = num ? x - y : String(x).localeCompare(String(y));
        return asc ? c : -c;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
});
