// locate.mjs — where in the JSON text an error is.
//
// The flag editor shows errors at the field: a syntax error at its line and
// column, and a compiler error ("flags.fix-123.rules[0].if[0].op: unknown
// operator \"betwen\"", the same message every SDK gives) at the member it
// names. parse() reads JSON keeping every value's position; find() follows
// a compiler path through it. Pure functions.

// A parsed value with its position: {start, end, kind ('object', 'array',
// 'value'), members (Map name → node, for objects), items (for arrays),
// keyStart (where its member name starts, for object members)}.

class Reader {
  constructor(text) {
    this.text = text;
    this.pos = 0;
  }

  fail(message, at = this.pos) {
    const error = new Error(message);
    error.offset = at;
    throw error;
  }

  space() {
    while (this.pos < this.text.length && ' \t\n\r'.includes(this.text[this.pos])) this.pos += 1;
  }

  value() {
    this.space();
    const start = this.pos;
    const c = this.text[this.pos];
    if (c === '{') return this.object(start);
    if (c === '[') return this.array(start);
    if (c === '"') {
      this.string();
      return { kind: 'value', start, end: this.pos };
    }
    const m = /^(?:-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(this.text.slice(this.pos, this.pos + 400));
    if (!m) this.fail(c === undefined ? 'the text ends where a value should be' : `unexpected ${JSON.stringify(c)}`);
    this.pos += m[0].length;
    return { kind: 'value', start, end: this.pos };
  }

  string() {
    const start = this.pos;
    this.pos += 1;
    for (;;) {
      const c = this.text[this.pos];
      if (c === undefined) this.fail('a string is not closed', start);
      if (c === '"') break;
      if (c < ' ') this.fail('a control character inside a string (write \\n, \\t)');
      this.pos += c === '\\' ? 2 : 1;
    }
    this.pos += 1;
    try {
      return JSON.parse(this.text.slice(start, this.pos));
    } catch {
      return this.fail('a malformed escape in a string', start);
    }
  }

  object(start) {
    const node = { kind: 'object', start, members: new Map() };
    return this.elements(node, '}', () => {
      this.space();
      const keyStart = this.pos;
      if (this.text[this.pos] !== '"') this.fail('a member name in double quotes is expected');
      const name = this.string();
      if (node.members.has(name)) this.fail(`the member ${JSON.stringify(name)} appears twice`, keyStart);
      this.space();
      if (this.text[this.pos] !== ':') this.fail('":" is expected after a member name');
      this.pos += 1;
      const child = this.value();
      child.keyStart = keyStart;
      node.members.set(name, child);
    });
  }

  array(start) {
    const node = { kind: 'array', start, items: [] };
    return this.elements(node, ']', () => node.items.push(this.value()));
  }

  // The inside of an object or array (`node`) from its opening bracket to
  // `close`: comma-separated elements, each read by `element`.
  elements(node, close, element) {
    this.pos += 1;
    this.space();
    if (this.text[this.pos] === close) {
      this.pos += 1;
    } else {
      for (;;) {
        element();
        this.space();
        const c = this.text[this.pos];
        this.pos += 1;
        if (c === close) break;
        if (c !== ',') this.fail(`"," or "${close}" is expected`, this.pos - 1);
      }
    }
    node.end = this.pos;
    return node;
  }
}

// parse()
//
// {ok: true, value, root} for valid JSON (duplicate member names are
// errors, as in hotfixd); {ok: false, offset, message} otherwise.
export function parse(text) {
  const reader = new Reader(text);
  try {
    const root = reader.value();
    reader.space();
    if (reader.pos < text.length) reader.fail('unexpected text after the value');
    return { ok: true, value: JSON.parse(text), root };  // the reader accepts only JSON
  } catch (e) {
    if (e.offset === undefined) throw e;
    return { ok: false, offset: e.offset, message: e.message };
  }
}

// find()
//
// The node a path such as ".rules[0].if[0].op" names under `root`, or the
// deepest node on the way when the rest does not exist (a missing member is
// shown at the object that lacks it). Member names may contain dots: at
// each object the longest member name that fits is taken.
export function find(root, path) {
  let node = root;
  let rest = path;
  while (rest.length > 0 && node) {
    if (rest[0] === '[' && node.kind === 'array') {
      const m = /^\[(\d+)\]/.exec(rest);
      const item = m && node.items[Number(m[1])];
      if (!item) break;
      node = item;
      rest = rest.slice(m[0].length);
    } else if (rest[0] === '.' && node.kind === 'object') {
      let best = null;
      for (const name of node.members.keys()) {
        const after = rest[1 + name.length];
        if (rest.startsWith(name, 1) && (after === undefined || after === '.' || after === '[') &&
            (best === null || name.length > best.length)) {
          best = name;
        }
      }
      if (best === null) break;
      node = node.members.get(best);
      rest = rest.slice(1 + best.length);
    } else {
      break;
    }
  }
  return node;
}

// compilerPath()
//
// Splits an API error message about flag `key` into {path, text}: path is
// relative to the flag (".rules[0].if[0].op", or "" for the flag itself)
// and null when the message is about something else (another flag, a
// segment, the request).
export function compilerPath(message, key) {
  const colon = message.indexOf(': ');
  if (colon < 0) return { path: null, text: message };
  const where = message.slice(0, colon);
  const text = message.slice(colon + 2);
  for (const prefix of [`flags.${key}`, 'body.flag']) {
    if (where === prefix) return { path: '', text };
    if (where.startsWith(prefix) && '.['.includes(where[prefix.length])) {
      return { path: where.slice(prefix.length), text };
    }
  }
  return { path: null, text: message };
}

// {line, column} (1-based) of `offset` in `text`, the line's text, and how
// many characters of it from `column` the range [offset, end) covers.
export function position(text, offset, end = offset + 1) {
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  let lineEnd = text.indexOf('\n', offset);
  if (lineEnd < 0) lineEnd = text.length;
  const line = text.slice(0, offset).split('\n').length;
  return {
    line,
    column: offset - lineStart + 1,
    lineText: text.slice(lineStart, lineEnd),
    width: Math.max(1, Math.min(end, lineEnd) - offset),
  };
}
