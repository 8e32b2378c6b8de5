// dom.mjs — the one way the console builds its page.
//
// h(tag, props, ...children) makes an element; every string child becomes a
// Text node and every property is set as a property or a plain attribute.
// Nothing here parses HTML, so what the server sends (flag keys,
// descriptions, reasons, actor names) is always shown as text and can never
// become markup. The page's Content-Security-Policy backs this up: with
// Trusted Types required, assigning a string to an HTML-parsing sink throws.

// Attributes that would run or load something; h() refuses them.
const FORBIDDEN = /^(on.|style$|srcdoc$|formaction$)/i;

// h()
//
// props: `class` (string or array, falsy entries dropped), `on` (event name →
// handler), `dataset` (object), `href` (only "#..." fragments: the console
// links nowhere else), `value` (set as the property), aria-* (true and false
// written out), boolean attributes (true: present; false: absent) and any
// other attribute as text. Children: strings, numbers, nodes, arrays of
// them; null, undefined and false are skipped.
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(props || {})) {
    if (FORBIDDEN.test(name)) throw new Error(`h(): attribute ${name} is not allowed`);
    if (name.startsWith('aria-') && value !== undefined && value !== null) {
      el.setAttribute(name, String(value));  // "false" is a value here
      continue;
    }
    if (value === undefined || value === null || value === false || name === 'value') continue;
    if (name === 'on') {
      for (const [event, handler] of Object.entries(value)) el.addEventListener(event, handler);
    } else if (name === 'class') {
      el.className = Array.isArray(value) ? value.filter(Boolean).join(' ') : value;
    } else if (name === 'dataset') {
      Object.assign(el.dataset, value);
    } else if (name === 'href') {
      if (!String(value).startsWith('#')) throw new Error(`h(): href ${value} is not a fragment`);
      el.setAttribute('href', value);
    } else if (value === true) {
      el.setAttribute(name, '');
    } else {
      el.setAttribute(name, String(value));
    }
  }
  append(el, children);
  // After the children: a <select>'s value must name one of its options.
  if (props && props.value !== undefined && props.value !== null) el.value = String(props.value);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }
}

// Replaces `parent`'s children with `children`, skipping null, undefined
// and false and flattening arrays as h() does (the DOM's own replaceChildren
// would show them as the text "null" or "[object HTMLElement]").
export function replace(parent, ...children) {
  parent.replaceChildren();
  append(parent, children);
}

// Replaces `parent`'s children with `children`, and gives focus back to the
// element that had it when an element with the same data-focus key is among
// the new ones: a live refresh must not throw a keyboard user out of place.
export function replaceKeepingFocus(parent, ...children) {
  const active = document.activeElement;
  const key = active && parent.contains(active) ? active.dataset.focus : undefined;
  parent.replaceChildren();
  append(parent, children);
  if (key !== undefined) {
    const again = [...parent.querySelectorAll('[data-focus]')].find((e) => e.dataset.focus === key);
    if (again) again.focus();
  }
}

// A unique id for label/aria wiring ("hf-12").
let nextId = 0;
export function uid(prefix = 'hf') {
  nextId += 1;
  return `${prefix}-${nextId}`;
}
