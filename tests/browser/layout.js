// Layout check run in the page by tests/browser: returns a list of problems (empty = fits).
() => {
  const problems = [];
  const doc = document.scrollingElement;
  if (doc.scrollWidth > window.innerWidth) {
    problems.push(`page scrolls sideways: ${doc.scrollWidth} > ${window.innerWidth}`);
  }
  const name = (table) => (table.closest("section, .card, main")?.querySelector("h1, h2, h3")?.textContent || "").trim().slice(0, 40)
    + " / " + (table.querySelector("caption, th")?.textContent || "").trim().slice(0, 30);
  for (const table of document.querySelectorAll("main table")) {
    if (table.parentElement.closest("table")) continue;  // a table inside a cell
    let box = table.parentElement;
    while (box && box !== document.body && getComputedStyle(box).overflowX === "visible") {
      box = box.parentElement;
    }
    const scrolls = box && box !== document.body && ["auto", "scroll"].includes(getComputedStyle(box).overflowX);
    const room = (box && box !== document.body ? box : table.parentElement).clientWidth;
    const width = Math.ceil(table.getBoundingClientRect().width);
    if (width <= room + 1) continue;
    if (!scrolls) { problems.push(`table clipped (${width} > ${room}): ${name(table)}`); continue; }
    const head = table.querySelector("thead th");
    const first = table.querySelector("tbody tr > :first-child");
    if (!head || getComputedStyle(head).position !== "sticky") {
      problems.push(`scrolling table without a sticky header: ${name(table)}`);
    }
    if (!first || getComputedStyle(first).position !== "sticky") {
      problems.push(`scrolling table without a sticky first column: ${name(table)}`);
    }
  }
  return problems;
}
