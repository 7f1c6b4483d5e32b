// The duplicates screens: at most N criteria, confirmation dialogs, and on the
// resolution screen one main record at a time (the server renders everything else).
(function () {
  "use strict";

  // The search form: once N criteria are ticked, the others wait.
  function limitCriteria() {
    const form = document.querySelector("form.dup-search");
    if (!form) return;
    const max = Number(form.dataset.max || 7);
    const boxes = Array.from(form.querySelectorAll("input[name=criteria]"));
    const n = boxes.filter(function (b) { return b.checked; }).length;
    boxes.forEach(function (b) { b.disabled = !b.checked && n >= max; });
  }
  document.addEventListener("change", function (ev) {
    if (ev.target.matches && ev.target.matches("form.dup-search input[name=criteria]")) limitCriteria();
  });
  limitCriteria();

  // A button that asks first opens the dialog beside it.
  document.addEventListener("click", function (ev) {
    const t = ev.target;
    if (!t.closest) return;
    const opener = t.closest("[data-open-dialog]");
    if (opener) {
      const d = opener.parentNode.querySelector("dialog");
      if (d) d.showModal();
      return;
    }
    const close = t.closest("dialog [data-close]");
    if (close) close.closest("dialog").close();
  });
  document.addEventListener("htmx:beforeRequest", function () {
    document.querySelectorAll("dialog[open]").forEach(function (d) { d.close(); });
  });

  // Resolution screen: choosing a main record makes the previous one a merged one. This
  // runs before htmx reads the form (capture phase).
  document.addEventListener("change", function (ev) {
    const t = ev.target;
    if (!t.matches || !t.matches("#merge-form input[type=radio][value=main]") || !t.checked) return;
    t.form.querySelectorAll("input[type=radio][value=main]:checked").forEach(function (other) {
      if (other === t) return;
      const merge = t.form.querySelector("input[type=radio][name='" + other.name + "'][value=merge]");
      if (merge) merge.checked = true;
    });
  }, true);
})();
