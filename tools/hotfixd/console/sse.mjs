// sse.mjs — Server-Sent Events parsing, exactly as the WHATWG rules (and
// docs/protocol.md) say: lines end with CRLF, LF or CR; a leading byte order
// mark is skipped; "field: value" drops one space; `data` lines join with
// "\n"; a line starting with ":" is a comment; an event is dispatched at an
// empty line, and only if it has data. Text arrives in arbitrary pieces
// (a CRLF may be split between two).
//
// The console reads the stream with fetch() rather than EventSource, because
// EventSource cannot send the Authorization header the API requires.

export class SseParser {
  // onEvent({type, id, data}) is called for each complete event.
  constructor(onEvent) {
    this.onEvent = onEvent;
    this.buffer = '';
    this.started = false;
    this.pendingCr = false;
    this.reset();
  }

  reset() {
    this.type = '';
    this.data = [];
    this.id = '';
  }

  // Feeds the next piece of decoded text.
  feed(text) {
    if (!this.started && text.length > 0) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    // A CR that ended the last piece ended a line; an LF right after it
    // belongs to it.
    if (this.pendingCr && text.startsWith('\n')) text = text.slice(1);
    this.pendingCr = false;
    this.buffer += text;
    const lines = this.buffer.split(/\r\n|\r|\n/);
    this.buffer = lines.pop();
    if (text.endsWith('\r') && this.buffer === '') this.pendingCr = true;
    for (const line of lines) this.line(line);
  }

  line(line) {
    if (line === '') {
      if (this.data.length > 0) {
        this.onEvent({ type: this.type || 'message', id: this.id, data: this.data.join('\n') });
      }
      this.reset();
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.type = value;
    else if (field === 'data') this.data.push(value);
    else if (field === 'id' && !value.includes('\0')) this.id = value;
  }
}
