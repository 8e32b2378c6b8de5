#include "sources/sse_parser.h"

#include <limits>

#include "absl/strings/str_cat.h"

namespace hotfix {
namespace internal {
namespace {

constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";

}  // namespace

SseParser::SseParser(std::size_t max_event_bytes)
    : max_event_bytes_(max_event_bytes) {}

void SseParser::Reset() {
  line_.clear();
  event_type_.clear();
  data_.clear();
  last_id_.clear();
  retry_ms_ = -1;
  last_was_cr_ = false;
  first_line_ = true;
}

absl::Status SseParser::Feed(std::string_view bytes,
                             const EventCallback& on_event) {
  std::size_t i = 0;
  const std::size_t n = bytes.size();
  // A CR ending the previous chunk already ended its line; an LF right after
  // it belongs to the same terminator.
  if (last_was_cr_ && n > 0) {
    last_was_cr_ = false;
    if (bytes[0] == '\n') i = 1;
  }
  while (i < n) {
    std::size_t j = i;
    while (j < n && bytes[j] != '\r' && bytes[j] != '\n') ++j;
    line_.append(bytes.data() + i, j - i);
    if (PendingBytes() > max_event_bytes_) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "SSE event larger than the limit of ", max_event_bytes_, " bytes"));
    }
    if (j == n) break;  // the line continues in the next chunk
    if (bytes[j] == '\r') {
      if (j + 1 < n) {
        if (bytes[j + 1] == '\n') ++j;
      } else {
        last_was_cr_ = true;
      }
    }
    i = j + 1;
    std::string line = std::move(line_);
    line_.clear();
    if (!ProcessLine(line, on_event)) {
      return absl::CancelledError("SSE parsing stopped by the consumer");
    }
    if (PendingBytes() > max_event_bytes_) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "SSE event larger than the limit of ", max_event_bytes_, " bytes"));
    }
  }
  return absl::OkStatus();
}

bool SseParser::ProcessLine(std::string_view line,
                            const EventCallback& on_event) {
  if (first_line_) {
    first_line_ = false;
    if (line.substr(0, kByteOrderMark.size()) == kByteOrderMark) {
      line.remove_prefix(kByteOrderMark.size());
    }
  }
  if (line.empty()) return Dispatch(on_event);
  if (line.front() == ':') return true;  // comment
  std::string_view field = line;
  std::string_view value;
  const std::size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    field = line.substr(0, colon);
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  if (field == "event") {
    event_type_.assign(value.data(), value.size());
  } else if (field == "data") {
    data_.append(value.data(), value.size());
    data_.push_back('\n');
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos) {
      last_id_.assign(value.data(), value.size());
    }
  } else if (field == "retry") {
    bool digits = !value.empty();
    std::int64_t ms = 0;
    for (char c : value) {
      if (c < '0' || c > '9') {
        digits = false;
        break;
      }
      if (ms < std::numeric_limits<std::int64_t>::max() / 10 - 10) {
        ms = ms * 10 + (c - '0');
      }
    }
    if (digits) retry_ms_ = ms;
  }
  // Any other field is ignored.
  return true;
}

bool SseParser::Dispatch(const EventCallback& on_event) {
  if (data_.empty()) {
    event_type_.clear();
    return true;
  }
  data_.pop_back();  // the newline after the last data line
  SseEvent event;
  event.type =
      event_type_.empty() ? std::string("message") : std::move(event_type_);
  event.data = std::move(data_);
  event.id = last_id_;
  event_type_.clear();
  data_.clear();
  return on_event(event);
}

}  // namespace internal
}  // namespace hotfix
