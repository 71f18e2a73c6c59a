// The condition editor without round trips: choosing a question or a comparison shows its
// choices at once. The page works without it ("Update choices" asks the server instead).
(function () {
  "use strict";
  var form = document.getElementById("condition-form");
  var source = document.getElementById("condition-choices");
  if (!form || !source) return;
  var data = JSON.parse(source.textContent || "{}");
  var questions = data.questions || {}, text = data.text || {};

  Array.prototype.forEach.call(form.querySelectorAll("[data-without-script]"), function (el) {
    el.hidden = true;
  });

  function make(tag, attrs, content) {
    var el = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { el.setAttribute(name, attrs[name]); });
    if (content) el.textContent = content;
    return el;
  }

  function takesOf(question, op) {
    for (var i = 0; i < question.ops.length; i++) {
      if (question.ops[i][0] === op) return question.ops[i][2];
    }
    return null;
  }

  function current(rule, prefix) {
    var checked = [], number = form.querySelector("[name='" + prefix + "value']");
    Array.prototype.forEach.call(rule.querySelectorAll("[name='" + prefix + "values']"), function (box) {
      if (box.checked) checked.push(box.value);
    });
    return { codes: checked, number: number ? number.value : "" };
  }

  function valueParts(prefix, question, op, keep) {
    var takes = takesOf(question, op);
    if (takes === "codes" || takes === "code") {
      var set = make("fieldset", { "class": "rule-answers" });
      set.appendChild(make("legend", {}, takes === "code" ? text.answer : text.answers));
      var list = make("div", { "class": "choices" }), kept = false;
      question.answers.forEach(function (answer, index) {
        var id = prefix + "values-" + index;
        var box = make("input", { type: takes === "code" ? "radio" : "checkbox",
                                  name: prefix + "values", id: id, value: answer[0] });
        // A single answer keeps only the first of those ticked before.
        if (keep.codes.indexOf(answer[0]) >= 0 && !(takes === "code" && kept)) {
          box.checked = true;
          kept = true;
        }
        var line = make("div", { "class": "choice" });
        line.appendChild(box);
        line.appendChild(make("label", { "for": id, lang: answer[2], dir: "auto" }, answer[1]));
        list.appendChild(line);
      });
      set.appendChild(list);
      return [set];
    }
    if (takes === "number") {
      var field = make("div", { "class": "field" });
      field.appendChild(make("label", { "for": prefix + "value" }, text.number));
      var input = make("input", { type: "text", inputmode: "decimal", autocomplete: "off",
                                  id: prefix + "value", name: prefix + "value" });
      input.value = keep.number;
      field.appendChild(input);
      return [field];
    }
    return [];
  }

  function showQuestion(rule, prefix, code) {
    var details = rule.querySelector("[data-rule-details]");
    var question = questions[code];
    details.textContent = "";
    rule.querySelector("[data-rule-shown-for]").value = question ? code : "";
    if (!question) return;
    var field = make("div", { "class": "field" });
    field.appendChild(make("label", { "for": prefix + "op" }, text.op));
    var select = make("select", { id: prefix + "op", name: prefix + "op", "data-rule-op": "" });
    question.ops.forEach(function (op) { select.appendChild(make("option", { value: op[0] }, op[1])); });
    field.appendChild(select);
    details.appendChild(field);
    valueParts(prefix, question, question.ops[0][0], { codes: [], number: "" })
      .forEach(function (part) { details.appendChild(part); });
  }

  function showComparison(rule, prefix, op) {
    var details = rule.querySelector("[data-rule-details]");
    var question = questions[rule.querySelector("[data-rule-question]").value];
    if (!question) return;
    var keep = current(rule, prefix);
    // Keep the comparison menu (it has the focus); replace what follows it.
    while (details.children.length > 1) details.removeChild(details.lastElementChild);
    valueParts(prefix, question, op, keep).forEach(function (part) { details.appendChild(part); });
  }

  form.addEventListener("change", function (event) {
    var target = event.target, rule = target.closest("[data-rule]");
    if (!rule) return;
    var prefix = "rule-" + rule.getAttribute("data-rule") + "-";
    if (target.hasAttribute("data-rule-question")) showQuestion(rule, prefix, target.value);
    else if (target.hasAttribute("data-rule-op")) showComparison(rule, prefix, target.value);
  });

  // The error summary's links move the focus to the field, not only the view.
  var summary = document.getElementById("error-summary");
  if (summary) {
    summary.addEventListener("click", function (event) {
      var link = event.target.closest("a[href^='#']");
      var field = link && document.getElementById(link.getAttribute("href").slice(1));
      if (!field) return;
      event.preventDefault();
      field.focus();
    });
    summary.focus();
  }
})();
