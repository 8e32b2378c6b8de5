// live.mjs — follows one environment's SSE stream (GET /v1/stream?env=NAME,
// docs/protocol.md) so that the console shows other people's changes, and
// guards', without a reload.
//
// fetch() reads the stream (EventSource cannot send the Authorization
// header). Like the SDKs: silence for three heartbeat intervals means the
// connection is dead; reconnects wait uniform(0, min(30 s, 0.5 s · 2^n))
// (full jitter), the count resetting once a connection has lived for a
// minute; 401 ends the session, 403 and 404 stop following.

import { SseParser } from './sse.mjs';

const SILENCE_MS = 45000;
const BASE_MS = 500;
const CAP_MS = 30000;
const HEALTHY_MS = 60000;

export class LiveStream {
  // onChange({version, key}) for every put or patch (key: the one flag a
  // patch changed, else null); onStatus(state) with 'connecting', 'live',
  // 'reconnecting', 'stopped'; onUnauthorized() on 401.
  constructor({ env, token, onChange, onStatus, onUnauthorized }) {
    Object.assign(this, { env, token, onChange, onStatus, onUnauthorized });
    this.stopped = false;
    this.failures = 0;
    this.controller = null;
    this.timer = null;
  }

  start() {
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.controller) this.controller.abort();
    this.onStatus('stopped');
  }

  async connect() {
    if (this.stopped) return;
    this.onStatus(this.failures === 0 ? 'connecting' : 'reconnecting');
    const controller = new AbortController();
    this.controller = controller;
    const opened = Date.now();
    let watchdog = null;
    const alive = () => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => controller.abort(), SILENCE_MS);
    };
    try {
      alive();
      const url = `/v1/stream?env=${encodeURIComponent(this.env)}`;
      const response = await fetch(url, {
        headers: { Authorization: `Bearer ${this.token}`, Accept: 'text/event-stream' },
        cache: 'no-store',
        signal: controller.signal,
      });
      if (response.status === 401) {
        this.stopped = true;
        this.onUnauthorized();
        return;
      }
      if (response.status === 403 || response.status === 404) {
        this.stop();
        return;
      }
      if (!response.ok || !response.body) throw new Error(`stream answered ${response.status}`);
      const parser = new SseParser((event) => {
        alive();
        this.event(event);
      });
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        parser.feed(value);
      }
    } catch {
      // A drop, a timeout or a refusal: reconnect below.
    } finally {
      clearTimeout(watchdog);
    }
    if (this.stopped) return;
    if (Date.now() - opened >= HEALTHY_MS) this.failures = 0;
    const wait = Math.random() * Math.min(CAP_MS, BASE_MS * 2 ** this.failures);
    this.failures += 1;
    this.onStatus('reconnecting');
    this.timer = setTimeout(() => this.connect(), wait);
  }

  event({ type, data }) {
    if (type !== 'put' && type !== 'patch' && type !== 'heartbeat') return;
    this.onStatus('live');
    if (type === 'heartbeat') return;
    let parsed;
    try {
      parsed = JSON.parse(data);
    } catch {
      return;
    }
    this.onChange({ version: Number(parsed.version), key: type === 'patch' ? parsed.key : null });
  }
}
