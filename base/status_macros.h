// Status-propagation macros for Debian's Abseil 20220623, which has no
// status_macros.h.
//
//   RETURN_IF_ERROR(expr);         // returns expr's Status when not OK
//   ASSIGN_OR_RETURN(auto x, sor);  // declares x, or returns sor's error
//   ASSIGN_OR_RETURN(x, sor);       // assigns to an existing x
// (sor: an absl::StatusOr expression.) ASSIGN_OR_RETURN expands to several
// statements: brace it inside an if/else, and name a type with commas
// through an alias (using Pair = std::pair<int, int>).
//
// Use them in functions that return absl::Status or absl::StatusOr<T>.
#ifndef ELM_BASE_STATUS_MACROS_H_
#define ELM_BASE_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define ELM_STATUS_CONCAT_INNER_(a, b) a##b
#define ELM_STATUS_CONCAT_(a, b) ELM_STATUS_CONCAT_INNER_(a, b)

#define RETURN_IF_ERROR(expr)                  \
  do {                                         \
    ::absl::Status elm_status_ = (expr);       \
    if (!elm_status_.ok()) return elm_status_; \
  } while (0)

#define ASSIGN_OR_RETURN(lhs, rexpr)                                           \
  ELM_ASSIGN_OR_RETURN_IMPL_(ELM_STATUS_CONCAT_(elm_statusor_, __LINE__), lhs, \
                             rexpr)

#define ELM_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                               \
  if (!statusor.ok()) return statusor.status();          \
  lhs = std::move(statusor).value()

#endif  // ELM_BASE_STATUS_MACROS_H_
