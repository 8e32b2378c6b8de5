// tests/support/pch_main.cc
//
// The target that owns the tests' precompiled header (CMakeLists.txt,
// HOTFIX_TEST_PCH): every C++ test binary reuses it. Nothing runs it.

int main() { return 0; }
