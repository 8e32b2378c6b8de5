// pthread_exit() (and thread cancellation) end a thread by unwinding its stack
// with abi::__forced_unwind, which no catch clause may swallow: a catch (...)
// that does not rethrow it aborts the process ("FATAL: exception not
// rethrown"). CPython ends a daemon thread exactly this way when the thread
// takes the GIL while the interpreter is finalizing, and with the Python
// binding that happens inside a change listener or a log sink.

#include <pthread.h>

#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "hotfix/client.h"
#include "hotfix/log.h"

namespace hotfix {
namespace {

std::string Document(int version, bool on) {
  return std::string(R"({"version": )") + std::to_string(version) +
         R"(, "flags": {"fix-123": {"variants": {"on": true, "off": false},
            "off_variant": "off", "default": ")" +
         (on ? "on" : "off") + R"("}}})";
}

// Runs `body(arg)` on a new thread and returns what the thread returned: the
// body's result, or nullptr if it ended with pthread_exit(nullptr).
void* RunOnThread(void* (*body)(void*), void* arg) {
  pthread_t thread;
  EXPECT_EQ(pthread_create(&thread, nullptr, body, arg), 0);
  void* result = nullptr;
  EXPECT_EQ(pthread_join(thread, &result), 0);
  return result;
}

void* kReturnedNormally = reinterpret_cast<void*>(1);

TEST(ForcedUnwindTest, ListenerEndingItsThreadEndsOnlyThatThread) {
  ClientOptions options;
  options.bootstrap_json = Document(1, false);
  auto created = Client::Create(options);
  ASSERT_TRUE(created.ok()) << created.status();
  std::unique_ptr<Client> client = *std::move(created);
  client->AddListener([](const ChangeEvent&) { pthread_exit(nullptr); });

  void* result = RunOnThread(
      [](void* arg) -> void* {
        auto* c = static_cast<Client*>(arg);
        (void)c->Publish(Document(2, true));
        return kReturnedNormally;
      },
      client.get());

  EXPECT_EQ(result, nullptr) << "Publish() returned instead of the listener "
                                "ending the thread";
  // The publication itself happened before the listener ran.
  EXPECT_EQ(client->version(), 2u);
  EXPECT_TRUE(client->Enabled("fix-123"));
}

TEST(ForcedUnwindTest, LogSinkEndingItsThreadEndsOnlyThatThread) {
  SetLogSink([](LogLevel, std::string_view) { pthread_exit(nullptr); });
  void* result = RunOnThread(
      [](void*) -> void* {
        Log(LogLevel::kWarning, "forced-unwind test message");
        return kReturnedNormally;
      },
      nullptr);
  EXPECT_EQ(result, nullptr) << "Log() returned instead of the sink ending "
                                "the thread";

  // The sink's lock was released on the way out: logging goes on.
  std::string seen;
  SetLogSink([&seen](LogLevel, std::string_view message) {
    seen = std::string(message);
  });
  Log(LogLevel::kWarning, "after");
  SetLogSink({});
  EXPECT_EQ(seen, "after");
}

}  // namespace
}  // namespace hotfix
