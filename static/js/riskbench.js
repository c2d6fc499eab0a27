// Small progressive enhancements; every page works without this file.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("select[data-autosubmit]").forEach((el) => {
    el.addEventListener("change", () => el.form.submit());
  });
  // Show only the fields that fit the hazard's category while the user edits the form.
  const category = document.querySelector("select[name=category]");
  if (category) {
    const apply = () => {
      document.querySelectorAll("[data-category]").forEach((el) => {
        el.hidden = !el.dataset.category.split(" ").includes(category.value);
      });
      document.querySelectorAll("[data-label-" + category.value + "]").forEach((el) => {
        el.textContent = el.getAttribute("data-label-" + category.value);
      });
    };
    category.addEventListener("change", apply);
    apply();
  }
  // Client-side column sort for tables marked sortable (server sort links still work).
  document.querySelectorAll("table[data-sortable] th[data-sort]").forEach((th) => {
    th.addEventListener("click", (event) => {
      if (event.target.closest("a")) return;
      const table = th.closest("table");
      const index = Array.from(th.parentNode.children).indexOf(th);
      const rows = Array.from(table.tBodies[0].rows);
      const dir = th.dataset.dir === "asc" ? -1 : 1;
      th.dataset.dir = dir === 1 ? "asc" : "desc";
      rows.sort((a, b) => {
        const x = a.cells[index].dataset.value ?? a.cells[index].textContent.trim();
        const y = b.cells[index].dataset.value ?? b.cells[index].textContent.trim();
        return dir * x.localeCompare(y, undefined, { numeric: true });
      });
      rows.forEach((row) => table.tBodies[0].appendChild(row));
    });
  });
});
