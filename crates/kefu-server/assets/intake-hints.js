// Live hints of the new-order form: as the agent picks the sub-category or types the appeal,
// ask the server what intake would decide (POST /api/v1/work-orders/preview, nothing written)
// and show the major-appeal flag and the repeat-appeal warning. Without this script the form
// works the same; intake decides again on submit.
(function () {
  'use strict';
  var DELAY_MS = 300;

  function field(form, name) {
    var el = form.elements.namedItem(name);
    return el && 'value' in el ? el.value : '';
  }

  function show(box, data) {
    var parts = [];
    if (data.major) {
      parts.push(box.dataset.major + '：' + data.major.detail);
    }
    if (data.repeat_of && data.repeat_of.length) {
      parts.push(box.dataset.repeat + '：' + data.repeat_of.join('、'));
    }
    box.textContent = parts.join('　');
    box.classList.toggle('on', parts.length > 0);
    box.classList.toggle('major', !!data.major);
  }

  function watch(form) {
    var box = form.querySelector('[data-testid=intake-hints]');
    if (!box || !window.fetch) return;
    var timer = null;
    var asked = 0;
    function ask() {
      var sub = field(form, 'sub_category');
      if (!sub) { show(box, {}); return; }
      var id = parseInt(field(form, 'customer_id'), 10);
      var body = {
        sub_category: sub,
        content: field(form, 'content'),
        major_reason: field(form, 'major_reason') || null,
      };
      if (id > 0) body.customer_id = id;
      var mine = ++asked;
      fetch('/api/v1/work-orders/preview', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': field(form, 'csrf') },
        body: JSON.stringify(body),
      }).then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) { if (data && mine === asked) show(box, data); })
        .catch(function () { /* hints are a convenience: the form still submits */ });
    }
    function later() {
      if (timer) clearTimeout(timer);
      timer = setTimeout(ask, DELAY_MS);
    }
    form.addEventListener('input', later);
    form.addEventListener('change', later);
    ask();
  }

  document.addEventListener('DOMContentLoaded', function () {
    var forms = document.querySelectorAll('form.intake');
    for (var i = 0; i < forms.length; i++) watch(forms[i]);
  });
})();
