// tests/hotfixd/test_json.h
//
// Parse(): a JSON text the test wrote itself, as a document; a parse error
// fails the test (naming the text) and leaves the document empty.

#ifndef HOTFIX_TESTS_HOTFIXD_TEST_JSON_H_
#define HOTFIX_TESTS_HOTFIXD_TEST_JSON_H_

#include <string>

#include "common/json_util.h"
#include "gtest/gtest.h"

namespace hotfix {
namespace hotfixd {

inline rapidjson::Document Parse(const std::string& json) {
  rapidjson::Document doc;
  EXPECT_TRUE(tools::ParseJson(json, "test", &doc).ok()) << json;
  return doc;
}

}  // namespace hotfixd
}  // namespace hotfix

#endif  // HOTFIX_TESTS_HOTFIXD_TEST_JSON_H_
