// tests/support/set_on_destroy.h
//
// SetOnDestroy sets a shared flag when it is destroyed. Captured (through a
// std::shared_ptr) by a callback, it tells a test when whoever held the
// callback has freed it.
//
// Example:
//
//   auto freed = std::make_shared<std::atomic<bool>>(false);
//   auto on_free = std::make_shared<SetOnDestroy>(freed);
//   client->AddListener([on_free](const ChangeEvent&) {});
//   client.reset();
//   EXPECT_TRUE(freed->load());
//
// Thread-safe: the flag is atomic.

#ifndef HOTFIX_TESTS_SUPPORT_SET_ON_DESTROY_H_
#define HOTFIX_TESTS_SUPPORT_SET_ON_DESTROY_H_

#include <atomic>
#include <memory>
#include <utility>

namespace hotfix {
namespace testing_support {

class SetOnDestroy {
 public:
  explicit SetOnDestroy(std::shared_ptr<std::atomic<bool>> flag)
      : flag_(std::move(flag)) {}
  ~SetOnDestroy() { *flag_ = true; }
  SetOnDestroy(const SetOnDestroy&) = delete;
  SetOnDestroy& operator=(const SetOnDestroy&) = delete;

 private:
  std::shared_ptr<std::atomic<bool>> flag_;
};

}  // namespace testing_support
}  // namespace hotfix

#endif  // HOTFIX_TESTS_SUPPORT_SET_ON_DESTROY_H_
