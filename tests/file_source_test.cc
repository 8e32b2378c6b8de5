// The file source: reload on change, keep the last good snapshot on a bad
// edit, recover, and report all of it through GetStatus().

#include <cstdio>
#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hotfix/client.h"
#include "support/temp_dir.h"

namespace hotfix {
namespace {

using ::testing::HasSubstr;

class FileSourceTest : public ::testing::Test {
 protected:
  void SetUp() override { path_ = dir_.path() + "/flags.json"; }

  // Replaces the file atomically, as editors and config tools do.
  void WriteAtomically(const std::string& content) {
    const std::string tmp = path_ + ".tmp";
    std::ofstream(tmp) << content;
    ASSERT_EQ(std::rename(tmp.c_str(), path_.c_str()), 0);
  }
  void WriteInPlace(const std::string& content) {
    std::ofstream(path_, std::ios::trunc) << content;
  }

  std::unique_ptr<Client> Start(const std::string& bootstrap = "") {
    ClientOptions options;
    options.file.path = path_;
    options.file.poll_interval = absl::Milliseconds(10);
    options.bootstrap_json = bootstrap;
    auto client = Client::Create(options);
    EXPECT_TRUE(client.ok()) << client.status();
    return *std::move(client);
  }

  // Polls `done` for up to 10 s (the source checks every 10 ms).
  template <typename F>
  bool Eventually(F done) {
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (absl::Now() < deadline) {
      if (done()) return true;
      absl::SleepFor(absl::Milliseconds(5));
    }
    return done();
  }

  testing_support::TempDir dir_;
  std::string path_;
};

std::string Doc(int version, bool fix) {
  return absl::StrCat(R"({"version": )", version, R"(, "flags": {"fix-123": {
      "variants": {"on": true, "off": false}, "off_variant": "off",
      "default": ")",
                      fix ? "on" : "off", R"("}}})");
}

TEST_F(FileSourceTest, LoadsBeforeCreateReturns) {
  WriteAtomically(Doc(1, true));
  auto client = Start();
  EXPECT_TRUE(client->Enabled("fix-123"));
  const ClientStatus status = client->GetStatus();
  EXPECT_EQ(status.origin, SnapshotOrigin::kFile);
  EXPECT_EQ(status.state, SourceState::kValid);
  EXPECT_EQ(status.version, 1u);
  EXPECT_TRUE(status.last_error.ok());
}

TEST_F(FileSourceTest, ReloadsOnAtomicReplaceAndInPlaceWrite) {
  WriteAtomically(Doc(1, false));
  auto client = Start();
  std::atomic<int> changes{0};
  client->AddListener([&](const ChangeEvent&) { ++changes; });
  WriteAtomically(Doc(2, true));
  EXPECT_TRUE(Eventually([&] { return client->Enabled("fix-123"); }));
  WriteInPlace(Doc(3, false));
  EXPECT_TRUE(Eventually([&] { return client->version() == 3; }));
  EXPECT_FALSE(client->Enabled("fix-123"));
  // A change's event is delivered after its snapshot is published: the
  // listener may not have heard of version 3 yet.
  EXPECT_TRUE(Eventually([&] { return changes.load() == 2; }))
      << changes.load() << " changes heard";
}

TEST_F(FileSourceTest, BadEditKeepsLastGoodAndReportsThenRecovers) {
  WriteAtomically(Doc(1, true));
  auto client = Start();
  WriteAtomically(
      R"({"version": 2, "flags": {"fix-123": {"variants": {"on": true}, "default": "on", "kiled": true}}})");
  ASSERT_TRUE(Eventually([&] { return !client->GetStatus().last_error.ok(); }));
  ClientStatus status = client->GetStatus();
  EXPECT_EQ(status.state, SourceState::kStale);
  EXPECT_THAT(status.last_error.message(), HasSubstr("flags.fix-123"));
  EXPECT_THAT(status.last_error.message(), HasSubstr("kiled"));
  EXPECT_THAT(status.last_error.message(), HasSubstr(path_));
  EXPECT_TRUE(client->Enabled("fix-123"));  // last good still served
  EXPECT_EQ(client->version(), 1u);

  WriteAtomically("{ truncated");
  ASSERT_TRUE(Eventually([&] {
    return absl::StrContains(client->GetStatus().last_error.message(),
                             "invalid JSON");
  }));
  EXPECT_TRUE(client->Enabled("fix-123"));

  WriteAtomically(Doc(3, false));
  // The status is updated just after the snapshot is published.
  ASSERT_TRUE(Eventually([&] { return client->GetStatus().version == 3; }));
  status = client->GetStatus();
  EXPECT_EQ(status.state, SourceState::kValid);
  EXPECT_TRUE(status.last_error.ok());
  EXPECT_FALSE(client->Enabled("fix-123"));
}

TEST_F(FileSourceTest, MissingFileAtStartIsAnErrorUntilItAppears) {
  auto client = Start();
  ClientStatus status = client->GetStatus();
  EXPECT_EQ(status.state, SourceState::kError);
  EXPECT_EQ(status.origin, SnapshotOrigin::kNone);
  EXPECT_EQ(status.last_error.code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(client->WaitUntilReady(absl::Milliseconds(1)));
  WriteAtomically(Doc(5, true));
  EXPECT_TRUE(client->WaitUntilReady(absl::Seconds(10)));
  EXPECT_TRUE(client->Enabled("fix-123"));
  EXPECT_EQ(client->GetStatus().state, SourceState::kValid);
}

TEST_F(FileSourceTest, BootstrapIsServedWhileTheFileIsMissing) {
  auto client = Start(Doc(1, true));
  ClientStatus status = client->GetStatus();
  EXPECT_EQ(status.origin, SnapshotOrigin::kBootstrap);
  EXPECT_EQ(status.state, SourceState::kStale);
  EXPECT_TRUE(client->Enabled("fix-123"));
  WriteAtomically(Doc(2, false));
  // The status is updated just after the snapshot is published: wait for the
  // status itself, not for version().
  ASSERT_TRUE(Eventually([&] { return client->GetStatus().version == 2; }));
  EXPECT_EQ(client->GetStatus().origin, SnapshotOrigin::kFile);
  EXPECT_FALSE(client->Enabled("fix-123"));
}

TEST_F(FileSourceTest, OversizeFileIsRejected) {
  WriteAtomically(Doc(1, true));
  ClientOptions options;
  options.file.path = path_;
  options.file.max_bytes = 16;
  auto client = Client::Create(options);
  ASSERT_TRUE(client.ok());
  EXPECT_EQ((*client)->GetStatus().last_error.code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_FALSE((*client)->Enabled("fix-123"));
}

}  // namespace
}  // namespace hotfix
