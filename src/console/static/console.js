// Copy buttons and operator actions (fetch with the session's CSRF token); no inline script anywhere.
document.addEventListener('click', (event) => {
  const button = event.target.closest('button.copy');
  if (!button) return;
  navigator.clipboard?.writeText(button.dataset.copy).then(() => {
    button.textContent = '✓';
  });
});

document.addEventListener('submit', async (event) => {
  const form = event.target.closest('form.action');
  if (!form) return;
  event.preventDefault();
  const comment = form.querySelector('input[name=comment]')?.value;
  const res = await fetch(form.dataset.action, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-csrf-token': document.body.dataset.csrf },
    body: JSON.stringify(comment === undefined ? {} : { comment }),
  });
  if (res.ok) {
    location.reload();
    return;
  }
  const body = await res.json().catch(() => ({}));
  const error = document.getElementById('action-error');
  error.textContent = body.error?.message ?? `HTTP ${res.status}`;
  error.hidden = false;
});
