// tests/hotfixd/console_assets_test.cc
//
// The console's files as compiled into hotfixd (tools/hotfixd/api/
// console_assets.h): each has a Content-Type a browser accepts under
// nosniff; what index.html loads and every module imports is embedded (the
// file list in CMakeLists.txt and the code agree); the page has no inline
// script, style or event handler, and no module touches an HTML-parsing sink
// (the CSP's Trusted Types would make such a call throw at run time; this
// finds it before a browser does); the gzip copies decompress to the file.

#include "api/console_assets.h"

#include <regex>
#include <set>
#include <string>

#include "absl/strings/match.h"
#include "core/gzip.h"
#include "gtest/gtest.h"

namespace hotfix {
namespace hotfixd {
namespace {

// Every `<group 1>` match of `pattern` in `text`.
std::set<std::string> Matches(const std::string& text,
                              const std::string& pattern) {
  std::set<std::string> out;
  const std::regex re(pattern);
  for (auto it = std::sregex_iterator(text.begin(), text.end(), re);
       it != std::sregex_iterator(); ++it) {
    out.insert((*it)[1].str());
  }
  return out;
}

TEST(ConsoleAssetsTest, EveryFileHasAContentTypeAndAnEtag) {
  ASSERT_FALSE(ConsoleAssets().empty());
  std::set<std::string> etags;
  for (const ConsoleAsset& a : ConsoleAssets()) {
    EXPECT_FALSE(ConsoleContentType(a.name).empty()) << a.name;
    EXPECT_FALSE(a.body->empty()) << a.name;
    EXPECT_TRUE(etags.insert(a.etag).second) << a.name;
    EXPECT_EQ(FindConsoleAsset(a.name), &a);
  }
  EXPECT_EQ(FindConsoleAsset("nope.mjs"), nullptr);
  EXPECT_EQ(ConsoleContentType("x.js"), "");  // modules are .mjs
}

TEST(ConsoleAssetsTest, WhatThePageLoadsAndModulesImportIsEmbedded) {
  const ConsoleAsset* index = FindConsoleAsset("index.html");
  ASSERT_NE(index, nullptr);
  std::set<std::string> wanted =
      Matches(*index->body, R"re((?:src|href)="([^"#]+)")re");
  EXPECT_TRUE(wanted.count("app.mjs"));
  std::set<std::string> imported;
  for (const ConsoleAsset& a : ConsoleAssets()) {
    if (!absl::EndsWith(a.name, ".mjs")) continue;
    for (const std::string& m :
         Matches(*a.body, R"((?:from|import)\s+'\./([^']+)')")) {
      wanted.insert(m);
      imported.insert(m);
    }
  }
  for (const std::string& name : wanted) {
    EXPECT_NE(FindConsoleAsset(name), nullptr)
        << name << " is used but not in CMakeLists.txt's console file list";
  }
  // And nothing is shipped that nothing uses.
  for (const ConsoleAsset& a : ConsoleAssets()) {
    if (a.name == "index.html") continue;
    EXPECT_TRUE(wanted.count(a.name)) << a.name << " is never loaded";
  }
}

TEST(ConsoleAssetsTest, NoInlineScriptStyleOrHtmlSinks) {
  const std::string& page = *FindConsoleAsset("index.html")->body;
  EXPECT_EQ(Matches(page, R"((<script)(?![^>]*\bsrc=))").size(), 0u);
  EXPECT_EQ(Matches(page, R"((<style|\sstyle=))").size(), 0u);
  EXPECT_EQ(Matches(page, R"(\s(on[a-z]+)=)").size(), 0u);
  for (const ConsoleAsset& a : ConsoleAssets()) {
    if (!absl::EndsWith(a.name, ".mjs")) continue;
    EXPECT_EQ(Matches(*a.body, R"(\b(innerHTML|outerHTML|insertAdjacentHTML|)"
                               R"(document\.write|eval\s*\(|new\s+Function|)"
                               R"(setTimeout\(\s*['"`]))")
                  .size(),
              0u)
        << a.name;
  }
}

TEST(ConsoleAssetsTest, GzipCopiesDecompressToTheFile) {
  int compressed = 0;
  for (const ConsoleAsset& a : ConsoleAssets()) {
    if (a.gzip == nullptr) continue;
    ++compressed;
    EXPECT_LT(a.gzip->size(), a.body->size()) << a.name;
    absl::StatusOr<std::string> plain = Gunzip(*a.gzip, a.body->size());
    ASSERT_TRUE(plain.ok()) << a.name << ": " << plain.status();
    EXPECT_EQ(*plain, *a.body) << a.name;
  }
  EXPECT_GT(compressed, 0);
}

}  // namespace
}  // namespace hotfixd
}  // namespace hotfix
