// Mirrors the server's show-if conditions so questions appear at once; the page works without it.
(function () {
  "use strict";
  var form = document.getElementById("page-form");
  if (!form) return;
  form.elements.js.value = "1";
  var earlier = JSON.parse(document.getElementById("earlier-answers").textContent || "{}");
  var questions = Array.prototype.slice.call(form.querySelectorAll(".question"));

  function number(text) {
    text = String(text).trim().replace(/[٠-٩]/g, function (d) { return d.charCodeAt(0) - 0x660; })
      .replace(/[۰-۹]/g, function (d) { return d.charCodeAt(0) - 0x6f0; }).replace(",", ".");
    return /^[+-]?(\d+\.?\d*|\.\d+)$/.test(text) ? parseFloat(text) : null;
  }

  function facts(box) {
    var code = box.dataset.code, type = box.dataset.type, codes = [], num = null, answered = false;
    Array.prototype.forEach.call(box.querySelectorAll("[name='" + code + "'], [name='" + code + "__pna']"), function (el) {
      var on = (el.type === "radio" || el.type === "checkbox") ? el.checked : el.value.trim() !== "";
      if (!on) return;
      answered = true;
      if (el.name !== code || el.value === "_pna") return;
      if (type === "rating" || type === "integer" || type === "decimal") num = number(el.value);
      else if (el.type === "radio" || el.type === "checkbox" || el.tagName === "SELECT") codes.push(el.value);
    });
    return { answered: answered, codes: codes, number: num };
  }

  function holds(rule, known) {
    var f = known[rule.question] || { answered: false, codes: [], number: null };
    switch (rule.op) {
      case "answered": return f.answered;
      case "not_answered": return !f.answered;
      case "one_of": return rule.values.some(function (v) { return f.codes.indexOf(v) >= 0; });
      case "not": return f.codes.indexOf(rule.value) < 0;
      case "equals": return f.number !== null ? f.number === rule.value : f.codes.indexOf(rule.value) >= 0;
    }
    if (f.number === null) return false;
    return { lt: f.number < rule.value, le: f.number <= rule.value, gt: f.number > rule.value, ge: f.number >= rule.value }[rule.op];
  }

  function update() {
    var known = Object.assign({}, earlier), shown = [];
    questions.forEach(function (box) {
      var cond = box.dataset.showIf ? JSON.parse(box.dataset.showIf) : null, visible = true;
      if (cond) {
        var rules = cond.all || cond.any, test = function (r) { return holds(r, known); };
        visible = cond.any ? rules.some(test) : rules.every(test);
      }
      box.hidden = !visible;
      if (visible) { known[box.dataset.code] = facts(box); shown.push(box.dataset.code); }
    });
    form.elements.shown.value = shown.join(" ");
  }

  form.addEventListener("change", update);
  form.addEventListener("input", update);
  update();

  // One click sends the page once; the server is idempotent anyway.
  var sending = false;
  form.addEventListener("submit", function (event) {
    if (sending) event.preventDefault();
    sending = true;
    setTimeout(function () { sending = false; }, 4000);
  });

  var summary = document.getElementById("error-summary");
  if (summary) summary.focus();
})();
