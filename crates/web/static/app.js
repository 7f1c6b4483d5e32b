// Kartoteka: small behaviours the server cannot give: unsaved-change marking and prompts,
// open cards as tabs (kept for the session), extra phone/e-mail rows, masked inputs.
(function () {
  "use strict";
  const body = document.body;
  const form = document.getElementById("card-form");
  const card = document.querySelector("article.card");
  const store = window.sessionStorage;
  const tabsKey = "kartoteka.tabs";

  function readTabs() {
    try { return JSON.parse(store.getItem(tabsKey) || "[]"); } catch (e) { return []; }
  }
  function writeTabs(t) { store.setItem(tabsKey, JSON.stringify(t)); }
  function draftKey(id) { return "kartoteka.draft." + id; }

  function renderTabs(current) {
    const bar = document.getElementById("tabs");
    if (!bar) return;
    bar.textContent = "";
    for (const t of readTabs()) {
      const a = document.createElement("a");
      a.href = "/records/" + t.id;
      a.textContent = t.title;
      a.title = t.title + " (" + t.id + ")";
      if (t.id === current) a.className = "current";
      if (store.getItem(draftKey(t.id))) a.classList.add("dirty");
      const x = document.createElement("button");
      x.type = "button";
      x.textContent = "×";
      x.setAttribute("aria-label", "Close " + t.title);
      x.addEventListener("click", function (ev) {
        ev.preventDefault();
        if (store.getItem(draftKey(t.id)) && !window.confirm(body.dataset.unsaved)) return;
        store.removeItem(draftKey(t.id));
        writeTabs(readTabs().filter(function (o) { return o.id !== t.id; }));
        if (t.id === current) window.location.href = "/records"; else renderTabs(current);
      });
      bar.appendChild(a);
      bar.appendChild(x);
    }
  }

  const recordId = card && card.dataset.record;
  if (recordId) {
    const tabs = readTabs();
    if (!tabs.some(function (t) { return t.id === recordId; })) tabs.push({ id: recordId, title: card.dataset.title });
    writeTabs(tabs.map(function (t) { return t.id === recordId ? { id: t.id, title: card.dataset.title } : t; }));
  }
  renderTabs(recordId);

  function formState() {
    const out = [];
    for (const el of form.elements) {
      if (!el.name || el.type === "hidden" || el.type === "submit") continue;
      if ((el.type === "radio" || el.type === "checkbox") && !el.checked) continue;
      out.push([el.name, el.value]);
    }
    return out;
  }
  // Fields group by the part of their name before the dot: phones and e-mails change whole.
  function group(name) { return name.startsWith("phone.") || name.startsWith("email.") ? name.split(".")[0] : name; }
  function byGroup(state) {
    const g = {};
    for (const [n, v] of state) (g[group(n)] = g[group(n)] || []).push([n, v]);
    return g;
  }

  if (form) {
    let dirty = false;
    // A save clears the draft; changing campaigns or segments does not.
    const saved = document.querySelector(".notice") && !/saved=groups/.test(window.location.search);
    const errors = document.querySelector(".alert, .conflict");
    const initial = byGroup(formState());
    // The draft keeps only what the user changed, so restoring it after a refresh never
    // brings back old values of fields someone else changed meanwhile.
    function changes() {
      const now = byGroup(formState());
      const out = {};
      for (const k of new Set(Object.keys(now).concat(Object.keys(initial)))) {
        if (JSON.stringify(now[k] || []) !== JSON.stringify(initial[k] || [])) out[k] = now[k] || [];
      }
      return out;
    }
    function markDirty() {
      const c = changes();
      dirty = Object.keys(c).length > 0;
      body.classList.toggle("is-dirty", dirty);
      if (recordId) {
        if (dirty) store.setItem(draftKey(recordId), JSON.stringify(c)); else store.removeItem(draftKey(recordId));
        renderTabs(recordId);
      }
    }
    if (recordId && saved && !errors) store.removeItem(draftKey(recordId));
    if (errors) { dirty = true; body.classList.add("is-dirty"); }
    // Unsaved edits come back after leaving the card or reloading the page.
    const draft = recordId && !errors && store.getItem(draftKey(recordId));
    if (draft) {
      try {
        const d = JSON.parse(draft);
        for (const g of Object.keys(d)) {
          const byName = {};
          for (const [n, v] of d[g]) (byName[n] = byName[n] || []).push(v);
          for (const n of Object.keys(byName)) {
            const els = Array.from(form.elements).filter(function (e) { return e.name === n; });
            els.forEach(function (el, i) {
              if (el.type === "radio") el.checked = byName[n].indexOf(el.value) >= 0;
              else if (i < byName[n].length) el.value = byName[n][i];
            });
          }
        }
        dirty = true;
        body.classList.add("is-dirty");
      } catch (e) { store.removeItem(draftKey(recordId)); }
    }
    form.addEventListener("input", markDirty);
    form.addEventListener("change", markDirty);
    form.addEventListener("submit", function () { dirty = false; });
    window.addEventListener("beforeunload", function (ev) {
      if (dirty) { ev.preventDefault(); ev.returnValue = ""; }
    });
    document.querySelectorAll("[data-cancel]").forEach(function (a) {
      a.addEventListener("click", function (ev) {
        if (dirty && !window.confirm(body.dataset.unsaved)) { ev.preventDefault(); return; }
        dirty = false;
        if (recordId) store.removeItem(draftKey(recordId));
      });
    });
    document.addEventListener("keydown", function (ev) {
      if (ev.key === "Escape") document.querySelectorAll("details.menu[open]").forEach(function (d) { d.open = false; });
    });
    document.querySelectorAll("[data-add-row]").forEach(function (btn) {
      btn.addEventListener("click", function () {
        const box = document.getElementById(btn.dataset.addRow);
        const rows = box.querySelectorAll(".row");
        const last = rows[rows.length - 1];
        const row = last.cloneNode(true);
        row.classList.remove("has-error");
        row.querySelectorAll(".error").forEach(function (e) { e.remove(); });
        row.querySelectorAll("input").forEach(function (i) {
          if (i.type === "radio") { i.checked = false; i.value = String(rows.length); } else { i.value = ""; }
        });
        box.insertBefore(row, btn);
        row.querySelector("input").focus();
      });
    });
  }

  // Masked inputs accept only what the mask allows: # a digit, a a letter, $ a currency sign,
  // anything else is typed for the user.
  function applyMask(mask, raw) {
    let out = "";
    let i = 0;
    for (const m of mask) {
      if (i >= raw.length) break;
      if (m === "#" || m === "a" || m === "$") {
        while (i < raw.length) {
          const c = raw[i++];
          const ok = m === "#" ? /\d/.test(c) : m === "a" ? /\p{L}/u.test(c) : /\p{Sc}/u.test(c);
          if (ok) { out += c; break; }
        }
      } else {
        out += m;
        if (raw[i] === m) i++;
      }
    }
    return out;
  }
  document.querySelectorAll("input[data-mask]").forEach(function (el) {
    el.addEventListener("input", function () {
      const v = applyMask(el.dataset.mask, el.value);
      if (v !== el.value) el.value = v;
    });
  });

  // The list's columns: drag a header to reorder, drag its right edge to resize; the
  // choice is saved for the user.
  function csrf() {
    try { return JSON.parse(body.getAttribute("hx-headers"))["X-CSRF-Token"]; } catch (e) { return ""; }
  }
  function saveColumns(grid) {
    const columns = Array.from(grid.querySelectorAll("th[data-col]")).map(function (th) {
      const w = th.style.width ? parseInt(th.style.width, 10) : null;
      return { key: th.dataset.col, width: w };
    });
    return fetch("/records/columns", {
      method: "PUT",
      headers: { "content-type": "application/json", "x-csrf-token": csrf() },
      body: JSON.stringify({ columns: columns, density: "" }),
      credentials: "same-origin",
    });
  }
  let dragged = null;
  document.addEventListener("dragstart", function (ev) {
    const th = ev.target.closest && ev.target.closest("#record-grid th[data-col]");
    if (!th) return;
    dragged = th;
    ev.dataTransfer.effectAllowed = "move";
    ev.dataTransfer.setData("text/plain", th.dataset.col);
  });
  document.addEventListener("dragover", function (ev) {
    const th = ev.target.closest && ev.target.closest("#record-grid th[data-col]");
    if (!th || !dragged) return;
    ev.preventDefault();
    document.querySelectorAll("#record-grid th.drop-target").forEach(function (t) { t.classList.remove("drop-target"); });
    th.classList.add("drop-target");
  });
  document.addEventListener("drop", function (ev) {
    const th = ev.target.closest && ev.target.closest("#record-grid th[data-col]");
    if (!th || !dragged || th === dragged) return;
    ev.preventDefault();
    th.parentNode.insertBefore(dragged, th);
    const grid = th.closest("table");
    dragged = null;
    saveColumns(grid).then(function () { window.location.reload(); });
  });
  document.addEventListener("mousedown", function (ev) {
    if (!ev.target.classList || !ev.target.classList.contains("resize")) return;
    ev.preventDefault();
    const th = ev.target.parentNode;
    const startX = ev.clientX;
    const startW = th.offsetWidth;
    th.draggable = false;
    function move(e) { th.style.width = Math.max(40, startW + e.clientX - startX) + "px"; }
    function up() {
      document.removeEventListener("mousemove", move);
      document.removeEventListener("mouseup", up);
      th.draggable = true;
      saveColumns(th.closest("table"));
    }
    document.addEventListener("mousemove", move);
    document.addEventListener("mouseup", up);
  });

  // The card's tabs.
  document.querySelectorAll("[data-tabs] [role=tab]").forEach(function (tab) {
    tab.addEventListener("click", function () {
      const box = tab.closest("[data-tabs]");
      box.querySelectorAll("[role=tab]").forEach(function (t) {
        const on = t === tab;
        t.setAttribute("aria-selected", on ? "true" : "false");
        document.getElementById(t.getAttribute("aria-controls")).hidden = !on;
      });
    });
  });

  // Buttons that ask before acting (delete).
  document.querySelectorAll("button[data-ask]").forEach(function (b) {
    b.addEventListener("click", function (ev) {
      if (!window.confirm(b.dataset.ask)) ev.preventDefault();
    });
  });

  // Header fields: two rows, and a control to show all when there are more.
  document.querySelectorAll("[data-collapsible]").forEach(function (box) {
    const list = box.querySelector("dl");
    const btn = box.querySelector(".expand");
    if (list.scrollHeight > list.clientHeight + 2) btn.hidden = false;
    btn.addEventListener("click", function () {
      const open = box.classList.toggle("open");
      btn.setAttribute("aria-expanded", open ? "true" : "false");
      btn.textContent = open ? btn.dataset.less : btn.dataset.more;
    });
  });
})();

// The record list's filter builder, selection and bulk actions (the server renders every
// part; this only shows and hides inputs and keeps the selection's count).
(function () {
  "use strict";
  const lang = document.documentElement.lang || "en";
  function fmt(n) { return Number(n).toLocaleString(lang === "pl" ? "pl-PL" : "en-US"); }

  // Selects that open what they choose (saved views).
  document.addEventListener("change", function (ev) {
    const t = ev.target;
    if (t.matches && t.matches("select[data-autosubmit]") && t.value) t.form.submit();
  });

  // Filter rows: the operator decides which inputs show; lists show what is chosen.
  document.addEventListener("change", function (ev) {
    const t = ev.target;
    if (!t.closest) return;
    const row = t.closest(".crit");
    if (!row) return;
    if (t.classList.contains("crit-op")) row.dataset.op = t.value;
    const pick = t.closest(".pick");
    if (pick) {
      const sum = pick.querySelector("summary");
      const names = Array.from(pick.querySelectorAll("input:checked")).map(function (i) {
        return i.parentNode.textContent.trim();
      });
      sum.textContent = names.length ? names.join(", ") : sum.dataset.none;
    }
  });
  document.addEventListener("click", function (ev) {
    const t = ev.target;
    if (!t.closest) return;
    const rm = t.closest(".crit-remove");
    if (rm) rm.closest(".crit").remove();
  });
  document.addEventListener("htmx:afterSwap", function (ev) {
    const add = document.getElementById("add-criterion");
    if (ev.detail && ev.detail.requestConfig && ev.detail.requestConfig.elt === add) {
      add.value = "";
      const rows = document.querySelectorAll("#criteria .crit");
      const last = rows[rows.length - 1];
      const input = last && last.querySelector(".crit-val input:not([type=hidden]), .crit-val select, .crit-val summary, .crit-flag input");
      if (input) input.focus();
    }
  });

  // Selection: rows of the page, or "all N found" (the filter rather than the IDs).
  function bulkForm() { return document.getElementById("bulk-form"); }
  function boxes(form) { return Array.from(form.querySelectorAll(".sel-row")); }
  function selection(form) {
    const all = boxes(form);
    const checked = all.filter(function (b) { return b.checked; }).length;
    const byFilter = form.elements.scope.value === "filter";
    return { all: all, checked: checked, byFilter: byFilter, n: byFilter ? Number(form.dataset.total) : checked };
  }
  function update() {
    const form = bulkForm();
    if (!form) return;
    const s = selection(form);
    const bar = document.getElementById("bulk-bar");
    bar.hidden = s.n === 0;
    const count = document.getElementById("sel-count");
    count.textContent = form.dataset.selected.replace("{n}", fmt(s.n));
    count.hidden = s.byFilter;
    const note = document.getElementById("sel-all-note");
    note.hidden = !s.byFilter;
    const all = document.getElementById("sel-all");
    if (all) all.hidden = s.byFilter || s.checked === 0 || s.checked < s.all.length;
    const page = document.getElementById("sel-page");
    if (page) {
      page.checked = s.all.length > 0 && s.checked === s.all.length;
      page.indeterminate = s.checked > 0 && s.checked < s.all.length;
    }
    form.classList.toggle("by-filter", s.byFilter);
    // Merging opens the resolution screen of the ticked rows (two or more, not "all found").
    const merge = document.getElementById("sel-merge");
    if (merge) merge.hidden = s.byFilter || s.checked < 2;
  }
  document.addEventListener("change", function (ev) {
    const t = ev.target;
    const form = bulkForm();
    if (!form || !t.matches) return;
    if (t.id === "sel-page") {
      boxes(form).forEach(function (b) { b.checked = t.checked; });
      form.elements.scope.value = "ids";
      update();
    } else if (t.matches(".sel-row")) {
      if (!t.checked) form.elements.scope.value = "ids";
      update();
    }
  });
  document.addEventListener("click", function (ev) {
    const t = ev.target;
    const form = bulkForm();
    if (!form || !t.closest) return;
    if (t.id === "sel-all") {
      boxes(form).forEach(function (b) { b.checked = true; });
      form.elements.scope.value = "filter";
      update();
    } else if (t.id === "sel-clear") {
      boxes(form).forEach(function (b) { b.checked = false; });
      form.elements.scope.value = "ids";
      update();
    } else if (t.closest("[data-bulk-delete]")) {
      const n = selection(form).n;
      form.elements.confirm.value = String(n);
      const ask = n === 1 ? form.dataset.deleteAskOne : form.dataset.deleteAsk;
      document.getElementById("bulk-delete-text").textContent = ask.replace("{n}", fmt(n));
      document.getElementById("bulk-delete").showModal();
    } else if (t.closest("dialog [data-close]")) {
      t.closest("dialog").close();
    } else if (t.closest("#sel-merge")) {
      const ids = boxes(form).filter(function (b) { return b.checked; }).map(function (b) { return b.value; });
      window.location.href = t.closest("#sel-merge").dataset.mergeHref + "?ids=" + encodeURIComponent(ids.join(","));
    }
  });
  document.addEventListener("htmx:beforeRequest", function (ev) {
    if (ev.detail && ev.detail.elt && ev.detail.elt.id === "bulk-form") {
      const d = document.getElementById("bulk-delete");
      if (d && d.open) d.close();
      document.querySelectorAll("details.bulk-menu[open]").forEach(function (m) { m.open = false; });
    }
  });
  document.addEventListener("htmx:afterSettle", update);
  update();

  // The list's small menus and choice lists close when one clicks elsewhere or presses Escape.
  const menus = "details.bulk-menu[open], details.save-view-menu[open], details.pick[open]";
  document.addEventListener("click", function (ev) {
    document.querySelectorAll(menus).forEach(function (d) {
      if (!d.contains(ev.target)) d.open = false;
    });
  });
  document.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape") document.querySelectorAll(menus).forEach(function (d) { d.open = false; });
  });

  // The bulk job's panel closes once read.
  document.addEventListener("click", function (ev) {
    const t = ev.target;
    if (!t.closest || !t.closest("[data-dismiss-job]")) return;
    const panel = document.getElementById("job");
    const empty = document.createElement("div");
    empty.id = "job";
    panel.replaceWith(empty);
  });
})();
