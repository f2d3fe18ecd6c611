// Copy buttons, operator actions (fetch with the session's CSRF token; the destructive ones are confirmed first)
// and times in the reader's own time zone. Every word shown comes from the page (body[data-messages]), in its
// language. No inline script anywhere.
const messages = JSON.parse(document.body.dataset.messages || '{}');
const say = (key, vars = {}) => (messages[key] || key).replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? String(vars[name]) : whole));

// The server writes times in UTC; show them in the reader's zone, the UTC time kept as a tooltip.
const pad = (n, width = 2) => String(n).padStart(width, '0');
for (const el of document.querySelectorAll('time[data-local]')) {
  const d = new Date(el.getAttribute('datetime'));
  if (Number.isNaN(d.getTime())) continue;
  let text = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  if (el.dataset.local === 'millisecond') text += `.${pad(d.getMilliseconds(), 3)}`;
  el.title = el.textContent;
  el.textContent = text;
}

// The dashboard counts its days in the reader's zone: tell the server the UTC offset (minutes east), and draw the
// page again once if it was drawn for another one (never when cookies are refused: the cookie must read back).
const offset = String(-new Date().getTimezoneOffset());
document.cookie = `tf_tz=${offset}; path=/; max-age=31536000; samesite=lax`;
const perDay = document.getElementById('per-day');
if (perDay && perDay.dataset.offset !== offset && document.cookie.split('; ').includes(`tf_tz=${offset}`)) location.reload();

document.addEventListener('click', (event) => {
  const button = event.target.closest('button.copy');
  if (!button) return;
  const done = (key) => () => {
    button.textContent = say(key);
  };
  if (!navigator.clipboard) return done('copyFailed')();
  navigator.clipboard.writeText(button.dataset.copy).then(done('copied'), done('copyFailed'));
});

const errorKeys = { not_applicable: 'errNotApplicable', comment_required: 'errCommentRequired', forbidden: 'errForbidden', csrf: 'errCsrf', unauthenticated: 'errUnauthenticated' };
const explain = (status, error) => (error && errorKeys[error.code] ? say(errorKeys[error.code]) : error?.message || say('errHttp', { status }));

document.addEventListener('submit', async (event) => {
  const form = event.target.closest('form.action');
  if (!form) return;
  event.preventDefault();
  const comment = form.querySelector('input[name=comment]')?.value;
  if (form.dataset.confirm && !window.confirm(say(form.dataset.confirm, { id: form.dataset.ticket, comment: comment ?? '' }))) return;
  const error = document.getElementById('action-error');
  const button = form.querySelector('button');
  const label = button.textContent;
  button.disabled = true;
  button.textContent = say('working');
  error.hidden = true;
  try {
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
    error.textContent = say('actionFailed', { message: explain(res.status, body.error) });
  } catch (e) {
    error.textContent = say('unreachable', { message: e.message });
  }
  error.hidden = false;
  button.disabled = false;
  button.textContent = label;
});
