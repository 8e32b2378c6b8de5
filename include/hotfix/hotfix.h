// include/hotfix/hotfix.h
//
// Umbrella header: everything an application needs.
//
//   #include "hotfix/hotfix.h"
//   if (flags.Enabled("fix-123")) { ... }

#ifndef HOTFIX_HOTFIX_H_
#define HOTFIX_HOTFIX_H_

#include "hotfix/client.h"
#include "hotfix/context.h"
#include "hotfix/evaluation.h"
#include "hotfix/log.h"
#include "hotfix/options.h"
#include "hotfix/snapshot.h"
#include "hotfix/value.h"

#endif  // HOTFIX_HOTFIX_H_
