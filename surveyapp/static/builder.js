/* Builder: progressive enhancement of the editor. Every action also works as a plain form.
   - A question form is sent in the background; only that question is replaced, so text typed
     into other questions stays where it is.
   - Before any other form is sent (move, add, publish ...), unsaved questions are saved first.
   - Pages, questions and options can be dragged (SortableJS); buttons do the same without it. */
(function () {
  "use strict";
  var dirty = new Set();
  var root = document.getElementById("bpages");
  if (!root) { return; }
  document.querySelectorAll(".js-only").forEach(function (el) { el.hidden = false; });

  function markDirty(event) {
    var form = event.target.form;
    if (form && !form.classList.contains("structure-form")) { dirty.add(form); }
  }
  document.addEventListener("input", markDirty);
  document.addEventListener("change", markDirty);
  window.addEventListener("beforeunload", function (event) {
    if (dirty.size) { event.preventDefault(); event.returnValue = ""; }
  });

  function post(form, submitter) {
    var data = new FormData(form, submitter || undefined);
    // getAttribute: the buttons named "action" shadow the form's action property.
    return fetch(form.getAttribute("action"), {
      method: "POST", body: data, credentials: "same-origin",
      headers: { "X-Requested-With": "builder" }
    });
  }

  function showMessage(item, text) {
    var live = item.querySelector(".live-message");
    if (live) {
      var p = document.createElement("p");
      p.className = "error-message";
      p.textContent = text;
      live.replaceChildren(p);
    } else {
      window.alert(text);
    }
  }

  function saveQuestion(form, submitter) {
    var item = form.closest(".bq");
    return post(form, submitter).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      if (type.indexOf("application/json") === 0) {
        return response.json().then(function (body) { showMessage(item, body.message); return false; });
      }
      return response.text().then(function (html) {
        var holder = document.createElement("template");
        holder.innerHTML = html.trim();
        var fresh = holder.content.querySelector(".bq");
        if (!fresh) { return false; }
        dirty.delete(form);
        item.replaceWith(fresh);
        enhanceOptions(fresh);
        var invalid = fresh.querySelector("[aria-invalid='true'], .error-summary");
        var focus = invalid || fresh.querySelector(".live-message");
        if (focus) {
          if (!focus.hasAttribute("tabindex")) { focus.setAttribute("tabindex", "-1"); }
          focus.focus();
        }
        return response.ok;
      });
    }).catch(function () {
      showMessage(item, root.dataset.offline || "");
      return false;
    });
  }

  function saveAllDirty() {
    var forms = Array.from(dirty).filter(function (f) { return f.classList.contains("question-form") && f.isConnected; });
    return forms.reduce(function (chain, form) {
      return chain.then(function (ok) { return saveQuestion(form).then(function (r) { return ok && r; }); });
    }, Promise.resolve(true));
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.classList.contains("question-form")) {
      event.preventDefault();
      if (form.dataset.saving) { return; }  // a second tap while the first is on its way
      form.dataset.saving = "1";
      saveQuestion(form, event.submitter).finally(function () { delete form.dataset.saving; });
      return;
    }
    if (form.dataset.sending) { event.preventDefault(); return; }  // no double submits
    if (form.method.toLowerCase() === "post") { form.dataset.sending = "1"; }
    var others = Array.from(dirty).filter(function (f) { return f !== form && f.classList.contains("question-form"); });
    if (!others.length) { dirty.clear(); return; }
    event.preventDefault();
    var submitter = event.submitter;
    saveAllDirty().then(function (ok) {
      if (!ok) { delete form.dataset.sending; return; }  // a question needs attention first
      dirty.clear();
      if (submitter && submitter.name) {
        var hidden = document.createElement("input");
        hidden.type = "hidden"; hidden.name = submitter.name; hidden.value = submitter.value;
        form.appendChild(hidden);
      }
      form.submit();
    });
  });

  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {  // back to a page kept in memory: its forms may be sent again
      document.querySelectorAll("form[data-sending]").forEach(function (f) { delete f.dataset.sending; });
    }
  });

  /* Opening a question's editor in place, so that other open editors keep their typing. */
  document.addEventListener("click", function (event) {
    var link = event.target.closest("a.edit-link");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey) { return; }
    event.preventDefault();
    var item = link.closest(".bq");
    fetch(link.dataset.fragment, { credentials: "same-origin", headers: { "X-Requested-With": "builder" } })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.text();
      })
      .then(function (html) {
        var holder = document.createElement("template");
        holder.innerHTML = html.trim();
        var fresh = holder.content.querySelector(".bq");
        item.replaceWith(fresh);
        enhanceOptions(fresh);
        var first = fresh.querySelector("textarea, input:not([type=hidden])");
        if (first) { first.focus(); }
      })
      .catch(function () { window.location.href = link.href; });
  });

  /* Drag and drop */
  function layout() {
    return Array.from(root.querySelectorAll(":scope > .bpage")).map(function (page) {
      var list = page.querySelector(".bquestions");
      return {
        page: page.dataset.id,
        questions: Array.from(list.querySelectorAll(":scope > .bq")).map(function (q) { return q.dataset.id; })
      };
    });
  }

  function sendOrder(event) {
    if (event && event.from === event.to && event.oldIndex === event.newIndex) { return; }
    saveAllDirty().then(function () {
      var data = new FormData();
      var token = document.querySelector("input[name='csrf_token']");
      data.append("csrf_token", token ? token.value : "");
      data.append("structure", root.dataset.structure);
      data.append("layout", JSON.stringify(layout()));
      return fetch(root.dataset.orderUrl, {
        method: "POST", body: data, credentials: "same-origin",
        headers: { "X-Requested-With": "builder" }
      });
    }).then(function (response) {
      if (!response.ok) {
        return response.json().then(function (body) { window.alert(body.message); });
      }
    }).finally(function () {
      dirty.clear();
      window.location.reload();
    });
  }

  function enhanceOptions(scope) {
    if (!window.Sortable) { return; }
    scope.querySelectorAll(".boptions").forEach(function (list) {
      window.Sortable.create(list, {
        handle: ".drag-handle", animation: 150,
        onEnd: function () {
          var hidden = list.parentElement.querySelector("[data-order-of='" + list.id + "']");
          hidden.value = Array.from(list.children).map(function (li) { return li.dataset.id; }).join(" ");
          dirty.add(list.closest("form"));
        }
      });
    });
  }

  if (window.Sortable) {
    window.Sortable.create(root, { handle: ".page-handle", animation: 150, onEnd: sendOrder });
    root.querySelectorAll(".bquestions").forEach(function (list) {
      window.Sortable.create(list, {
        group: "questions", handle: ".bq-summary > .drag-handle", animation: 150, onEnd: sendOrder
      });
    });
    enhanceOptions(document);
    document.body.classList.add("can-drag");
  }
})();
