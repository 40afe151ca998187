// Gatehouse's one script, served from /assets/gatehouse.js (same origin, allowed by the
// Content-Security-Policy's script-src 'self'). Every page works without it; it only adds:
// copy buttons, show/hide for masked secrets, focus on a form's error summary, and showing
// only the chosen provider's fields on the OpenID Connect settings.
(function () {
  'use strict';

  // Only the last copy is reported, so "Copied." never stands beside a value that was not.
  function announce(button, text) {
    document.querySelectorAll('[data-copy-status]').forEach(function (other) { other.textContent = ''; });
    var status = document.getElementById(button.getAttribute('aria-controls') + '-status');
    if (status) status.textContent = text;
  }

  // Secrets are shown as text without the script; with it they start masked.
  document.querySelectorAll('input[data-mask]').forEach(function (input) {
    input.type = 'password';
  });
  document.querySelectorAll('[data-needs-script]').forEach(function (element) {
    element.hidden = false;
  });

  document.addEventListener('click', function (event) {
    var button = event.target.closest('button[data-copy], button[data-reveal]');
    if (!button) return;
    var input = document.getElementById(button.getAttribute('aria-controls'));
    if (!input) return;
    event.preventDefault();
    if (button.hasAttribute('data-copy')) {
      navigator.clipboard.writeText(input.value).then(
        function () { announce(button, 'Copied.'); },
        function () { announce(button, 'Could not copy: select the text and copy it by hand.'); }
      );
    } else {
      var show = input.type === 'password';
      input.type = show ? 'text' : 'password';
      button.querySelector('[data-word]').textContent = show ? 'Hide' : 'Show';
    }
  });

  // A form that failed: its summary gets the focus, so screen readers read the errors first.
  var summary = document.querySelector('.error-summary');
  if (summary) summary.focus();

  // The OpenID Connect settings: only the chosen provider's fields (none before one is chosen).
  var provider = document.querySelector('select#provider');
  function showProvider() {
    document.querySelectorAll('[data-provider]').forEach(function (section) {
      section.hidden = section.getAttribute('data-provider') !== provider.value;
    });
  }
  if (provider) {
    provider.addEventListener('change', showProvider);
    showProvider();
  }
})();
