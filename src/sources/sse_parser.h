// src/sources/sse_parser.h
//
// SseParser turns the bytes of a text/event-stream response into events,
// following the WHATWG "event stream interpretation" exactly: lines end with
// CRLF, LF or CR (also when the CR and LF arrive in different chunks), a
// leading U+FEFF is skipped, `:` starts a comment, a field without a colon has
// an empty value, one space after the colon is dropped, `data` lines are joined
// with "\n", an `id` containing NUL is ignored, `retry` takes ASCII digits
// only, and an empty line dispatches the event unless its data is empty. An
// event still incomplete when the stream ends is never dispatched (the caller
// simply discards the parser), so a truncated event cannot be mistaken for a
// whole one.
//
// Events are size-limited: a line or event larger than `max_event_bytes`
// fails the parse (the caller drops the stream) instead of growing memory
// without bound.
//
// Thread-compatible: one parser per stream, used by one thread.
//
// Example:
//
//   SseParser parser(16 << 20);
//   absl::Status s = parser.Feed(chunk, [](const SseEvent& e) {
//     Handle(e.type, e.data);
//     return true;  // keep going
//   });

#ifndef HOTFIX_SRC_SOURCES_SSE_PARSER_H_
#define HOTFIX_SRC_SOURCES_SSE_PARSER_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace hotfix {
namespace internal {

struct SseEvent {
  // The `event` field; "message" when the event had none.
  std::string type;
  // The `data` lines joined with "\n" (no trailing newline).
  std::string data;
  // The last event ID in force when the event was dispatched (it persists
  // from earlier events, as in the WHATWG model); empty if none was set.
  std::string id;
};

class SseParser {
 public:
  // Return false to stop parsing: Feed() then returns Cancelled.
  using EventCallback = std::function<bool(const SseEvent& event)>;

  explicit SseParser(std::size_t max_event_bytes);

  // Feed()
  //
  // Consumes `bytes` (any split of the stream, down to single bytes) and calls
  // `on_event` for every event completed by them, in order. Returns
  // ResourceExhausted when a line or an event exceeds the size limit, and
  // Cancelled when `on_event` returned false; in both cases the parser must
  // not be fed again (discard it, or Reset()).
  //
  // Cost: linear in `bytes`; event fields are copied once.
  absl::Status Feed(std::string_view bytes, const EventCallback& on_event);

  // Back to the state of a new stream (the last event ID is forgotten too).
  void Reset();

  // The last `retry` value in milliseconds, or -1 if none was received.
  std::int64_t retry_ms() const { return retry_ms_; }

 private:
  // Handles one complete line (without its terminator). Returns false if the
  // callback asked to stop.
  bool ProcessLine(std::string_view line, const EventCallback& on_event);
  bool Dispatch(const EventCallback& on_event);
  std::size_t PendingBytes() const {
    return line_.size() + data_.size() + event_type_.size();
  }

  const std::size_t max_event_bytes_;
  std::string line_;        // the line being assembled
  std::string event_type_;  // the event type buffer
  std::string data_;        // the data buffer (each line followed by '\n')
  std::string last_id_;     // the last event ID buffer
  std::int64_t retry_ms_ = -1;
  bool last_was_cr_ = false;  // the previous chunk ended with CR
  bool first_line_ = true;    // to skip a leading byte order mark
};

}  // namespace internal
}  // namespace hotfix

#endif  // HOTFIX_SRC_SOURCES_SSE_PARSER_H_
