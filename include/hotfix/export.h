// include/hotfix/export.h
//
// HOTFIX_EXPORT marks the symbols of the public API. The library is built as a
// static archive by default; when built shared (-DBUILD_SHARED_LIBS=ON) only
// symbols carrying HOTFIX_EXPORT are visible.

#ifndef HOTFIX_EXPORT_H_
#define HOTFIX_EXPORT_H_

#if defined(HOTFIX_SHARED_LIBRARY) && defined(HOTFIX_COMPILING_LIBRARY)
#define HOTFIX_EXPORT __attribute__((visibility("default")))
#else
#define HOTFIX_EXPORT
#endif

#endif  // HOTFIX_EXPORT_H_
