// The clinic's waiting room, kept live: the page is a plain list that a reload refreshes;
// this module applies the server-sent events of `data-events` (the count line and the
// rendered rows). Rows are matched by `data-key`: an existing row has only its facts
// replaced, so a message being typed in its form is kept.

const list = document.getElementById('clinic-waiting');
const count = document.getElementById('waiting-count');

/**
 * Brings the list to the rows in `html` (rendered by the server, which escapes what it
 * shows), keeping rows that stay and their forms.
 * @param {HTMLElement} target
 * @param {string} html
 */
function apply(target, html) {
  const incoming = document.createElement('template');
  incoming.innerHTML = html;
  /** @type {Map<string, Element>} */
  const current = new Map();
  for (const row of target.querySelectorAll(':scope > li[data-key]')) current.set(row.getAttribute('data-key') ?? '', row);
  /** @type {Element | null} */
  let previous = null;
  // The fragment's own children: `:scope` never matches a fragment.
  for (const row of [...incoming.content.children].filter((r) => r.matches('li[data-key]'))) {
    const key = row.getAttribute('data-key') ?? '';
    let kept = current.get(key);
    current.delete(key);
    if (kept) {
      const facts = row.querySelector('.waiting-facts');
      const old = kept.querySelector('.waiting-facts');
      if (facts && old) old.replaceWith(facts);
    } else {
      kept = row;
    }
    // Moved only when out of place: moving a row would take the focus out of its form.
    /** @type {Element | null} */
    const expected = previous ? previous.nextElementSibling : target.firstElementChild;
    if (expected !== kept) target.insertBefore(kept, expected);
    previous = kept;
  }
  for (const gone of current.values()) gone.remove();
}

const url = list?.dataset.events;
if (list && count && url) {
  const source = new EventSource(url);
  source.addEventListener('waiting', (e) => {
    const { count: text, rows } = JSON.parse(/** @type {MessageEvent<string>} */ (e).data);
    apply(list, rows);
    if (count.textContent !== text) count.textContent = text;
    list.dataset.live = 'true';
  });
}
