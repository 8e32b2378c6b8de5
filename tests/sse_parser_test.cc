// The SSE parser: byte-exact WHATWG event stream interpretation, whatever the
// chunking, with bounded memory.

#include "sources/sse_parser.h"

#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace hotfix {
namespace internal {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

struct Seen {
  std::string type, data, id;
  bool operator==(const Seen& o) const {
    return type == o.type && data == o.data && id == o.id;
  }
};

void PrintTo(const Seen& s, std::ostream* os) {
  *os << "{" << s.type << ", \"" << s.data << "\", id=" << s.id << "}";
}

// Feeds `chunks` in order and returns the events (and the last status).
std::vector<Seen> Parse(const std::vector<std::string>& chunks,
                        absl::Status* status = nullptr,
                        std::size_t limit = 1 << 20) {
  SseParser parser(limit);
  std::vector<Seen> seen;
  absl::Status last;
  for (const std::string& chunk : chunks) {
    last = parser.Feed(chunk, [&](const SseEvent& e) {
      seen.push_back({e.type, e.data, e.id});
      return true;
    });
    if (!last.ok()) break;
  }
  if (status != nullptr) *status = last;
  return seen;
}

std::vector<Seen> Parse(const std::string& whole) {
  return Parse(std::vector<std::string>{whole});
}

TEST(SseParserTest, DispatchesAnEventOnABlankLine) {
  EXPECT_THAT(Parse("event: put\nid: 7\ndata: {\"version\":7}\n\n"),
              ElementsAre(Seen{"put", "{\"version\":7}", "7"}));
}

TEST(SseParserTest, JoinsDataLinesWithNewlines) {
  EXPECT_THAT(Parse("data: a\ndata: b\ndata:\n\n"),
              ElementsAre(Seen{"message", "a\nb\n", ""}));
}

TEST(SseParserTest, AcceptsLfCrLfAndCrLineEndings) {
  EXPECT_THAT(
      Parse("data: lf\n\ndata: crlf\r\n\r\ndata: cr\r\rdata: mixed\r\n\n"),
      ElementsAre(Seen{"message", "lf", ""}, Seen{"message", "crlf", ""},
                  Seen{"message", "cr", ""}, Seen{"message", "mixed", ""}));
}

TEST(SseParserTest, CrLfSplitAcrossChunksIsOneLineEnding) {
  // Were the LF taken as a second line ending, "x" would be dispatched alone.
  EXPECT_THAT(
      Parse(std::vector<std::string>{"data: x\r", "\ndata: y\r", "\n\r", "\n"}),
      ElementsAre(Seen{"message", "x\ny", ""}));
}

TEST(SseParserTest, CrAtTheEndOfAChunkStillEndsTheLine) {
  EXPECT_THAT(Parse(std::vector<std::string>{"data: x\r", "\r", "data: y\n\n"}),
              ElementsAre(Seen{"message", "x", ""}, Seen{"message", "y", ""}));
}

TEST(SseParserTest, IgnoresCommentsAndUnknownFields) {
  EXPECT_THAT(
      Parse(": keep-alive\nfoo: bar\nevent: heartbeat\n:x\ndata: {}\n\n"),
      ElementsAre(Seen{"heartbeat", "{}", ""}));
}

TEST(SseParserTest, FieldWithoutColonHasAnEmptyValue) {
  // "data" alone appends an empty line; "event" alone resets to "message".
  EXPECT_THAT(Parse("event\ndata\n\n"), ElementsAre(Seen{"message", "", ""}));
}

TEST(SseParserTest, RemovesOnlyOneLeadingSpace) {
  EXPECT_THAT(
      Parse("data:  two\n\ndata:none\n\n"),
      ElementsAre(Seen{"message", " two", ""}, Seen{"message", "none", ""}));
}

TEST(SseParserTest, ValueKeepsLaterColons) {
  EXPECT_THAT(Parse("data: {\"a\":1}\n\n"),
              ElementsAre(Seen{"message", "{\"a\":1}", ""}));
}

TEST(SseParserTest, EventWithoutDataIsNotDispatchedAndItsTypeIsForgotten) {
  EXPECT_THAT(Parse("event: heartbeat\n\ndata: x\n\n"),
              ElementsAre(Seen{"message", "x", ""}));
}

TEST(SseParserTest, LastEventIdPersistsAndIdWithNulIsIgnored) {
  const std::string stream = std::string("id: 1\ndata: a\n\ndata: b\n\nid: 2") +
                             '\0' + "x\ndata: c\n\nid\ndata: d\n\n";
  EXPECT_THAT(Parse(stream),
              ElementsAre(Seen{"message", "a", "1"}, Seen{"message", "b", "1"},
                          Seen{"message", "c", "1"}, Seen{"message", "d", ""}));
}

TEST(SseParserTest, RetryTakesAsciiDigitsOnly) {
  SseParser parser(1024);
  auto ignore = [](const SseEvent&) { return true; };
  ASSERT_TRUE(parser.Feed("retry: 1500\n", ignore).ok());
  EXPECT_EQ(parser.retry_ms(), 1500);
  ASSERT_TRUE(parser.Feed("retry: 15s\nretry: -1\nretry:\n", ignore).ok());
  EXPECT_EQ(parser.retry_ms(), 1500);
}

TEST(SseParserTest, SkipsOneLeadingByteOrderMark) {
  EXPECT_THAT(Parse("\xEF\xBB\xBF"
                    "data: a\n\n\xEF\xBB\xBF"
                    "data: b\n\n"),
              ElementsAre(Seen{"message", "a", ""}));
}

TEST(SseParserTest, TruncatedEventIsNeverDispatched) {
  EXPECT_THAT(Parse("event: put\nid: 9\ndata: {\"version\":9,\"fla"),
              IsEmpty());
  EXPECT_THAT(Parse("event: put\ndata: {\"version\":9}\n"), IsEmpty());
}

TEST(SseParserTest, OversizeEventFailsWithoutWaitingForItsEnd) {
  absl::Status status;
  // A single line that never ends must not grow memory without bound.
  EXPECT_THAT(Parse(std::vector<std::string>{"data: ", std::string(40, 'x')},
                    &status, /*limit=*/32),
              IsEmpty());
  EXPECT_TRUE(absl::IsResourceExhausted(status)) << status;
  // Nor may many short data lines.
  std::string many;
  for (int i = 0; i < 10; ++i) many += "data: 12345\n";
  EXPECT_THAT(Parse(std::vector<std::string>{many}, &status, /*limit=*/32),
              IsEmpty());
  EXPECT_TRUE(absl::IsResourceExhausted(status)) << status;
}

TEST(SseParserTest, EventAtTheLimitIsAccepted) {
  absl::Status status;
  EXPECT_THAT(Parse(std::vector<std::string>{"data: 123456789\n\n"}, &status,
                    /*limit=*/15),
              ElementsAre(Seen{"message", "123456789", ""}));
  EXPECT_TRUE(status.ok()) << status;
}

TEST(SseParserTest, CallbackCanStopParsing) {
  SseParser parser(1024);
  int calls = 0;
  absl::Status status =
      parser.Feed("data: 1\n\ndata: 2\n\n", [&](const SseEvent&) {
        ++calls;
        return false;
      });
  EXPECT_TRUE(absl::IsCancelled(status)) << status;
  EXPECT_EQ(calls, 1);
}

TEST(SseParserTest, AnyChunkingGivesTheSameEvents) {
  const std::string stream =
      "\xEF\xBB\xBF: hello\r\nevent: put\r\nid: 3\r\ndata: {\"version\":3,\r\n"
      "data: \"flags\":{}}\r\n\r\nevent: heartbeat\rdata: {\"version\":3}\r\r"
      "event: patch\nid: 4\ndata:{\"version\":4}\n\ndata: tail\r\n\n";
  const std::vector<Seen> whole = Parse(stream);
  ASSERT_EQ(whole.size(), 4u);
  EXPECT_EQ(whole[0], (Seen{"put", "{\"version\":3,\n\"flags\":{}}", "3"}));
  EXPECT_EQ(whole[3], (Seen{"message", "tail", "4"}));

  std::vector<std::string> bytes;
  for (char c : stream) bytes.emplace_back(1, c);
  EXPECT_EQ(Parse(bytes), whole);

  std::mt19937 rng(12345);
  for (int round = 0; round < 200; ++round) {
    std::vector<std::string> chunks;
    std::size_t i = 0;
    while (i < stream.size()) {
      const std::size_t n =
          std::uniform_int_distribution<std::size_t>(1, 9)(rng);
      chunks.push_back(stream.substr(i, n));
      i += n;
    }
    EXPECT_EQ(Parse(chunks), whole) << "round " << round;
  }
}

}  // namespace
}  // namespace internal
}  // namespace hotfix
