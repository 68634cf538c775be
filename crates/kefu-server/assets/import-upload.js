// The upload of the import page: sends the chosen file as the body of
// POST /api/v1/imports/customers (session cookie + the page's CSRF token) and opens the job's
// page; a refusal (too large, missing columns, role) is shown above the form.
document.addEventListener('DOMContentLoaded', function () {
  var form = document.getElementById('import-form');
  if (!form) { return; }
  var message = document.getElementById('import-message');
  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    var file = form.elements.file.files[0];
    if (!file) { return; }
    var button = form.querySelector('button');
    button.disabled = true;
    var url = '/api/v1/imports/customers?file_name=' + encodeURIComponent(file.name) +
      '&encoding=' + encodeURIComponent(form.elements.encoding.value) +
      '&all_or_nothing=' + (form.elements.all_or_nothing.checked ? 'true' : 'false');
    var mapping = form.elements.mapping.value.trim();
    if (mapping) {
      // The page asks for the column lines only; the API takes a whole mapping file.
      if (!/^\s*\[columns\]/m.test(mapping)) { mapping = '[columns]\n' + mapping; }
      url += '&mapping=' + encodeURIComponent(mapping);
    }
    fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'X-CSRF-Token': form.elements.csrf.value, 'Content-Type': 'application/octet-stream' },
      body: file
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (body) {
        if (r.status === 202 && body.id) {
          window.location.href = '/ui/imports/' + body.id;
          return;
        }
        var first = body.errors && body.errors[0];
        message.textContent = first ? first.reason : (body.detail || r.statusText);
        message.hidden = false;
        button.disabled = false;
      });
    }).catch(function (e) {
      message.textContent = String(e);
      message.hidden = false;
      button.disabled = false;
    });
  });
});
