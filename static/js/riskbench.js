// Small progressive enhancements; every page works without this file. No inline scripts:
// the Content-Security-Policy allows scripts from this site only.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function onReady(fn) {
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", fn);
    else fn();
  }

  // A select marked data-autosubmit submits its form when changed (the product switcher).
  function autosubmit() {
    document.querySelectorAll("select[data-autosubmit]").forEach(function (el) {
      el.addEventListener("change", function () { el.form.submit(); });
    });
  }

  // Show only the fields that fit the hazard's category while the user edits the form.
  function categoryFields() {
    var category = document.querySelector("select[name=category]");
    if (!category || !document.querySelector("[data-category]")) return;
    var apply = function () {
      document.querySelectorAll("[data-category]").forEach(function (el) {
        el.hidden = el.dataset.category.split(" ").indexOf(category.value) < 0;
      });
    };
    category.addEventListener("change", apply);
    apply();
  }

  // After a refused submit the error summary sits at the top of the form: move the focus
  // there so keyboard and screen-reader users hear what to fix; its links jump to the fields.
  function errorSummary() {
    var summary = document.querySelector(".error-summary");
    if (!summary) return;
    summary.focus();
    summary.scrollIntoView({ block: "start" });
    summary.querySelectorAll("a[href^='#']").forEach(function (a) {
      a.addEventListener("click", function (event) {
        var target = document.getElementById(a.getAttribute("href").slice(1));
        if (target) { event.preventDefault(); target.focus(); target.scrollIntoView({ block: "center" }); }
      });
    });
  }

  // Client-side sort for tables marked data-sortable (server sort links still work): a click
  // sorts, a second click reverses; aria-sort says the direction.
  function clientSort() {
    document.querySelectorAll("table[data-sortable] th[data-sort]").forEach(function (th) {
      th.tabIndex = 0;
      var sort = function (event) {
        if (event.target.closest("a")) return;
        var table = th.closest("table");
        var index = Array.prototype.indexOf.call(th.parentNode.children, th);
        var rows = Array.prototype.slice.call(table.tBodies[0].rows);
        var dir = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
        th.parentNode.querySelectorAll("th[data-sort]").forEach(function (other) {
          other.removeAttribute("aria-sort");
        });
        th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
        rows.sort(function (a, b) {
          var x = a.cells[index].dataset.value || a.cells[index].textContent.trim();
          var y = b.cells[index].dataset.value || b.cells[index].textContent.trim();
          return dir * x.localeCompare(y, undefined, { numeric: true });
        });
        rows.forEach(function (row) { table.tBodies[0].appendChild(row); });
      };
      th.addEventListener("click", sort);
      th.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") { event.preventDefault(); sort(event); }
      });
    });
  }

  // Risk policy editor: a grid cell takes the colour of the region chosen; renaming a scale
  // level renames that row or column of every grid at once.
  function policyEditor() {
    document.querySelectorAll(".grid-editor select").forEach(function (select) {
      select.addEventListener("change", function () {
        var cell = select.closest("td");
        cell.className = cell.className.replace(/\bcell-\S+/g, "").trim() + " cell-" + select.value;
      });
    });
    document.querySelectorAll("input[data-level-name]").forEach(function (input) {
      input.addEventListener("input", function () {
        document.querySelectorAll("[data-label-for='" + input.dataset.levelName + "']").forEach(function (el) {
          el.textContent = input.value;
        });
      });
    });
  }

  // Type-ahead link pickers: a text field where a code can be typed (that works without
  // JavaScript) gets a list of matching records from the product's search endpoint.
  function pickers() {
    var counter = 0;
    document.querySelectorAll("input[data-picker]").forEach(function (input) {
      counter += 1;
      var listId = "picker-list-" + counter;
      var wrapper = document.createElement("span");
      wrapper.className = "picker";
      input.parentNode.insertBefore(wrapper, input);
      wrapper.appendChild(input);
      var list = document.createElement("ul");
      list.className = "picker-list";
      list.id = listId;
      list.setAttribute("role", "listbox");
      list.hidden = true;
      wrapper.appendChild(list);
      input.setAttribute("role", "combobox");
      input.setAttribute("aria-autocomplete", "list");
      input.setAttribute("aria-expanded", "false");
      input.setAttribute("aria-controls", listId);
      input.setAttribute("autocomplete", "off");
      var timer = null;
      var active = -1;
      var items = [];

      function close() {
        list.hidden = true;
        input.setAttribute("aria-expanded", "false");
        input.removeAttribute("aria-activedescendant");
        active = -1;
      }
      function highlight(index) {
        items.forEach(function (li, i) { li.setAttribute("aria-selected", i === index ? "true" : "false"); });
        active = index;
        if (index >= 0) {
          input.setAttribute("aria-activedescendant", items[index].id);
          items[index].scrollIntoView({ block: "nearest" });
        }
      }
      function choose(index) {
        if (index < 0 || index >= items.length) return;
        input.value = items[index].dataset.code;
        close();
      }
      function show(results) {
        list.textContent = "";
        items = results.map(function (r, i) {
          var li = document.createElement("li");
          li.id = listId + "-" + i;
          li.setAttribute("role", "option");
          li.dataset.code = r.code;
          var code = document.createElement("strong");
          code.textContent = r.code;
          var title = document.createElement("span");
          title.className = "muted";
          title.textContent = r.title;
          li.appendChild(code);
          li.appendChild(title);
          li.addEventListener("mousedown", function (event) { event.preventDefault(); choose(i); });
          list.appendChild(li);
          return li;
        });
        if (!items.length) {
          var none = document.createElement("li");
          none.className = "muted";
          none.textContent = "Nothing matches";
          list.appendChild(none);
        }
        list.hidden = false;
        input.setAttribute("aria-expanded", "true");
        highlight(items.length ? 0 : -1);
      }
      var asked = 0;
      function search() {
        var url = input.dataset.picker + (input.dataset.picker.indexOf("?") < 0 ? "?" : "&") + "q=" + encodeURIComponent(input.value.trim());
        var mine = ++asked;  // an answer to an older question never replaces a newer one
        fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
          .then(function (data) {
            if (mine === asked && document.activeElement === input) show(data.results);
          })
          .catch(close);
      }
      input.addEventListener("input", function () {
        window.clearTimeout(timer);
        timer = window.setTimeout(search, 150);
      });
      input.addEventListener("focus", function () { if (!input.value) search(); });
      input.addEventListener("blur", function () { window.setTimeout(close, 100); });
      input.addEventListener("keydown", function (event) {
        if (list.hidden) {
          if (event.key === "ArrowDown") { search(); event.preventDefault(); }
          return;
        }
        if (event.key === "ArrowDown") { highlight(Math.min(active + 1, items.length - 1)); event.preventDefault(); }
        else if (event.key === "ArrowUp") { highlight(Math.max(active - 1, 0)); event.preventDefault(); }
        else if (event.key === "Enter" && active >= 0) { choose(active); event.preventDefault(); }
        else if (event.key === "Escape") { close(); event.preventDefault(); }
      });
    });
  }

  // A table that scrolls inside its box can be scrolled with the keyboard: its box takes the
  // focus and is announced as a region named after the table.
  function scrollBoxes() {
    document.querySelectorAll(".table-wrap").forEach(function (box) {
      if (box.scrollWidth <= box.clientWidth && box.scrollHeight <= box.clientHeight) return;
      box.tabIndex = 0;
      box.setAttribute("role", "region");
      var heading = box.closest("section, .card, main").querySelector("h1, h2, h3");
      box.setAttribute("aria-label", (heading ? heading.textContent.trim() : "Table") + " (scrolls)");
    });
  }

  onReady(function () {
    scrollBoxes();
    autosubmit();
    categoryFields();
    errorSummary();
    clientSort();
    policyEditor();
    pickers();
  });
})();
