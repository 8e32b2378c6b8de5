// src/util/json_parse.h
//
// The one JSON parser for untrusted text: flag documents (the compiler), SSE
// payloads and patches (the remote sources), and every request body hotfixd
// reads. Strict RFC 8259 plus:
//  - strings must be valid UTF-8;
//  - arrays and objects may nest at most `max_depth` levels: the check runs
//    while parsing, in a SAX handler, so neither the stack nor memory grows
//    with hostile nesting (RapidJSON's DOM parser recurses without limit);
//  - numbers are converted from their text with std::from_chars (correct
//    rounding: an `eq 0.1` clause equals the caller's 0.1); integers that fit
//    64 bits stay integers; numbers that overflow a double or underflow to
//    zero are errors;
//  - a NUL byte after the root value is an error (RapidJSON stops there).
// Errors name the line and column as well as the byte offset.
//
// Header-only (also used by the tools, which link only the public library).
// Thread-compatible: pure functions over caller-owned values.

#ifndef HOTFIX_SRC_UTIL_JSON_PARSE_H_
#define HOTFIX_SRC_UTIL_JSON_PARSE_H_

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "util/strings.h"

// RapidJSON 1.1.0's internal::Stack evaluates `nullptr + n` on its first push
// (benign, but UBSan's pointer-overflow check aborts the fuzzer on it). Its
// functions are force-inlined here, so exempting the declarations suffices.
#if defined(__clang__)
#pragma clang attribute push(__attribute__((no_sanitize("pointer-overflow"))), \
                             apply_to = function)
#endif
#include "rapidjson/document.h"
#include "rapidjson/encodedstream.h"
#include "rapidjson/error/en.h"
#include "rapidjson/memorystream.h"
#include "rapidjson/reader.h"
#if defined(__clang__)
#pragma clang attribute pop
#endif

namespace hotfix {
namespace internal {

// The nesting the flag format needs is 8 levels; the rest is room for JSON
// variant values. Request bodies use the same limit.
inline constexpr int kMaxJsonDepth = 128;

namespace json_parse_internal {

// Builds the DOM, converts numbers, and fails once nesting exceeds the limit.
class BuildHandler {
 public:
  BuildHandler(rapidjson::Document* doc, int max_depth)
      : doc_(doc), max_depth_(max_depth) {}

  bool Null() { return doc_->Null(); }
  bool Bool(bool b) { return doc_->Bool(b); }
  bool Int(int i) { return doc_->Int(i); }
  bool Uint(unsigned u) { return doc_->Uint(u); }
  bool Int64(std::int64_t i) { return doc_->Int64(i); }
  bool Uint64(std::uint64_t u) { return doc_->Uint64(u); }
  bool Double(double d) { return doc_->Double(d); }
  // `s` is a valid JSON number (the reader checked the grammar).
  bool RawNumber(const char* s, rapidjson::SizeType n, bool /*copy*/) {
    const char* end = s + n;
    const bool integral = std::find_if(s, end, [](char c) {
                            return c == '.' || c == 'e' || c == 'E';
                          }) == end;
    if (integral) {
      if (*s == '-') {
        std::int64_t i = 0;
        const auto [ptr, ec] = std::from_chars(s, end, i);
        if (ec == std::errc() && ptr == end) return doc_->Int64(i);
      } else {
        std::uint64_t u = 0;
        const auto [ptr, ec] = std::from_chars(s, end, u);
        if (ec == std::errc() && ptr == end) return doc_->Uint64(u);
      }
    }
    double d = 0;
    const auto [ptr, ec] = std::from_chars(s, end, d);
    if (ec != std::errc() || ptr != end) {
      bad_number_ = true;  // overflows to infinity or underflows to zero
      return false;
    }
    return doc_->Double(d);
  }
  bool String(const char* s, rapidjson::SizeType n, bool copy) {
    return doc_->String(s, n, copy);
  }
  bool Key(const char* s, rapidjson::SizeType n, bool copy) {
    return doc_->Key(s, n, copy);
  }
  bool StartObject() { return Enter() && doc_->StartObject(); }
  bool EndObject(rapidjson::SizeType n) {
    --depth_;
    return doc_->EndObject(n);
  }
  bool StartArray() { return Enter() && doc_->StartArray(); }
  bool EndArray(rapidjson::SizeType n) {
    --depth_;
    return doc_->EndArray(n);
  }

  bool too_deep() const { return too_deep_; }
  bool bad_number() const { return bad_number_; }

 private:
  bool Enter() {
    if (++depth_ > max_depth_) {
      too_deep_ = true;
      return false;
    }
    return true;
  }

  rapidjson::Document* doc_;
  const int max_depth_;
  int depth_ = 0;
  bool too_deep_ = false;
  bool bad_number_ = false;
};

// "line 3, column 7 (offset 41)": 1-based line and column (in bytes) of
// `offset` in `text`.
inline std::string Position(std::string_view text, std::size_t offset) {
  offset = std::min(offset, text.size());
  std::size_t line = 1;
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  return absl::StrCat("line ", line, ", column ", offset - line_start + 1,
                      " (offset ", offset, ")");
}

}  // namespace json_parse_internal

// ParseJsonStrict()
//
// Parses `text` (exactly one JSON value) into `doc`. On failure returns
// InvalidArgument "invalid JSON at line 3, column 7 (offset 41): <problem>",
// prefixed with "<what>: " when `what` is not empty; `doc` is then unusable.
//
// Cost: one pass over `text`; allocates the DOM.
inline absl::Status ParseJsonStrict(std::string_view text,
                                    rapidjson::Document* doc,
                                    std::string_view what = {},
                                    int max_depth = kMaxJsonDepth) {
  constexpr unsigned kFlags = rapidjson::kParseDefaultFlags |
                              rapidjson::kParseValidateEncodingFlag |
                              rapidjson::kParseNumbersAsStringsFlag;
  rapidjson::ParseResult result;
  bool too_deep = false;
  bool bad_number = false;
  std::size_t end = 0;
  auto generate = [&](rapidjson::Document& d) {
    json_parse_internal::BuildHandler handler(&d, max_depth);
    rapidjson::MemoryStream memory(text.data(), text.size());
    rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream>
        stream(memory);
    rapidjson::Reader reader;
    result = reader.Parse<kFlags>(stream, handler);
    too_deep = handler.too_deep();
    bad_number = handler.bad_number();
    end = stream.Tell();
    return !result.IsError();
  };
  doc->Populate(generate);
  std::string problem;
  std::size_t offset = result.Offset();
  if (too_deep) {
    problem = absl::StrCat("arrays and objects nested deeper than ", max_depth,
                           " levels");
  } else if (bad_number) {
    problem = "number out of the range of a double";
  } else if (result.IsError()) {
    problem = rapidjson::GetParseError_En(result.Code());
  } else if (end != text.size()) {
    problem = "unexpected NUL byte after the root value";
    offset = end;
  } else {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(
      absl::StrCat(ToAbsl(what), what.empty() ? "" : ": ", "invalid JSON at ",
                   json_parse_internal::Position(text, offset), ": ", problem));
}

}  // namespace internal
}  // namespace hotfix

#endif  // HOTFIX_SRC_UTIL_JSON_PARSE_H_
