// The Playground (sandbox mode only): sends the form's values, decides tasks, and follows an instance by polling
// the console's own JSON. Every request goes to the console, with the session's CSRF token on each action.
const post = (url, body) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': document.body.dataset.csrf }, body: JSON.stringify(body) });

const showError = (message) => {
  const error = document.getElementById('pg-error');
  error.textContent = message;
  error.hidden = !message;
};

/** What one control holds, in the shape the console reads (playground-form.ts, RawValue). */
function valueOf(el) {
  const type = el.dataset.type;
  if (type === 'table') {
    return [...el.querySelectorAll('tbody > tr.pg-row')].map((row) => Object.fromEntries([...row.querySelectorAll(':scope > td[data-field]')].map((cell) => [cell.dataset.field, valueOf(cell)])));
  }
  if (type === 'options') {
    const boxes = el.querySelectorAll('input[type=checkbox]');
    if (boxes.length) return [...boxes].filter((b) => b.checked).map((b) => b.value);
    return el.querySelector('input').value.split(/[\s,，]+/).filter(Boolean);
  }
  if (type === 'date_range' || type === 'datetime_range') {
    return { start: el.querySelector('[data-part=start]').value, end: el.querySelector('[data-part=end]').value };
  }
  return el.querySelector('input, select, textarea').value;
}

document.addEventListener('submit', async (event) => {
  if (event.target.closest('form.pg-decide')) {
    event.preventDefault();
    return;
  }
  const form = event.target.closest('#pg-form');
  if (!form) return;
  event.preventDefault();
  showError('');
  for (const p of form.querySelectorAll('.pg-problem')) p.hidden = true;
  for (const f of form.querySelectorAll('.pg-field.invalid')) f.classList.remove('invalid');
  const fields = {};
  for (const el of form.querySelectorAll('#pg-fields > .pg-field')) fields[el.dataset.field] = valueOf(el);
  const submit = document.getElementById('pg-submit');
  submit.disabled = true;
  const res = await post('/playground/instances', { pipeline: form.dataset.pipeline, user_id: document.getElementById('pg-requester').value, fields }).catch(() => undefined);
  const body = res ? await res.json().catch(() => ({})) : {};
  if (res?.ok) {
    location.href = body.url;
    return;
  }
  submit.disabled = false;
  showError(body.error?.message ?? (res ? `HTTP ${res.status}` : document.getElementById('pg-error').dataset.unreachable));
  const unplaced = [];
  for (const problem of body.problems ?? []) {
    const field = form.querySelector(`#pg-fields > .pg-field[data-field="${CSS.escape(problem.field)}"]`);
    if (!field) {
      unplaced.push(problem.message);
      continue;
    }
    field.classList.add('invalid');
    const p = field.querySelector(':scope > .pg-problem');
    p.textContent = p.hidden ? problem.message : `${p.textContent} ${problem.message}`;
    p.hidden = false;
  }
  if (unplaced.length) showError(`${body.error?.message ?? ''} ${unplaced.join(' ')}`);
});

document.addEventListener('click', async (event) => {
  const addRow = event.target.closest('button.pg-add-row');
  if (addRow) {
    const field = addRow.closest('.pg-field');
    field.querySelector('tbody').append(field.querySelector('template.pg-row-template').content.cloneNode(true));
    return;
  }
  const decision = event.target.closest('button[data-decision]');
  if (!decision) return;
  const form = decision.closest('form.pg-decide');
  for (const b of form.querySelectorAll('button')) b.disabled = true;
  showError('');
  const res = await post(`${form.dataset.action}/${decision.dataset.decision}`, { comment: form.querySelector('input[name=comment]').value }).catch(() => undefined);
  if (!res?.ok) {
    const body = res ? await res.json().catch(() => ({})) : {};
    showError(body.error?.message ?? (res ? `HTTP ${res.status}` : document.getElementById('pg-error').dataset.unreachable));
    for (const b of form.querySelectorAll('button')) b.disabled = false;
  }
  watch?.now();
});

/** Swaps a part of the watch page, keeping what the reader is in the middle of: a comment typed, a call opened. */
function swap(el, markup) {
  const typed = new Map([...el.querySelectorAll('form.pg-decide')].map((f) => [f.dataset.action, f.querySelector('input[name=comment]').value]));
  const focused = document.activeElement?.closest?.('form.pg-decide')?.dataset.action;
  const open = [...el.querySelectorAll('details')].map((d) => d.open);
  el.innerHTML = markup;
  for (const f of el.querySelectorAll('form.pg-decide')) {
    const input = f.querySelector('input[name=comment]');
    input.value = typed.get(f.dataset.action) ?? '';
    if (f.dataset.action === focused) input.focus();
  }
  el.querySelectorAll('details').forEach((d, i) => (d.open = open[i] ?? false));
}

const watch = (() => {
  const root = document.getElementById('pg-watch');
  if (!root) return undefined;
  const last = new Map();
  let timer;
  const refresh = async () => {
    clearTimeout(timer);
    const res = await fetch(root.dataset.stateUrl, { headers: { accept: 'application/json' } }).catch(() => undefined);
    if (res?.ok) {
      const state = await res.json();
      for (const [part, markup] of Object.entries(state.html)) {
        const el = document.getElementById(`pg-${part}`);
        if (!el || last.get(part) === markup) continue;
        last.set(part, markup);
        if (part === 'live') el.textContent = markup;
        else swap(el, markup);
      }
      root.dataset.done = String(state.done);
      if (state.done) return;
    }
    timer = setTimeout(refresh, 1000);
  };
  if (root.dataset.done !== 'true') timer = setTimeout(refresh, 1000);
  return { now: refresh };
})();
